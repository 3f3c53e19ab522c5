// SPDX-License-Identifier: GPL-2.0-only
/*
 * floodsink.bpf.c - drops every frame from or to the lab flood's spoofed
 * sources (build/livegen: 198.18.0.0/16 and 2001:2:0:ff::/64) and passes
 * everything else.  scripts/bench-guard.sh attaches it twice:
 *   on the server's veth it is the ideal defence the guard is measured
 *   against: a minimal XDP program that knows the flood's sources (no
 *   defender does) and drops them;
 *   on the client's veth it is the sink of what answers the flood (the
 *   guard's SYN-ACKs, the kernel's), so the client's kernel does not spend
 *   the shared CPU on replies to addresses nobody holds; and a veth only
 *   takes XDP_TX frames promptly when its peer has an XDP program.
 * Attached with `ip link set DEV xdpdrv obj ... sec xdp`.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define FLOOD4 0xc6120000u       /* 198.18.0.0/16 */
#define FLOOD6_HI 0x20010002u    /* 2001:2:0:ff::/64, in two words */
#define FLOOD6_LO 0x000000ffu

static __always_inline int flood6(const struct in6_addr *a)
{
	return a->in6_u.u6_addr32[0] == bpf_htonl(FLOOD6_HI) &&
	       a->in6_u.u6_addr32[1] == bpf_htonl(FLOOD6_LO);
}

SEC("xdp")
int floodsink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return XDP_PASS;
		if ((ip->saddr & bpf_htonl(0xffff0000)) == bpf_htonl(FLOOD4) ||
		    (ip->daddr & bpf_htonl(0xffff0000)) == bpf_htonl(FLOOD4))
			return XDP_DROP;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		if (flood6(&ip6->saddr) || flood6(&ip6->daddr))
			return XDP_DROP;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
