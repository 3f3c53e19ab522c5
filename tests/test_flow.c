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
#include <errno.h>
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

int main(void)
{
	struct bpf_map *map;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		printf("FAIL load: cannot count the CPUs\n");
		return 1;
	}
	skel = tcpflags_bpf__open();
	if (!skel) {
		printf("FAIL load: cannot open the BPF object\n");
		return 1;
	}
	/* a private copy of the maps: nothing is pinned by the tests */
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
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
	/* last: the reaper's timer runs until the maps go */
	scenario_reaper();

	tcpflags_bpf__destroy(skel);
	return check_done("test_flow");
}
