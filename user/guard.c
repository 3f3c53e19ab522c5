// SPDX-License-Identifier: GPL-2.0-only
/* guard.c - `tcpflags guard`: the SYN-flood guard's settings and state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "tcpflags.h"
#include "siphash.h"
#include "tcpflags.skel.h"
#include "cli.h"
#include "counters.h"
#include "glist.h"
#include "glistcmd.h"
#include "guard.h"
#include "guardstate.h"
#include "log.h"
#include "maps.h"
#include "pins.h"
#include "report.h"
#include "timefmt.h"

static const struct cli_word mode_words[] = {
	{ "off", TCPF_GM_OFF, false },
	{ "monitor", TCPF_GM_MONITOR, false },
	{ "ratelimit", TCPF_GM_RATELIMIT, false },
	{ "auth", TCPF_GM_AUTH, false },
	{ "cookie", TCPF_GM_COOKIE, false },
	{ "auto", TCPF_GM_AUTO, false },
	{ NULL, 0, false },
};

static const struct cli_word engage_words[] = {
	{ "cookie", TCPF_GM_COOKIE, false },
	{ "auth", TCPF_GM_AUTH, false },
	{ NULL, 0, false },
};

/* ------------------------------------------------------------ the slot */

bool guard_have_handoff(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool have;

	if (!btf)
		return false;
	have = btf__find_by_name_kind(btf, "bpf_sk_assign_tcp_reqsk",
				      BTF_KIND_FUNC) > 0;
	btf__free(btf);
	return have;
}

int guard_prepare(struct tcpflags_bpf *skel, const char *ifname,
		  unsigned int ifindex, __u32 *slot)
{
	int fd, err = map_open(TCPF_MAP_GCONF, ifname, true, &fd);

	*slot = 0;
	if (err == -ENOENT) {
		err = 0;        /* a new namespace: slot 0 */
	} else if (!err) {
		err = guard_slot_of(fd, ifindex, true, slot);
		close(fd);
		if (err == -ENOSPC)
			pr_warn("cannot attach to %s: all %d guard slots of this "
				"namespace are taken", ifname, TCPF_GUARD_SLOTS);
	}
	skel->rodata->tcpf_guard_slot = *slot;
	if (!guard_have_handoff())
		bpf_program__set_autoload(skel->progs.tcpf_ingress, false);
	return err;
}

static int read_long(const char *path, int field, long long *v)
{
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return -errno;
	/* the kernel's sysctl numbers, in range:
	 * NOLINTNEXTLINE(cert-err34-c) */
	while (n <= field && fscanf(f, "%lld", v) == 1)
		n++;
	fclose(f);
	return n > field ? 0 : -EINVAL;
}

/* What the kernel would offer in a SYN-ACK: its window scale, our MSS. */
static void kernel_offer(unsigned int ifindex, struct tcpf_gconf *gc)
{
	long long rmem = 6291456, core = 0, mtu = 1500;
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {};
	int scale = 0;

	read_long("/proc/sys/net/ipv4/tcp_rmem", 2, &rmem);
	read_long("/proc/sys/net/core/rmem_max", 0, &core);
	if (core > rmem)
		rmem = core;
	while (scale < 62 && (1LL << (scale + 1)) <= rmem)
		scale++;
	/* tcp_select_initial_window(): ilog2(space) - 15, within 0..14 */
	scale -= 15;
	gc->wscale = (__u8)(scale < 0 ? 0 : scale > 14 ? 14 : scale);
	/* this namespace's interface (sysfs may show another namespace's) */
	if (sock >= 0 && if_indextoname(ifindex, ifr.ifr_name) &&
	    ioctl(sock, SIOCGIFMTU, &ifr) == 0)
		mtu = ifr.ifr_mtu;
	if (sock >= 0)
		close(sock);
	if (mtu < 1280)
		mtu = 1280;
	gc->mss4 = (__u16)(mtu - 40 > 65495 ? 65495 : mtu - 40);
	gc->mss6 = (__u16)(mtu - 60 > 65475 ? 65475 : mtu - 60);
}

