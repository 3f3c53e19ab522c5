/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flow.bpf.h - follow every connection through the 3-way handshake and the
 * 4-way teardown, and give each segment its phase.
 *
 * Two tables, both arrays indexed by one cheap hash of the flow key, so a
 * segment costs an inlined array access, not a hash-map lookup:
 *   tcpf_syns   half-open handshakes, direct-mapped: a SYN overwrites the
 *               slot its 4-tuple hashes to (one array write);
 *   tcpf_flows  connections, 4-way set-associative, inserted only when the
 *               final ACK of a handshake acks the SYN-ACK (ack == y + 1),
 *               which a spoofed source never sends.  So a spoofed SYN flood
 *               costs no flow-table insert and evicts no connection.
 * States are those of this host's endpoint (RFC 9293): the side that
 * receives on XDP ingress, or sends on TC egress, is local.
 */
#ifndef TCPF_FLOW_BPF_H
#define TCPF_FLOW_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "tcpflags.h"
#include "parse.bpf.h"

/* Set by the loader to the sizes of the tables, minus one (powers of two). */
const volatile __u32 tcpf_syns_mask = TCPF_SYNS_DEFAULT - 1;
const volatile __u32 tcpf_buckets_mask = TCPF_FLOWS_DEFAULT / TCPF_FLOW_WAYS - 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCPF_FLOWS_DEFAULT / TCPF_FLOW_WAYS);
	__type(key, __u32);
	__type(value, struct tcpf_flow_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCPF_SYNS_DEFAULT);
	__type(key, __u32);
	__type(value, struct tcpf_syn);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_syns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcpf_ctl);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCPF_CONN_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCPF_PHASE_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_phases SEC(".maps");

/* What the state machine needs of one segment. */
struct tcpf_seg {
	__u32 seq;
	__u32 ack;
	__u32 end;      /* seq + payload: the sequence after the data */
	__u32 len;      /* payload bytes */
	__u32 bytes;    /* frame bytes */
	__u32 now;
	__u8 flags;
	__u8 side;      /* the sender's side of the canonical key */
	__u8 dir;       /* enum tcpf_dir */
};

/*
 * Phase returned when a SYN reopens a 4-tuple left in TIME_WAIT; never
 * counted nor stored.  Not TCPF_PH_MAX: that is TCPF_PH_UNTRACKED, a phase
 * rules match on, and the two must not be mistaken for each other.
 */
#define TCPF_PH_REOPEN (TCPF_PH_MAX + 1)
_Static_assert(TCPF_PH_REOPEN != TCPF_PH_UNTRACKED, "distinct phase sentinels");

static __always_inline void conn_count(__u32 counter)
{
	__u64 *v = bpf_map_lookup_elem(&tcpf_conns, &counter);

	if (v)
		(*v)++;
}

static __always_inline void phase_add(__u32 dir, __u32 phase, __u64 n)
{
	__u32 key = TCPF_KEY_PHASE(dir, phase);
	__u64 *v = bpf_map_lookup_elem(&tcpf_phases, &key);

	if (v)
		*v += n;
}

/*
 * A GSO packet seen by the egress observer leaves as `segs` segments: all
 * but the last are data of the connection (the last carries the flags
 * that decided the phase), unless the whole packet was sent again.
 */
static __always_inline void phase_count(__u32 dir, __u32 phase, __u32 segs)
{
	if (segs > 1 && phase != TCPF_PH_RETRANSMIT) {
		phase_add(dir, TCPF_PH_ESTABLISHED, segs - 1);
		segs = 1;
	}
	phase_add(dir, phase, segs);
}

static __always_inline int seq_after_eq(__u32 a, __u32 b)
{
	return (__s32)(a - b) >= 0;
}

