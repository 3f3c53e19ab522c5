/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guard.bpf.h - the SYN-flood guard (include/tcpflags.h, "The SYN-flood
 * guard"), on the ports an interface's guard protects:
 *   ratelimit  token buckets on SYNs (the rules' ratelimit_pass());
 *   auth       a source's first SYN is dropped and remembered in a
 *              direct-mapped slot; the same SYN sent again in the window
 *              verifies the source;
 *   cookie     a SYN is answered at XDP with a SYN-ACK whose ISN is a SYN
 *              cookie (XDP_TX, nothing kept); the ACK that returns it is
 *              checked at XDP (no valid cookie and no connection: dropped)
 *              and at TC ingress, where bpf_sk_assign_tcp_reqsk() gives the
 *              listener a request socket built from the cookie, so the
 *              kernel makes the connection though it never saw the SYN;
 *   auto       cookie or auth while the timer (guard_tick) sees a flood.
 * Verified sources (auth passed, or a handshake completed) pass to the
 * kernel for a TTL; so do the allow list's, and the deny list's are
 * dropped (glists.bpf.h), before any of the above.  A flood packet costs
 * array lookups and, in cookie mode, one SipHash (the listener it answers
 * for is looked up once a second): never an insert.
 */
#ifndef TCPF_GUARD_BPF_H
#define TCPF_GUARD_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "tcpflags.h"
#include "siphash.h"
#include "parse.bpf.h"
#include "flow.bpf.h"
#include "policy.bpf.h"

/* Set by the loader: this interface's slot of the guard maps. */
const volatile __u32 tcpf_guard_slot = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCPF_GUARD_SLOTS);
	__type(key, __u32);
	__type(value, struct tcpf_gconf);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_gconf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCPF_GUARD_SLOTS);
	__type(key, __u32);
	__type(value, struct tcpf_gstate);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_gstate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCPF_GUARD_SLOTS * TCPF_GC_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_gstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCPF_GUARD_AUTH_SLOTS);
	__type(key, __u32);
	__type(value, struct tcpf_gauth);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_gauth SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCPF_GUARD_VERIFIED_SLOTS);
	__type(key, __u32);
	__type(value, struct tcpf_gverified);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_gverified SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcpf_gvbits);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_gvbits SEC(".maps");

/* What the guard decided for a segment, beside the TCPF_ACT_* verdicts. */
#define TCPF_GUARD_TX (-3)
_Static_assert(TCPF_GUARD_TX != TCPF_DECIDE_LATER && TCPF_GUARD_TX != TCPF_NEXT,
	       "a verdict sentinel of its own");

enum { TCPF_GR_SYNACK = 1, TCPF_GR_RST = 2 };

#define TCPF_TCP_LISTEN 10       /* the kernel's TCP_LISTEN */
#define TCPF_OPT_BUF 64          /* TCP options, copied to tcpf_optbuf */

/*
 * The copy of a segment's TCP options the guard parses.  Off the stack:
 * there, tcpf_guard_syn's frame and tcpf_xdp's together passed the
 * kernel's 512 bytes for a call chain ("combined stack size of 2 calls")
 * under clang 16 and 19 and clang 14 at -mcpu=v3 (Linux 6.18).  Per CPU
 * and private (not pinned): a program runs on one CPU from start to end,
 * and nothing outlives the parse.
 */
struct tcpf_optbuf {
	__u8 b[TCPF_OPT_BUF];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcpf_optbuf);
} tcpf_optbuf SEC(".maps");

/* The TCP options the guard reads. */
struct tcpf_tcpopts {
	__u32 tsval, tsecr;
	__u16 mss;               /* 0: none */
	__u8 wscale;             /* TCPF_COOKIE_WS_NONE: none */
	__u8 sack, ts;
};

/* One frame's guard work: what tcpf_xdp passes down and gets back. */
struct tcpf_guard_ctx {
	void *ctx;               /* the xdp_md */
	const struct tcpf_gconf *gc;
	struct tcpf_gstate *gs;
	__u32 tcp_off;           /* the TCP header's offset in the frame */
	__u32 tcp_len;           /* its data offset, in bytes */
	__u8 mode;               /* the mode in force (auto resolved) */
	__u8 plain;              /* IPv4 without options, IPv6 without
				  * extension headers: a reply fits in place */
	__u8 reply;              /* TCPF_GR_* */
	__u8 opts;               /* the cookie's option bits */
	__u8 adopt;              /* a valid cookie: the tracker adopts it */
	__u8 pad[3];
	__u32 cookie;            /* the SYN-ACK's ISN */
	__u32 tsval, tsecr;      /* the SYN-ACK's timestamps */
	__u16 mss;               /* the MSS it offers */
};

