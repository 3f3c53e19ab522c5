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

struct tcpflags_bpf;
struct cli_command;

/* A setting as given: what is not given (-1, or ports_given false) keeps
 * the interface's current value. */
struct guard_set {
	int mode, engage;                  /* enum tcpf_guard_mode */
	bool ports_given;
	__u64 ports[TCPF_GUARD_PORT_WORDS];
	long long rate, burst, global_rate;   /* ratelimit */
	long long auth_min, auth_max, ttl, rotate;
	long long syn_on, syn_off, calm;
	double ratio;
};

void guard_set_init(struct guard_set *g);
/* "80,443,8000-8100" into g's ports (added to those given before). */
int guard_ports_parse(const char *s, struct guard_set *g, char *why,
		      size_t size);

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
