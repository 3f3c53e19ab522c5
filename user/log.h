/* SPDX-License-Identifier: GPL-2.0-only */
/* log.h - one-line messages on stderr, libbpf/libxdp chatter behind -v. */
#ifndef TCPF_LOG_H
#define TCPF_LOG_H

#include <stdarg.h>

extern int tcpf_verbose;

void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Route libbpf's and libxdp's messages through -v. */
void log_setup_libs(void);

/* Exit codes, as xdp-tools and most CLIs use them. */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

#endif
