/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef TCPF_TIMEFMT_H
#define TCPF_TIMEFMT_H

#include <stddef.h>
#include <time.h>

/* ISO 8601 in UTC ("2026-11-23T20:10:00Z"), "-" for 0. */
const char *format_utc(time_t t, char *buf, size_t size);

/* CLOCK_MONOTONIC in ns. */
unsigned long long mono_ns(void);

#endif
