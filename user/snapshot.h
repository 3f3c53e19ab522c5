/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * snapshot.h - everything tcpflags counts on one interface, read at one
 * moment from the pinned maps: what `stats`, `top` and the exporter show.
 * Every map is opened read-only: a reader cannot disturb the data path.
 */
#ifndef TCPF_SNAPSHOT_H
#define TCPF_SNAPSHOT_H

#include <stdbool.h>
#include "counters.h"
#include "guardstate.h"
#include "rules.h"

/* What snapshot_read reads besides the counters. */
#define SNAP_SRCS 1u             /* the SYN sources (the largest read) */
#define SNAP_VERIFIED 2u         /* the guard's verified sources (a 1.5 MB read) */

struct iface_snapshot {
	char ifname[16];
	struct tcpf_meta meta;                /* mode, prog, attach times */
	bool attached;                        /* the pins' program runs now */
	__u32 mode;                           /* its attach mode, if so */
	struct tcpf_snapshot count;           /* flag patterns and the rest */
	bool flows;                           /* tracking on (not --no-flows) */
	struct tcpf_flowstats fs;             /* phases, connections, gauges */
	struct ruleset rules;                 /* the saved rule set (text) */
	char rules_error[256];                /* why it does not parse, or "" */
	struct tcpf_count hits[TCPF_RULES_MAX + 1]; /* by rule id */
	struct tcpf_count drops[TCPF_DROP_MAX];
	int nsrcs;                            /* SYN sources, most SYNs first: */
	struct src_count *srcs;               /* every CPU's slots, merged */
	int srcs_cap;
	bool guarded;                         /* guard read (a slot is ours) */
	struct guard_view guard;              /* the SYN-flood guard */
	__u64 taken_ns;                       /* CLOCK_MONOTONIC of the read */
};

/*
 * Read ifname into s, which starts zeroed (calloc) and may be read into
 * again; `what` is SNAP_* bits.  -ENOENT when the interface has no pins,
 * -EACCES without privilege, else -errno.  Prints nothing: callers word
 * errors for their output (a saved rule set that does not parse reads as
 * none, with the reason in rules_error).  snapshot_free releases s's
 * allocations, not s.
 */
int snapshot_read(const char *ifname, struct iface_snapshot *s,
		  unsigned int what);
void snapshot_free(struct iface_snapshot *s);

/* dst = src's numbers (SYN sources copied, rules not: dst's are empty);
 * src NULL: all zero.  -ENOMEM when the sources do not fit (dst has none). */
int snapshot_copy(struct iface_snapshot *dst, const struct iface_snapshot *src);

#endif
