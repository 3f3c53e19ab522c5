// SPDX-License-Identifier: GPL-2.0-only
/*
 * loader.c - load the XDP program with its maps pinned per interface,
 * attach it (through libxdp, so it can share a dispatcher where the kernel
 * allows one), replace it atomically on re-attach, detach it, and report.
 */
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "tcpflags.skel.h"
#include "attached.h"
#include "cli.h"
#include "counters.h"
#include "crashpoint.h"
#include "egress.h"
#include "guard.h"
#include "health.h"
#include "loader.h"
#include "log.h"
#include "maps.h"
#include "migrate.h"
#include "pins.h"
#include "policy.h"
#include "privs.h"
#include "repair.h"
#include "report.h"
#include "timefmt.h"

static const struct cli_word mode_words[] = {
	{ "native", XDP_MODE_NATIVE, false },
	{ "drv", XDP_MODE_NATIVE, true },
	{ "skb", XDP_MODE_SKB, false },
	{ "generic", XDP_MODE_SKB, true },
	{ NULL, 0, false },
};

static __u32 xdp_flags_of(__u32 mode)
{
	return mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static void attach_error(const char *ifname, __u32 mode, int err)
{
	if (err == -EOPNOTSUPP && mode == XDP_MODE_NATIVE)
		pr_warn("cannot attach to %s in native mode: its driver has no "
			"native XDP support (try --mode skb)", ifname);
	else if (err == -EEXIST || err == -EBUSY)
		pr_warn("cannot attach to %s: another XDP program is attached "
			"in the other mode", ifname);
	else
		pr_warn("cannot attach to %s in %s mode: %s", ifname,
			mode_name(mode), strerror(-err));
}

static int detach_ours(unsigned int ifindex, const struct attached *a)
{
	struct xdp_program *p;
	int err;

	if (a->legacy) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
		int old = bpf_prog_get_fd_by_id(a->prog_id);

		if (old < 0)
			return -errno;
		opts.old_prog_fd = old;
		err = bpf_xdp_detach(ifindex, xdp_flags_of(a->mode) |
				     XDP_FLAGS_REPLACE, &opts);
		close(old);
		return err ? -errno : 0;
	}
	p = xdp_program__from_id(a->prog_id);
	err = (int)libxdp_get_error(p);
	if (err)
		return err;
	err = xdp_program__detach(p, ifindex, a->mode, 0);
	xdp_program__close(p);
	return err;
}

/*
 * Put the loaded program on the interface.  Re-attaching in the same mode
 * over our own legacy-attached program swaps it atomically, so no frame
 * goes uncounted; otherwise the old one is detached first.
 */
static int attach_prog(unsigned int ifindex, int prog_fd, __u32 mode,
		       const struct attached *cur)
{
	struct xdp_program *p;
	int err, old_fd = -1;

	if (cur->ours && cur->legacy && cur->mode == mode) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
		int old = bpf_prog_get_fd_by_id(cur->prog_id);

		if (old < 0)
			return -errno;
		opts.old_prog_fd = old;
		err = bpf_xdp_attach(ifindex, prog_fd, xdp_flags_of(mode) |
				     XDP_FLAGS_REPLACE, &opts);
		close(old);
		return err ? -errno : 0;
	}
	if (cur->ours) {
		/* a mode change: hold the old program to put it back on failure */
		old_fd = bpf_prog_get_fd_by_id(cur->prog_id);
		err = detach_ours(ifindex, cur);
		if (err)
			goto out;
	}
	/* libxdp owns the fd it is given */
	p = xdp_program__from_fd(dup(prog_fd));
	err = (int)libxdp_get_error(p);
	if (!err)
		err = xdp_program__attach(p, ifindex, mode, 0);
	xdp_program__close(p);
	if (err && old_fd >= 0 &&
	    bpf_xdp_attach(ifindex, old_fd, xdp_flags_of(cur->mode), NULL))
		pr_warn("could not put the previous program back: %s",
			strerror(errno));
out:
	if (old_fd >= 0)
		close(old_fd);
	return err;
}

static int record_meta(struct tcpflags_bpf *skel, const char *ifname,
		       unsigned int ifindex, __u32 mode, bool fresh)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct tcpf_meta meta = {};
	int fd = bpf_map__fd(skel->maps.tcpf_meta);
	__u64 now = (__u64)time(NULL);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.tcpf_xdp),
				    &info, &len))
		return -errno;
	if (!fresh && meta_read(fd, &meta) == 0 && meta.ifindex == ifindex &&
	    meta.attached_at)
		now = meta.attached_at;	/* keep "since" across re-attach */
	meta.attached_at = now;
	meta.loaded_at = (__u64)time(NULL);
	meta.ifindex = ifindex;
	meta.prog_id = info.id;
	meta.mode = mode;
	meta.abi = TCPF_ABI_VERSION;
	snprintf(meta.ifname, sizeof(meta.ifname), "%s", ifname);
	return meta_write(fd, &meta);
}