static void gconf_defaults(struct tcpf_gconf *gc, unsigned int ifindex)
{
	int ncpus = libbpf_num_possible_cpus();

	memset(gc, 0, sizeof(*gc));
	gc->ifindex = ifindex;
	gc->mode = TCPF_GM_OFF;
	gc->engage = TCPF_GM_COOKIE;
	gc->ncpus = (__u8)(ncpus > 255 ? 255 : ncpus < 1 ? 1 : ncpus);
	gc->rotate = TCPF_GUARD_ROTATE;
	gc->auth_min = TCPF_GUARD_AUTH_MIN;
	gc->auth_max = TCPF_GUARD_AUTH_MAX;
	gc->verified_ttl = TCPF_GUARD_VERIFIED_TTL;
	gc->syn_on = TCPF_GUARD_SYN_ON;
	gc->syn_off = TCPF_GUARD_SYN_OFF;
	gc->ratio_on = TCPF_GUARD_RATIO_ON;
	gc->calm = TCPF_GUARD_CALM;
	kernel_offer(ifindex, gc);
}

int guard_claim(struct tcpflags_bpf *skel, __u32 slot, unsigned int ifindex)
{
	int fd = bpf_map__fd(skel->maps.tcpf_gconf);
	struct tcpf_gconf *gc = malloc(sizeof(*gc));
	int err = 0;

	if (!gc)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &slot, gc)) {
		err = -errno;
	} else if (gc->ifindex != ifindex) {
		/* another interface's lists are not this one's */
		gconf_defaults(gc, ifindex);
		err = glist_clear_slot(bpf_map__fd(skel->maps.tcpf_glists), slot);
		if (!err && bpf_map_update_elem(fd, &slot, gc, BPF_ANY))
			err = -errno;
	}
	free(gc);
	return err;
}

void guard_release(const char *ifname, unsigned int ifindex)
{
	struct tcpf_gconf *gc = calloc(1, sizeof(*gc));
	struct tcpf_gstate gs = {};
	int fd, sfd;
	__u32 slot;

	if (!gc || map_open(TCPF_MAP_GCONF, ifname, false, &fd)) {
		free(gc);
		return;
	}
	if (!guard_slot_of(fd, ifindex, false, &slot)) {
		bpf_map_update_elem(fd, &slot, gc, BPF_ANY);
		if (!map_open(TCPF_MAP_GSTATE, ifname, false, &sfd)) {
			bpf_map_update_elem(sfd, &slot, &gs, BPF_ANY);
			close(sfd);
		}
		if (!map_open(TCPF_MAP_GLISTS, ifname, false, &sfd)) {
			glist_clear_slot(sfd, slot);
			close(sfd);
		}
	}
	close(fd);
	free(gc);
}

/* ------------------------------------------------------------ applying */

