/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * glists.bpf.h - the guard's allow and deny lists (include/tcpflags.h,
 * tcpf_glists): prefixes, each with an expiry, per interface slot.  A SYN
 * to a protected port (in cookie mode also an ACK no connection knows)
 * from a denied source is dropped, from an allowed one passed to the
 * kernel unchallenged; deny wins.  Monitor drops nothing: it counts
 * would_drop.  With both lists empty this costs one read of a field of
 * tcpf_gconf's first line, which the guard has just read.
 */
#ifndef TCPF_GLISTS_BPF_H
#define TCPF_GLISTS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tcpflags.h"
#include "parse.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, TCPF_GLIST_MAX);
	__type(key, struct tcpf_glist_key);
	__type(value, struct tcpf_glist);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_glists SEC(".maps");

/* The source's longest listed prefix decides: deny, allow, else TCPF_NEXT. */
static __always_inline int glist_match(__u8 mode,
				       const struct tcpf_segment *in,
				       __u32 now)
{
	struct tcpf_glist_key k = {
		.plen = TCPF_GLIST_PLEN(in->family == TCPF_IPV4 ? 32 : 128),
		.slot = (__u8)tcpf_guard_slot,
		.family = in->family,
	};
	const struct tcpf_glist *v;

	__builtin_memcpy(k.addr, in->saddr, sizeof(k.addr));
	v = bpf_map_lookup_elem(&tcpf_glists, &k);
	if (!v)
		return TCPF_NEXT;
	if (tcpf_glist_live(v, TCPF_GL_DENY, now)) {
		if (mode == TCPF_GM_MONITOR) {
			guard_count(TCPF_GC_WOULD_DROP);
			return TCPF_NEXT;
		}
		guard_count(TCPF_GC_DENY);
		policy_count(&tcpf_drops, TCPF_DROP_GUARD_DENY, in->bytes);
		return TCPF_ACT_DROP;
	}
	if (!tcpf_glist_live(v, TCPF_GL_ALLOW, now))
		return TCPF_NEXT;
	/* not an ACK: the late ACKs of closed connections pass here too */
	if (in->flags & TCPF_SYN)
		guard_count(TCPF_GC_ALLOW);
	return TCPF_ACT_PASS;
}

/* TCPF_NEXT when the lists leave the segment to the guard, else its
 * verdict (TCPF_ACT_PASS or TCPF_ACT_DROP), counted.  No list: one read
 * of tcpf_gconf, beside its mode. */
static __always_inline int glist_judge(const struct tcpf_gconf *gc,
				       __u8 mode,
				       const struct tcpf_segment *in,
				       __u32 now)
{
	return gc->listed ? glist_match(mode, in, now) : TCPF_NEXT;
}

#endif /* TCPF_GLISTS_BPF_H */
