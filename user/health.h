/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * health.h - `status`'s account of partial state (user/repair.h) and of
 * stale namespaces' pins (user/stale.h), in text or JSON.
 */
#ifndef TCPF_HEALTH_H
#define TCPF_HEALTH_H

#include <stdbool.h>

/* Under an interface's line: "  ! PROBLEM" lines; JSON: the
 * `, "problems": [...]` member of its object. */
void health_iface_print(const char *ifname, bool json);

/* After the attachments: the namespace's problems and, in the host's
 * namespace, the stale namespaces; JSON: the `, "problems": [...]` and `, "stale": [...]`
 * members, each only when not empty.  Returns how many lines of text it
 * printed. */
int health_ns_print(bool json);

#endif
