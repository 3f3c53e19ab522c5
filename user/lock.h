/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lock.h - one writer at a time per network namespace, and a journal of
 * what it is doing.  Every command that changes an attachment (attach,
 * detach, apply, rule add|del|flush|default, reset, guard settings and
 * lists, prune) holds the namespace's lock from before it reads what it
 * changes until it is done; readers take none.  The lock is an OFD lock
 * (fcntl F_OFD_SETLKW) on /run/tcpflags/ns<cookie>/lock:
 *   - not in bpffs: bpffs holds only BPF objects and directories, and
 *     the pin directory comes and goes with the attachments (and bpffs
 *     itself may be mounted by the first attach);
 *   - /run is a tmpfs: the lock and the saved rule sources beside it are
 *     gone at boot, as the pins are;
 *   - the kernel drops the lock when its holder dies, so a killed writer
 *     never blocks the next one.  What it was doing stays in the file (one
 *     line, "PID COMMAND LINE", cleared at a clean unlock): the next
 *     writer finds it and repairs (user/repair.h), `status` reports it.
 * The file is removed, under the lock, when the namespace's last pins go;
 * a writer that waited on a removed file takes the new one.
 */
#ifndef TCPF_LOCK_H
#define TCPF_LOCK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct state_lock {
	int fd;
	char dir[PATH_MAX];     /* the namespace's run directory */
};

struct lock_view {
	bool held;              /* a writer holds it now: what it does */
	bool left;              /* no holder, a record: its writer was killed */
	char what[256];         /* the record, "PID COMMAND LINE" */
};

/*
 * Wait for and take the lock of this namespace (rundir NULL) or of the run
 * directory given (prune, on a deleted namespace's), and record what.
 * What a killed writer left goes to prev ("" if nothing).  0 or -errno.
 */
int state_lock(const char *rundir, const char *what, struct state_lock *l,
	       char *prev, size_t size);

/* Clear the record and let go; the file (and its directory, if empty) go
 * when the namespace has no pins left. */
void state_unlock(struct state_lock *l);

/* For status: is the lock held, or was its last writer killed?  0, or
 * -ENOENT when there is no lock file. */
int state_lock_view(const char *rundir, struct lock_view *v);

#endif
