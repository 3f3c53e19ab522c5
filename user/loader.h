/* SPDX-License-Identifier: GPL-2.0-only */
/* loader.h - attach, detach and status: the XDP program on interfaces. */
#ifndef TCPF_LOADER_H
#define TCPF_LOADER_H

int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);

#endif
