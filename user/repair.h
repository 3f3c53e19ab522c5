/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * repair.h - what a writer killed at any point can leave, how `status`
 * explains it, and who repairs it.  Each writer holds the namespace's
 * lock (lock.h), so at most one change is ever half done:
 *   - pins without a recorded attachment (tcpf_meta missing or never
 *     written): an attach killed before it recorded, or a detach killed
 *     after it unpinned tcpf_meta, which it does first.  The next attach
 *     starts them over (as its own roll back would have), detach removes
 *     them;
 *   - our program running, but not the one tcpf_meta records: an attach
 *     killed between its swap and its record; the next attach completes it;
 *   - a rule change's source pending (IFACE.rules.new): the rule set in
 *     force is the old one (killed before the switch) or the new one
 *     (after it), never a mix; the next writer keeps the one in force and
 *     makes its source the saved one (policy_settle);
 *   - shared maps with no interface left: a detach killed while removing
 *     them; the next attach or detach removes them, or prune;
 *   - a saved rule source without pins: removed by the next writer after
 *     a kill, or prune;
 *   - the lock's record of a killed writer: status names it; the next
 *     writer repairs the above and clears it.
 */
#ifndef TCPF_REPAIR_H
#define TCPF_REPAIR_H

#define PROBLEM_LEN 512
typedef char problem_t[PROBLEM_LEN];

/* ifname's partial state, one line each for status: how many.  Which
 * rule set is in force is judged (policy_check) only when the lock's
 * record says a writer was killed. */
int repair_iface_problems(const char *ifname, problem_t *out, int max);
/* The namespace's: a killed writer, shared maps without an interface,
 * saved rules without pins. */
int repair_ns_problems(problem_t *out, int max);

/* attach, first: ifname's pins without a recorded attachment removed
 * (started over), its rules settled, leftover shared maps removed. */
int repair_before_attach(const char *ifname);

/* Shared maps without an interface and saved rules without pins, removed;
 * how many things were, or -errno. */
int repair_leftovers(void);

/* After a killed writer (what: its lock record): every interface's rules
 * settled, leftovers removed, one line per repair. */
void repair_after_kill(const char *what);

/* detach: unpin tcpf_meta first (a detach killed after it leaves pins an
 * attach starts over), then the saved rules, then the other pins. */
int pins_dismantle(const char *ifname);

#endif