/* conntrack's defaults (nf_conntrack_proto_tcp.c), in seconds */
static const __u32 default_timeout[TCPF_ST_MAX] = {
	[TCPF_ST_SYN_SENT] = 120,
	[TCPF_ST_SYN_RECV] = 60,
	[TCPF_ST_ESTABLISHED] = 5 * 24 * 3600,
	[TCPF_ST_FIN_WAIT1] = 120,
	[TCPF_ST_FIN_WAIT2] = 120,
	[TCPF_ST_CLOSE_WAIT] = 60,
	[TCPF_ST_LAST_ACK] = 30,
	[TCPF_ST_CLOSING] = 120,
	[TCPF_ST_TIME_WAIT] = 120,
};

struct flow_opts {
	bool track;             /* follow connections (not --no-flows) */
	bool egress;            /* the TC egress observer (not --ingress-only) */
	__u32 flows;            /* requested table sizes, 0: default */
	__u32 half_open;
	__u32 timeout[TCPF_ST_MAX];
	bool timeout_set[TCPF_ST_MAX];
};

static __u32 pow2_ceil(__u32 v)
{
	__u32 p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* attach's command line */
struct attach_opts {
	struct cli_iface iface;
	int mode;                  /* XDP_MODE_* */
	bool ingress_only, no_flows;
	struct flow_opts fo;       /* --flows, --half-open, --timeout */
	const char *rules_file;
	struct ruleset *rules;     /* rules_file's, parsed before root */
	bool group_set;            /* --group: who else reads the pins */
	gid_t gid;
};

/* --timeout STATE=SECONDS, into the attach options' flow_opts. */
static int parse_timeout(const char *arg, void *opts, char *why, size_t size)
{
	struct flow_opts *fo = &((struct attach_opts *)opts)->fo;
	char name[32];
	const char *eq = strchr(arg, '=');
	long long secs;
	int st;

	if (!eq || (size_t)(eq - arg) >= sizeof(name)) {
		snprintf(why, size, "'%s' is not STATE=SECONDS", arg);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
	st = state_parse(name);
	if (st < 0) {
		snprintf(why, size, "unknown state '%s' in '%s'", name, arg);
		return -EINVAL;
	}
	if (cli_parse_int(eq + 1, 0, 1u << 30, &secs, why, size))
		return -EINVAL;
	fo->timeout[st] = (__u32)secs;
	fo->timeout_set[st] = true;
	return 0;
}

/* --group NAME|GID: the pins' group (root: only root reads them). */
static int parse_group(const char *arg, void *opts, char *why, size_t size)
{
	struct attach_opts *o = opts;

	o->group_set = true;
	return priv_group_parse(arg, &o->gid, why, size);
}

/*
 * Point every map at its pin (the registry says where) and size the
 * tables: an existing table keeps its size (the interfaces share it).
 */
static int setup_shared(struct tcpflags_bpf *skel, const char *ifname,
			const struct flow_opts *fo, bool *fresh)
{
	__u32 buckets = map_pinned_entries(TCPF_MAP_FLOWS, ifname);
	__u32 slots = map_pinned_entries(TCPF_MAP_SYNS, ifname);
	int err = maps_set_pins(skel->obj, ifname);

	if (err)
		return err;
	*fresh = !buckets;
	if (buckets && fo->flows &&
	    buckets * TCPF_FLOW_WAYS != pow2_ceil(fo->flows))
		pr_warn("the flow table of this namespace already holds %u "
			"connections; detach every interface to resize it",
			buckets * TCPF_FLOW_WAYS);
	if (!buckets)
		buckets = pow2_ceil(fo->flows ? fo->flows : TCPF_FLOWS_DEFAULT) /
			  TCPF_FLOW_WAYS;
	if (!slots)
		slots = pow2_ceil(fo->half_open ? fo->half_open
						: TCPF_SYNS_DEFAULT);
	if (bpf_map__set_max_entries(skel->maps.tcpf_flows, buckets) ||
	    bpf_map__set_max_entries(skel->maps.tcpf_syns, slots))
		return -EINVAL;
	skel->rodata->tcpf_buckets_mask = buckets - 1;
	skel->rodata->tcpf_syns_mask = slots - 1;
	skel->rodata->tcpf_flows_on = fo->track;
	return 0;
}

/* Timeouts into tcpf_ctl (kept unless given), then start the reaper. */
static int setup_flows(struct tcpflags_bpf *skel, const struct flow_opts *fo,
		       bool fresh)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);
	struct tcpf_ctl ctl = {};
	struct timespec ts;
	__u8 frame[64] = {};
	__u32 zero = 0;
	int fd = bpf_map__fd(skel->maps.tcpf_ctl);

	if (bpf_map_lookup_elem(fd, &zero, &ctl))
		return -errno;
	for (int st = TCPF_ST_SYN_SENT; st < TCPF_ST_MAX; st++)
		if (fresh || fo->timeout_set[st])
			ctl.timeout[st] = fo->timeout_set[st] ? fo->timeout[st]
							      : default_timeout[st];
	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the reaper's clock */
	ctl.now = (__u32)ts.tv_sec;
	if (bpf_map_update_elem(fd, &zero, &ctl, BPF_ANY))
		return -errno;
	/* the clock and the guard's secrets tick with flows off too */
	run.data_in = frame;
	run.data_size_in = sizeof(frame);
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.tcpf_reaper_arm),
				   &run))
		return -errno;
	return run.retval == XDP_PASS ? 0 : -EIO;
}

