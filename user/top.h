/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * top.h - `tcpflags top`: the live terminal dashboard (ncurses).  It reads
 * attached interfaces through snapshot_read() only: it never writes a map.
 */
#ifndef TCPF_TOP_H
#define TCPF_TOP_H

#include "cli.h"

extern const struct cli_command top_command;

#endif
