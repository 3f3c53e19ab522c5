// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_top.c - fills an attached interface's counters for the dashboard
 * benchmark (scripts/bench-top.sh), through BPF_PROG_TEST_RUN on the
 * programs attached there, so every frame goes through the real data path
 * into the pinned maps:
 *   - one frame of each of the 256 flag bytes, over IPv4 and over IPv6:
 *     every pattern of both families non-zero;
 *   - a full flow table: for every bucket, four connections whose keys
 *     hash there (the table's own hash), each opened by a real handshake
 *     (SYN in through XDP, SYN-ACK out through the TC observer, ACK in);
 *     their SYNs come from many sources, so the SYN-source table fills too.
 *
 *   bench_top XDP_PROG_ID TC_PROG_ID CONNECTIONS
 *
 * Prints what it ran; exits 1 on any failed run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tcpflags.h"
#include "frames.h"
#include "flowkey.h"

static const __u8 server4[4] = { 198, 19, 0, 2 };

static void run(int fd, const __u8 *buf, __u32 len, const char *what)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .data_size_in = len, .repeat = 1);

	if (bpf_prog_test_run_opts(fd, &opts)) {
		fprintf(stderr, "bench_top: %s: test run failed: %s\n", what,
			strerror(errno));
		exit(1);
	}
}

/* Every flag byte once per family, client to server. */
static void fill_patterns(int xdp)
{
	__u8 buf[FRAME_MAX];

	for (int fam = 4; fam <= 6; fam += 2)
		for (int b = 0; b < TCPF_PATTERNS; b++) {
			struct frame_spec s = {
				.family = fam, .l4 = IPPROTO_TCP,
				.flags = (__u8)b, .dport = 9,
			};
			struct frame_layout lay;

			run(xdp, buf, frame_build(&s, buf, &lay), "pattern");
		}
}

/* One handshake of client:port -> server:80, with this host the server. */
static void handshake(int xdp, int tc, const __u8 *client, __u16 port)
{
	__u32 x = 0x1000 + port, y = 0x7000 + port;
	struct frame_spec s = {
		.family = 4, .l4 = IPPROTO_TCP, .seqack = 1,
		.saddr = client, .daddr = server4, .sport = port, .dport = 80,
	};
	struct frame_layout lay;
	__u8 buf[FRAME_MAX];

	s.flags = TCPF_SYN;
	s.seq = x;
	run(xdp, buf, frame_build(&s, buf, &lay), "SYN");
	s.flags = TCPF_SYN | TCPF_ACK;
	s.seq = y;
	s.ack = x + 1;
	s.swap = 1;
	run(tc, buf, frame_build(&s, buf, &lay), "SYN-ACK");
	s.flags = TCPF_ACK;
	s.seq = x + 1;
	s.ack = y + 1;
	s.swap = 0;
	run(xdp, buf, frame_build(&s, buf, &lay), "ACK");
}

/* Four connections per bucket, chosen by the table's hash: no eviction. */
static long fill_flows(int xdp, int tc, __u32 conns)
{
	__u32 buckets = conns / TCPF_FLOW_WAYS, filled = 0;
	__u8 *used = calloc(buckets, 1);
	long tried = 0;

	if (!used)
		return -ENOMEM;
	for (__u64 i = 0; filled < conns && i < 64ULL * conns; i++) {
		__u8 client[4] = { 198, 18, (__u8)(i >> 8), (__u8)i };
		__u16 port = (__u16)(10000 + (i >> 16));
		struct tcpf_flow_key k;
		__u32 b;

		tried++;
		flowkey_make(4, client, server4, port, 80, 0, &k);
		b = flowkey_bucket(&k, buckets - 1);
		if (used[b] >= TCPF_FLOW_WAYS)
			continue;
		used[b]++;
		filled++;
		handshake(xdp, tc, client, port);
	}
	free(used);
	printf("bench_top: %u connections opened (%ld keys tried)\n", filled,
	       tried);
	return filled == conns ? 0 : -ENOSPC;
}

int main(int argc, char **argv)
{
	int xdp, tc;
	__u32 conns;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_top XDP_PROG_ID TC_PROG_ID "
			"CONNECTIONS\n");
		return 2;
	}
	xdp = bpf_prog_get_fd_by_id((__u32)strtoul(argv[1], NULL, 10));
	tc = bpf_prog_get_fd_by_id((__u32)strtoul(argv[2], NULL, 10));
	conns = (__u32)strtoul(argv[3], NULL, 10);
	if (xdp < 0 || tc < 0 || conns < TCPF_FLOW_WAYS ||
	    (conns & (conns - 1))) {
		fprintf(stderr, "bench_top: bad program ids or connections "
			"(%s %s %s)\n", argv[1], argv[2], argv[3]);
		return 1;
	}
	fill_patterns(xdp);
	printf("bench_top: 256 flag bytes x 2 families sent\n");
	if (fill_flows(xdp, tc, conns)) {
		fprintf(stderr, "bench_top: the flow table did not fill\n");
		return 1;
	}
	return 0;
}
