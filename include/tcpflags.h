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
#include <linux/bpf.h>        /* bpf_spin_lock, bpf_timer in map values */

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
 * Enumerations with names: each is one list X(ENUMERATOR, "name"), so a
 * value and the name stats, JSON, rules and the exporter give it are one
 * definition.  The enum takes the list through TCPF_X_ENUM; userspace
 * builds its name table through TCPF_X_NAME (user/counters.c).
 */
#define TCPF_X_ENUM(e, name) e,
#define TCPF_X_NAME(e, name) [e] = name,

/*
 * Frames that carry no countable TCP flag byte, by what they are.
 * Malformed reasons are contiguous from TCPF_CNT_MAL_FIRST.
 */
#define TCPF_COUNTERS(X)                                                       \
	/* not IP, or IP carrying another protocol */                          \
	X(TCPF_CNT_NON_TCP, "non_tcp")                                         \
	/* non-first fragment of a TCP packet: no header */                    \
	X(TCPF_CNT_TCP_FRAGMENT, "tcp_fragment")                               \
	/* shorter than an Ethernet header */                                  \
	X(TCPF_CNT_MAL_ETH_TRUNC, "eth_truncated")                             \
	/* VLAN tag cut short */                                               \
	X(TCPF_CNT_MAL_VLAN_TRUNC, "vlan_truncated")                           \
	/* more than two VLAN tags */                                          \
	X(TCPF_CNT_MAL_VLAN_DEPTH, "vlan_too_deep")                            \
	/* version field disagrees with EtherType */                           \
	X(TCPF_CNT_MAL_IP_VERSION, "ip_bad_version")                           \
	/* IPv4 header or total length past the frame */                       \
	X(TCPF_CNT_MAL_IP4_TRUNC, "ip4_truncated")                             \
	/* IHL < 5 or header longer than total length */                       \
	X(TCPF_CNT_MAL_IP4_IHL, "ip4_bad_ihl")                                 \
	/* IPv6 header or payload length past the frame */                     \
	X(TCPF_CNT_MAL_IP6_TRUNC, "ip6_truncated")                             \
	/* extension header past the packet */                                 \
	X(TCPF_CNT_MAL_IP6_EXT_TRUNC, "ip6_ext_truncated")                     \
	/* extension chain longer than TCPF_IP6_EXT_MAX */                     \
	X(TCPF_CNT_MAL_IP6_EXT_DEPTH, "ip6_ext_too_long")                      \
	/* fewer than 20 bytes of TCP header in the packet */                  \
	X(TCPF_CNT_MAL_TCP_TRUNC, "tcp_truncated")                             \
	/* data offset < 5 or past the packet */                               \
	X(TCPF_CNT_MAL_TCP_DOFF, "tcp_bad_doff")
enum tcpf_counter { TCPF_COUNTERS(TCPF_X_ENUM) TCPF_CNT_MAX };
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

/*
 * A second layout of the same tree, for the upgrade test only (make
 * LAYOUT_TEST=1 builds it into build/layout-test/): a word in front of the
 * counters, the flow entries, the rate-limit buckets, the flow settings
 * and the rule sets, so every member moves.
 */
#ifdef TCPF_LAYOUT_TEST
#define TCPF_LAYOUT_WORD __u64 layout_test;
#define TCPF_LAYOUT_SIZE 8
#else
#define TCPF_LAYOUT_WORD
#define TCPF_LAYOUT_SIZE 0
#endif

/*
 * A member that counts: where an upgrade finds both the old program and
 * the new one moved it on, it adds the old one's increase to the new
 * value instead of keeping one side (user/migrate.c reads the tag from
 * the BTF).
 */
#ifdef __bpf__
#define TCPF_COUNTER __attribute__((btf_decl_tag("tcpf_counter")))
#else
#define TCPF_COUNTER
#endif

struct tcpf_count {
	TCPF_LAYOUT_WORD
	__u64 packets;
	__u64 bytes;                 /* frame length as XDP sees it */
};
_Static_assert(sizeof(struct tcpf_count) == 16 + TCPF_LAYOUT_SIZE, "tcpf_count layout");

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

/*
 * The pinned maps' ABI, recorded in tcpf_meta: bump it when a map's meaning
 * changes in a way its layout (type, key, value, entries) does not show.
 * Attach refuses pins of another ABI, as it refuses another layout
 * (user/maps.h); `status` prints it.
 */
#define TCPF_ABI_VERSION 1

/*
 * Upgrades (user/migrate.c).  A pinned map's layout version is a digest of
 * its type, sizes and the BTF of its key and value, which the kernel keeps
 * with every map: attaching a build whose layout differs makes maps of the
 * new layout, copies what the pins hold member by member (by name), swaps
 * the programs in and re-pins.  The per-CPU counters that go on counting
 * while that happens are added in at the end by tcpf_migrate_add (run on
 * each CPU in turn), atomically, so no count is lost to the data path.
 * X(map, value type): every per-CPU map whose values are __u64 counters.
 */
#define TCPF_ADD_MAPS(X)                                                       \
	X(stats, struct tcpf_count)                                            \
	X(phases, __u64)                                                       \
	X(rhits, struct tcpf_count)                                            \
	X(drops, struct tcpf_count)                                            \
	X(conns, __u64)                                                        \
	X(gstats, __u64)
#define TCPF_ADD_ID(map, type) TCPF_ADD_##map,
enum tcpf_add_map { TCPF_ADD_MAPS(TCPF_ADD_ID) TCPF_ADD_MAX };
#undef TCPF_ADD_ID

#define TCPF_ADD_WORDS 4         /* the largest counter value, in __u64s */
struct tcpf_add {                /* tcpf_migrate_add's frame */
	__u32 map;                   /* enum tcpf_add_map */
	__u32 key;
	__u64 word[TCPF_ADD_WORDS];  /* added to this CPU's value, word by word */
};


/* ------------------------------------------------------------------ */
/* Flows: the handshake/teardown state machine (bpf/flow.bpf.h).       */

