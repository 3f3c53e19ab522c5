/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy.h - an interface's rule set: its source, kept as text beside the
 * pins (/run/tcpflags/ns<cookie>/<ifname>.rules: bpffs holds only BPF
 * objects), and its compiled form in the pinned maps, switched atomically.
 */
#ifndef TCPF_POLICY_H
#define TCPF_POLICY_H

#include "rules.h"

int policy_source_path(const char *ifname, char *buf, size_t size);
/* The saved rule set (empty when none); one line on error. */
int policy_load(const char *ifname, struct ruleset *rs);
/* The same without a word: what is wrong with the file goes to err. */
int policy_load_quiet(const char *ifname, struct ruleset *rs, char *err,
		      size_t errlen);
/*
 * Compile rs into the unused rule set of ifname's maps, switch to it with
 * one map write, then save the source.  Hit counters of the rules in
 * fresh_ids (all when NULL) start from zero.
 */
int policy_install(const char *ifname, const struct ruleset *rs,
		   const __u32 *fresh_ids, int nfresh);
/* An install error: what is wrong (too large a set), else strerror. */
const char *policy_strerror(int err);

/* The maps a rule set is written to (fds), in this order. */
struct policy_maps {
	int policy, sets, hits;
};
/* The same as policy_install, into given maps, without saving a source. */
int policy_write(const struct policy_maps *m, const struct ruleset *rs,
		 const __u32 *fresh_ids, int nfresh);

/* Install rs in place of the saved set: rules that stay (same id and
 * text) keep their hit counters, new or changed ones start from zero. */
int policy_replace(const char *ifname, const struct ruleset *rs);

/* Remove the saved source, and one being installed (detach). */
void policy_forget(const char *ifname);

/*
 * Which rule set is in force, judged by compiling the candidates and
 * comparing with the active half of tcpf_rulesets byte for byte: the
 * saved source, the one a killed change left pending (IFACE.rules.new),
 * or neither (the maps kept by a detach that did not finish).
 */
enum rules_in_force { RULES_SAVED, RULES_PENDING, RULES_OTHER };
struct rules_check {
	bool pending;                   /* IFACE.rules.new is there */
	enum rules_in_force in_force;
};
/* -ENOENT when the rule maps are not pinned. */
int policy_check(const char *ifname, struct rules_check *rc);

/*
 * After a writer was killed (the caller holds the lock): a pending source
 * in force is renamed in, one not in force removed; a set in force that
 * no source describes is replaced by the saved one.  What it did goes to
 * did ("" if nothing).  0 (also when the maps are not pinned) or -errno.
 */
int policy_settle(const char *ifname, char *did, size_t size);

/* s without its counter slots (what apply gave them is history, not the
 * rules): a set compiled from a source compares equal to it. */
void policy_unslot(struct tcpf_set *s);

/* Every rule id's hits (tcpf_rhits), through the set in force's slots. */
int policy_hits_read(int hits_fd, int policy_fd,
		     struct tcpf_count hits[TCPF_RULES_MAX + 1]);

/* Hits per rule id and drops per reason. */
int policy_read_counts(const char *ifname,
		       struct tcpf_count hits[TCPF_RULES_MAX + 1],
		       struct tcpf_count drops[TCPF_DROP_MAX]);

const char *drop_reason_name(__u32 reason);

#endif
