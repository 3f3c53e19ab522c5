/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * glistcmd.h - `tcpflags guard IFACE allow|deny add|del|list|flush`: the
 * guard command's words when they name a list (user/guard.c dispatches).
 */
#ifndef TCPF_GLISTCMD_H
#define TCPF_GLISTCMD_H

#include <stdbool.h>
#include <linux/types.h>
#include "glist.h"

/* Run it on ifname: the exit code. */
int glist_run(const char *ifname, unsigned int ifindex,
	      const struct glist_req *r);

#endif
