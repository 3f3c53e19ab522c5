// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_flow.c - the handshake/teardown state machine (bpf/flow.bpf.h) on
 * crafted segments (BPF_PROG_TEST_RUN).  Ingress segments go through the
 * XDP program, egress ones through the TC observer: the local host
 * receives the first and sends the second.  Every segment asserts that
 * exactly one phase counter moved, by one; chosen points assert the
 * connection counters, the state in the flow table or half-open slot, and
 * the reaper's work.  Small tables (64 buckets, 256 slots) and the hash
 * replicated here let the tests aim keys at one bucket or slot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tcpflags.h"
#include "tcpflags.skel.h"
#include "frames.h"
#include "skel.h"
#include "check.h"
#include "counters.h"
#include "flowkey.h"

#define NBUCKETS 64
#define NSLOTS 256
#define IN TCPF_DIR_INGRESS
#define EG TCPF_DIR_EGRESS

#define SYN TCPF_SYN
#define ACK TCPF_ACK
#define FIN TCPF_FIN
#define RST TCPF_RST
#define PSH TCPF_PSH

static struct tcpflags_bpf *skel;
static int xdp_fd, egress_fd, arm_fd;
static int flows_fd, syns_fd, ctl_fd, conns_fd, phases_fd;
static int ncpus;

/* Where a key lands in the small tables of these tests. */
static __u32 key_bucket(const struct tcpf_flow_key *k)
{
	return flowkey_bucket(k, NBUCKETS - 1);
}

static __u32 key_slot(const struct tcpf_flow_key *k)
{
	return flowkey_slot(k, NSLOTS - 1);
}

/* ------------------------------------------------------- connections */

static const __u8 client4[4] = { 198, 19, 0, 1 }, server4[4] = { 198, 19, 0, 2 };
static const __u8 client6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 1, [15] = 1 };
static const __u8 server6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 1, [15] = 2 };

/* One connection: a client, a server, and which of them is this host. */
struct conn {
	char name[32];          /* the scenario, for check names */
	int family;             /* 4 or 6 */
	__u16 vlan;             /* 0: untagged */
	__u8 caddr[16], saddr[16];
	__u16 cport, sport;
	int local_server;       /* 1: this host is the server */
	__u32 x, y;             /* client and server ISN */
	struct tcpf_flow_key key;
	int cside;              /* the client's side of the key */
};

static void conn_init(struct conn *c, const char *name, int family,
		      __u16 cport, int local_server, __u32 x, __u32 y)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->family = family;
	memcpy(c->caddr, family == 4 ? client4 : client6, family == 4 ? 4 : 16);
	memcpy(c->saddr, family == 4 ? server4 : server6, family == 4 ? 4 : 16);
	c->cport = cport;
	c->sport = 80;
	c->local_server = local_server;
	c->x = x;
	c->y = y;
}

/* Recompute the key after the addresses, ports or VLAN changed. */
static void conn_key(struct conn *c)
{
	c->cside = flowkey_make(c->family, c->caddr, c->saddr, c->cport, c->sport,
			    c->vlan, &c->key);
}

/* Whether a segment on dir was sent by the client. */
static int from_client(const struct conn *c, int dir)
{
	return (dir == IN) == !!c->local_server;
}

static __u32 conn_frame(const struct conn *c, int dir, __u8 flags, __u32 seq,
			__u32 ack, int len, __u8 *buf)
{
	struct frame_spec s = {
		.family = c->family, .l4 = IPPROTO_TCP, .flags = flags,
		.payload = len, .seqack = 1, .seq = seq, .ack = ack,
		.saddr = c->caddr, .daddr = c->saddr,
		.sport = c->cport, .dport = c->sport,
		.swap = !from_client(c, dir),
	};
	struct frame_layout lay;

	if (len < 0 || len > FRAME_MAX - 100) {
		printf("FAIL %s: payload %d does not fit a test frame\n",
		       c->name, len);
		exit(1);
	}
	if (c->vlan) {
		s.nvlan = 1;
		s.tpid[0] = 0x8100;
		s.vid[0] = c->vlan;
	}
	return frame_build(&s, buf, &lay);
}

/* ---------------------------------------------------------- the maps */

static void percpu_sum(int fd, __u32 n, __u64 *out)
{
	__u64 *v = calloc((size_t)ncpus, sizeof(__u64));

	for (__u32 k = 0; k < n; k++) {
		out[k] = 0;
		if (v && !bpf_map_lookup_elem(fd, &k, v))
			for (int c = 0; c < ncpus; c++)
				out[k] += v[c];
	}
	free(v);
}

static void percpu_zero(int fd, __u32 n)
{
	__u64 *v = calloc((size_t)ncpus, sizeof(__u64));

	for (__u32 k = 0; v && k < n; k++)
		bpf_map_update_elem(fd, &k, v, BPF_ANY);
	free(v);
}

static void ctl_read(struct tcpf_ctl *ctl)
{
	__u32 zero = 0;

	memset(ctl, 0, sizeof(*ctl));
	bpf_map_lookup_elem(ctl_fd, &zero, ctl);
}

static void ctl_write(const struct tcpf_ctl *ctl)
{
	__u32 zero = 0;

	bpf_map_update_elem(ctl_fd, &zero, ctl, BPF_ANY);
}

static void set_now(__u32 now)
{
	struct tcpf_ctl ctl;

	ctl_read(&ctl);
	ctl.now = now;
	ctl_write(&ctl);
}

/* Empty tables, zero counters, now = 1000, every timeout 60 s but 5 days
 * for established connections. */
static void reset(void)
{
	struct tcpf_flow_bucket b;
	struct tcpf_syn h;
	struct tcpf_ctl ctl = { .now = 1000 };

	memset(&b, 0, sizeof(b));
	memset(&h, 0, sizeof(h));
	for (__u32 k = 0; k < NBUCKETS; k++)
		bpf_map_update_elem(flows_fd, &k, &b, BPF_ANY);
	for (__u32 k = 0; k < NSLOTS; k++)
		bpf_map_update_elem(syns_fd, &k, &h, BPF_ANY);
	percpu_zero(conns_fd, TCPF_CONN_MAX);
	percpu_zero(phases_fd, TCPF_PHASE_ENTRIES);
	for (int s = 0; s < TCPF_ST_MAX; s++)
		ctl.timeout[s] = 60;
	ctl.timeout[TCPF_ST_ESTABLISHED] = 432000;
	ctl_write(&ctl);
}

/* The live entry of key (its bucket in *bucket), or 0; *live: live ways. */
static int flow_lookup(const struct tcpf_flow_key *k, struct tcpf_flow *out,
		       __u32 *bucket, int *live)
{
	struct tcpf_flow_bucket b;
	int found = 0;

	if (live)
		*live = 0;
	for (__u32 i = 0; i < NBUCKETS; i++) {
		if (bpf_map_lookup_elem(flows_fd, &i, &b))
			continue;
		for (int w = 0; w < TCPF_FLOW_WAYS; w++) {
			if (b.way[w].flow.state == TCPF_ST_NONE)
				continue;
			if (live)
				(*live)++;
			if (memcmp(&b.way[w].key, k, sizeof(*k)))
				continue;
			found++;
			if (out)
				*out = b.way[w].flow;
			if (bucket)
				*bucket = i;
		}
	}
	return found;
}

/* The busy half-open slot of key (its index in *slot), or 0; *busy: all. */
static int syn_lookup(const struct tcpf_flow_key *k, struct tcpf_syn *out,
		      __u32 *slot, int *busy)
{
	struct tcpf_syn h;
	int found = 0;

	if (busy)
		*busy = 0;
	for (__u32 i = 0; i < NSLOTS; i++) {
		if (bpf_map_lookup_elem(syns_fd, &i, &h) ||
		    h.stage == TCPF_HS_EMPTY)
			continue;
		if (busy)
			(*busy)++;
		if (memcmp(&h.key, k, sizeof(*k)))
			continue;
		found++;
		if (out)
			*out = h;
		if (slot)
			*slot = i;
	}
	return found;
}

/* The local endpoint's state, as the reaper's gauges count it. */
static int conn_state(const struct conn *c)
{
	struct tcpf_flow f;
	struct tcpf_syn h;

	if (flow_lookup(&c->key, &f, NULL, NULL))
		return f.state;
	if (syn_lookup(&c->key, &h, NULL, NULL))
		return h.opener == h.local ? TCPF_ST_SYN_SENT
					   : TCPF_ST_SYN_RECV;
	return TCPF_ST_NONE;
}

/* ---------------------------------------------------------- checks */

static void cname(char *buf, size_t n, const struct conn *c, const char *step,
		  const char *suffix)
{
	snprintf(buf, n, "flow_%s_%s%s", c->name, step, suffix);
}

/* Run one frame through the program of dir; 0 when it passed. */
static int run_frame(int dir, const __u8 *buf, __u32 len, char *why,
		     size_t n)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .data_size_in = len, .repeat = 1);
	__u32 want = dir == IN ? XDP_PASS : TC_ACT_OK;

	if (bpf_prog_test_run_opts(dir == IN ? xdp_fd : egress_fd, &opts)) {
		snprintf(why, n, "test run failed: %s", strerror(errno));
		return -1;
	}
	if (opts.retval != want) {
		snprintf(why, n, "%s returned %u, want %u",
			 dir == IN ? "tcpf_xdp" : "tcpf_egress", opts.retval,
			 want);
		return -1;
	}
	return 0;
}

/* Compare the phase counters moved since before with want (per key). */
static int phases_diff(const __u64 *before, const __u64 *want, char *why,
		       size_t n)
{
	__u64 after[TCPF_PHASE_ENTRIES];
	size_t used = 0;

	percpu_sum(phases_fd, TCPF_PHASE_ENTRIES, after);
	why[0] = 0;
	for (__u32 k = 0; k < TCPF_PHASE_ENTRIES; k++) {
		__u64 d = after[k] - before[k];

		if (d == want[k] || used >= n)
			continue;
		used += (size_t)snprintf(why + used, n - used,
			"%s%s %s moved by %llu, want %llu", used ? "; " : "",
			k / TCPF_PH_MAX ? "egress" : "ingress",
			phase_name(k % TCPF_PH_MAX), (unsigned long long)d,
			(unsigned long long)want[k]);
	}
	return used != 0;
}

