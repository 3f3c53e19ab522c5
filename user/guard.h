/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guard.h - the SYN-flood guard from userspace: an interface's slot in
 * the guard maps (claimed at attach, freed at detach), its settings
 * (`tcpflags guard`, the rules file's `guard` line) and its state.
 */
#ifndef TCPF_GUARD_H
#define TCPF_GUARD_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "tcpflags.h"
#include "guardstate.h"

struct tcpflags_bpf;
struct cli_command;

/* Does this kernel have the cookie handoff (bpf_sk_assign_tcp_reqsk)? */
bool guard_have_handoff(void);

/*
 * attach: before the load, point the programs at ifname's slot (its old
 * one, else a free one) and leave the TC ingress program out on a kernel
 * without the handoff; after it, claim the slot.
 */
int guard_prepare(struct tcpflags_bpf *skel, const char *ifname,
		  unsigned int ifindex, __u32 *slot);
int guard_claim(struct tcpflags_bpf *skel, __u32 slot, unsigned int ifindex);
/* detach: free ifname's slot (its settings go with its pins). */
void guard_release(const char *ifname, unsigned int ifindex);

/* Apply g to ifname's guard; a one-line error and nothing changed. */
int guard_apply(const char *ifname, unsigned int ifindex,
		const struct guard_set *g);

extern const struct cli_command guard_command;

#endif
