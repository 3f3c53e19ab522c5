// SPDX-License-Identifier: GPL-2.0-only
/*
 * pfxtable.c - build the prefix trie of a rule set.
 *
 * Each compiled prefix carries the bitmap of the rules whose prefixes
 * contain it (user/rules.c), to which the rules without a prefix on its
 * side are added.  Equal bitmaps share a class.  Prefixes go in
 * shortest first, each writing its class over the entries it covers at
 * the level its length ends in: a longer prefix, inserted later, lies
 * inside any shorter one it overlaps and its bitmap includes theirs, so
 * overwriting is right.  A prefix ending below a level that holds a class
 * pushes that class down into a new node first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "pfxtable.h"

static const struct pfx_entry *sort_base;	/* for the comparators */

static int by_len(const void *a, const void *b)
{
	const struct pfx_entry *x = &sort_base[*(const int *)a];
	const struct pfx_entry *y = &sort_base[*(const int *)b];

	return (int)x->p.plen - (int)y->p.plen;
}

static int by_rules(const void *a, const void *b)
{
	return memcmp(&sort_base[*(const int *)a].rules,
		      &sort_base[*(const int *)b].rules,
		      sizeof(struct tcpf_bitmap));
}

static void fill(struct tcpf_pfx_node *n, int lo, int count, __u16 v)
{
	for (int i = lo; i < lo + count; i++)
		n->e[i] = v;
}

/* The node below entry *v, made (holding what *v held) if *v is a class. */
static struct tcpf_pfx_node *descend(struct tcpf_pfx_trie *t, int *nnodes,
				     __u16 *v)
{
	if (!(*v & TCPF_PFX_NODE)) {
		if (*nnodes >= TCPF_PFX_NODES)
			return NULL;
		fill(&t->node[*nnodes], 0, 256, *v);
		*v = (__u16)(TCPF_PFX_NODE | *nnodes);
		++*nnodes;
	}
	return &t->node[*v & ~TCPF_PFX_NODE];
}

static int insert(struct tcpf_pfx_trie *t, int *nnodes, const struct prefix *p,
		  int side, __u16 cls)
{
	struct tcpf_pfx_node *group = t->root[side][p->family];
	const __u8 *a = p->addr;
	struct tcpf_pfx_node *n;
	int bits = 16;          /* address bits decided once past this level */

	if (p->plen < 8) {
		int count = 1 << (8 - p->plen);

		for (int b = a[0] & ~(count - 1); b < (a[0] | (count - 1)) + 1;
		     b++)
			fill(&group[b], 0, 256, cls);
		return 0;
	}
	n = &group[a[0]];
	for (int i = 1; i < 16; i++, bits += 8) {
		if (p->plen <= bits) {
			int count = 1 << (bits - p->plen);

			fill(n, a[i] & ~(count - 1), count, cls);
			return 0;
		}
		n = descend(t, nnodes, &n->e[a[i]]);
		if (!n)
			return -E2BIG;
	}
	return -EINVAL;	/* longer than 128 bits: rules.c never makes one */
}

int pfx_trie_build(struct tcpf_pfx_trie *t, const struct pfx_entry *e, int n,
		   const struct tcpf_bitmap any[2])
{
	struct pfx_entry *f = calloc((size_t)n + 2, sizeof(*f));
	int *order = calloc((size_t)n + 2, sizeof(int));
	__u16 *cls = calloc((size_t)n + 2, sizeof(__u16));
	int err = 0, nnodes = 0, ncls = 0;

	if (!f || !order || !cls) {
		err = -ENOMEM;
		goto out;
	}
	/*
	 * Each entry's bitmap includes the rules with no prefix on its side,
	 * so the XDP path ANDs it in directly.  Entries n and n + 1 stand for
	 * "no prefix holds the address", per side: only those rules.
	 */
	for (int i = 0; i < n; i++) {
		f[i] = e[i];
		for (int w = 0; w < TCPF_RULE_WORDS; w++)
			f[i].rules.w[w] |= any[e[i].side & 1].w[w];
	}
	for (int side = 0; side < 2; side++) {
		f[n + side].side = (__u8)side;
		f[n + side].rules = any[side];
	}
	sort_base = f;
	for (int i = 0; i < n + 2; i++)
		order[i] = i;
	qsort(order, (size_t)n + 2, sizeof(int), by_rules);
	for (int i = 0; i < n + 2; i++) {
		if (!i || by_rules(&order[i - 1], &order[i]))
			t->cls[ncls++] = f[order[i]].rules;
		cls[order[i]] = (__u16)(ncls - 1);
	}
	for (int side = 0; side < 2; side++)
		for (int fam = 0; fam < TCPF_FAMILIES; fam++)
			for (int b = 0; b < 256; b++)
				fill(&t->root[side][fam][b], 0, 256,
				     cls[n + side]);
	for (int i = 0; i < n; i++)
		order[i] = i;
	qsort(order, (size_t)n, sizeof(int), by_len);
	for (int i = 0; i < n && !err; i++)
		err = insert(t, &nnodes, &f[order[i]].p, f[order[i]].side,
			     cls[order[i]]);
out:
	free(f);
	free(order);
	free(cls);
	return err;
}