/*
 * The canonical key; returns the sender's side (0: the lower endpoint).
 * Built as the five 64-bit words key_equal() reads (tcpf_flow_hash()
 * reads their 32-bit halves), each stored whole: a word read back over narrower stores cannot be
 * forwarded from the store queue and waits for them (~15 cycles each).
 * The struct itself is only 2-aligned: a key on the stack is declared
 * aligned(8), or clang 19 may place it at fp-20 and the verifier refuses
 * the 8-byte stores ('misaligned stack access').
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&
	       __builtin_offsetof(struct tcpf_flow_key, port) == 32 &&
	       __builtin_offsetof(struct tcpf_flow_key, vlan) == 36 &&
	       __builtin_offsetof(struct tcpf_flow_key, family) == 38,
	       "flow_key() writes the last word's fields at these offsets");

static __always_inline __u8 flow_key(const struct tcpf_segment *in,
				     struct tcpf_flow_key *k)
{
	__u64 *w = (__u64 *)k;
	__u64 a0, a1, b0, b1, t;
	__u16 sport = in->sport, dport = in->dport;
	int swap;

	if (in->family == TCPF_IPV4) {
		/* IPv4-mapped: ::ffff:a.b.c.d (bytes 10 and 11 are 0xff) */
		a0 = b0 = 0;
		a1 = 0xffff0000ULL | (__u64)in->saddr[0] << 32;
		b1 = 0xffff0000ULL | (__u64)in->daddr[0] << 32;
	} else {
		a0 = (__u64)in->saddr[1] << 32 | in->saddr[0];
		a1 = (__u64)in->saddr[3] << 32 | in->saddr[2];
		b0 = (__u64)in->daddr[1] << 32 | in->daddr[0];
		b1 = (__u64)in->daddr[3] << 32 | in->daddr[2];
	}
	/* any total order will do: compare as two 64-bit words, then ports */
	swap = a0 != b0 ? a0 > b0 : a1 != b1 ? a1 > b1 : sport > dport;
	if (swap) {
		t = a0, a0 = b0, b0 = t;
		t = a1, a1 = b1, b1 = t;
		t = sport, sport = dport, dport = t;
	}
	w[0] = a0;
	w[1] = a1;
	w[2] = b0;
	w[3] = b1;
	/* port[0], port[1], vlan, family, pad: little-endian, as stored */
	w[4] = sport | (__u64)dport << 16 | (__u64)in->vlan << 32 |
	       (__u64)in->family << 48;
	return swap;
}

static __always_inline int key_equal(const struct tcpf_flow_key *a,
				     const struct tcpf_flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] &&
	       x[3] == y[3] && x[4] == y[4];
}

/* How long a half-open handshake lives: the local endpoint's state. */
static __always_inline __u32 syn_state(const struct tcpf_syn *h)
{
	return h->opener == h->local ? TCPF_ST_SYN_SENT : TCPF_ST_SYN_RECV;
}

static __always_inline __u32 timeout_of(const struct tcpf_ctl *ctl, __u32 st)
{
	return st < TCPF_ST_MAX ? ctl->timeout[st] : 0;
}

/* ---------------------------------------------------------------- flows */

/* The way holding key, or NULL. */
static __always_inline struct tcpf_flow_entry *
flow_find(struct tcpf_flow_bucket *b, const struct tcpf_flow_key *k)
{
#pragma unroll
	for (int w = 0; w < TCPF_FLOW_WAYS; w++)
		if (b->way[w].flow.state != TCPF_ST_NONE &&
		    key_equal(&b->way[w].key, k))
			return &b->way[w];
	return NULL;
}

/*
 * An empty way; else a connection in TIME_WAIT (closed already, counted);
 * else the least recently seen one: an eviction.
 */
static __always_inline struct tcpf_flow_entry *
flow_victim(struct tcpf_flow_bucket *b, __u32 now)
{
	struct tcpf_flow_entry *v = &b->way[0];

#pragma unroll
	for (int w = 0; w < TCPF_FLOW_WAYS; w++) {
		if (b->way[w].flow.state == TCPF_ST_NONE ||
		    b->way[w].flow.state == TCPF_ST_TIME_WAIT)
			return &b->way[w];
		if (now - b->way[w].flow.seen > now - v->flow.seen)
			v = &b->way[w];
	}
	conn_count(TCPF_CONN_EVICTED);
	return v;
}