/* g over the current settings; why says what cannot be. */
static int merge(struct tcpf_gconf *gc, const struct guard_set *g,
		 __u32 slot, char *why, size_t size)
{
	if (g->mode >= 0)
		gc->mode = (__u8)g->mode;
	if (g->engage >= 0)
		gc->engage = (__u8)g->engage;
	if (g->ports_given)
		memcpy(gc->ports, g->ports, sizeof(gc->ports));
#define KEEP(field, v) do { if ((v) >= 0) gc->field = (__u32)(v); } while (0)
	KEEP(auth_min, g->auth_min);
	KEEP(auth_max, g->auth_max);
	KEEP(verified_ttl, g->ttl);
	KEEP(rotate, g->rotate);
	KEEP(syn_on, g->syn_on);
	KEEP(syn_off, g->syn_off);
	KEEP(calm, g->calm);
#undef KEEP
	if (g->ratio >= 0)
		gc->ratio_on = (__u32)(g->ratio * 1000 + 0.5);
	if (g->rate >= 0 || g->burst >= 0 || !gc->rl[0].rl_cost) {
		long long rate = g->rate >= 0 ? g->rate :
				 gc->rl[0].rl_cost ? 1000000000LL /
				 (long long)gc->rl[0].rl_cost : 100;
		long long burst = g->burst >= 0 ? g->burst : 20;

		guard_rl_act(&gc->rl[0], rate, burst, TCPF_RL_SRC,
			     (__u16)(TCPF_RULES_MAX + 1 + slot * 2));
	}
	if (g->global_rate >= 0)
		guard_rl_act(&gc->rl[1], g->global_rate, g->global_rate,
			     TCPF_RL_GLOBAL,
			     (__u16)(TCPF_RULES_MAX + 2 + slot * 2));
	if (gc->auth_min > gc->auth_max) {
		snprintf(why, size, "--auth-min %u is above --auth-max %u",
			 gc->auth_min, gc->auth_max);
		return -EINVAL;
	}
	if (gc->syn_off > gc->syn_on) {
		snprintf(why, size, "--calm-rate %u is above --syn-rate %u",
			 gc->syn_off, gc->syn_on);
		return -EINVAL;
	}
	if (gc->mode != TCPF_GM_OFF) {
		bool any = false;

		for (int i = 0; i < TCPF_GUARD_PORT_WORDS; i++)
			any |= gc->ports[i] != 0;
		if (!any) {
			snprintf(why, size, "%s needs the ports it protects "
				 "(--port N[,N|N-M]...)", guard_mode_names[gc->mode]);
			return -EINVAL;
		}
	}
	return 0;
}

/* The cookie secrets of now's epoch and the one before, and the totals
 * the timer measures the next second's rates from. */
static int state_start(const char *ifname, __u32 slot,
		       const struct tcpf_gconf *gc, struct tcpf_gstate *gs)
{
	__u64 c[TCPF_GC_MAX];
	__u32 epoch = guard_mono_now() / (gc->rotate ? gc->rotate : 1);
	int err = guard_stats_read(ifname, slot, c);

	if (err)
		return err;
	tcpf_guard_secret(gc->key, epoch, gs->secret[epoch & 1]);
	tcpf_guard_secret(gc->key, epoch - 1, gs->secret[(epoch - 1) & 1]);
	gs->epoch = epoch;
	gs->syns = c[TCPF_GC_SYN];
	gs->handshakes = c[TCPF_GC_HS_ACK];
	return 0;
}

static bool uses_cookie(const struct tcpf_gconf *gc)
{
	return gc->mode == TCPF_GM_COOKIE ||
	       (gc->mode == TCPF_GM_AUTO && gc->engage == TCPF_GM_COOKIE);
}

