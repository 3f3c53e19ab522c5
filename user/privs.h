/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * privs.h - what a command needs, checked before it touches anything, and
 * who may read the pins.
 *
 * What each command needs was measured on Linux 6.18 as an unprivileged
 * uid given capabilities one by one (README "Privileges"): loading and
 * attaching takes CAP_SYS_ADMIN (reading the program on the hook by id,
 * and BTF, which CAP_BPF does not allow) and CAP_NET_ADMIN (the XDP and TC
 * hooks); reading and writing pinned maps takes no capability at all, only
 * access to the pin files (BPF_OBJ_GET checks their mode).  So readers
 * (stats, status, flows, top, the exporter, ...) need to read the pins:
 * root, CAP_DAC_READ_SEARCH, or the group 'attach --group' gives them; the
 * commands that change maps need to write them: root (their owner) or
 * CAP_DAC_OVERRIDE.
 *
 * The pins' group is kept on the namespace's pin directory: its group, and
 * mode 0750 (pins 0640); no group is gid 0, mode 0700 (pins 0600).  The
 * saved rules under /run/tcpflags follow the same group.
 */
#ifndef TCPF_PRIVS_H
#define TCPF_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

enum pins_access {
	PINS_NONE,	/* no pin is touched */
	PINS_READ,	/* open the pins read-only, read the saved rules */
	PINS_WRITE,	/* change maps, pins and saved rules */
};

struct priv_need {
	__u64 caps;		/* PRIV_CAP() bits the caller must have */
	enum pins_access pins;
};

#define PRIV_CAP(c) (1ULL << (c))

/* What the commands need (measured: see the head of this file). */
extern const struct priv_need priv_read;	/* stats, status, the exporter */
extern const struct priv_need priv_write;	/* rule add, reset, guard MODE */
/* attach, detach: CAP_SYS_ADMIN, CAP_NET_ADMIN, write access */
extern const struct priv_need priv_load;
extern const struct priv_need priv_load_group;	/* attach --group: +CAP_CHOWN */

/* Has the caller what need says (effective capabilities, and access to
 * the pins of this namespace)?  0, or -EPERM after one line naming what
 * cmd needs and what is missing.  Changes nothing. */
int priv_check(const char *cmd, const struct priv_need *need);

/* The group of this namespace's pins, 0 when only root reads them. */
gid_t priv_pins_group(void);

/* A group by name or number into *gid; "root" or 0 is no group. */
int priv_group_parse(const char *name, gid_t *gid, char *why, size_t size);

/* Give every directory and file of this namespace's pins and saved rules
 * the group gid and its modes (0750/0640, or 0700/0600 for gid 0), and
 * make their parents searchable when a group needs to reach them.  0, or
 * -errno after one line. */
int priv_protect_ns(gid_t gid);

/* After pins are removed: the roots above the namespaces root's alone
 * again if no namespace's pins have a group any more. */
int priv_pins_gone(void);

#endif
