/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * benchtime.h - how the BPF_PROG_TEST_RUN benchmarks time a program: the
 * median of ROUNDS runs of REPEAT frames each.
 */
#ifndef TCPF_BENCHTIME_H
#define TCPF_BENCHTIME_H

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define ROUNDS 5
#define REPEAT 8000000

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of ROUNDS values (sorts them in place). */
static inline double median(double *v)
{
	qsort(v, ROUNDS, sizeof(double), cmp_double);
	return v[ROUNDS / 2];
}

/*
 * ns per frame over REPEAT runs, from the wall clock around the syscall:
 * the kernel's own `duration` is rounded to whole ns, too coarse for
 * ratios of 30 ns programs.  The syscall itself is one in REPEAT.
 */
static inline int time_prog(int fd, const __u8 *buf, __u32 len, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .data_size_in = len, .repeat = REPEAT);
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &b);
	*ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 +
	       (double)(b.tv_nsec - a.tv_nsec)) / REPEAT;
	return 0;
}

#endif