/*
 * A connection into the table, from its handshake h (whose key is the
 * connection's): its way (its own, or flow_victim()'s) made ESTABLISHED.
 * The segment that completed the handshake came from side `sent >> 32`
 * and ends at sequence `(__u32)sent`.
 *
 * A global function, so the verifier walks it once.  Inlined, it was
 * walked once for each state tcpf_track() reaches it in, and each walk
 * forked eight ways (the way flow_find() or flow_victim() returns is a
 * pointer of its own to the verifier), each going on through the writes:
 * ~130k of tcpf_xdp's processed instructions.  The call (6-8 ns here) is
 * once per connection, not per segment.
 */
__noinline int tcpf_flow_insert(struct tcpf_flow_bucket *b,
				const struct tcpf_syn *h, __u32 now, __u64 sent)
{
	struct tcpf_flow_entry *e;
	struct tcpf_flow *f;
	__u8 s = (sent >> 32) & 1;

	if (!b || !h)
		return 0;
	e = flow_find(b, &h->key);
	if (!e)
		e = flow_victim(b, now);
	__builtin_memcpy(&e->key, &h->key, sizeof(e->key));
	f = &e->flow;
	__builtin_memset(f, 0, sizeof(*f));
	f->isn[0] = h->isn[0];
	f->isn[1] = h->isn[1];
	f->next[s] = (__u32)sent;
	f->next[s ^ 1] = h->isn[s ^ 1] + 1;
	f->packets[0] = h->packets[0];
	f->packets[1] = h->packets[1];
	f->flags_seen[0] = h->flags_seen[0];
	f->flags_seen[1] = h->flags_seen[1];
	f->created = now;
	f->seen = now;
	f->opener = h->opener;
	f->local = h->local;
	f->state = TCPF_ST_ESTABLISHED;
	conn_count(TCPF_CONN_OPENED);
	return 0;
}

/*
 * The final ACK (or the second SYN-ACK of a simultaneous open) arrived:
 * h holds the key (tcpf_track() compared it), so only the slot is passed.
 */
static __always_inline void flow_establish(struct tcpf_syn *h,
					   struct tcpf_flow_bucket *b,
					   const struct tcpf_seg *g)
{
	/* a SYN-ACK completing a simultaneous open takes a sequence number */
	__u32 next = g->end + !!(g->flags & TCPF_SYN);

	if (b)
		tcpf_flow_insert(b, h, g->now, (__u64)g->side << 32 | next);
	h->stage = TCPF_HS_EMPTY;
}

static __always_inline void flow_remove(struct tcpf_flow *f)
{
	f->state = TCPF_ST_NONE;
}

/* Local's FIN is acked: FIN_WAIT1 -> FIN_WAIT2, CLOSING -> TIME_WAIT,
 * LAST_ACK -> CLOSED (the entry goes). */
static __always_inline void local_fin_acked(struct tcpf_flow *f)
{
	if (f->state == TCPF_ST_FIN_WAIT1) {
		f->state = TCPF_ST_FIN_WAIT2;
	} else if (f->state == TCPF_ST_CLOSING) {
		f->state = TCPF_ST_TIME_WAIT;
		conn_count(TCPF_CONN_CLOSED);
	} else if (f->state == TCPF_ST_LAST_ACK) {
		conn_count(TCPF_CONN_CLOSED);
		flow_remove(f);
	}
}