int guard_apply(const char *ifname, unsigned int ifindex,
		const struct guard_set *g)
{
	struct tcpf_gconf *gc = malloc(sizeof(*gc));
	struct tcpf_gstate gs;
	int fd = -1, sfd = -1, err;
	char why[160];
	__u32 slot;

	if (!gc)
		return -ENOMEM;
	err = map_open(TCPF_MAP_GCONF, ifname, false, &fd);
	if (!err)
		err = guard_slot_of(fd, ifindex, false, &slot);
	if (err) {
		not_attached(ifname, err);
		goto out;
	}
	err = -EIO;
	if (bpf_map_lookup_elem(fd, &slot, gc) ||
	    map_open(TCPF_MAP_GSTATE, ifname, false, &sfd) ||
	    bpf_map_lookup_elem(sfd, &slot, &gs)) {
		pr_warn("cannot read the guard of %s: %s", ifname,
			strerror(errno));
		goto out;
	}
	if (merge(gc, g, slot, why, sizeof(why))) {
		pr_warn("guard %s: %s", ifname, why);
		err = -EINVAL;
		goto out;
	}
	if (uses_cookie(gc) && !guard_have_handoff()) {
		pr_warn("guard %s: cookie needs Linux 6.9 or later (the "
			"bpf_sk_assign_tcp_reqsk kfunc); auth and ratelimit work "
			"on this kernel", ifname);
		err = -EOPNOTSUPP;
		goto out;
	}
	if (!gc->key[0] && !gc->key[1] &&
	    getrandom(gc->key, sizeof(gc->key), 0) != sizeof(gc->key)) {
		pr_warn("cannot make the guard's key: %s", strerror(errno));
		goto out;
	}
	if (g->mode >= 0) {
		gs.engaged = 0;
		gs.calm_for = 0;
		gc->set_at = guard_mono_now();
	}
	/* the secrets first: the data path never sees cookie without them */
	if (state_start(ifname, slot, gc, &gs) ||
	    bpf_map_update_elem(sfd, &slot, &gs, BPF_ANY) ||
	    bpf_map_update_elem(fd, &slot, gc, BPF_ANY)) {
		pr_warn("cannot set the guard of %s: %s", ifname,
			strerror(errno));
		goto out;
	}
	/* a rules file's lists, each whole (they set gconf's count) */
	for (int l = 0; l < TCPF_GL_LISTS; l++) {
		struct glist_req r = { .list = l, .op = GLIST_SET,
				       .n = g->nlist[l], .p = g->list[l] };

		if (g->list_given[l] && glist_run(ifname, ifindex, &r))
			goto out;
	}
	err = 0;
out:
	if (fd >= 0)
		close(fd);
	if (sfd >= 0)
		close(sfd);
	free(gc);
	return err;
}

/* ------------------------------------------------------------ reporting */

/* ------------------------------------------------------------ the command */

struct guard_opts {
	struct cli_iface iface;
	struct cli_list mode;    /* MODE, or a list's words */
	bool json;
	struct guard_set set;
	struct glist_req lists;  /* allow|deny ...: user/glistcmd.c */
};

static const struct guard_opts guard_defaults;

/* A guard option besides --ttl and --json given?  Member by member: a
 * memcmp of the structs would compare their padding too, whose bytes C
 * leaves unspecified after a copy or a store to a member. */
static bool settings_given(const struct guard_set *s)
{
	const struct guard_set *d = &guard_defaults.set;

	for (int l = 0; l < TCPF_GL_LISTS; l++)
		if (s->list_given[l] || s->nlist[l] || s->list[l])
			return true;
	return s->mode != d->mode || s->engage != d->engage ||
	       s->ports_given ||
	       memcmp(s->ports, d->ports, sizeof(s->ports)) ||
	       s->rate != d->rate || s->burst != d->burst ||
	       s->global_rate != d->global_rate ||
	       s->auth_min != d->auth_min || s->auth_max != d->auth_max ||
	       s->rotate != d->rotate || s->syn_on != d->syn_on ||
	       s->syn_off != d->syn_off || s->calm != d->calm ||
	       s->ratio != d->ratio;
}

static int opt_port(const char *arg, void *opts, char *why, size_t size)
{
	return guard_ports_parse(arg, &((struct guard_opts *)opts)->set, why,
				 size);
}

#define G(m) offsetof(struct guard_opts, m)
#define GS(m) offsetof(struct guard_opts, set.m)

