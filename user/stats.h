/* SPDX-License-Identifier: GPL-2.0-only */
/* stats.h - `tcpflags stats` and `tcpflags reset`. */
#ifndef TCPF_STATS_H
#define TCPF_STATS_H

int cmd_stats(int argc, char **argv);
int cmd_reset(int argc, char **argv);

#endif
