/* SPDX-License-Identifier: GPL-2.0-only */
/* stats.h - `tcpflags stats` and `tcpflags reset`. */
#ifndef TCPF_STATS_H
#define TCPF_STATS_H

#include "cli.h"

extern const struct cli_command stats_command, reset_command;

#endif
