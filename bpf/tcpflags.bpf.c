// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcpflags.bpf.c - the XDP classifier: parse -> classify -> decide -> count,
 * and its TC egress observer, which feeds the same flow table so a host
 * sees both directions of its connections.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include "tcpflags.h"
#include "parse.bpf.h"
#include "count.bpf.h"
#include "flow.bpf.h"
#include "reaper.bpf.h"
#include "policy.bpf.h"
#include "srcs.bpf.h"
#include "guard.bpf.h"
#include "migrate.bpf.h"

/* Set by the loader: false for `attach --no-flows` (counting only). */
const volatile bool tcpf_flows_on = true;

/* The stats key of a frame: its flag pattern if TCP, else what it was. */
static __always_inline __u32 tcpf_classify(int parsed,
					   const struct tcpf_packet *p)
{
	if (parsed == TCPF_NEXT)
		return TCPF_KEY_FLAGS(p->family, p->flags);
	return TCPF_KEY_CNT(parsed);
}

/* Send the guard's reply; its phases are the SYN's and the reply's. */
static __always_inline int guard_answer(struct xdp_md *ctx,
					struct tcpf_guard_ctx *gx,
					const struct tcpf_segment *seg)
{
	int act = guard_reply(ctx, gx, seg);

	if (tcpf_flows_on) {
		phase_count(TCPF_DIR_INGRESS, TCPF_PH_SYN, 1);
		if (act == XDP_TX)
			phase_count(TCPF_DIR_EGRESS,
				    gx->reply == TCPF_GR_SYNACK ? TCPF_PH_SYNACK
								: TCPF_PH_RESET,
				    1);
	}
	return act;
}

/*
 * The guard's work on a SYN and on an ACK to a protected port, as two
 * global functions: the verifier walks each once, not once per way the
 * parse and the rules can end (inlined, they took tcpf_xdp to ~840k of its
 * million instructions).  A call costs ~9 ns here, paid only by segments
 * to the protected ports.  gx is made afresh from the maps: a global
 * function takes scalars and pointers to plain memory.
 */
static __always_inline int guard_begin(struct tcpf_guard_ctx *gx,
					struct xdp_md *ctx, __u32 tcp_off,
					__u32 tcp_len, __u32 plain)
{
	if (!guard_lookup(&gx->gc, &gx->gs))
		return 0;
	gx->ctx = ctx;
	gx->mode = guard_mode(gx->gc, gx->gs);
	gx->tcp_off = tcp_off;
	gx->tcp_len = tcp_len;
	gx->plain = (__u8)plain;
	return 1;
}

/* TCPF_ACT_PASS or _DROP, or TCPF_GUARD_TX: the reply is in the frame. */
__noinline int tcpf_guard_syn(struct xdp_md *ctx, struct tcpf_segment *seg,
			      __u32 tcp_off, __u32 tcp_len, __u32 plain)
{
	struct tcpf_guard_ctx gx = {};
	int v;

	if (!ctx || !seg || !guard_begin(&gx, ctx, tcp_off, tcp_len, plain))
		return TCPF_ACT_PASS;
	v = guard_syn(&gx, seg, guard_now());
	/* what the guard keeps from tcpf_segment() still shows its source */
	if (v != TCPF_ACT_PASS)
		src_count(seg);
	if (v != TCPF_GUARD_TX)
		return v;
	return guard_answer(ctx, &gx, seg) == XDP_TX ? TCPF_GUARD_TX
						     : TCPF_ACT_PASS;
}

/* After the tracker: TCPF_ACT_PASS (a valid cookie adopted) or _DROP. */
__noinline int tcpf_guard_ack(struct xdp_md *ctx, struct tcpf_segment *seg,
			      __u32 tcp_off, __u32 tcp_len)
{
	struct tcpf_guard_ctx gx = {};

	if (!ctx || !seg || !guard_begin(&gx, ctx, tcp_off, tcp_len, 0))
		return TCPF_ACT_PASS;
	if (guard_ack(&gx, seg, guard_now()) == TCPF_ACT_DROP)
		return TCPF_ACT_DROP;
	if (gx.adopt && tcpf_flows_on) {
		/* tcpf_segment() counted it out of state: it is the ACK */
		phase_add(TCPF_DIR_INGRESS, TCPF_PH_OUT_OF_STATE, -1ULL);
		flow_adopt(seg);
		phase_add(TCPF_DIR_INGRESS, TCPF_PH_ACK, 1);
	}
	return TCPF_ACT_PASS;
}

/*
 * A TCP segment: the rules that need no tracking decide first, so a
 * dropped flood costs no flow-table access (its connection never saw the
 * segment); then the tracker follows its connection and gives it a phase,
 * and the rules that needed it decide.
 *
 * All of it is inlined into both programs: a BPF-to-BPF call costs ~9 ns
 * here (each return goes through the SRSO return thunk).  The verifier
 * walks it once per way the parse can end; what keeps that well under its
 * million instructions (~170k) is mostly that the first matching rule is
 * found without a branch (tcpf_ctz_table()): with one, the verifier walked
 * the actions once per possible rule.  The count is sensitive to small
 * changes (one rule-hit counter layout tried took it to ~660k): check it
 * when changing this path (every test loads the program).  With the
 * guard's two global functions (verified once each) tcpf_xdp takes ~314k.
 */