static __always_inline __u32 flow_fin(struct tcpf_flow *f,
				      const struct tcpf_seg *g)
{
	__u8 s = g->side, r = s ^ 1;
	__u32 fin_end = g->end + 1;
	int first = !(f->fins & TCPF_FIN_SENT(r));

	if (f->fins & TCPF_FIN_SENT(s)) {
		if (fin_end != f->fin_end[s])
			return TCPF_PH_OUT_OF_STATE;
		/* sent again, perhaps now acking the other side's FIN */
		if ((g->flags & TCPF_ACK) && (f->fins & TCPF_FIN_SENT(r)) &&
		    !(f->fins & TCPF_FIN_ACKED(r)) &&
		    seq_after_eq(g->ack, f->fin_end[r])) {
			f->fins |= TCPF_FIN_ACKED(r);
			if (r == f->local)
				local_fin_acked(f);
		}
		return TCPF_PH_RETRANSMIT;
	}
	f->fins |= TCPF_FIN_SENT(s);
	f->fin_end[s] = fin_end;
	f->next[s] = fin_end;
	if (first) {
		f->fins |= TCPF_FIN_FIRST(s);
		f->state = s == f->local ? TCPF_ST_FIN_WAIT1
					 : TCPF_ST_CLOSE_WAIT;
		return TCPF_PH_FIN1;
	}
	/* the second FIN, perhaps carrying the ACK of the first */
	if ((g->flags & TCPF_ACK) && seq_after_eq(g->ack, f->fin_end[r]))
		f->fins |= TCPF_FIN_ACKED(r);
	if (s == f->local) {
		/* local answers the peer's FIN: LAST_ACK; if its FIN crossed
		 * the peer's (not acking it), both closed at once: CLOSING */
		f->state = f->fins & TCPF_FIN_ACKED(r) ? TCPF_ST_LAST_ACK
						       : TCPF_ST_CLOSING;
	} else if (f->fins & TCPF_FIN_ACKED(r)) {
		f->state = TCPF_ST_TIME_WAIT;
		conn_count(TCPF_CONN_CLOSED);
	} else {
		f->state = TCPF_ST_CLOSING;
	}
	return TCPF_PH_FIN2;
}

/* A segment of a tracked connection. */
static __always_inline __u32 flow_step(struct tcpf_flow *f,
				       const struct tcpf_seg *g)
{
	__u8 s = g->side, r = s ^ 1;

	f->packets[s]++;
	f->bytes[s] += g->bytes;
	f->flags_seen[s] |= g->flags;
	f->seen = g->now;

	if (g->flags & TCPF_RST) {
		if (f->state != TCPF_ST_TIME_WAIT)
			conn_count(TCPF_CONN_RESET);
		flow_remove(f);
		return TCPF_PH_RESET;
	}
	if (g->flags & TCPF_SYN) {
		/* a SYN or SYN-ACK sent again after the handshake completed */
		if (g->seq == f->isn[s])
			return TCPF_PH_RETRANSMIT;
		if (f->state == TCPF_ST_TIME_WAIT && !(g->flags & TCPF_ACK))
			return TCPF_PH_REOPEN;
		return TCPF_PH_OUT_OF_STATE;
	}
	if (g->flags & TCPF_FIN)
		return flow_fin(f, g);
	/* the ACK of a FIN */
	if ((g->flags & TCPF_ACK) && (f->fins & TCPF_FIN_SENT(r)) &&
	    !(f->fins & TCPF_FIN_ACKED(r)) &&
	    seq_after_eq(g->ack, f->fin_end[r])) {
		f->fins |= TCPF_FIN_ACKED(r);
		if (g->len && seq_after_eq(g->end, f->next[s]))
			f->next[s] = g->end;
		if (r == f->local)
			local_fin_acked(f);
		return f->fins & TCPF_FIN_FIRST(r) ? TCPF_PH_ACK1 : TCPF_PH_ACK2;
	}
	/* data that ends at or below what the sender already sent */
	if (g->len) {
		if (seq_after_eq(f->next[s], g->end))
			return TCPF_PH_RETRANSMIT;
		f->next[s] = g->end;
	}
	return TCPF_PH_ESTABLISHED;
}

/* ------------------------------------------------------------ handshakes */

