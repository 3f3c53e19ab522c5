/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guardstate.h - an interface's guard as its maps hold it (the slot, the
 * settings, the timer's state, the counters), read at one moment for
 * `guard`, `stats`, `top` and the exporter, and shown.
 */
#ifndef TCPF_GUARDSTATE_H
#define TCPF_GUARDSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcpflags.h"

struct prefix;

/* A setting as given: what is not given (-1, or ports_given false) keeps
 * the interface's current value. */
struct guard_set {
	int mode, engage;                  /* enum tcpf_guard_mode */
	bool ports_given;
	__u64 ports[TCPF_GUARD_PORT_WORDS];
	long long rate, burst, global_rate;   /* ratelimit */
	long long auth_min, auth_max, ttl, rotate;
	long long syn_on, syn_off, calm;
	double ratio;
	/* a rules file's `allow LIST`, `deny LIST` (user/rules.c, where its
	 * sets are): the whole list, for good */
	bool list_given[TCPF_GL_LISTS];
	int nlist[TCPF_GL_LISTS];
	struct prefix *list[TCPF_GL_LISTS];
};

void guard_set_init(struct guard_set *g);
/* "80,443,8000-8100" into g's ports (added to those given before). */
int guard_ports_parse(const char *s, struct guard_set *g, char *why,
		      size_t size);

/* The words of a rules file's guard line after "guard": MODE, then
 * settings as `port LIST`, `rate N`, ... (the options without "--"). */
int guard_words_parse(char **w, int n, struct guard_set *g, char *why,
		      size_t size);
/* Setting i of those words (from 0 on) and its value's name; NULL past
 * the last (for `tcpflags completion` and the man page's test). */
const char *guard_setting(int i, const char **metavar);

extern const char *const guard_mode_names[TCPF_GM_MAX];
extern const char *const guard_counter_names[TCPF_GC_MAX];

/* What one guard is and has done. */
struct guard_view {
	struct tcpf_gconf gc;
	struct tcpf_gstate gs;
	__u64 c[TCPF_GC_MAX];    /* summed over the CPUs */
	__u32 now;               /* CLOCK_MONOTONIC seconds (tcpf_ctl.now) */
	long long rt_ns;         /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	int verified;            /* sources verified now, -1: not counted */
	int listed[TCPF_GL_LISTS]; /* live prefixes in allow, deny (-1: none
				    * read: a tcpflags without the lists) */
	bool engaged;            /* cookie or auth in force now */
	char ports[256];         /* "80,443,8000-8100" */
};

/* The guard's rate limit as a rule's action: rate SYNs/s (0 or less:
 * none, all zero), burst, per (enum tcpf_rl_per), id its buckets'.  The
 * salt comes from the limit, as a rule's from its text: a changed limit
 * starts with full buckets, the same one set again keeps them. */
void guard_rl_act(struct tcpf_rule_act *a, long long rate, long long burst,
		  int per, __u16 id);

/* ifindex's slot in the gconf map behind fd; alloc: else a free one. */
int guard_slot_of(int fd, unsigned int ifindex, bool alloc, __u32 *slot);
__u32 guard_mono_now(void);
/*
 * The second the data path judges expiries by (tcpf_ctl.now, the reaper's
 * coarse clock, up to a tick behind guard_mono_now()): what a list shows
 * or counts as live is what the data path still applies (on the mono
 * clock, a deny entry was no longer listed for up to a second in which it
 * still dropped).  guard_mono_now() when the map cannot be read.
 */
__u32 guard_clock_now(const char *ifname);
/* The counters of a slot, summed over the CPUs, into out[TCPF_GC_MAX]. */
int guard_stats_read(const char *ifname, __u32 slot, __u64 *out);
/* -ENOENT when ifname has no guard slot (not attached); the verified
 * sources are counted when asked (-1 otherwise). */
int guard_read(const char *ifname, unsigned int ifindex, bool verified,
	       struct guard_view *v);
/* A CLOCK_MONOTONIC second of v as wall-clock (time_t) seconds, by the
 * clocks at v's read; 0 stays 0 (never). */
long long guard_wall(const struct guard_view *v, __u32 t);
/* The CLOCK_MONOTONIC second the guard came in force: auto's last engage,
 * cookie's or auth's setting; 0 when it is not engaged. */
__u32 guard_engaged_at(const struct guard_view *v);
void guard_view_json(const char *ifname, const struct guard_view *v);
void guard_view_text(const char *ifname, const struct guard_view *v);

#endif
