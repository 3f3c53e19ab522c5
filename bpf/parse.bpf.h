/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * parse.bpf.h - header parsers for the XDP path.
 *
 * Each step checks every read against data_end, and every length a header
 * claims against the packet that carries it, so a truncated or lying frame
 * ends in a malformed counter and is never read as TCP.  A step returns
 * TCPF_NEXT to go on, or the enum tcpf_counter that ends the parse.
 */
#ifndef TCPF_PARSE_BPF_H
#define TCPF_PARSE_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "tcpflags.h"

#define TCPF_NEXT (-1)

#define TCPF_IP4_MF_OFFSET 0x1fff    /* fragment offset bits of frag_off */
#define TCPF_IP6_FRAG_OFFSET 0xfff8  /* offset bits of the fragment header */
#define TCPF_IP6_MAXPLEN 65535       /* a jumbogram's payload is longer */

/* Where the parser is: the pointer for the verifier, the offset for lengths. */
struct tcpf_cursor {
	void *pos;
	void *end;
	__u32 off;      /* bytes from the start of the frame to pos */
	__u32 len;      /* frame length */
	__u32 ip_end;   /* offset where the IP packet ends, as its header says */
};

/* What the parse found; filled in as far as it got. */
struct tcpf_packet {
	void *l3;       /* the IP header, bound-checked for its fixed part */
	__u8 *tcp;      /* the TCP header, bound-checked for 20 bytes */
	__u32 payload;  /* TCP payload bytes, from the IP lengths */
	__u16 vlan;     /* innermost VLAN id, 0 when untagged */
	__u8 family;    /* enum tcpf_family */
	__u8 l4proto;   /* IPPROTO_* of the transport header */
	__u8 flags;     /* TCP flag byte */
};

struct tcpf_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

static __always_inline void cursor_advance(struct tcpf_cursor *c, __u32 n)
{
	c->pos += n;
	c->off += n;
}

static __always_inline int is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* Ethernet and up to TCPF_VLAN_MAX tags; *proto gets the inner EtherType. */
static __always_inline int parse_eth(struct tcpf_cursor *c,
				     struct tcpf_packet *p, __be16 *proto)
{
	struct ethhdr *eth = c->pos;
	__be16 type;

	if ((void *)(eth + 1) > c->end)
		return TCPF_CNT_MAL_ETH_TRUNC;
	type = eth->h_proto;
	cursor_advance(c, sizeof(*eth));

#pragma unroll
	for (int i = 0; i < TCPF_VLAN_MAX; i++) {
		struct tcpf_vlan_hdr *vh = c->pos;

		if (!is_vlan(type))
			break;
		if ((void *)(vh + 1) > c->end)
			return TCPF_CNT_MAL_VLAN_TRUNC;
		p->vlan = bpf_ntohs(vh->tci) & 0x0fff;
		type = vh->encap_proto;
		cursor_advance(c, sizeof(*vh));
	}
	if (is_vlan(type))
		return TCPF_CNT_MAL_VLAN_DEPTH;
	*proto = type;
	return TCPF_NEXT;
}

/*
 * An IPsec AH header after the IPv4 header (RFC 4302 transport mode):
 * TCP follows it in the clear, as in IPv6, where AH is one of the
 * extension headers walked.  Its length is in 32-bit words, minus 2; all
 * of it must lie inside the packet.  Steps over it.
 */
static __always_inline int parse_ip4_ah(struct tcpf_cursor *c,
					struct tcpf_packet *p)
{
	__u8 *h = c->pos;
	__u32 hlen;

	if ((void *)(h + 8) > c->end || c->off + 8 > c->ip_end)
		return TCPF_CNT_MAL_IP4_TRUNC;
	hlen = ((__u32)h[1] + 2) * 4;
	if (c->off + hlen > c->ip_end)
		return TCPF_CNT_MAL_IP4_TRUNC;
	p->l4proto = h[0];
	cursor_advance(c, hlen);
	return TCPF_NEXT;
}

/*
 * IPv4: version, IHL, total length, fragments; options are skipped, and
 * one AH header.  An IHL under 5 is a bad header whatever the lengths
 * say, as the kernel (ip_rcv_core) and tcpdump judge it.
 */
static __always_inline int parse_ipv4(struct tcpf_cursor *c,
				      struct tcpf_packet *p)
{
	struct iphdr *ip = c->pos;
	__u32 hlen, tot;
	int ret;