/* How far commit got, in order: what a roll back undoes. */
enum attach_step { STEP_NONE, STEP_LOADED, STEP_XDP, STEP_EGRESS, STEP_MIGRATED,
		  STEP_RULES };

/* What prepare found, and how far commit got. */
struct attach_state {
	struct tcpflags_bpf *skel;
	struct attached cur;    /* what ran on the interface before */
	char dir[PATH_MAX];     /* the interface's pins */
	bool fresh;             /* no counters were pinned: the pins are new */
	bool fresh_shared;      /* nor a flow table in the namespace */
	bool had_egress;        /* our egress observer was on the hook */
	__u32 guard_slot;       /* the interface's slot of the guard maps */
	struct migration *mig;  /* pins of another layout, carried over */
	struct sibling *sib;    /* the namespace's other attachments, moved */
	int nsib;               /* with it to its new shared maps */
	enum attach_step done;
};

/* Nothing foreign on the hook, bpffs and the pin directory there. */
static int attach_check(const struct attach_opts *o, struct attach_state *s)
{
	char stats_pin[PATH_MAX];
	__u32 egress_id;
	int err = query_attached(o->iface.ifindex, &s->cur);

	if (err) {
		pr_warn("cannot query XDP on %s: %s", o->iface.name,
			strerror(-err));
		return err;
	}
	if (s->cur.foreign[0]) {
		pr_warn("cannot attach to %s: XDP program %s is attached; "
			"detach it first", o->iface.name, s->cur.foreign);
		return -EBUSY;
	}
	err = bpffs_ensure();
	if (!err)	/* what a killed attach or detach left */
		err = repair_before_attach(o->iface.name);
	if (err)
		return err;
	err = pins_iface_dir(o->iface.name, s->dir, sizeof(s->dir));
	if (!err)
		err = mkdir_p(s->dir);
	if (err) {
		pr_warn("cannot make pin directory %s: %s", s->dir,
			strerror(-err));
		return err;
	}
	s->fresh = map_pin_path(TCPF_MAP_STATS, o->iface.name, stats_pin,
				sizeof(stats_pin)) ||
		   access(stats_pin, F_OK) != 0;
	s->had_egress = tc_query(o->iface.ifindex, false, &egress_id) == 0;
	return 0;
}

/* Open the object, point its maps at their pins, size the tables, and
 * refuse pins of another layout or ABI: nothing is changed yet. */
