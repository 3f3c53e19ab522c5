// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_bpf.c - the XDP program on crafted frames (BPF_PROG_TEST_RUN).
 * Every case asserts the verdict, that exactly one counter moved by one
 * packet and the frame's length in bytes, and that nothing else changed.
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

/* Run one frame; it must pass and move exactly `key` by 1 and len bytes. */
static void expect(const char *name, const __u8 *buf, __u32 len, __u32 key)
{
	struct hx_want w = { .dir = HX_IN, .watch = HX_WATCH(HX_STATS),
			     .nmoves = 1, .move = { { HX_STATS, key, 1 } } };
	char why[1024];

	hx_check(H, !hx_frame(H, &w, buf, len, why, sizeof(why)), name, "%s",
		 why);
}

static void expect_spec(const char *name, const struct frame_spec *s,
			__u32 key)
{
	__u8 buf[FRAME_MAX];
	struct frame_layout lay;

	expect(name, buf, frame_build(s, buf, &lay), key);
}

#define V4 TCPF_IPV4
#define V6 TCPF_IPV6
#define CNT(c) TCPF_KEY_CNT(TCPF_CNT_##c)

static void test_all_patterns(void)
{
	char name[64], f[40];

	for (int fam = 4; fam <= 6; fam += 2) {
		for (int b = 0; b < TCPF_PATTERNS; b++) {
			struct frame_spec s = { .family = fam,
				.l4 = IPPROTO_TCP, .flags = (__u8)b,
				.payload = b & 1 ? 0 : 100 };

			snprintf(name, sizeof(name), "pattern_ipv%d_%s", fam,
				 flags_name((__u8)b, f, sizeof(f)));
			expect_spec(name, &s,
				    TCPF_KEY_FLAGS(fam == 4 ? V4 : V6, b));
		}
	}
}

static void test_vlan(void)
{
	struct frame_spec q = { .nvlan = 1, .tpid = { 0x8100 }, .vid = { 7 },
				.family = 4, .l4 = IPPROTO_TCP,
				.flags = TCPF_SYN };
	struct frame_spec ad = { .nvlan = 1, .tpid = { 0x88a8 },
				 .vid = { 7 }, .family = 6,
				 .l4 = IPPROTO_TCP, .flags = TCPF_SYN };
	struct frame_spec qinq = { .nvlan = 2, .tpid = { 0x88a8, 0x8100 },
				   .vid = { 10, 20 }, .family = 4,
				   .l4 = IPPROTO_TCP,
				   .flags = TCPF_FIN | TCPF_ACK };
	struct frame_spec qinq6 = qinq;
	struct frame_spec deep = { .nvlan = 3,
				   .tpid = { 0x88a8, 0x8100, 0x8100 },
				   .family = 4, .l4 = IPPROTO_TCP,
				   .flags = TCPF_SYN };
	struct frame_spec udp = { .nvlan = 2, .tpid = { 0x8100, 0x8100 },
				  .family = 4, .l4 = IPPROTO_UDP };

	qinq6.family = 6;
	expect_spec("vlan_8021q_ipv4_syn", &q, TCPF_KEY_FLAGS(V4, TCPF_SYN));
	expect_spec("vlan_8021ad_ipv6_syn", &ad, TCPF_KEY_FLAGS(V6, TCPF_SYN));
	expect_spec("vlan_qinq_ipv4_finack", &qinq,
		    TCPF_KEY_FLAGS(V4, TCPF_FIN | TCPF_ACK));
	expect_spec("vlan_qinq_ipv6_finack", &qinq6,
		    TCPF_KEY_FLAGS(V6, TCPF_FIN | TCPF_ACK));
	expect_spec("vlan_three_tags_too_deep", &deep, CNT(MAL_VLAN_DEPTH));
	expect_spec("vlan_qinq_udp_non_tcp", &udp, CNT(NON_TCP));
}

