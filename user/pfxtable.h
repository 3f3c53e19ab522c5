/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pfxtable.h - a rule set's prefixes as the multibit trie the XDP path
 * reads (struct tcpf_pfx_trie, include/tcpflags.h).
 */
#ifndef TCPF_PFXTABLE_H
#define TCPF_PFXTABLE_H

#include "rules.h"

/*
 * Build the trie of compiled prefixes into t (zeroed by the caller: a few
 * MB, part of the rule set's map value).  any[side]: the rules with no prefix
 * on that side, which every class of the side includes.  -E2BIG when it
 * needs more than TCPF_PFX_NODES nodes, -ENOMEM.
 */
int pfx_trie_build(struct tcpf_pfx_trie *t, const struct pfx_entry *e, int n,
		   const struct tcpf_bitmap any[2]);

#endif
