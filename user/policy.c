// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "counters.h"
#include "crashpoint.h"
#include "log.h"
#include "pfxtable.h"
#include "maps.h"
#include "pins.h"
#include "policy.h"
#include "privs.h"

static const char *const drop_names[TCPF_DROP_MAX] = {
	TCPF_DROP_REASONS(TCPF_X_NAME)
};

const char *policy_strerror(int err)
{
	if (err == -E2BIG)
		return "too many prefixes for one rule set (at most 8192, "
		       "in 8192 prefix-table nodes: a /17-/24 in a new /16 "
		       "takes one node, a /25-/32 two)";
	return strerror(-err);
}

const char *drop_reason_name(__u32 r)
{
	return r < TCPF_DROP_MAX ? drop_names[r] : "?";
}

int policy_source_path(const char *ifname, char *buf, size_t size)
{
	char dir[PATH_MAX];
	int err = pins_run_dir(dir, sizeof(dir), 0);

	if (err)
		return err;
	if ((size_t)snprintf(buf, size, "%s/%s.rules", dir, ifname) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int policy_load_quiet(const char *ifname, struct ruleset *rs, char *err,
		      size_t errlen)
{
	char path[PATH_MAX];
	int ret;

	ruleset_init(rs);
	if (errlen)
		err[0] = '\0';
	ret = policy_source_path(ifname, path, sizeof(path));
	if (ret)
		return ret;
	/* none saved; but one that cannot be read is no empty set */
	if (faccessat(AT_FDCWD, path, R_OK, AT_EACCESS)) {
		ret = -errno;
		if (ret == -ENOENT)
			return 0;
		if (errlen)
			snprintf(err, errlen, "cannot read %s: %s", path,
				 strerror(-ret));
		return ret;
	}
	return ruleset_parse_file(path, rs, err, errlen);
}

int policy_load(const char *ifname, struct ruleset *rs)
{
	char err[512];
	int ret = policy_load_quiet(ifname, rs, err, sizeof(err));

	if (ret && err[0])
		pr_warn("the saved rules of %s do not parse: %s", ifname, err);
	return ret;
}

/* Write the source as IFACE.rules.new; policy_install renames it in. */
static int save_source(const char *ifname, const struct ruleset *rs,
		       char *path, size_t psize)
{
	char tmp[PATH_MAX + 8], *buf = NULL;
	size_t size = 1 << 20;
	FILE *f;
	int ret = pins_run_dir(tmp, sizeof(tmp), 1);

	if (!ret)
		ret = policy_source_path(ifname, path, psize);
	if (ret)
		return ret;
	do {
		/* large sets: grow until the text fits */
		free(buf);
		buf = malloc(size);
		if (!buf)
			return -ENOMEM;
		ret = ruleset_write(rs, buf, size);
		size *= 4;
	} while (ret == -ENOSPC && size <= (256u << 20));
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = ret ? NULL : fopen(tmp, "w");
	if (!ret && (!f || fputs(buf, f) < 0))
		ret = -errno;
	if (f && fclose(f) && !ret)
		ret = -errno;
	free(buf);
	/* readable by the pins' group, if they have one */
	if (!ret)
		ret = priv_protect_ns(priv_pins_group());
	return ret;
}

int policy_replace(const char *ifname, const struct ruleset *rs)
{
	struct ruleset *old = malloc(sizeof(*old));
	__u32 fresh[TCPF_RULES_MAX];
	int nfresh = 0, err;

	if (!old)
		return -ENOMEM;
	if (policy_load(ifname, old))
		ruleset_init(old);
	for (int i = 0; i < rs->nrules; i++) {
		bool same = false;

		for (int j = 0; j < old->nrules; j++)
			same |= old->rules[j].id == rs->rules[i].id &&
				!strcmp(old->rules[j].text, rs->rules[i].text);
		if (!same)
			fresh[nfresh++] = rs->rules[i].id;
	}
	ruleset_free(old);
	free(old);
	err = policy_install(ifname, rs, fresh, nfresh);
	return err;
}

void policy_forget(const char *ifname)
{
	char path[PATH_MAX], pending[PATH_MAX + 8];

	if (policy_source_path(ifname, path, sizeof(path)))
		return;
	snprintf(pending, sizeof(pending), "%s.new", path);
	unlink(pending);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);	/* the namespace's directory, once empty */
}

/* Per side, each port's rules, with those that match any port added. */
static void fill_ports(struct tcpf_port_table *t, const struct compiled *c)
{
	const struct tcpf_bitmap *any[2] = { &c->rs.sport_any,
					     &c->rs.dport_any };

	for (int side = 0; side < 2; side++)
		for (__u32 p = 0; p < TCPF_PORTS; p++)
			for (int w = 0; w < TCPF_RULE_WORDS; w++)
				t->port[side][p].w[w] =
					(c->ports ? c->port[side][p].w[w] : 0) |
					any[side]->w[w];
}

/* A compiled rule set as the map holds it, with its prefix trie and
 * port table (s zeroed). */
static int build_set(struct tcpf_set *s, const struct compiled *c)
{
	const struct tcpf_bitmap any[2] = { c->rs.src_any, c->rs.dst_any };
	int err = pfx_trie_build(&s->pfx, c->pfx, c->npfx, any);

	if (!err) {
		s->rs = c->rs;
		fill_ports(&s->ports, c);
	}
	return err;
}

/* Rule set `set`: one map write. */
static int write_set(int fd, __u32 set, const struct compiled *c)
{
	struct tcpf_set *s = calloc(1, sizeof(*s));
	int err = s ? build_set(s, c) : -ENOMEM;

	if (!err && bpf_map_update_elem(fd, &set, s, BPF_ANY))
		err = -errno;
	free(s);
	return err;
}

static int open_maps(const char *ifname, int *fds, const enum map_id *ids,
		     int n)
{
	for (int i = 0; i < n; i++) {
		int err = map_open(ids[i], ifname, false, &fds[i]);

		if (err) {
			while (i--)
				close(fds[i]);
			return err;
		}
	}
	return 0;
}

static const enum map_id map_ids[] = {
	TCPF_MAP_POLICY, TCPF_MAP_RULESETS, TCPF_MAP_RHITS,
};
#define NMAPS ((int)(sizeof(map_ids) / sizeof(map_ids[0])))

/* The slots of tcpf_rhits set `set`'s rules count in, marked in used;
 * with by_id, each id's slot (0: no rule). */
static int set_slots(int fd, __u32 set, bool used[TCPF_HIT_SLOTS],
		     __u16 by_id[TCPF_RULES_MAX + 1])
{
	struct tcpf_set *s = malloc(sizeof(*s));
	int err = 0;

	if (!s)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &set, s))
		err = -errno;
	for (__u32 i = 0; !err && i < s->rs.nrules && i < TCPF_RULES_MAX; i++) {
		const struct tcpf_rule_act *a = &s->rs.act[i];
		__u32 slot = tcpf_hit_slot(a->hit, a->id);

		used[slot] = true;
		if (by_id && a->id <= TCPF_RULES_MAX)
			by_id[a->id] = (__u16)slot;
	}
	free(s);
	return err;
}

