/* SPDX-License-Identifier: GPL-2.0-only */
/* flows.h - `tcpflags flows`: the connections in the flow table. */
#ifndef TCPF_FLOWS_H
#define TCPF_FLOWS_H

int cmd_flows(int argc, char **argv);

#endif
