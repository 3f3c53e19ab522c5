/* SPDX-License-Identifier: GPL-2.0-only */
/* loader.h - attach, detach and status: the XDP program on interfaces. */
#ifndef TCPF_LOADER_H
#define TCPF_LOADER_H

#include "attached.h"
#include "tcpflags.h"

int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* "native", "skb" (and "?" for anything else). */
const char *mode_name(__u32 mode);

#endif
