/* SPDX-License-Identifier: GPL-2.0-only */
/* flows.h - `tcpflags flows`: the connections in the flow table. */
#ifndef TCPF_FLOWS_H
#define TCPF_FLOWS_H

#include "cli.h"

extern const struct cli_command flows_command;

#endif