static bool is_fresh(__u32 id, const __u32 *fresh_ids, int nfresh)
{
	for (int i = 0; fresh_ids && i < nfresh; i++)
		if (fresh_ids[i] == id)
			return true;
	return !fresh_ids;
}

/*
 * Each rule's slot of tcpf_rhits (a->hit), into the new set c: a rule that
 * stays keeps the one it counts in; a fresh one takes its id's own slot,
 * or another, that neither set uses, zeroed here (no program counts in it
 * then: not the set in force, not the one before it).
 */
static int give_slots(const struct policy_maps *m, __u32 active,
		      struct compiled *c, const __u32 *fresh_ids, int nfresh)
{
	bool used[TCPF_HIT_SLOTS] = { [0] = true };
	__u16 kept[TCPF_RULES_MAX + 1] = {};
	int ncpu = libbpf_num_possible_cpus(), err;
	struct tcpf_count *zero = ncpu > 0 ? calloc((size_t)ncpu,
						    sizeof(*zero)) : NULL;
	__u32 next = TCPF_RULES_MAX + 1;

	err = zero ? set_slots(m->sets, active, used, kept) : -ENOMEM;
	if (!err)
		err = set_slots(m->sets, !active, used, NULL);
	for (__u32 i = 0; !err && i < c->rs.nrules; i++) {
		struct tcpf_rule_act *a = &c->rs.act[i];
		__u32 slot = a->id <= TCPF_RULES_MAX ? kept[a->id] : 0;

		if (slot && !is_fresh(a->id, fresh_ids, nfresh)) {
			a->hit = (__u16)slot;
			continue;
		}
		slot = a->id;
		while (slot < TCPF_HIT_SLOTS && used[slot])
			slot = next++;
		if (slot >= TCPF_HIT_SLOTS) {
			err = -ENOSPC;	/* cannot be: three per id */
			break;
		}
		used[slot] = true;
		a->hit = (__u16)slot;
		if (bpf_map_update_elem(m->hits, &slot, zero, BPF_ANY))
			err = -errno;
	}
	free(zero);
	return err;
}

