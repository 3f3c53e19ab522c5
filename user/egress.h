/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * egress.h - the TC (clsact) egress observer: XDP sees only what arrives,
 * so `attach` also hooks what the host sends, into the same flow table.
 * libbpf 1.1 has no TCX links: a classic clsact filter, with our own
 * handle and priority so other filters on the hook are left alone.
 */
#ifndef TCPF_EGRESS_H
#define TCPF_EGRESS_H

#include <linux/types.h>

int egress_attach(unsigned int ifindex, int prog_fd);
/* 0 when removed, -ENOENT when there was none. */
int egress_detach(unsigned int ifindex);
/* 0 and the program id when attached, -ENOENT when not. */
int egress_query(unsigned int ifindex, __u32 *prog_id);

#endif