static void test_ipv4(void)
{
	char name[64];
	__u8 buf[FRAME_MAX];
	struct frame_layout lay;
	struct frame_spec s = { .family = 4, .l4 = IPPROTO_TCP,
				.flags = TCPF_SYN };
	__u32 len;

	for (int opt = 4; opt <= 40; opt += 4) {
		s.ip4_optlen = opt;
		s.tcp_optlen = opt % 24;
		snprintf(name, sizeof(name), "ipv4_options_%d_bytes", opt);
		expect_spec(name, &s, TCPF_KEY_FLAGS(V4, TCPF_SYN));
	}
	s.ip4_optlen = 0;
	s.tcp_optlen = 0;

	/* fragments: the first carries the header, the rest none */
	s.ip4_frag = 0x2000;                       /* MF, offset 0 */
	expect_spec("ipv4_first_fragment_counted", &s,
		    TCPF_KEY_FLAGS(V4, TCPF_SYN));
	s.ip4_frag = 0x2000 | 185;                 /* MF, offset 1480 */
	expect_spec("ipv4_middle_fragment", &s, CNT(TCP_FRAGMENT));
	s.ip4_frag = 185;                          /* last fragment */
	expect_spec("ipv4_last_fragment", &s, CNT(TCP_FRAGMENT));
	s.ip4_frag = 1;                            /* offset 8: tiny overlap */
	expect_spec("ipv4_offset8_fragment", &s, CNT(TCP_FRAGMENT));
	s.ip4_frag = 0x4000;                       /* DF only */
	expect_spec("ipv4_dont_fragment_counted", &s,
		    TCPF_KEY_FLAGS(V4, TCPF_SYN));
	s.ip4_frag = 185;
	s.l4 = IPPROTO_UDP;
	expect_spec("ipv4_udp_fragment_non_tcp", &s, CNT(NON_TCP));
	s.ip4_frag = 0;
	s.l4 = IPPROTO_TCP;

	/* bad IHL: below 5, and longer than the packet */
	for (int ihl = 0; ihl < 5; ihl++) {
		len = frame_build(&s, buf, &lay);
		buf[lay.l3] = (__u8)(0x40 | ihl);
		snprintf(name, sizeof(name), "ipv4_ihl_%d", ihl);
		expect(name, buf, len, CNT(MAL_IP4_IHL));
	}
	len = frame_build(&s, buf, &lay);
	buf[lay.l3] = 0x4f;                        /* 60 bytes > total 40 */
	buf[lay.l3 + 2] = 0, buf[lay.l3 + 3] = 40;
	expect("ipv4_ihl_past_total_length", buf, len, CNT(MAL_IP4_IHL));

	/* lying total length: past the frame, or too short for TCP */
	len = frame_build(&s, buf, &lay);
	buf[lay.l3 + 2] = 0x05, buf[lay.l3 + 3] = 0xdc;  /* 1500 */
	expect("ipv4_total_length_past_frame", buf, len, CNT(MAL_IP4_TRUNC));
	len = frame_build(&s, buf, &lay);
	buf[lay.l3 + 3] = 20 + 19;
	expect("ipv4_total_length_cuts_tcp", buf, len, CNT(MAL_TCP_TRUNC));

	/* TCP data offset: below 5, and past the packet */
	for (int doff = 0; doff < 5; doff++) {
		len = frame_build(&s, buf, &lay);
		buf[lay.l4 + 12] = (__u8)(doff << 4);
		snprintf(name, sizeof(name), "tcp_doff_%d", doff);
		expect(name, buf, len, CNT(MAL_TCP_DOFF));
	}
	len = frame_build(&s, buf, &lay);
	buf[lay.l4 + 12] = 0xf0;                   /* 60 bytes, packet has 20 */
	expect("tcp_doff_past_packet", buf, len, CNT(MAL_TCP_DOFF));
	s.tcp_optlen = 40;
	len = frame_build(&s, buf, &lay);
	expect("tcp_doff_15_fits", buf, len, TCPF_KEY_FLAGS(V4, TCPF_SYN));
	s.tcp_optlen = 0;

	/* padding past the IP packet is not TCP header */
	s.flags = TCPF_ACK;
	len = frame_build(&s, buf, &lay);
	buf[lay.l3 + 3] = 20 + 20;
	expect("ipv4_ethernet_padding_ignored", buf, len,
	       TCPF_KEY_FLAGS(V4, TCPF_ACK));

	len = frame_build(&s, buf, &lay);
	buf[lay.l3] = 0x65;
	expect("ipv4_ethertype_version_6", buf, len, CNT(MAL_IP_VERSION));
}