/* Connection states, as the local endpoint would see them (RFC 9293). */
#define TCPF_STATES(X)                                                         \
	X(TCPF_ST_NONE, "none")                                                \
	/* local sent the SYN, no SYN-ACK yet */                               \
	X(TCPF_ST_SYN_SENT, "syn_sent")                                        \
	/* a SYN arrived for local */                                          \
	X(TCPF_ST_SYN_RECV, "syn_recv")                                        \
	X(TCPF_ST_ESTABLISHED, "established")                                  \
	/* local sent the first FIN, not acked */                              \
	X(TCPF_ST_FIN_WAIT1, "fin_wait1")                                      \
	/* local's first FIN acked, peer still open */                         \
	X(TCPF_ST_FIN_WAIT2, "fin_wait2")                                      \
	/* the peer sent the first FIN */                                      \
	X(TCPF_ST_CLOSE_WAIT, "close_wait")                                    \
	/* local answered with its FIN, not acked */                           \
	X(TCPF_ST_LAST_ACK, "last_ack")                                        \
	/* both FINs crossed, local's not acked */                             \
	X(TCPF_ST_CLOSING, "closing")                                          \
	/* local closed first, both FINs acked */                              \
	X(TCPF_ST_TIME_WAIT, "time_wait")
enum tcpf_state { TCPF_STATES(TCPF_X_ENUM) TCPF_ST_MAX };

/* Where a segment sits in the life of its connection. */
#define TCPF_PHASES(X)                                                         \
	/* handshake_syn */                                                    \
	X(TCPF_PH_SYN, "handshake_syn")                                        \
	/* handshake_synack */                                                 \
	X(TCPF_PH_SYNACK, "handshake_synack")                                  \
	/* handshake_ack: completes the handshake */                           \
	X(TCPF_PH_ACK, "handshake_ack")                                        \
	/* data and ACKs of an open connection */                              \
	X(TCPF_PH_ESTABLISHED, "established")                                  \
	/* teardown_fin1: the first FIN */                                     \
	X(TCPF_PH_FIN1, "teardown_fin1")                                       \
	/* teardown_ack1: the ACK of the first FIN */                          \
	X(TCPF_PH_ACK1, "teardown_ack1")                                       \
	/* teardown_fin2: the second FIN */                                    \
	X(TCPF_PH_FIN2, "teardown_fin2")                                       \
	/* teardown_ack2: the ACK of the second FIN */                         \
	X(TCPF_PH_ACK2, "teardown_ack2")                                       \
	/* RST of a tracked connection or handshake */                         \
	X(TCPF_PH_RESET, "reset")                                              \
	/* a SYN, SYN-ACK, FIN or data sent again */                           \
	X(TCPF_PH_RETRANSMIT, "retransmit")                                    \
	/* fits no tracked connection, or breaks it */                         \
	X(TCPF_PH_OUT_OF_STATE, "out_of_state")
enum tcpf_phase { TCPF_PHASES(TCPF_X_ENUM) TCPF_PH_MAX };

/*
 * Whether the tracker (bpf/flow.bpf.h) can give a segment with flag byte
 * f this phase: it looks at SYN, ACK, RST and FIN only, and RST always
 * means reset.  The rule compiler drops, per flag byte, the rules whose
 * phases cannot occur, so the XDP path never takes them as candidates;
 * tests/test_flow.c checks every phase the tracker gives against this.
 */
static inline int tcpf_phase_possible(__u32 phase, __u8 f)
{
	__u8 sarf = f & (TCPF_SYN | TCPF_ACK | TCPF_RST | TCPF_FIN);

	switch (phase) {
	case TCPF_PH_SYN:
		return sarf == TCPF_SYN;
	case TCPF_PH_SYNACK:
		return sarf == (TCPF_SYN | TCPF_ACK);
	case TCPF_PH_ACK:
		return sarf == TCPF_ACK;
	case TCPF_PH_ESTABLISHED:
		return !(f & (TCPF_SYN | TCPF_RST | TCPF_FIN));
	case TCPF_PH_FIN1:
	case TCPF_PH_FIN2:
		return (f & TCPF_FIN) && !(f & (TCPF_SYN | TCPF_RST));
	case TCPF_PH_ACK1:
	case TCPF_PH_ACK2:
		return sarf == TCPF_ACK;
	case TCPF_PH_RESET:
		return !!(f & TCPF_RST);
	case TCPF_PH_RETRANSMIT:
		return !(f & TCPF_RST);
	default:	/* out of state, untracked: anything */
		return 1;
	}
}

/* Segment directions: XDP sees ingress, the TC observer egress. */
enum tcpf_dir {
	TCPF_DIR_INGRESS = 0,
	TCPF_DIR_EGRESS = 1,
	TCPF_DIRS = 2,
};

/*
 * tcpf_phases (per interface, per-CPU): segments per direction and phase,
 * key = dir * TCPF_PH_MAX + phase.
 */
#define TCPF_KEY_PHASE(dir, phase) ((__u32)(dir) * TCPF_PH_MAX + (phase))
#define TCPF_PHASE_ENTRIES (TCPF_DIRS * TCPF_PH_MAX)

/* tcpf_conns (per network namespace, per-CPU): connection events. */
#define TCPF_CONN_COUNTERS(X)                                                  \
	/* handshakes completed */                                             \
	X(TCPF_CONN_OPENED, "opened")                                          \
	/* orderly teardowns that reached TIME_WAIT/CLOSED */                  \
	X(TCPF_CONN_CLOSED, "closed")                                          \
	/* tracked connections ended by RST */                                 \
	X(TCPF_CONN_RESET, "reset")                                            \
	/* handshakes ended by RST (port closed) */                            \
	X(TCPF_CONN_REFUSED, "refused")                                        \
	/* tracked connections idle past their timeout */                      \
	X(TCPF_CONN_EXPIRED, "expired")                                        \
	/* tracked connections displaced by a new one */                       \
	X(TCPF_CONN_EVICTED, "evicted")                                        \
	/* half-open handshakes that timed out */                              \
	X(TCPF_CONN_HALF_OPEN_EXPIRED, "half_open_expired")                    \
	/* half-open slots taken by another SYN */                             \
	X(TCPF_CONN_HALF_OPEN_EVICTED, "half_open_evicted")