static __always_inline void guard_count(__u32 counter)
{
	__u32 key = (tcpf_guard_slot & (TCPF_GUARD_SLOTS - 1)) * TCPF_GC_MAX +
		    counter;
	__u64 *v = bpf_map_lookup_elem(&tcpf_gstats, &key);

	if (v)
		(*v)++;
}

static __always_inline int guard_port(const struct tcpf_gconf *gc, __u16 port)
{
	__u32 p = bpf_ntohs(port);

	return !!(gc->ports[(p / 64) & (TCPF_GUARD_PORT_WORDS - 1)] &
		  (1ULL << (p % 64)));
}

/* The mode in force: auto is its engage mode while engaged, else off. */
static __always_inline __u8 guard_mode(const struct tcpf_gconf *gc,
				       const struct tcpf_gstate *gs)
{
	if (gc->mode != TCPF_GM_AUTO)
		return gc->mode;
	return gs->engaged ? gc->engage : TCPF_GM_OFF;
}

/* This interface's guard, if it watches anything: its config and state. */
static __always_inline int guard_lookup(const struct tcpf_gconf **gc,
					struct tcpf_gstate **gs)
{
	__u32 slot = tcpf_guard_slot;

	*gc = bpf_map_lookup_elem(&tcpf_gconf, &slot);
	if (!*gc || (*gc)->mode == TCPF_GM_OFF)
		return 0;
	*gs = bpf_map_lookup_elem(&tcpf_gstate, &slot);
	return *gs != NULL;
}

/* The coarse clock (seconds) the reaper advances. */
static __always_inline __u32 guard_now(void)
{
	__u32 zero = 0;
	struct tcpf_ctl *ctl = bpf_map_lookup_elem(&tcpf_ctl, &zero);

	return ctl ? ctl->now : 0;
}

/* the allow and deny lists: they count with guard_count() */
#include "glists.bpf.h"

/* ------------------------------------------------------------ options */

struct opt_walk {
	const __u8 *b;
	__u32 len, i;
	struct tcpf_tcpopts *o;
};

static __always_inline __u32 be32_at(const __u8 *b, __u32 i)
{
	return (__u32)b[i & (TCPF_OPT_BUF - 1)] << 24 |
	       (__u32)b[(i + 1) & (TCPF_OPT_BUF - 1)] << 16 |
	       (__u32)b[(i + 2) & (TCPF_OPT_BUF - 1)] << 8 |
	       b[(i + 3) & (TCPF_OPT_BUF - 1)];
}

/* One option (bpf_loop's step: a loop the verifier walks once). */
static long opt_step(__u32 n, struct opt_walk *w)
{
	const __u8 *b = w->b;
	__u32 i = w->i, sz;
	__u8 kind;

	(void)n;
	if (i >= w->len || i >= 40)
		return 1;
	kind = b[i & (TCPF_OPT_BUF - 1)];
	if (kind == 0)
		return 1;
	if (kind == 1) {
		w->i = i + 1;
		return 0;
	}
	if (i + 1 >= w->len)
		return 1;
	sz = b[(i + 1) & (TCPF_OPT_BUF - 1)];
	if (sz < 2 || i + sz > w->len)
		return 1;
	if (kind == 2 && sz == 4)
		w->o->mss = (__u16)(be32_at(b, i) & 0xffff);
	else if (kind == 3 && sz == 3)
		w->o->wscale = b[(i + 2) & (TCPF_OPT_BUF - 1)];
	else if (kind == 4 && sz == 2)
		w->o->sack = 1;
	else if (kind == 8 && sz == 10) {
		w->o->ts = 1;
		w->o->tsval = be32_at(b, i + 2);
		w->o->tsecr = be32_at(b, i + 6);
	}
	w->i = i + sz;
	return 0;
}

/* The options of a TCP header of tcp_len bytes at off (XDP or TC). */
static __always_inline void guard_options(void *ctx, int xdp, __u32 off,
					  __u32 tcp_len, struct tcpf_tcpopts *o)
{
	struct opt_walk w = { .o = o };
	__u32 len = tcp_len - 20, zero = 0;
	struct tcpf_optbuf *ob;
	__u8 *buf;
	long err;

	o->mss = 0;
	o->wscale = TCPF_COOKIE_WS_NONE;
	o->sack = o->ts = 0;
	o->tsval = o->tsecr = 0;
	if (tcp_len <= 20 || tcp_len > 60)
		return;
	len &= 63;
	if (len == 0 || len > 40)
		return;
	ob = bpf_map_lookup_elem(&tcpf_optbuf, &zero);
	if (!ob)
		return;
	buf = ob->b;
	w.b = buf;
	if (xdp)
		err = bpf_xdp_load_bytes(ctx, off + 20, buf, len);
	else
		err = bpf_skb_load_bytes(ctx, off + 20, buf, len);
	if (err)
		return;
	w.len = len;
	/* the ACK of a Linux or macOS client: NOP NOP TS */
	if (len == 12 && buf[0] == 1 && buf[1] == 1 && buf[2] == 8 &&
	    buf[3] == 10) {
		o->ts = 1;
		o->tsval = be32_at(buf, 4);
		o->tsecr = be32_at(buf, 8);
		return;
	}
	bpf_loop(40, opt_step, &w, 0);
}