static int guard_check(void *opts)
{
	struct guard_opts *o = opts;
	char why[128];

	o->lists.list = -1;
	if (o->mode.n >= 1 && glist_of(o->mode.v[0]) >= 0)
		return glist_req_parse(o->mode.v, o->mode.n, o->set.ttl, o->json,
				       settings_given(&o->set), &o->lists);
	if (o->mode.n > 1) {
		if (cli_parse_enum(o->mode.v[0], mode_words, &o->set.mode, why,
				   sizeof(why)))
			pr_warn("guard: unknown list '%s' (allow|deny)",
				o->mode.v[0]);
		else
			pr_warn("guard: unexpected argument '%s' after the "
				"mode", o->mode.v[1]);
		return EXIT_USAGE;
	}
	if (o->set.ttl == 0) {
		pr_warn("--ttl: 0 is out of range 1..%d (0 is for allow|deny "
			"add: for good)", 30 * 86400);
		return EXIT_USAGE;
	}
	if (o->mode.n == 1 &&
	    cli_parse_enum(o->mode.v[0], mode_words, &o->set.mode, why,
			   sizeof(why))) {
		pr_warn("guard: %s", why);
		return EXIT_USAGE;
	}
	if (o->mode.n == 0 && (o->set.ports_given || o->set.rate >= 0 ||
			       o->set.engage >= 0 || o->set.syn_on >= 0)) {
		pr_warn("guard: settings need a MODE (off|monitor|ratelimit|"
			"auth|cookie|auto)");
		return EXIT_USAGE;
	}
	return CLI_RUN;
}

/* Showing the guard or a list reads the pins; anything else writes. */
static const struct priv_need *guard_need(const void *opts)
{
	const struct guard_opts *o = opts;

	if (o->lists.list >= 0)
		return o->lists.op == GLIST_LIST ? &priv_read : &priv_write;
	return o->mode.n ? &priv_write : &priv_read;
}

