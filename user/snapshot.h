/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * snapshot.h - everything tcpflags counts on one interface, read at one
 * moment from the pinned maps: what `top` draws and the exporter serves.
 * Reading never writes a map: it cannot disturb the data path.
 */
#ifndef TCPF_SNAPSHOT_H
#define TCPF_SNAPSHOT_H

#include <stdbool.h>
#include "counters.h"
#include "rules.h"

/* SYN sources kept in a snapshot: every slot of one CPU's table. */
#define TCPF_SRC_TOP TCPF_SRC_SLOTS

struct iface_snapshot {
	char ifname[16];
	struct tcpf_meta meta;                /* mode, prog, attach times */
	struct tcpf_snapshot count;           /* flag patterns and the rest */
	bool flows;                           /* tracking on (not --no-flows) */
	struct tcpf_flowstats fs;             /* phases, connections, gauges */
	struct ruleset rules;                 /* the saved rule set (text) */
	struct tcpf_count hits[TCPF_RULES_MAX + 1]; /* by rule id */
	struct tcpf_count drops[TCPF_DROP_MAX];
	int nsrcs;                            /* SYN sources, most SYNs first */
	struct src_count srcs[TCPF_SRC_TOP];
	__u64 taken_ns;                       /* CLOCK_MONOTONIC of the read */
};

/*
 * Read ifname into s, which starts zeroed (calloc) and may be read into
 * again: its rules are released first; snapshot_free releases them.
 * -ENOENT when the interface is not attached, -EACCES without privilege,
 * else -errno.  Prints nothing: callers word the error for their output.
 */
int snapshot_read(const char *ifname, struct iface_snapshot *s);
void snapshot_free(struct iface_snapshot *s);

#endif