/* ------------------------------------------------------------- cookies */

/* The MSS table index a client's MSS gets: the largest entry it allows. */
static __always_inline __u32 mss_index(__u8 family, __u16 mss)
{
	__u32 i;

	for (i = 3; i > 0; i--)
		if (mss >= (family == TCPF_IPV4 ? TCPF_MSS4(i) : TCPF_MSS6(i)))
			break;
	return i;
}

/*
 * The 29 bits of a cookie's MAC (bits 3-31), over the client's side and
 * ours, the client's ISN, the cookie's low bits and its options.
 */
static __always_inline __u32 cookie_mac(const __u64 key[2],
					const struct tcpf_segment *in,
					__u32 isn, __u32 low, __u32 opts)
{
	/* the 11 bits of family, opts (7) and low (3) are a 2-byte tail */
	__u64 m[5], tail = (__u64)in->family << 10 | opts << 3 | low, h;

	if (in->family == TCPF_IPV4) {
		m[0] = (__u64)in->saddr[0] << 32 | in->daddr[0];
		m[1] = (__u64)in->sport << 48 | (__u64)in->dport << 32 | isn;
		h = tcpf_siphash_tail(key, m, 2, tail, 2);
	} else {
		m[0] = (__u64)in->saddr[1] << 32 | in->saddr[0];
		m[1] = (__u64)in->saddr[3] << 32 | in->saddr[2];
		m[2] = (__u64)in->daddr[1] << 32 | in->daddr[0];
		m[3] = (__u64)in->daddr[3] << 32 | in->daddr[2];
		m[4] = (__u64)in->sport << 48 | (__u64)in->dport << 32 | isn;
		h = tcpf_siphash_tail(key, m, 5, tail, 2);
	}
	return (__u32)(h >> 32) & ~7u;
}

/* The cookie a SYN gets, with the TSval that carries its options. */
static __always_inline void cookie_make(struct tcpf_guard_ctx *gx,
					const struct tcpf_segment *in,
					const struct tcpf_tcpopts *o,
					__u32 now)
{
	const struct tcpf_gstate *gs = gx->gs;
	__u32 parity = gs->epoch & 1;
	__u32 low = mss_index(in->family, o->mss ? o->mss :
			      (in->family == TCPF_IPV4 ? 536 : 1220)) << 1 |
		    parity;
	__u32 opts = TCPF_COOKIE_NO_TS;

	if (o->ts) {
		opts = (o->wscale > 14 ? TCPF_COOKIE_WS_NONE : o->wscale);
		if (o->sack)
			opts |= TCPF_COOKIE_SACK;
		if ((in->flags & (TCPF_ECE | TCPF_CWR)) == (TCPF_ECE | TCPF_CWR))
			opts |= TCPF_COOKIE_ECN;
		gx->tsval = (now * 1000) & ~(__u32)TCPF_COOKIE_OPT_MASK;
		gx->tsval |= opts;
		gx->tsecr = o->tsval;
	}
	gx->opts = (__u8)opts;
	gx->cookie = cookie_mac(gs->secret[parity], in, in->seq, low, opts) |
		     low;
}

/*
 * Does the ACK carry a cookie of ours?  Its option bits go to *opts
 * (TCPF_COOKIE_NO_TS without timestamps), its MSS index to *mssi.
 */
static __always_inline int cookie_check(const struct tcpf_gstate *gs,
					const struct tcpf_segment *in,
					const struct tcpf_tcpopts *o,
					__u32 *opts, __u32 *mssi)
{
	__u32 cookie = in->ack - 1, low = cookie & 7;

	*opts = o->ts ? (o->tsecr & TCPF_COOKIE_OPT_MASK) : TCPF_COOKIE_NO_TS;
	*mssi = low >> 1;
	return cookie_mac(gs->secret[low & 1], in, in->seq - 1, low, *opts) ==
	       (cookie & ~7u);
}

/* ---------------------------------------------------- sources, auth */

/* A keyed 64-bit mix of the source (and the 4-tuple): its low bits pick
 * a slot, its high 32 bits are the tag that must match there. */
