/* SPDX-License-Identifier: GPL-2.0-only */
/* rulecmd.h - `tcpflags rule ...` and `tcpflags apply`. */
#ifndef TCPF_RULECMD_H
#define TCPF_RULECMD_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"

extern const struct cli_command rule_command, apply_command;

#endif
