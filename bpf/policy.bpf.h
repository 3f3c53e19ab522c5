/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy.bpf.h - rule matching and actions.
 *
 * Userspace compiles the rule set into bitmaps (include/tcpflags.h, struct
 * tcpf_ruleset): for each match kind and each value, the rules that value
 * satisfies.  A segment's candidates are the AND of a handful of bitmaps
 * and the lowest set bit is the first matching rule, so the cost does not
 * grow with the number of rules.  Two rule sets, switched by one write to
 * tcpf_policy, so a change never leaves a moment without a rule set.
 */
#ifndef TCPF_POLICY_BPF_H
#define TCPF_POLICY_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tcpflags.h"
#include "parse.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcpf_policy);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_policy SEC(".maps");

/* Each set with its prefix trie and port table (include/tcpflags.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCPF_RULESETS);
	__type(key, __u32);
	__type(value, struct tcpf_set);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_rulesets SEC(".maps");

/* Hits per rule, in slots (TCPF_HIT_SLOTS), and drops by reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCPF_HIT_SLOTS);
	__type(key, __u32);
	__type(value, struct tcpf_count);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_rhits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCPF_DROP_MAX);
	__type(key, __u32);
	__type(value, struct tcpf_count);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCPF_RL_SLOTS);
	__type(key, __u32);
	__type(value, struct tcpf_rl_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_ratelimit SEC(".maps");

static __always_inline void bm_and(struct tcpf_bitmap *c,
				   const struct tcpf_bitmap *m)
{
#pragma unroll
	for (int i = 0; i < TCPF_RULE_WORDS; i++)
		c->w[i] &= m->w[i];
}

/*
 * c &= what a prefix or port lookup allows: its bitmap already holds the
 * rules that match any value; should the lookup fail, only those.
 */
static __always_inline void bm_and_found(struct tcpf_bitmap *c,
					 const struct tcpf_bitmap *m,
					 const struct tcpf_bitmap *any)
{
	bm_and(c, m ? m : any);
}

static __always_inline int bm_empty(const struct tcpf_bitmap *c)
{
	return !(c->w[0] | c->w[1] | c->w[2] | c->w[3]);
}

static __always_inline int bm_has(const struct tcpf_bitmap *c, __u32 i)
{
	return !!(c->w[(i / 64) & (TCPF_RULE_WORDS - 1)] & (1ULL << (i % 64)));
}

/* The first rule of c (not empty): see tcpf_ctz_table(). */
static __always_inline __u32 bm_first(const struct tcpf_ruleset *rs,
				      const struct tcpf_bitmap *c)
{
#pragma unroll
	for (int i = 0; i < TCPF_RULE_WORDS; i++)
		if (c->w[i])
			return i * 64 + rs->ctz[TCPF_CTZ_SLOT(c->w[i])];
	return 0;
}

