/* SPDX-License-Identifier: GPL-2.0-only */
/* count.bpf.h - the counters: one per-CPU array, one lookup per frame. */
#ifndef TCPF_COUNT_BPF_H
#define TCPF_COUNT_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tcpflags.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCPF_STATS_ENTRIES);
	__type(key, __u32);
	__type(value, struct tcpf_count);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_stats SEC(".maps");

/* Written by userspace only; pinned beside the counters for `status`. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcpf_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_meta SEC(".maps");

static __always_inline void tcpf_count(__u32 key, __u64 bytes)
{
	struct tcpf_count *cnt = bpf_map_lookup_elem(&tcpf_stats, &key);

	if (cnt) {
		cnt->packets++;
		cnt->bytes += bytes;
	}
}

#endif /* TCPF_COUNT_BPF_H */
