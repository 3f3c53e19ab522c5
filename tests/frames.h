/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * frames.h - crafted frames for BPF_PROG_TEST_RUN.  One builder and one
 * table of named frame kinds serve both the unit tests and `make bench`.
 */
#ifndef TCPF_FRAMES_H
#define TCPF_FRAMES_H

#include <stddef.h>
#include <linux/types.h>

#define FRAME_MAX 1024
#define FRAME_MAX_EXT 10

struct frame_spec {
	int nvlan;                 /* 0, 1 or 2 (3 for the too-deep case) */
	__u16 tpid[3];             /* 0x8100 or 0x88a8 */
	__u16 vid[3];
	int family;                /* 4, 6, or 0 for ARP */
	__u8 l4;                   /* IPPROTO_* carried by IP */
	int ip4_optlen;            /* bytes of IPv4 options, multiple of 4 */
	__u16 ip4_frag;            /* IPv4 frag_off field, host order */
	int n_ext;                 /* IPv6 extension headers before l4 */
	__u8 ext[FRAME_MAX_EXT];   /* their types */
	__u16 ip6_frag;            /* offset field of a fragment header */
	__u8 flags;                /* TCP flag byte */
	int tcp_optlen;            /* bytes of TCP options, multiple of 4 */
	int payload;               /* bytes after the transport header */
	/*
	 * Optional, for the flow tests; zero keeps the defaults: the test
	 * hosts' addresses, ports 40000 -> 80 (53 for UDP), sequence
	 * 0x11000001 and, when ACK is set, acknowledgment 0x22000002.
	 */
	int seqack;                /* nonzero: .seq and .ack are used as given */
	__u32 seq;                 /* TCP sequence number */
	__u32 ack;                 /* TCP acknowledgment number (even without ACK) */
	__u16 sport, dport;        /* ports, 0: the default one */
	const __u8 *saddr, *daddr; /* 4 or 16 bytes by family, NULL: default */
	int swap;                  /* the reverse direction: swap the addresses,
				      ports and MACs after the above */
};

/* Where the builder put things, for tests that then corrupt a field. */
struct frame_layout {
	__u32 len;
	__u32 l3;                  /* offset of the IP header */
	__u32 l4;                  /* offset of the transport header */
	__u32 ip_end;              /* offset where the IP packet ends */
};

/* Build a frame with correct lengths and checksums; returns its length. */
__u32 frame_build(const struct frame_spec *s, __u8 *buf,
		  struct frame_layout *lay);

/* Recompute the IPv4 header checksum after a field was changed. */
void frame_fix_ip4_csum(__u8 *buf, const struct frame_layout *lay);

/* The named frame kinds the benchmark times and the tests also check. */
struct frame_kind {
	const char *name;
	struct frame_spec spec;
	int truncate_to;           /* > 0: cut the built frame to this */
	int extra;                 /* beyond the kinds count_path is defined on */
};
extern const struct frame_kind frame_kinds[];
extern const size_t frame_kinds_count;

#endif
