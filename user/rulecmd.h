/* SPDX-License-Identifier: GPL-2.0-only */
/* rulecmd.h - `tcpflags rule ...` and `tcpflags apply`. */
#ifndef TCPF_RULECMD_H
#define TCPF_RULECMD_H

#include <stdbool.h>
#include <stdio.h>

int cmd_rule(int argc, char **argv);
int cmd_apply(int argc, char **argv);

#endif