static int attach_open(const struct attach_opts *o, struct attach_state *s,
		       const struct migration *first)
{
	char why[256];
	int err;

	s->skel = tcpflags_bpf__open();
	if (!s->skel) {
		err = -errno;
		pr_warn("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	err = maps_check_obj(s->skel->obj, why, sizeof(why));
	if (err) {
		pr_warn("the BPF object and the map registry differ: %s", why);
		return err;
	}
	err = setup_shared(s->skel, o->iface.name, &o->fo, &s->fresh_shared);
	if (err) {
		pr_warn("cannot set up the flow table: %s", strerror(-err));
		return err;
	}
	err = migrate_prepare(s->skel->obj, o->iface.name, first, &s->mig, why,
			      sizeof(why));
	if (err) {
		pr_warn("cannot attach to %s: %s (made by another version of "
			"tcpflags); 'tcpflags detach %s' removes the pins, and "
			"their counters", o->iface.name, why, o->iface.name);
		return err;
	}
	err = guard_prepare(s->skel, o->iface.name, o->iface.ifindex,
			    &s->guard_slot);
	if (err)
		return err;
	err = maps_check_pins(o->iface.name, why, sizeof(why));
	if (err)
		pr_warn("cannot attach to %s: %s (made by another version of "
			"tcpflags); 'tcpflags detach %s' removes the pins, and "
			"their counters", o->iface.name, why, o->iface.name);
	return err;
}

/* Load against the pins and start the reaper. */
static int attach_load(const struct attach_opts *o, struct attach_state *s)
{
	int err = tcpflags_bpf__load(s->skel);

	if (err) {
		pr_warn("cannot load the XDP program%s: %s (run with -v for "
			"the verifier log)", s->fresh ? "" :
			" with the pinned maps", strerror(-err));
		return err;
	}
	err = setup_flows(s->skel, &o->fo, s->fresh_shared);
	if (err) {
		pr_warn("cannot start the flow table's reaper: %s",
			strerror(-err));
		return err;
	}
	err = guard_claim(s->skel, s->guard_slot, o->iface.ifindex);
	if (err)
		pr_warn("cannot claim a guard slot for %s: %s", o->iface.name,
			strerror(-err));
	return err;
}

/* The TC egress observer on (or, asked without it, off) the hook. */
static int attach_egress(const struct attach_opts *o,
			 const struct attach_state *s)
{
	int err = 0;

	if (o->fo.egress)
		err = tc_attach(o->iface.ifindex, false,
				bpf_program__fd(s->skel->progs.tcpf_egress));
	else if (s->had_egress)
		err = tc_detach(o->iface.ifindex, false);
	if (err) {
		pr_warn("cannot %s the egress observer on %s: %s",
			o->fo.egress ? "attach" : "remove", o->iface.name,
			strerror(-err));
		return err;
	}
	/* the guard's cookie handoff, where the kernel has it */
	if (bpf_program__fd(s->skel->progs.tcpf_ingress) >= 0)
		err = tc_attach(o->iface.ifindex, true,
				bpf_program__fd(s->skel->progs.tcpf_ingress));
	if (err)
		pr_warn("cannot attach the guard's ingress hook on %s: %s",
			o->iface.name, strerror(-err));
	return err;
}

/*
 * An upgrade that replaces the namespace's shared maps moves every other
 * interface running tcpflags here to them in the same go: each is loaded
 * with what it ran with (its mode, egress observer and --no-flows, the
 * last read from its program), swapped right after this one, and its own
 * maps carried over as this one's are.
 */
struct sibling {
	struct attach_opts o;
	struct attach_state s;
};

/* tcpf_flows_on of a running program, from its .rodata (true: unknown). */
static bool prog_flows_on(__u32 prog_id)
{
	__u32 ids[64] = {};
	int n = prog_map_ids(prog_id, ids, 64);
	bool on = true;

	for (int i = 0; i < n && i < 64; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi), zero = 0;
		int mfd = bpf_map_get_fd_by_id(ids[i]);
		struct btf *b = NULL;
		char *val = NULL;

		if (mfd >= 0 && !bpf_obj_get_info_by_fd(mfd, &mi, &mlen) &&
		    strstr(mi.name, ".rodata") && mi.btf_id)
			b = btf__load_from_kernel_by_id(mi.btf_id);
		if (b)
			val = calloc(1, mi.value_size);
		if (val && !bpf_map_lookup_elem(mfd, &zero, val)) {
			const struct btf_type *sec =
				btf__type_by_id(b, mi.btf_value_type_id);
			const struct btf_var_secinfo *v = btf_var_secinfos(sec);

			for (int j = 0; btf_is_datasec(sec) && j < btf_vlen(sec); j++, v++)
				if (!strcmp(btf__name_by_offset(b,
					btf__type_by_id(b, v->type)->name_off),
					"tcpf_flows_on") && v->offset < mi.value_size)
					on = val[v->offset] != 0;
		}
		free(val);
		btf__free(b);
		if (mfd >= 0)
			close(mfd);
	}
	return on;
}

/* Open a sibling for each other interface here with our program on it. */
static int siblings_open(const struct attach_opts *o, struct attach_state *s)
{
	static char names[64][IF_NAMESIZE];
	int n = migrate_shared(s->mig) ? pins_ifaces(names, 64) : 0;

	if (n > 0)
		s->sib = calloc((size_t)n, sizeof(*s->sib));
	if (n > 0 && !s->sib)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct sibling *b = &s->sib[s->nsib];
		struct attached cur = {};
		__u32 id;

		if (!strcmp(names[i], o->iface.name) ||
		    !(b->o.iface.ifindex = if_nametoindex(names[i])) ||
		    query_attached(b->o.iface.ifindex, &cur) || !cur.ours)
			continue;
		b->o.iface.name = names[i];	/* static: lives as long */
		b->o.mode = (int)cur.mode;
		b->o.fo.track = prog_flows_on(cur.prog_id);
		b->o.fo.egress = tc_query(b->o.iface.ifindex, false, &id) == 0;
		s->nsib++;
		if (attach_check(&b->o, &b->s) ||
		    attach_open(&b->o, &b->s, s->mig)) {
			pr_warn("cannot upgrade %s, which shares the maps of this "
				"namespace: nothing changed", names[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static void siblings_free(struct attach_state *s)
{
	for (int i = 0; i < s->nsib; i++) {
		migrate_free(s->sib[i].s.mig);
		tcpflags_bpf__destroy(s->sib[i].s.skel);
	}
	free(s->sib);
	s->sib = NULL;
	s->nsib = 0;
}

/* The new programs are in: the old maps' last counts and changes into
 * the new maps, which take the old ones' pins (user/migrate.h). */
static int attach_migrate(const struct attach_state *s)
{
	int err;

	if (!s->mig)
		return 0;
	err = migrate_finish(s->mig, bpf_program__fd(s->skel->progs.tcpf_migrate_add));
	for (int i = 0; i < s->nsib; i++) {
		const struct sibling *b = &s->sib[i];
		int e = b->s.mig ? migrate_finish(b->s.mig,
				bpf_program__fd(b->s.skel->progs.tcpf_migrate_add)) : 0;

		if (!e && b->s.done == STEP_EGRESS)
			e = record_meta(b->s.skel, b->o.iface.name,
					b->o.iface.ifindex, (__u32)b->o.mode, false);
		if (e || b->s.done != STEP_EGRESS)
			pr_warn("%s, which shares the maps of this namespace, "
				"was not moved to the new layout: re-attach it",
				b->o.iface.name);
		else
			pr_info("tcpflags: re-attached to %s too (it shares this "
				"namespace's maps)", b->o.iface.name);
		err = err ? err : e;
	}
	if (err)
		pr_warn("attached, but the pins of the old layout were not all "
			"carried over: %s", strerror(-err));
	return err;
}

/* The siblings' new programs in, right after this one's: what fails is
 * said, and the rest goes on (this one runs on the new maps already). */
static void siblings_swap(struct attach_state *s)
{
	for (int i = 0; i < s->nsib; i++) {
		struct sibling *b = &s->sib[i];
		int err = attach_prog(b->o.iface.ifindex,
				      bpf_program__fd(b->s.skel->progs.tcpf_xdp),
				      (__u32)b->o.mode, &b->s.cur);

		if (err)
			attach_error(b->o.iface.name, (__u32)b->o.mode, err);
		else if (!attach_egress(&b->o, &b->s))
			b->s.done = STEP_EGRESS;
	}
}

/* The group the pins go to: --group's, or the one they keep. */
static gid_t pins_gid(const struct attach_opts *o)
{
	return o->group_set ? o->gid : priv_pins_group();
}

/* Load, attach XDP, attach TC, install the rules, record: s->done says
 * how far it got. */
static int attach_commit(const struct attach_opts *o, struct attach_state *s)
{
	int err = attach_load(o, s);

	if (err)
		return err;
	s->done = STEP_LOADED;
	for (int i = 0; i < s->nsib && !err; i++)
		err = attach_load(&s->sib[i].o, &s->sib[i].s);
	for (int i = -1; i < s->nsib && !err; i++) {
		struct migration *m = i < 0 ? s->mig : s->sib[i].s.mig;

		err = m ? migrate_refresh(m) : 0;
		if (err)
			pr_warn("cannot carry the pins over: %s", strerror(-err));
	}
	/* the pins are there now: 0600 as the kernel makes them, or the
	 * group's (given, or kept on the namespace's pin directory) */
	if (!err)
		err = priv_protect_ns(pins_gid(o));
	if (err)
		return err;
	crash_point("attach:loaded");
	err = attach_prog(o->iface.ifindex, bpf_program__fd(s->skel->progs.tcpf_xdp),
			  (__u32)o->mode, &s->cur);
	if (err) {
		attach_error(o->iface.name, (__u32)o->mode, err);
		return err;
	}
	s->done = STEP_XDP;
	crash_point("attach:xdp");
	err = attach_egress(o, s);
	if (err)
		return err;
	s->done = STEP_EGRESS;
	crash_point("attach:egress");
	siblings_swap(s);
	err = attach_migrate(s);
	if (err)
		return err;
	s->done = STEP_MIGRATED;
	/* the pins carried over are new files (0600): the group's modes; on
	 * failure (said) they stay root's alone */
	if (s->mig)
		priv_protect_ns(pins_gid(o));
	/* on a re-attach, rules that stay keep their counters */
	err = o->rules ? policy_replace(o->iface.name, o->rules) : 0;
	if (err) {
		pr_warn("cannot install the rules on %s: %s", o->iface.name,
			policy_strerror(err));
		return err;
	}
	s->done = STEP_RULES;
	crash_point("attach:rules");
	if (o->rules && o->rules->has_guard) {
		err = guard_apply(o->iface.name, o->iface.ifindex,
				  &o->rules->guard);
		if (err)
			return err;
	}
	err = record_meta(s->skel, o->iface.name, o->iface.ifindex, (__u32)o->mode, s->fresh);
	if (err)
		pr_warn("attached, but cannot record status: %s",
			strerror(-err));
	crash_point("attach:meta");
	return 0;
}

/* Nothing half-attached: a new attachment goes whole, new pins with it
 * (a re-attach leaves the program it replaced or the new one running). */
static void attach_rollback(const struct attach_opts *o,
			    struct attach_state *s)
{
	struct attached now;

	if (s->done >= STEP_XDP && !s->cur.ours) {
		if (query_attached(o->iface.ifindex, &now) == 0 && now.ours)
			detach_ours(o->iface.ifindex, &now);
		if (!s->had_egress)
			tc_detach(o->iface.ifindex, false);
		tc_detach(o->iface.ifindex, true);
	}
	/* the new program runs on the new maps: they take the pins */
	if (s->done >= STEP_XDP && s->done < STEP_MIGRATED)
		attach_migrate(s);
	siblings_free(s);
	migrate_free(s->mig);
	tcpflags_bpf__destroy(s->skel);
	if (s->fresh) {
		pins_remove(o->iface.name);
		policy_forget(o->iface.name);
	}
}

static void attach_report(const struct attach_opts *o,
			  const struct attach_state *s)
{
	const struct flow_opts *fo = &o->fo;

	pr_info("tcpflags: %s %s in %s mode%s (%s counters in %s)",
		s->cur.ours ? "re-attached to" : "attached to", o->iface.name,
		mode_name((__u32)o->mode), fo->egress ? " with the egress observer" :
		fo->track ? ", ingress only" : ", flows off",
		s->fresh ? "new" : "kept", s->dir);
	if (s->mig)
		pr_info("tcpflags: carried over to the new layout: %s",
			migrate_names(s->mig));
	if (o->rules)
		pr_info("tcpflags: %d rules on %s (default %s)",
			o->rules->nrules, o->iface.name,
			action_name(o->rules->default_action));
}

/* parse (cmd_attach) -> prepare -> commit -> report, or roll back. */
static int attach_run(struct attach_opts *o)
{
	struct attach_state *s = calloc(1, sizeof(*s));
	int ret = EXIT_FAIL;

	if (!s) {
		pr_warn("attach: out of memory");
	} else if (attach_check(o, s)) {
		/* nothing made yet */
	} else if (attach_open(o, s, NULL) || siblings_open(o, s) ||
		   attach_commit(o, s)) {
		attach_rollback(o, s);
	} else {
		attach_report(o, s);
		siblings_free(s);
		migrate_free(s->mig);
		tcpflags_bpf__destroy(s->skel);
		ret = EXIT_OK;
	}
	free(s);
	return ret;
}

/* --rules FILE: a bad file is refused before anything is touched */
static int attach_rules_file(void *opts)
{
	struct attach_opts *o = opts;
	char rerr[512];

	if (!o->rules_file)
		return CLI_RUN;
	o->rules = malloc(sizeof(*o->rules));
	if (!o->rules ||
	    ruleset_parse_file(o->rules_file, o->rules, rerr, sizeof(rerr))) {
		pr_warn("%s", o->rules ? rerr : "out of memory");
		free(o->rules);
		o->rules = NULL;
		return EXIT_USAGE;
	}
	return CLI_RUN;
}

/* check's rules, also when the privilege check or the interface stopped it */
static void attach_release(void *opts)
{
	struct attach_opts *o = opts;

	if (o->rules)
		ruleset_free(o->rules);
	free(o->rules);
}

static int cmd_attach(void *opts)
{
	struct attach_opts *o = opts;

	o->fo.track = !o->no_flows;
	o->fo.egress = !o->no_flows && !o->ingress_only;
	return attach_run(o);
}

#define ATTACH(m) offsetof(struct attach_opts, m)

static const struct cli_opt attach_args[] = {
	CLI_ARG_IFACE(struct attach_opts, iface), { 0 },
};

static const struct cli_opt attach_options[] = {
	{ .name = "mode", .short_name = 'm', .kind = CLI_ENUM,
	  .offset = ATTACH(mode), .words = mode_words,
	  .help = "the driver's hook (default) or generic XDP" },
	{ .name = "ingress-only", .short_name = 'i', .kind = CLI_FLAG,
	  .offset = ATTACH(ingress_only),
	  .help = "no TC egress observer: one direction" },
	{ .name = "no-flows", .short_name = 'n', .kind = CLI_FLAG,
	  .offset = ATTACH(no_flows),
	  .help = "count flag patterns only: no flow table, no phases" },
	{ .name = "flows", .short_name = 'f', .kind = CLI_COUNT,
	  .offset = ATTACH(fo.flows), .metavar = "N", .lo = 64, .hi = 1 << 24,
	  .help = "connections the flow table holds (default 262144)" },
	{ .name = "half-open", .short_name = 'o', .kind = CLI_COUNT,
	  .offset = ATTACH(fo.half_open), .metavar = "N", .lo = 16,
	  .hi = 1 << 24, .help = "half-open handshake slots (default 65536)" },
	{ .name = "timeout", .short_name = 't', .kind = CLI_CALL,
	  .call = parse_timeout, .metavar = "STATE=SECONDS",
	  .complete = CLI_COMPLETE_TIMEOUT,
	  .flags = CLI_REPEAT, .help = "idle timeout of a state (see above)" },
	{ .name = "rules", .short_name = 'r', .kind = CLI_PATH,
	  .offset = ATTACH(rules_file), .metavar = "FILE",
	  .help = "start with FILE's rule set (see 'tcpflags apply')" },
	{ .name = "group", .short_name = 'g', .kind = CLI_CALL,
	  .call = parse_group, .metavar = "GROUP",
	  .complete = CLI_COMPLETE_GROUP,
	  .help = "GROUP may read the pins (kept; root: only root)" },
	{ 0 },
};

static const struct attach_opts attach_defaults = { .mode = XDP_MODE_NATIVE };

static const struct priv_need *attach_need(const void *opts)
{
	return ((const struct attach_opts *)opts)->group_set ?
	       &priv_load_group : &priv_load;
}

const struct cli_command attach_command = {
	.name = "attach", .summary = "load, attach, pin the counters",
	.about = "  Load the classifier and attach it to IFACE (XDP, plus a TC egress\n"
		 "  observer unless --ingress-only); re-attaching keeps the counters.\n"
		 "  STATE of --timeout, in seconds: syn_sent syn_recv established\n"
		 "  fin_wait1 fin_wait2 close_wait last_ack closing time_wait.\n"
		 "  The pins are root's alone (0600) unless --group lets GROUP read\n"
		 "  them (0640): the namespace's pins keep it until they go.\n",
	.args = attach_args, .opts = attach_options,
	.size = sizeof(struct attach_opts), .defaults = &attach_defaults,
	.check = attach_rules_file, .need_of = attach_need,
	.run = cmd_attach, .writes = true, .release = attach_release,
};

struct detach_opts {
	const char *ifname;	/* not looked up: it may be gone */
	bool keep;
};

/* Remove ifname's pins (and its saved rules) unless keep. */
static int detach_pins(const char *ifname, const char *dir, bool keep)
{
	int err;

	if (keep)
		return 0;
	err = pins_dismantle(ifname);
	if (!err)
		priv_pins_gone();
	if (err)
		pr_warn("detached from %s, but cannot remove %s: %s", ifname,
			dir, strerror(-err));
	return err;
}

/* Take our XDP program and the egress observer off ifindex. */
static int detach_hooks(const char *ifname, unsigned int ifindex,
			const struct attached *cur)
{
	int err = cur->ours ? detach_ours(ifindex, cur) : 0;

	if (err) {
		pr_warn("cannot detach from %s: %s", ifname, strerror(-err));
		return err;
	}
	crash_point("detach:xdp");
	err = tc_detach(ifindex, false);
	if (err && err != -ENOENT) {
		pr_warn("cannot remove the egress observer of %s: %s", ifname,
			strerror(-err));
		return err;
	}
	err = tc_detach(ifindex, true);
	if (err && err != -ENOENT) {
		pr_warn("cannot remove the guard's ingress hook of %s: %s",
			ifname, strerror(-err));
		return err;
	}
	return 0;
}

static int detach_iface(const char *ifname, bool keep)
{
	char dir[PATH_MAX];
	struct attached cur = {};
	unsigned int ifindex;
	__u32 egress_id;
	bool pinned;
	int err;

	if (pins_iface_dir(ifname, dir, sizeof(dir)))
		return EXIT_USAGE;
	pinned = access(dir, F_OK) == 0;
	if (pinned && !if_nametoindex(ifname)) {
		/* the interface went away: only its pins are left to clean */
		detach_pins(ifname, dir, keep);
		pr_info("tcpflags: %s is gone; %s its counters", ifname,
			keep ? "kept" : "removed");
		return EXIT_OK;
	}
	if (iface_lookup(ifname, &ifindex))
		return EXIT_USAGE;
	err = query_attached(ifindex, &cur);
	if (err) {
		pr_warn("cannot query XDP on %s: %s", ifname, strerror(-err));
		return EXIT_FAIL;
	}
	if (!cur.ours && !pinned && tc_query(ifindex, false, &egress_id))
		return repair_leftovers() > 0 ? EXIT_OK :
		       not_attached(ifname, -ENOENT);
	if (detach_hooks(ifname, ifindex, &cur))
		return EXIT_FAIL;
	crash_point("detach:hooks");
	if (!keep)
		guard_release(ifname, ifindex);
	if (pinned && detach_pins(ifname, dir, keep))
		return EXIT_FAIL;
	pr_info("tcpflags: %s %s%s", cur.ours ? "detached from" :
		"was not attached to", ifname,
		keep ? " (counters kept)" : "");
	return EXIT_OK;
}

static int cmd_detach(void *opts)
{
	const struct detach_opts *o = opts;

	return detach_iface(o->ifname, o->keep);
}

static const struct cli_opt detach_args[] = {
	{ .name = "interface", .kind = CLI_STRING,
	  .offset = offsetof(struct detach_opts, ifname), .metavar = "IFACE",
	  .complete = CLI_COMPLETE_ATTACHED },
	{ 0 },
};

static const struct cli_opt detach_options[] = {
	{ .name = "keep-maps", .short_name = 'k', .kind = CLI_FLAG,
	  .offset = offsetof(struct detach_opts, keep),
	  .help = "keep the pinned counters for a later attach" },
	{ 0 },
};

const struct cli_command detach_command = {
	.name = "detach", .summary = "detach, drop the pins",
	.about = "  Detach from IFACE and remove its pinned counters unless --keep-maps.\n",
	.args = detach_args, .opts = detach_options, .writes = true,
	.size = sizeof(struct detach_opts), .need = &priv_load,
	.run = cmd_detach,
};

/* The maps of ifname pinned in a layout that is not this build's (obj),
 * which the next attach carries over: names, space-separated. */
static void status_layouts(const struct bpf_object *obj, const char *ifname,
			   char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int id = 0; id < TCPF_NMAPS && obj; id++) {
		__u32 d = migrate_pin_layout(id, ifname);

		if (d && d != migrate_obj_layout(obj, id) && n < size)
			n += (size_t)snprintf(buf + n, size - n, "%s%s",
					      n ? " " : "", map_defs[id].name);
	}
}

/* One line or one JSON object per pinned interface of this namespace. */
static void status_one(const struct bpf_object *obj, const char *ifname,
		       bool json, bool first)
{
	char other[TCPF_NMAPS * 16];
	struct tcpf_meta meta = {};
	struct attached cur = {};
	unsigned int ifindex = 0;
	char since[32], loaded[32], dir[PATH_MAX];
	const char *state;
	__u32 egress_id = 0;
	bool egress;
	int fd;

	pins_iface_dir(ifname, dir, sizeof(dir));
	if (map_open(TCPF_MAP_META, ifname, true, &fd) == 0) {
		meta_read(fd, &meta);
		close(fd);
	}
	ifindex = if_nametoindex(ifname);
	egress = ifindex && tc_query(ifindex, false, &egress_id) == 0;
	if (!ifindex)
		state = "interface gone";
	else if (query_ours(ifindex, meta.prog_id, &cur) || !cur.ours)
		state = "detached";
	else
		state = "attached";
	status_layouts(obj, ifname, other, sizeof(other));
	format_utc((time_t)meta.attached_at, since, sizeof(since));
	format_utc((time_t)meta.loaded_at, loaded, sizeof(loaded));
	if (json) {
		printf("%s{\"interface\": ", first ? "" : ", ");
		json_string(ifname);
		printf(", \"ifindex\": %u, "
		       "\"state\": \"%s\", \"mode\": \"%s\", \"prog_id\": %u, "
		       "\"attached_at\": \"%s\", \"loaded_at\": \"%s\", "
		       "\"egress\": %s, \"pin_dir\": ",
		       ifindex, state,
		       mode_name(cur.ours ? cur.mode : meta.mode),
		       cur.ours ? cur.prog_id : 0, since, loaded,
		       egress ? "true" : "false");
		json_string(dir);
		printf(", \"other_layout\": ");
		json_string(other);
		health_iface_print(ifname, true);
		printf("}");
		return;
	}
	printf("%-16s %7u  %-8s %-14s %8u  %-6s %s\n", ifname, ifindex,
	       mode_name(cur.ours ? cur.mode : meta.mode), state,
	       cur.ours ? cur.prog_id : 0, egress ? "yes" : "no", since);
	if (other[0])
		printf("  (pinned in another layout, carried over by the next "
		       "attach: %s)\n", other);
	if (meta.prog_id && meta.abi != TCPF_ABI_VERSION)
		printf("  (its pins are of map ABI %u, this tcpflags' %d: "
		       "'tcpflags detach %s' before attaching it)\n", meta.abi,
		       TCPF_ABI_VERSION, ifname);
	health_iface_print(ifname, false);
}

/* The registry's pins, by scope, with this build's layout versions, and
 * the map ABI they are made for. */
static void status_pins(const struct bpf_object *obj)
{
	char ns[PATH_MAX];

	if (pins_ns_dir(ns, sizeof(ns)))
		return;
	printf("\npins (map ABI %d; this build's layout versions) in %s/:",
	       TCPF_ABI_VERSION, ns);
	for (int scope = MAP_IFACE; scope <= MAP_NS; scope++) {
		int col = 80;

		printf("\n  %s:", scope == MAP_NS ? "shared" : "IFACE/");
		for (int id = 0; id < TCPF_NMAPS; id++) {
			if (map_defs[id].scope != (enum map_scope)scope)
				continue;
			if (col + strlen(map_defs[id].name) + 10 > 78)
				col = printf("\n   ") - 1;
			col += printf(" %s@%08x", map_defs[id].name,
				      obj ? migrate_obj_layout(obj, id) : 0);
		}
	}
	printf("\n");
}

struct status_opts {
	bool json;
};

static int cmd_status(void *opts)
{
	static char names[1024][IF_NAMESIZE];
	bool json = ((const struct status_opts *)opts)->json;
	struct tcpflags_bpf *skel;
	int n, shown = 0;
	unsigned long long conns;
	__u32 buckets, slots;

	n = pins_ifaces(names, 1024);
	if (n < 0) {
		pr_warn("cannot list the attachments: %s", strerror(-n));
		return EXIT_FAIL;
	}
	skel = tcpflags_bpf__open();	/* this build's layouts */
	if (json)
		printf("{\"attachments\": [");
	else
		printf("%-16s %7s  %-8s %-14s %8s  %-6s %s\n", "INTERFACE",
		       "IFINDEX", "MODE", "STATE", "PROG_ID", "EGRESS",
		       "SINCE");
	for (int i = 0; i < n; i++)
		status_one(skel ? skel->obj : NULL, names[i], json,
			   shown++ == 0);
	buckets = map_pinned_entries(TCPF_MAP_FLOWS, NULL);
	slots = map_pinned_entries(TCPF_MAP_SYNS, NULL);
	conns = (unsigned long long)buckets * TCPF_FLOW_WAYS;
	if (json && !buckets) {
		printf("]");	/* no flow table: nothing attached here */
	} else if (json) {
		printf("], \"flow_table\": {\"connections\": %llu, "
		       "\"bytes_per_connection\": %zu, \"half_open\": %u, "
		       "\"bytes_per_half_open\": %zu}", conns,
		       sizeof(struct tcpf_flow_entry), slots,
		       sizeof(struct tcpf_syn));
	} else if (!shown) {
		printf("(nothing attached in this network namespace)\n");
	} else if (buckets) {
		printf("\nflow table (shared by this namespace): %llu "
		       "connections x %zu bytes = %.1f MiB, %u half-open x %zu "
		       "bytes = %.1f MiB\n", conns,
		       sizeof(struct tcpf_flow_entry),
		       conns * sizeof(struct tcpf_flow_entry) / 1048576.0,
		       slots, sizeof(struct tcpf_syn),
		       (double)slots * sizeof(struct tcpf_syn) / 1048576.0);
	}
	if (!json && shown)
		status_pins(skel ? skel->obj : NULL);
	tcpflags_bpf__destroy(skel);
	health_ns_print(json);	/* partial state, stale namespaces */
	if (json)
		printf("}\n");
	return EXIT_OK;
}

static const struct cli_opt status_options[] = {
	CLI_OPT_JSON(struct status_opts, json), { 0 },
};

const struct cli_command status_command = {
	.name = "status", .summary = "what is attached here",
	.about = "  What is attached in this network namespace.\n",
	.opts = status_options,
	.size = sizeof(struct status_opts), .need = &priv_read,
	.run = cmd_status,
};