	if ((void *)(ip + 1) > c->end)
		return TCPF_CNT_MAL_IP4_TRUNC;
	if (ip->version != 4)
		return TCPF_CNT_MAL_IP_VERSION;
	hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip))
		return TCPF_CNT_MAL_IP4_IHL;
	tot = bpf_ntohs(ip->tot_len);
	if (tot > c->len - c->off)
		return TCPF_CNT_MAL_IP4_TRUNC;
	if (hlen > tot)
		return TCPF_CNT_MAL_IP4_IHL;

	p->l3 = ip;
	p->family = TCPF_IPV4;
	p->l4proto = ip->protocol;
	if (ip->frag_off & bpf_htons(TCPF_IP4_MF_OFFSET))
		return p->l4proto == IPPROTO_TCP ? TCPF_CNT_TCP_FRAGMENT
						 : TCPF_CNT_NON_TCP;
	c->ip_end = c->off + tot;
	cursor_advance(c, hlen);
	if (p->l4proto == IPPROTO_AH) {
		ret = parse_ip4_ah(c, p);
		if (ret != TCPF_NEXT)
			return ret;
	}
	if (p->l4proto != IPPROTO_TCP)
		return TCPF_CNT_NON_TCP;
	return TCPF_NEXT;
}

/* The extension headers walked; all their numbers are below 64. */
#define TCPF_IP6_EXT_MASK ((1ULL << IPPROTO_HOPOPTS) | (1ULL << IPPROTO_ROUTING) | \
			   (1ULL << IPPROTO_DSTOPTS) | (1ULL << IPPROTO_FRAGMENT) | \
			   (1ULL << IPPROTO_AH))

/* One shift and mask instead of five compares: this runs per header. */
static __always_inline int is_ip6_ext(__u8 nexthdr)
{
	return nexthdr < 64 && ((1ULL << nexthdr) & TCPF_IP6_EXT_MASK);
}

/* One extension header at the cursor: sets *next and steps over it. */
static __always_inline int parse_ip6_ext(struct tcpf_cursor *c, __u8 *next)
{
	__u8 *h = c->pos;
	__u8 type = *next;
	__u32 hlen;

	/* every extension header is at least 8 bytes: read them safely */
	if ((void *)(h + 8) > c->end)
		return TCPF_CNT_MAL_IP6_EXT_TRUNC;
	if (type == IPPROTO_FRAGMENT)
		hlen = 8;
	else if (type == IPPROTO_AH)
		hlen = ((__u32)h[1] + 2) * 4;
	else
		hlen = ((__u32)h[1] + 1) * 8;
	/* the whole header must lie inside the packet, padding is not one */
	if (c->off + hlen > c->ip_end)
		return TCPF_CNT_MAL_IP6_EXT_TRUNC;
	*next = h[0];
	if (type == IPPROTO_FRAGMENT &&
	    (*(__be16 *)(h + 2) & bpf_htons(TCPF_IP6_FRAG_OFFSET)))
		return *next == IPPROTO_TCP ? TCPF_CNT_TCP_FRAGMENT
					    : TCPF_CNT_NON_TCP;
	cursor_advance(c, hlen);
	return TCPF_NEXT;
}

/* The IPv6 header: version and payload length; *next gets its next header. */
static __always_inline int parse_ipv6_hdr(struct tcpf_cursor *c,
					  struct tcpf_packet *p, __u8 *next)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 plen;

	if ((void *)(ip6 + 1) > c->end)
		return TCPF_CNT_MAL_IP6_TRUNC;
	if (ip6->version != 6)
		return TCPF_CNT_MAL_IP_VERSION;
	plen = bpf_ntohs(ip6->payload_len);
	if (plen > c->len - c->off - sizeof(*ip6))
		return TCPF_CNT_MAL_IP6_TRUNC;
	/*
	 * Payload length 0 is a jumbogram's (RFC 2675) or BIG TCP's, whose
	 * payloads are longer than 65535 bytes: then the frame bounds it.
	 * On a shorter packet it says what it says, no payload, as the
	 * kernel (ip6_rcv_core) trims it.
	 */
	if (!plen && c->len - c->off - sizeof(*ip6) > TCPF_IP6_MAXPLEN)
		c->ip_end = c->len;
	else
		c->ip_end = c->off + sizeof(*ip6) + plen;
	p->l3 = ip6;
	p->family = TCPF_IPV6;
	*next = ip6->nexthdr;
	cursor_advance(c, sizeof(*ip6));
	return TCPF_NEXT;
}

/* IPv6: the header, then the extension chain to TCP. */
static __always_inline int parse_ipv6(struct tcpf_cursor *c,
				      struct tcpf_packet *p)
{
	__u8 next;
	int ret;

	ret = parse_ipv6_hdr(c, p, &next);
	if (ret != TCPF_NEXT)
		return ret;
#pragma unroll
	for (int i = 0; i < TCPF_IP6_EXT_MAX; i++) {
		if (next == IPPROTO_TCP || !is_ip6_ext(next))
			break;
		ret = parse_ip6_ext(c, &next);
		if (ret != TCPF_NEXT)
			return ret;
	}
	p->l4proto = next;
	if (next == IPPROTO_TCP)
		return TCPF_NEXT;
	return is_ip6_ext(next) ? TCPF_CNT_MAL_IP6_EXT_DEPTH : TCPF_CNT_NON_TCP;
}