enum tcpf_conn_counter { TCPF_CONN_COUNTERS(TCPF_X_ENUM) TCPF_CONN_MAX };

/*
 * A flow key is canonical: the two endpoints in a fixed order, so both
 * directions of a connection find one entry.  IPv4 addresses are stored
 * IPv4-mapped (::ffff:a.b.c.d).  Side 0 is the lower (address, port).
 */
struct tcpf_flow_key {
	__u8 addr[2][16];
	__u16 port[2];           /* network byte order */
	__u16 vlan;              /* innermost VLAN id, 0 when untagged */
	__u8 family;             /* enum tcpf_family */
	__u8 pad;
};
_Static_assert(sizeof(struct tcpf_flow_key) == 40, "tcpf_flow_key layout");

/*
 * The hash that places a key in the flow table and the half-open slots; the
 * one definition for the XDP path and the tests.  Ten 32-bit words, each
 * multiplied by its own odd 64-bit constant: the products do not wait on
 * each other (a byte-at-a-time chain costs ~60 cycles per segment), then
 * the sum is folded so every bit of the key reaches the bits that index.
 * 32-bit words, not 64: a product carries a bit only upwards, so the top
 * byte of a 64-bit word (byte 7 and 15 of an IPv6 address, the last octet
 * of an IPv4 one) reached bits 56-63 alone, where those of all the words
 * added up into one byte: 2001:2:0:X::Y for the 65536 values of X and Y
 * went to 256 places.  A 32-bit word's top byte has 40 bits to spread
 * into (tests/test_flow.c, hash_spread_*).
 */
typedef __u32 __attribute__((__may_alias__)) tcpf_word;

/*
 * The hash's version, in the layout of the tables it places entries in
 * (tcpf_flows, tcpf_syns): a zero-length member named after it.  A build
 * whose hash differs from the pins' has another layout version, and the
 * upgrade re-places every entry where this build's hash looks for it
 * (user/migrate.c).  Change the hash, or the slot functions: bump it.
 * The test layout (LAYOUT_TEST) hashes with a seed, under its own name.
 */
#ifdef TCPF_LAYOUT_TEST
#define TCPF_HASH_VERSION test
#define TCPF_HASH_SEED 0x2545f4914f6cdd1dULL
#else
#define TCPF_HASH_VERSION 2
#define TCPF_HASH_SEED 0
#endif
#define TCPF_PLACED_BY_(v) __u8 placed_by_hash_##v[0];
#define TCPF_PLACED_BY(v) TCPF_PLACED_BY_(v)

/* always inlined: clang 19 made it a BPF subprogram, whose call cost
 * tcpf_xdp 48 bytes of stack (560 with tcpf_guard_syn's, over 512) */
