/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * egress.h - the TC (clsact) hooks: the egress observer (XDP sees only
 * what arrives, so `attach` also hooks what the host sends, into the same
 * flow table) and, at ingress, the guard's cookie handoff.
 * libbpf 1.1 has no TCX links: a classic clsact filter, with our own
 * handle and priority so other filters on the hook are left alone.
 */
#ifndef TCPF_EGRESS_H
#define TCPF_EGRESS_H

#include <linux/types.h>

#include <stdbool.h>

int tc_attach(unsigned int ifindex, bool ingress, int prog_fd);
/* 0 when removed, -ENOENT when there was none. */
int tc_detach(unsigned int ifindex, bool ingress);
/* 0 and the program id when attached, -ENOENT when not. */
int tc_query(unsigned int ifindex, bool ingress, __u32 *prog_id);

#endif