static int guard_run(void *opts)
{
	struct guard_opts *o = opts;
	struct guard_view *v;
	int err;

	if (o->lists.list >= 0)
		return glist_run(o->iface.name, o->iface.ifindex, &o->lists);
	if (o->mode.n == 1) {
		err = guard_apply(o->iface.name, o->iface.ifindex, &o->set);
		if (err)
			return err == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
		if (o->json)
			o->mode.n = 0;
		else
			pr_info("tcpflags: guard %s on %s", o->mode.v[0],
				o->iface.name);
		if (!o->json)
			return EXIT_OK;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return EXIT_FAIL;
	err = guard_read(o->iface.name, o->iface.ifindex, true, v);
	if (err) {
		free(v);
		return not_attached(o->iface.name, err);
	}
	if (o->json) {
		guard_view_json(o->iface.name, v);
		printf("\n");
	} else {
		guard_view_text(o->iface.name, v);
	}
	free(v);
	return EXIT_OK;
}

/* Setting a mode or changing a list writes (the namespace's lock); showing
 * the guard or a list reads. */
static bool guard_writes(const void *opts)
{
	const struct guard_opts *o = opts;

	if (o->lists.list >= 0)
		return o->lists.op != GLIST_LIST;
	return o->mode.n == 1;
}

static const struct cli_opt guard_args[] = {
	CLI_ARG_ATTACHED(struct guard_opts, iface),
	{ .name = "mode", .kind = CLI_WORDS, .offset = G(mode),
	  .metavar = "[MODE | allow|deny add|del|list|flush [PREFIX]...]",
	  .complete = CLI_COMPLETE_GUARD },
	{ 0 },
};

static const struct cli_opt guard_options[] = {
	{ .name = "port", .short_name = 'p', .kind = CLI_CALL, .call = opt_port,
	  .metavar = "N[,N|N-M]", .flags = CLI_REPEAT,
	  .help = "the ports to protect (replaces the ones set before)" },
	{ .name = "engage", .short_name = 'e', .kind = CLI_ENUM,
	  .offset = GS(engage), .words = engage_words,
	  .help = "auto: the mode a flood engages (cookie)" },
	{ .name = "syn-rate", .kind = CLI_INT, .offset = GS(syn_on),
	  .metavar = "N", .lo = 1, .hi = 1000000000,
	  .help = "auto: SYNs/s that engage it (5000)" },
	{ .name = "calm-rate", .kind = CLI_INT, .offset = GS(syn_off),
	  .metavar = "N", .lo = 0, .hi = 1000000000,
	  .help = "auto: SYNs/s under which it is calm (1000)" },
	{ .name = "ratio", .kind = CLI_SECONDS, .offset = GS(ratio),
	  .metavar = "R", .dlo = 0, .dhi = 1,
	  .help = "auto: handshakes completed per SYN under which, above the "
		  "calm rate, it engages (0.5)" },
	{ .name = "calm", .kind = CLI_INT, .offset = GS(calm),
	  .metavar = "SECONDS", .lo = 1, .hi = 86400,
	  .help = "auto: calm seconds before it disengages (10)" },
	{ .name = "rate", .kind = CLI_INT, .offset = GS(rate), .metavar = "N",
	  .lo = 1, .hi = 1000000000,
	  .help = "ratelimit: SYNs/s per source (100)" },
	{ .name = "burst", .kind = CLI_INT, .offset = GS(burst),
	  .metavar = "N", .lo = 1, .hi = 1000000000,
	  .help = "ratelimit: the burst per source (20)" },
	{ .name = "global-rate", .kind = CLI_INT, .offset = GS(global_rate),
	  .metavar = "N", .lo = 0, .hi = 1000000000,
	  .help = "ratelimit: SYNs/s from all sources (0: none)" },
	{ .name = "auth-min", .kind = CLI_INT, .offset = GS(auth_min),
	  .metavar = "SECONDS", .lo = 1, .hi = 3600,
	  .help = "auth: the earliest a SYN sent again passes (1)" },
	{ .name = "auth-max", .kind = CLI_INT, .offset = GS(auth_max),
	  .metavar = "SECONDS", .lo = 1, .hi = 3600,
	  .help = "auth: the latest (8)" },
	{ .name = "ttl", .kind = CLI_INT, .offset = GS(ttl),
	  .metavar = "SECONDS", .lo = 0, .hi = 30 * 86400,
	  .help = "how long a verified source passes (3600); allow|deny add: "
		  "how long the prefixes stay (0, the default: for good)" },
	{ .name = "rotate", .kind = CLI_INT, .offset = GS(rotate),
	  .metavar = "SECONDS", .lo = 1, .hi = 86400,
	  .help = "cookie: seconds a secret lives (30)" },
	CLI_OPT_JSON(struct guard_opts, json),
	{ 0 },
};

/* check's prefixes, also when the interface stopped the command */
static void guard_cmd_release(void *opts)
{
	glist_req_free(&((struct guard_opts *)opts)->lists);
}

/* guard_set_init()'s values: nothing given */
static const struct guard_opts guard_defaults = {
	.lists = { .list = -1 },
	.set = { .mode = -1, .engage = -1, .rate = -1, .burst = -1,
		 .global_rate = -1, .auth_min = -1, .auth_max = -1, .ttl = -1,
		 .rotate = -1, .syn_on = -1, .syn_off = -1, .calm = -1,
		 .ratio = -1 },
};

const struct cli_command guard_command = {
	.name = "guard", .summary = "the SYN-flood guard: set or show",
	.about = "  With no MODE, show IFACE's guard.  Modes, on the --port ports:\n"
		 "  off; monitor (count what cookie would do); ratelimit (SYNs per\n"
		 "  source); auth (drop a source's first SYN, pass it sent again);\n"
		 "  cookie (answer SYNs with SYN cookies at XDP, hand the valid\n"
		 "  ACKs to the listener); auto (cookie or auth while a flood\n"
		 "  lasts, decided every second in the kernel).\n"
		 "  allow|deny add PREFIX... [--ttl SECONDS], del PREFIX..., list\n"
		 "  [--json], flush: the prefixes (ADDR[/LEN], IPv4 or IPv6) whose\n"
		 "  SYNs to the ports pass unchallenged, or are dropped; deny wins.\n",
	.args = guard_args, .opts = guard_options,
	.size = sizeof(struct guard_opts), .defaults = &guard_defaults,
	.check = guard_check, .need_of = guard_need, .run = guard_run,
	.writes_if = guard_writes, .release = guard_cmd_release,
};