int policy_write(const struct policy_maps *m, const struct ruleset *rs,
		 const __u32 *fresh_ids, int nfresh)
{
	struct tcpf_policy pol = {};
	struct compiled *c = calloc(1, sizeof(*c));
	__u32 key = 0, set;
	int err;

	if (!c)
		return -ENOMEM;
	err = ruleset_compile(rs, c);
	if (!err && bpf_map_lookup_elem(m->policy, &key, &pol))
		err = -errno;
	/* everything goes into the set not in use... */
	set = !(pol.active & 1);
	if (!err)
		err = give_slots(m, !set, c, fresh_ids, nfresh);
	if (!err)
		err = write_set(m->sets, set, c);
	if (!err)
		crash_point("rules:set");
	/* ...with its slots for the readers (the set in force unchanged)... */
	memset(pol.hit[set], 0, sizeof(pol.hit[set]));
	pol.slotted |= 1u << set;
	for (__u32 i = 0; !err && i < c->rs.nrules; i++)
		if (c->rs.act[i].id <= TCPF_RULES_MAX)
			pol.hit[set][c->rs.act[i].id] = c->rs.act[i].hit;
	if (!err && bpf_map_update_elem(m->policy, &key, &pol, BPF_ANY))
		err = -errno;
	if (!err) {
		/* ...then one write switches: the old set until, the new after */
		pol.active = set;
		pol.generation++;
		pol.live = rs->nrules || rs->default_action != TCPF_ACT_PASS;
		if (bpf_map_update_elem(m->policy, &key, &pol, BPF_ANY))
			err = -errno;
	}
	compiled_free(c);
	free(c);
	return err;
}

int policy_install(const char *ifname, const struct ruleset *rs,
		   const __u32 *fresh_ids, int nfresh)
{
	int fds[NMAPS], err = open_maps(ifname, fds, map_ids, NMAPS);
	char path[PATH_MAX] = "", tmp[PATH_MAX + 8];
	struct policy_maps m;

	if (err)
		return err;
	m = (struct policy_maps){ fds[0], fds[1], fds[2] };
	/*
	 * The source is written first (IFACE.rules.new): rules never go live
	 * unsaved.  Killed before the switch, the old set is in force and the
	 * new source is pending; killed after it, before the rename, the new
	 * one is: policy_settle() tells them apart and finishes.
	 */
	err = save_source(ifname, rs, path, sizeof(path));
	if (!err) {
		crash_point("rules:saved");
		err = policy_write(&m, rs, fresh_ids, nfresh);
	}
	if (!err)
		crash_point("rules:switched");
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err && path[0])
		unlink(tmp);
	for (int i = 0; i < NMAPS; i++)
		close(fds[i]);
	return err;
}

