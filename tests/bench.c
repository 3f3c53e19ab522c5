// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench.c - `make bench`: ns per frame of the tcpflags XDP program and of
 * an empty XDP_PASS program, timed by BPF_PROG_TEST_RUN in paired rounds
 * (tests/benchtime.h) on the frame kinds of tests/frames.c.  Ratios, not
 * times, are the budgets: this machine is noisy.  Exits 1 when a budget
 * fails.
 */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET: tests/benchtime.h */
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tcpflags.skel.h"
#include "empty.skel.h"
#include "tcpflags.h"
#include "frames.h"
#include "skel.h"
#include "benchtime.h"

#define BUDGET_COUNT_PATH 1.3
#define BUDGET_FLOW_ESTABLISHED 2.5

static int run_once(int fd, const __u8 *buf, __u32 len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .data_size_in = len, .repeat = 1);

	return bpf_prog_test_run_opts(fd, &opts) ? -errno : 0;
}

/*
 * Open a connection in the tracking instance (SYN in, SYN-ACK out through
 * the egress program, ACK in) and build a data segment of it, 512 bytes.
 * Timed repeatedly, the same segment is a tracked connection's data path
 * (from its second run on it is counted as a retransmission, which does
 * the same lookup and updates).
 */
static int tracked_segment(struct tcpflags_bpf *tf, __u8 *buf, __u32 *len)
{
	const __u32 x = 1000, y = 5000;
	struct frame_spec syn = { .family = 4, .l4 = IPPROTO_TCP,
				  .flags = TCPF_SYN, .seqack = 1, .seq = x };
	struct frame_spec synack = syn, ack = syn, data;
	struct tcpf_ctl ctl = { .now = 1 };
	struct frame_layout lay;
	__u8 f[FRAME_MAX];
	__u32 zero = 0;
	int xdp = bpf_program__fd(tf->progs.tcpf_xdp);
	int err;

	for (int st = 0; st < TCPF_ST_MAX; st++)
		ctl.timeout[st] = 1u << 30;
	if (bpf_map_update_elem(bpf_map__fd(tf->maps.tcpf_ctl), &zero, &ctl,
				BPF_ANY))
		return -errno;
	synack.swap = 1;
	synack.flags = TCPF_SYN | TCPF_ACK;
	synack.seq = y;
	synack.ack = x + 1;
	ack.flags = TCPF_ACK;
	ack.seq = x + 1;
	ack.ack = y + 1;
	data = ack;
	data.flags = TCPF_ACK | TCPF_PSH;
	data.payload = 512;
	err = run_once(xdp, f, frame_build(&syn, f, &lay));
	if (!err)
		err = run_once(bpf_program__fd(tf->progs.tcpf_egress), f,
			       frame_build(&synack, f, &lay));
	if (!err)
		err = run_once(xdp, f, frame_build(&ack, f, &lay));
	*len = frame_build(&data, buf, &lay);
	return err;
}

/* The sides of each frame kind's set: the baseline, then the subjects. */
enum { S_EMPTY, S_COUNT, S_TRACK, S_MAX };

/*
 * The table, a row per frame kind (sets[n]: the tracked data segment);
 * the worst count_path ratio of the kinds it is defined on in *worst, the
 * extra kind's in *extra.
 */
static const char *print_table(const struct bench_set *sets,
			       const __u32 *lens, size_t n,
			       struct bench_ratio *worst,
			       struct bench_ratio *extra)
{
	const char *worst_kind = "";

