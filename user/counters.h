/* SPDX-License-Identifier: GPL-2.0-only */
/* counters.h - reading the per-CPU counters into one summed snapshot. */
#ifndef TCPF_COUNTERS_H
#define TCPF_COUNTERS_H

#include <stddef.h>
#include <linux/types.h>
#include "tcpflags.h"

struct tcpf_snapshot {
	struct tcpf_count flags[TCPF_FAMILIES][TCPF_PATTERNS];
	struct tcpf_count cnt[TCPF_CNT_MAX];
};

/* Totals the JSON "packets" object reports. */
struct tcpf_totals {
	__u64 total, tcp, ipv4_tcp, ipv6_tcp, non_tcp, tcp_fragment, malformed;
};

/* Sum every CPU's counters of a tcpf_stats map. */
int counters_read(int stats_fd, struct tcpf_snapshot *snap);
void counters_totals(const struct tcpf_snapshot *snap, struct tcpf_totals *t);

/* Phases, connection events and state gauges of one interface. */
struct tcpf_flowstats {
	__u64 phase[TCPF_DIRS][TCPF_PH_MAX];
	__u64 conn[TCPF_CONN_MAX];
	struct tcpf_ctl ctl;     /* the clock, timeouts and gauges */
};

/* Read an attached interface's phases and its namespace's flow counters. */
int flowstats_read(const char *ifname, struct tcpf_flowstats *fs);
/* Sum a per-CPU array of __u64 counters into out[n]. */
int percpu_u64_read(int fd, __u64 *out, __u32 n);
/* Sum a per-CPU array of struct tcpf_count into out[n]. */
int percpu_count_read(int fd, struct tcpf_count *out, __u32 n);

/* A source of SYNs (tcpf_srcs), its slots merged over the CPUs. */
struct src_count {
	__u8 family;             /* enum tcpf_family */
	__u8 addr[16];           /* IPv4 in the first 4 bytes */
	__u64 syns;              /* since it took its slot(s) */
};

/* The sources of a tcpf_srcs map, most SYNs first: at most max of them.
 * Returns how many, or -errno. */
int srcs_read(int fd, struct src_count *out, int max);
/* Order of struct src_count by family, then address (for qsort). */
int src_cmp(const void *a, const void *b);
/* "198.18.0.1", "2001:db8::1". */
const char *src_name(const struct src_count *s, char *buf, size_t size);

const char *state_name(__u32 state);
const char *phase_name(__u32 phase);
const char *conn_name(__u32 counter);
/* The state whose name is s, or -1. */
int state_parse(const char *s);

/* Name of a counter ("non_tcp", "ip4_truncated", ...). */
const char *counter_name(enum tcpf_counter c);

/* "FIN", "SYN", ... "CWR": the name of flag bit 0..7. */
const char *flag_name(int bit);

/* "SYN|ACK", "NULL", ...: the set flags from the low bit up. */
const char *flags_name(__u8 flags, char *buf, size_t size);

#endif