static __always_inline void policy_count(void *map, __u32 key, __u32 bytes)
{
	struct tcpf_count *c = bpf_map_lookup_elem(map, &key);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/*
 * The rules whose source (side 0) or destination prefixes contain the
 * segment's address: one read per address byte past the first, while the
 * entry points to a deeper node (two reads for a /24, three for a /32).
 */
static __always_inline const struct tcpf_bitmap *
pfx_rules(const struct tcpf_pfx_trie *t, const struct tcpf_segment *in,
	  __u32 side)
{
	const __u8 *a = (const __u8 *)(side ? in->daddr : in->saddr);
	__u16 v = t->root[side & 1][in->family & 1][a[0]].e[a[1]];

	/* no break: clang 16 and 19 cannot unroll the loop with one (-Werror
	 * stops the build); a class stays a class, so the walk is the same,
	 * and clang 14's code is too */
#pragma unroll
	for (int i = 2; i < 16; i++)
		if (v & TCPF_PFX_NODE)
			v = t->node[v & (TCPF_PFX_NODES - 1)].e[a[i]];
	/* still a node (past the last byte) is no class */
	if (v & TCPF_PFX_NODE)
		return NULL;
	return &t->cls[v & (TCPF_PFX_CLASS_SLOTS - 1)];
}

/* Narrow the candidates by each lookup some rule of the set needs. */
static __always_inline void match_lookups(struct tcpf_bitmap *c,
					  const struct tcpf_set *s,
					  const struct tcpf_segment *in)
{
	__u32 lookups = s->rs.lookups;

	if (lookups & TCPF_LOOKUP_SRC)
		bm_and_found(c, pfx_rules(&s->pfx, in, 0), &s->rs.src_any);
	if (lookups & TCPF_LOOKUP_DST)
		bm_and_found(c, pfx_rules(&s->pfx, in, 1), &s->rs.dst_any);
	if (lookups & TCPF_LOOKUP_SPORT)
		bm_and(c, &s->ports.port[0][bpf_ntohs(in->sport)]);
	if (lookups & TCPF_LOOKUP_DPORT)
		bm_and(c, &s->ports.port[1][bpf_ntohs(in->dport)]);
}

/* The top plen bits of a big-endian word w, as a host-order value. */
static __always_inline __u32 mask_word(__u32 be, __u32 plen)
{
	__u32 w = bpf_ntohl(be);

	if (plen >= 32)
		return w;
	return plen ? w & (0xffffffffU << (32 - plen)) : 0;
}

/* The token bucket of a rate-limit rule: 1 to pass, 0 to drop. */
static __always_inline int ratelimit_pass(const struct tcpf_rule_act *a,
					  const struct tcpf_segment *in)
{
	__u32 key[4] = {}, slot, h;
	__u32 plen = a->rl_plen;
	struct tcpf_rl_bucket *b;
	__u64 now, credit;
	int pass;

	/* the family is part of the key: 198.19.0.1 is not c613:1::; and
	 * the rule's text, so a rule changed under its id starts afresh */
	__u32 tag = a->id | (__u32)(a->rl_per == TCPF_RL_SRC ?
				    in->family + 1 : 0) << 9 |
		    (__u32)a->rl_salt << 16;

	h = tag * 0x9e3779b1;
	if (a->rl_per == TCPF_RL_SRC) {
		if (in->family == TCPF_IPV4) {
			key[0] = mask_word(in->saddr[0], plen);
		} else {
			key[0] = mask_word(in->saddr[0], plen);
			key[1] = mask_word(in->saddr[1], plen > 32 ? plen - 32 : 0);
			key[2] = mask_word(in->saddr[2], plen > 64 ? plen - 64 : 0);
			key[3] = mask_word(in->saddr[3], plen > 96 ? plen - 96 : 0);
		}
		h = (h ^ key[0]) * 0x01000193;
		h = (h ^ key[1]) * 0x01000193;
		h = (h ^ key[2]) * 0x01000193;
		h = (h ^ key[3]) * 0x01000193;
	}
	slot = (h ^ h >> 16) & (TCPF_RL_SLOTS - 1);
	b = bpf_map_lookup_elem(&tcpf_ratelimit, &slot);
	if (!b)
		return 1;
	now = bpf_ktime_get_ns();
	bpf_spin_lock(&b->lock);
	if (b->rule != tag || b->key[0] != key[0] || b->key[1] != key[1] ||
	    b->key[2] != key[2] || b->key[3] != key[3]) {
		/* a new source (or a collision): a full bucket */
		b->rule = tag;
		b->key[0] = key[0];
		b->key[1] = key[1];
		b->key[2] = key[2];
		b->key[3] = key[3];
		b->credit = a->rl_depth;
		b->last = now;
	}
	/* now was read before the lock: another CPU may have a later last */
	credit = b->credit;
	if ((__s64)(now - b->last) > 0) {
		credit += now - b->last;
		b->last = now;
	}
	if (credit > a->rl_depth)
		credit = a->rl_depth;
	pass = credit >= a->rl_cost;
	b->credit = pass ? credit - a->rl_cost : credit;
	bpf_spin_unlock(&b->lock);
	return pass;
}

/*
 * Is there a rule set to apply?  One inlined array lookup per segment,
 * made once: 0 for none, else the live set + 1, carried in the segment.
 */
static __always_inline __u8 policy_on(void)
{
	__u32 zero = 0;
	struct tcpf_policy *pol = bpf_map_lookup_elem(&tcpf_policy, &zero);

	return pol && pol->live ? (__u8)((pol->active & 1) + 1) : 0;
}

/* Apply a matching rule's action; counts its hit and any drop. */
static __always_inline int policy_act(const struct tcpf_rule_act *a,
				      const struct tcpf_segment *in)
{
	policy_count(&tcpf_rhits, tcpf_hit_slot(a->hit, a->id), in->bytes);
	switch (a->action) {
	case TCPF_ACT_DROP:
		policy_count(&tcpf_drops, TCPF_DROP_RULE, in->bytes);
		return TCPF_ACT_DROP;
	case TCPF_ACT_COUNT:
		policy_count(&tcpf_drops, TCPF_DROP_WOULD, in->bytes);
		return TCPF_ACT_PASS;
	case TCPF_ACT_RATELIMIT:
		if (ratelimit_pass(a, in))
			return TCPF_ACT_PASS;
		policy_count(&tcpf_drops, TCPF_DROP_RATELIMIT, in->bytes);
		return TCPF_ACT_DROP;
	default:
		return TCPF_ACT_PASS;
	}
}

static __always_inline int policy_default(const struct tcpf_ruleset *rs,
					  const struct tcpf_segment *in)
{
	/* the default applies to what arrives, never to what the host sends */
	if (rs->default_action == TCPF_ACT_DROP && in->dir == TCPF_DIR_INGRESS) {
		policy_count(&tcpf_drops, TCPF_DROP_DEFAULT, in->bytes);
		return TCPF_ACT_DROP;
	}
	return TCPF_ACT_PASS;
}

/*
 * The first half of a decision, before the flow tracker runs: the rules
 * whose stateless matches (flags, direction, family, prefixes, ports) hold.
 * If the first of them does not look at phase or state, it decides now,
 * and a dropped segment costs no flow-table access: a flood meets the
 * rule before the tracker.  Returns TCPF_DECIDE_LATER otherwise, with the
 * rule set in *rsp, the candidates in c and the first of them in *first,
 * for tcpf_policy_late.  -2, not -1: TCPF_NEXT (parse.bpf.h) is -1, and a
 * parse result taken for a verdict (or back) must not look like one.
 */
#define TCPF_DECIDE_LATER (-2)
_Static_assert(TCPF_DECIDE_LATER != TCPF_NEXT && TCPF_DECIDE_LATER < 0,
	       "a verdict sentinel apart from the parser's and every TCPF_ACT_*");

static __always_inline int tcpf_policy_early(const struct tcpf_segment *in,
					     const struct tcpf_ruleset **rsp,
					     struct tcpf_bitmap *c,
					     __u32 *first)
{
	const struct tcpf_ruleset *rs;
	const struct tcpf_set *s;
	__u32 set, idx;

	if (!in->policy)
		return TCPF_ACT_PASS;
	set = (in->policy - 1) & 1;
	s = bpf_map_lookup_elem(&tcpf_rulesets, &set);
	if (!s)
		return TCPF_ACT_PASS;
	rs = &s->rs;
	if (!rs->nrules)
		return policy_default(rs, in);
	*c = rs->early[TCPF_EARLY_KEY(in->dir, in->family, in->flags)];
	match_lookups(c, s, in);
	if (bm_empty(c))
		return policy_default(rs, in);
	idx = bm_first(rs, c);
	if (!bm_has(&rs->stateful, idx))
		return policy_act(&rs->act[idx], in);
	*rsp = rs;
	*first = idx;
	return TCPF_DECIDE_LATER;
}

/* The second half, once the tracker gave the segment its phase and state. */
static __always_inline int tcpf_policy_late(const struct tcpf_segment *in,
					    const struct tcpf_ruleset *rs,
					    struct tcpf_bitmap *c, __u32 first)
{
	const struct tcpf_bitmap *late;

	if (!rs)
		return TCPF_ACT_PASS;
	late = &rs->late[TCPF_LATE_KEY(in->phase, in->state)];
	/* the first candidate still holds: nothing before it can */
	if (bm_has(late, first))
		return policy_act(&rs->act[first & (TCPF_RULES_MAX - 1)], in);
	bm_and(c, late);
	if (bm_empty(c))
		return policy_default(rs, in);
	return policy_act(&rs->act[bm_first(rs, c)], in);
}

#endif /* TCPF_POLICY_BPF_H */
