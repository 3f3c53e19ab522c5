// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_bpf.c - the XDP program on crafted frames (BPF_PROG_TEST_RUN).
 * Every case asserts the verdict, that exactly one counter moved by one
 * packet and the frame's length in bytes, and that nothing else changed.
 * The cases are a table (cases[]) and, where they are many of one shape
 * (every flag byte, every cut of a frame), generators of table rows; one
 * function, run_case(), runs a row.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tcpflags.skel.h"
#include "counters.h"
#include "frames.h"
#include "harness.h"

_Static_assert(sizeof(struct tcpf_snapshot) ==
	       TCPF_STATS_ENTRIES * sizeof(struct tcpf_count),
	       "a snapshot is the stats map in key order");

static struct hx *H;              /* the harness context of main() */

#define V4 TCPF_IPV4
#define V6 TCPF_IPV6
#define KF(fam, f) TCPF_KEY_FLAGS(fam, f)
#define CNT(c) TCPF_KEY_CNT(TCPF_CNT_##c)
#define SYN TCPF_SYN
#define ACK TCPF_ACK
#define FIN TCPF_FIN
#define RST TCPF_RST

/* A byte of the built frame overwritten: at the IP or TCP header's offset
 * plus off, or (RAW) at off of the frame. */
enum { P_END, P_L3, P_L4, P_RAW };
struct poke {
	int at, off;
	__u8 val;
};
#define POKES 3

/*
 * A case: a frame (built from s, or raw zero bytes: raw > 0 long), bytes
 * poked into it, a cut (len > 0: the first len bytes only); it must get
 * the verdict drop (0: pass) and move exactly the counter key by one
 * packet and its length in bytes, nothing else.
 */
struct bcase {
	const char *name;
	struct frame_spec s;
	struct poke poke[POKES];
	__u32 raw, len;
	int drop;
	__u32 key;
};

static void run_case(const struct bcase *c)
{
	struct hx_want w = { .dir = HX_IN, .drop = c->drop,
			     .watch = HX_WATCH(HX_STATS), .nmoves = 1,
			     .move = { { HX_STATS, c->key, 1 } } };
	__u8 buf[FRAME_MAX] = { 0 };
	struct frame_layout lay = { 0 };
	__u32 len = c->raw ? c->raw : frame_build(&c->s, buf, &lay);
	char why[1024];

	for (int i = 0; i < POKES && c->poke[i].at != P_END; i++) {
		const struct poke *p = &c->poke[i];
		__u32 base = p->at == P_L3 ? lay.l3 : p->at == P_L4 ? lay.l4 : 0;

		buf[base + (__u32)p->off] = p->val;
	}
	if (c->len)
		len = c->len;
	hx_check(H, !hx_frame(H, &w, buf, len, why, sizeof(why)), c->name,
		 "%s", why);
}

#define TCP4(f) .family = 4, .l4 = IPPROTO_TCP, .flags = (f)
#define TCP6(f) .family = 6, .l4 = IPPROTO_TCP, .flags = (f)
#define L3(o, v) { P_L3, o, v }
#define L4(o, v) { P_L4, o, v }
#define H_ IPPROTO_HOPOPTS
#define R_ IPPROTO_ROUTING
#define D_ IPPROTO_DSTOPTS
#define F_ IPPROTO_FRAGMENT
#define A_ IPPROTO_AH
#define SA6 KF(V6, SYN | ACK)

_Static_assert(TCPF_IP6_EXT_MAX == 8, "the chain cases below walk 8");

