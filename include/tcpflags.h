/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tcpflags.h - the ABI shared by the BPF programs and the tcpflags command.
 *
 * Every struct, constant and name that crosses the kernel/user boundary is
 * defined here and only here.  Only fixed-width __u types, so the same
 * layout holds for the BPF target and for the host.
 */
#ifndef TCPFLAGS_H
#define TCPFLAGS_H

#include <linux/types.h>

/* The TCP flag byte: byte 13 of the TCP header, low bit first. */
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20
#define TCPF_ECE 0x40
#define TCPF_CWR 0x80
#define TCPF_NFLAGS 8
#define TCPF_PATTERNS 256        /* every value of the flag byte */
#define TCPF_FLAG_BYTE_OFF 13    /* offset of the flag byte in the TCP header */

/* Address families of counted TCP segments. */
enum tcpf_family {
	TCPF_IPV4 = 0,
	TCPF_IPV6 = 1,
	TCPF_FAMILIES = 2,
};

/*
 * Frames that carry no countable TCP flag byte, by what they are.
 * Malformed reasons are contiguous from TCPF_CNT_MAL_FIRST.
 */
enum tcpf_counter {
	TCPF_CNT_NON_TCP = 0,        /* not IP, or IP carrying another protocol */
	TCPF_CNT_TCP_FRAGMENT,       /* non-first fragment of a TCP packet: no header */
	TCPF_CNT_MAL_ETH_TRUNC,      /* shorter than an Ethernet header */
	TCPF_CNT_MAL_VLAN_TRUNC,     /* VLAN tag cut short */
	TCPF_CNT_MAL_VLAN_DEPTH,     /* more than two VLAN tags */
	TCPF_CNT_MAL_IP_VERSION,     /* version field disagrees with EtherType */
	TCPF_CNT_MAL_IP4_TRUNC,      /* IPv4 header or total length past the frame */
	TCPF_CNT_MAL_IP4_IHL,        /* IHL < 5 or header longer than total length */
	TCPF_CNT_MAL_IP6_TRUNC,      /* IPv6 header or payload length past the frame */
	TCPF_CNT_MAL_IP6_EXT_TRUNC,  /* extension header past the packet */
	TCPF_CNT_MAL_IP6_EXT_DEPTH,  /* extension chain longer than TCPF_IP6_EXT_MAX */
	TCPF_CNT_MAL_TCP_TRUNC,      /* fewer than 20 bytes of TCP header in the packet */
	TCPF_CNT_MAL_TCP_DOFF,       /* data offset < 5 or past the packet */
	TCPF_CNT_MAX,
};
#define TCPF_CNT_MAL_FIRST TCPF_CNT_MAL_ETH_TRUNC

#define TCPF_VLAN_MAX 2          /* 802.1Q / 802.1ad tags parsed */
#define TCPF_IP6_EXT_MAX 8       /* IPv6 extension headers walked */

/*
 * tcpf_stats: one per-CPU array holds every counter.  Keys 0..511 are the
 * flag patterns (family * 256 + flag byte), the rest are enum tcpf_counter.
 * A frame touches exactly one key, so the hot path is one map lookup.
 */
#define TCPF_KEY_FLAGS(family, flags) ((__u32)(family) * TCPF_PATTERNS + (flags))
#define TCPF_KEY_CNT(counter) (TCPF_FAMILIES * TCPF_PATTERNS + (__u32)(counter))
#define TCPF_STATS_ENTRIES TCPF_KEY_CNT(TCPF_CNT_MAX)

struct tcpf_count {
	__u64 packets;
	__u64 bytes;                 /* frame length as XDP sees it */
};
_Static_assert(sizeof(struct tcpf_count) == 16, "tcpf_count layout");

/* Attach modes recorded in tcpf_meta (values of enum xdp_attach_mode). */
enum tcpf_mode {
	TCPF_MODE_NATIVE = 1,
	TCPF_MODE_SKB = 2,
};

/*
 * tcpf_meta: a one-entry array written by `tcpflags attach`, so `status`
 * can tell what is attached where, and since when, from the pins alone.
 */
struct tcpf_meta {
	__u32 ifindex;
	__u32 prog_id;
	__u64 attached_at;           /* CLOCK_REALTIME seconds of the first attach */
	__u64 loaded_at;             /* CLOCK_REALTIME seconds of the latest load */
	__u32 mode;                  /* enum tcpf_mode */
	__u32 abi;                   /* TCPF_ABI_VERSION */
	char ifname[16];
};
_Static_assert(sizeof(struct tcpf_meta) == 48, "tcpf_meta layout");

#define TCPF_ABI_VERSION 1

/*
 * Validity of a flag byte, as the kernel's conntrack judges it
 * (nf_conntrack_proto_tcp.c, tcp_valid_flags): PSH, ECE and CWR are
 * ignored, and the rest must be one of nine combinations.  A switch, not a
 * table: clang 14 emits .rodata BTF the kernel rejects for static arrays.
 */
static inline int tcpf_flags_valid(__u8 flags)
{
	switch (flags & ~(TCPF_PSH | TCPF_ECE | TCPF_CWR)) {
	case TCPF_SYN:
	case TCPF_SYN | TCPF_URG:
	case TCPF_SYN | TCPF_ACK:
	case TCPF_RST:
	case TCPF_RST | TCPF_ACK:
	case TCPF_FIN | TCPF_ACK:
	case TCPF_FIN | TCPF_ACK | TCPF_URG:
	case TCPF_ACK:
	case TCPF_ACK | TCPF_URG:
		return 1;
	default:
		return 0;
	}
}

#endif /* TCPFLAGS_H */
