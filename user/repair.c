// SPDX-License-Identifier: GPL-2.0-only
/* repair.c - partial state after a killed writer: found and repaired. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "attached.h"
#include "crashpoint.h"
#include "egress.h"
#include "lock.h"
#include "log.h"
#include "maps.h"
#include "pins.h"
#include "policy.h"
#include "repair.h"

#define MAX_IFACES 1024

/* Is path known to be gone?  Only ENOENT says so: what cannot be
 * looked at is not gone.  (Not access(2): it checks the real uid without
 * capabilities, so a writer given CAP_DAC_OVERRIDE as another user would
 * find nothing there.) */
static bool gone(const char *path)
{
	return faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) && errno == ENOENT;
}

static bool iface_dir_there(const char *ifname)
{
	char dir[PATH_MAX];

	return !pins_iface_dir(ifname, dir, sizeof(dir)) && !gone(dir);
}

/* 1: an attach recorded itself in tcpf_meta (meta filled), 0: not (no
 * tcpf_meta pin, or never written), -ENOENT: no pins for ifname at all,
 * another -errno: cannot tell (repairs then leave it alone). */
static int recorded(const char *ifname, struct tcpf_meta *meta)
{
	int fd, err;

	memset(meta, 0, sizeof(*meta));
	if (!iface_dir_there(ifname))
		return -ENOENT;
	err = map_open(TCPF_MAP_META, ifname, true, &fd);
	if (err)
		return err == -ENOENT ? 0 : err;
	err = meta_read(fd, meta);
	close(fd);
	return err ? err : meta->prog_id != 0;
}

/* The interface's registry maps pinned, of how many. */
static int pinned_maps(const char *ifname, int *want)
{
	char path[PATH_MAX];
	int n = 0;

	*want = 0;
	for (int id = 0; id < TCPF_NMAPS; id++) {
		if (map_defs[id].scope != MAP_IFACE)
			continue;
		(*want)++;
		n += !map_pin_path(id, ifname, path, sizeof(path)) &&
		     !gone(path);
	}
	return n;
}

/* No XDP program at all on the hook (netlink: no capability needed). */
static bool no_xdp(unsigned int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	return !bpf_xdp_query((int)ifindex, 0, &q) && !q.prog_id &&
	       !q.drv_prog_id && !q.skb_prog_id && !q.hw_prog_id;
}

#define ADD(...) do {							\
	if (n < max)							\
		snprintf(out[n++], PROBLEM_LEN, __VA_ARGS__);		\
} while (0)

/* Does program prog_id use map id's pin of ifname?  1, 0, or -1: cannot
 * tell (a reader without CAP_SYS_ADMIN cannot look into a program). */
static int prog_uses_pin(__u32 prog_id, enum map_id id, const char *ifname)
{
	__u32 ids[64] = {}, mlen = sizeof(struct bpf_map_info);
	struct bpf_map_info mi = {};
	int n = prog_map_ids(prog_id, ids, 64), mfd = -1, ret = -1;

	if (n >= 0 && !map_open(id, ifname, true, &mfd) &&
	    !bpf_obj_get_info_by_fd(mfd, &mi, &mlen)) {
		ret = 0;
		for (int i = 0; i < n && i < 64; i++)
			ret |= ids[i] == mi.id;
	}
	if (mfd >= 0)
		close(mfd);
	return ret;
}