static const struct bcase cases[] = {
	/* VLAN tags */
	{ "vlan_8021q_ipv4_syn", { .nvlan = 1, .tpid = { 0x8100 },
	  .vid = { 7 }, TCP4(SYN) }, .key = KF(V4, SYN) },
	{ "vlan_8021ad_ipv6_syn", { .nvlan = 1, .tpid = { 0x88a8 },
	  .vid = { 7 }, TCP6(SYN) }, .key = KF(V6, SYN) },
	{ "vlan_qinq_ipv4_finack", { .nvlan = 2, .tpid = { 0x88a8, 0x8100 },
	  .vid = { 10, 20 }, TCP4(FIN | ACK) }, .key = KF(V4, FIN | ACK) },
	{ "vlan_qinq_ipv6_finack", { .nvlan = 2, .tpid = { 0x88a8, 0x8100 },
	  .vid = { 10, 20 }, TCP6(FIN | ACK) }, .key = KF(V6, FIN | ACK) },
	{ "vlan_three_tags_too_deep", { .nvlan = 3,
	  .tpid = { 0x88a8, 0x8100, 0x8100 }, TCP4(SYN) },
	  .key = CNT(MAL_VLAN_DEPTH) },
	{ "vlan_qinq_udp_non_tcp", { .nvlan = 2, .tpid = { 0x8100, 0x8100 },
	  .family = 4, .l4 = IPPROTO_UDP }, .key = CNT(NON_TCP) },
	/* IPv4 fragments: the first carries the header, the rest none */
	{ "ipv4_first_fragment_counted", { TCP4(SYN), .ip4_frag = 0x2000 },
	  .key = KF(V4, SYN) },
	{ "ipv4_middle_fragment", { TCP4(SYN), .ip4_frag = 0x2000 | 185 },
	  .key = CNT(TCP_FRAGMENT) },
	{ "ipv4_last_fragment", { TCP4(SYN), .ip4_frag = 185 },
	  .key = CNT(TCP_FRAGMENT) },
	{ "ipv4_offset8_fragment", { TCP4(SYN), .ip4_frag = 1 },
	  .key = CNT(TCP_FRAGMENT) },
	{ "ipv4_dont_fragment_counted", { TCP4(SYN), .ip4_frag = 0x4000 },
	  .key = KF(V4, SYN) },
	{ "ipv4_udp_fragment_non_tcp", { .family = 4, .l4 = IPPROTO_UDP,
	  .flags = SYN, .ip4_frag = 185 }, .key = CNT(NON_TCP) },
	/* IHL longer than the packet: 60 bytes > total 40 */
	{ "ipv4_ihl_past_total_length", { TCP4(SYN) },
	  { L3(0, 0x4f), L3(2, 0), L3(3, 40) }, .key = CNT(MAL_IP4_IHL) },
	/* lying total length: past the frame (1500), or too short for TCP */
	{ "ipv4_total_length_past_frame", { TCP4(SYN) },
	  { L3(2, 0x05), L3(3, 0xdc) }, .key = CNT(MAL_IP4_TRUNC) },
	{ "ipv4_total_length_cuts_tcp", { TCP4(SYN) }, { L3(3, 20 + 19) },
	  .key = CNT(MAL_TCP_TRUNC) },
	/* TCP data offset past the packet (60 bytes, it has 20); 15 fits */
	{ "tcp_doff_past_packet", { TCP4(SYN) }, { L4(12, 0xf0) },
	  .key = CNT(MAL_TCP_DOFF) },
	{ "tcp_doff_15_fits", { TCP4(SYN), .tcp_optlen = 40 },
	  .key = KF(V4, SYN) },
	/* padding past the IP packet is not TCP header */
	{ "ipv4_ethernet_padding_ignored", { TCP4(ACK) }, { L3(3, 20 + 20) },
	  .key = KF(V4, ACK) },
	{ "ipv4_ethertype_version_6", { TCP4(ACK) }, { L3(0, 0x65) },
	  .key = CNT(MAL_IP_VERSION) },
	/* IPv6 extension headers, one of each kind */
	{ "ipv6_ext_hopopts", { TCP6(SYN | ACK), .n_ext = 1, .ext = { H_ } },
	  .key = SA6 },
	{ "ipv6_ext_routing", { TCP6(SYN | ACK), .n_ext = 1, .ext = { R_ } },
	  .key = SA6 },
	{ "ipv6_ext_dstopts", { TCP6(SYN | ACK), .n_ext = 1, .ext = { D_ } },
	  .key = SA6 },
	{ "ipv6_ext_fragment", { TCP6(SYN | ACK), .n_ext = 1, .ext = { F_ } },
	  .key = SA6 },
	{ "ipv6_ext_ah", { TCP6(SYN | ACK), .n_ext = 1, .ext = { A_ } },
	  .key = SA6 },
	/* the longest chain walked, and one more */
	{ "ipv6_ext_chain_at_limit", { TCP6(SYN | ACK), .n_ext = 8,
	  .ext = { H_, R_, D_, F_, A_, H_, R_, D_ } }, .key = SA6 },
	{ "ipv6_ext_chain_too_long", { TCP6(SYN | ACK), .n_ext = 9,
	  .ext = { H_, R_, D_, F_, A_, H_, R_, D_, D_ } },
	  .key = CNT(MAL_IP6_EXT_DEPTH) },
	/* fragments: offset 0 with M, then offset 185 * 8 */
	{ "ipv6_first_fragment_counted", { TCP6(SYN | ACK), .n_ext = 2,
	  .ext = { H_, F_ }, .ip6_frag = 0x0001 }, .key = SA6 },
	{ "ipv6_later_fragment", { TCP6(SYN | ACK), .n_ext = 2,
	  .ext = { H_, F_ }, .ip6_frag = 1480 }, .key = CNT(TCP_FRAGMENT) },
	{ "ipv6_udp_fragment_non_tcp", { .family = 6, .l4 = IPPROTO_UDP,
	  .flags = SYN | ACK, .n_ext = 2, .ext = { H_, F_ },
	  .ip6_frag = 1480 }, .key = CNT(NON_TCP) },
	/* headers that end the walk (59: no next header) */
	{ "ipv6_esp_non_tcp", { .family = 6, .l4 = IPPROTO_ESP,
	  .flags = SYN | ACK, .n_ext = 1, .ext = { H_ } },
	  .key = CNT(NON_TCP) },
	{ "ipv6_no_next_header", { .family = 6, .l4 = 59, .flags = SYN | ACK,
	  .n_ext = 1, .ext = { H_ } }, .key = CNT(NON_TCP) },
	{ "ipv6_icmp_non_tcp", { .family = 6, .l4 = IPPROTO_ICMPV6,
	  .flags = SYN | ACK }, .key = CNT(NON_TCP) },
	/* lying payload lengths; the routing header is 16 bytes */
	{ "ipv6_ext_past_payload", { TCP6(SYN | ACK), .n_ext = 1,
	  .ext = { R_ } }, { L3(4, 0), L3(5, 8) },
	  .key = CNT(MAL_IP6_EXT_TRUNC) },
	{ "ipv6_payload_cuts_tcp", { TCP6(SYN | ACK), .n_ext = 1,
	  .ext = { R_ } }, { L3(4, 0), L3(5, 16 + 19) },
	  .key = CNT(MAL_TCP_TRUNC) },
	{ "ipv6_payload_past_frame", { TCP6(SYN | ACK), .n_ext = 1,
	  .ext = { R_ } }, { L3(4, 0x05), L3(5, 0xdc) },
	  .key = CNT(MAL_IP6_TRUNC) },
	/* payload length 0 on a packet short of a jumbogram's 64 KiB: no
	 * payload (RFC 2675; the kernel trims it), so the routing header
	 * lies past the packet's end */
	{ "ipv6_payload_zero_not_jumbo", { TCP6(SYN | ACK), .n_ext = 1,
	  .ext = { R_ } }, { L3(4, 0), L3(5, 0) },
	  .key = CNT(MAL_IP6_EXT_TRUNC) },
	/* and with TCP right behind the header: no TCP header in it */
	{ "ipv6_payload_zero_no_tcp", { TCP6(SYN | ACK) },
	  { L3(4, 0), L3(5, 0) }, .key = CNT(MAL_TCP_TRUNC) },
	/* an IHL under 5 is a bad header, though the lengths lie too */
	{ "ipv4_ihl_4_total_length_past_frame", { TCP4(SYN) },
	  { L3(0, 0x44), L3(2, 0x05), L3(3, 0xdc) }, .key = CNT(MAL_IP4_IHL) },
	/* the extension claims 1608 bytes */
	{ "ipv6_ext_length_past_frame", { TCP6(SYN | ACK), .n_ext = 1,
	  .ext = { R_ } }, { L3(40 + 1, 200) },
	  .key = CNT(MAL_IP6_EXT_TRUNC) },
	{ "ipv6_ethertype_version_4", { TCP6(SYN | ACK), .n_ext = 1,
	  .ext = { R_ } }, { L3(0, 0x45) }, .key = CNT(MAL_IP_VERSION) },
	/* not TCP */
	{ "non_tcp_arp", { .family = 0 }, .key = CNT(NON_TCP) },
	{ "non_tcp_ipv4_udp", { .family = 4, .l4 = IPPROTO_UDP,
	  .payload = 20 }, .key = CNT(NON_TCP) },
	{ "non_tcp_ipv4_icmp", { .family = 4, .l4 = IPPROTO_ICMP },
	  .key = CNT(NON_TCP) },
	{ "non_tcp_ipv6_udp", { .family = 6, .l4 = IPPROTO_UDP },
	  .key = CNT(NON_TCP) },
	/* 60 zero bytes, ethertype LLDP */
	{ "non_tcp_lldp", { .family = 0 }, { { P_RAW, 12, 0x88 },
	  { P_RAW, 13, 0xcc } }, .raw = 60, .key = CNT(NON_TCP) },
};

