// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "tcpflags.h"
#include "frames.h"
#include "csum.h"

/* Addresses of the test hosts (RFC 2544 benchmarking range). */
static const __u8 src4[4] = { 198, 19, 0, 1 }, dst4[4] = { 198, 19, 0, 2 };
static const __u8 src6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 1, [15] = 1 };
static const __u8 dst6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 1, [15] = 2 };

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

void frame_fix_ip4_csum(__u8 *buf, const struct frame_layout *lay)
{
	__u8 *ip = buf + lay->l3;
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;

	put16(ip + 10, 0);
	put16(ip + 10, csum_fold(csum_add(0, ip, hlen)));
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, (__u16)(v >> 16));
	put16(p + 2, (__u16)v);
}

static __u32 build_l4(const struct frame_spec *s, __u8 *p, __u16 sport,
		      __u16 dport)
{
	__u32 hlen;

	if (s->l4 == IPPROTO_TCP) {
		hlen = 20 + s->tcp_optlen;
		memset(p, 0, hlen);
		put16(p, sport);                 /* source port */
		put16(p + 2, dport);             /* destination port */
		if (s->seqack) {
			put32(p + 4, s->seq);
			put32(p + 8, s->ack);
		} else {
			p[4] = 0x11, p[7] = 0x01;  /* sequence number */
			if (s->flags & TCPF_ACK)
				p[8] = 0x22, p[11] = 0x02;
		}
		p[12] = (__u8)((hlen / 4) << 4);
		p[13] = s->flags;
		put16(p + 14, 64240);            /* window */
		for (int i = 20; i < (int)hlen; i++)
			p[i] = 1;                /* NOP options */
	} else if (s->l4 == IPPROTO_UDP) {
		hlen = 8;
		put16(p, sport);
		put16(p + 2, dport);
		put16(p + 4, (__u16)(8 + s->payload));
		put16(p + 6, 0);
	} else {
		hlen = 8;                        /* ICMP echo / anything */
		memset(p, 0, hlen);
		p[0] = s->family == 6 ? 128 : 8;
	}
	memset(p + hlen, 0xab, s->payload);
	return hlen + s->payload;
}

static __u32 build_ip6_ext(const struct frame_spec *s, __u8 *p, int i)
{
	__u8 type = s->ext[i];
	__u8 next = i + 1 < s->n_ext ? s->ext[i + 1] : s->l4;

	memset(p, 0, 8);
	p[0] = next;
	if (type == IPPROTO_FRAGMENT) {
		put16(p + 2, s->ip6_frag);
		p[7] = 0x2a;                     /* identification */
		return 8;
	}
	if (type == IPPROTO_AH) {
		p[1] = 4;                        /* (4 + 2) * 4 = 24 bytes */
		memset(p + 2, 0, 22);
		return 24;
	}
	p[1] = 1;                                /* (1 + 1) * 8 = 16 bytes */
	memset(p + 2, 0, 14);
	p[2] = 1, p[3] = 12;                     /* PadN option over the rest */
	return 16;
}

__u32 frame_build(const struct frame_spec *s, __u8 *buf,
		  struct frame_layout *lay)
{
	static const __u8 dmac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const __u8 smac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	const __u8 *mac[2] = { smac, dmac };
	const __u8 *a4[2] = { src4, dst4 }, *a6[2] = { src6, dst6 };
	__u16 port[2] = { 40000, s->l4 == IPPROTO_UDP ? 53 : 80 };
	int sw = !!s->swap;
	__u32 off = 12, l4len;
	__u8 *ip;

	if (s->saddr)
		a4[0] = a6[0] = s->saddr;
	if (s->daddr)
		a4[1] = a6[1] = s->daddr;
	if (s->sport)
		port[0] = s->sport;
	if (s->dport)
		port[1] = s->dport;
	memset(buf, 0, FRAME_MAX);
	memcpy(buf, mac[!sw], 6);
	memcpy(buf + 6, mac[sw], 6);
	for (int i = 0; i < s->nvlan; i++) {
		put16(buf + off, s->tpid[i]);
		put16(buf + off + 2, s->vid[i]);
		off += 4;
	}
	put16(buf + off, s->family == 4 ? 0x0800 :
			 s->family == 6 ? 0x86dd : 0x0806);
	off += 2;
	lay->l3 = off;
	ip = buf + off;