int policy_hits_read(int hits_fd, int policy_fd,
		     struct tcpf_count hits[TCPF_RULES_MAX + 1])
{
	struct tcpf_count *slots = malloc(TCPF_HIT_SLOTS * sizeof(*slots));
	struct tcpf_policy pol = {};
	__u32 key = 0;
	int err = slots ? 0 : -ENOMEM;

	/* the slots of the set in force, then the counts: a switch in
	 * between reads the old rules' counts, as they were before it */
	if (!err && bpf_map_lookup_elem(policy_fd, &key, &pol))
		err = -errno;
	if (!err)
		err = percpu_count_read(hits_fd, slots, TCPF_HIT_SLOTS);
	for (__u32 id = 0; !err && id <= TCPF_RULES_MAX; id++) {
		__u32 set = pol.active & 1, slot = pol.hit[set][id];

		if (!(pol.slotted >> set & 1))
			slot = id;	/* a set from before the slots */
		hits[id] = slot ? slots[tcpf_hit_slot(slot, id)] :
				  (struct tcpf_count){ 0 };
	}
	free(slots);
	return err;
}

int policy_read_counts(const char *ifname,
		       struct tcpf_count hits[TCPF_RULES_MAX + 1],
		       struct tcpf_count drops[TCPF_DROP_MAX])
{
	static const enum map_id ids[] = { TCPF_MAP_RHITS, TCPF_MAP_DROPS,
					   TCPF_MAP_POLICY };
	int fds[3] = { -1, -1, -1 }, err = 0;

	for (int i = 0; i < 3 && !err; i++)
		err = map_open(ids[i], ifname, true, &fds[i]);
	if (!err)
		err = policy_hits_read(fds[0], fds[2], hits);
	if (!err)
		err = percpu_count_read(fds[1], drops, TCPF_DROP_MAX);
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return err;
}

/* ------------------------------------------------ after a killed change */

void policy_unslot(struct tcpf_set *s)
{
	for (__u32 i = 0; i < TCPF_RULES_MAX; i++)
		s->rs.act[i].hit = 0;
}

/* The rule set in force: the active half of the double buffer.  A policy
 * never switched (generation 0) passes everything: *never set. */
static int read_in_force(int pol_fd, int sets_fd, struct tcpf_set *s,
			 bool *never)
{
	struct tcpf_policy pol = {};
	__u32 key = 0;

	if (bpf_map_lookup_elem(pol_fd, &key, &pol))
		return -errno;
	*never = pol.generation == 0;
	key = pol.active & 1;
	if (!*never && bpf_map_lookup_elem(sets_fd, &key, s))
		return -errno;
	policy_unslot(s);
	return 0;
}

/*
 * Is the set in force exactly what rs compiles to?  Byte for byte: the
 * compile is deterministic (no random salt, the buffers zeroed).  A
 * policy never switched is the empty set that passes.
 */
static bool same_set(const struct ruleset *rs, const struct tcpf_set *live,
		     bool never, struct tcpf_set *scratch)
{
	struct compiled *c;
	bool same = false;

	if (never)
		return rs->nrules == 0 && rs->default_action == TCPF_ACT_PASS;
	c = calloc(1, sizeof(*c));
	memset(scratch, 0, sizeof(*scratch));
	if (c && !ruleset_compile(rs, c) && !build_set(scratch, c))
		same = !memcmp(scratch, live, sizeof(*live));
	if (c)
		compiled_free(c);
	free(c);
	return same;
}

/* Does the source at path (absent: the empty set) compile to live? */
static bool source_in_force(const char *path, const struct tcpf_set *live,
			    bool never, struct tcpf_set *scratch)
{
	struct ruleset *rs = malloc(sizeof(*rs));
	char err[256];
	bool same = false;

	if (!rs)
		return false;
	ruleset_init(rs);
	if (faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) ||
	    !ruleset_parse_file(path, rs, err,
						      sizeof(err)))
		same = same_set(rs, live, never, scratch);
	ruleset_free(rs);
	free(rs);
	return same;
}

