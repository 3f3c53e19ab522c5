// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench.c - `make bench`: ns per frame of the tcpflags XDP program and of
 * an empty XDP_PASS program, timed by BPF_PROG_TEST_RUN in the same run,
 * interleaved, on the frame kinds of tests/frames.c.  Ratios, not times,
 * are the budgets: this machine is noisy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tcpflags.skel.h"
#include "empty.skel.h"
#include "frames.h"

#define ROUNDS 5
#define REPEAT 8000000
#define BUDGET_COUNT_PATH 1.3

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * ns per frame over REPEAT runs, from the wall clock around the syscall:
 * the kernel's own `duration` is rounded to whole ns, too coarse for
 * ratios of 30 ns programs.  The syscall itself is one in REPEAT.
 */
static int time_prog(int fd, const __u8 *buf, __u32 len, double *ns)
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

int main(void)
{
	struct tcpflags_bpf *tf = tcpflags_bpf__open();
	struct empty_bpf *em = empty_bpf__open_and_load();
	static __u8 bufs[16][FRAME_MAX];
	__u32 lens[16];
	double t_ns[16][ROUNDS], e_ns[16][ROUNDS];
	struct bpf_map *map;
	double worst = 0;
	const char *worst_kind = "";
	size_t n = frame_kinds_count;

	if (!tf || !em || n > 16) {
		fprintf(stderr, "bench: cannot open the BPF objects\n");
		return 1;
	}
	bpf_object__for_each_map(map, tf->obj)
		bpf_map__set_pin_path(map, NULL);
	if (tcpflags_bpf__load(tf)) {
		fprintf(stderr, "bench: cannot load tcpflags: %s\n",
			strerror(errno));
		return 1;
	}
	for (size_t k = 0; k < n; k++) {
		struct frame_layout lay;

		lens[k] = frame_build(&frame_kinds[k].spec, bufs[k], &lay);
		if (frame_kinds[k].truncate_to)
			lens[k] = (__u32)frame_kinds[k].truncate_to;
	}
	/* interleave the two programs so drift hits both alike */
	for (int r = 0; r < ROUNDS; r++) {
		for (size_t k = 0; k < n; k++) {
			if (time_prog(bpf_program__fd(em->progs.tcpf_empty),
				      bufs[k], lens[k], &e_ns[k][r]) ||
			    time_prog(bpf_program__fd(tf->progs.tcpf_xdp),
				      bufs[k], lens[k], &t_ns[k][r])) {
				fprintf(stderr, "bench: test run failed: %s\n",
					strerror(errno));
				return 1;
			}
		}
	}
	printf("XDP per-frame cost, BPF_PROG_TEST_RUN, median of %d runs of "
	       "%d frames\n\n", ROUNDS, REPEAT);
	printf("%-20s %6s %10s %10s %7s\n", "frame kind", "bytes",
	       "empty ns", "tcpflags", "ratio");
	for (size_t k = 0; k < n; k++) {
		double ratio;

		qsort(e_ns[k], ROUNDS, sizeof(double), cmp_double);
		qsort(t_ns[k], ROUNDS, sizeof(double), cmp_double);
		ratio = t_ns[k][ROUNDS / 2] / e_ns[k][ROUNDS / 2];
		printf("%-20s %6u %10.2f %10.2f %7.2f\n", frame_kinds[k].name,
		       lens[k], e_ns[k][ROUNDS / 2], t_ns[k][ROUNDS / 2],
		       ratio);
		if (ratio > worst) {
			worst = ratio;
			worst_kind = frame_kinds[k].name;
		}
	}
	printf("\nworst frame kind: %s\n", worst_kind);
	printf("budget count_path ratio=%.2f limit=%.1f\n", worst,
	       BUDGET_COUNT_PATH);
	tcpflags_bpf__destroy(tf);
	empty_bpf__destroy(em);
	return 0;
}
