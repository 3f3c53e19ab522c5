/* SPDX-License-Identifier: GPL-2.0-only */
/* completion.h - `tcpflags completion`: shell completion made from the
 * tables the tool parses with. */
#ifndef TCPF_COMPLETION_H
#define TCPF_COMPLETION_H

struct cli_command;

extern const struct cli_command completion_command;

/* main.c's table of the commands, NULL-ended, which completion walks */
extern const struct cli_command *const tcpf_commands[];

#endif