static void test_ipv6(void)
{
	static const __u8 exts[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING,
				     IPPROTO_DSTOPTS, IPPROTO_FRAGMENT,
				     IPPROTO_AH };
	static const char *const ext_names[] = { "hopopts", "routing",
						 "dstopts", "fragment", "ah" };
	struct frame_spec s = { .family = 6, .l4 = IPPROTO_TCP,
				.flags = TCPF_SYN | TCPF_ACK };
	__u8 buf[FRAME_MAX];
	struct frame_layout lay;
	char name[64];
	__u32 len, key = TCPF_KEY_FLAGS(V6, TCPF_SYN | TCPF_ACK);

	for (size_t i = 0; i < sizeof(exts); i++) {
		s.n_ext = 1;
		s.ext[0] = exts[i];
		snprintf(name, sizeof(name), "ipv6_ext_%s", ext_names[i]);
		expect_spec(name, &s, key);
	}
	/* the longest chain walked, and one more */
	s.n_ext = TCPF_IP6_EXT_MAX;
	for (int i = 0; i < s.n_ext; i++)
		s.ext[i] = exts[i % sizeof(exts)];
	expect_spec("ipv6_ext_chain_at_limit", &s, key);
	s.n_ext = TCPF_IP6_EXT_MAX + 1;
	s.ext[TCPF_IP6_EXT_MAX] = IPPROTO_DSTOPTS;
	expect_spec("ipv6_ext_chain_too_long", &s, CNT(MAL_IP6_EXT_DEPTH));

	/* fragments */
	s.n_ext = 2;
	s.ext[0] = IPPROTO_HOPOPTS;
	s.ext[1] = IPPROTO_FRAGMENT;
	s.ip6_frag = 0x0001;                       /* offset 0, M */
	expect_spec("ipv6_first_fragment_counted", &s, key);
	s.ip6_frag = 1480;                         /* offset 185*8 */
	expect_spec("ipv6_later_fragment", &s, CNT(TCP_FRAGMENT));
	s.l4 = IPPROTO_UDP;
	expect_spec("ipv6_udp_fragment_non_tcp", &s, CNT(NON_TCP));
	s.l4 = IPPROTO_TCP;
	s.ip6_frag = 0;

	/* headers that end the walk */
	s.n_ext = 1;
	s.ext[0] = IPPROTO_HOPOPTS;
	s.l4 = IPPROTO_ESP;
	expect_spec("ipv6_esp_non_tcp", &s, CNT(NON_TCP));
	s.l4 = 59;                                 /* no next header */
	expect_spec("ipv6_no_next_header", &s, CNT(NON_TCP));
	s.l4 = IPPROTO_ICMPV6;
	s.n_ext = 0;
	expect_spec("ipv6_icmp_non_tcp", &s, CNT(NON_TCP));
	s.l4 = IPPROTO_TCP;

	/* lying payload lengths */
	s.n_ext = 1;
	s.ext[0] = IPPROTO_ROUTING;
	len = frame_build(&s, buf, &lay);
	buf[lay.l3 + 4] = 0, buf[lay.l3 + 5] = 8;  /* ext is 16 bytes */
	expect("ipv6_ext_past_payload", buf, len, CNT(MAL_IP6_EXT_TRUNC));
	len = frame_build(&s, buf, &lay);
	buf[lay.l3 + 4] = 0, buf[lay.l3 + 5] = 16 + 19;
	expect("ipv6_payload_cuts_tcp", buf, len, CNT(MAL_TCP_TRUNC));
	len = frame_build(&s, buf, &lay);
	buf[lay.l3 + 4] = 0x05, buf[lay.l3 + 5] = 0xdc;
	expect("ipv6_payload_past_frame", buf, len, CNT(MAL_IP6_TRUNC));
	len = frame_build(&s, buf, &lay);
	buf[lay.l3 + 4] = 0, buf[lay.l3 + 5] = 0;  /* jumbogram: frame rules */
	expect("ipv6_payload_zero_jumbo", buf, len, key);
	len = frame_build(&s, buf, &lay);
	buf[lay.l3 + 40 + 1] = 200;                /* ext claims 1608 bytes */
	expect("ipv6_ext_length_past_frame", buf, len, CNT(MAL_IP6_EXT_TRUNC));
	len = frame_build(&s, buf, &lay);
	buf[lay.l3] = 0x45;
	expect("ipv6_ethertype_version_4", buf, len, CNT(MAL_IP_VERSION));
}