/* TCP: the fixed header and a data offset that fits the IP packet. */
static __always_inline int parse_tcp(struct tcpf_cursor *c,
				     struct tcpf_packet *p)
{
	__u8 *tcp = c->pos;
	__u32 doff;

	if ((void *)(tcp + 20) > c->end || c->off + 20 > c->ip_end)
		return TCPF_CNT_MAL_TCP_TRUNC;
	doff = (tcp[12] >> 4) * 4;
	if (doff < 20 || c->off + doff > c->ip_end)
		return TCPF_CNT_MAL_TCP_DOFF;
	p->tcp = tcp;
	p->payload = c->ip_end - c->off - doff;
	p->flags = tcp[TCPF_FLAG_BYTE_OFF];
	return TCPF_NEXT;
}

/* A TCP segment as plain scalars, copied out of the packet once. */
struct tcpf_segment {
	__u32 saddr[4];          /* network order; IPv4 in [0] */
	__u32 daddr[4];
	__u32 seq, ack;          /* host order */
	__u32 payload;           /* TCP payload bytes */
	__u32 bytes;             /* frame (or skb) bytes */
	__u16 sport, dport;      /* network order */
	__u16 vlan;
	__u8 flags, family, dir;
	__u8 phase, state;       /* set by the tracker */
	__u8 policy;             /* 0: no rule set, else the live set + 1 */
	__u16 segs;              /* wire segments: gso_segs of a GSO packet */
};

static __always_inline void segment_fill(const struct tcpf_packet *p,
					 __u32 bytes, __u8 dir,
					 struct tcpf_segment *g)
{
	if (p->family == TCPF_IPV4) {
		struct iphdr *ip = p->l3;

		g->saddr[0] = ip->saddr;
		g->daddr[0] = ip->daddr;
	} else {
		struct ipv6hdr *ip6 = p->l3;

		__builtin_memcpy(g->saddr, &ip6->saddr, 16);
		__builtin_memcpy(g->daddr, &ip6->daddr, 16);
	}
	g->sport = *(__u16 *)p->tcp;
	g->dport = *(__u16 *)(p->tcp + 2);
	g->seq = bpf_ntohl(*(__be32 *)(p->tcp + 4));
	g->ack = bpf_ntohl(*(__be32 *)(p->tcp + 8));
	g->payload = p->payload;
	g->bytes = bytes;
	g->vlan = p->vlan;
	g->flags = p->flags;
	g->family = p->family;
	g->dir = dir;
	g->segs = 1;
}

/* The whole frame: TCPF_NEXT for a TCP segment, else its counter. */
static __always_inline int tcpf_parse(struct tcpf_cursor *c,
				      struct tcpf_packet *p)
{
	__be16 proto;
	int ret;

	ret = parse_eth(c, p, &proto);
	if (ret != TCPF_NEXT)
		return ret;
	if (proto == bpf_htons(ETH_P_IP))
		ret = parse_ipv4(c, p);
	else if (proto == bpf_htons(ETH_P_IPV6))
		ret = parse_ipv6(c, p);
	else
		return TCPF_CNT_NON_TCP;
	if (ret != TCPF_NEXT)
		return ret;
	return parse_tcp(c, p);
}

/* tcpf_parse_plain()'s answer for a frame that needs tcpf_parse() */
#define TCPF_PARSE_WHOLE (-3)
_Static_assert(TCPF_PARSE_WHOLE < 0 && TCPF_PARSE_WHOLE != TCPF_NEXT,
	       "apart from TCPF_NEXT and every counter");

/*
 * tcpf_parse() of a frame without VLAN tags or IPv6 extension headers, as
 * a host sends nearly all: the same answer for such a frame, else
 * TCPF_PARSE_WHOLE.  It has few ways through, each ending with a packet
 * pointer of its own, where tcpf_parse() has ~50 (VLAN depths times
 * extension chains); see tcpf_egress().
 */
static __always_inline int tcpf_parse_plain(struct tcpf_cursor *c,
					    struct tcpf_packet *p)
{
	struct ethhdr *eth = c->pos;
	__be16 proto;
	__u8 next;
	int ret;

	if ((void *)(eth + 1) > c->end)
		return TCPF_CNT_MAL_ETH_TRUNC;
	proto = eth->h_proto;
	cursor_advance(c, sizeof(*eth));
	if (proto == bpf_htons(ETH_P_IP)) {
		ret = parse_ipv4(c, p);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		ret = parse_ipv6_hdr(c, p, &next);
		if (ret != TCPF_NEXT)
			return ret;
		if (next != IPPROTO_TCP)
			return is_ip6_ext(next) ? TCPF_PARSE_WHOLE
						: TCPF_CNT_NON_TCP;
		p->l4proto = next;
	} else {
		return is_vlan(proto) ? TCPF_PARSE_WHOLE : TCPF_CNT_NON_TCP;
	}
	if (ret != TCPF_NEXT)
		return ret;
	return parse_tcp(c, p);
}

#endif /* TCPF_PARSE_BPF_H */