/* One segment: it must move exactly the phase `want` of its direction. */
static void seg(const struct conn *c, const char *step, int dir, __u8 flags,
		__u32 seq, __u32 ack, int len, int want)
{
	__u8 buf[FRAME_MAX];
	__u64 before[TCPF_PHASE_ENTRIES], w[TCPF_PHASE_ENTRIES] = { 0 };
	char name[96], why[512];
	__u32 n = conn_frame(c, dir, flags, seq, ack, len, buf);

	cname(name, sizeof(name), c, step, "");
	percpu_sum(phases_fd, TCPF_PHASE_ENTRIES, before);
	if (run_frame(dir, buf, n, why, sizeof(why))) {
		check_report(0, name, "%s", why);
		return;
	}
	w[TCPF_KEY_PHASE(dir, want)] = 1;
	if (phases_diff(before, w, why, sizeof(why)))
		check_report(0, name, "%s", why);
	else if (!tcpf_phase_possible((__u32)want, flags))
		/* the rule compiler relies on it (include/tcpflags.h) */
		check_report(0, name, "the tracker gave %s to flags 0x%02x, "
			     "which tcpf_phase_possible() rules out",
			     phase_name((__u32)want), flags);
	else
		check_report(1, name, "%s", "");
}

/* seg() and then the local endpoint's state. */
static void segs(const struct conn *c, const char *step, int dir, __u8 flags,
		 __u32 seq, __u32 ack, int len, int want, int state)
{
	char name[96];
	int got;

	seg(c, step, dir, flags, seq, ack, len, want);
	cname(name, sizeof(name), c, step, "_state");
	got = conn_state(c);
	check_report(got == state, name, "state %s, want %s", state_name(got),
		     state_name(state));
}

/* Every connection counter, exactly (the maps are zeroed per scenario). */
static void expect_conns(const struct conn *c, const char *step,
			 const __u64 *want)
{
	__u64 got[TCPF_CONN_MAX];
	char name[96], why[512];
	size_t used = 0;

	percpu_sum(conns_fd, TCPF_CONN_MAX, got);
	for (int i = 0; i < TCPF_CONN_MAX; i++)
		if (got[i] != want[i] && used < sizeof(why))
			used += (size_t)snprintf(why + used, sizeof(why) - used,
				"%s%s %llu, want %llu", used ? "; " : "",
				conn_name(i), (unsigned long long)got[i],
				(unsigned long long)want[i]);
	cname(name, sizeof(name), c, step, "_conns");
	check_report(used == 0, name, "%s", why);
}

#define CONNS(...) ((const __u64[TCPF_CONN_MAX]){ __VA_ARGS__ })
#define OPENED(n) [TCPF_CONN_OPENED] = (n)
#define CLOSED(n) [TCPF_CONN_CLOSED] = (n)

/* The half-open slot: its stage, opener and local sides. */
static void expect_slot(const struct conn *c, const char *step, int stage,
			int opener_client, int local_client)
{
	struct tcpf_syn h;
	char name[96];
	__u32 slot = 0;
	int n = syn_lookup(&c->key, &h, &slot, NULL);
	int opener = opener_client ? c->cside : !c->cside;
	int local = local_client ? c->cside : !c->cside;

	cname(name, sizeof(name), c, step, "_slot");
	if (stage == TCPF_HS_EMPTY) {
		check_report(n == 0, name, "the slot is still busy (stage %u)",
			     h.stage);
		return;
	}
	if (n != 1) {
		check_report(0, name, "%d busy slots hold the key, want 1", n);
		return;
	}
	if (slot != key_slot(&c->key)) {
		check_report(0, name, "in slot %u, the replicated hash says %u",
			     slot, key_slot(&c->key));
		return;
	}
	check_report(h.stage == stage && h.opener == opener &&
		     h.local == local, name,
		     "stage %u opener %u local %u, want %d %d %d",
		     h.stage, h.opener, h.local, stage, opener, local);
}

/* The flow entry after a handshake: who opened, who is local, the ISNs
 * and the sequence each side has sent up to. */
static void expect_entry(const struct conn *c, const char *step,
			 int opener_client, __u32 cnext, __u32 snext)
{
	struct tcpf_flow f;
	char name[96];
	__u32 bucket = 0;
	int cs = c->cside, ss = !c->cside;
	int opener = opener_client ? cs : ss;
	int local = c->local_server ? ss : cs;

	cname(name, sizeof(name), c, step, "_entry");
	if (flow_lookup(&c->key, &f, &bucket, NULL) != 1) {
		check_report(0, name, "no single entry for the key");
		return;
	}
	if (bucket != key_bucket(&c->key)) {
		check_report(0, name, "in bucket %u, the replicated hash says %u",
			     bucket, key_bucket(&c->key));
		return;
	}
	check_report(f.opener == opener && f.local == local &&
		     f.isn[cs] == c->x && f.isn[ss] == c->y &&
		     f.next[cs] == cnext && f.next[ss] == snext, name,
		     "opener %u local %u isn c=%#x s=%#x next c=%#x s=%#x; want "
		     "opener %d local %d isn c=%#x s=%#x next c=%#x s=%#x",
		     f.opener, f.local, f.isn[cs], f.isn[ss], f.next[cs],
		     f.next[ss], opener, local, c->x, c->y, cnext, snext);
}

/* ------------------------------------------------------- scenarios */

/* The handshake with this host as the server: SYN in, SYN-ACK out, ACK in. */
static void handshake_server(const struct conn *c)
{
	__u32 x = c->x, y = c->y;

	segs(c, "syn", IN, SYN, x, 0, 0, TCPF_PH_SYN, TCPF_ST_SYN_RECV);
	segs(c, "synack", EG, SYN | ACK, y, x + 1, 0, TCPF_PH_SYNACK,
	     TCPF_ST_SYN_RECV);
	segs(c, "ack", IN, ACK, x + 1, y + 1, 0, TCPF_PH_ACK,
	     TCPF_ST_ESTABLISHED);
}