static void test_non_tcp(void)
{
	struct frame_spec arp = { .family = 0 };
	struct frame_spec udp = { .family = 4, .l4 = IPPROTO_UDP,
				  .payload = 20 };
	struct frame_spec icmp = { .family = 4, .l4 = IPPROTO_ICMP };
	struct frame_spec udp6 = { .family = 6, .l4 = IPPROTO_UDP };
	__u8 buf[FRAME_MAX] = { 0 };

	expect_spec("non_tcp_arp", &arp, CNT(NON_TCP));
	expect_spec("non_tcp_ipv4_udp", &udp, CNT(NON_TCP));
	expect_spec("non_tcp_ipv4_icmp", &icmp, CNT(NON_TCP));
	expect_spec("non_tcp_ipv6_udp", &udp6, CNT(NON_TCP));
	buf[12] = 0x88, buf[13] = 0xcc;            /* LLDP */
	expect("non_tcp_lldp", buf, 60, CNT(NON_TCP));
}

/* Cut a frame at every length from the Ethernet header up. */
static void truncations(const char *base, const struct frame_spec *s,
			__u32 tcp_key)
{
	__u8 buf[FRAME_MAX];
	struct frame_layout lay;
	char name[80];
	__u32 len = frame_build(s, buf, &lay);
	__u32 ip_trunc = s->family == 4 ? CNT(MAL_IP4_TRUNC)
					: CNT(MAL_IP6_TRUNC);

	for (__u32 cut = 14; cut < len; cut++) {
		__u32 key = cut < lay.l3 ? CNT(MAL_VLAN_TRUNC)
			  : cut < lay.ip_end ? ip_trunc : tcp_key;

		snprintf(name, sizeof(name), "truncated_%s_at_%u", base, cut);
		expect(name, buf, cut, key);
	}
}

static void test_truncations(void)
{
	struct frame_spec v4 = { .nvlan = 2, .tpid = { 0x88a8, 0x8100 },
				 .family = 4, .l4 = IPPROTO_TCP,
				 .ip4_optlen = 8, .tcp_optlen = 12,
				 .flags = TCPF_SYN };
	struct frame_spec v6 = { .nvlan = 1, .tpid = { 0x8100 }, .family = 6,
				 .l4 = IPPROTO_TCP, .n_ext = 2,
				 .ext = { IPPROTO_HOPOPTS, IPPROTO_FRAGMENT },
				 .flags = TCPF_RST };
	struct frame_spec pad = { .family = 4, .l4 = IPPROTO_TCP,
				  .flags = TCPF_ACK };

	truncations("qinq_ipv4_opts", &v4, TCPF_KEY_FLAGS(V4, TCPF_SYN));
	truncations("vlan_ipv6_ext", &v6, TCPF_KEY_FLAGS(V6, TCPF_RST));
	/* a 54-byte ACK padded to 60: cuts inside the padding still count */
	truncations("padded_ipv4_ack", &pad, TCPF_KEY_FLAGS(V4, TCPF_ACK));
}

/* The benchmark's frame kinds, so what is timed is also what is tested. */
static void test_bench_kinds(void)
{
	static const __u32 want[] = {
		TCPF_KEY_FLAGS(V4, TCPF_SYN),
		TCPF_KEY_FLAGS(V4, TCPF_SYN | TCPF_ACK),
		TCPF_KEY_FLAGS(V4, TCPF_ACK | TCPF_PSH),
		TCPF_KEY_FLAGS(V4, TCPF_FIN | TCPF_ACK),
		TCPF_KEY_FLAGS(V4, TCPF_RST),
		TCPF_KEY_FLAGS(V6, TCPF_SYN),
		TCPF_KEY_FLAGS(V4, TCPF_SYN),
		TCPF_KEY_FLAGS(V6, TCPF_SYN),
		CNT(NON_TCP),
		CNT(MAL_IP4_TRUNC),
	};
	_Static_assert(sizeof(want) / sizeof(want[0]) == 10, "one per kind");
	__u8 buf[FRAME_MAX];
	struct frame_layout lay;
	char name[64];

	for (size_t i = 0; i < frame_kinds_count && i < 10; i++) {
		__u32 len = frame_build(&frame_kinds[i].spec, buf, &lay);

		if (frame_kinds[i].truncate_to)
			len = (__u32)frame_kinds[i].truncate_to;
		snprintf(name, sizeof(name), "bench_kind_%s",
			 frame_kinds[i].name);
		expect(name, buf, len, want[i]);
	}
}

int main(void)
{
	struct hx h;
	struct hx_opts o = { .flows = true };

	if (hx_open(&h, "", &o))
		return 1;
	H = &h;
	test_all_patterns();
	test_vlan();
	test_ipv4();
	test_ipv6();
	test_non_tcp();
	test_truncations();
	test_bench_kinds();
	hx_close(&h);
	return hx_done("test_bpf");
}