	if (s->family == 4) {
		__u32 hlen = 20 + s->ip4_optlen;

		ip[0] = (__u8)(0x40 | hlen / 4);
		put16(ip + 4, 0x1234);
		put16(ip + 6, s->ip4_frag);
		ip[8] = 64;
		ip[9] = s->l4;
		memcpy(ip + 12, a4[sw], 4);
		memcpy(ip + 16, a4[!sw], 4);
		for (__u32 i = 20; i < hlen; i++)
			ip[i] = 1;               /* NOP options */
		lay->l4 = off + hlen;
		l4len = build_l4(s, buf + lay->l4, port[sw], port[!sw]);
		put16(ip + 2, (__u16)(hlen + l4len));
		lay->len = lay->l4 + l4len;
		frame_fix_ip4_csum(buf, lay);
	} else if (s->family == 6) {
		__u32 ext = 0;

		ip[0] = 0x60;
		ip[6] = s->n_ext ? s->ext[0] : s->l4;
		ip[7] = 64;
		memcpy(ip + 8, a6[sw], 16);
		memcpy(ip + 24, a6[!sw], 16);
		for (int i = 0; i < s->n_ext; i++)
			ext += build_ip6_ext(s, ip + 40 + ext, i);
		lay->l4 = off + 40 + ext;
		l4len = build_l4(s, buf + lay->l4, port[sw], port[!sw]);
		put16(ip + 4, (__u16)(ext + l4len));
		lay->len = lay->l4 + l4len;
	} else {
		/* an ARP request */
		static const __u8 arp[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };

		memcpy(ip, arp, sizeof(arp));
		lay->l4 = off;
		lay->len = off + 28;
	}
	lay->ip_end = lay->len;
	/* Ethernet's minimum frame: pad short frames like a NIC would */
	if (lay->len < 60)
		lay->len = 60;
	return lay->len;
}

#define TCP4(f, pl) { .family = 4, .l4 = IPPROTO_TCP, .flags = (f), .payload = (pl) }

const struct frame_kind frame_kinds[] = {
	{ .name = "syn", .spec = TCP4(TCPF_SYN, 0) },
	{ .name = "syn_ack", .spec = TCP4(TCPF_SYN | TCPF_ACK, 0) },
	{ .name = "ack_payload", .spec = TCP4(TCPF_ACK | TCPF_PSH, 512) },
	{ .name = "fin_ack", .spec = TCP4(TCPF_FIN | TCPF_ACK, 0) },
	{ .name = "rst", .spec = TCP4(TCPF_RST, 0) },
	{ .name = "ipv6_syn", .spec = { .family = 6, .l4 = IPPROTO_TCP, .flags = TCPF_SYN } },
	{ .name = "vlan_syn", .spec = { .nvlan = 1, .tpid = { 0x8100 }, .vid = { 100 },
			.family = 4, .l4 = IPPROTO_TCP, .flags = TCPF_SYN } },
	{ .name = "qinq_ipv6_ext_syn", .spec = { .nvlan = 2, .tpid = { 0x88a8, 0x8100 },
				 .vid = { 10, 100 }, .family = 6,
				 .l4 = IPPROTO_TCP, .flags = TCPF_SYN,
				 .n_ext = 3, .ext = { IPPROTO_HOPOPTS,
				 IPPROTO_ROUTING, IPPROTO_DSTOPTS } },
	  .extra = 1 },
	{ .name = "non_tcp_udp", .spec = { .family = 4, .l4 = IPPROTO_UDP, .payload = 32 } },
	{ .name = "truncated_tcp", .spec = TCP4(TCPF_SYN, 0),
	  .truncate_to = 14 + 20 + 10 },
};
const size_t frame_kinds_count = sizeof(frame_kinds) / sizeof(frame_kinds[0]);