static __always_inline int tcpf_segment(struct tcpf_segment *seg)
{
	const struct tcpf_ruleset *rs = NULL;
	/* zeroed: clang may spill a word the rules never set (when no rule
	 * set is live), and the verifier refuses to read it ("!read_ok") */
	struct tcpf_bitmap cand = {};
	__u32 first = 0;
	int verdict;

	/* seg stays in memory: split into registers, its address bytes
	 * cost more to put back together than to reload */
	asm volatile("" : : "r"(seg) : "memory");
	/* before any rule: a source a rule drops is a source to show */
	src_count(seg);
	verdict = tcpf_policy_early(seg, &rs, &cand, &first);
	if (verdict == TCPF_ACT_DROP ||
	    (!tcpf_flows_on && verdict != TCPF_DECIDE_LATER))
		return verdict;
	if (tcpf_flows_on)
		tcpf_track(seg);
	else
		seg->phase = TCPF_PH_UNTRACKED;
	if (verdict == TCPF_DECIDE_LATER)
		verdict = tcpf_policy_late(seg, rs, &cand, first);
	if (tcpf_flows_on)
		phase_count(seg->dir, seg->phase, seg->segs);
	return verdict;
}

/* The guard's context for a frame: its config, state and TCP header. */
static __always_inline void guard_start(struct tcpf_guard_ctx *gx, void *ctx,
					void *data,
					const struct tcpf_packet *pkt,
					const struct tcpf_cursor *c)
{
	const struct tcpf_gconf *gc;
	struct tcpf_gstate *gs;

	/*
	 * Verifier workaround (clang 14, 16 and 19 at -mcpu=v3; Linux 6.18):
	 * data is only subtracted from, so with 32-bit ALU clang keeps its
	 * low half and spills it across guard_lookup() with a 4-byte store,
	 * which the verifier refuses for a packet pointer ("invalid size of
	 * register spill").  Hidden from the optimiser, the pointer stays
	 * whole.
	 */
	asm volatile("" : "+r"(data));
	if (!guard_lookup(&gc, &gs))
		return;
	gx->mode = guard_mode(gc, gs);
	gx->ctx = ctx;
	gx->gc = gc;
	gx->gs = gs;
	gx->tcp_off = (__u32)((void *)pkt->tcp - data);
	gx->tcp_len = (pkt->tcp[12] >> 4) * 4;
	gx->plain = pkt->family == TCPF_IPV4 ?
		    gx->tcp_off - (__u32)(pkt->l3 - data) == 20 :
		    gx->tcp_off - (__u32)(pkt->l3 - data) == 40;
	(void)c;
}

SEC("xdp")
int tcpf_xdp(struct xdp_md *ctx)
{
	struct tcpf_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
		.len = ctx->data_end - ctx->data,
	};
	struct tcpf_packet pkt = {};
	int parsed = tcpf_parse(&c, &pkt);
	__u32 key = tcpf_classify(parsed, &pkt);
	int verdict = TCPF_ACT_PASS;
	__u8 policy = parsed == TCPF_NEXT ? policy_on() : 0;
	struct tcpf_guard_ctx gx = {};
	struct tcpf_segment seg = {};

	int guarded = 0;

	if (parsed == TCPF_NEXT)
		guard_start(&gx, ctx, (void *)(long)ctx->data, &pkt, &c);
	if (parsed == TCPF_NEXT && (tcpf_flows_on || policy || gx.gc)) {
		segment_fill(&pkt, c.len, TCPF_DIR_INGRESS, &seg);
		seg.policy = policy;
		guarded = gx.gc && guard_port(gx.gc, seg.dport);
		/* a SYN to a protected port: the guard's, before the rules */
		if (guarded && (seg.flags & (TCPF_SYN | TCPF_ACK | TCPF_RST |
					     TCPF_FIN)) == TCPF_SYN)
			verdict = tcpf_guard_syn(ctx, &seg, gx.tcp_off,
						 gx.tcp_len, gx.plain);
		if (verdict == TCPF_ACT_PASS)
			verdict = tcpf_segment(&seg);
		/* an ACK, once the tracker knows whether it is a connection's */
		if (guarded && verdict != TCPF_ACT_DROP &&
		    verdict != TCPF_GUARD_TX &&
		    (seg.flags & (TCPF_ACK | TCPF_SYN | TCPF_RST)) == TCPF_ACK)
			verdict = tcpf_guard_ack(ctx, &seg, gx.tcp_off,
						 gx.tcp_len) == TCPF_ACT_DROP ?
				  TCPF_ACT_DROP : verdict;
	}
	tcpf_count(key, c.len);
	if (verdict == TCPF_GUARD_TX)
		return XDP_TX;
	return verdict == TCPF_ACT_DROP ? XDP_DROP : XDP_PASS;
}

