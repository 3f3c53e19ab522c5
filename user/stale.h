/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stale.h - the pins of network namespaces that are gone.  Deleting a
 * namespace takes its interfaces, and the programs on them, with it; its
 * pins (TCPF_PIN_ROOT/ns<cookie>/) and saved rules (TCPF_RUN_ROOT/
 * ns<cookie>/) stay, and no command can enter the namespace to detach.
 * A directory is stale when no live namespace has its cookie.  The live
 * ones are found as lsns finds them: every process's and thread's
 * namespace, the namespace files processes hold open, and the nsfs
 * mounts (`ip netns add`'s /run/netns/NAME) of every mount namespace;
 * each one's cookie is read from a socket made inside it (setns).  A
 * namespace kept only by a socket of a process in another one is not
 * seen: prune runs as root in the host's PID namespace.
 */
#ifndef TCPF_STALE_H
#define TCPF_STALE_H

#include <net/if.h>
#include <stdbool.h>

#define STALE_IFACES 8

struct stale_ns {
	char name[32];                          /* "ns<cookie>" */
	int nifaces;                            /* interface directories */
	char ifaces[STALE_IFACES][IF_NAMESIZE]; /* the first of them */
	int pins;                               /* every pin in it */
	int sources;                            /* saved rule sources */
};

/* Is this the host's network namespace (the initial one, kthreadd's)?
 * Only there does status list the stale ones: they are the host's
 * business, and a namespace's status describes that namespace alone. */
bool stale_host_ns(void);

/* The stale namespaces' directories, at most max; how many, or -errno:
 * -EPERM without the privilege to enter the namespaces (CAP_SYS_ADMIN),
 * -EHOSTUNREACH when some namespace could not be entered (then none is
 * called stale: it might have been that one). */
int stale_list(struct stale_ns *out, int max);

/* Is this directory name ("ns<cookie>") a live namespace's?  1, 0, or
 * -errno when the namespaces cannot be listed. */
int stale_alive(const char *name);

/* Remove one stale namespace's pins and run directory. */
int stale_remove(const char *name);

#endif
