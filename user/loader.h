/* SPDX-License-Identifier: GPL-2.0-only */
/* loader.h - attach, detach and status: the XDP program on interfaces. */
#ifndef TCPF_LOADER_H
#define TCPF_LOADER_H

#include "cli.h"

extern const struct cli_command attach_command, detach_command,
	status_command;

#endif
