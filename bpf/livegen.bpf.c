// SPDX-License-Identifier: GPL-2.0-only
/*
 * livegen.bpf.c - the traffic generator of scripts/bench-live.sh: a spoofed
 * SYN flood.  build/livegen runs this program with BPF_PROG_TEST_RUN in
 * BPF_F_TEST_XDP_LIVE_FRAMES mode on the generator's veth; it returns
 * XDP_TX, so every frame leaves that veth and reaches the peer's XDP program.
 *
 * Per frame it gives the SYN a new source: address and port come from a
 * counter scrambled by a bijection of 32 bits, so no two of 2^32 consecutive
 * frames share a source, and they do not come in order.
 *   IPv4: 198.18.<16 bits>   (benchmarking range 198.18.0.0/15, RFC 2544)
 *   IPv6: 2001:2:0:ff::<32 bits> (benchmarking range 2001:2::/48, RFC 5180;
 *         outside the lab's own 2001:2:0:1::/64)
 *   port: the other 16 bits (IPv4) or 16 bits of a second scramble (IPv6).
 *
 * Live-frames mode copies the template into a page only when the page pool
 * hands out a fresh page; a recycled page keeps what the last run left in it
 * (Documentation/bpf/bpf_prog_run.rst; net/bpf/test_run.c resets only the
 * data pointers).  So the checksums are updated incrementally (RFC 1624)
 * from the values found in the frame, never from the template's: that is
 * right whichever of the two the page holds.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Set by build/livegen before the run; only one CPU runs a test run
 * (it runs under migrate_disable), so plain increments are enough. */
__u32 seq = 0;
/* Frames that were not the expected Ethernet/IP/TCP (sent unchanged as a
 * drop): build/livegen reports it, and it must stay 0. */
__u64 bad = 0;
/*
 * The frame, as build/livegen made it (54 bytes IPv4, 74 IPv6), written
 * over every page before its update: a receiver that answers with XDP_TX
 * rewrites the page in place (the guard's SYN-ACKs do), and the page comes
 * back to this run's pool as the reply, not the SYN.
 */
__u8 tmpl[80] = {};
__u32 tmpl_len = 0;
/*
 * --rate: ns between frames (0: flat out), and when the next group of
 * PACE frames is due.  The run waits for each group's time, here, so the
 * flood is even at the scale of the veth's ring (256 frames): the
 * receiver takes each batch of the run (64 frames) as it comes.  Per group,
 * not per frame: a clock read costs ~100 ns on this VM.  The schedule may
 * lag up to 20 ms and is then made up: the veth's softirq work often runs
 * in ksoftirqd, which takes the CPU from the generator for a few ms (a
 * 1 ms limit lost half of a 1 Mpps rate).  A receiver slower than the rate
 * keeps the generator further behind, and then nothing waits: it gets the
 * flood flat out.
 */
#define PACE 64
__u64 gap_ns = 0;
__u64 due_ns = 0;

static long wait_step(__u32 i, void *ctx)
{
	(void)i;
	(void)ctx;
	return bpf_ktime_get_ns() >= due_ns;
}

static __always_inline void pace(__u32 n)
{
	__u64 now;

	if (!gap_ns || n % PACE)
		return;
	now = bpf_ktime_get_ns();
	if (due_ns + 20000000 < now)
		due_ns = now;
	else if (due_ns > now)
		bpf_loop(1 << 20, wait_step, NULL, 0);
	due_ns += gap_ns * PACE;
}

static __always_inline __u32 scramble(__u32 x)
{
	x *= 0x9e3779b1u;        /* odd: a bijection mod 2^32 */
	x ^= x >> 16;            /* xor-shift: a bijection too */
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	return x;
}

/* RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), for one 16-bit word; the one's
 * complement sum does not care about byte order, so raw words will do. */
static __always_inline __u32 csum_word(__u32 sum, __u16 old, __u16 new)
{
	return sum + (__u16)~old + new;
}

static __always_inline __u16 csum_finish(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int livegen_syn(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *tcp;
	__u32 n = seq++, x = scramble(n);
	__u16 *old, new[2];
	__u32 sum;

	pace(n);

	if (tmpl_len == 74 && data + 74 <= end)
		__builtin_memcpy(data, tmpl, 74);
	else if (tmpl_len == 54 && data + 54 <= end)
		__builtin_memcpy(data, tmpl, 54);
	if ((void *)(eth + 1) > end)
		goto bad;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl != 5 ||
		    ip->protocol != IPPROTO_TCP)
			goto bad;
		tcp = (void *)(ip + 1);
		if ((void *)(tcp + 1) > end)
			goto bad;
		/* 198.18.0.0/16 + the low 16 bits of x */
		old = (__u16 *)&ip->saddr;
		new[0] = bpf_htons(0xc612);
		new[1] = bpf_htons(x & 0xffff);
		sum = csum_word((__u16)~ip->check, old[0], new[0]);
		sum = csum_word(sum, old[1], new[1]);
		ip->check = csum_finish(sum);
		sum = csum_word((__u16)~tcp->check, old[0], new[0]);
		sum = csum_word(sum, old[1], new[1]);
		old[0] = new[0];
		old[1] = new[1];
		new[0] = bpf_htons(x >> 16);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			goto bad;
		tcp = (void *)(ip6 + 1);
		if ((void *)(tcp + 1) > end)
			goto bad;
		/* 2001:2:0:ff::/64 + x in the last 32 bits; only TCP has a
		 * checksum (its pseudo-header holds the addresses) */
		old = (__u16 *)&ip6->saddr.in6_u.u6_addr16[0];
		sum = (__u16)~tcp->check;
		for (int i = 0; i < 8; i++) {
			__u16 w;

			switch (i) {
			case 0: w = bpf_htons(0x2001); break;
			case 1: w = bpf_htons(0x0002); break;
			case 3: w = bpf_htons(0x00ff); break;
			case 6: w = bpf_htons(x >> 16); break;
			case 7: w = bpf_htons(x & 0xffff); break;
			default: w = 0; break;
			}
			sum = csum_word(sum, old[i], w);
			old[i] = w;
		}
		new[0] = bpf_htons(scramble(x) & 0xffff);
	} else {
		goto bad;
	}
	/* the source port, in the TCP checksum only */
	sum = csum_word(sum, tcp->source, new[0]);
	tcp->source = new[0];
	tcp->check = csum_finish(sum);
	return XDP_TX;
bad:
	bad++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
