/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srcs.bpf.h - SYN sources: who opens connections to this host
 * (struct tcpf_src, include/tcpflags.h), for `top` and the exporter.
 */
#ifndef TCPF_SRCS_BPF_H
#define TCPF_SRCS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tcpflags.h"
#include "parse.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCPF_SRC_SLOTS);
	__type(key, __u32);
	__type(value, struct tcpf_src);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_srcs SEC(".maps");

/*
 * A connection request arriving - SYN without ACK, RST or FIN, as the
 * tracker opens a handshake on (ECN and other bits allowed): count it on
 * its source's slot.  SYN|FIN and other scans are the flag counters' job.
 */
static __always_inline void src_count(const struct tcpf_segment *in)
{
	struct tcpf_src *s;
	__u32 slot;

	if (in->dir != TCPF_DIR_INGRESS ||
	    (in->flags & (TCPF_SYN | TCPF_ACK | TCPF_RST | TCPF_FIN)) !=
	    TCPF_SYN)
		return;
	slot = tcpf_src_slot(in->saddr);
	s = bpf_map_lookup_elem(&tcpf_srcs, &slot);
	if (!s)
		return;
	if (s->used && s->family == in->family &&
	    s->addr[0] == in->saddr[0] && s->addr[1] == in->saddr[1] &&
	    s->addr[2] == in->saddr[2] && s->addr[3] == in->saddr[3]) {
		s->syns++;
		if (s->score < TCPF_SRC_SCORE_MAX)
			s->score++;
		return;
	}
	if (s->score) {
		s->score--;
		return;
	}
	__builtin_memcpy(s->addr, in->saddr, sizeof(s->addr));
	s->family = in->family;
	s->used = 1;
	s->syns = 1;
	s->score = 1;
}

#endif /* TCPF_SRCS_BPF_H */