/* ---------------------------------------- cases made by a generator */

/* Every flag byte, IPv4 and IPv6 (with data when FIN is clear). */
static void gen_patterns(struct bcase *c, char *name, size_t n)
{
	char f[40];

	for (int fam = 4; fam <= 6; fam += 2) {
		for (int b = 0; b < TCPF_PATTERNS; b++) {
			*c = (struct bcase){ .name = name, .s = { .family = fam,
				.l4 = IPPROTO_TCP, .flags = (__u8)b,
				.payload = b & 1 ? 0 : 100 },
				.key = KF(fam == 4 ? V4 : V6, b) };
			snprintf(name, n, "pattern_ipv%d_%s", fam,
				 flags_name((__u8)b, f, sizeof(f)));
			run_case(c);
		}
	}
}

/* IPv4 options of every length, IHL and TCP data offset below 5. */
static void gen_ipv4(struct bcase *c, char *name, size_t n)
{
	for (int opt = 4; opt <= 40; opt += 4) {
		*c = (struct bcase){ .name = name, .s = { TCP4(SYN),
			.ip4_optlen = opt, .tcp_optlen = opt % 24 },
			.key = KF(V4, SYN) };
		snprintf(name, n, "ipv4_options_%d_bytes", opt);
		run_case(c);
	}
	for (int v = 0; v < 5; v++) {
		*c = (struct bcase){ .name = name, .s = { TCP4(SYN) },
			.poke = { L3(0, (__u8)(0x40 | v)) },
			.key = CNT(MAL_IP4_IHL) };
		snprintf(name, n, "ipv4_ihl_%d", v);
		run_case(c);
		c->poke[0] = (struct poke)L4(12, (__u8)(v << 4));
		c->key = CNT(MAL_TCP_DOFF);
		snprintf(name, n, "tcp_doff_%d", v);
		run_case(c);
	}
}

