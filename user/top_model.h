/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * top_model.h - what `tcpflags top` keeps of the interfaces it shows (see
 * top.c): the reads, the totals per raw counter, the rates, the history of
 * the sparklines; and the figures the drawing asks for.  No curses here.
 */
#ifndef TCPF_TOP_MODEL_H
#define TCPF_TOP_MODEL_H

#include <stdbool.h>
#include <time.h>
#include <net/if.h>
#include "snapshot.h"

#define HIST 60                /* refreshes a sparkline covers */
#define IFACES_MAX 16          /* interfaces on screen */
#define NO_RATE (-1.0f)        /* a sparkline cell without a rate */
#define VERIFIED_S 5           /* seconds between counts of verified sources */

enum view { V_OVERVIEW, V_PATTERNS, V_RULES, V_SOURCES, V_HELP, V_MAX };
enum sort { S_RATE, S_TOTAL, S_NAME, S_MAX };
enum att { AT_ATTACHED, AT_DETACHED, AT_GONE };

/*
 * The raw counters of one interface that top keeps totals of, as one run
 * of __u64 (struct tcpf_count is two): the flag patterns and the other
 * counters of tcpf_stats, the phases, rule hits and drops, the guard's.
 */
struct raw {
	struct tcpf_snapshot count;
	__u64 phase[TCPF_DIRS][TCPF_PH_MAX];
	struct tcpf_count hits[TCPF_RULES_MAX + 1];
	struct tcpf_count drops[TCPF_DROP_MAX];
	__u64 guard[TCPF_GC_MAX];  /* 0 without a guard slot */
};

/* Per raw counter: what it read last, what it gained over the last
 * interval, 1 if it went down then (a reset), and its total on screen. */
struct counts {
	struct raw last, delta, down, total;
};

struct iface {
	char name[IF_NAMESIZE];
	/* cur: the last good read; prev: the one before (its SYN sources
	 * sorted by address); base: the SYN sources at `r`, sorted; spare:
	 * where the next read goes, so a failed one leaves cur alone */
	struct iface_snapshot *cur, *prev, *base, *spare;
	struct counts *c;
	bool have_cur, have_prev;  /* have_prev: rates over elapsed */
	bool rebased;              /* totals count from `r`, not the attach */
	enum att state;
	const char *why;           /* what NOT ATTACHED or GONE means here */
	double elapsed;            /* seconds from prev to cur */
	int uncounted;             /* reads since the guard's verified count */
	__u64 read_rt;             /* CLOCK_REALTIME seconds of cur */
};

struct top {
	struct iface ifs[IFACES_MAX];
	int nifs;
	bool scan;                 /* no IFACE named: every pinned one */
	int unshown;               /* attached interfaces left out: no room */
	bool unshown_more;         /* ... and maybe more than that */
	double interval;
	enum view view, back;      /* back: the view help returns to */
	enum sort sort;
	int scroll[V_MAX];
	bool paused, utf8, colour;
	time_t base_rt;            /* when r was pressed; 0: never */
	bool seen[TCPF_FAMILIES][TCPF_PATTERNS]; /* has had a row */
	float hist[TCPF_FAMILIES][TCPF_PATTERNS][HIST]; /* packets/s, a ring */
	int hist_head, hist_n;
};

enum total { T_FRAMES, T_BYTES, T_TCP, T_IPV4, T_IPV6, T_NON_TCP,
	     T_FRAGMENTS, T_MALFORMED };

typedef __u64 (*getter)(const struct raw *r, int arg);

/* A counter on screen: its rate and its total since the baseline. */
struct figure {
	double rate;               /* per second, when rated */
	__u64 total;
	bool rated;                /* a rate over a real interval */
};

/* An interface by name: read once, or attached later (state). */
int iface_open(struct iface *f, const char *name);
void iface_close(struct iface *f);
/* Its slot in t, or -1. */
int find_iface(const struct top *t, const char *name);
/* With no IFACE named: the attached interfaces, looked up again. */
int top_scan(struct top *t);
/* Read every interface: totals, rates, the sparklines' history. */
void top_refresh(struct top *t);
/* `r`: totals count from now on (the kernel's counters stay). */
void top_rebase(struct top *t);

struct figure figure(const struct top *t, int only, getter get, int arg);
__u64 g_pattern(const struct raw *r, int key);
__u64 g_totals(const struct raw *r, int which);
__u64 g_phase(const struct raw *r, int phase);
__u64 g_drop(const struct raw *r, int reason);
__u64 g_dropped(const struct raw *r, int unused);
__u64 g_hits(const struct raw *r, int id);
__u64 g_hit_bytes(const struct raw *r, int id);
__u64 g_guard(const struct raw *r, int counter);
/* f's guard as last read when it is not off (its panel), else NULL. */
const struct guard_view *guard_on(const struct iface *f);
/* The namespace's connection gauges, from the first interface read. */
const struct tcpf_ctl *ns_ctl(const struct top *t);
/* A SYN source of s by address, or NULL. */
struct src_count *src_find(const struct iface_snapshot *s,
			   const struct src_count *c);

#endif
