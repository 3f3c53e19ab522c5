// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcpflags.bpf.c - the XDP classifier: parse -> classify -> decide -> count.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tcpflags.h"
#include "parse.bpf.h"
#include "count.bpf.h"

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

	tcpf_count(key, c.len);
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