/*
 * The egress observer's parse of a frame tcpf_parse_plain() leaves to the
 * whole parser: TCPF_NEXT with seg filled, else the counter that ended it.
 * A global function, verified once: see tcpf_egress().
 */
__noinline int tcpf_egress_parse(struct __sk_buff *skb,
				 struct tcpf_segment *seg)
{
	struct tcpf_cursor c;
	struct tcpf_packet pkt = {};
	int parsed;

	if (!skb || !seg)
		return TCPF_CNT_NON_TCP;
	c = (struct tcpf_cursor){
		.pos = (void *)(long)skb->data,
		.end = (void *)(long)skb->data_end,
		.len = skb->len,
	};
	parsed = tcpf_parse(&c, &pkt);
	if (parsed == TCPF_NEXT)
		segment_fill(&pkt, skb->len, TCPF_DIR_EGRESS, seg);
	return parsed;
}

/*
 * What this host sends: the other half of its connections, and egress
 * rules.  Lengths are the skb's: what the stack sends keeps its payload
 * in page fragments, past data_end.
 *
 * Verifier workaround (clang 14 and 19 at -mcpu=v3; Linux 6.18): the
 * parse of a frame with VLAN tags or IPv6 extension headers is a global
 * function, verified once, so none of its ~50 packet pointers outlives
 * it.  Inlined, the parse's cursor was spilled to a stack slot that clang
 * later gave to a 32-bit value; the verifier ends a slot's life only at
 * an 8-byte write, so it kept the stale cursor and told states apart by
 * it: the rules and the tracker were walked once per parse, 585k
 * instructions.  The frames a host sends take the inline plain parse
 * (two ways through), and pay no call.
 */
SEC("tc")
int tcpf_egress(struct __sk_buff *skb)
{
	struct tcpf_cursor c;
	struct tcpf_packet pkt = {};
	struct tcpf_segment seg = {};
	__u8 policy = policy_on();
	int parsed;

	if (!(tcpf_flows_on || policy))
		return TC_ACT_OK;
	c = (struct tcpf_cursor){
		.pos = (void *)(long)skb->data,
		.end = (void *)(long)skb->data_end,
		.len = skb->len,
	};
	parsed = tcpf_parse_plain(&c, &pkt);
	if (parsed == TCPF_NEXT) {
		segment_fill(&pkt, skb->len, TCPF_DIR_EGRESS, &seg);
	} else {
		if (parsed == TCPF_PARSE_WHOLE)
			parsed = tcpf_egress_parse(skb, &seg);
		/* headers are read from the linear part; if they are not
		 * all there, pull them in once and parse again */
		if (parsed != TCPF_NEXT && parsed >= TCPF_CNT_MAL_FIRST &&
		    skb->data_end - skb->data < skb->len) {
			if (bpf_skb_pull_data(skb,
					      skb->len < 256 ? skb->len : 256))
				return TC_ACT_OK;
			__builtin_memset(&seg, 0, sizeof(seg));
			parsed = tcpf_egress_parse(skb, &seg);
		}
		if (parsed != TCPF_NEXT)
			return TC_ACT_OK;
		/* the function's writes are unknown to the verifier: what
		 * is known is said again, so it walks no other direction */
		seg.dir = TCPF_DIR_EGRESS;
		seg.segs = 1;
	}
	/* a tag the stack will insert is metadata here, not packet data */
	if (skb->vlan_present)
		seg.vlan = skb->vlan_tci & 0x0fff;
	seg.policy = policy;
	if (skb->gso_segs > 1)
		seg.segs = skb->gso_segs > 0xffff ? 0xffff : skb->gso_segs;
	if (tcpf_segment(&seg) == TCPF_ACT_DROP)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

/*
 * TC ingress, for the guard in cookie mode: the ACKs XDP let through
 * with a valid cookie become the listener's connections here
 * (guard_handoff()).  Anything else goes on untouched.
 */
SEC("tc")
int tcpf_ingress(struct __sk_buff *skb)
{
	struct tcpf_cursor c = {
		.pos = (void *)(long)skb->data,
		.end = (void *)(long)skb->data_end,
		.len = skb->len,
	};
	struct tcpf_packet pkt = {};
	struct tcpf_segment seg = {};
	struct tcpf_guard_ctx gx = {};

	if (tcpf_parse(&c, &pkt) != TCPF_NEXT ||
	    (pkt.flags & (TCPF_ACK | TCPF_SYN | TCPF_RST)) != TCPF_ACK)
		return TC_ACT_OK;
	guard_start(&gx, skb, (void *)(long)skb->data, &pkt, &c);
	if (!gx.gc || gx.mode != TCPF_GM_COOKIE)
		return TC_ACT_OK;
	segment_fill(&pkt, skb->len, TCPF_DIR_INGRESS, &seg);
	if (guard_port(gx.gc, seg.dport))
		guard_handoff(skb, &gx, &seg);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