struct check_ctx {
	int fds[2];                 /* tcpf_policy, tcpf_rulesets */
	struct tcpf_set *live, *scratch;
	bool never;
	char path[PATH_MAX], pending[PATH_MAX + 8];
};

static void check_end(struct check_ctx *x)
{
	for (int i = 0; i < 2; i++)
		if (x->fds[i] >= 0)
			close(x->fds[i]);
	free(x->live);
	free(x->scratch);
}

/* Values of this build's size: pins another version left may not be. */
static int value_size_is(int fd, __u32 size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	return info.value_size == size ? 0 : -EPROTO;
}

static int check_start(const char *ifname, struct check_ctx *x)
{
	int err;

	memset(x, 0, sizeof(*x));
	x->fds[0] = x->fds[1] = -1;
	err = map_open(TCPF_MAP_POLICY, ifname, false, &x->fds[0]);
	if (!err)
		err = map_open(TCPF_MAP_RULESETS, ifname, false, &x->fds[1]);
	if (!err)
		err = value_size_is(x->fds[0], sizeof(struct tcpf_policy));
	if (!err)
		err = value_size_is(x->fds[1], sizeof(struct tcpf_set));
	if (!err)
		err = policy_source_path(ifname, x->path, sizeof(x->path));
	x->live = err ? NULL : malloc(sizeof(*x->live));
	x->scratch = err ? NULL : malloc(sizeof(*x->scratch));
	if (!err && (!x->live || !x->scratch))
		err = -ENOMEM;
	if (!err)
		err = read_in_force(x->fds[0], x->fds[1], x->live, &x->never);
	snprintf(x->pending, sizeof(x->pending), "%s.new", x->path);
	if (err)
		check_end(x);
	return err;
}

int policy_check(const char *ifname, struct rules_check *rc)
{
	struct check_ctx x;
	int err = check_start(ifname, &x);

	memset(rc, 0, sizeof(*rc));
	if (err)
		return err;
	rc->pending = !faccessat(AT_FDCWD, x.pending, F_OK, AT_EACCESS);
	if (source_in_force(x.path, x.live, x.never, x.scratch))
		rc->in_force = RULES_SAVED;
	else if (rc->pending &&
		 source_in_force(x.pending, x.live, x.never, x.scratch))
		rc->in_force = RULES_PENDING;
	else
		rc->in_force = RULES_OTHER;
	check_end(&x);
	return 0;
}

int policy_settle(const char *ifname, char *did, size_t size)
{
	struct ruleset *rs = NULL;
	struct check_ctx x;
	int err = check_start(ifname, &x);

	did[0] = '\0';
	if (err == -ENOENT || err == -EPROTO)
		return 0;	/* no rule maps, or another version's: not ours */
	if (err)
		return err;
	if (!faccessat(AT_FDCWD, x.pending, F_OK, AT_EACCESS)) {
		/* a change killed after its switch is finished, else undone */
		if (source_in_force(x.pending, x.live, x.never, x.scratch) &&
		    !rename(x.pending, x.path)) {
			snprintf(did, size, "the rule change it made is kept");
		} else {
			unlink(x.pending);
			snprintf(did, size, "the rule change it began is dropped");
		}
	}
	if (source_in_force(x.path, x.live, x.never, x.scratch))
		goto out;
	/* the maps hold a set no source describes: the saved one goes in */
	rs = malloc(sizeof(*rs));
	err = rs ? policy_load(ifname, rs) : -ENOMEM;
	if (!err) {
		struct policy_maps m = { x.fds[0], x.fds[1], -1 };

		static const __u32 none[1];

		err = map_open(TCPF_MAP_RHITS, ifname, false, &m.hits);
		if (!err)	/* the hits stay: no rule is new */
			err = policy_write(&m, rs, none, 0);
		if (m.hits >= 0)
			close(m.hits);
		ruleset_free(rs);
	}
	if (!err)
		snprintf(did + strlen(did), size - strlen(did), "%sthe saved "
			 "rule set is in force again", did[0] ? "; " : "");
out:
	free(rs);
	check_end(&x);
	return err;
}
