/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * check.h - the tests' reporting: one "PASS name" or "FAIL name: why" line
 * per case, counted by tests/run.sh, and a closing tally.
 */
#ifndef TCPF_CHECK_H
#define TCPF_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int check_passed, check_failed;

static inline void check_report(int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void check_report(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		check_passed++;
		printf("PASS %s\n", name);
		return;
	}
	check_failed++;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline int check_done(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
