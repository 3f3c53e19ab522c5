/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pfxtable.h - a rule set's prefixes as the multibit trie the XDP path
 * reads (tcpf_pfx and tcpf_pfx_class, include/tcpflags.h).
 */
#ifndef TCPF_PFXTABLE_H
#define TCPF_PFXTABLE_H

#include "rules.h"

struct pfx_table {
	/* the set's roots: (side * 2 + family) * 256 + first byte */
	struct tcpf_pfx_node root[2 * TCPF_FAMILIES * 256];
	struct tcpf_pfx_node *node;    /* [TCPF_PFX_NODES], nnodes used */
	int nnodes;
	struct tcpf_bitmap *cls;       /* [TCPF_PFX_CLASSES], ncls used */
	int ncls;
};

/*
 * Build the trie of compiled prefixes for rule set `set` (entries name the
 * set's own nodes and classes).  any[side]: the rules with no prefix on
 * that side, which every class of the side includes.  -E2BIG when it
 * needs more than TCPF_PFX_NODES nodes, -ENOMEM.
 */
int pfx_table_build(struct pfx_table *t, __u32 set, const struct pfx_entry *e,
		    int n, const struct tcpf_bitmap any[2]);
void pfx_table_free(struct pfx_table *t);

#endif