static __always_inline __u32 syn_step(struct tcpf_syn *h,
				      struct tcpf_flow_bucket *b,
				      const struct tcpf_seg *g)
{
	__u8 s = g->side, r = s ^ 1;
	__u8 fl = g->flags & (TCPF_SYN | TCPF_ACK | TCPF_RST | TCPF_FIN);

	h->packets[s]++;
	h->flags_seen[s] |= g->flags;
	h->seen = g->now;

	if (fl & TCPF_RST) {
		/* e.g. the RST|ACK that answers a SYN to a closed port */
		h->stage = TCPF_HS_EMPTY;
		conn_count(TCPF_CONN_REFUSED);
		return TCPF_PH_RESET;
	}
	if (fl == TCPF_SYN) {
		if (s == h->opener) {
			if (g->seq == h->isn[s])
				return TCPF_PH_RETRANSMIT;
			/* a new attempt on the same 4-tuple */
			h->isn[s] = g->seq;
			h->stage = TCPF_HS_SYN;
			h->synacks = 0;
			return TCPF_PH_SYN;
		}
		if (h->stage == TCPF_HS_SYN) {
			/* simultaneous open: the other side's SYN */
			h->isn[s] = g->seq;
			h->stage = TCPF_HS_SYN2;
			return TCPF_PH_SYN;
		}
		return g->seq == h->isn[s] ? TCPF_PH_RETRANSMIT
					   : TCPF_PH_OUT_OF_STATE;
	}
	if (fl == (TCPF_SYN | TCPF_ACK)) {
		if (h->stage == TCPF_HS_SYN && s != h->opener &&
		    g->ack == h->isn[r] + 1) {
			h->isn[s] = g->seq;
			h->stage = TCPF_HS_SYNACK;
			return TCPF_PH_SYNACK;
		}
		if (h->stage == TCPF_HS_SYNACK && s != h->opener &&
		    g->seq == h->isn[s])
			return TCPF_PH_RETRANSMIT;
		if (h->stage == TCPF_HS_SYN2 && g->seq == h->isn[s] &&
		    g->ack == h->isn[r] + 1) {
			if (h->synacks & (1u << s))
				return TCPF_PH_RETRANSMIT;
			h->synacks |= 1u << s;
			if (h->synacks == 3)
				flow_establish(h, b, g);
			return TCPF_PH_SYNACK;
		}
		return TCPF_PH_OUT_OF_STATE;
	}
	if (fl == TCPF_ACK && h->stage == TCPF_HS_SYNACK && s == h->opener &&
	    g->ack == h->isn[r] + 1) {
		flow_establish(h, b, g);
		return TCPF_PH_ACK;
	}
	return TCPF_PH_OUT_OF_STATE;
}

/* A segment of no known connection: only a SYN starts one. */
static __always_inline __u32 syn_new(struct tcpf_syn *h,
				     const struct tcpf_flow_key *k,
				     const struct tcpf_seg *g,
				     const struct tcpf_ctl *ctl)
{
	__u8 s = g->side;

	if ((g->flags & (TCPF_SYN | TCPF_ACK | TCPF_RST | TCPF_FIN)) != TCPF_SYN)
		return TCPF_PH_OUT_OF_STATE;
	if (h->stage != TCPF_HS_EMPTY &&
	    g->now - h->seen <= timeout_of(ctl, syn_state(h)))
		conn_count(TCPF_CONN_HALF_OPEN_EVICTED);
	__builtin_memcpy(&h->key, k, sizeof(*k));
	h->isn[s] = g->seq;
	h->isn[s ^ 1] = 0;
	h->seen = g->now;
	h->stage = TCPF_HS_SYN;
	h->opener = s;
	h->local = g->dir == TCPF_DIR_INGRESS ? s ^ 1 : s;
	h->synacks = 0;
	h->flags_seen[s] = g->flags;
	h->flags_seen[s ^ 1] = 0;
	h->packets[s] = 1;
	h->packets[s ^ 1] = 0;
	return TCPF_PH_SYN;
}

/*
 * A connection the guard accepted by its cookie: the kernel never saw its
 * SYN and the egress observer never saw the SYN-ACK (XDP sent it), but the
 * final ACK tells both ISNs.  Made established, as flow_establish() would.
 */