static __always_inline __u64 guard_mix(const struct tcpf_gconf *gc,
				       const struct tcpf_segment *in,
				       int tuple)
{
	__u64 h = (in->saddr[0] ^ gc->key[0]) * 0x9e3779b97f4a7c15ULL;

	h += (in->saddr[1] ^ (gc->key[0] >> 32)) * 0xc2b2ae3d27d4eb4fULL;
	h += (in->saddr[2] ^ gc->key[1]) * 0x165667b19e3779f9ULL;
	h += (in->saddr[3] ^ (gc->key[1] >> 32)) * 0xd6e8feb86659fd93ULL;
	h += in->family;
	if (tuple) {
		h += ((__u64)in->sport << 16 | in->dport) * 0xff51afd7ed558ccdULL;
		h += (in->daddr[0] ^ in->daddr[3]) * 0xc4ceb9fe1a85ec53ULL;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ h >> 31;
}

/* A source's slot of tcpf_gverified, and its bit of tcpf_gvbits. */
static __always_inline __u32 verified_index(const struct tcpf_gconf *gc,
					    const struct tcpf_segment *in)
{
	return (__u32)guard_mix(gc, in, 0) & (TCPF_GUARD_VERIFIED_SLOTS - 1);
}

static __always_inline __u64 *verified_word(__u32 slot)
{
	__u32 zero = 0;
	struct tcpf_gvbits *b = bpf_map_lookup_elem(&tcpf_gvbits, &zero);

	return b ? &b->w[(slot / 64) & (TCPF_GUARD_VERIFIED_SLOTS / 64 - 1)]
		 : NULL;
}

static __always_inline int is_verified(const struct tcpf_gconf *gc,
				       const struct tcpf_segment *in, __u32 now)
{
	__u32 slot = verified_index(gc, in);
	__u64 *w = verified_word(slot), bit = 1ULL << (slot % 64);
	struct tcpf_gverified *v;

	if (!w || !(*w & bit))
		return 0;
	v = bpf_map_lookup_elem(&tcpf_gverified, &slot);
	if (!v)
		return 0;
	if (!tcpf_ahead(v->until, now)) {
		/* expired: its bit goes, so spoofed sources skip it again */
		__sync_fetch_and_and(w, ~bit);
		return 0;
	}
	return v->family == (__u32)in->family + 1 &&
	       v->addr[0] == in->saddr[0] && v->addr[1] == in->saddr[1] &&
	       v->addr[2] == in->saddr[2] && v->addr[3] == in->saddr[3];
}

static __always_inline void verify(const struct tcpf_gconf *gc,
				   const struct tcpf_segment *in, __u32 now)
{
	__u32 slot = verified_index(gc, in);
	__u64 *w = verified_word(slot), bit = 1ULL << (slot % 64);
	struct tcpf_gverified *v = bpf_map_lookup_elem(&tcpf_gverified, &slot);

	if (!v || !w)
		return;
	__builtin_memcpy(v->addr, in->saddr, sizeof(v->addr));
	v->family = (__u32)in->family + 1;
	v->until = now + gc->verified_ttl;
	if (!(*w & bit))
		__sync_fetch_and_or(w, bit);
}

/* auth: 1 to pass the SYN, 0 to drop it. */
static __always_inline int auth_syn(const struct tcpf_gconf *gc,
				    const struct tcpf_segment *in, __u32 now)
{
	__u64 h = guard_mix(gc, in, 1);
	__u32 slot = (__u32)h & (TCPF_GUARD_AUTH_SLOTS - 1);
	/* 32 bits of its own, and the ISN: the same SYN sent again */
	__u32 tag = ((__u32)(h >> 32) ^ in->seq * 0x9e3779b1) | 1;
	struct tcpf_gauth *a = bpf_map_lookup_elem(&tcpf_gauth, &slot);
	__u32 age;

	if (!a)
		return 1;
	if (a->tag == tag) {
		age = now - a->seen;
		if (age >= gc->auth_min && age <= gc->auth_max) {
			a->tag = 0;
			verify(gc, in, now);
			guard_count(TCPF_GC_AUTH_PASS);
			return 1;
		}
		if (age < gc->auth_min) {
			guard_count(TCPF_GC_AUTH_CHALLENGE);
			return 0;
		}
	}
	a->tag = tag;
	a->seen = now;
	guard_count(TCPF_GC_AUTH_CHALLENGE);
	return 0;
}

/* ------------------------------------------------------------ sockets */

/* The segment's socket tuple, as the kernel's lookups take it; its size. */
static __always_inline __u32 sock_tuple(const struct tcpf_segment *in,
					struct bpf_sock_tuple *t)
{
	if (in->family == TCPF_IPV4) {
		t->ipv4.saddr = in->saddr[0];
		t->ipv4.daddr = in->daddr[0];
		t->ipv4.sport = in->sport;
		t->ipv4.dport = in->dport;
		return sizeof(t->ipv4);
	}
	__builtin_memcpy(t->ipv6.saddr, in->saddr, 16);
	__builtin_memcpy(t->ipv6.daddr, in->daddr, 16);
	t->ipv6.sport = in->sport;
	t->ipv6.dport = in->dport;
	return sizeof(t->ipv6);
}

/* The kernel's socket for the segment: its state, or -1 for none. */
static __always_inline int sock_state(void *ctx,
				      const struct tcpf_segment *in)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 size;
	int st;

	size = sock_tuple(in, &t);
	sk = bpf_skc_lookup_tcp(ctx, &t, size, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return -1;
	st = sk->state;
	bpf_sk_release(sk);
	return st;
}

/*
 * sock_state() for a SYN: a listener comes from tcpf_gstate's cache when
 * a SYN found it there this second, so a flood costs no socket lookup per
 * SYN (~60 ns here).  The cache is by destination: a 4-tuple the kernel
 * still holds (TIME_WAIT) is not looked for once its listener is cached;
 * its source completed a handshake, so it is verified for longer than
 * TIME_WAIT lasts (unless --ttl is under 60 s) and its SYNs pass before
 * this.
 */
static __always_inline int syn_sock_state(struct tcpf_guard_ctx *gx,
					  const struct tcpf_segment *in,
					  __u32 now)
{
	__u64 h = (__u64)in->daddr[0] * 0x9e3779b97f4a7c15ULL +
		  (__u64)(in->daddr[1] ^ in->daddr[2] ^ in->daddr[3]) *
		  0xc2b2ae3d27d4eb4fULL +
		  ((__u64)in->dport << 8 | in->family) * 0x165667b19e3779f9ULL;
	__u32 tag = (__u32)(h >> 32) | 1;
	__u64 *e = &gx->gs->listen[(h >> 29) & (TCPF_GUARD_LISTEN_SLOTS - 1)];
	__u64 seen = *e;
	int st;

	if ((__u32)(seen >> 32) == tag && (__u32)seen == now)
		return TCPF_TCP_LISTEN;
	st = sock_state(gx->ctx, in);
	if (st == TCPF_TCP_LISTEN)
		*e = (__u64)tag << 32 | now;
	return st;
}

/* --------------------------------------------------------------- SYNs */

/*
 * A SYN to a protected port: TCPF_ACT_PASS to go on (to the tracker and
 * the kernel), TCPF_ACT_DROP, or TCPF_GUARD_TX with gx->reply set.
 */
static __always_inline int guard_syn(struct tcpf_guard_ctx *gx,
				     const struct tcpf_segment *in, __u32 now)
{
	const struct tcpf_gconf *gc = gx->gc;
	struct tcpf_tcpopts o;
	int st = glist_judge(gc, gx->mode, in, now);

	if (st != TCPF_NEXT)
		return st;
	guard_count(TCPF_GC_SYN);
	switch (gx->mode) {
	case TCPF_GM_MONITOR:
		guard_count(TCPF_GC_WOULD_COOKIE);
		return TCPF_ACT_PASS;
	case TCPF_GM_RATELIMIT:
		if ((gc->rl[0].rl_cost && !ratelimit_pass(&gc->rl[0], in)) ||
		    (gc->rl[1].rl_cost && !ratelimit_pass(&gc->rl[1], in))) {
			guard_count(TCPF_GC_RL_DROP);
			policy_count(&tcpf_drops, TCPF_DROP_GUARD_RATELIMIT,
				     in->bytes);
			return TCPF_ACT_DROP;
		}
		return TCPF_ACT_PASS;
	case TCPF_GM_AUTH:
		if (is_verified(gc, in, now)) {
			guard_count(TCPF_GC_VERIFIED);
			return TCPF_ACT_PASS;
		}
		if (auth_syn(gc, in, now))
			return TCPF_ACT_PASS;
		policy_count(&tcpf_drops, TCPF_DROP_GUARD_AUTH, in->bytes);
		return TCPF_ACT_DROP;
	case TCPF_GM_COOKIE:
		break;
	default:
		return TCPF_ACT_PASS;
	}
	if (is_verified(gc, in, now)) {
		guard_count(TCPF_GC_VERIFIED);
		return TCPF_ACT_PASS;
	}
	if (!gx->plain) {
		guard_count(TCPF_GC_UNSUPPORTED);
		return TCPF_ACT_PASS;
	}
	st = syn_sock_state(gx, in, now);
	if (st < 0) {
		gx->reply = TCPF_GR_RST;
		return TCPF_GUARD_TX;
	}
	/* a 4-tuple the kernel still holds (TIME_WAIT): the kernel's call */
	if (st != TCPF_TCP_LISTEN)
		return TCPF_ACT_PASS;
	guard_options(gx->ctx, 1, gx->tcp_off, gx->tcp_len, &o);
	cookie_make(gx, in, &o, now);
	gx->mss = in->family == TCPF_IPV4 ? gc->mss4 : gc->mss6;
	gx->reply = TCPF_GR_SYNACK;
	return TCPF_GUARD_TX;
}

/* --------------------------------------------------------------- ACKs */

/*
 * An ACK to a protected port, after the tracker: known to it, it passes;
 * else a valid cookie makes it a connection of the flow table (the
 * kernel's comes at TC ingress); else a socket of the kernel's lets it
 * pass; else it is dropped.  Monitor counts what cookie would drop.
 */
static __always_inline int guard_ack(struct tcpf_guard_ctx *gx,
				     struct tcpf_segment *in, __u32 now)
{
	struct tcpf_tcpopts o;
	__u32 opts, mssi;
	int st;

	if (in->phase == TCPF_PH_ACK) {
		guard_count(TCPF_GC_HS_ACK);
		if (gx->mode == TCPF_GM_AUTH || gx->mode == TCPF_GM_COOKIE)
			verify(gx->gc, in, now);
		return TCPF_ACT_PASS;
	}
	if (in->state != TCPF_ST_NONE ||
	    (gx->mode != TCPF_GM_COOKIE && gx->mode != TCPF_GM_MONITOR))
		return TCPF_ACT_PASS;
	if (gx->mode == TCPF_GM_COOKIE) {
		st = glist_judge(gx->gc, gx->mode, in, now);
		if (st != TCPF_NEXT)
			return st;
		guard_options(gx->ctx, 1, gx->tcp_off, gx->tcp_len, &o);
		if (cookie_check(gx->gs, in, &o, &opts, &mssi)) {
			guard_count(TCPF_GC_COOKIE_VALID);
			guard_count(TCPF_GC_HS_ACK);
			gx->adopt = 1;
			verify(gx->gc, in, now);
			return TCPF_ACT_PASS;
		}
	}
	st = sock_state(gx->ctx, in);
	if (st >= 0 && st != TCPF_TCP_LISTEN)
		return TCPF_ACT_PASS;
	if (gx->mode == TCPF_GM_MONITOR) {
		guard_count(TCPF_GC_WOULD_DROP);
		return TCPF_ACT_PASS;
	}
	guard_count(TCPF_GC_COOKIE_FAILED);
	policy_count(&tcpf_drops, TCPF_DROP_GUARD_ACK, in->bytes);
	return TCPF_ACT_DROP;
}

/* ------------------------------------------------------------ replies */

static __always_inline __u32 csum_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u32)~s & 0xffff;
}