int repair_iface_problems(const char *ifname, problem_t *out, int max)
{
	unsigned int ifindex = if_nametoindex(ifname);
	struct rules_check rc;
	struct tcpf_meta meta;
	struct attached cur = {};
	struct lock_view v;
	__u32 tc_id;
	int n = 0, want, rec = recorded(ifname, &meta);
	bool killed = !state_lock_view(NULL, &v) && v.left;

	if (rec < 0)
		return 0;
	/* readers have no CAP_SYS_ADMIN: the recorded program is looked
	 * for by netlink first, as status does */
	if (ifindex && query_ours(ifindex, meta.prog_id, &cur))
		memset(&cur, 0, sizeof(cur));
	if (!rec) {
		int have = pinned_maps(ifname, &want);

		ADD("incomplete: %d of its %d maps pinned and no attachment "
		    "recorded (an attach or a detach was interrupted)%s; "
		    "'tcpflags attach %s' starts them over, 'tcpflags detach "
		    "%s' removes them", have, want,
		    cur.ours ? "; a program runs on them" : "", ifname,
		    ifname);
		return n;	/* its rules go with its pins */
	}
	if (cur.ours && cur.prog_id != meta.prog_id &&
	    prog_uses_pin(cur.prog_id, TCPF_MAP_STATS, ifname) == 0)
		ADD("program %u runs on maps that are not pinned (an upgrade "
		    "was interrupted): what it counts is in no pin, and lost "
		    "when 'tcpflags attach %s' completes it; run it now",
		    cur.prog_id, ifname);
	else if (cur.ours && cur.prog_id != meta.prog_id)
		ADD("program %u runs, the attachment recorded is program %u "
		    "(an attach was interrupted); 'tcpflags attach %s' "
		    "completes it", cur.prog_id, meta.prog_id, ifname);
	if (ifindex && no_xdp(ifindex) && (!tc_query(ifindex, false, &tc_id) ||
					   !tc_query(ifindex, true, &tc_id)))
		ADD("no XDP program, but its TC hooks are on (a detach or a "
		    "mode change was interrupted); 'tcpflags detach %s' "
		    "removes them, 'tcpflags attach %s' completes it", ifname,
		    ifname);
	/* compiling the candidates costs: only after a killed writer */
	if (!killed || policy_check(ifname, &rc))
		return n;
	if (rc.pending)
		ADD("a rule change was interrupted: the rule set in force is "
		    "%s; the next change, attach or detach settles it",
		    rc.in_force == RULES_PENDING ? "the new one (its source "
		    "not yet saved)" : rc.in_force == RULES_SAVED ?
		    "the old one (saved)" : "neither the saved nor the new one");
	else if (rc.in_force != RULES_SAVED)
		ADD("the rule set in force is not the saved one (a detach "
		    "was interrupted?); the next change, attach or detach "
		    "puts the saved one in force");
	return n;
}

/* Is the namespace's pin directory there with no interface (a detach
 * was interrupted)?  *files: the shared maps left in it. */
static bool orphan_ns(char *dir, size_t size, int *files)
{
	char names[1][IF_NAMESIZE];
	struct dirent *de;
	DIR *d;

	*files = 0;
	if (pins_ns_dir(dir, size) || pins_ifaces(names, 1) != 0)
		return false;
	d = opendir(dir);
	if (!d)
		return false;
	while ((de = readdir(d)))
		*files += de->d_name[0] != '.';
	closedir(d);
	return true;
}

/* The saved rule sources (and pending ones) of interfaces without pins:
 * call fn on each; how many. */
static int orphan_sources(void (*fn)(const char *path, const char *ifname,
				     void *arg), void *arg)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], ifname[300];
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (pins_run_dir(dir, sizeof(dir), 0))
		return 0;
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char *dot;

		snprintf(ifname, sizeof(ifname), "%s", de->d_name);
		dot = strstr(ifname, ".rules");
		if (!dot || (strcmp(dot, ".rules") && strcmp(dot, ".rules.new")))
			continue;
		*dot = '\0';
		if (strlen(ifname) >= IF_NAMESIZE || iface_dir_there(ifname))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (fn)
			fn(path, ifname, arg);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

struct describe_ctx {
	problem_t *out;
	int *n, max;
};

static void describe_source(const char *path, const char *ifname, void *arg)
{
	struct describe_ctx *x = arg;

	if (*x->n < x->max)
		snprintf(x->out[(*x->n)++], PROBLEM_LEN, "saved rules of %s "
			 "without its pins (%.160s): 'tcpflags prune' removes "
			 "them", ifname, path);
}

