/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * harness.h - the BPF unit suites' one harness: a loaded private copy of
 * the program with its maps (the context every step runs in), the one
 * BPF_PROG_TEST_RUN wrapper, counter snapshots compared exactly, and the
 * PASS/FAIL lines.  A step is a frame, a direction (XDP ingress or TC
 * egress), the verdict it must get and the counters it must move; every
 * other counter of the classes the suite watches must stay still.
 * Suites write their scenarios as tables of steps (test_flow.c and
 * test_policy.c as text, one step a line, read by tests/lines.h, whose
 * words the helpers below read; test_bpf.c as structs) and hand each
 * step to hx_frame().
 */
#ifndef TCPF_HARNESS_H
#define TCPF_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcpflags.h"
#include "tcpflags.skel.h"
#include "lines.h"

#define HX_IN TCPF_DIR_INGRESS
#define HX_EG TCPF_DIR_EGRESS

/* How to load: tracking on or off, and the flow tables' sizes (0: as built). */
struct hx_opts {
	bool flows;
	__u32 buckets;           /* tcpf_flows, a power of two */
	__u32 slots;             /* tcpf_syns, a power of two */
};

/* The context: one loaded program and its maps. */
struct hx {
	const char *tag;         /* check names are TAG_NAME ("" or NULL: NAME) */
	struct tcpflags_bpf *skel;
	int ncpus;
	int prog[TCPF_DIRS];     /* tcpf_xdp, tcpf_egress */
	int arm;                 /* tcpf_reaper_arm */
	int stats, phases, conns, hits, drops;
	int flows, syns, ctl, rl, srcs, policy, sets;
};

/* The counter classes a step can move. */
enum hx_class {
	HX_STATS,                /* tcpf_stats: flag patterns and counters */
	HX_PHASES,               /* tcpf_phases (packets only) */
	HX_HITS,                 /* tcpf_rhits */
	HX_DROPS,                /* tcpf_drops */
	HX_CLASSES,
};
#define HX_WATCH(c) (1u << (c))
#define HX_ENTRIES TCPF_STATS_ENTRIES    /* the largest class */
_Static_assert(TCPF_STATS_ENTRIES >= TCPF_RULES_MAX + 1 &&
	       TCPF_STATS_ENTRIES >= TCPF_PHASE_ENTRIES, "HX_ENTRIES");

struct hx_counts {
	struct tcpf_count c[HX_CLASSES][HX_ENTRIES];
};

/* One expected move: key of class by packets frames (and, where the
 * class counts bytes, by the frames' length each). */
struct hx_move {
	int cls;
	__u32 key;
	__u64 packets;
};
#define HX_MOVES 3

/* What one frame must do. */
struct hx_want {
	int dir;
	int drop;                /* the verdict: 1 drop (XDP_DROP, TC_ACT_SHOT) */
	unsigned int watch;      /* HX_WATCH() of the classes compared */
	int nmoves;
	struct hx_move move[HX_MOVES];
};

/* Load a private copy (nothing pinned); 0, or a FAIL line and -1. */
int hx_open(struct hx *h, const char *tag, const struct hx_opts *o);
void hx_close(struct hx *h);

/* The verdict dir's program gives for pass (drop 0) or drop. */
__u32 hx_verdict(int dir, int drop);
/* The one BPF_PROG_TEST_RUN, of any program: 0 with *retval, or -errno. */
int hx_run_fd(int prog_fd, const __u8 *buf, __u32 len, __u32 *retval);
/* The same with dir's program (tcpf_xdp or tcpf_egress). */
int hx_run(const struct hx *h, int dir, const __u8 *buf, __u32 len,
	   __u32 *retval);
/* Run a frame; 0 when it got the pass verdict, else why. */
int hx_run_pass(const struct hx *h, int dir, const __u8 *buf, __u32 len,
		char *why, size_t n);

/* Every watched class summed over the CPUs (exits on a read error). */
void hx_snap(const struct hx *h, unsigned int watch, struct hx_counts *c);
/* after - before == want (deltas) in every watched class; else 1 and why. */
int hx_moved(const struct hx_counts *before, const struct hx_counts *after,
	     const struct hx_counts *want, unsigned int watch, char *why,
	     size_t n);
/* want's moves as deltas for frames of len bytes. */
void hx_want_counts(const struct hx_want *w, __u32 len, struct hx_counts *c);
/* A counter's name in failure lines: "v4 SYN", "ingress handshake_syn". */
void hx_key_name(int cls, __u32 key, char *buf, size_t n);

/* One frame against want: 0 when it held, else why (verdict, counters). */
int hx_frame(const struct hx *h, const struct hx_want *want,
	     const __u8 *buf, __u32 len, char *why, size_t n);

/* "PASS TAG_NAME" or "FAIL TAG_NAME: why"; hx_done prints the tally. */
void hx_check(const struct hx *h, int ok, const char *name,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int hx_failed(void);
int hx_done(const char *suite);

/* Flag letters F S R P A U E C (FIN..CWR), "-" for none; -1 if bad. */
int hx_flags(const char *s);
/* Index i in [0, max) whose name(i) is s, or -1. */
int hx_lookup(const char *s, const char *(*name)(__u32), int max);

#endif
