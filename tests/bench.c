// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench.c - `make bench`: ns per frame of the tcpflags XDP program and of
 * an empty XDP_PASS program, timed by BPF_PROG_TEST_RUN in the same run,
 * interleaved, on the frame kinds of tests/frames.c.  Ratios, not times,
 * are the budgets: this machine is noisy.
 */
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

int main(void)
{
	struct tcpflags_bpf *count = skel_load_private(false);
	struct tcpflags_bpf *track = skel_load_private(true);
	struct empty_bpf *em = empty_bpf__open_and_load();
	static __u8 bufs[17][FRAME_MAX];
	double e_ns[17][ROUNDS], c_ns[17][ROUNDS], t_ns[17][ROUNDS];
	__u32 lens[17];
	double worst = 0, extra = 0, flow_ratio;
	const char *worst_kind = "";
	size_t n = frame_kinds_count, k;
	int fds[3];

	if (!count || !track || !em || n > 16) {
		fprintf(stderr, "bench: cannot load the BPF objects: %s\n",
			strerror(errno));
		return 1;
	}
	fds[0] = bpf_program__fd(em->progs.tcpf_empty);
	fds[1] = bpf_program__fd(count->progs.tcpf_xdp);
	fds[2] = bpf_program__fd(track->progs.tcpf_xdp);
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
	/* interleave the programs so drift hits them alike */
	for (int r = 0; r < ROUNDS; r++) {
		for (k = 0; k <= n; k++) {
			if (time_prog(fds[0], bufs[k], lens[k], &e_ns[k][r]) ||
			    time_prog(fds[1], bufs[k], lens[k], &c_ns[k][r]) ||
			    time_prog(fds[2], bufs[k], lens[k], &t_ns[k][r])) {
				fprintf(stderr, "bench: test run failed: %s\n",
					strerror(errno));
				return 1;
			}
		}
	}
	printf("XDP per-frame cost, BPF_PROG_TEST_RUN, median of %d runs of "
	       "%d frames\n", ROUNDS, REPEAT);
	printf("counting: tcpflags --no-flows; tracking: the default (flow "
	       "table, phases)\n\n");
	printf("%-20s %6s %9s %9s %6s %9s %6s\n", "frame kind", "bytes",
	       "empty ns", "counting", "ratio", "tracking", "ratio");
	for (k = 0; k <= n; k++) {
		double e = median(e_ns[k]), c = median(c_ns[k]);
		double t = median(t_ns[k]);

		printf("%-20s %6u %9.2f %9.2f %6.2f %9.2f %6.2f\n",
		       k < n ? frame_kinds[k].name : "tracked_data", lens[k],
		       e, c, c / e, t, t / e);
		if (k < n && frame_kinds[k].extra)
			extra = c / e;
		else if (k < n && c / e > worst) {
			worst = c / e;
			worst_kind = frame_kinds[k].name;
		}
	}
	flow_ratio = median(t_ns[n]) / median(e_ns[n]);
	printf("\ncount_path: the worst, counting, of the frame kinds the "
	       "budget is defined on (%s)\n", worst_kind);
	printf("info count_path_qinq_ipv6_ext ratio=%.2f (two VLAN tags and "
	       "three IPv6 extension headers: beyond that list)\n", extra);
	printf("flow_established: a data segment of a tracked connection\n");
	printf("budget count_path ratio=%.2f limit=%.1f\n", worst,
	       BUDGET_COUNT_PATH);
	printf("budget flow_established ratio=%.2f limit=%.1f\n", flow_ratio,
	       BUDGET_FLOW_ESTABLISHED);
	tcpflags_bpf__destroy(count);
	tcpflags_bpf__destroy(track);
	empty_bpf__destroy(em);
	return 0;
}