int repair_ns_problems(problem_t *out, int max)
{
	struct describe_ctx x = { out, NULL, max };
	struct lock_view v;
	char dir[PATH_MAX];
	int n = 0, files;

	if (!state_lock_view(NULL, &v) && v.left)
		ADD("the last change, pid and command '%.200s', was killed before "
		    "it finished; the next change repairs what it left",
		    v.what);
	else if (v.held)
		ADD("a change is in progress: pid and command '%.200s'",
		    v.what);
	if (orphan_ns(dir, sizeof(dir), &files) && files)
		ADD("%d shared maps in %.100s and no interface (a detach was "
		    "interrupted): the next attach or detach, or 'tcpflags "
		    "prune', removes them", files, dir);
	else if (orphan_ns(dir, sizeof(dir), &files))
		ADD("an empty pin directory %.100s (a detach was interrupted): "
		    "the next attach or detach, or 'tcpflags prune', removes "
		    "it", dir);
	x.n = &n;
	orphan_sources(describe_source, &x);
	return n;
}

static void remove_source(const char *path, const char *ifname, void *arg)
{
	(void)arg;
	if (unlink(path))
		pr_warn("cannot remove %s: %s", path, strerror(errno));
	else
		pr_warn("removed %s's saved rules (no pins): %s",
			ifname, path);
}

int repair_leftovers(void)
{
	char dir[PATH_MAX];
	int n = 0, err, files;

	if (orphan_ns(dir, sizeof(dir), &files)) {
		err = pins_remove_ns(dir);
		if (err) {
			pr_warn("cannot remove the shared maps in %s: %s", dir,
				strerror(-err));
			return err;
		}
		pr_warn("removed the %s an interrupted detach left in %s",
			files ? "shared maps" : "empty pin directory", dir);
		n++;
	}
	return n + orphan_sources(remove_source, NULL);
}

/* ifname's rules: the one in force made the saved one. */
static void settle(const char *ifname)
{
	char did[160];
	int err = policy_settle(ifname, did, sizeof(did));

	if (err)
		pr_warn("cannot settle the rules of %s: %s", ifname,
			strerror(-err));
	else if (did[0])
		pr_warn("%s: %s", ifname, did);
}

int repair_before_attach(const char *ifname)
{
	struct tcpf_meta meta;
	int err, rec = recorded(ifname, &meta);

	if (rec == 0) {
		pr_warn("%s's pins hold no recorded attachment (an "
			"attach or a detach was interrupted): starting them "
			"over", ifname);
		policy_forget(ifname);
		err = pins_remove(ifname);
		if (err) {
			pr_warn("cannot remove the pins of %s: %s", ifname,
				strerror(-err));
			return err;
		}
	} else if (rec == 1) {
		settle(ifname);
	}
	err = repair_leftovers();
	return err < 0 ? err : 0;
}

void repair_after_kill(const char *what)
{
	static char names[MAX_IFACES][IF_NAMESIZE];
	int n = pins_ifaces(names, MAX_IFACES);

	pr_warn("the last change, pid and command '%s', was killed "
		"before it finished: repairing what it left", what);
	for (int i = 0; i < n; i++) {
		struct tcpf_meta meta;

		/* pins with no recorded attachment: attach or detach redoes
		 * them whole */
		if (recorded(names[i], &meta) == 1)
			settle(names[i]);
	}
	repair_leftovers();
}

int pins_dismantle(const char *ifname)
{
	char path[PATH_MAX];

	if (!map_pin_path(TCPF_MAP_META, ifname, path, sizeof(path)) &&
	    unlink(path) && errno != ENOENT)
		return -errno;
	crash_point("detach:meta");
	policy_forget(ifname);
	return pins_remove(ifname);
}
