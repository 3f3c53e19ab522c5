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

/* Observation only, for now: every frame, parsed or not, passes. */
static __always_inline int tcpf_decide(const struct tcpf_packet *p)
{
	(void)p;
	return XDP_PASS;
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
	int verdict = tcpf_decide(&pkt);

	if (parsed == TCPF_NEXT && tcpf_flows_on)
		phase_count(TCPF_DIR_INGRESS,
			    tcpf_track(&pkt, c.len, TCPF_DIR_INGRESS));
	tcpf_count(key, c.len);
	return verdict;
}

/* What this host sends: the other half of its connections.  Never drops. */
SEC("tc")
int tcpf_egress(struct __sk_buff *skb)
{
	struct tcpf_cursor c = {
		.pos = (void *)(long)skb->data,
		.end = (void *)(long)skb->data_end,
		.len = skb->data_end - skb->data,
	};
	struct tcpf_packet pkt = {};

	if (!tcpf_flows_on || tcpf_parse(&c, &pkt) != TCPF_NEXT)
		return TC_ACT_OK;
	/* a tag the stack will insert is metadata here, not packet data */
	if (skb->vlan_present)
		pkt.vlan = skb->vlan_tci & 0x0fff;
	phase_count(TCPF_DIR_EGRESS, tcpf_track(&pkt, skb->len,
						TCPF_DIR_EGRESS));
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