	printf("XDP per-frame cost, BPF_PROG_TEST_RUN, %d rounds of %d frames "
	       "a timing, CPU time\n", BENCH_ROUNDS, BENCH_REPEAT);
	printf("counting: tcpflags --no-flows; tracking: the default (flow "
	       "table, phases)\n");
	printf("a round: empty counting tracking tracking counting empty; "
	       "ratio: the median of\nthe rounds' ratios to the empty "
	       "program, min-max beside it\n\n");
	printf("%-20s %5s %6s %7s %6s %11s %7s %6s %11s\n", "frame kind",
	       "bytes", "empty", "counting", "ratio", "min-max", "tracking",
	       "ratio", "min-max");
	for (size_t k = 0; k <= n; k++) {
		struct bench_ratio c = bench_ratio(&sets[k], S_EMPTY, S_COUNT);
		struct bench_ratio t = bench_ratio(&sets[k], S_EMPTY, S_TRACK);

		printf("%-20s %5u %6.2f %7.2f %6.2f %5.2f-%-5.2f %7.2f %6.2f "
		       "%5.2f-%.2f\n",
		       k < n ? frame_kinds[k].name : "tracked_data", lens[k],
		       bench_ns(&sets[k], S_EMPTY), bench_ns(&sets[k], S_COUNT),
		       c.median, c.lo, c.hi, bench_ns(&sets[k], S_TRACK),
		       t.median, t.lo, t.hi);
		if (k < n && frame_kinds[k].extra)
			*extra = c;
		else if (k < n && c.median > worst->median) {
			*worst = c;
			worst_kind = frame_kinds[k].name;
		}
	}
	return worst_kind;
}

int main(void)
{
	struct tcpflags_bpf *count = skel_load_private(false);
	struct tcpflags_bpf *track = skel_load_private(true);
	struct empty_bpf *em = empty_bpf__open_and_load();
	static __u8 bufs[17][FRAME_MAX];
	static struct bench_set sets[17];
	__u32 lens[17];
	struct bench_ratio worst = { 0 }, extra = { 0 }, flow;
	const char *worst_kind = "";
	size_t n = frame_kinds_count, k;
	int fds[S_MAX], failed = 0, err;

	if (!count || !track || !em || n > 16) {
		fprintf(stderr, "bench: cannot load the BPF objects: %s\n",
			strerror(errno));
		return 1;
	}
	fds[S_EMPTY] = bpf_program__fd(em->progs.tcpf_empty);
	fds[S_COUNT] = bpf_program__fd(count->progs.tcpf_xdp);
	fds[S_TRACK] = bpf_program__fd(track->progs.tcpf_xdp);
	for (k = 0; k < n; k++) {
		struct frame_layout lay;

		lens[k] = frame_build(&frame_kinds[k].spec, bufs[k], &lay);
		if (frame_kinds[k].truncate_to)
			lens[k] = (__u32)frame_kinds[k].truncate_to;
	}
	if (tracked_segment(track, bufs[n], &lens[n])) {
		fprintf(stderr, "bench: cannot open a tracked connection\n");
		return 1;
	}
	for (k = 0; k <= n; k++) {
		sets[k].n = S_MAX;
		for (int i = 0; i < S_MAX; i++)
			sets[k].side[i] = (struct bench_side){
				.fd = fds[i], .buf = bufs[k], .len = lens[k] };
		err = bench_run(&sets[k]);
		if (err) {
			fprintf(stderr, "bench: test run failed: %s\n",
				strerror(-err));
			return 1;
		}
	}
	worst_kind = print_table(sets, lens, n, &worst, &extra);
	flow = bench_ratio(&sets[n], S_EMPTY, S_TRACK);
	printf("\ncount_path: the worst, counting, of the frame kinds the "
	       "budget is defined on (%s)\n", worst_kind);
	printf("info count_path_qinq_ipv6_ext ratio=%.2f (two VLAN tags and "
	       "three IPv6 extension headers: beyond that list)\n",
	       extra.median);
	printf("flow_established: a data segment of a tracked connection\n");
	failed |= bench_budget("count_path", worst, BUDGET_COUNT_PATH, false);
	failed |= bench_budget("flow_established", flow,
			       BUDGET_FLOW_ESTABLISHED, false);
	tcpflags_bpf__destroy(count);
	tcpflags_bpf__destroy(track);
	empty_bpf__destroy(em);
	return failed;
}
