/* SPDX-License-Identifier: GPL-2.0-only */
/* loader.h - attach, detach and status: the XDP program on interfaces. */
#ifndef TCPF_LOADER_H
#define TCPF_LOADER_H

#include <stdbool.h>
#include "tcpflags.h"

#define TCPF_PROG_NAME "tcpf_xdp"

int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* What XDP runs on an interface, as far as tcpflags is concerned. */
struct attached {
	bool ours;              /* a tcpflags program is attached */
	bool legacy;            /* directly, not through a libxdp dispatcher */
	__u32 mode;             /* enum xdp_attach_mode */
	__u32 prog_id;          /* our program's id */
	char foreign[64];       /* name and id of someone else's program */
};

/* Fill a for ifindex (all zero when nothing is attached); -errno. */
int query_attached(unsigned int ifindex, struct attached *a);

/* "native", "skb" (and "?" for anything else). */
const char *mode_name(__u32 mode);

#endif
