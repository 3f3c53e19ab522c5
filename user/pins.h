/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pins.h - where an attachment's maps live in bpffs, and the interface it
 * belongs to.  Pins are per network namespace (by its cookie, which the
 * kernel never reuses) and per interface name:
 *     /sys/fs/bpf/tcpflags/ns<cookie>/<ifname>/   the per-interface maps
 *     /sys/fs/bpf/tcpflags/ns<cookie>/            the per-namespace maps
 * Which map is which, and opening one: the registry, maps.h.
 */
#ifndef TCPF_PINS_H
#define TCPF_PINS_H

#include <limits.h>
#include <net/if.h>
#include <linux/types.h>
#include "tcpflags.h"

#define TCPF_BPFFS "/sys/fs/bpf"
#define TCPF_PIN_ROOT TCPF_BPFFS "/tcpflags"
/* What is not a BPF object (saved rule sources, the writers' lock) lives
 * under /run: a tmpfs, gone at boot as the pins are (bpffs holds only
 * BPF objects and directories). */
#define TCPF_RUN_ROOT "/run/tcpflags"

/* Mount bpffs on /sys/fs/bpf unless it is there; one line on failure. */
int bpffs_ensure(void);

/* Name -> index; prints "cannot find interface NAME" on failure. */
int iface_lookup(const char *ifname, unsigned int *ifindex);

/* This network namespace's cookie (its inode number only where the
 * kernel has no cookies): what its directories are named by. */
int pins_netns_id(unsigned long long *id);
/* The directory of this network namespace's pins. */
int pins_ns_dir(char *buf, size_t size);
/* This namespace's directory under TCPF_RUN_ROOT (ns<cookie>, named as
 * its pins' directory); with make, made if missing. */
int pins_run_dir(char *buf, size_t size, int make);
/* The directory of one interface's pins in this network namespace. */
int pins_iface_dir(const char *ifname, char *buf, size_t size);

/* The interfaces with pins in this namespace, sorted, at most max;
 * returns how many, or -errno. */
int pins_ifaces(char (*names)[IF_NAMESIZE], int max);

/* Remove an interface's pins and its directory; the namespace's shared
 * maps go with its last interface. */
int pins_remove(const char *ifname);

/* Remove a namespace's pin directory whole (NSDIR/IFACE/ and the shared
 * maps): a deleted namespace's, or leftovers. */
int pins_remove_ns(const char *nsdir);

/* Read and write the one-entry tcpf_meta map. */
int meta_read(int fd, struct tcpf_meta *meta);
int meta_write(int fd, const struct tcpf_meta *meta);

#endif