static inline __attribute__((__always_inline__)) __u32
tcpf_flow_hash(const struct tcpf_flow_key *k)
{
	const tcpf_word *w = (const tcpf_word *)k;
	__u64 h;

	/* NOLINTBEGIN(clang-analyzer-core.UndefinedBinaryOperatorResult):
	 * flow_key() writes the key as five __u64 words; the analyzer loses
	 * them through this __u32 view (may_alias), the compilers do not */
	h = TCPF_HASH_SEED +
	    w[0] * 0x9e3779b97f4a7c15ULL + w[1] * 0xc2b2ae3d27d4eb4fULL +
	    w[2] * 0x165667b19e3779f9ULL + w[3] * 0xd6e8feb86659fd93ULL +
	    w[4] * 0xff51afd7ed558ccdULL + w[5] * 0xc4ceb9fe1a85ec53ULL +
	    w[6] * 0x94d049bb133111ebULL + w[7] * 0xbf58476d1ce4e5b9ULL +
	    w[8] * 0x2545f4914f6cdd1dULL + w[9] * 0x9fb21c651e98df25ULL;
	/* NOLINTEND(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	h ^= h >> 32;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return (__u32)(h >> 32);
}

/* Index of a key's bucket and half-open slot; masks are sizes - 1. */
static inline __u32 tcpf_flow_bucket(__u32 hash, __u32 mask)
{
	return hash & mask;
}

static inline __u32 tcpf_syn_slot(__u32 hash, __u32 mask)
{
	return (hash >> 16 ^ hash) & mask;
}

/* A tracked connection: made when a handshake completes. */
struct tcpf_flow {
	__u64 packets[2] TCPF_COUNTER;  /* per side, as sender */
	__u64 bytes[2] TCPF_COUNTER;
	__u32 isn[2];            /* initial sequence numbers */
	__u32 next[2];           /* highest sequence end sent per side */
	__u32 fin_end[2];        /* sequence after each side's FIN */
	__u32 created;           /* tcpf_ctl.now at the handshake */
	__u32 seen;              /* tcpf_ctl.now at the last segment */
	__u8 state;              /* enum tcpf_state */
	__u8 opener;             /* side that sent the first SYN */
	__u8 local;              /* side of this host (see README) */
	__u8 fins;               /* TCPF_FIN_SENT/ACKED/FIRST(side) bits */
	__u8 flags_seen[2];      /* OR of every flag byte per side */
	__u8 pad[2];
};
_Static_assert(sizeof(struct tcpf_flow) == 72, "tcpf_flow layout");

/*
 * tcpf_flows (per network namespace): a 4-way set-associative table, an
 * array of buckets indexed by a hash of the key.  A lookup is one inlined
 * array access and at most four key compares, where a hash map lookup of a
 * 40-byte key cost ~27 ns here; an insert into a full bucket evicts the
 * least recently seen way, and counts it.  Empty ways have state NONE.
 */
#define TCPF_FLOW_WAYS 4

struct tcpf_flow_entry {
	TCPF_LAYOUT_WORD
	struct tcpf_flow_key key;
	struct tcpf_flow flow;
};
_Static_assert(sizeof(struct tcpf_flow_entry) == 112 + TCPF_LAYOUT_SIZE, "tcpf_flow_entry layout");

struct tcpf_flow_bucket {
	struct tcpf_flow_entry way[TCPF_FLOW_WAYS];
	TCPF_PLACED_BY(TCPF_HASH_VERSION)
};

#define TCPF_FIN_SENT(side) (1u << (side))
#define TCPF_FIN_ACKED(side) (4u << (side))
#define TCPF_FIN_FIRST(side) (16u << (side))

/* Handshake stages of a half-open slot. */
enum tcpf_stage {
	TCPF_HS_EMPTY = 0,
	TCPF_HS_SYN,             /* the opener's SYN seen */
	TCPF_HS_SYN2,            /* simultaneous open: both SYNs seen */
	TCPF_HS_SYNACK,          /* the SYN-ACK seen, final ACK pending */
};

/*
 * A half-open handshake (tcpf_syns, a direct-mapped array indexed by a
 * hash of the key): a SYN costs one array write, never a flow-table
 * insert, so a spoofed flood cannot evict tracked connections.
 */
struct tcpf_syn {
	struct tcpf_flow_key key;
	__u32 isn[2];
	__u32 seen;              /* tcpf_ctl.now of the last segment */
	__u8 stage;              /* enum tcpf_stage */
	__u8 opener;
	__u8 local;
	__u8 synacks;            /* simultaneous open: bit per side's SYN-ACK */
	__u8 flags_seen[2];
	__u16 packets[2];
	__u8 pad[2];
	TCPF_PLACED_BY(TCPF_HASH_VERSION)
};
_Static_assert(sizeof(struct tcpf_syn) == 64, "tcpf_syn layout");

/*
 * tcpf_ctl (per network namespace): the coarse clock the reaper advances
 * every second (the data path reads it instead of a 27-42 ns clock call)
 * and the timeouts it applies, per state, in seconds.
 */
struct tcpf_ctl {
	TCPF_LAYOUT_WORD
	__u32 now;               /* CLOCK_MONOTONIC seconds */
	__u32 timeout[TCPF_ST_MAX];
	__u32 gauge[TCPF_ST_MAX];/* connections per state, recounted each tick */
	__u32 ticks;             /* reaper passes so far */
};
_Static_assert(sizeof(struct tcpf_ctl) == 88 + TCPF_LAYOUT_SIZE, "tcpf_ctl layout");

/* tcpf_timer (per namespace, one entry): the reaper's once-a-second timer. */
struct tcpf_timer {
	struct bpf_timer timer;
};
_Static_assert(sizeof(struct tcpf_timer) == 16, "tcpf_timer layout");

/*
 * SYN sources (tcpf_srcs, per CPU, per interface): who opens connections
 * to this host, bounded and flood-safe.  A source's address picks one
 * slot; its SYNs count there and raise the slot's score, another source's
 * SYN lowers it, and only at score 0 does a newcomer take the slot.  So a
 * source that sends faster than the rest of its slot's traffic keeps it,
 * a spoofed flood of one-SYN sources churns without displacing it, and a
 * SYN costs one array access - no insert, ever.
 */
#define TCPF_SRC_SLOTS 1024
#define TCPF_SRC_SCORE_MAX 1024  /* how much credit a busy source banks */

struct tcpf_src {
	__u32 addr[4];           /* network order; IPv4 in [0] */
	__u64 syns;              /* SYNs from addr since it took the slot */
	__u32 score;
	__u8 family;             /* enum tcpf_family */
	__u8 used;
	__u8 pad[2];
};
_Static_assert(sizeof(struct tcpf_src) == 32, "tcpf_src layout");

static inline __u32 tcpf_src_slot(const __u32 addr[4])
{
	__u64 h = (__u64)addr[0] * 0x9e3779b97f4a7c15ULL +
		  (__u64)addr[1] * 0xc2b2ae3d27d4eb4fULL +
		  (__u64)addr[2] * 0x165667b19e3779f9ULL +
		  (__u64)addr[3] * 0xd6e8feb86659fd93ULL;

	return (__u32)(h >> 40) & (TCPF_SRC_SLOTS - 1);
}

#define TCPF_FLOWS_DEFAULT 262144   /* connections: buckets * TCPF_FLOW_WAYS */
#define TCPF_SYNS_DEFAULT 65536     /* half-open slots */
#define TCPF_REAP_INTERVAL_NS 1000000000ULL

/* ------------------------------------------------------------------ */
/* Policy: rules compiled to bitmaps (bpf/policy.bpf.h, user/rules.c). */

#define TCPF_RULES_MAX 256
_Static_assert(TCPF_RULES_MAX < 512, "a rule id fits 9 bits (rate-limit tags)");
#define TCPF_RULE_WORDS (TCPF_RULES_MAX / 64)
#define TCPF_RULESETS 2          /* double-buffered: one live, one being written */

/*
 * tcpf_rhits: hit counters in slots, not by rule id.  A rule keeps its slot
 * while its text does; a rule new under its id counts in a slot neither
 * set may still be counting in (the set in force, the one it replaced),
 * zeroed before the switch, so no segment the old set decided counts for
 * it.  Slot 0 of an action (a set from before the slots) is the id's own.
 * Three per id: a new set's new rules always find one free.
 */
#define TCPF_HIT_SLOTS (3 * TCPF_RULES_MAX + 1)
#define TCPF_PORTS 65536

#define TCPF_ACTIONS(X)                                                        \
	X(TCPF_ACT_PASS, "pass")                                               \
	X(TCPF_ACT_DROP, "drop")                                               \
	/* monitor: counted as "would drop", passed */                         \
	X(TCPF_ACT_COUNT, "count")                                             \
	/* token bucket; the excess is dropped */                              \
	X(TCPF_ACT_RATELIMIT, "ratelimit")
enum tcpf_action { TCPF_ACTIONS(TCPF_X_ENUM) TCPF_ACT_MAX };

enum tcpf_rl_per {
	TCPF_RL_GLOBAL = 0,
	TCPF_RL_SRC,             /* per source address, or per src/PREFIXLEN */
};

/* One bit per rule, bit i = the rule of priority rank i. */
struct tcpf_bitmap {
	__u64 w[TCPF_RULE_WORDS];
};

/* What a matching rule does. */
struct tcpf_rule_act {
	__u16 id;                /* the rule's id */
	__u16 rl_salt;           /* tcpf_rule_salt() of its text: a rule
				  * changed under its id gets fresh buckets */
	__u8 action;             /* enum tcpf_action */
	__u8 rl_per;             /* enum tcpf_rl_per */
	__u8 rl_plen;            /* prefix length of a per-source limit */
	__u8 pad;
	__u16 hit;               /* its slot of tcpf_rhits; 0: the id's */
	__u8 pad2[6];
	__u64 rl_cost;           /* ns of credit one packet costs: 1e9 / rate */
	__u64 rl_depth;          /* bucket depth in ns: burst * cost */
};
_Static_assert(sizeof(struct tcpf_rule_act) == 32, "tcpf_rule_act layout");

/* The slot of tcpf_rhits an action counts in. */
static inline __u32 tcpf_hit_slot(__u32 hit, __u32 id)
{
	__u32 slot = hit ? hit : id;

	return slot < TCPF_HIT_SLOTS ? slot : 0;
}

/* 16 bits of FNV-1a over a rule's text. */
static inline __u16 tcpf_rule_salt(const char *text)
{
	__u32 h = 0x811c9dc5;

	while (*text)
		h = (h ^ (__u8)*text++) * 0x01000193;
	return (__u16)(h ^ h >> 16);
}

/*
 * One compiled rule set (tcpf_rulesets[set]).  A segment's candidates are
 * the AND of a few bitmaps; the lowest set bit decides.  So the cost does
 * not grow with the number of rules.  The matches known from the headers
 * alone (direction, family, flag byte) are folded into one table, and
 * those the tracker decides (phase, connection state) into another, so
 * each costs one read.  Prefixes and ports have their own tables, in the
 * same map value (struct tcpf_set).
 */
#define TCPF_EARLY_KEY(dir, family, flags) \
	((((__u32)(dir) & 1) * TCPF_FAMILIES + ((family) & 1)) * TCPF_PATTERNS + \
	 ((flags) & 0xff))
/* 16 phases and states, powers of two, so the XDP path indexes with a mask */
#define TCPF_LATE_KEY(phase, state) (((__u32)(phase) & 15) * 16 + ((state) & 15))

struct tcpf_ruleset {
	struct tcpf_bitmap early[TCPF_DIRS * TCPF_FAMILIES * TCPF_PATTERNS];
	struct tcpf_bitmap late[16 * 16]; /* phase (+ untracked) x state */
	struct tcpf_bitmap src_any;  /* rules with no source prefix */
	struct tcpf_bitmap dst_any;
	struct tcpf_bitmap sport_any;
	struct tcpf_bitmap dport_any;
	struct tcpf_bitmap stateful; /* rules that match a phase or state */
	struct tcpf_rule_act act[TCPF_RULES_MAX];
	__u32 nrules;
	__u32 default_action;    /* TCPF_ACT_PASS or TCPF_ACT_DROP */
	__u32 lookups;           /* TCPF_LOOKUP_*: what some rule matches on */
	__u32 pad;
	__u8 ctz[64];            /* tcpf_ctz_table(): see there */
};

/*
 * The index of the lowest set bit of x: a de Bruijn multiply picks one of
 * 64 entries.  The XDP path needs it to find the first matching rule; its
 * table rides in the rule set, which is looked up anyway (clang 14 emits
 * .rodata tables whose BTF the kernel rejects beside our settings).  No
 * branch: the verifier sees one unknown index, not one state per rule.
 */
#define TCPF_DEBRUIJN 0x03f79d71b4cb0a89ULL
#define TCPF_CTZ_SLOT(x) ((((x) & -(x)) * TCPF_DEBRUIJN) >> 58)

static inline void tcpf_ctz_table(__u8 t[64])
{
	for (int i = 0; i < 64; i++)
		t[TCPF_CTZ_SLOT(1ULL << i)] = (__u8)i;
}

/* tcpf_ruleset.lookups: a rule set without such a match skips its test. */
#define TCPF_LOOKUP_SRC 1u
#define TCPF_LOOKUP_DST 2u
#define TCPF_LOOKUP_SPORT 4u
#define TCPF_LOOKUP_DPORT 8u

/* A rule's phase bit for segments not tracked (flows off); bpf/flow.bpf.h's
 * internal TCPF_PH_REOPEN is TCPF_PH_MAX + 1, apart from it. */
#define TCPF_PH_UNTRACKED TCPF_PH_MAX
_Static_assert(TCPF_PH_MAX + 1 <= 16 && TCPF_ST_MAX <= 16, "ruleset rows");

/* tcpf_policy: which rule set is live; switched with one map write. */
struct tcpf_policy {
	__u32 active;            /* 0 or 1 */
	__u32 generation;        /* bumped at every switch */
	__u32 live;              /* the active set has rules or drops by default */
	__u32 slotted;           /* bit s: hit[s] holds set s's slots (else it
				  * is from before them: each id its own) */
	/* per set, per rule id: its slot of tcpf_rhits (the readers'; the
	 * program reads its action's), 0: no such rule */
	__u16 hit[TCPF_RULESETS][TCPF_RULES_MAX + 1];
	__u16 pad2[2];
};
_Static_assert(sizeof(struct tcpf_policy) == 16 + 4 * (TCPF_RULES_MAX + 2),
	       "tcpf_policy layout");

/*
 * Prefixes: a multibit trie, one per rule set, so matching an address
 * costs a few reads whatever the number of prefixes (an LPM trie is a
 * helper call that walks deeper as prefixes are added).  It lies in the
 * rule set's map value, so the XDP path only indexes into it: a map
 * lookup per level would cost more than the read.  The roots: per side
 * (0 source, 1 destination) and family, one node per first address byte,
 * indexed by the second; each level below is indexed by the next byte.
 * An entry is TCPF_PFX_NODE | the node of the next level, or a class: the
 * index in cls of the bitmap of the rules the address satisfies on that
 * side (a prefix of theirs contains it, or they have none), so the XDP
 * path ANDs it in as it is.  IPv4 needs at most 3 reads and a /24 two;
 * IPv6 /64 seven.
 */
#define TCPF_PFX_NODE 0x8000
#define TCPF_PFX_MAX 8192        /* prefixes per rule set */
#define TCPF_PFX_NODES 8192      /* nodes below the roots (a power of 2) */
#define TCPF_PFX_CLASSES (TCPF_PFX_MAX + 2) /* distinct bitmaps */
#define TCPF_PFX_CLASS_SLOTS 16384 /* the power of 2 above: the XDP path masks */
struct tcpf_pfx_node {
	__u16 e[256];
};
struct tcpf_pfx_trie {
	struct tcpf_pfx_node root[2][TCPF_FAMILIES][256];
	struct tcpf_pfx_node node[TCPF_PFX_NODES];
	struct tcpf_bitmap cls[TCPF_PFX_CLASS_SLOTS];
};
_Static_assert(TCPF_PFX_NODES <= TCPF_PFX_NODE &&
	       TCPF_PFX_CLASSES <= TCPF_PFX_CLASS_SLOTS &&
	       TCPF_PFX_CLASS_SLOTS <= TCPF_PFX_NODE &&
	       !(TCPF_PFX_NODES & (TCPF_PFX_NODES - 1)) &&
	       !(TCPF_PFX_CLASS_SLOTS & (TCPF_PFX_CLASS_SLOTS - 1)),
	       "trie entries fit 15 bits; the XDP path masks with the sizes");

/* Per side (0 source), each port's rules. */
struct tcpf_port_table {
	struct tcpf_bitmap port[2][TCPF_PORTS];
};

/* tcpf_rulesets[set]: all of one rule set, found with one lookup. */
struct tcpf_set {
	TCPF_LAYOUT_WORD
	struct tcpf_ruleset rs;
	struct tcpf_pfx_trie pfx;
	struct tcpf_port_table ports;
};

/* tcpf_drops (per interface, per-CPU): why frames were dropped or not. */
#define TCPF_DROP_REASONS(X)                                                   \
	/* a drop rule */                                                      \
	X(TCPF_DROP_RULE, "rule")                                              \
	/* over a rate limit */                                                \
	X(TCPF_DROP_RATELIMIT, "ratelimit")                                    \
	/* the default action */                                               \
	X(TCPF_DROP_DEFAULT, "default")                                        \
	/* a count rule: would have dropped */                                 \
	X(TCPF_DROP_WOULD, "would_drop")                                       \
	/* the guard: an ACK with no valid cookie and no connection */         \
	X(TCPF_DROP_GUARD_ACK, "guard_ack")                                    \
	/* the guard: a first SYN, dropped to see it sent again */             \
	X(TCPF_DROP_GUARD_AUTH, "guard_auth")                                  \
	/* the guard: over its SYN rate limit */                               \
	X(TCPF_DROP_GUARD_RATELIMIT, "guard_ratelimit")                        \
	/* the guard: a SYN (or cookie ACK) from its deny list */              \
	X(TCPF_DROP_GUARD_DENY, "guard_deny")
enum tcpf_drop_reason { TCPF_DROP_REASONS(TCPF_X_ENUM) TCPF_DROP_MAX };

/* tcpf_ratelimit: token buckets, a direct-mapped array (bounded, no insert). */
#define TCPF_RL_SLOTS 65536

/* A token bucket; the slot is taken over when another key hashes to it. */
struct tcpf_rl_bucket {
	TCPF_LAYOUT_WORD
	struct bpf_spin_lock lock;
	__u32 rule;              /* rule id | (family + 1) << 9 per source
				  * | the rule's salt << 16 */
	__u64 credit;            /* ns of sending time banked */
	__u64 last;              /* bpf_ktime_get_ns() of the last refill */
	__u32 key[4];            /* the (masked) source it limits */
};
_Static_assert(sizeof(struct tcpf_rl_bucket) == 40 + TCPF_LAYOUT_SIZE, "tcpf_rl_bucket layout");


/* ------------------------------------------------------------------ */
/* The SYN-flood guard (bpf/guard.bpf.h, user/guard.c).                */

/* What the guard does with SYNs to the ports it protects. */
#define TCPF_GUARD_MODES(X)                                                    \
	X(TCPF_GM_OFF, "off")                                                  \
	/* count what cookie would do, change nothing */                       \
	X(TCPF_GM_MONITOR, "monitor")                                          \
	/* token buckets on SYNs, per source and global */                     \
	X(TCPF_GM_RATELIMIT, "ratelimit")                                      \
	/* drop a source's first SYN, pass it sent again after the RTO */      \
	X(TCPF_GM_AUTH, "auth")                                                \
	/* answer SYNs with SYN cookies at XDP, hand valid ACKs to the kernel */ \
	X(TCPF_GM_COOKIE, "cookie")                                            \
	/* cookie or auth while a flood lasts, decided by the reaper's timer */ \
	X(TCPF_GM_AUTO, "auto")
enum tcpf_guard_mode { TCPF_GUARD_MODES(TCPF_X_ENUM) TCPF_GM_MAX };

/* tcpf_gstats (per namespace, per CPU): slot * TCPF_GC_MAX + counter. */
#define TCPF_GUARD_COUNTERS(X)                                                 \
	/* SYNs to a protected port (the rate auto watches) */                 \
	X(TCPF_GC_SYN, "syns")                                                 \
	/* handshakes completed to a protected port (its final ACK) */         \
	X(TCPF_GC_HS_ACK, "handshakes")                                        \
	X(TCPF_GC_COOKIE_SENT, "cookies_sent")                                 \
	/* ACKs that carried a valid cookie */                                 \
	X(TCPF_GC_COOKIE_VALID, "cookies_validated")                           \
	/* ACKs with no valid cookie and no connection: dropped */             \
	X(TCPF_GC_COOKIE_FAILED, "cookies_failed")                             \
	/* request sockets given to the listener at TC ingress */              \
	X(TCPF_GC_HANDOFF, "handoffs")                                         \
	X(TCPF_GC_HANDOFF_FAILED, "handoffs_failed")                           \
	/* SYNs to a protected port nobody listens on: answered with RST */    \
	X(TCPF_GC_RST, "rsts_sent")                                            \
	/* first SYNs dropped by auth */                                       \
	X(TCPF_GC_AUTH_CHALLENGE, "auth_challenges")                           \
	/* SYNs sent again in the window: the source is verified */            \
	X(TCPF_GC_AUTH_PASS, "auth_passes")                                    \
	/* SYNs of verified sources, passed to the kernel */                   \
	X(TCPF_GC_VERIFIED, "verified_passes")                                 \
	X(TCPF_GC_RL_DROP, "ratelimit_drops")                                  \
	/* monitor: SYNs cookie would answer, ACKs it would drop */            \
	X(TCPF_GC_WOULD_COOKIE, "would_cookie")                                \
	X(TCPF_GC_WOULD_DROP, "would_drop")                                    \
	/* SYNs left to the kernel: IPv4 options, IPv6 extension headers,      \
	 * no room to answer */                                                \
	X(TCPF_GC_UNSUPPORTED, "unsupported")                                  \
	/* SYNs from the allow list, passed to the kernel unchallenged (in     \
	 * cookie mode its ACKs no connection knows pass too, uncounted:       \
	 * late ACKs of closed connections are among them) */                 \
	X(TCPF_GC_ALLOW, "allow_passes")                                       \
	/* SYNs (cookie: and ACKs no connection knows) from the deny list:     \
	 * dropped (monitor: counted as would_drop) */                         \
	X(TCPF_GC_DENY, "deny_drops")
enum tcpf_guard_counter { TCPF_GUARD_COUNTERS(TCPF_X_ENUM) TCPF_GC_MAX };

#define TCPF_GUARD_SLOTS 32          /* interfaces with a guard, per namespace */
#define TCPF_GUARD_PORT_WORDS 1024   /* 65536 ports, one bit each */
#define TCPF_GUARD_AUTH_SLOTS (1 << 20)     /* first SYNs remembered */
#define TCPF_GUARD_VERIFIED_SLOTS (1 << 16) /* verified sources */
#define TCPF_GUARD_LISTEN_SLOTS 8    /* listeners remembered, per interface */

/*
 * tcpf_gconf[slot] (per namespace): one interface's guard, as `tcpflags
 * guard` set it; the programs of that interface read their slot
 * (tcpf_guard_slot).  Written by userspace only.
 */
struct tcpf_gconf {
	__u32 ifindex;           /* 0: a free slot */
	__u8 mode;               /* enum tcpf_guard_mode */
	__u8 engage;             /* auto: TCPF_GM_COOKIE or TCPF_GM_AUTH */
	__u8 wscale;             /* the window scale SYN-ACKs offer */
	__u8 ncpus;              /* possible CPUs: what the timer sums */
	__u16 mss4, mss6;        /* the MSS SYN-ACKs offer */
	__u32 rotate;            /* seconds a cookie secret lives */
	__u32 auth_min, auth_max;/* auth: the window a SYN is sent again in */
	__u32 verified_ttl;      /* seconds a verified source passes */
	__u32 syn_on;            /* auto: SYNs/s that engage */
	__u32 syn_off;           /* auto: SYNs/s under which it is calm */
	__u32 ratio_on;          /* auto: completion per mille that engages */
	__u32 calm;              /* auto: calm seconds before disengaging */
	__u32 set_at;            /* CLOCK_MONOTONIC seconds of the setting */
	__u32 listed;            /* prefixes in its allow and deny lists:
				  * 0 spares the data path the lookup */
	__u32 pad;
	__u64 key[2];            /* the master key the secrets derive from */
	struct tcpf_rule_act rl[2]; /* ratelimit: per source, global */
	__u64 ports[TCPF_GUARD_PORT_WORDS];
};
_Static_assert(sizeof(struct tcpf_gconf) == 8328, "tcpf_gconf layout");
_Static_assert(__builtin_offsetof(struct tcpf_gconf, listed) < 64,
	       "listed lies within 64 bytes of mode, which every SYN reads");

/*
 * tcpf_gstate[slot] (per namespace): what the timer keeps: the cookie
 * secrets (epoch e's at [e & 1], so the one before stays valid), and the
 * auto decision with its measurements.  Written by the timer (and once by
 * `tcpflags guard`, which sets it going).
 */
struct tcpf_gstate {
	__u64 secret[2][2];      /* SipHash keys of epochs e and e - 1 */
	__u32 epoch;             /* now / rotate */
	__u8 engaged;            /* auto: the engage mode is in force */
	__u8 pad[3];
	__u32 engaged_at;        /* CLOCK_MONOTONIC s of the last engage */
	__u32 released_at;       /* ... and of the last disengage */
	__u32 calm_for;          /* seconds calm so far while engaged */
	__u32 syn_rate;          /* SYNs/s to the protected ports, last tick */
	__u32 ratio;             /* handshakes / SYNs per mille, last tick */
	__u32 ticks;
	__u64 syns, handshakes;  /* the totals at the last tick */
	/*
	 * cookie: the listeners SYNs found lately, so a flood costs no socket
	 * lookup per SYN: direct-mapped by a hash of (family, address, port),
	 * each the hash's tag << 32 | the second it was seen listening, one
	 * 64-bit store (the data path writes it, on any CPU).  A listener is
	 * believed for the rest of that second; no listener is never cached.
	 */
	__u64 listen[TCPF_GUARD_LISTEN_SLOTS];
};
_Static_assert(sizeof(struct tcpf_gstate) == 80 + 8 * TCPF_GUARD_LISTEN_SLOTS,
	       "tcpf_gstate layout");

/* tcpf_gauth (per namespace): first SYNs, direct-mapped by their 4-tuple. */
struct tcpf_gauth {
	__u32 tag;               /* a keyed hash of the 4-tuple and ISN */
	__u32 seen;              /* CLOCK_MONOTONIC seconds */
};

/* tcpf_gverified (per namespace): sources let through, by address. */
struct tcpf_gverified {
	__u32 addr[4];           /* network order; IPv4 in [0] */
	__u32 until;             /* CLOCK_MONOTONIC seconds */
	__u32 family;            /* enum tcpf_family + 1; 0: empty */
};
_Static_assert(sizeof(struct tcpf_gverified) == 24, "tcpf_gverified layout");

/*
 * tcpf_gvbits[0] (per namespace): a bit per tcpf_gverified slot, set when a
 * source is verified there, cleared when a lookup finds it expired.  A
 * spoofed SYN reads its bit (8 KiB, always in cache) and, clear, never
 * touches the 1.5 MiB table: a random read there cost ~100 ns here, most of
 * it the TLB (the table is vmalloc'ed in 4 KiB pages).
 */
struct tcpf_gvbits {
	__u64 w[TCPF_GUARD_VERIFIED_SLOTS / 64];
};

/*
 * tcpf_glists (per namespace): every slot's allow and deny lists in one
 * LPM trie (BPF_MAP_TYPE_LPM_TRIE), keyed by slot, family and prefix, so
 * a SYN costs one lookup however many prefixes and lists there are; only
 * when its slot lists any (tcpf_gconf.listed).  An LPM trie, not the
 * rules' multibit trie: an entry comes and goes alone, with its own
 * expiry, where the rules' trie is rebuilt whole (megabytes) and gives a
 * bitmap of rules, not a value per prefix.
 */
enum tcpf_glist_id {
	TCPF_GL_ALLOW = 0,
	TCPF_GL_DENY = 1,
	TCPF_GL_LISTS = 2,
};
#define TCPF_GLIST_MAX 65536         /* prefixes, all slots and lists */

struct tcpf_glist_key {
	__u32 plen;              /* LPM: 16 (slot, family) + the prefix's */
	__u8 slot;
	__u8 family;             /* enum tcpf_family */
	__u8 addr[16];           /* network order; IPv4 in [0..3] */
	__u8 pad[2];
};
_Static_assert(sizeof(struct tcpf_glist_key) == 24, "tcpf_glist_key layout");
#define TCPF_GLIST_PLEN(plen) (16u + (plen))

/*
 * A listed prefix.  until[] and in: its own entries, as listed.  match[]
 * and covered: what an address whose longest listed prefix this is gets,
 * per list: the latest expiry of the prefixes of that list containing it
 * (this one and the shorter ones), as userspace recomputes them at every
 * change.  So a lookup needs no walk up the trie, and a /24 that expires
 * under a /8 of the same list does not hide it.  Times are guard_now()
 * seconds (CLOCK_MONOTONIC_COARSE), 0: never expires.
 */
struct tcpf_glist {
	__u32 until[TCPF_GL_LISTS];
	__u32 match[TCPF_GL_LISTS];
	__u8 in;                 /* bit per list: this prefix is in it */
	__u8 covered;            /* bit per list: match[] holds an expiry */
	__u8 pad[2];
};
_Static_assert(sizeof(struct tcpf_glist) == 20, "tcpf_glist layout");

/* Is t, a guard_now() second, still ahead of now (the clock may wrap)? */
static inline int tcpf_ahead(__u32 t, __u32 now)
{
	return (__s32)(t - now) > 0;
}

/* Is an expiry (0: never) still ahead? */
static inline int tcpf_until_live(__u32 until, __u32 now)
{
	return !until || tcpf_ahead(until, now);
}

/* Does list l cover an address whose longest listed prefix holds v? */
static inline int tcpf_glist_live(const struct tcpf_glist *v, __u32 l,
				  __u32 now)
{
	return (v->covered >> l & 1) && tcpf_until_live(v->match[l & 1], now);
}

/*
 * A SYN cookie (the ISN of the guard's SYN-ACK): bit 0 the secret's epoch
 * parity, bits 1-2 the client's MSS (an index into the MSS tables), bits
 * 3-31 the top 29 bits of SipHash-2-4 over the connection's addresses,
 * ports and ISN, those three bits and the options.  Options travel in the
 * low 6 bits of the SYN-ACK's TSval, as the kernel's cookies carry them
 * (client's window scale, 0xf for none; SACK; ECN): a client without
 * timestamps gets the MSS only.
 */
#define TCPF_COOKIE_OPT_BITS 6
#define TCPF_COOKIE_OPT_MASK 0x3f
#define TCPF_COOKIE_WS_NONE 0xf
#define TCPF_COOKIE_SACK 0x10
#define TCPF_COOKIE_ECN 0x20
#define TCPF_COOKIE_NO_TS 0x40   /* in the hash only: the SYN had no TS */
/* the MSS a cookie can give the client, by index: the kernel's tables */
#define TCPF_MSS4(i) ((i) == 0 ? 536 : (i) == 1 ? 1300 : (i) == 2 ? 1440 : 1460)
#define TCPF_MSS6(i) ((i) == 0 ? 1220 : (i) == 1 ? 1440 : (i) == 2 ? 1460 : 8940)

/* Defaults of `tcpflags guard`. */
#define TCPF_GUARD_ROTATE 30         /* s: a cookie lives 30 to 60 s */
#define TCPF_GUARD_AUTH_MIN 1        /* s: RFC 6298's initial RTO */
#define TCPF_GUARD_AUTH_MAX 8
#define TCPF_GUARD_VERIFIED_TTL 3600
#define TCPF_GUARD_SYN_ON 5000
#define TCPF_GUARD_SYN_OFF 1000
#define TCPF_GUARD_RATIO_ON 500      /* per mille */
#define TCPF_GUARD_CALM 10

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
