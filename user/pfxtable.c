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
static struct tcpf_pfx_node *descend(struct pfx_table *t, __u32 set,
				     __u16 *v)
{
	__u32 base = TCPF_PFX_NODE_BASE(set);

	if (!(*v & TCPF_PFX_NODE)) {
		if (t->nnodes >= TCPF_PFX_NODES)
			return NULL;
		fill(&t->node[t->nnodes], 0, 256, *v);
		*v = (__u16)(TCPF_PFX_NODE | (base + (__u32)t->nnodes++));
	}
	return &t->node[(*v & ~TCPF_PFX_NODE) - base];
}

static int insert(struct pfx_table *t, __u32 set, const struct prefix *p,
		  int side, __u16 cls)
{
	int group = (side * TCPF_FAMILIES + p->family) * 256;
	const __u8 *a = p->addr;
	struct tcpf_pfx_node *n;
	int bits = 16;          /* address bits decided once past this level */

	if (p->plen < 8) {
		int count = 1 << (8 - p->plen);

		for (int b = a[0] & ~(count - 1); b < (a[0] | (count - 1)) + 1;
		     b++)
			fill(&t->root[group + b], 0, 256, cls);
		return 0;
	}
	n = &t->root[group + a[0]];
	for (int i = 1; i < 16; i++, bits += 8) {
		if (p->plen <= bits) {
			int count = 1 << (bits - p->plen);

			fill(n, a[i] & ~(count - 1), count, cls);
			return 0;
		}
		n = descend(t, set, &n->e[a[i]]);
		if (!n)
			return -E2BIG;
	}
	return -EINVAL;	/* longer than 128 bits: rules.c never makes one */
}

int pfx_table_build(struct pfx_table *t, __u32 set, const struct pfx_entry *e,
		    int n, const struct tcpf_bitmap any[2])
{
	struct pfx_entry *f = calloc((size_t)n + 2, sizeof(*f));
	int *order = calloc((size_t)n + 2, sizeof(int));
	__u16 *cls = calloc((size_t)n + 2, sizeof(__u16));
	__u16 base = (__u16)TCPF_PFX_CLASS_BASE(set);
	int err = 0;

	memset(t, 0, sizeof(*t));
	t->node = calloc(TCPF_PFX_NODES, sizeof(*t->node));
	t->cls = calloc(TCPF_PFX_CLASSES, sizeof(*t->cls));
	if (!f || !order || !cls || !t->node || !t->cls) {
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
			t->cls[t->ncls++] = f[order[i]].rules;
		cls[order[i]] = (__u16)(base + t->ncls - 1);
	}
	for (int r = 0; r < 2 * TCPF_FAMILIES * 256; r++)
		fill(&t->root[r], 0, 256, cls[n + r / (TCPF_FAMILIES * 256)]);
	for (int i = 0; i < n; i++)
		order[i] = i;
	qsort(order, (size_t)n, sizeof(int), by_len);
	for (int i = 0; i < n && !err; i++)
		err = insert(t, set, &f[order[i]].p, f[order[i]].side,
			     cls[order[i]]);
out:
	free(f);
	free(order);
	free(cls);
	if (err)
		pfx_table_free(t);
	return err;
}

void pfx_table_free(struct pfx_table *t)
{
	free(t->node);
	free(t->cls);
	t->node = NULL;
	t->cls = NULL;
	t->nnodes = t->ncls = 0;
}
