/* SPDX-License-Identifier: GPL-2.0-only */
/* prune.h - `tcpflags prune`: remove what deleted namespaces left. */
#ifndef TCPF_PRUNE_H
#define TCPF_PRUNE_H

#include "cli.h"

extern const struct cli_command prune_command;

#endif