/* 1 and 11: server host, a normal life, the client closing first. */
static void scenario_server(const char *name, int family, __u16 vlan)
{
	struct conn c;
	__u32 x = 1000000000u, y = 3000000000u;

	reset();
	conn_init(&c, name, family, 40001, 1, x, y);
	c.vlan = vlan;
	conn_key(&c);

	segs(&c, "syn", IN, SYN, x, 0, 0, TCPF_PH_SYN, TCPF_ST_SYN_RECV);
	expect_slot(&c, "syn", TCPF_HS_SYN, 1, 0);
	segs(&c, "synack", EG, SYN | ACK, y, x + 1, 0, TCPF_PH_SYNACK,
	     TCPF_ST_SYN_RECV);
	expect_slot(&c, "synack", TCPF_HS_SYNACK, 1, 0);
	expect_conns(&c, "synack", CONNS(0));
	segs(&c, "ack", IN, ACK, x + 1, y + 1, 0, TCPF_PH_ACK,
	     TCPF_ST_ESTABLISHED);
	expect_slot(&c, "ack", TCPF_HS_EMPTY, 0, 0);
	expect_entry(&c, "ack", 1, x + 1, y + 1);
	expect_conns(&c, "ack", CONNS(OPENED(1)));
	if (vlan) {
		char nm[96];
		struct tcpf_flow f;

		cname(nm, sizeof(nm), &c, "ack", "_key_vlan");
		check_report(c.key.vlan == vlan &&
			     flow_lookup(&c.key, &f, NULL, NULL) == 1, nm,
			     "no entry keyed with VLAN %u", vlan);
	}

	segs(&c, "data", IN, PSH | ACK, x + 1, y + 1, 100,
	     TCPF_PH_ESTABLISHED, TCPF_ST_ESTABLISHED);
	segs(&c, "data_ack", EG, ACK, y + 1, x + 101, 0, TCPF_PH_ESTABLISHED,
	     TCPF_ST_ESTABLISHED);
	segs(&c, "data_again", IN, PSH | ACK, x + 1, y + 1, 100,
	     TCPF_PH_RETRANSMIT, TCPF_ST_ESTABLISHED);
	segs(&c, "reply", EG, PSH | ACK, y + 1, x + 101, 300,
	     TCPF_PH_ESTABLISHED, TCPF_ST_ESTABLISHED);
	segs(&c, "reply_ack", IN, ACK, x + 101, y + 301, 0,
	     TCPF_PH_ESTABLISHED, TCPF_ST_ESTABLISHED);

	segs(&c, "fin1", IN, FIN | ACK, x + 101, y + 301, 0, TCPF_PH_FIN1,
	     TCPF_ST_CLOSE_WAIT);
	segs(&c, "ack1", EG, ACK, y + 301, x + 102, 0, TCPF_PH_ACK1,
	     TCPF_ST_CLOSE_WAIT);
	segs(&c, "fin2", EG, FIN | ACK, y + 301, x + 102, 0, TCPF_PH_FIN2,
	     TCPF_ST_LAST_ACK);
	expect_conns(&c, "fin2", CONNS(OPENED(1)));
	segs(&c, "ack2", IN, ACK, x + 102, y + 302, 0, TCPF_PH_ACK2,
	     TCPF_ST_NONE);
	expect_conns(&c, "ack2", CONNS(OPENED(1), CLOSED(1)));

	if (vlan) {
		/* the same 4-tuple untagged is another flow */
		struct conn u = c;

		reset();
		handshake_server(&c);
		u.vlan = 0;
		snprintf(u.name, sizeof(u.name), "%s_untagged", name);
		conn_key(&u);
		segs(&u, "ack_other_flow", IN, ACK, x + 1, y + 1, 0,
		     TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
		segs(&c, "tagged_still_tracked", IN, PSH | ACK, x + 1, y + 1,
		     10, TCPF_PH_ESTABLISHED, TCPF_ST_ESTABLISHED);
	}
}

/* 2: the teardown in three segments, the server's FIN acking the client's. */
static void scenario_close3(void)
{
	struct conn c;
	__u32 x = 123456789u, y = 987654321u;

	reset();
	conn_init(&c, "close3", 4, 40002, 1, x, y);
	conn_key(&c);
	handshake_server(&c);
	segs(&c, "fin1", IN, FIN | ACK, x + 1, y + 1, 0, TCPF_PH_FIN1,
	     TCPF_ST_CLOSE_WAIT);
	segs(&c, "fin2", EG, FIN | ACK, y + 1, x + 2, 0, TCPF_PH_FIN2,
	     TCPF_ST_LAST_ACK);
	segs(&c, "ack2", IN, ACK, x + 2, y + 2, 0, TCPF_PH_ACK2,
	     TCPF_ST_NONE);
	expect_conns(&c, "ack2", CONNS(OPENED(1), CLOSED(1)));
}

/* 3 and 12: the server closes first, then the 4-tuple is reused. */
static void scenario_active_close(void)
{
	struct conn c;
	__u32 x = 2000000000u, y = 4000000000u, x2 = 2100000000u;

	reset();
	conn_init(&c, "active_close", 4, 40003, 1, x, y);
	conn_key(&c);
	handshake_server(&c);
	segs(&c, "fin1", EG, FIN | ACK, y + 1, x + 1, 0, TCPF_PH_FIN1,
	     TCPF_ST_FIN_WAIT1);
	segs(&c, "ack1", IN, ACK, x + 1, y + 2, 0, TCPF_PH_ACK1,
	     TCPF_ST_FIN_WAIT2);
	segs(&c, "fin2", IN, FIN | ACK, x + 1, y + 2, 0, TCPF_PH_FIN2,
	     TCPF_ST_TIME_WAIT);
	expect_conns(&c, "fin2", CONNS(OPENED(1), CLOSED(1)));
	segs(&c, "ack2", EG, ACK, y + 2, x + 2, 0, TCPF_PH_ACK2,
	     TCPF_ST_TIME_WAIT);
	/* the final ACK was lost: the peer's FIN again */
	segs(&c, "fin2_again", IN, FIN | ACK, x + 1, y + 2, 0,
	     TCPF_PH_RETRANSMIT, TCPF_ST_TIME_WAIT);
	segs(&c, "ack2_again", EG, ACK, y + 2, x + 2, 0, TCPF_PH_ESTABLISHED,
	     TCPF_ST_TIME_WAIT);
	expect_conns(&c, "ack2_again", CONNS(OPENED(1), CLOSED(1)));

	/* 12: a new SYN on the 4-tuple in TIME_WAIT */
	snprintf(c.name, sizeof(c.name), "timewait_reuse");
	c.x = x2;
	segs(&c, "syn", IN, SYN, x2, 0, 0, TCPF_PH_SYN, TCPF_ST_SYN_RECV);
	{
		char nm[96];

		cname(nm, sizeof(nm), &c, "syn", "_entry_removed");
		check_report(flow_lookup(&c.key, NULL, NULL, NULL) == 0, nm,
			     "the TIME_WAIT entry is still there");
	}
	expect_slot(&c, "syn", TCPF_HS_SYN, 1, 0);
	segs(&c, "synack", EG, SYN | ACK, y + 7, x2 + 1, 0, TCPF_PH_SYNACK,
	     TCPF_ST_SYN_RECV);
	c.y = y + 7;
	segs(&c, "ack", IN, ACK, x2 + 1, y + 8, 0, TCPF_PH_ACK,
	     TCPF_ST_ESTABLISHED);
	expect_entry(&c, "ack", 1, x2 + 1, y + 8);
	expect_conns(&c, "ack", CONNS(OPENED(2), CLOSED(1)));
}

/* 4: simultaneous close, the local FIN first on the wire. */
static void scenario_simclose(void)
{
	struct conn c;
	__u32 x = 55555u, y = 77777u;

	reset();
	conn_init(&c, "simclose", 4, 40004, 1, x, y);
	conn_key(&c);
	handshake_server(&c);
	segs(&c, "fin1", EG, FIN | ACK, y + 1, x + 1, 0, TCPF_PH_FIN1,
	     TCPF_ST_FIN_WAIT1);
	segs(&c, "fin2", IN, FIN | ACK, x + 1, y + 1, 0, TCPF_PH_FIN2,
	     TCPF_ST_CLOSING);
	expect_conns(&c, "fin2", CONNS(OPENED(1)));
	/* the ACK of the peer's FIN (the second) leaves local in CLOSING */
	segs(&c, "ack_peer_fin", EG, ACK, y + 2, x + 2, 0, TCPF_PH_ACK2,
	     TCPF_ST_CLOSING);
	/* the ACK of the local FIN (the first) */
	segs(&c, "ack_local_fin", IN, ACK, x + 2, y + 2, 0, TCPF_PH_ACK1,
	     TCPF_ST_TIME_WAIT);
	expect_conns(&c, "ack_local_fin", CONNS(OPENED(1), CLOSED(1)));

	/* CLOSING, and the peer's FIN again, now acking the local one */
	reset();
	conn_init(&c, "simclose_refin", 4, 40015, 1, x, y);
	conn_key(&c);
	handshake_server(&c);
	segs(&c, "fin1", EG, FIN | ACK, y + 1, x + 1, 0, TCPF_PH_FIN1,
	     TCPF_ST_FIN_WAIT1);
	segs(&c, "fin2", IN, FIN | ACK, x + 1, y + 1, 0, TCPF_PH_FIN2,
	     TCPF_ST_CLOSING);
	segs(&c, "fin2_again_acking", IN, FIN | ACK, x + 1, y + 2, 0,
	     TCPF_PH_RETRANSMIT, TCPF_ST_TIME_WAIT);
	expect_conns(&c, "fin2_again_acking", CONNS(OPENED(1), CLOSED(1)));
	segs(&c, "ack2", EG, ACK, y + 2, x + 2, 0, TCPF_PH_ACK2,
	     TCPF_ST_TIME_WAIT);
}

/* Half-close: the client's FIN carries data, the server goes on sending. */
static void scenario_halfclose(void)
{
	struct conn c;
	__u32 x = 1234u, y = 5678u;

	reset();
	conn_init(&c, "halfclose", 4, 40016, 1, x, y);
	conn_key(&c);
	handshake_server(&c);
	segs(&c, "fin1_data", IN, FIN | PSH | ACK, x + 1, y + 1, 100,
	     TCPF_PH_FIN1, TCPF_ST_CLOSE_WAIT);
	/* acks the data, not the FIN */
	segs(&c, "ack_data_only", EG, ACK, y + 1, x + 101, 0,
	     TCPF_PH_ESTABLISHED, TCPF_ST_CLOSE_WAIT);
	segs(&c, "ack1", EG, ACK, y + 1, x + 102, 0, TCPF_PH_ACK1,
	     TCPF_ST_CLOSE_WAIT);
	segs(&c, "server_data", EG, PSH | ACK, y + 1, x + 102, 500,
	     TCPF_PH_ESTABLISHED, TCPF_ST_CLOSE_WAIT);
	segs(&c, "client_ack", IN, ACK, x + 102, y + 501, 0,
	     TCPF_PH_ESTABLISHED, TCPF_ST_CLOSE_WAIT);
	segs(&c, "server_data_again", EG, PSH | ACK, y + 1, x + 102, 500,
	     TCPF_PH_RETRANSMIT, TCPF_ST_CLOSE_WAIT);
	segs(&c, "fin2", EG, FIN | ACK, y + 501, x + 102, 0, TCPF_PH_FIN2,
	     TCPF_ST_LAST_ACK);
	segs(&c, "ack2", IN, ACK, x + 102, y + 502, 0, TCPF_PH_ACK2,
	     TCPF_ST_NONE);
	expect_conns(&c, "ack2", CONNS(OPENED(1), CLOSED(1)));
}

/*
 * 4b: simultaneous close seen the other way round: the peer's FIN arrives
 * first, then the local FIN leaves without acking it (the stack sent it
 * before it read the peer's): local went FIN_WAIT1 -> CLOSING, not
 * CLOSE_WAIT -> LAST_ACK.
 */
static void scenario_simclose_mirror(void)
{
	struct conn c;
	__u32 x = 66666u, y = 88888u;

	reset();
	conn_init(&c, "simclose_mirror", 4, 40005, 1, x, y);
	conn_key(&c);
	handshake_server(&c);
	segs(&c, "fin1", IN, FIN | ACK, x + 1, y + 1, 0, TCPF_PH_FIN1,
	     TCPF_ST_CLOSE_WAIT);
	segs(&c, "fin2", EG, FIN | ACK, y + 1, x + 1, 0, TCPF_PH_FIN2,
	     TCPF_ST_CLOSING);
	segs(&c, "ack_local_fin", IN, ACK, x + 2, y + 2, 0, TCPF_PH_ACK2,
	     TCPF_ST_TIME_WAIT);
	expect_conns(&c, "ack_local_fin", CONNS(OPENED(1), CLOSED(1)));
	segs(&c, "ack_peer_fin", EG, ACK, y + 2, x + 2, 0, TCPF_PH_ACK1,
	     TCPF_ST_TIME_WAIT);
}

/* 5: client host: it opens, then closes first. */
static void scenario_client(void)
{
	struct conn c;
	__u32 x = 3500000000u, y = 17u;

	reset();
	conn_init(&c, "client", 4, 40006, 0, x, y);
	conn_key(&c);
	segs(&c, "syn", EG, SYN, x, 0, 0, TCPF_PH_SYN, TCPF_ST_SYN_SENT);
	expect_slot(&c, "syn", TCPF_HS_SYN, 1, 1);
	segs(&c, "synack", IN, SYN | ACK, y, x + 1, 0, TCPF_PH_SYNACK,
	     TCPF_ST_SYN_SENT);
	expect_slot(&c, "synack", TCPF_HS_SYNACK, 1, 1);
	segs(&c, "ack", EG, ACK, x + 1, y + 1, 0, TCPF_PH_ACK,
	     TCPF_ST_ESTABLISHED);
	expect_entry(&c, "ack", 1, x + 1, y + 1);
	expect_conns(&c, "ack", CONNS(OPENED(1)));
	segs(&c, "request", EG, PSH | ACK, x + 1, y + 1, 200,
	     TCPF_PH_ESTABLISHED, TCPF_ST_ESTABLISHED);
	segs(&c, "response", IN, PSH | ACK, y + 1, x + 201, 900,
	     TCPF_PH_ESTABLISHED, TCPF_ST_ESTABLISHED);
	segs(&c, "response_again", IN, PSH | ACK, y + 1, x + 201, 900,
	     TCPF_PH_RETRANSMIT, TCPF_ST_ESTABLISHED);
	segs(&c, "response_ack", EG, ACK, x + 201, y + 901, 0,
	     TCPF_PH_ESTABLISHED, TCPF_ST_ESTABLISHED);
	segs(&c, "fin1", EG, FIN | ACK, x + 201, y + 901, 0, TCPF_PH_FIN1,
	     TCPF_ST_FIN_WAIT1);
	/* the server's FIN acks the client's: straight to TIME_WAIT */
	segs(&c, "fin2", IN, FIN | ACK, y + 901, x + 202, 0, TCPF_PH_FIN2,
	     TCPF_ST_TIME_WAIT);
	segs(&c, "ack2", EG, ACK, x + 202, y + 902, 0, TCPF_PH_ACK2,
	     TCPF_ST_TIME_WAIT);
	expect_conns(&c, "ack2", CONNS(OPENED(1), CLOSED(1)));
}

/* 6: simultaneous open: both SYNs, then both SYN-ACKs. */
static void scenario_simopen(void)
{
	struct conn c;
	__u32 x = 424242u, y = 1313131u;

	reset();
	conn_init(&c, "simopen", 4, 40007, 0, x, y);
	conn_key(&c);
	segs(&c, "syn_local", EG, SYN, x, 0, 0, TCPF_PH_SYN, TCPF_ST_SYN_SENT);
	segs(&c, "syn_peer", IN, SYN, y, 0, 0, TCPF_PH_SYN, TCPF_ST_SYN_SENT);
	expect_slot(&c, "syn_peer", TCPF_HS_SYN2, 1, 1);
	segs(&c, "syn_peer_again", IN, SYN, y, 0, 0, TCPF_PH_RETRANSMIT,
	     TCPF_ST_SYN_SENT);
	segs(&c, "synack_local", EG, SYN | ACK, x, y + 1, 0, TCPF_PH_SYNACK,
	     TCPF_ST_SYN_SENT);
	expect_conns(&c, "synack_local", CONNS(0));
	segs(&c, "synack_local_again", EG, SYN | ACK, x, y + 1, 0,
	     TCPF_PH_RETRANSMIT, TCPF_ST_SYN_SENT);
	segs(&c, "synack_peer", IN, SYN | ACK, y, x + 1, 0, TCPF_PH_SYNACK,
	     TCPF_ST_ESTABLISHED);
	expect_slot(&c, "synack_peer", TCPF_HS_EMPTY, 0, 0);
	expect_conns(&c, "synack_peer", CONNS(OPENED(1)));
	/* each SYN took one sequence number: both sides have sent isn + 1 */
	expect_entry(&c, "synack_peer", 1, x + 1, y + 1);
	segs(&c, "synack_peer_again", IN, SYN | ACK, y, x + 1, 0,
	     TCPF_PH_RETRANSMIT, TCPF_ST_ESTABLISHED);
	segs(&c, "data_local", EG, PSH | ACK, x + 1, y + 1, 10,
	     TCPF_PH_ESTABLISHED, TCPF_ST_ESTABLISHED);
	segs(&c, "data_peer", IN, PSH | ACK, y + 1, x + 11, 10,
	     TCPF_PH_ESTABLISHED, TCPF_ST_ESTABLISHED);
	expect_conns(&c, "data_peer", CONNS(OPENED(1)));
}

/* 7: retransmitted SYN, SYN-ACK and FINs, and a new SYN attempt. */
static void scenario_retransmit(void)
{
	struct conn c;
	__u32 x = 700000u, y = 900000u, x0 = 600000u;

	reset();
	conn_init(&c, "retransmit", 4, 40008, 1, x, y);
	conn_key(&c);
	segs(&c, "syn_first_attempt", IN, SYN, x0, 0, 0, TCPF_PH_SYN,
	     TCPF_ST_SYN_RECV);
	/* the client gave up on x0 and tries again with another ISN */
	segs(&c, "syn", IN, SYN, x, 0, 0, TCPF_PH_SYN, TCPF_ST_SYN_RECV);
	segs(&c, "syn_again", IN, SYN, x, 0, 0, TCPF_PH_RETRANSMIT,
	     TCPF_ST_SYN_RECV);
	expect_slot(&c, "syn_again", TCPF_HS_SYN, 1, 0);
	segs(&c, "synack", EG, SYN | ACK, y, x + 1, 0, TCPF_PH_SYNACK,
	     TCPF_ST_SYN_RECV);
	segs(&c, "synack_again", EG, SYN | ACK, y, x + 1, 0,
	     TCPF_PH_RETRANSMIT, TCPF_ST_SYN_RECV);
	segs(&c, "syn_after_synack", IN, SYN, x, 0, 0, TCPF_PH_RETRANSMIT,
	     TCPF_ST_SYN_RECV);
	expect_slot(&c, "syn_after_synack", TCPF_HS_SYNACK, 1, 0);
	segs(&c, "ack", IN, ACK, x + 1, y + 1, 0, TCPF_PH_ACK,
	     TCPF_ST_ESTABLISHED);
	expect_entry(&c, "ack", 1, x + 1, y + 1);
	segs(&c, "synack_after_ack", EG, SYN | ACK, y, x + 1, 0,
	     TCPF_PH_RETRANSMIT, TCPF_ST_ESTABLISHED);
	segs(&c, "syn_after_ack", IN, SYN, x, 0, 0, TCPF_PH_RETRANSMIT,
	     TCPF_ST_ESTABLISHED);
	segs(&c, "data", IN, PSH | ACK, x + 1, y + 1, 500,
	     TCPF_PH_ESTABLISHED, TCPF_ST_ESTABLISHED);
	/* the first half again: ends below what was sent */
	segs(&c, "data_part_again", IN, PSH | ACK, x + 1, y + 1, 250,
	     TCPF_PH_RETRANSMIT, TCPF_ST_ESTABLISHED);
	segs(&c, "fin1", IN, FIN | ACK, x + 501, y + 1, 0, TCPF_PH_FIN1,
	     TCPF_ST_CLOSE_WAIT);
	segs(&c, "fin1_again", IN, FIN | ACK, x + 501, y + 1, 0,
	     TCPF_PH_RETRANSMIT, TCPF_ST_CLOSE_WAIT);
	segs(&c, "fin2", EG, FIN | ACK, y + 1, x + 502, 0, TCPF_PH_FIN2,
	     TCPF_ST_LAST_ACK);
	segs(&c, "fin2_again", EG, FIN | ACK, y + 1, x + 502, 0,
	     TCPF_PH_RETRANSMIT, TCPF_ST_LAST_ACK);
	segs(&c, "ack2", IN, ACK, x + 502, y + 2, 0, TCPF_PH_ACK2,
	     TCPF_ST_NONE);
	expect_conns(&c, "ack2", CONNS(OPENED(1), CLOSED(1)));
}

/* 8: RST of a connection, and RST|ACK answering a SYN (port closed). */
static void scenario_rst(void)
{
	struct conn c;
	__u32 x = 31337u, y = 271828u;

	reset();
	conn_init(&c, "rst", 4, 40009, 1, x, y);
	conn_key(&c);
	handshake_server(&c);
	segs(&c, "data", IN, PSH | ACK, x + 1, y + 1, 64, TCPF_PH_ESTABLISHED,
	     TCPF_ST_ESTABLISHED);
	segs(&c, "rst", IN, RST, x + 65, 0, 0, TCPF_PH_RESET, TCPF_ST_NONE);
	expect_conns(&c, "rst", CONNS(OPENED(1), [TCPF_CONN_RESET] = 1));

	reset();
	conn_init(&c, "refused", 4, 40010, 1, x, y);
	conn_key(&c);
	segs(&c, "syn", IN, SYN, x, 0, 0, TCPF_PH_SYN, TCPF_ST_SYN_RECV);
	segs(&c, "rstack", EG, RST | ACK, 0, x + 1, 0, TCPF_PH_RESET,
	     TCPF_ST_NONE);
	expect_slot(&c, "rstack", TCPF_HS_EMPTY, 0, 0);
	expect_conns(&c, "rstack", CONNS([TCPF_CONN_REFUSED] = 1));
	segs(&c, "syn_again_new_attempt", IN, SYN, x, 0, 0, TCPF_PH_SYN,
	     TCPF_ST_SYN_RECV);
}

/* 9: data on the handshake ACK, across the sequence wrap. */
static void scenario_data_on_ack(void)
{
	struct conn c;
	__u32 x = 0xffffffc0u, y = 0x7fffffffu;

	reset();
	conn_init(&c, "data_on_ack", 4, 40011, 1, x, y);
	conn_key(&c);
	segs(&c, "syn", IN, SYN, x, 0, 0, TCPF_PH_SYN, TCPF_ST_SYN_RECV);
	segs(&c, "synack", EG, SYN | ACK, y, x + 1, 0, TCPF_PH_SYNACK,
	     TCPF_ST_SYN_RECV);
	segs(&c, "ack_data", IN, PSH | ACK, x + 1, y + 1, 100, TCPF_PH_ACK,
	     TCPF_ST_ESTABLISHED);
	expect_entry(&c, "ack_data", 1, x + 101, y + 1);
	expect_conns(&c, "ack_data", CONNS(OPENED(1)));
	segs(&c, "next_data", IN, PSH | ACK, x + 101, y + 1, 100,
	     TCPF_PH_ESTABLISHED, TCPF_ST_ESTABLISHED);
	segs(&c, "ack_data_again", IN, PSH | ACK, x + 1, y + 1, 100,
	     TCPF_PH_RETRANSMIT, TCPF_ST_ESTABLISHED);
	segs(&c, "ack", EG, ACK, y + 1, x + 201, 0, TCPF_PH_ESTABLISHED,
	     TCPF_ST_ESTABLISHED);
}

/* 10: segments that fit no tracked connection, or break one. */
static void scenario_out_of_state(void)
{
	struct conn c;
	__u32 x = 111111u, y = 222222u;
	char nm[96];
	int busy;

	reset();
	conn_init(&c, "oos", 4, 40012, 1, x, y);
	conn_key(&c);
	segs(&c, "ack_unknown", IN, ACK, x + 1, y + 1, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
	segs(&c, "data_unknown", IN, PSH | ACK, x + 1, y + 1, 100,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
	segs(&c, "fin_unknown", IN, FIN | ACK, x + 1, y + 1, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
	segs(&c, "rst_unknown", IN, RST, x + 1, 0, 0, TCPF_PH_OUT_OF_STATE,
	     TCPF_ST_NONE);
	segs(&c, "synack_unknown", EG, SYN | ACK, y, x + 1, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
	segs(&c, "synfin_unknown", IN, SYN | FIN, x, 0, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
	syn_lookup(&c.key, NULL, NULL, &busy);
	cname(nm, sizeof(nm), &c, "unknown", "_no_slot");
	check_report(busy == 0, nm, "%d half-open slots taken", busy);

	segs(&c, "syn", IN, SYN, x, 0, 0, TCPF_PH_SYN, TCPF_ST_SYN_RECV);
	segs(&c, "synack_wrong_ack", EG, SYN | ACK, y, x + 5, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_SYN_RECV);
	expect_slot(&c, "synack_wrong_ack", TCPF_HS_SYN, 1, 0);
	segs(&c, "ack_before_synack", IN, ACK, x + 1, y + 1, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_SYN_RECV);
	segs(&c, "synack", EG, SYN | ACK, y, x + 1, 0, TCPF_PH_SYNACK,
	     TCPF_ST_SYN_RECV);
	segs(&c, "ack_wrong_ack", IN, ACK, x + 1, y + 2, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_SYN_RECV);
	expect_slot(&c, "ack_wrong_ack", TCPF_HS_SYNACK, 1, 0);
	segs(&c, "ack_from_server", EG, ACK, y + 1, x + 1, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_SYN_RECV);
	segs(&c, "synack_other_isn", EG, SYN | ACK, y + 99, x + 1, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_SYN_RECV);
	segs(&c, "ack", IN, ACK, x + 1, y + 1, 0, TCPF_PH_ACK,
	     TCPF_ST_ESTABLISHED);
	expect_entry(&c, "ack", 1, x + 1, y + 1);
	segs(&c, "syn_new_isn_established", IN, SYN, x + 12345, 0, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_ESTABLISHED);
	segs(&c, "local_fin", EG, FIN | ACK, y + 1, x + 1, 0, TCPF_PH_FIN1,
	     TCPF_ST_FIN_WAIT1);
	segs(&c, "fin_other_seq", EG, FIN | ACK, y + 50, x + 1, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_FIN_WAIT1);
	segs(&c, "rst", IN, RST, x + 1, 0, 0, TCPF_PH_RESET, TCPF_ST_NONE);
	segs(&c, "data_after_rst", IN, PSH | ACK, x + 1, y + 2, 10,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
	segs(&c, "ack_after_rst", EG, ACK, y + 2, x + 11, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
	segs(&c, "fin_after_rst", IN, FIN | ACK, x + 11, y + 2, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
	segs(&c, "rst_after_rst", IN, RST, x + 11, 0, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
	expect_conns(&c, "end", CONNS(OPENED(1), [TCPF_CONN_RESET] = 1));

	/* after an orderly close, too */
	reset();
	conn_init(&c, "oos_after_close", 4, 40013, 1, x, y);
	conn_key(&c);
	handshake_server(&c);
	segs(&c, "fin1", IN, FIN | ACK, x + 1, y + 1, 0, TCPF_PH_FIN1,
	     TCPF_ST_CLOSE_WAIT);
	segs(&c, "fin2", EG, FIN | ACK, y + 1, x + 2, 0, TCPF_PH_FIN2,
	     TCPF_ST_LAST_ACK);
	segs(&c, "ack2", IN, ACK, x + 2, y + 2, 0, TCPF_PH_ACK2,
	     TCPF_ST_NONE);
	segs(&c, "ack2_again", IN, ACK, x + 2, y + 2, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
	segs(&c, "fin2_again", EG, FIN | ACK, y + 1, x + 2, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
	expect_conns(&c, "end", CONNS(OPENED(1), CLOSED(1)));
}

/* 14: a spoofed SYN flood next to one established connection. */
static void scenario_flood(void)
{
	enum { NSYN = 1000 };
	struct conn c, s;
	struct tcpf_flow before, after;
	__u8 buf[FRAME_MAX], src[4] = { 198, 18, 0, 0 };
	__u64 ph0[TCPF_PHASE_ENTRIES], w[TCPF_PHASE_ENTRIES] = { 0 };
	__u64 want_evicted = 0;
	int taken[NSLOTS] = { 0 }, distinct = 0, live, busy, ok = 1;
	char why[512];

	reset();
	conn_init(&c, "flood", 4, 40014, 1, 5000u, 6000u);
	conn_key(&c);
	handshake_server(&c);
	flow_lookup(&c.key, &before, NULL, NULL);

	percpu_sum(phases_fd, TCPF_PHASE_ENTRIES, ph0);
	for (int i = 0; i < NSYN && ok; i++) {
		__u32 n;

		conn_init(&s, "flood_syn", 4, (__u16)(1024 + i), 1,
			  0x9e3779b9u * (__u32)(i + 1), 0);
		src[2] = (__u8)(i / 250);
		src[3] = (__u8)(i % 250 + 1);
		memcpy(s.caddr, src, 4);
		conn_key(&s);
		/* a live slot of another key is evicted, an empty one taken */
		if (taken[key_slot(&s.key)])
			want_evicted++;
		else
			distinct++;
		taken[key_slot(&s.key)] = 1;
		n = conn_frame(&s, IN, SYN, s.x, 0, 0, buf);
		if (run_frame(IN, buf, n, why, sizeof(why)))
			ok = 0;
	}
	printf("# flood: %d SYNs took %d slots, %llu displaced a live one\n",
	       NSYN, distinct, (unsigned long long)want_evicted);
	check_report(ok, "flow_flood_syns_run", "%s", why);
	w[TCPF_KEY_PHASE(IN, TCPF_PH_SYN)] = NSYN;
	check_report(!phases_diff(ph0, w, why, sizeof(why)),
		     "flow_flood_syns_phase", "%s", why);
	expect_conns(&c, "syns", CONNS(OPENED(1),
		     [TCPF_CONN_HALF_OPEN_EVICTED] = want_evicted));

	flow_lookup(&c.key, &after, NULL, &live);
	check_report(live == 1, "flow_flood_table_one_connection",
		     "%d live entries, want 1", live);
	check_report(after.state == TCPF_ST_ESTABLISHED &&
		     after.created == before.created &&
		     after.isn[0] == before.isn[0] &&
		     after.isn[1] == before.isn[1],
		     "flow_flood_established_intact",
		     "state %s created %u, want established %u",
		     state_name(after.state), after.created, before.created);
	syn_lookup(&c.key, NULL, NULL, &busy);
	check_report(busy == distinct, "flow_flood_slots_taken",
		     "%d busy slots, want %d", busy, distinct);
	check_report((__u64)busy + want_evicted == NSYN,
		     "flow_flood_evicted_plus_taken",
		     "%d taken + %llu evicted != %d", busy,
		     (unsigned long long)want_evicted, NSYN);
	segs(&c, "after_data", IN, PSH | ACK, 5001, 6001, 100,
	     TCPF_PH_ESTABLISHED, TCPF_ST_ESTABLISHED);
	expect_conns(&c, "after", CONNS(OPENED(1),
		     [TCPF_CONN_HALF_OPEN_EVICTED] = want_evicted));
}

/*
 * n server-side connections named <prefix><i> whose keys share one
 * bucket (slot == 0) or one half-open slot (slot == 1); returns how many
 * were found.
 */
static int find_mates(const char *prefix, __u16 base, int slot,
		      struct conn *c, int n)
{
	__u32 target = 0;
	int found = 0;
	char name[32];

	for (__u32 port = base; port < 65000 && found < n; port++) {
		snprintf(name, sizeof(name), "%s%d", prefix, found);
		conn_init(&c[found], name, 4, (__u16)port, 1, 10000u * port,
			  20000u * port);
		conn_key(&c[found]);
		if (found == 0)
			target = slot ? key_slot(&c[0].key)
				      : key_bucket(&c[0].key);
		if ((slot ? key_slot(&c[found].key)
			  : key_bucket(&c[found].key)) == target)
			found++;
	}
	return found;
}

/* 15: five connections in one 4-way bucket: the least recently seen goes. */
static void scenario_bucket_evict(void)
{
	struct conn c[5];
	int n, live = 0;

	reset();
	n = find_mates("evict", 41000, 0, c, 5);
	check_report(n == 5, "flow_evict_found_keys",
		     "only %d ports hash to one bucket", n);
	if (n < 5)
		return;
	for (int i = 0; i < 4; i++) {
		set_now(1000 + (__u32)i);
		handshake_server(&c[i]);
	}
	/* c0 is seen again, so c1 is now the least recently seen */
	set_now(1010);
	segs(&c[0], "touch", IN, PSH | ACK, c[0].x + 1, c[0].y + 1, 10,
	     TCPF_PH_ESTABLISHED, TCPF_ST_ESTABLISHED);
	expect_conns(&c[0], "four", CONNS(OPENED(4)));
	set_now(1011);
	handshake_server(&c[4]);
	expect_conns(&c[4], "fifth", CONNS(OPENED(5),
		     [TCPF_CONN_EVICTED] = 1));
	for (int i = 0; i < 5; i++) {
		char nm[64];
		int st = conn_state(&c[i]), want = i == 1 ? TCPF_ST_NONE
						   : TCPF_ST_ESTABLISHED;

		snprintf(nm, sizeof(nm), "flow_evict%d_after_state", i);
		check_report(st == want, nm, "state %s, want %s",
			     state_name(st), state_name(want));
	}
	flow_lookup(&c[0].key, NULL, NULL, &live);
	check_report(live == 4, "flow_evict_table_four", "%d live entries",
		     live);
	segs(&c[1], "after_evicted", IN, PSH | ACK, c[1].x + 1, c[1].y + 1,
	     10, TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
}

/*
 * 15b: a TIME_WAIT entry displaced by a new connection was counted as
 * closed when it entered TIME_WAIT: evicting it is no second ending (as
 * the reaper does not count it expired, nor an RST reset).
 */
static void scenario_evict_timewait(void)
{
	struct conn c[5];
	int n;

	reset();
	n = find_mates("evict_tw", 43000, 0, c, 5);
	check_report(n == 5, "flow_evict_tw_found_keys",
		     "only %d ports hash to one bucket", n);
	if (n < 5)
		return;
	set_now(1000);
	handshake_server(&c[0]);
	segs(&c[0], "fin1", EG, FIN | ACK, c[0].y + 1, c[0].x + 1, 0,
	     TCPF_PH_FIN1, TCPF_ST_FIN_WAIT1);
	segs(&c[0], "fin2", IN, FIN | ACK, c[0].x + 1, c[0].y + 2, 0,
	     TCPF_PH_FIN2, TCPF_ST_TIME_WAIT);
	for (int i = 1; i < 4; i++) {
		set_now(1000 + (__u32)i);
		handshake_server(&c[i]);
	}
	set_now(1010);
	handshake_server(&c[4]);
	segs(&c[0], "after_evicted", EG, ACK, c[0].y + 2, c[0].x + 2, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
	expect_conns(&c[4], "fifth", CONNS(OPENED(5), CLOSED(1)));
}

/*
 * 14b: a SYN on a busy half-open slot of another key takes it; the
 * displaced handshake counts as evicted only while it was live
 * (now - seen <= timeout), else it had expired.
 */
static void scenario_slot_evict(void)
{
	struct conn c[3];
	int n;

	reset();
	n = find_mates("slot", 44000, 1, c, 3);
	check_report(n == 3, "flow_slot_found_keys",
		     "only %d ports hash to one slot", n);
	if (n < 3)
		return;
	set_now(1000);
	segs(&c[0], "syn", IN, SYN, c[0].x, 0, 0, TCPF_PH_SYN,
	     TCPF_ST_SYN_RECV);
	/* at exactly the timeout (60 s) c0 is still live */
	set_now(1060);
	segs(&c[1], "syn", IN, SYN, c[1].x, 0, 0, TCPF_PH_SYN,
	     TCPF_ST_SYN_RECV);
	segs(&c[0], "synack_lost_slot", EG, SYN | ACK, c[0].y, c[0].x + 1, 0,
	     TCPF_PH_OUT_OF_STATE, TCPF_ST_NONE);
	expect_conns(&c[1], "live_taken",
		     CONNS([TCPF_CONN_HALF_OPEN_EVICTED] = 1));
	/* a second past it c1 had expired */
	set_now(1121);
	segs(&c[2], "syn", IN, SYN, c[2].x, 0, 0, TCPF_PH_SYN,
	     TCPF_ST_SYN_RECV);
	expect_conns(&c[2], "expired_taken",
		     CONNS([TCPF_CONN_HALF_OPEN_EVICTED] = 1));
	segs(&c[1], "state", IN, ACK, c[1].x + 1, 1, 0, TCPF_PH_OUT_OF_STATE,
	     TCPF_ST_NONE);
	segs(&c[2], "synack", EG, SYN | ACK, c[2].y, c[2].x + 1, 0,
	     TCPF_PH_SYNACK, TCPF_ST_SYN_RECV);
	segs(&c[2], "ack", IN, ACK, c[2].x + 1, c[2].y + 1, 0, TCPF_PH_ACK,
	     TCPF_ST_ESTABLISHED);
	expect_conns(&c[2], "ack", CONNS(OPENED(1),
		     [TCPF_CONN_HALF_OPEN_EVICTED] = 1));
}

/* 13: the reaper, on the real coarse clock. */
static void scenario_reaper(void)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = 1);
	struct conn a, w, b, r, s;
	struct tcpf_ctl ctl;
	struct timespec ts;
	__u8 buf[FRAME_MAX];
	__u32 t0, n;
	__u64 t_end;
	char why[160];

	reset();
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	t0 = (__u32)ts.tv_sec;
	ctl_read(&ctl);
	for (int i = 0; i < TCPF_ST_MAX; i++)
		ctl.timeout[i] = 60;
	ctl.timeout[TCPF_ST_SYN_RECV] = 0;
	ctl.timeout[TCPF_ST_ESTABLISHED] = 50;

	/* 100 s ago: an established connection and one in TIME_WAIT */
	ctl.now = t0 - 100;
	ctl_write(&ctl);
	conn_init(&a, "reaper_old", 4, 42001, 1, 1000u, 2000u);
	conn_key(&a);
	handshake_server(&a);
	conn_init(&w, "reaper_timewait", 4, 42002, 1, 3000u, 4000u);
	conn_key(&w);
	handshake_server(&w);
	segs(&w, "fin1", EG, FIN | ACK, 4001, 3001, 0, TCPF_PH_FIN1,
	     TCPF_ST_FIN_WAIT1);
	segs(&w, "fin2", IN, FIN | ACK, 3001, 4002, 0, TCPF_PH_FIN2,
	     TCPF_ST_TIME_WAIT);

	/* now: an established one, a SYN received and a SYN sent */
	ctl.now = t0;
	ctl_write(&ctl);
	conn_init(&b, "reaper_new", 4, 42003, 1, 5000u, 6000u);
	conn_key(&b);
	handshake_server(&b);
	conn_init(&r, "reaper_synrecv", 4, 42004, 1, 7000u, 0);
	conn_key(&r);
	conn_init(&s, "reaper_synsent", 4, 42005, 0, 8000u, 0);
	s.sport = 443;
	conn_key(&s);
	while (key_slot(&s.key) == key_slot(&r.key)) {
		s.cport++;
		conn_key(&s);
	}
	segs(&r, "syn", IN, SYN, 7000u, 0, 0, TCPF_PH_SYN, TCPF_ST_SYN_RECV);
	segs(&s, "syn", EG, SYN, 8000u, 0, 0, TCPF_PH_SYN, TCPF_ST_SYN_SENT);
	expect_conns(&b, "before", CONNS(OPENED(3), CLOSED(1)));

	n = conn_frame(&b, IN, ACK, 5001, 6001, 0, buf);
	opts.data_in = buf;
	opts.data_size_in = n;
	if (bpf_prog_test_run_opts(arm_fd, &opts) || opts.retval != XDP_PASS) {
		check_report(0, "flow_reaper_arm", "arm failed: %s, retval %u",
			     strerror(errno), opts.retval);
		return;
	}
	check_report(1, "flow_reaper_arm", "%s", "");

	/* the first tick comes a second after the arm */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t_end = (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000 + 3500;
	for (;;) {
		__u64 ms;

		ctl_read(&ctl);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ms = (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
		if (ctl.ticks >= 1 || ms > t_end)
			break;
		usleep(20000);
	}
	check_report(ctl.ticks >= 1, "flow_reaper_ticked",
		     "no tick in 3.5 s");
	if (ctl.ticks < 1)
		return;
	check_report((__s32)(ctl.now - t0) >= 1, "flow_reaper_clock",
		     "ctl.now %u, want at least %u", ctl.now, t0 + 1);
	{
		__u32 want[TCPF_ST_MAX] = { 0 };
		size_t used = 0;

		want[TCPF_ST_ESTABLISHED] = 1;
		want[TCPF_ST_SYN_SENT] = 1;
		why[0] = 0;
		for (int i = 0; i < TCPF_ST_MAX; i++)
			if (ctl.gauge[i] != want[i] && used < sizeof(why))
				used += (size_t)snprintf(why + used,
					sizeof(why) - used, "%s%s %u, want %u",
					used ? "; " : "", state_name(i),
					ctl.gauge[i], want[i]);
		check_report(used == 0, "flow_reaper_gauges", "%s", why);
	}
	expect_conns(&b, "reaped", CONNS(OPENED(3), CLOSED(1),
		     [TCPF_CONN_EXPIRED] = 1,
		     [TCPF_CONN_HALF_OPEN_EXPIRED] = 1));
	{
		struct { struct conn *c; int st; } want[] = {
			{ &a, TCPF_ST_NONE }, { &w, TCPF_ST_NONE },
			{ &b, TCPF_ST_ESTABLISHED }, { &r, TCPF_ST_NONE },
			{ &s, TCPF_ST_SYN_SENT },
		};

		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			char nm[96];
			int st = conn_state(want[i].c);

			cname(nm, sizeof(nm), want[i].c, "reaped", "_state");
			check_report(st == want[i].st, nm, "state %s, want %s",
				     state_name(st), state_name(want[i].st));
		}
	}
}

/* ------------------------------------------------------- SYN sources */

/*
 * tcpf_srcs (bpf/srcs.bpf.h): per CPU, so the scenario runs pinned to one
 * CPU and reads that CPU's copy of a slot (every other CPU's must stay
 * empty), except the merge case, which uses two CPUs on purpose.
 */
static int srcs_fd, srcs_cpu = -1, srcs_cpu2 = -1;
static int srcs_failed_runs;
static char srcs_run_why[256];
static __u16 srcs_port = 1024;

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* The address as the slot function and the map hold it (IPv4 in [0]). */
static void src_words(int family, const __u8 *addr, __u32 w[4])
{
	memset(w, 0, 4 * sizeof(__u32));
	memcpy(w, addr, family == 4 ? 4 : 16);
}

static __u32 src_slot_of(int family, const __u8 *addr)
{
	__u32 w[4];

	src_words(family, addr, w);
	return tcpf_src_slot(w);
}

/* n segments with the flag byte flags from addr, on dir (VLAN vlan). */
static void src_send(int family, const __u8 *addr, int dir, __u8 flags,
		     int n, __u16 vlan)
{
	__u8 buf[FRAME_MAX];
	char why[256];

	for (int i = 0; i < n; i++) {
		struct frame_spec s = {
			.family = family, .l4 = IPPROTO_TCP, .flags = flags,
			.seqack = 1, .seq = 0x10000000u + srcs_port,
			.ack = flags & ACK ? 0x20000000u : 0,
			.saddr = addr, .daddr = family == 4 ? server4 : server6,
			.sport = srcs_port, .dport = 80,
		};
		struct frame_layout lay;
		__u32 len;

		srcs_port = srcs_port == 65535 ? 1024 : srcs_port + 1;
		if (vlan) {
			s.nvlan = 1;
			s.tpid[0] = 0x8100;
			s.vid[0] = vlan;
		}
		len = frame_build(&s, buf, &lay);
		if (run_frame(dir, buf, len, why, sizeof(why)) &&
		    !srcs_failed_runs++)
			snprintf(srcs_run_why, sizeof(srcs_run_why), "%s", why);
	}
}

static void syns4(const __u8 *addr, int n)
{
	src_send(4, addr, IN, SYN, n, 0);
}

/* A slot on every CPU; returns on how many it is used, *mine: srcs_cpu's. */
static int src_get(__u32 slot, struct tcpf_src *mine)
{
	struct tcpf_src *v = calloc((size_t)ncpus, sizeof(*v));
	int used = 0;

	memset(mine, 0, sizeof(*mine));
	if (!v || bpf_map_lookup_elem(srcs_fd, &slot, v)) {
		free(v);
		return -1;
	}
	for (int c = 0; c < ncpus; c++)
		used += v[c].used != 0;
	*mine = v[srcs_cpu];
	free(v);
	return used;
}

static void fmt_src(char *buf, size_t n, int family, const void *addr)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == TCPF_IPV4 || family == 4 ? AF_INET : AF_INET6,
		       addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, n, "%s/%s", family == TCPF_IPV6 || family == 6 ? "v6" : "v4", a);
}

/* addr's slot holds addr (family 4 or 6) with exactly syns and score. */
static void expect_src(const char *name, int family, const __u8 *addr,
		       __u64 syns, __u32 score)
{
	struct tcpf_src s;
	__u32 w[4];
	__u8 fam = family == 4 ? TCPF_IPV4 : TCPF_IPV6;
	char got[64], want[64];
	int used = src_get(src_slot_of(family, addr), &s);

	src_words(family, addr, w);
	fmt_src(got, sizeof(got), s.family == TCPF_IPV4 ? 4 : 6, s.addr);
	fmt_src(want, sizeof(want), family, w);
	check_report(used == 1 && s.used == 1 && s.family == fam &&
		     !memcmp(s.addr, w, sizeof(w)) && s.syns == syns &&
		     s.score == score, name,
		     "slot %u: used on %d CPUs (want 1: cpu %d), used %u %s "
		     "syns %llu score %u; want %s syns %llu score %u",
		     src_slot_of(family, addr), used, srcs_cpu, s.used, got,
		     (unsigned long long)s.syns, s.score, want,
		     (unsigned long long)syns, score);
}

/* The whole table, every CPU (SLOTS x ncpus), or NULL. */
static struct tcpf_src *srcs_dump(void)
{
	struct tcpf_src *d = calloc((size_t)TCPF_SRC_SLOTS * ncpus, sizeof(*d));

	for (__u32 k = 0; d && k < TCPF_SRC_SLOTS; k++)
		if (bpf_map_lookup_elem(srcs_fd, &k, &d[(size_t)k * ncpus])) {
			free(d);
			return NULL;
		}
	return d;
}

/* How many (slot, CPU) copies are used. */
static int srcs_used(void)
{
	struct tcpf_src *d = srcs_dump();
	int n = 0;

	if (!d)
		return -1;
	for (size_t i = 0; i < (size_t)TCPF_SRC_SLOTS * ncpus; i++)
		n += d[i].used != 0;
	free(d);
	return n;
}

/* Segments that are not an arriving SYN: the table must not change. */
static void expect_unchanged(const char *name, int family, const __u8 *addr,
			     int dir, __u8 flags)
{
	struct tcpf_src *before = srcs_dump(), *after;
	size_t sz = (size_t)TCPF_SRC_SLOTS * ncpus * sizeof(*before);
	int same;

	src_send(family, addr, dir, flags, 3, 0);
	after = srcs_dump();
	same = before && after && !memcmp(before, after, sz);
	check_report(same, name, "%s segments with flags %#x changed tcpf_srcs",
		     dir == IN ? "ingress" : "egress", flags);
	free(before);
	free(after);
}

static void do_srcs_reset(const char *name)
{
	int err = srcs_reset(srcs_fd), used = srcs_used();

	check_report(!err && used == 0, name, "srcs_reset: %d, %d used copies",
		     err, used);
}

/* The next address of 198.18.0.0/15 (from: its offset, advanced) whose
 * slot is slot, in out; 0 when the range is exhausted. */
static int find4_in_slot(__u32 slot, __u32 *from, __u8 out[4])
{
	for (; *from < (1u << 17); (*from)++) {
		__u8 a[4] = { 198, (__u8)(18 + (*from >> 16)),
			      (__u8)(*from >> 8), (__u8)*from };

		if (src_slot_of(4, a) == slot) {
			memcpy(out, a, 4);
			(*from)++;
			return 1;
		}
	}
	return 0;
}

/* srcs_read(max) returns count sources, the first n of them exactly
 * want[0..n) (family 4/6, address, syns). */
struct want_src {
	int family;
	const __u8 *addr;
	__u64 syns;
};

static void expect_read(const char *name, int max, const struct want_src *want,
			int n, int count)
{
	struct src_count *got = calloc(TCPF_SRC_SLOTS, sizeof(*got));
	char why[1024], g[64], w[64];
	size_t used = 0;
	int m = got ? srcs_read(srcs_fd, got, max) : -ENOMEM;

	why[0] = 0;
	if (m != count)
		used += (size_t)snprintf(why, sizeof(why),
					 "%d sources, want %d", m, count);
	for (int i = 0; i < n && i < m && used < sizeof(why); i++) {
		__u8 a[16] = { 0 };
		__u8 fam = want[i].family == 4 ? TCPF_IPV4 : TCPF_IPV6;

		memcpy(a, want[i].addr, want[i].family == 4 ? 4 : 16);
		if (got[i].family == fam && !memcmp(got[i].addr, a, 16) &&
		    got[i].syns == want[i].syns)
			continue;
		fmt_src(g, sizeof(g), got[i].family, got[i].addr);
		fmt_src(w, sizeof(w), want[i].family, a);
		used += (size_t)snprintf(why + used, sizeof(why) - used,
			"%s#%d: %s %llu, want %s %llu", used ? "; " : "", i, g,
			(unsigned long long)got[i].syns, w,
			(unsigned long long)want[i].syns);
	}
	check_report(used == 0, name, "%s", why);
	free(got);
}

static void srcs_basic(void)
{
	const __u8 a[4] = { 198, 18, 0, 1 }, c[4] = { 198, 18, 77, 7 };
	const __u8 a6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 1, [15] = 0x42 };
	__u8 b[4];
	__u32 from = 2, slot = src_slot_of(4, a);
	int n;

	do_srcs_reset("flow_srcs_reset_empty");
	syns4(a, 1);
	expect_src("flow_srcs_one_syn", 4, a, 1, 1);
	n = srcs_used();
	check_report(n == 1, "flow_srcs_one_syn_one_slot",
		     "%d used copies, want 1", n);
	syns4(a, 3);
	expect_src("flow_srcs_four_syns", 4, a, 4, 4);

	/* only arriving segments with SYN set and ACK, RST, FIN clear count */
	expect_unchanged("flow_srcs_synack_not_counted", 4, a, IN, SYN | ACK);
	expect_unchanged("flow_srcs_ack_not_counted", 4, a, IN, ACK);
	expect_unchanged("flow_srcs_pshack_not_counted", 4, a, IN, PSH | ACK);
	expect_unchanged("flow_srcs_rst_not_counted", 4, a, IN, RST);
	expect_unchanged("flow_srcs_rstack_not_counted", 4, a, IN, RST | ACK);
	expect_unchanged("flow_srcs_fin_not_counted", 4, a, IN, FIN);
	expect_unchanged("flow_srcs_finack_not_counted", 4, a, IN, FIN | ACK);
	expect_unchanged("flow_srcs_null_not_counted", 4, a, IN, 0);
	/* scans, not connection requests */
	expect_unchanged("flow_srcs_synfin_not_counted", 4, a, IN, SYN | FIN);
	expect_unchanged("flow_srcs_synrst_not_counted", 4, a, IN, SYN | RST);
	expect_unchanged("flow_srcs_egress_syn_not_counted", 4, a, EG, SYN);
	expect_unchanged("flow_srcs_egress_syn_new_source_not_counted", 4, c,
			 EG, SYN);
	expect_unchanged("flow_srcs_egress_syn6_not_counted", 6, a6, EG, SYN);
	expect_src("flow_srcs_still_four", 4, a, 4, 4);

	/* an ECN setup SYN is a SYN; so are one with PSH|URG and a tagged one */
	src_send(4, a, IN, SYN | TCPF_ECE | TCPF_CWR, 1, 0);
	expect_src("flow_srcs_ecn_syn_counted", 4, a, 5, 5);
	src_send(4, a, IN, SYN | PSH | TCPF_URG, 1, 0);
	expect_src("flow_srcs_syn_psh_urg_counted", 4, a, 6, 6);
	src_send(4, a, IN, SYN, 1, 100);
	expect_src("flow_srcs_vlan_syn_counted", 4, a, 7, 7);
	n = srcs_used();
	check_report(n == 1, "flow_srcs_still_one_slot",
		     "%d used copies, want 1", n);

	/* B shares A's slot: each B SYN costs A one point of score */
	if (!find4_in_slot(slot, &from, b)) {
		check_report(0, "flow_srcs_collider_found",
			     "no address of 198.18.0.0/15 in slot %u", slot);
		return;
	}
	printf("# srcs: 198.18.0.1 and %u.%u.%u.%u share slot %u\n", b[0], b[1],
	       b[2], b[3], slot);
	syns4(b, 1);
	expect_src("flow_srcs_collider_lowers_score", 4, a, 7, 6);
	syns4(b, 5);
	expect_src("flow_srcs_collider_score_1", 4, a, 7, 1);
	syns4(b, 1);
	expect_src("flow_srcs_collider_score_0_a_kept", 4, a, 7, 0);
	syns4(b, 1);
	expect_src("flow_srcs_collider_takes_slot", 4, b, 1, 1);
	n = srcs_used();
	check_report(n == 1, "flow_srcs_collider_one_slot",
		     "%d used copies, want 1", n);
	expect_read("flow_srcs_read_collider_only", TCPF_SRC_SLOTS,
		    (struct want_src[]){ { 4, b, 1 } }, 1, 1);
	/* and A, back, must win it again from zero: its old count is gone */
	syns4(a, 1);
	expect_src("flow_srcs_a_back_lowers_b", 4, b, 1, 0);
	syns4(a, 1);
	expect_src("flow_srcs_a_retakes_from_one", 4, a, 1, 1);
	do_srcs_reset("flow_srcs_reset_after_collision");
}

/* An IPv6 source whose first 32 bits are an IPv4 source's address. */
static void srcs_family(void)
{
	const __u8 x4[4] = { 198, 18, 9, 9 };
	const __u8 x6[16] = { 198, 18, 9, 9 };   /* c612:909:: */
	char name[INET6_ADDRSTRLEN];
	struct src_count got[4];
	int n;

	check_report(src_slot_of(4, x4) == src_slot_of(6, x6),
		     "flow_srcs_v6_prefix_same_slot", "slots %u and %u",
		     src_slot_of(4, x4), src_slot_of(6, x6));
	syns4(x4, 2);
	expect_src("flow_srcs_family_v4_two", 4, x4, 2, 2);
	src_send(6, x6, IN, SYN, 1, 0);
	expect_src("flow_srcs_family_v6_is_another_source", 4, x4, 2, 1);
	expect_read("flow_srcs_family_read_v4_only", TCPF_SRC_SLOTS,
		    (struct want_src[]){ { 4, x4, 2 } }, 1, 1);
	src_send(6, x6, IN, SYN, 1, 0);
	expect_src("flow_srcs_family_v4_score_0", 4, x4, 2, 0);
	src_send(6, x6, IN, SYN, 1, 0);
	expect_src("flow_srcs_family_v6_takes_slot", 6, x6, 1, 1);
	n = srcs_read(srcs_fd, got, 4);
	check_report(n == 1 && got[0].family == TCPF_IPV6 && got[0].syns == 1 &&
		     !strcmp(src_name(&got[0], name, sizeof(name)), "c612:909::"),
		     "flow_srcs_family_read_v6_name", "%d sources, first %s %llu",
		     n, n > 0 ? src_name(&got[0], name, sizeof(name)) : "-",
		     n > 0 ? (unsigned long long)got[0].syns : 0ULL);
	syns4(x4, 1);
	expect_src("flow_srcs_family_v4_lowers_v6", 6, x6, 1, 0);
	syns4(x4, 1);
	expect_src("flow_srcs_family_v4_retakes", 4, x4, 1, 1);
	do_srcs_reset("flow_srcs_reset_after_family");
}

/* IPv6 sources in one slot that differ in one 32-bit word only. */
static void srcs_words(void)
{
	for (int w = 1; w < 4; w++) {
		__u8 p[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 }, q[16];
		__u32 k, slot;
		char name[64];

		memset(p + 4 * w, 0, 4);
		p[4 * w + 3] = 1;
		slot = src_slot_of(6, p);
		memcpy(q, p, 16);
		for (k = 2; k < (1u << 24); k++) {
			__u32 be = htonl(k);

			memcpy(q + 4 * w, &be, 4);
			if (src_slot_of(6, q) == slot)
				break;
		}
		snprintf(name, sizeof(name), "flow_srcs_v6_word%d_found", w);
		check_report(k < (1u << 24), name, "no collider in word %d", w);
		src_send(6, p, IN, SYN, 2, 0);
		src_send(6, q, IN, SYN, 1, 0);
		snprintf(name, sizeof(name), "flow_srcs_v6_word%d_differs", w);
		expect_src(name, 6, p, 2, 1);
		snprintf(name, sizeof(name), "flow_srcs_reset_after_word%d", w);
		do_srcs_reset(name);
	}
}

/* The score stops at TCPF_SRC_SCORE_MAX: that is all a source banks. */
static void srcs_saturate(void)
{
	const __u8 s[4] = { 198, 19, 50, 5 };
	__u8 b[4];
	__u32 from = 0, slot = src_slot_of(4, s);

	syns4(s, TCPF_SRC_SCORE_MAX + 50);
	expect_src("flow_srcs_score_saturates", 4, s, TCPF_SRC_SCORE_MAX + 50,
		   TCPF_SRC_SCORE_MAX);
	if (!find4_in_slot(slot, &from, b)) {
		check_report(0, "flow_srcs_saturate_collider",
			     "no address of 198.18.0.0/15 in slot %u", slot);
		return;
	}
	syns4(b, TCPF_SRC_SCORE_MAX - 1);
	expect_src("flow_srcs_saturated_max_minus_1_collisions", 4, s,
		   TCPF_SRC_SCORE_MAX + 50, 1);
	syns4(b, 1);
	expect_src("flow_srcs_saturated_max_collisions", 4, s,
		   TCPF_SRC_SCORE_MAX + 50, 0);
	syns4(b, 1);
	expect_src("flow_srcs_saturated_then_taken", 4, b, 1, 1);
	do_srcs_reset("flow_srcs_reset_after_saturate");
}

/*
 * A heavy source and a flood of one-SYN sources all in its slot, two of
 * its SYNs per flood SYN: it keeps the slot and every SYN it sent.
 * 198.18.0.0/15 holds only 28-37 addresses per slot, so the flood goes on
 * with IPv6 sources of 2001:db8::/96 in the same slot.
 */
static void srcs_heavy(void)
{
	enum { ROUNDS = 300 };
	const __u8 h[4] = { 198, 19, 100, 100 };
	__u8 (*flood)[16] = calloc(ROUNDS, 16);
	int *fam = calloc(ROUNDS, sizeof(int)), nf = 0, n4;
	__u32 from = 0, slot = src_slot_of(4, h), sfx;
	__u8 a[4];

	if (!flood || !fam)
		exit(1);
	while (nf < ROUNDS && find4_in_slot(slot, &from, a)) {
		if (!memcmp(a, h, 4))
			continue;
		memcpy(flood[nf], a, 4);
		fam[nf++] = 4;
	}
	n4 = nf;
	for (sfx = 1; nf < ROUNDS && sfx; sfx++) {
		__u8 a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [12] = (__u8)(sfx >> 24),
				(__u8)(sfx >> 16), (__u8)(sfx >> 8), (__u8)sfx };

		if (src_slot_of(6, a6) != slot)
			continue;
		memcpy(flood[nf], a6, 16);
		fam[nf++] = 6;
	}
	printf("# srcs: heavy source's slot %u: %d flood sources from "
	       "198.18.0.0/15, %d from 2001:db8::/96\n", slot, n4, nf - n4);
	check_report(nf == ROUNDS, "flow_srcs_heavy_flood_found",
		     "%d colliding sources, want %d", nf, ROUNDS);
	for (int i = 0; i < nf; i++) {
		syns4(h, 2);
		src_send(fam[i], flood[i], IN, SYN, 1, 0);
	}
	expect_src("flow_srcs_heavy_keeps_slot", 4, h, 2 * (__u64)nf,
		   (__u32)nf);
	expect_read("flow_srcs_heavy_read_only_heavy", TCPF_SRC_SLOTS,
		    (struct want_src[]){ { 4, h, 2 * (__u64)nf } }, 1, 1);
	free(flood);
	free(fam);
	do_srcs_reset("flow_srcs_reset_after_heavy");
}

/*
 * 2000 distinct one-SYN sources over the table, and one that sent 20
 * (one every 100 flood SYNs): srcs_read puts it first with exactly 20;
 * every other slot the flood reached holds one source with one SYN (in a
 * slot of k flood sources, the k-th if k is odd, else the (k-1)-th).
 */
static void srcs_top(void)
{
	enum { NFLOOD = 2000, NTOP = 20 };
	const __u8 t[4] = { 198, 19, 200, 1 };
	static int hits[TCPF_SRC_SLOTS];
	static __u8 occupant[TCPF_SRC_SLOTS][4];
	struct src_count *got = calloc(TCPF_SRC_SLOTS, sizeof(*got));
	__u32 tslot = src_slot_of(4, t);
	int slots = 0, m, bad = 0;
	char why[256] = "";

	memset(hits, 0, sizeof(hits));
	for (int i = 0; i < NFLOOD; i++) {
		__u8 a[4] = { 198, 18, (__u8)(i / 250), (__u8)(i % 250 + 1) };
		__u32 s = src_slot_of(4, a);

		if (i % (NFLOOD / NTOP) == 0)
			syns4(t, 1);
		syns4(a, 1);
		if (!hits[s]++ && s != tslot)
			slots++;
		if (hits[s] % 2)
			memcpy(occupant[s], a, 4);
	}
	printf("# srcs: %d flood sources over %d slots, %d in the top "
	       "source's\n", NFLOOD, slots + !!hits[tslot], hits[tslot]);
	check_report(hits[tslot] < NTOP / 2, "flow_srcs_top_few_in_its_slot",
		     "%d flood sources share its slot", hits[tslot]);
	expect_src("flow_srcs_top_slot", 4, t, NTOP, NTOP - hits[tslot]);
	expect_read("flow_srcs_top_first_of_10", 10,
		    (struct want_src[]){ { 4, t, NTOP } }, 1, 10);
	m = got ? srcs_read(srcs_fd, got, TCPF_SRC_SLOTS) : -1;
	if (m != slots + 1)
		snprintf(why, sizeof(why), "%d sources, want %d", m, slots + 1);
	for (int i = 1; i < m && !why[0]; i++) {
		__u32 s;

		s = src_slot_of(4, got[i].addr);
		if (got[i].family != TCPF_IPV4 || got[i].syns != 1 ||
		    s == tslot || memcmp(got[i].addr, occupant[s], 4))
			bad++;
	}
	if (!why[0] && bad)
		snprintf(why, sizeof(why), "%d of the %d others are not their "
			 "slot's one-SYN occupant", bad, m - 1);
	if (!why[0] && (m < 1 || got[0].syns != NTOP ||
			memcmp(got[0].addr, t, 4)))
		snprintf(why, sizeof(why), "first has %llu SYNs",
			 m > 0 ? (unsigned long long)got[0].syns : 0ULL);
	check_report(!why[0], "flow_srcs_top_all_sources", "%s", why);
	free(got);
	do_srcs_reset("flow_srcs_reset_after_top");
}

/* One source on two CPUs: srcs_read shows it once, its SYNs summed. */
static void srcs_two_cpus(void)
{
	const __u8 a[4] = { 198, 18, 3, 3 }, b[4] = { 198, 18, 4, 4 };
	struct tcpf_src s;
	int first = srcs_cpu, used;

	if (srcs_cpu2 < 0) {
		printf("# srcs: one CPU only, no merge case\n");
		return;
	}
	syns4(a, 3);
	if (pin_cpu(srcs_cpu2)) {
		check_report(0, "flow_srcs_two_cpus_pin", "%s", strerror(errno));
		return;
	}
	syns4(a, 4);
	syns4(b, 6);
	pin_cpu(first);
	used = src_get(src_slot_of(4, a), &s);
	check_report(used == 2 && s.syns == 3, "flow_srcs_two_cpus_two_copies",
		     "used on %d CPUs, %llu SYNs on cpu %d", used,
		     (unsigned long long)s.syns, first);
	/* unmerged, b's 6 would come before a's 4 and 3 */
	expect_read("flow_srcs_two_cpus_merged", TCPF_SRC_SLOTS,
		    (struct want_src[]){ { 4, a, 7 }, { 4, b, 6 } }, 2, 2);
	do_srcs_reset("flow_srcs_reset_two_cpus");
}

static void scenario_srcs(void)
{
	cpu_set_t orig;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	reset();
	srcs_fd = bpf_map__fd(skel->maps.tcpf_srcs);
	if (sched_getaffinity(0, sizeof(orig), &orig)) {
		check_report(0, "flow_srcs_affinity", "%s", strerror(errno));
		return;
	}
	for (int c = 0; c < CPU_SETSIZE && c < ncpus; c++) {
		if (!CPU_ISSET(c, &orig))
			continue;
		if (srcs_cpu < 0)
			srcs_cpu = c;
		else if (srcs_cpu2 < 0)
			srcs_cpu2 = c;
	}
	if (srcs_cpu < 0 || pin_cpu(srcs_cpu)) {
		check_report(0, "flow_srcs_pin", "cannot pin to a CPU");
		return;
	}
	srcs_basic();
	srcs_family();
	srcs_words();
	srcs_saturate();
	srcs_heavy();
	srcs_top();
	srcs_two_cpus();
	check_report(srcs_failed_runs == 0, "flow_srcs_frames_ran",
		     "%d frames failed: %s", srcs_failed_runs, srcs_run_why);
	sched_setaffinity(0, sizeof(orig), &orig);
	reset();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# srcs: %.2f s\n", (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

int main(void)
{

	setvbuf(stdout, NULL, _IOLBF, 0);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		printf("FAIL load: cannot count the CPUs\n");
		return 1;
	}
	skel = skel_open_private();
	if (!skel) {
		printf("FAIL load: cannot open the BPF object\n");
		return 1;
	}
	bpf_map__set_max_entries(skel->maps.tcpf_flows, NBUCKETS);
	bpf_map__set_max_entries(skel->maps.tcpf_syns, NSLOTS);
	skel->rodata->tcpf_buckets_mask = NBUCKETS - 1;
	skel->rodata->tcpf_syns_mask = NSLOTS - 1;
	if (tcpflags_bpf__load(skel)) {
		printf("FAIL load: the verifier rejected the program (%s)\n",
		       strerror(errno));
		return 1;
	}
	xdp_fd = bpf_program__fd(skel->progs.tcpf_xdp);
	egress_fd = bpf_program__fd(skel->progs.tcpf_egress);
	arm_fd = bpf_program__fd(skel->progs.tcpf_reaper_arm);
	flows_fd = bpf_map__fd(skel->maps.tcpf_flows);
	syns_fd = bpf_map__fd(skel->maps.tcpf_syns);
	ctl_fd = bpf_map__fd(skel->maps.tcpf_ctl);
	conns_fd = bpf_map__fd(skel->maps.tcpf_conns);
	phases_fd = bpf_map__fd(skel->maps.tcpf_phases);

	scenario_server("server", 4, 0);
	scenario_close3();
	scenario_active_close();
	scenario_simclose();
	scenario_simclose_mirror();
	scenario_halfclose();
	scenario_client();
	scenario_simopen();
	scenario_retransmit();
	scenario_rst();
	scenario_data_on_ack();
	scenario_out_of_state();
	scenario_server("ipv6", 6, 0);
	scenario_server("vlan", 4, 100);
	scenario_server("ipv6_vlan", 6, 200);
	scenario_flood();
	scenario_slot_evict();
	scenario_bucket_evict();
	scenario_evict_timewait();
	scenario_srcs();
	/* last: the reaper's timer runs until the maps go */
	scenario_reaper();

	tcpflags_bpf__destroy(skel);
	return check_done("test_flow");
}
