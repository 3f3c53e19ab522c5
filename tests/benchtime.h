/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * benchtime.h - how the BPF_PROG_TEST_RUN benchmarks time programs against
 * each other, and how a budget is judged.  tests/bench.c and
 * tests/bench_policy.c both use it; scripts/bench-live.sh does the same in
 * shell.
 *
 * A bench_set is a few sides (a program and a frame each), the first
 * usually the baseline.  A round times every side twice, in a palindrome:
 * 0 1 2 .. n-1 n-1 .. 1 0 (ABBA for two sides), so a drift that is linear
 * over the round moves every side's sum alike.  The ratio of two sides in
 * one round is the ratio of their sums: one ratio per pair of timings taken
 * side by side.  A budget's figure is the median of BENCH_ROUNDS such
 * ratios, printed with their min-max: a round that another process or the
 * host disturbed is one outlier among the ratios, not a shift of a median
 * taken over separately timed programs.
 *
 * A timing is the calling thread's CPU time around one syscall running the
 * program BENCH_REPEAT times, per frame.  Not the wall clock: this machine
 * is shared, and the test run gives the CPU away when another task wants it
 * (the kernel leaves those stretches out of its own `duration` too, which
 * is rounded to whole ns, too coarse for ratios of 30 ns programs).  Seen
 * here under a parallel build: wall clock 46-58 ns per frame for the empty
 * program, thread CPU time 33-37, the kernel's duration 32-38.  And on one
 * CPU: the run stays on the CPU it started on, as the two CPUs of these
 * VMs need not be alike (seen: the empty program 30-35 ns on one, 37-43 on
 * the other, in the same minute).
 */
/* Include first, or define _GNU_SOURCE before any header (sched_getcpu). */
#ifndef TCPF_BENCHTIME_H
#define TCPF_BENCHTIME_H

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define BENCH_ROUNDS 11
#define BENCH_REPEAT 1000000
#define BENCH_SIDES_MAX 8

struct bench_side {
	int fd;                 /* the program */
	const __u8 *buf;        /* the frame */
	__u32 len;
};

struct bench_set {
	int n;                                  /* sides */
	struct bench_side side[BENCH_SIDES_MAX];
	/* when set, called before each timing of a side (e.g. its rule set) */
	int (*prep)(void *ctx, int side);
	void *ctx;
	/* ns per frame: round, side, its first and second timing */
	double ns[BENCH_ROUNDS][BENCH_SIDES_MAX][2];
};

/* The figure of a budget: the median of per-round ratios, and their range. */
struct bench_ratio {
	double median, lo, hi;
	int pairs;
};

static inline int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of n values (sorts them in place). */
static inline double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), bench_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline double bench_cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* ns per frame of BENCH_REPEAT runs, in this thread's CPU time. */
static inline int bench_time(const struct bench_side *s, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = s->buf,
		    .data_size_in = s->len, .repeat = BENCH_REPEAT);
	double a = bench_cpu_ns();

	if (bpf_prog_test_run_opts(s->fd, &opts))
		return -errno;
	*ns = (bench_cpu_ns() - a) / BENCH_REPEAT;
	return 0;
}

/* Keep this thread on the CPU it runs on now; 0 or -errno. */
static inline int bench_pin(void)
{
	int cpu = sched_getcpu();
	cpu_set_t one;

	if (cpu < 0)
		return -errno;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one) ? -errno : 0;
}

/* BENCH_ROUNDS palindromic rounds of every side, on one CPU; 0 or -errno. */
static inline int bench_run(struct bench_set *s)
{
	int err = bench_pin();

	if (err)
		return err;
	for (int r = 0; r < BENCH_ROUNDS; r++) {
		for (int j = 0; j < 2 * s->n; j++) {
			int i = j < s->n ? j : 2 * s->n - 1 - j;
			err = s->prep ? s->prep(s->ctx, i) : 0;
			if (!err)
				err = bench_time(&s->side[i],
						 &s->ns[r][i][j >= s->n]);
			if (err)
				return err;
		}
	}
	return 0;
}

/* The median over the rounds of a side's ns per frame (both timings). */
static inline double bench_ns(const struct bench_set *s, int side)
{
	double v[BENCH_ROUNDS];

	for (int r = 0; r < BENCH_ROUNDS; r++)
		v[r] = (s->ns[r][side][0] + s->ns[r][side][1]) / 2;
	return bench_median(v, BENCH_ROUNDS);
}

/* subj's time over base's, per round: their median and range. */
static inline struct bench_ratio bench_ratio(const struct bench_set *s,
					     int base, int subj)
{
	struct bench_ratio q = { .pairs = BENCH_ROUNDS };
	double v[BENCH_ROUNDS];

	for (int r = 0; r < BENCH_ROUNDS; r++)
		v[r] = (s->ns[r][subj][0] + s->ns[r][subj][1]) /
		       (s->ns[r][base][0] + s->ns[r][base][1]);
	q.median = bench_median(v, BENCH_ROUNDS);
	q.lo = v[0];
	q.hi = v[BENCH_ROUNDS - 1];
	return q;
}

/*
 * Print a budget's line and judge it: a ceiling holds when the median is
 * at most the limit, a floor when it is at least the limit.  1 when it
 * fails, 0 when it holds.
 */
static inline int bench_budget(const char *name, struct bench_ratio q,
			       double limit, bool floor)
{
	char shown[32];
	double v;
	bool ok;

	/* judged on the figure as printed */
	snprintf(shown, sizeof(shown), "%.2f", q.median);
	v = strtod(shown, NULL);
	ok = floor ? v >= limit : v <= limit;
	printf("budget %s ratio=%s limit=%.1f spread=%.2f-%.2f pairs=%d %s\n",
	       name, shown, limit, q.lo, q.hi, q.pairs, ok ? "PASS" : "FAIL");
	return !ok;
}

#endif
