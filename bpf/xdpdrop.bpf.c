// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdpdrop.bpf.c - the baseline of the policy_drop_live budget
 * (scripts/bench-live.sh): the least an XDP program must do to drop
 * SYN|FIN segments and pass everything else.  Minimal but honest: it
 * parses what it must (Ethernet, up to two VLAN tags, IPv4 with its real
 * header length, IPv6 without extension headers, the first fragment only)
 * and checks bounds like any verified program; it keeps no counters and
 * tracks nothing.  Attached with `ip link set DEV xdpdrv obj ... sec xdp`.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define SYN_FIN 0x03     /* the flag byte's FIN and SYN bits */

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

SEC("xdp")
int xdpdrop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *l3 = eth + 1;
	__u8 *tcp;
	__be16 proto;

	if (l3 > end)
		return XDP_PASS;
	proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct vlan_tag *v = l3;

		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(v + 1) > end)
			return XDP_PASS;
		proto = v->proto;
		l3 = v + 1;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_TCP ||
		    ip->ihl < 5 || ip->frag_off & bpf_htons(0x1fff))
			return XDP_PASS;
		tcp = l3 + ip->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return XDP_PASS;
		tcp = (void *)(ip6 + 1);
	} else {
		return XDP_PASS;
	}
	if ((void *)(tcp + 14) > end)
		return XDP_PASS;
	return (tcp[13] & SYN_FIN) == SYN_FIN ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
