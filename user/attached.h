/* SPDX-License-Identifier: GPL-2.0-only */
/* attached.h - what XDP runs on an interface, as tcpflags sees it. */
#ifndef TCPF_ATTACHED_H
#define TCPF_ATTACHED_H

#include <stdbool.h>
#include "tcpflags.h"

#define TCPF_PROG_NAME "tcpf_xdp"

struct attached {
	bool ours;              /* a tcpflags program is attached */
	bool legacy;            /* directly, not through a libxdp dispatcher */
	__u32 mode;             /* enum xdp_attach_mode */
	__u32 prog_id;          /* our program's id */
	char foreign[64];       /* name and id of someone else's program */
};

/* Fill a for ifindex (all zero when nothing is attached); -errno.  It
 * reads the programs by id: CAP_SYS_ADMIN. */
int query_attached(unsigned int ifindex, struct attached *a);

/* The same, without a capability when prog_id (the pins' program) is on
 * the hook itself: what readers use. */
int query_ours(unsigned int ifindex, __u32 prog_id, struct attached *a);

/*
 * Do the pins of ifname belong to what runs on it now: the interface
 * exists with the recorded ifindex and the recorded program is attached?
 * Its attach mode in *mode.  (Pins outlive a detach --keep-maps, an
 * interface deleted and one made again under the same name.)
 */
bool iface_attached(const char *ifname, const struct tcpf_meta *m,
		    __u32 *mode);

/* The ids of the maps program prog_id uses, up to max, into ids: how
 * many it uses (more than max: the first max), or -errno.  It opens the
 * program by id: CAP_SYS_ADMIN. */
int prog_map_ids(__u32 prog_id, __u32 *ids, __u32 max);

#endif
