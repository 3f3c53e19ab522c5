/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * reaper.bpf.h - once a second, in the kernel: advance the coarse clock the
 * data path reads, remove connections and half-open handshakes idle past
 * their state's timeout, and run the guard's second (guard_tick()).  A bpf_timer in a pinned map keeps it
 * running with no daemon; it stops when the last pin and fd go.
 */
#ifndef TCPF_REAPER_BPF_H
#define TCPF_REAPER_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tcpflags.h"
#include "flow.bpf.h"
#include "guard.bpf.h"

#define TCPF_CLOCK_MONOTONIC 1

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcpf_timer);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tcpf_timer SEC(".maps");

struct bpf_map;

struct reap_ctx {
	__u32 now;
	__u32 timeout[TCPF_ST_MAX];
	__u32 gauge[TCPF_ST_MAX];
};

/*
 * The ticks fall just after each whole second of CLOCK_MONOTONIC, so the
 * clock the data path stamps entries with is the second a segment arrived
 * in, and an entry idle past its timeout goes at the first tick at least
 * that long after its last segment, within one second (ticks a second
 * after the last, and the coarse clock a jiffy behind, would let it go up
 * to a second early).  Here: the time to the next second.
 */
static __always_inline __u64 to_next_second(__u64 ns)
{
	return TCPF_REAP_INTERVAL_NS - ns % TCPF_REAP_INTERVAL_NS;
}

static __always_inline __u32 seconds_of(__u64 ns)
{
	return (__u32)(ns / TCPF_REAP_INTERVAL_NS);
}

static long reap_bucket(struct bpf_map *map, __u32 *key,
			struct tcpf_flow_bucket *b, struct reap_ctx *rc)
{
	(void)map;
	(void)key;
#pragma unroll
	for (int w = 0; w < TCPF_FLOW_WAYS; w++) {
		struct tcpf_flow *f = &b->way[w].flow;
		__u32 st = f->state;

		if (st == TCPF_ST_NONE || st >= TCPF_ST_MAX)
			continue;
		if (rc->now - f->seen <= rc->timeout[st]) {
			rc->gauge[st]++;
			continue;
		}
		f->state = TCPF_ST_NONE;
		/* TIME_WAIT ending is the normal close, counted already */
		if (st != TCPF_ST_TIME_WAIT)
			conn_count(TCPF_CONN_EXPIRED);
	}
	return 0;
}

static long reap_syn(struct bpf_map *map, __u32 *key, struct tcpf_syn *h,
		     struct reap_ctx *rc)
{
	__u32 st = syn_state(h);

	(void)map;
	(void)key;
	if (h->stage == TCPF_HS_EMPTY)
		return 0;
	if (rc->now - h->seen <= rc->timeout[st]) {
		rc->gauge[st]++;
		return 0;
	}
	h->stage = TCPF_HS_EMPTY;
	conn_count(TCPF_CONN_HALF_OPEN_EXPIRED);
	return 0;
}

/* Expire what is idle, and recount the gauges from scratch: no drift. */
static int reaper_tick(void *map, __u32 *key, struct tcpf_timer *t)
{
	struct reap_ctx rc = {};
	struct tcpf_ctl *ctl;
	__u64 ns = bpf_ktime_get_ns();
	__u32 zero = 0;

	(void)map;
	(void)key;
	ctl = bpf_map_lookup_elem(&tcpf_ctl, &zero);
	if (ctl) {
		ctl->now = seconds_of(ns);
		rc.now = ctl->now;
		__builtin_memcpy(rc.timeout, ctl->timeout, sizeof(rc.timeout));
		bpf_for_each_map_elem(&tcpf_flows, reap_bucket, &rc, 0);
		bpf_for_each_map_elem(&tcpf_syns, reap_syn, &rc, 0);
		__builtin_memcpy(ctl->gauge, rc.gauge, sizeof(rc.gauge));
		ctl->ticks++;
		guard_tick(rc.now);
	}
	bpf_timer_start(&t->timer, to_next_second(bpf_ktime_get_ns()), 0);
	return 0;
}

/*
 * Run once by `tcpflags attach` (BPF_PROG_TEST_RUN): start the reaper, or
 * hand a running one to this program's code.  Returns XDP_PASS on success.
 */
SEC("xdp")
int tcpf_reaper_arm(struct xdp_md *ctx)
{
	struct tcpf_timer *t;
	struct tcpf_ctl *ctl;
	__u64 ns = bpf_ktime_get_ns();
	__u32 zero = 0;
	long err;

	(void)ctx;
	t = bpf_map_lookup_elem(&tcpf_timer, &zero);
	ctl = bpf_map_lookup_elem(&tcpf_ctl, &zero);
	if (!t || !ctl)
		return XDP_ABORTED;
	ctl->now = seconds_of(ns);
	err = bpf_timer_init(&t->timer, &tcpf_timer, TCPF_CLOCK_MONOTONIC);
	if (err && err != -16 /* -EBUSY: already running */)
		return XDP_ABORTED;
	if (bpf_timer_set_callback(&t->timer, reaper_tick))
		return XDP_ABORTED;
	if (bpf_timer_start(&t->timer, to_next_second(ns), 0))
		return XDP_ABORTED;
	return XDP_PASS;
}

#endif /* TCPF_REAPER_BPF_H */
