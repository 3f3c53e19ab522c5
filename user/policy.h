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

/* Serialise rule changes of one interface (flock); -1 if it cannot. */
int policy_lock(const char *ifname);
void policy_unlock(int fd);

/* Remove the saved source (detach). */
void policy_forget(const char *ifname);

/* Hits per rule id and drops per reason. */
int policy_read_counts(const char *ifname,
		       struct tcpf_count hits[TCPF_RULES_MAX + 1],
		       struct tcpf_count drops[TCPF_DROP_MAX]);

const char *drop_reason_name(__u32 reason);

#endif