/* A frame cut at every length from the Ethernet header up. */
static void gen_truncations(struct bcase *c, char *name, size_t n)
{
	static const struct bcase whole[] = {
		{ "qinq_ipv4_opts", { .nvlan = 2, .tpid = { 0x88a8, 0x8100 },
		  TCP4(SYN), .ip4_optlen = 8, .tcp_optlen = 12 },
		  .key = KF(V4, SYN) },
		{ "vlan_ipv6_ext", { .nvlan = 1, .tpid = { 0x8100 }, TCP6(RST),
		  .n_ext = 2, .ext = { H_, F_ } }, .key = KF(V6, RST) },
		/* a 54-byte ACK padded to 60: cuts inside the padding count */
		{ "padded_ipv4_ack", { TCP4(ACK) }, .key = KF(V4, ACK) },
	};

	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
		__u8 buf[FRAME_MAX];
		struct frame_layout lay;
		__u32 len = frame_build(&whole[i].s, buf, &lay);
		__u32 ip_trunc = whole[i].s.family == 4 ? CNT(MAL_IP4_TRUNC)
							: CNT(MAL_IP6_TRUNC);

		for (__u32 cut = 14; cut < len; cut++) {
			*c = whole[i];
			c->name = name;
			c->len = cut;
			c->key = cut < lay.l3 ? CNT(MAL_VLAN_TRUNC)
			       : cut < lay.ip_end ? ip_trunc : whole[i].key;
			snprintf(name, n, "truncated_%s_at_%u", whole[i].name,
				 cut);
			run_case(c);
		}
	}
}

/* The benchmark's frame kinds, so what is timed is also what is tested. */
static void gen_bench_kinds(struct bcase *c, char *name, size_t n)
{
	static const __u32 want[] = {
		KF(V4, TCPF_SYN),
		KF(V4, SYN | ACK),
		KF(V4, TCPF_ACK | TCPF_PSH),
		KF(V4, TCPF_FIN | TCPF_ACK),
		KF(V4, TCPF_RST),
		KF(V6, TCPF_SYN),
		KF(V4, TCPF_SYN),
		KF(V6, TCPF_SYN),
		CNT(NON_TCP),
		CNT(MAL_IP4_TRUNC),
	};
	_Static_assert(sizeof(want) / sizeof(want[0]) == 10, "one per kind");

	for (size_t i = 0; i < frame_kinds_count && i < 10; i++) {
		*c = (struct bcase){ .name = name, .s = frame_kinds[i].spec,
			.len = (__u32)frame_kinds[i].truncate_to,
			.key = want[i] };
		snprintf(name, n, "bench_kind_%s", frame_kinds[i].name);
		run_case(c);
	}
}

int main(void)
{
	static void (*const gens[])(struct bcase *c, char *name, size_t n) = {
		gen_patterns, gen_ipv4, gen_truncations, gen_bench_kinds,
	};
	struct hx h;
	struct hx_opts o = { .flows = true };
	struct bcase c;
	char name[80];

	if (hx_open(&h, "", &o))
		return 1;
	H = &h;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++)
		gens[i](&c, name, sizeof(name));
	hx_close(&h);
	return hx_done("test_bpf");
}
