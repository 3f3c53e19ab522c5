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
/* Zero every counter on every CPU. */
int counters_reset(int stats_fd);
void counters_totals(const struct tcpf_snapshot *snap, struct tcpf_totals *t);

/* Name of a counter ("non_tcp", "ip4_truncated", ...). */
const char *counter_name(enum tcpf_counter c);

/* "SYN|ACK", "NULL", ...: the set flags from the low bit up. */
const char *flags_name(__u8 flags, char *buf, size_t size);

#endif
