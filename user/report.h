/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * report.h - what the commands that report share: the names of attach
 * modes, the one line for an interface that is not attached, and a
 * snapshot's rules and drops (stats, rule list).  Every report prints
 * from one snapshot: nothing here reads a map.
 */
#ifndef TCPF_REPORT_H
#define TCPF_REPORT_H

#include "snapshot.h"
#include "tcpflags.h"

/* "native", "skb", "hw" (and "?" for anything else). */
const char *mode_name(__u32 mode);

/*
 * The one line for an interface whose pins cannot be read: err 0 or
 * -ENOENT "IFACE is not attached; run 'tcpflags attach IFACE'", else why
 * its counters cannot be read.  Returns EXIT_FAIL.
 */
int not_attached(const char *ifname, int err);

/* The "default", "rules" and "drops" members of a JSON object. */
void report_rules_json(const struct iface_snapshot *s);
/* The rules table and the drops line. */
void report_rules_table(const struct iface_snapshot *s);

#endif
