// SPDX-License-Identifier: GPL-2.0-only
/*
 * empty.bpf.c - a bare XDP_PASS program: the baseline every benchmark ratio
 * is measured against, and the pass program the lab puts on the client veth
 * (XDP_TX back out of a veth is only delivered promptly when the peer has one).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int tcpf_empty(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
