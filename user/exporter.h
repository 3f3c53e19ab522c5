/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * exporter.h - `tcpflags exporter`: the counters of attached interfaces as
 * a Prometheus /metrics endpoint (text exposition format 0.0.4).
 */
#ifndef TCPF_EXPORTER_H
#define TCPF_EXPORTER_H

#include "cli.h"

extern const struct cli_command exporter_command;

#endif