static __always_inline void flow_adopt(struct tcpf_segment *in)
{
	struct tcpf_flow_bucket *b;
	struct tcpf_flow_entry *e;
	struct tcpf_flow_key key __attribute__((aligned(8)));
	struct tcpf_flow *f;
	struct tcpf_ctl *ctl;
	__u32 zero = 0, idx;
	__u8 s, r;

	ctl = bpf_map_lookup_elem(&tcpf_ctl, &zero);
	if (!ctl)
		return;
	s = flow_key(in, &key);
	r = s ^ 1;
	idx = tcpf_flow_bucket(tcpf_flow_hash(&key), tcpf_buckets_mask);
	b = bpf_map_lookup_elem(&tcpf_flows, &idx);
	if (!b)
		return;
	e = flow_find(b, &key);
	if (!e)
		e = flow_victim(b, ctl->now);
	__builtin_memcpy(&e->key, &key, sizeof(key));
	f = &e->flow;
	__builtin_memset(f, 0, sizeof(*f));
	f->isn[s] = in->seq - 1;
	f->isn[r] = in->ack - 1;
	f->next[s] = in->seq + in->payload;
	f->next[r] = in->ack;
	/* the SYN and this ACK; the SYN-ACK */
	f->packets[s] = 2;
	f->packets[r] = 1;
	f->bytes[s] = in->bytes;
	f->flags_seen[s] = TCPF_SYN | in->flags;
	f->flags_seen[r] = TCPF_SYN | TCPF_ACK;
	f->created = ctl->now;
	f->seen = ctl->now;
	f->opener = s;
	f->local = r;
	f->state = TCPF_ST_ESTABLISHED;
	conn_count(TCPF_CONN_OPENED);
	in->phase = TCPF_PH_ACK;
	in->state = TCPF_ST_ESTABLISHED;
}

/* Track one TCP segment: sets in->phase and in->state (the connection's). */
static __always_inline void tcpf_track(struct tcpf_segment *in)
{
	struct tcpf_flow_bucket *b;
	struct tcpf_flow_entry *e = NULL;
	struct tcpf_flow_key key __attribute__((aligned(8)));
	struct tcpf_seg g;
	struct tcpf_syn *h;
	struct tcpf_ctl *ctl;
	__u32 zero = 0, hash, idx, phase;

	in->state = TCPF_ST_NONE;
	in->phase = TCPF_PH_OUT_OF_STATE;
	ctl = bpf_map_lookup_elem(&tcpf_ctl, &zero);
	if (!ctl)
		return;
	g.side = flow_key(in, &key);
	g.seq = in->seq;
	g.ack = in->ack;
	g.len = in->payload;
	g.end = g.seq + in->payload;
	g.bytes = in->bytes;
	g.now = ctl->now;
	g.flags = in->flags;
	g.dir = in->dir;

	hash = tcpf_flow_hash(&key);
	idx = tcpf_flow_bucket(hash, tcpf_buckets_mask);
	b = bpf_map_lookup_elem(&tcpf_flows, &idx);
	if (b)
		e = flow_find(b, &key);
	if (e) {
		phase = flow_step(&e->flow, &g);
		if (phase != TCPF_PH_REOPEN) {
			in->phase = phase;
			in->state = e->flow.state;
			return;
		}
		flow_remove(&e->flow);
	}
	idx = tcpf_syn_slot(hash, tcpf_syns_mask);
	h = bpf_map_lookup_elem(&tcpf_syns, &idx);
	if (!h)
		return;
	/* the slot may hold another connection's handshake: not ours */
	if (h->stage != TCPF_HS_EMPTY && key_equal(&h->key, &key)) {
		phase = syn_step(h, b, &g);
		if (h->stage != TCPF_HS_EMPTY)
			in->state = syn_state(h);
		else if (phase == TCPF_PH_ACK || phase == TCPF_PH_SYNACK)
			in->state = TCPF_ST_ESTABLISHED;  /* now in the table */
	} else {
		/* only a SYN takes the slot (and makes it ours) */
		phase = syn_new(h, &key, &g, ctl);
		if (phase == TCPF_PH_SYN)
			in->state = syn_state(h);
	}
	in->phase = phase;
}

#endif /* TCPF_FLOW_BPF_H */