/*
 * The reply, written over the SYN in place: the SYN-ACK with the cookie,
 * or the RST|ACK a closed port gets.  Ethernet and VLAN tags stay (the
 * addresses swapped); the IP header is rewritten; the frame is cut or
 * grown to the new TCP header.  XDP_TX, or XDP_PASS (the kernel answers)
 * when the frame cannot take it.
 */
static __always_inline int guard_reply(struct xdp_md *ctx,
				       const struct tcpf_guard_ctx *gx,
				       const struct tcpf_segment *in)
{
	__u32 hdr[10] = {}, hw[5], nw = 5, off = gx->tcp_off, len, i, l3;
	__u32 *w, *ip32;
	__u8 *data, *end, mac[6];
	__u64 sum = 0;
	__u8 flags;
	int delta;

	if (gx->reply == TCPF_GR_SYNACK) {
		flags = TCPF_SYN | TCPF_ACK;
		if (gx->opts & TCPF_COOKIE_ECN)
			flags |= TCPF_ECE;
		hdr[1] = bpf_htonl(gx->cookie);
		hdr[2] = bpf_htonl(in->seq + 1);
		/* a window of 10 segments until the kernel's own takes over */
		hdr[5] = bpf_htonl(2u << 24 | 4u << 16 | gx->mss);
		if (!(gx->opts & TCPF_COOKIE_NO_TS)) {
			hdr[6] = bpf_htonl(gx->opts & TCPF_COOKIE_SACK ?
					   4u << 24 | 2u << 16 | 8u << 8 | 10u :
					   1u << 24 | 1u << 16 | 8u << 8 | 10u);
			hdr[7] = bpf_htonl(gx->tsval);
			hdr[8] = bpf_htonl(gx->tsecr);
			nw = 9;
			if ((gx->opts & 0xf) != TCPF_COOKIE_WS_NONE) {
				hdr[9] = bpf_htonl(1u << 24 | 3u << 16 | 3u << 8 |
						   gx->gc->wscale);
				nw = 10;
			}
		} else {
			nw = 6;
		}
		hdr[3] = bpf_htonl(nw << 28 | (__u32)flags << 16 |
				   (10u * gx->mss > 65535 ? 65535 : 10u * gx->mss));
	} else {
		hdr[1] = 0;
		hdr[2] = bpf_htonl(in->seq + 1 + in->payload);
		hdr[3] = bpf_htonl(5u << 28 | (__u32)(TCPF_RST | TCPF_ACK) << 16);
	}
	hdr[0] = (__u32)in->dport | (__u32)in->sport << 16;
	if (off > 128)
		return XDP_PASS;
	len = off + nw * 4;
	delta = (int)len - (int)(ctx->data_end - ctx->data);
	if (delta && bpf_xdp_adjust_tail(ctx, delta)) {
		guard_count(TCPF_GC_UNSUPPORTED);
		return XDP_PASS;
	}
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	/* bounds the verifier keeps across the helper call */
	l3 = off - (in->family == TCPF_IPV4 ? 20 : 40);
	asm volatile("%0 &= 0x7f" : "+r"(l3));
	asm volatile("%0 &= 0xff" : "+r"(off));
	if (data + 14 > end)
		return XDP_PASS;
	__builtin_memcpy(mac, data, 6);
	__builtin_memcpy(data, data + 6, 6);
	__builtin_memcpy(data + 6, mac, 6);

	/* the pseudo header, then the TCP header */
	if (in->family == TCPF_IPV4) {
		struct iphdr *ip = (void *)(data + l3);

		if ((void *)(ip + 1) > (void *)end)
			return XDP_PASS;
		/*
		 * Written and summed as the five words a load would read
		 * back (little-endian: a field's bytes as they lie in the
		 * word): summing the header after writing it byte by byte
		 * waited on store forwarding, ~25 ns a reply here.
		 */
		ip32 = (__u32 *)ip;
		hw[0] = bpf_htonl(0x45000000u | (20 + nw * 4));
		hw[1] = bpf_htonl(0x4000u);              /* DF */
		hw[2] = bpf_htonl(64u << 24 | (__u32)IPPROTO_TCP << 16);
		hw[3] = in->daddr[0];
		hw[4] = in->saddr[0];
		sum = (__u64)hw[0] + hw[1] + hw[2] + hw[3] + hw[4];
		hw[2] |= csum_fold(sum) << 16;           /* bytes 10-11 */
		for (i = 0; i < 5; i++)
			ip32[i] = hw[i];
		sum = (__u64)in->saddr[0] + in->daddr[0] +
		      bpf_htons(IPPROTO_TCP) + bpf_htons(nw * 4);
	} else {
		struct ipv6hdr *ip6 = (void *)(data + l3);

		if ((void *)(ip6 + 1) > (void *)end)
			return XDP_PASS;
		*(__u32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(nw * 4);
		ip6->nexthdr = IPPROTO_TCP;
		ip6->hop_limit = 64;
		__builtin_memcpy(&ip6->saddr, in->daddr, 16);
		__builtin_memcpy(&ip6->daddr, in->saddr, 16);
		sum = 0;
		for (i = 0; i < 4; i++)
			sum += (__u64)in->saddr[i] + in->daddr[i];
		sum += bpf_htonl(nw * 4) + bpf_htonl(IPPROTO_TCP);
	}
	for (i = 0; i < 10; i++)
		if (i < nw)
			sum += hdr[i];
	hdr[4] = csum_fold(sum);
	w = (__u32 *)(data + off);
	for (i = 0; i < 10; i++) {
		if (i >= nw)
			break;
		if ((void *)(w + i + 1) > (void *)end)
			return XDP_PASS;
		w[i] = hdr[i];
	}
	if (gx->reply == TCPF_GR_SYNACK)
		guard_count(TCPF_GC_COOKIE_SENT);
	else
		guard_count(TCPF_GC_RST);
	return XDP_TX;
}

/* ------------------------------------------------------------ TC ingress */

/* The kernel's, for the kfunc (include/net/tcp.h); checked by its size. */
struct bpf_tcp_req_attrs {
	__u32 rcv_tsval;
	__u32 rcv_tsecr;
	__u16 mss;
	__u8 rcv_wscale;
	__u8 snd_wscale;
	__u8 ecn_ok;
	__u8 wscale_ok;
	__u8 sack_ok;
	__u8 tstamp_ok;
	__u8 usec_ts_ok;
	__u8 reserved[3];
};

/* Opaque here; a definition, not a declaration: libbpf 1.1 holds a
 * forward declaration incompatible with the kernel's struct sock. */
struct sock {
	__u8 opaque;
};
extern int bpf_sk_assign_tcp_reqsk(struct __sk_buff *skb, struct sock *sk,
				   struct bpf_tcp_req_attrs *attrs,
				   int attrs__sz) __ksym __weak;

/*
 * At TC ingress, an ACK XDP let through with a valid cookie: give the
 * listener a request socket made from the cookie, so the kernel makes the
 * connection from this ACK.  What is not that is the kernel's as usual.
 */
static __always_inline void guard_handoff(struct __sk_buff *skb,
					  const struct tcpf_guard_ctx *gx,
					  const struct tcpf_segment *in)
{
	struct bpf_tcp_req_attrs attrs = {};
	struct bpf_sock_tuple t = {};
	struct tcpf_tcpopts o;
	struct bpf_sock *skc;
	struct tcp_sock *tp;
	__u32 opts, mssi, size;

	guard_options(skb, 0, gx->tcp_off, gx->tcp_len, &o);
	if (!cookie_check(gx->gs, in, &o, &opts, &mssi))
		return;
	size = sock_tuple(in, &t);
	skc = bpf_skc_lookup_tcp(skb, &t, size, BPF_F_CURRENT_NETNS, 0);
	if (!skc)
		return;
	if (skc->state != TCPF_TCP_LISTEN)
		goto out;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		goto out;
	attrs.mss = in->family == TCPF_IPV4 ? TCPF_MSS4(mssi) : TCPF_MSS6(mssi);
	if (opts != TCPF_COOKIE_NO_TS) {
		attrs.tstamp_ok = 1;
		attrs.rcv_tsval = o.tsval;
		attrs.rcv_tsecr = o.tsecr;
		attrs.sack_ok = !!(opts & TCPF_COOKIE_SACK);
		attrs.ecn_ok = !!(opts & TCPF_COOKIE_ECN);
		if ((opts & 0xf) != TCPF_COOKIE_WS_NONE) {
			attrs.wscale_ok = 1;
			attrs.snd_wscale = opts & 0xf;
			attrs.rcv_wscale = gx->gc->wscale;
		}
	}
	if (bpf_sk_assign_tcp_reqsk(skb, (struct sock *)tp, &attrs,
				    sizeof(attrs)))
		guard_count(TCPF_GC_HANDOFF_FAILED);
	else
		guard_count(TCPF_GC_HANDOFF);
out:
	bpf_sk_release(skc);
}

/* --------------------------------------------------------------- timer */

struct guard_tick_ctx {
	__u32 now;
};

static __always_inline __u64 gstat_sum(__u32 key, __u32 ncpus)
{
	__u64 sum = 0;

	for (__u32 cpu = 0; cpu < 256; cpu++) {
		__u64 *v;

		if (cpu >= ncpus)
			break;
		v = bpf_map_lookup_percpu_elem(&tcpf_gstats, &key, cpu);
		if (v)
			sum += *v;
	}
	return sum;
}

/* Once a second, per slot: rotate the secret, measure, decide auto. */
static long guard_tick_slot(__u32 slot, struct guard_tick_ctx *t)
{
	const struct tcpf_gconf *gc = bpf_map_lookup_elem(&tcpf_gconf, &slot);
	struct tcpf_gstate *gs = bpf_map_lookup_elem(&tcpf_gstate, &slot);
	__u32 epoch, rate, acks, now = t->now;
	__u64 syns, hs;
	int flood;

	if (!gc || !gs || !gc->ifindex || gc->mode == TCPF_GM_OFF)
		return 0;
	epoch = now / (gc->rotate ? gc->rotate : 1);
	if (epoch != gs->epoch) {
		if (epoch - gs->epoch > 1)
			tcpf_guard_secret(gc->key, epoch - 1,
					  gs->secret[(epoch - 1) & 1]);
		tcpf_guard_secret(gc->key, epoch, gs->secret[epoch & 1]);
		gs->epoch = epoch;
	}
	syns = gstat_sum(slot * TCPF_GC_MAX + TCPF_GC_SYN, gc->ncpus);
	hs = gstat_sum(slot * TCPF_GC_MAX + TCPF_GC_HS_ACK, gc->ncpus);
	rate = (__u32)(syns - gs->syns);
	acks = (__u32)(hs - gs->handshakes);
	gs->syns = syns;
	gs->handshakes = hs;
	gs->syn_rate = rate;
	gs->ratio = rate ? (acks >= rate ? 1000 :
			    (__u32)((__u64)acks * 1000 / rate)) : 1000;
	gs->ticks++;
	if (gc->mode != TCPF_GM_AUTO)
		return 0;
	flood = rate >= gc->syn_on ||
		(rate >= gc->syn_off && gs->ratio < gc->ratio_on);
	if (!gs->engaged) {
		if (flood) {
			gs->engaged = 1;
			gs->engaged_at = now;
			gs->calm_for = 0;
		}
	} else if (!flood && rate < gc->syn_off) {
		if (++gs->calm_for >= gc->calm) {
			gs->engaged = 0;
			gs->released_at = now;
		}
	} else {
		gs->calm_for = 0;
	}
	return 0;
}

static __always_inline void guard_tick(__u32 now)
{
	struct guard_tick_ctx t = { .now = now };

	bpf_loop(TCPF_GUARD_SLOTS, guard_tick_slot, &t, 0);
}

#endif /* TCPF_GUARD_BPF_H */
