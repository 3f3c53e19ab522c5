// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_flow.c - the handshake/teardown state machine (bpf/flow.bpf.h) on
 * crafted segments, run by the harness (tests/harness.h).  Ingress
 * segments go through the XDP program, egress ones through the TC
 * observer: the local host receives the first and sends the second.
 *
 * A scenario is a connection (client, server, which is local, the ISNs x
 * and y) and a script, one line each:
 *
 *   STEP DIR FLAGS SEQ ACK LEN PHASE STATE   a segment: in|eg, flag letters
 *                                  (FSRPAUEC, - for none), SEQ and ACK as
 *                                  x, y, x+N, y+N or a number, LEN payload
 *                                  bytes; it must pass, move exactly PHASE
 *                                  of its direction by one (and nothing
 *                                  else; a phase tcpf_phase_possible()
 *                                  allows for the flags), and leave the
 *                                  local endpoint in STATE
 *   slot STAGE OPENER LOCAL        the half-open slot (empty|syn|syn2|
 *                                  synack; client|server)
 *   entry OPENER CNEXT SNEXT       the flow entry: ISNs, sequence sent
 *   conns NAME=N...                every connection counter, exactly
 *   noslots                        no half-open slot is busy
 *   gone                           the key has no flow entry
 *   set x|y VALUE, rename NAME     the connection takes a new ISN / name
 *   now T, reset, use K            the clock; empty maps; connection K
 *
 * Small tables (64 buckets, 256 slots) and the hash replicated here
 * (flowkey.h) let the tests aim keys at one bucket or slot; the hash's
 * spread is checked on its own (hash_spread_*).
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
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tcpflags.h"
#include "frames.h"
#include "harness.h"
#include "counters.h"
#include "flowkey.h"
#include "maps.h"

#define NBUCKETS 64
#define NSLOTS 256
#define SYN TCPF_SYN
#define ACK TCPF_ACK
#define FIN TCPF_FIN
#define RST TCPF_RST
#define PSH TCPF_PSH

static const __u8 server4[4] = { 198, 19, 0, 2 };
static const __u8 client4[4] = { 198, 19, 0, 1 };
static const __u8 client6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 1, [15] = 1 };
static const __u8 server6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 1, [15] = 2 };

static __u32 key_bucket(const struct tcpf_flow_key *k)
{
	return flowkey_bucket(k, NBUCKETS - 1);
}

static __u32 key_slot(const struct tcpf_flow_key *k)
{
	return flowkey_slot(k, NSLOTS - 1);
}

/* ------------------------------------------------------- connections */

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

/* Recompute the key after the addresses, ports or VLAN changed. */
static void conn_key(struct conn *c)
{
	c->cside = flowkey_make(c->family, c->caddr, c->saddr, c->cport,
				c->sport, c->vlan, &c->key);
}

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
	conn_key(c);
}

/* Whether a segment on dir was sent by the client. */
static int from_client(const struct conn *c, int dir)
{
	return (dir == HX_IN) == !!c->local_server;
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

static void ctl_read(const struct hx *h, struct tcpf_ctl *ctl)
{
	__u32 zero = 0;

	memset(ctl, 0, sizeof(*ctl));
	bpf_map_lookup_elem(h->ctl, &zero, ctl);
}

static void ctl_write(const struct hx *h, const struct tcpf_ctl *ctl)
{
	__u32 zero = 0;

	bpf_map_update_elem(h->ctl, &zero, ctl, BPF_ANY);
}

static void set_now(const struct hx *h, __u32 now)
{
	struct tcpf_ctl ctl;

	ctl_read(h, &ctl);
	ctl.now = now;
	ctl_write(h, &ctl);
}

/* Empty tables, zero counters, now = 1000, every timeout 60 s but 5 days
 * for established connections. */
static void reset(const struct hx *h)
{
	struct tcpf_flow_bucket b;
	struct tcpf_syn s;
	struct tcpf_ctl ctl = { .now = 1000 };

	memset(&b, 0, sizeof(b));
	memset(&s, 0, sizeof(s));
	for (__u32 k = 0; k < NBUCKETS; k++)
		bpf_map_update_elem(h->flows, &k, &b, BPF_ANY);
	for (__u32 k = 0; k < NSLOTS; k++)
		bpf_map_update_elem(h->syns, &k, &s, BPF_ANY);
	map_zero(h->conns);
	map_zero(h->phases);
	for (int i = 0; i < TCPF_ST_MAX; i++)
		ctl.timeout[i] = 60;
	ctl.timeout[TCPF_ST_ESTABLISHED] = 432000;
	ctl_write(h, &ctl);
}

/* What a table holds for a key: the flow table (NBUCKETS buckets of
 * TCPF_FLOW_WAYS ways) or the half-open one (NSLOTS slots of one). */
enum { T_FLOWS, T_SYNS };

struct found {
	int n;                   /* live entries that are the key's */
	int live;                /* live entries in all */
	__u32 at;                /* the bucket or slot of the last of them */
	struct tcpf_flow flow;   /* T_FLOWS: the entry */
	struct tcpf_syn syn;     /* T_SYNS: the slot */
};

/* Scan table t for key k; returns f->n. */
static int key_find(const struct hx *h, int t, const struct tcpf_flow_key *k,
		    struct found *f)
{
	__u32 rows = t == T_SYNS ? NSLOTS : NBUCKETS;
	int fd = t == T_SYNS ? h->syns : h->flows;
	int ways = t == T_SYNS ? 1 : TCPF_FLOW_WAYS;

	memset(f, 0, sizeof(*f));
	for (__u32 i = 0; i < rows; i++) {
		struct tcpf_flow_bucket b;
		struct tcpf_syn s;

		if (bpf_map_lookup_elem(fd, &i, t == T_SYNS ? (void *)&s
							    : (void *)&b))
			continue;
		for (int w = 0; w < ways; w++) {
			const struct tcpf_flow_key *key = t == T_SYNS ? &s.key
							  : &b.way[w].key;

			if (t == T_SYNS ? s.stage == TCPF_HS_EMPTY
					: b.way[w].flow.state == TCPF_ST_NONE)
				continue;
			f->live++;
			if (memcmp(key, k, sizeof(*k)))
				continue;
			f->n++;
			f->at = i;
			if (t == T_SYNS)
				f->syn = s;
			else
				f->flow = b.way[w].flow;
		}
	}
	return f->n;
}

/* The local endpoint's state, as the reaper's gauges count it. */
static int conn_state(const struct hx *h, const struct conn *c)
{
	struct found f;

	if (key_find(h, T_FLOWS, &c->key, &f))
		return f.flow.state;
	if (key_find(h, T_SYNS, &c->key, &f))
		return f.syn.opener == f.syn.local ? TCPF_ST_SYN_SENT
						   : TCPF_ST_SYN_RECV;
	return TCPF_ST_NONE;
}

/* Every connection counter is exactly want (the maps zeroed per scenario). */
static int conns_differ(const struct hx *h, const __u64 *want, char *why,
			size_t n)
{
	__u64 got[TCPF_CONN_MAX];
	size_t used = 0;

	why[0] = '\0';
	if (percpu_u64_read(h->conns, got, TCPF_CONN_MAX))
		return snprintf(why, n, "cannot read tcpf_conns"), 1;
	for (int i = 0; i < TCPF_CONN_MAX; i++)
		if (got[i] != want[i] && used < n)
			used += (size_t)snprintf(why + used, n - used,
				"%s%s %llu, want %llu", used ? "; " : "",
				conn_name(i), (unsigned long long)got[i],
				(unsigned long long)want[i]);
	return used != 0;
}

/* ------------------------------------------------------------ scripts */

/* A script being run: its connections, the current one, the last step. */
struct run {
	struct hx *h;
	struct conn *c;
	int n, cur;
	char step[40];
	char why[1024];
};

/* x, y, x+N, y+N or a number, for the current connection; -1 if bad. */
static int value(const struct run *r, const char *s, __u32 *v)
{
	const struct conn *c = &r->c[r->cur];
	char *end;

	if (*s == 'x' || *s == 'y') {
		*v = *s == 'x' ? c->x : c->y;
		if (!s[1])
			return 0;
		if (s[1] != '+')
			return -1;
		s += 2;
		*v += (__u32)strtoul(s, &end, 0);
	} else {
		*v = (__u32)strtoul(s, &end, 0);
	}
	return *end || end == s ? -1 : 0;
}

static int side(const char *s)
{
	return !strcmp(s, "client") ? 1 : !strcmp(s, "server") ? 0 : -1;
}

/* The check name for what follows the last step: CONN_STEP[SUFFIX]. */
static const char *cname(const struct run *r, const char *suffix,
			 char *buf, size_t n)
{
	snprintf(buf, n, "%s_%s%s", r->c[r->cur].name, r->step, suffix);
	return buf;
}

/* STEP DIR FLAGS SEQ ACK LEN PHASE STATE */
static int do_step(struct run *r, char **w, int nw)
{
	const struct conn *c = &r->c[r->cur];
	struct hx_want want = { .watch = HX_WATCH(HX_PHASES), .nmoves = 1 };
	int flags = hx_flags(w[2]), ph = hx_lookup(w[6], phase_name, TCPF_PH_MAX);
	int st = hx_lookup(w[7], state_name, TCPF_ST_MAX), got;
	__u32 seq, ack, n;
	__u8 buf[FRAME_MAX];
	char name[96];

	if (nw != 8 || flags < 0 || ph < 0 || st < 0 || value(r, w[3], &seq) ||
	    value(r, w[4], &ack) || (strcmp(w[1], "in") && strcmp(w[1], "eg")))
		return -1;
	snprintf(r->step, sizeof(r->step), "%s", w[0]);
	want.dir = !strcmp(w[1], "in") ? HX_IN : HX_EG;
	want.move[0] = (struct hx_move){ HX_PHASES,
					 TCPF_KEY_PHASE(want.dir, ph), 1 };
	/* NOLINTNEXTLINE(cert-err34-c): a word of the suite's own table */
	n = conn_frame(c, want.dir, (__u8)flags, seq, ack, atoi(w[5]), buf);
	cname(r, "", name, sizeof(name));
	if (hx_frame(r->h, &want, buf, n, r->why, sizeof(r->why)))
		return hx_check(r->h, 0, name, "%s", r->why), 0;
	if (!tcpf_phase_possible((__u32)ph, (__u8)flags))
		/* the rule compiler relies on it (include/tcpflags.h) */
		return hx_check(r->h, 0, name, "the tracker gave %s to flags "
				"0x%02x, which tcpf_phase_possible() rules out",
				phase_name((__u32)ph), flags), 0;
	got = conn_state(r->h, c);
	hx_check(r->h, got == st, name, "state %s, want %s", state_name(got),
		 state_name(st));
	return 0;
}

/* slot STAGE [OPENER LOCAL] */
static int do_slot(struct run *r, char **w, int nw)
{
	static const char *const stages[] = { "empty", "syn", "syn2", "synack" };
	static const int stage_of[] = { TCPF_HS_EMPTY, TCPF_HS_SYN, TCPF_HS_SYN2,
					TCPF_HS_SYNACK };
	const struct conn *c = &r->c[r->cur];
	struct found f;
	const struct tcpf_syn *s = &f.syn;
	char name[96];
	int stage = -1, n = key_find(r->h, T_SYNS, &c->key, &f);
	int opener, local;

	for (int i = 0; i < 4; i++)
		if (!strcmp(w[1], stages[i]))
			stage = stage_of[i];
	cname(r, "_slot", name, sizeof(name));
	if (stage == TCPF_HS_EMPTY && nw == 2)
		return hx_check(r->h, n == 0, name, "the slot is still busy "
				"(stage %u)", s->stage), 0;
	if (stage < 0 || nw != 4 || side(w[2]) < 0 || side(w[3]) < 0)
		return -1;
	opener = side(w[2]) ? c->cside : !c->cside;
	local = side(w[3]) ? c->cside : !c->cside;
	if (n != 1)
		hx_check(r->h, 0, name, "%d busy slots hold the key, want 1", n);
	else if (f.at != key_slot(&c->key))
		hx_check(r->h, 0, name, "in slot %u, the replicated hash says %u",
			 f.at, key_slot(&c->key));
	else
		hx_check(r->h, s->stage == stage && s->opener == opener &&
			 s->local == local, name, "stage %u opener %u local %u, "
			 "want %d %d %d", s->stage, s->opener, s->local, stage,
			 opener, local);
	return 0;
}

/* entry OPENER CNEXT SNEXT: who opened, who is local, the ISNs and the
 * sequence each side has sent up to. */
static int do_entry(struct run *r, char **w, int nw)
{
	const struct conn *c = &r->c[r->cur];
	struct found fd;
	const struct tcpf_flow *f = &fd.flow;
	char name[96];
	__u32 cnext, snext;
	int cs = c->cside, ss = !c->cside, opener, local;

	if (nw != 4 || side(w[1]) < 0 || value(r, w[2], &cnext) ||
	    value(r, w[3], &snext))
		return -1;
	opener = side(w[1]) ? cs : ss;
	local = c->local_server ? ss : cs;
	cname(r, "_entry", name, sizeof(name));
	if (key_find(r->h, T_FLOWS, &c->key, &fd) != 1)
		hx_check(r->h, 0, name, "no single entry for the key");
	else if (fd.at != key_bucket(&c->key))
		hx_check(r->h, 0, name, "in bucket %u, the replicated hash says "
			 "%u", fd.at, key_bucket(&c->key));
	else
		hx_check(r->h, f->opener == opener && f->local == local &&
			 f->isn[cs] == c->x && f->isn[ss] == c->y &&
			 f->next[cs] == cnext && f->next[ss] == snext, name,
			 "opener %u local %u isn c=%#x s=%#x next c=%#x s=%#x; "
			 "want opener %d local %d isn c=%#x s=%#x next c=%#x "
			 "s=%#x", f->opener, f->local, f->isn[cs], f->isn[ss],
			 f->next[cs], f->next[ss], opener, local, c->x, c->y,
			 cnext, snext);
	return 0;
}

/* conns NAME=N...: every other counter zero */
static int do_conns(struct run *r, char **w, int nw)
{
	__u64 want[TCPF_CONN_MAX] = { 0 };
	char name[96];

	for (int i = 1; i < nw; i++) {
		char *eq = strchr(w[i], '=');
		int k;

		if (!eq)
			return -1;
		*eq = '\0';
		k = hx_lookup(w[i], conn_name, TCPF_CONN_MAX);
		if (k < 0)
			return -1;
		want[k] = strtoull(eq + 1, NULL, 0);
	}
	hx_check(r->h, !conns_differ(r->h, want, r->why, sizeof(r->why)),
		 cname(r, "_conns", name, sizeof(name)), "%s", r->why);
	return 0;
}

/* noslots, gone */
static int do_empty(struct run *r, char **w, int nw)
{
	const struct conn *c = &r->c[r->cur];
	char name[96];
	struct found f;

	if (nw != 1)
		return -1;
	if (!strcmp(w[0], "gone")) {
		hx_check(r->h, key_find(r->h, T_FLOWS, &c->key, &f) == 0,
			 cname(r, "_entry_removed", name, sizeof(name)),
			 "the key still has an entry");
		return 0;
	}
	key_find(r->h, T_SYNS, &c->key, &f);
	hx_check(r->h, f.live == 0, cname(r, "_no_slot", name, sizeof(name)),
		 "%d half-open slots taken", f.live);
	return 0;
}

/* set x|y VALUE, rename NAME, now T, reset, use K */
static int do_set(struct run *r, char **w, int nw)
{
	struct conn *c = &r->c[r->cur];
	__u32 v = 0;

	if (!strcmp(w[0], "reset") && nw == 1)
		return reset(r->h), 0;
	if (nw != 2 && !(nw == 3 && !strcmp(w[0], "set")))
		return -1;
	if (!strcmp(w[0], "rename"))
		return snprintf(c->name, sizeof(c->name), "%s", w[1]), 0;
	if (!strcmp(w[0], "use")) {
		/* NOLINTNEXTLINE(cert-err34-c): the suite's own table */
		r->cur = atoi(w[1]);
		return r->cur >= 0 && r->cur < r->n ? 0 : -1;
	}
	if (value(r, w[nw - 1], &v))
		return -1;
	if (!strcmp(w[0], "now"))
		return set_now(r->h, v), 0;
	if (!strcmp(w[0], "set") && !strcmp(w[1], "x"))
		return c->x = v, 0;
	if (!strcmp(w[0], "set") && !strcmp(w[1], "y"))
		return c->y = v, 0;
	return -1;
}

static const struct {
	const char *word;
	int (*run)(struct run *r, char **w, int nw);
} commands[] = {
	{ "slot", do_slot }, { "entry", do_entry }, { "conns", do_conns },
	{ "noslots", do_empty }, { "gone", do_empty }, { "set", do_set },
	{ "rename", do_set }, { "now", do_set }, { "reset", do_set },
	{ "use", do_set },
};

/* One line of a script: a command of the table above, or a segment. */
static int script_line(void *arg, char *line, int lineno)
{
	struct run *r = arg;
	char copy[LINE_MAX_LEN], *w[12];
	int nw;
	size_t i;

	memcpy(copy, line, sizeof(copy));
	nw = line_words(line, w, 12);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(w[0], commands[i].word))
			break;
	if (i < sizeof(commands) / sizeof(commands[0])
	    ? commands[i].run(r, w, nw) : do_step(r, w, nw)) {
		hx_check(r->h, 0, r->c[0].name, "script line %d does not read: "
			 "'%s'", lineno, copy);
		return 1;
	}
	return 0;
}

/* Run script over connections c[0..n); a line it cannot read is a FAIL. */
static void run_script(struct hx *h, struct conn *c, int n, const char *script)
{
	struct run r = { .h = h, .c = c, .n = n, .step = "start" };

	if (lines_each(script, script_line, &r) < 0)
		hx_check(h, 0, c[0].name, "a script line is too long");
}

/* ---------------------------------------------------------- scenarios */

/* The handshake with this host as the server: SYN in, SYN-ACK out, ACK in. */
#define HANDSHAKE \
	"syn               in S    x        0        0    handshake_syn     syn_recv\n" \
	"synack            eg SA   y        x+1      0    handshake_synack  syn_recv\n" \
	"ack               in A    x+1      y+1      0    handshake_ack     established\n"

/* 1 and 11: server host, a normal life, the client closing first. */
static const char server_life[] =
	"syn               in S    x        0        0    handshake_syn     syn_recv\n"
	"slot syn client server\n"
	"synack            eg SA   y        x+1      0    handshake_synack  syn_recv\n"
	"slot synack client server\n"
	"conns\n"
	"ack               in A    x+1      y+1      0    handshake_ack     established\n"
	"slot empty\n"
	"entry client x+1 y+1\n"
	"conns opened=1\n"
	"data              in PA   x+1      y+1      100  established       established\n"
	"data_ack          eg A    y+1      x+101    0    established       established\n"
	"data_again        in PA   x+1      y+1      100  retransmit        established\n"
	"reply             eg PA   y+1      x+101    300  established       established\n"
	"reply_ack         in A    x+101    y+301    0    established       established\n"
	"fin1              in FA   x+101    y+301    0    teardown_fin1     close_wait\n"
	"ack1              eg A    y+301    x+102    0    teardown_ack1     close_wait\n"
	"fin2              eg FA   y+301    x+102    0    teardown_fin2     last_ack\n"
	"conns opened=1\n"
	"ack2              in A    x+102    y+302    0    teardown_ack2     none\n"
	"conns opened=1 closed=1\n";

/* 2: the teardown in three segments, the server's FIN acking the client's. */
static const char close3[] = HANDSHAKE
	"fin1              in FA   x+1      y+1      0    teardown_fin1     close_wait\n"
	"fin2              eg FA   y+1      x+2      0    teardown_fin2     last_ack\n"
	"ack2              in A    x+2      y+2      0    teardown_ack2     none\n"
	"conns opened=1 closed=1\n";

/* 3 and 12: the server closes first, then the 4-tuple is reused. */
static const char active_close[] = HANDSHAKE
	"fin1              eg FA   y+1      x+1      0    teardown_fin1     fin_wait1\n"
	"ack1              in A    x+1      y+2      0    teardown_ack1     fin_wait2\n"
	"fin2              in FA   x+1      y+2      0    teardown_fin2     time_wait\n"
	"conns opened=1 closed=1\n"
	"ack2              eg A    y+2      x+2      0    teardown_ack2     time_wait\n"
	"# the final ACK was lost: the peer's FIN again\n"
	"fin2_again        in FA   x+1      y+2      0    retransmit        time_wait\n"
	"ack2_again        eg A    y+2      x+2      0    established       time_wait\n"
	"conns opened=1 closed=1\n"
	"# 12: a new SYN on the 4-tuple in TIME_WAIT\n"
	"rename timewait_reuse\n"
	"set x 2100000000\n"
	"syn               in S    x        0        0    handshake_syn     syn_recv\n"
	"gone\n"
	"slot syn client server\n"
	"synack            eg SA   y+7      x+1      0    handshake_synack  syn_recv\n"
	"set y y+7\n"
	"ack               in A    x+1      y+1      0    handshake_ack     established\n"
	"entry client x+1 y+1\n"
	"conns opened=2 closed=1\n";

/* 4: simultaneous close, the local FIN first on the wire. */
static const char simclose[] = HANDSHAKE
	"fin1              eg FA   y+1      x+1      0    teardown_fin1     fin_wait1\n"
	"fin2              in FA   x+1      y+1      0    teardown_fin2     closing\n"
	"conns opened=1\n"
	"# the ACK of the peer's FIN (the second) leaves local in CLOSING\n"
	"ack_peer_fin      eg A    y+2      x+2      0    teardown_ack2     closing\n"
	"# the ACK of the local FIN (the first)\n"
	"ack_local_fin     in A    x+2      y+2      0    teardown_ack1     time_wait\n"
	"conns opened=1 closed=1\n";

/* CLOSING, and the peer's FIN again, now acking the local one */
static const char simclose_refin[] = HANDSHAKE
	"fin1              eg FA   y+1      x+1      0    teardown_fin1     fin_wait1\n"
	"fin2              in FA   x+1      y+1      0    teardown_fin2     closing\n"
	"fin2_again_acking in FA   x+1      y+2      0    retransmit        time_wait\n"
	"conns opened=1 closed=1\n"
	"ack2              eg A    y+2      x+2      0    teardown_ack2     time_wait\n";

/*
 * 4b: simultaneous close seen the other way round: the peer's FIN arrives
 * first, then the local FIN leaves without acking it (the stack sent it
 * before it read the peer's): local went FIN_WAIT1 -> CLOSING, not
 * CLOSE_WAIT -> LAST_ACK.
 */
static const char simclose_mirror[] = HANDSHAKE
	"fin1              in FA   x+1      y+1      0    teardown_fin1     close_wait\n"
	"fin2              eg FA   y+1      x+1      0    teardown_fin2     closing\n"
	"ack_local_fin     in A    x+2      y+2      0    teardown_ack2     time_wait\n"
	"conns opened=1 closed=1\n"
	"ack_peer_fin      eg A    y+2      x+2      0    teardown_ack1     time_wait\n";

/* Half-close: the client's FIN carries data, the server goes on sending. */
static const char halfclose[] = HANDSHAKE
	"fin1_data         in FPA  x+1      y+1      100  teardown_fin1     close_wait\n"
	"# acks the data, not the FIN\n"
	"ack_data_only     eg A    y+1      x+101    0    established       close_wait\n"
	"ack1              eg A    y+1      x+102    0    teardown_ack1     close_wait\n"
	"server_data       eg PA   y+1      x+102    500  established       close_wait\n"
	"client_ack        in A    x+102    y+501    0    established       close_wait\n"
	"server_data_again eg PA   y+1      x+102    500  retransmit        close_wait\n"
	"fin2              eg FA   y+501    x+102    0    teardown_fin2     last_ack\n"
	"ack2              in A    x+102    y+502    0    teardown_ack2     none\n"
	"conns opened=1 closed=1\n";

/* 5: client host: it opens, then closes first. */
static const char client[] =
	"syn               eg S    x        0        0    handshake_syn     syn_sent\n"
	"slot syn client client\n"
	"synack            in SA   y        x+1      0    handshake_synack  syn_sent\n"
	"slot synack client client\n"
	"ack               eg A    x+1      y+1      0    handshake_ack     established\n"
	"entry client x+1 y+1\n"
	"conns opened=1\n"
	"request           eg PA   x+1      y+1      200  established       established\n"
	"response          in PA   y+1      x+201    900  established       established\n"
	"response_again    in PA   y+1      x+201    900  retransmit        established\n"
	"response_ack      eg A    x+201    y+901    0    established       established\n"
	"fin1              eg FA   x+201    y+901    0    teardown_fin1     fin_wait1\n"
	"# the server's FIN acks the client's: straight to TIME_WAIT\n"
	"fin2              in FA   y+901    x+202    0    teardown_fin2     time_wait\n"
	"ack2              eg A    x+202    y+902    0    teardown_ack2     time_wait\n"
	"conns opened=1 closed=1\n";

/* 6: simultaneous open: both SYNs, then both SYN-ACKs. */
static const char simopen[] =
	"syn_local         eg S    x        0        0    handshake_syn     syn_sent\n"
	"syn_peer          in S    y        0        0    handshake_syn     syn_sent\n"
	"slot syn2 client client\n"
	"syn_peer_again    in S    y        0        0    retransmit        syn_sent\n"
	"synack_local      eg SA   x        y+1      0    handshake_synack  syn_sent\n"
	"conns\n"
	"synack_local_again eg SA  x        y+1      0    retransmit        syn_sent\n"
	"synack_peer       in SA   y        x+1      0    handshake_synack  established\n"
	"slot empty\n"
	"conns opened=1\n"
	"# each SYN took one sequence number: both sides have sent isn + 1\n"
	"entry client x+1 y+1\n"
	"synack_peer_again in SA   y        x+1      0    retransmit        established\n"
	"data_local        eg PA   x+1      y+1      10   established       established\n"
	"data_peer         in PA   y+1      x+11     10   established       established\n"
	"conns opened=1\n";

/* 7: retransmitted SYN, SYN-ACK and FINs, and a new SYN attempt. */
static const char retransmit[] =
	"syn_first_attempt in S    600000   0        0    handshake_syn     syn_recv\n"
	"# the client gave up on that ISN and tries again with another\n"
	"syn               in S    x        0        0    handshake_syn     syn_recv\n"
	"syn_again         in S    x        0        0    retransmit        syn_recv\n"
	"slot syn client server\n"
	"synack            eg SA   y        x+1      0    handshake_synack  syn_recv\n"
	"synack_again      eg SA   y        x+1      0    retransmit        syn_recv\n"
	"syn_after_synack  in S    x        0        0    retransmit        syn_recv\n"
	"slot synack client server\n"
	"ack               in A    x+1      y+1      0    handshake_ack     established\n"
	"entry client x+1 y+1\n"
	"synack_after_ack  eg SA   y        x+1      0    retransmit        established\n"
	"syn_after_ack     in S    x        0        0    retransmit        established\n"
	"data              in PA   x+1      y+1      500  established       established\n"
	"# the first half again: ends below what was sent\n"
	"data_part_again   in PA   x+1      y+1      250  retransmit        established\n"
	"fin1              in FA   x+501    y+1      0    teardown_fin1     close_wait\n"
	"fin1_again        in FA   x+501    y+1      0    retransmit        close_wait\n"
	"fin2              eg FA   y+1      x+502    0    teardown_fin2     last_ack\n"
	"fin2_again        eg FA   y+1      x+502    0    retransmit        last_ack\n"
	"ack2              in A    x+502    y+2      0    teardown_ack2     none\n"
	"conns opened=1 closed=1\n";

/* 8: RST of a connection, and RST|ACK answering a SYN (port closed). */
static const char rst[] = HANDSHAKE
	"data              in PA   x+1      y+1      64   established       established\n"
	"rst               in R    x+65     0        0    reset             none\n"
	"conns opened=1 reset=1\n";

static const char refused[] =
	"syn               in S    x        0        0    handshake_syn     syn_recv\n"
	"rstack            eg RA   0        x+1      0    reset             none\n"
	"slot empty\n"
	"conns refused=1\n"
	"syn_again_new_attempt in S x       0        0    handshake_syn     syn_recv\n";

/* 9: data on the handshake ACK, across the sequence wrap. */
static const char data_on_ack[] =
	"syn               in S    x        0        0    handshake_syn     syn_recv\n"
	"synack            eg SA   y        x+1      0    handshake_synack  syn_recv\n"
	"ack_data          in PA   x+1      y+1      100  handshake_ack     established\n"
	"entry client x+101 y+1\n"
	"conns opened=1\n"
	"next_data         in PA   x+101    y+1      100  established       established\n"
	"ack_data_again    in PA   x+1      y+1      100  retransmit        established\n"
	"ack               eg A    y+1      x+201    0    established       established\n";

/* 10: segments that fit no tracked connection, or break one. */
static const char out_of_state[] =
	"ack_unknown       in A    x+1      y+1      0    out_of_state      none\n"
	"data_unknown      in PA   x+1      y+1      100  out_of_state      none\n"
	"fin_unknown       in FA   x+1      y+1      0    out_of_state      none\n"
	"rst_unknown       in R    x+1      0        0    out_of_state      none\n"
	"synack_unknown    eg SA   y        x+1      0    out_of_state      none\n"
	"synfin_unknown    in FS   x        0        0    out_of_state      none\n"
	"noslots\n"
	"syn               in S    x        0        0    handshake_syn     syn_recv\n"
	"synack_wrong_ack  eg SA   y        x+5      0    out_of_state      syn_recv\n"
	"slot syn client server\n"
	"ack_before_synack in A    x+1      y+1      0    out_of_state      syn_recv\n"
	"synack            eg SA   y        x+1      0    handshake_synack  syn_recv\n"
	"ack_wrong_ack     in A    x+1      y+2      0    out_of_state      syn_recv\n"
	"slot synack client server\n"
	"ack_from_server   eg A    y+1      x+1      0    out_of_state      syn_recv\n"
	"synack_other_isn  eg SA   y+99     x+1      0    out_of_state      syn_recv\n"
	"ack               in A    x+1      y+1      0    handshake_ack     established\n"
	"entry client x+1 y+1\n"
	"syn_new_isn_established in S x+12345 0      0    out_of_state      established\n"
	"local_fin         eg FA   y+1      x+1      0    teardown_fin1     fin_wait1\n"
	"fin_other_seq     eg FA   y+50     x+1      0    out_of_state      fin_wait1\n"
	"rst               in R    x+1      0        0    reset             none\n"
	"data_after_rst    in PA   x+1      y+2      10   out_of_state      none\n"
	"ack_after_rst     eg A    y+2      x+11     0    out_of_state      none\n"
	"fin_after_rst     in FA   x+11     y+2      0    out_of_state      none\n"
	"rst_after_rst     in R    x+11     0        0    out_of_state      none\n"
	"conns opened=1 reset=1\n";

/* after an orderly close, too */
static const char oos_after_close[] = HANDSHAKE
	"fin1              in FA   x+1      y+1      0    teardown_fin1     close_wait\n"
	"fin2              eg FA   y+1      x+2      0    teardown_fin2     last_ack\n"
	"ack2              in A    x+2      y+2      0    teardown_ack2     none\n"
	"ack2_again        in A    x+2      y+2      0    out_of_state      none\n"
	"fin2_again        eg FA   y+1      x+2      0    out_of_state      none\n"
	"conns opened=1 closed=1\n";

/* One connection from a clean table: its address family, client port,
 * whether this host is the server, the ISNs, the VLAN, the script. */
static const struct scenario {
	const char *name;
	int family;
	__u16 cport;
	int local_server;
	__u32 x, y;
	__u16 vlan;
	const char *script;
} scenarios[] = {
	{ "server", 4, 40001, 1, 1000000000u, 3000000000u, 0, server_life },
	{ "close3", 4, 40002, 1, 123456789u, 987654321u, 0, close3 },
	{ "active_close", 4, 40003, 1, 2000000000u, 4000000000u, 0, active_close },
	{ "simclose", 4, 40004, 1, 55555u, 77777u, 0, simclose },
	{ "simclose_refin", 4, 40015, 1, 55555u, 77777u, 0, simclose_refin },
	{ "simclose_mirror", 4, 40005, 1, 66666u, 88888u, 0, simclose_mirror },
	{ "halfclose", 4, 40016, 1, 1234u, 5678u, 0, halfclose },
	{ "client", 4, 40006, 0, 3500000000u, 17u, 0, client },
	{ "simopen", 4, 40007, 0, 424242u, 1313131u, 0, simopen },
	{ "retransmit", 4, 40008, 1, 700000u, 900000u, 0, retransmit },
	{ "rst", 4, 40009, 1, 31337u, 271828u, 0, rst },
	{ "refused", 4, 40010, 1, 31337u, 271828u, 0, refused },
	{ "data_on_ack", 4, 40011, 1, 0xffffffc0u, 0x7fffffffu, 0, data_on_ack },
	{ "oos", 4, 40012, 1, 111111u, 222222u, 0, out_of_state },
	{ "oos_after_close", 4, 40013, 1, 111111u, 222222u, 0, oos_after_close },
	{ "ipv6", 6, 40001, 1, 1000000000u, 3000000000u, 0, server_life },
	{ "vlan", 4, 40001, 1, 1000000000u, 3000000000u, 100, server_life },
	{ "ipv6_vlan", 6, 40001, 1, 1000000000u, 3000000000u, 200, server_life },
};

/* A tagged connection is keyed with its VLAN; the same 4-tuple untagged
 * is another flow. */
static void scenario_vlan_keyed(struct hx *h, const struct scenario *s)
{
	struct conn c[2];
	struct found f;
	char name[64];

	conn_init(&c[0], s->name, s->family, s->cport, 1, s->x, s->y);
	c[0].vlan = s->vlan;
	conn_key(&c[0]);
	c[1] = c[0];
	c[1].vlan = 0;
	conn_key(&c[1]);
	snprintf(c[1].name, sizeof(c[1].name), "%s_untagged", s->name);
	reset(h);
	run_script(h, c, 2, HANDSHAKE);
	snprintf(name, sizeof(name), "%s_ack_key_vlan", s->name);
	hx_check(h, c[0].key.vlan == s->vlan &&
		 key_find(h, T_FLOWS, &c[0].key, &f) == 1, name,
		 "no entry keyed with VLAN %u", s->vlan);
	run_script(h, c, 2, "use 1\n"
		"ack_other_flow    in A    x+1      y+1      0    out_of_state      none\n"
		"use 0\n"
		"tagged_still_tracked in PA x+1     y+1      10   established       established\n");
}

static void run_scenarios(struct hx *h)
{
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		struct conn c;

		conn_init(&c, s->name, s->family, s->cport, s->local_server,
			  s->x, s->y);
		c.vlan = s->vlan;
		conn_key(&c);
		reset(h);
		run_script(h, &c, 1, s->script);
		if (s->vlan)
			scenario_vlan_keyed(h, s);
	}
}

/* ------------------------------------------------------- hash spread */

/*
 * The scenarios aim keys at one bucket or slot with the hash itself
 * (flowkey.h), so they would pass with a hash that sends every key to a
 * handful of places.  Here the placement is held against what a random
 * function does, over key sets of the shapes real traffic and floods
 * have: for n keys into m places, the chi-square statistic within six
 * standard deviations of its mean (m - 1, variance 2(m - 1)), and the
 * fullest place below the count a random placement exceeds with
 * probability 1e-6.  The sets are fixed, so the verdict is too.
 */

/* sqrt without libm (Newton's method; x >= 0) */
static double spread_sqrt(double x)
{
	double r = x > 1 ? x : 1;

	for (int i = 0; i < 64; i++)
		r = (r + x / r) / 2;
	return r;
}

/* ln(m * 1e6) for a power of two m: ln 2 per bit, and ln(1e6) */
static double spread_ln(__u32 m)
{
	int bits = 0;

	while (m > 1) {
		m >>= 1;
		bits++;
	}
	return bits * 0.6931471805599453 + 13.815510557964274;
}

/*
 * Bernstein's bound for a sum of independent (or negatively associated)
 * 0/1 variables of mean mu: P(X >= mu + d) <= exp(-d^2 / (2 (mu + d / 3))),
 * solved for the d that makes it exp(-l).
 */
static double spread_tail(double mu, double l)
{
	return mu + l / 3 + spread_sqrt(l * l / 9 + 2 * l * mu);
}

/* The most places n keys leave empty of m, but with probability 1e-6. */
static int spread_empty_bound(int m, int n)
{
	double e = m;

	for (int i = 0; i < n; i++)
		e *= 1 - 1.0 / m;
	return (int)spread_tail(e, spread_ln(1));
}

/* Check the counts cnt[0..m) of n keys: "PREFIX_chi2", "PREFIX_max". */
static void spread_check(struct hx *h, const char *prefix, const __u32 *cnt,
			 __u32 m, __u32 n)
{
	double mu = (double)n / m, chi2 = 0, chi2_max, max_bound;
	__u32 max = 0, at = 0;
	char name[96];

	for (__u32 i = 0; i < m; i++) {
		double d = cnt[i] - mu;

		chi2 += d * d / mu;
		if (cnt[i] > max) {
			max = cnt[i];
			at = i;
		}
	}
	chi2_max = (m - 1) + 6 * spread_sqrt(2.0 * (m - 1));
	max_bound = spread_tail(mu, spread_ln(m));
	snprintf(name, sizeof(name), "%s_chi2", prefix);
	hx_check(h, chi2 <= chi2_max, name, "%u keys into %u places: "
		 "chi-square %.1f, over %.1f (mean %u + 6 sd)", n, m, chi2,
		 chi2_max, m - 1);
	snprintf(name, sizeof(name), "%s_max", prefix);
	hx_check(h, max <= max_bound, name, "%u keys into %u places "
		 "(%.1f each): %u in place %u, over %.1f", n, m, mu, max, at,
		 max_bound);
}

/* splitmix64: the i-th pseudo-random word of a fixed sequence */
static __u64 spread_rand(__u64 i)
{
	__u64 z = (i + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The key sets: the i-th key of each. */
static void ks_ports(__u32 i, struct tcpf_flow_key *k)
{
	/* one client, every ephemeral port, to one server port */
	flowkey_make(4, client4, server4, (__u16)(1024 + i), 80, 0, k);
}

static void ks_src4(__u32 i, struct tcpf_flow_key *k)
{
	/* every source of 198.18.0.0/15, one source port */
	__u8 a[4] = { 198, (__u8)(18 + (i >> 16)), (__u8)(i >> 8), (__u8)i };

	flowkey_make(4, a, server4, 40000, 80, 0, k);
}

static void ks_src6(__u32 i, struct tcpf_flow_key *k)
{
	/* 256 hosts in each of 256 /64s of 2001:2::/48, one source port:
	 * the last byte of each half of the address varies */
	__u8 a[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, (__u8)(i >> 8),
		       [15] = (__u8)i };

	flowkey_make(6, a, server6, 40000, 80, 0, k);
}

static void ks_iid6(__u32 i, struct tcpf_flow_key *k)
{
	/* random interface ids in one /64, one source port */
	__u8 a[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 1 };
	__u64 r = spread_rand(i);

	memcpy(a + 8, &r, 8);
	flowkey_make(6, a, server6, 40000, 80, 0, k);
}

static void ks_vlan(__u32 i, struct tcpf_flow_key *k)
{
	/* one 4-tuple on every VLAN */
	flowkey_make(4, client4, server4, 40000, 80, (__u16)(1 + i), k);
}

static void ks_random(__u32 i, struct tcpf_flow_key *k)
{
	/* random IPv4 addresses and ports */
	__u64 r = spread_rand(2 * (__u64)i), q = spread_rand(2 * (__u64)i + 1);
	__u8 a[4], b[4];

	memcpy(a, &r, 4);
	memcpy(b, (__u8 *)&r + 4, 4);
	flowkey_make(4, a, b, (__u16)q, (__u16)(q >> 16), 0, k);
}

/* The SYN sources' slots (tcpf_src_slot()), the same way. */
static void spread_srcs(struct hx *h)
{
	static __u32 cnt[TCPF_SRC_SLOTS];
	static const char *const names[] = { "src4", "src6", "iid6", "random" };
	static const __u32 n[] = { 1u << 17, 1u << 16, 1u << 16, 1u << 20 };
	char name[64];

	for (int s = 0; s < 4; s++) {
		memset(cnt, 0, sizeof(cnt));
		for (__u32 i = 0; i < n[s]; i++) {
			__u32 w[4] = { 0 };
			__u8 *a = (__u8 *)w;
			__u64 r = spread_rand(i);

			if (s == 0) {
				a[0] = 198;
				a[1] = (__u8)(18 + (i >> 16));
				a[2] = (__u8)(i >> 8);
				a[3] = (__u8)i;
			} else if (s == 3) {
				memcpy(a, &r, 4);
			} else {
				a[0] = 0x20;
				a[1] = 0x01;
				a[3] = 2;
				a[7] = s == 1 ? (__u8)(i >> 8) : 1;
				if (s == 1)
					a[15] = (__u8)i;
				else
					memcpy(a + 8, &r, 8);
			}
			cnt[tcpf_src_slot(w)]++;
		}
		snprintf(name, sizeof(name), "hash_spread_sources_%s", names[s]);
		spread_check(h, name, cnt, TCPF_SRC_SLOTS, n[s]);
	}
}

/*
 * The hash's values for three keys, as this build computes them.  Not an
 * expectation of what a good hash gives (the spread checks are): a change
 * detector.  A pinned flow table keeps its entries where the hash of the
 * build that wrote them put them, and an upgrade (user/migrate.c) moves
 * them where this build's hash looks for them when the hash's version
 * (TCPF_HASH_VERSION) differs: change the hash, bump the version, then
 * update these values.
 */
static void hash_unchanged(struct hx *h)
{
	struct tcpf_flow_key k[3];
	const __u32 want[3] = { 0xeabcd24e, 0x6570db58, 0xf88fc439 };
	__u32 got[3];

	flowkey_make(4, client4, server4, 40000, 80, 0, &k[0]);
	flowkey_make(6, client6, server6, 40000, 443, 0, &k[1]);
	flowkey_make(4, client4, server4, 40000, 80, 100, &k[2]);
	for (int i = 0; i < 3; i++)
		got[i] = tcpf_flow_hash(&k[i]);
	hx_check(h, !memcmp(got, want, sizeof(got)), "hash_unchanged",
		 "%#x %#x %#x, was %#x %#x %#x: the flow hash changed: bump "
		 "TCPF_HASH_VERSION, so an upgrade re-places what older "
		 "builds' pinned tables hold",
		 got[0], got[1], got[2], want[0], want[1], want[2]);
}

static void scenario_hash(struct hx *h)
{
	static const struct {
		const char *name;
		__u32 n;
		void (*key)(__u32 i, struct tcpf_flow_key *k);
	} sets[] = {
		{ "ports", 65536 - 1024, ks_ports },
		{ "src4", 1u << 17, ks_src4 },
		{ "src6", 1u << 16, ks_src6 },
		{ "iid6", 1u << 16, ks_iid6 },
		{ "vlan", 4094, ks_vlan },
		{ "random", 1u << 20, ks_random },
	};
	/* the tables of this suite, and of a default attach */
	static const struct {
		const char *name;
		__u32 m;
		int slot;
	} tables[] = {
		{ "buckets64", NBUCKETS, 0 },
		{ "buckets_default", TCPF_FLOWS_DEFAULT / TCPF_FLOW_WAYS, 0 },
		{ "slots256", NSLOTS, 1 },
		{ "slots_default", TCPF_SYNS_DEFAULT, 1 },
	};
	enum { NT = sizeof(tables) / sizeof(tables[0]) };
	__u32 *cnt[NT];
	char name[96];

	for (int t = 0; t < NT; t++) {
		cnt[t] = calloc(tables[t].m, sizeof(__u32));
		if (!cnt[t]) {
			hx_check(h, 0, "hash_spread_alloc", "out of memory");
			while (t--)
				free(cnt[t]);
			return;
		}
	}
	for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		for (int t = 0; t < NT; t++)
			memset(cnt[t], 0, tables[t].m * sizeof(__u32));
		for (__u32 i = 0; i < sets[s].n; i++) {
			struct tcpf_flow_key k;

			sets[s].key(i, &k);
			for (int t = 0; t < NT; t++)
				cnt[t][tables[t].slot ?
				       flowkey_slot(&k, tables[t].m - 1) :
				       flowkey_bucket(&k, tables[t].m - 1)]++;
		}
		for (int t = 0; t < NT; t++) {
			/* far fewer keys than places says little */
			if (2 * sets[s].n < tables[t].m)
				continue;
			snprintf(name, sizeof(name), "hash_spread_%s_%s",
				 sets[s].name, tables[t].name);
			spread_check(h, name, cnt[t], tables[t].m, sets[s].n);
		}
	}
	for (int t = 0; t < NT; t++)
		free(cnt[t]);
	spread_srcs(h);
	hash_unchanged(h);
}

/* 14: a spoofed SYN flood next to one established connection. */
static void scenario_flood(struct hx *h)
{
	enum { NSYN = 1000 };
	static struct hx_counts ph0, ph1, w;
	struct conn c, s;
	struct found fb, fa;
	const struct tcpf_flow *before = &fb.flow, *after = &fa.flow;
	__u8 buf[FRAME_MAX], src[4] = { 198, 18, 0, 0 };
	__u64 want[TCPF_CONN_MAX] = { [TCPF_CONN_OPENED] = 1 };
	__u64 got[TCPF_CONN_MAX];
	int taken[NSLOTS] = { 0 }, distinct = 0, ok = 1, empty_max;
	char why[512] = "";

	reset(h);
	conn_init(&c, "flood", 4, 40014, 1, 5000u, 6000u);
	run_script(h, &c, 1, HANDSHAKE);
	key_find(h, T_FLOWS, &c.key, &fb);

	hx_snap(h, HX_WATCH(HX_PHASES), &ph0);
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
			want[TCPF_CONN_HALF_OPEN_EVICTED]++;
		else
			distinct++;
		taken[key_slot(&s.key)] = 1;
		n = conn_frame(&s, HX_IN, SYN, s.x, 0, 0, buf);
		if (hx_run_pass(h, HX_IN, buf, n, why, sizeof(why)))
			ok = 0;
	}
	printf("# flood: %d SYNs took %d slots, %llu displaced a live one\n",
	       NSYN, distinct,
	       (unsigned long long)want[TCPF_CONN_HALF_OPEN_EVICTED]);
	hx_check(h, ok, "flood_syns_run", "%s", why);
	hx_snap(h, HX_WATCH(HX_PHASES), &ph1);
	memset(&w, 0, sizeof(w));
	w.c[HX_PHASES][TCPF_KEY_PHASE(HX_IN, TCPF_PH_SYN)].packets = NSYN;
	hx_check(h, !hx_moved(&ph0, &ph1, &w, HX_WATCH(HX_PHASES), why,
			      sizeof(why)), "flood_syns_phase", "%s", why);
	hx_check(h, !conns_differ(h, want, why, sizeof(why)),
		 "flood_syns_conns", "%s", why);

	key_find(h, T_FLOWS, &c.key, &fa);
	hx_check(h, fa.live == 1, "flood_table_one_connection",
		 "%d live entries, want 1", fa.live);
	hx_check(h, after->state == TCPF_ST_ESTABLISHED &&
		 after->created == before->created &&
		 after->isn[0] == before->isn[0] &&
		 after->isn[1] == before->isn[1], "flood_established_intact",
		 "state %s created %u, want established %u",
		 state_name(after->state), after->created, before->created);
	key_find(h, T_SYNS, &c.key, &fa);
	hx_check(h, fa.live == distinct, "flood_slots_taken",
		 "%d busy slots, want %d", fa.live, distinct);
	/* the program's own books, without the replicated hash: every SYN
	 * took an empty slot or displaced a live one */
	if (percpu_u64_read(h->conns, got, TCPF_CONN_MAX))
		memset(got, 0xff, sizeof(got));
	hx_check(h, (__u64)fa.live + got[TCPF_CONN_HALF_OPEN_EVICTED] == NSYN,
		 "flood_evicted_plus_taken", "%d busy slots + %llu counted "
		 "half_open_evicted != %d SYNs", fa.live,
		 (unsigned long long)got[TCPF_CONN_HALF_OPEN_EVICTED], NSYN);
	/* and where the program put them: as many places as a random
	 * function would have filled, not a few the hash prefers */
	empty_max = spread_empty_bound(NSLOTS, NSYN);
	hx_check(h, NSLOTS - fa.live <= empty_max, "flood_slots_spread",
		 "%d SYNs left %d of %d slots empty; a random placement "
		 "leaves more than %d with probability < 1e-6", NSYN,
		 NSLOTS - fa.live, NSLOTS, empty_max);
	run_script(h, &c, 1,
		"after_data        in PA   5001     6001     100  established       established\n");
	hx_check(h, !conns_differ(h, want, why, sizeof(why)),
		 "flood_after_conns", "%s", why);
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
		if (found == 0)
			target = slot ? key_slot(&c[0].key)
				      : key_bucket(&c[0].key);
		if ((slot ? key_slot(&c[found].key)
			  : key_bucket(&c[found].key)) == target)
			found++;
	}
	return found;
}

/* Connections sharing a bucket or a slot, and a script over them. */
static const struct mates {
	const char *prefix;
	__u16 base;
	int slot, n;
	const char *script;
} mates[] = {
	/* 15: five connections in one 4-way bucket: the least recently
	 * seen goes */
	{ "evict", 41000, 0, 5,
	  "use 0\nnow 1000\n" HANDSHAKE "use 1\nnow 1001\n" HANDSHAKE
	  "use 2\nnow 1002\n" HANDSHAKE "use 3\nnow 1003\n" HANDSHAKE
	  "# c0 is seen again, so c1 is now the least recently seen\n"
	  "use 0\nnow 1010\n"
	  "touch             in PA   x+1      y+1      10   established       established\n"
	  "conns opened=4\n"
	  "use 4\nnow 1011\n" HANDSHAKE
	  "conns opened=5 evicted=1\n"
	  "use 1\n"
	  "after_evicted     in PA   x+1      y+1      10   out_of_state      none\n" },
	/* 15b: a TIME_WAIT entry displaced by a new connection was counted
	 * as closed when it entered TIME_WAIT: evicting it is no second
	 * ending (as the reaper does not count it expired, nor an RST reset) */
	{ "evict_tw", 43000, 0, 5,
	  "use 0\nnow 1000\n" HANDSHAKE
	  "fin1              eg FA   y+1      x+1      0    teardown_fin1     fin_wait1\n"
	  "fin2              in FA   x+1      y+2      0    teardown_fin2     time_wait\n"
	  "use 1\nnow 1001\n" HANDSHAKE "use 2\nnow 1002\n" HANDSHAKE
	  "use 3\nnow 1003\n" HANDSHAKE "use 4\nnow 1010\n" HANDSHAKE
	  "use 0\n"
	  "after_evicted     eg A    y+2      x+2      0    out_of_state      none\n"
	  "use 4\nconns opened=5 closed=1\n" },
	/* 14b: a SYN on a busy half-open slot of another key takes it; the
	 * displaced handshake counts as evicted only while it was live
	 * (now - seen <= timeout), else it had expired */
	{ "slot", 44000, 1, 3,
	  "use 0\nnow 1000\n"
	  "syn               in S    x        0        0    handshake_syn     syn_recv\n"
	  "# at exactly the timeout (60 s) c0 is still live\n"
	  "use 1\nnow 1060\n"
	  "syn               in S    x        0        0    handshake_syn     syn_recv\n"
	  "use 0\n"
	  "synack_lost_slot  eg SA   y        x+1      0    out_of_state      none\n"
	  "use 1\nconns half_open_evicted=1\n"
	  "# a second past it c1 had expired\n"
	  "use 2\nnow 1121\n"
	  "syn               in S    x        0        0    handshake_syn     syn_recv\n"
	  "conns half_open_evicted=1\n"
	  "use 1\n"
	  "state             in A    x+1      1        0    out_of_state      none\n"
	  "use 2\n"
	  "synack            eg SA   y        x+1      0    handshake_synack  syn_recv\n"
	  "ack               in A    x+1      y+1      0    handshake_ack     established\n"
	  "conns opened=1 half_open_evicted=1\n" },
};

static void run_mates(struct hx *h)
{
	for (size_t i = 0; i < sizeof(mates) / sizeof(mates[0]); i++) {
		const struct mates *m = &mates[i];
		struct conn c[5];
		struct found f;
		char name[64];
		int n;

		reset(h);
		n = find_mates(m->prefix, m->base, m->slot, c, m->n);
		snprintf(name, sizeof(name), "%s_found_keys", m->prefix);
		hx_check(h, n == m->n, name, "only %d ports hash to one %s", n,
			 m->slot ? "slot" : "bucket");
		if (n < m->n)
			continue;
		run_script(h, c, n, m->script);
		if (strcmp(m->prefix, "evict"))
			continue;
		for (int k = 0; k < 5; k++) {
			int st = conn_state(h, &c[k]), want = k == 1 ? TCPF_ST_NONE
						: TCPF_ST_ESTABLISHED;

			snprintf(name, sizeof(name), "evict%d_after_state", k);
			hx_check(h, st == want, name, "state %s, want %s",
				 state_name(st), state_name(want));
		}
		key_find(h, T_FLOWS, &c[0].key, &f);
		hx_check(h, f.live == 4, "evict_table_four", "%d live entries",
			 f.live);
	}
}

/*
 * The reaper's second tick since the arm, read whole: 1 when it came.  The
 * second, not the first: the first fires a second after the arm, but the
 * coarse clock it reads may lag by a jiffy and still say t0's second; the
 * second's is past it whatever the lag.  Read twice alike, ten ms apart (a
 * tick writes now first and ticks last).  Waited for, not timed: the
 * deadline is only there to end a test whose reaper never runs.
 */
#define REAPER_DEADLINE_MS 60000

static int reaper_wait(struct hx *h, struct tcpf_ctl *ctl)
{
	struct tcpf_ctl again;
	struct timespec ts;
	__u64 t_end, ms;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t_end = (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000 +
		REAPER_DEADLINE_MS;
	for (;;) {
		ctl_read(h, ctl);
		if (ctl->ticks >= 2) {
			usleep(10000);
			ctl_read(h, &again);
			if (!memcmp(ctl, &again, sizeof(again)))
				break;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ms = (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
		if (ms > t_end)
			break;
		usleep(20000);
	}
	hx_check(h, ctl->ticks >= 2, "reaper_ticked", "%u ticks in %d s, "
		 "want 2", ctl->ticks, REAPER_DEADLINE_MS / 1000);
	return ctl->ticks >= 2;
}

/* 13: the reaper, on the real coarse clock. */
static void scenario_reaper(struct hx *h)
{
	struct conn c[5];
	struct tcpf_ctl ctl;
	struct timespec ts;
	__u8 buf[FRAME_MAX];
	__u32 t0, n, ret = 0, want[TCPF_ST_MAX] = { 0 };
	__u64 conns[TCPF_CONN_MAX] = { 0 };
	char why[512] = "";
	size_t used = 0;
	int err;

	reset(h);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (__u32)ts.tv_sec;
	ctl_read(h, &ctl);
	/* what is new lives half a day, however long the wait for the
	 * ticks takes; what was seen a day ago is reaped, and SYN_RECV
	 * lives no second at all */
	for (int i = 0; i < TCPF_ST_MAX; i++)
		ctl.timeout[i] = 43200;
	ctl.timeout[TCPF_ST_SYN_RECV] = 0;
	/* a day ago: an established connection and one in TIME_WAIT */
	ctl.now = t0 - 86400;
	ctl_write(h, &ctl);
	conn_init(&c[0], "reaper_old", 4, 42001, 1, 1000u, 2000u);
	conn_init(&c[1], "reaper_timewait", 4, 42002, 1, 3000u, 4000u);
	/* now: an established one, a SYN received and a SYN sent */
	conn_init(&c[2], "reaper_new", 4, 42003, 1, 5000u, 6000u);
	conn_init(&c[3], "reaper_synrecv", 4, 42004, 1, 7000u, 0);
	conn_init(&c[4], "reaper_synsent", 4, 42005, 0, 8000u, 0);
	c[4].sport = 443;
	conn_key(&c[4]);
	while (key_slot(&c[4].key) == key_slot(&c[3].key)) {
		c[4].cport++;
		conn_key(&c[4]);
	}
	run_script(h, c, 5, "use 0\n" HANDSHAKE "use 1\n" HANDSHAKE
		"fin1              eg FA   y+1      x+1      0    teardown_fin1     fin_wait1\n"
		"fin2              in FA   x+1      y+2      0    teardown_fin2     time_wait\n");
	ctl.now = t0;
	ctl_write(h, &ctl);
	run_script(h, c, 5, "use 2\n" HANDSHAKE "use 3\n"
		"syn               in S    x        0        0    handshake_syn     syn_recv\n"
		"use 4\n"
		"syn               eg S    x        0        0    handshake_syn     syn_sent\n"
		"use 2\nconns opened=3 closed=1\n");

	n = conn_frame(&c[2], HX_IN, ACK, 5001, 6001, 0, buf);
	err = hx_run_fd(h->arm, buf, n, &ret);
	hx_check(h, !err && ret == XDP_PASS, "reaper_arm",
		 "arm failed: %s, retval %u", strerror(-err), ret);
	if (err || ret != XDP_PASS || !reaper_wait(h, &ctl))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	hx_check(h, (__s32)(ctl.now - t0) >= 1 &&
		 (__s32)((__u32)ts.tv_sec - ctl.now) >= 0, "reaper_clock",
		 "ctl.now %u, want %u to %u (CLOCK_MONOTONIC's seconds)",
		 ctl.now, t0 + 1, (__u32)ts.tv_sec);
	want[TCPF_ST_ESTABLISHED] = 1;
	want[TCPF_ST_SYN_SENT] = 1;
	for (int i = 0; i < TCPF_ST_MAX; i++)
		if (ctl.gauge[i] != want[i] && used < sizeof(why))
			used += (size_t)snprintf(why + used, sizeof(why) - used,
				"%s%s %u, want %u", used ? "; " : "",
				state_name(i), ctl.gauge[i], want[i]);
	hx_check(h, used == 0, "reaper_gauges", "%s", why);
	conns[TCPF_CONN_OPENED] = 3;
	conns[TCPF_CONN_CLOSED] = 1;
	conns[TCPF_CONN_EXPIRED] = 1;
	conns[TCPF_CONN_HALF_OPEN_EXPIRED] = 1;
	hx_check(h, !conns_differ(h, conns, why, sizeof(why)),
		 "reaper_reaped_conns", "%s", why);
	for (int i = 0; i < 5; i++) {
		static const int st[] = { TCPF_ST_NONE, TCPF_ST_NONE,
			TCPF_ST_ESTABLISHED, TCPF_ST_NONE, TCPF_ST_SYN_SENT };
		char name[96];
		int got = conn_state(h, &c[i]);

		snprintf(name, sizeof(name), "%.40s_reaped_state", c[i].name);
		hx_check(h, got == st[i], name, "state %s, want %s",
			 state_name(got), state_name(st[i]));
	}
}

/* ------------------------------------------------------- SYN sources */

/*
 * tcpf_srcs (bpf/srcs.bpf.x): per CPU, so the scenario runs pinned to one
 * CPU and reads that CPU's copy of a slot (every other CPU's must stay
 * empty), except the merge case, which uses two CPUs on purpose.
 */
struct srcs {
	struct hx *h;
	int cpu, cpu2;           /* the CPU it runs on; a second one, or -1 */
	int failed_runs;         /* frames that did not pass */
	char run_why[256];       /* why the first of them failed */
	__u16 port;              /* the next segment's source port */
};

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
static void src_send(struct srcs *x, int family, const __u8 *addr, int dir, __u8 flags,
		     int n, __u16 vlan)
{
	__u8 buf[FRAME_MAX];
	char why[256];

	for (int i = 0; i < n; i++) {
		struct frame_spec s = {
			.family = family, .l4 = IPPROTO_TCP, .flags = flags,
			.seqack = 1, .seq = 0x10000000u + x->port,
			.ack = flags & ACK ? 0x20000000u : 0,
			.saddr = addr, .daddr = family == 4 ? server4 : server6,
			.sport = x->port, .dport = 80,
		};
		struct frame_layout lay;
		__u32 len;

		x->port = x->port == 65535 ? 1024 : x->port + 1;
		if (vlan) {
			s.nvlan = 1;
			s.tpid[0] = 0x8100;
			s.vid[0] = vlan;
		}
		len = frame_build(&s, buf, &lay);
		if (hx_run_pass(x->h, dir, buf, len, why, sizeof(why)) &&
		    !x->failed_runs++)
			snprintf(x->run_why, sizeof(x->run_why), "%s", why);
	}
}

static void syns4(struct srcs *x, const __u8 *addr, int n)
{
	src_send(x, 4, addr, HX_IN, SYN, n, 0);
}

/* A slot on every CPU; returns on how many it is used, *mine: x->cpu's. */
static int src_get(struct srcs *x, __u32 slot, struct tcpf_src *mine)
{
	struct tcpf_src *v = calloc((size_t)x->h->ncpus, sizeof(*v));
	int used = 0;

	memset(mine, 0, sizeof(*mine));
	if (!v || bpf_map_lookup_elem(x->h->srcs, &slot, v)) {
		free(v);
		return -1;
	}
	for (int c = 0; c < x->h->ncpus; c++)
		used += v[c].used != 0;
	*mine = v[x->cpu];
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
static void expect_src(struct srcs *x, const char *name, int family, const __u8 *addr,
		       __u64 syns, __u32 score)
{
	struct tcpf_src s;
	__u32 w[4];
	__u8 fam = family == 4 ? TCPF_IPV4 : TCPF_IPV6;
	char got[64], want[64];
	int used = src_get(x, src_slot_of(family, addr), &s);

	src_words(family, addr, w);
	fmt_src(got, sizeof(got), s.family == TCPF_IPV4 ? 4 : 6, s.addr);
	fmt_src(want, sizeof(want), family, w);
	hx_check(x->h, used == 1 && s.used == 1 && s.family == fam &&
		     !memcmp(s.addr, w, sizeof(w)) && s.syns == syns &&
		     s.score == score, name,
		     "slot %u: used on %d CPUs (want 1: cpu %d), used %u %s "
		     "syns %llu score %u; want %s syns %llu score %u",
		     src_slot_of(family, addr), used, x->cpu, s.used, got,
		     (unsigned long long)s.syns, s.score, want,
		     (unsigned long long)syns, score);
}

/* The whole table, every CPU (SLOTS x ncpus), or NULL. */
static struct tcpf_src *srcs_dump(struct srcs *x)
{
	/* ncpus >= 1 (libbpf_num_possible_cpus()):
	 * NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI) */
	struct tcpf_src *d = calloc((size_t)TCPF_SRC_SLOTS * x->h->ncpus, sizeof(*d));

	for (__u32 k = 0; d && k < TCPF_SRC_SLOTS; k++)
		if (bpf_map_lookup_elem(x->h->srcs, &k, &d[(size_t)k * x->h->ncpus])) {
			free(d);
			return NULL;
		}
	return d;
}

/* How many (slot, CPU) copies are used. */
static int srcs_used(struct srcs *x)
{
	struct tcpf_src *d = srcs_dump(x);
	int n = 0;

	if (!d)
		return -1;
	for (size_t i = 0; i < (size_t)TCPF_SRC_SLOTS * x->h->ncpus; i++)
		n += d[i].used != 0;
	free(d);
	return n;
}

/* Segments that are not an arriving SYN: the table must not change. */
static void expect_unchanged(struct srcs *x, const char *name, int family, const __u8 *addr,
			     int dir, __u8 flags)
{
	struct tcpf_src *before = srcs_dump(x), *after;
	size_t sz = (size_t)TCPF_SRC_SLOTS * x->h->ncpus * sizeof(*before);
	int same;

	src_send(x, family, addr, dir, flags, 3, 0);
	after = srcs_dump(x);
	same = before && after && !memcmp(before, after, sz);
	hx_check(x->h, same, name, "%s segments with flags %#x changed tcpf_srcs",
		     dir == HX_IN ? "ingress" : "egress", flags);
	free(before);
	free(after);
}

static void do_srcs_reset(struct srcs *x, const char *name)
{
	int err = map_zero(x->h->srcs), used = srcs_used(x);

	hx_check(x->h, !err && used == 0, name, "map_zero: %d, %d used copies",
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

static void expect_read(struct srcs *x, const char *name, int max, const struct want_src *want,
			int n, int count)
{
	struct src_count *got = calloc(TCPF_SRC_SLOTS, sizeof(*got));
	char why[1024], g[64], w[64];
	size_t used = 0;
	int m = got ? srcs_read(x->h->srcs, got, max) : -ENOMEM;

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
	hx_check(x->h, used == 0, name, "%s", why);
	free(got);
}

/*
 * The IPv4 source winner, back in the slot the source loser (family lfam,
 * one SYN) took from it: its first SYN takes loser's score to 0 (loser
 * keeps the slot), its second takes the slot, counting from one.
 */
static void srcs_retake(struct srcs *x, const char *lowers,
			const char *retakes, int lfam, const __u8 *loser,
			const __u8 *winner)
{
	syns4(x, winner, 1);
	expect_src(x, lowers, lfam, loser, 1, 0);
	syns4(x, winner, 1);
	expect_src(x, retakes, 4, winner, 1, 1);
}

static void srcs_basic(struct srcs *x)
{
	const __u8 a[4] = { 198, 18, 0, 1 }, c[4] = { 198, 18, 77, 7 };
	const __u8 a6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 1, [15] = 0x42 };
	__u8 b[4];
	__u32 from = 2, slot = src_slot_of(4, a);
	int n;

	do_srcs_reset(x, "srcs_reset_empty");
	syns4(x, a, 1);
	expect_src(x, "srcs_one_syn", 4, a, 1, 1);
	n = srcs_used(x);
	hx_check(x->h, n == 1, "srcs_one_syn_one_slot",
		     "%d used copies, want 1", n);
	syns4(x, a, 3);
	expect_src(x, "srcs_four_syns", 4, a, 4, 4);

	/* only arriving segments with SYN set and ACK, RST, FIN clear count */
	expect_unchanged(x, "srcs_synack_not_counted", 4, a, HX_IN, SYN | ACK);
	expect_unchanged(x, "srcs_ack_not_counted", 4, a, HX_IN, ACK);
	expect_unchanged(x, "srcs_pshack_not_counted", 4, a, HX_IN, PSH | ACK);
	expect_unchanged(x, "srcs_rst_not_counted", 4, a, HX_IN, RST);
	expect_unchanged(x, "srcs_rstack_not_counted", 4, a, HX_IN, RST | ACK);
	expect_unchanged(x, "srcs_fin_not_counted", 4, a, HX_IN, FIN);
	expect_unchanged(x, "srcs_finack_not_counted", 4, a, HX_IN, FIN | ACK);
	expect_unchanged(x, "srcs_null_not_counted", 4, a, HX_IN, 0);
	/* scans, not connection requests */
	expect_unchanged(x, "srcs_synfin_not_counted", 4, a, HX_IN, SYN | FIN);
	expect_unchanged(x, "srcs_synrst_not_counted", 4, a, HX_IN, SYN | RST);
	expect_unchanged(x, "srcs_egress_syn_not_counted", 4, a, HX_EG, SYN);
	expect_unchanged(x, "srcs_egress_syn_new_source_not_counted", 4, c,
			 HX_EG, SYN);
	expect_unchanged(x, "srcs_egress_syn6_not_counted", 6, a6, HX_EG, SYN);
	expect_src(x, "srcs_still_four", 4, a, 4, 4);

	/* an ECN setup SYN is a SYN; so are one with PSH|URG and a tagged one */
	src_send(x, 4, a, HX_IN, SYN | TCPF_ECE | TCPF_CWR, 1, 0);
	expect_src(x, "srcs_ecn_syn_counted", 4, a, 5, 5);
	src_send(x, 4, a, HX_IN, SYN | PSH | TCPF_URG, 1, 0);
	expect_src(x, "srcs_syn_psh_urg_counted", 4, a, 6, 6);
	src_send(x, 4, a, HX_IN, SYN, 1, 100);
	expect_src(x, "srcs_vlan_syn_counted", 4, a, 7, 7);
	n = srcs_used(x);
	hx_check(x->h, n == 1, "srcs_still_one_slot",
		     "%d used copies, want 1", n);

	/* B shares A's slot: each B SYN costs A one point of score */
	if (!find4_in_slot(slot, &from, b)) {
		hx_check(x->h, 0, "srcs_collider_found",
			     "no address of 198.18.0.0/15 in slot %u", slot);
		return;
	}
	printf("# srcs: 198.18.0.1 and %u.%u.%u.%u share slot %u\n", b[0], b[1],
	       b[2], b[3], slot);
	syns4(x, b, 1);
	expect_src(x, "srcs_collider_lowers_score", 4, a, 7, 6);
	syns4(x, b, 5);
	expect_src(x, "srcs_collider_score_1", 4, a, 7, 1);
	syns4(x, b, 1);
	expect_src(x, "srcs_collider_score_0_a_kept", 4, a, 7, 0);
	syns4(x, b, 1);
	expect_src(x, "srcs_collider_takes_slot", 4, b, 1, 1);
	n = srcs_used(x);
	hx_check(x->h, n == 1, "srcs_collider_one_slot",
		     "%d used copies, want 1", n);
	expect_read(x, "srcs_read_collider_only", TCPF_SRC_SLOTS,
		    (struct want_src[]){ { 4, b, 1 } }, 1, 1);
	/* and A, back, must win it again from zero: its old count is gone */
	srcs_retake(x, "srcs_a_back_lowers_b", "srcs_a_retakes_from_one", 4, b,
		    a);
	do_srcs_reset(x, "srcs_reset_after_collision");
}

/* An IPv6 source whose first 32 bits are an IPv4 source's address. */
static void srcs_family(struct srcs *x)
{
	const __u8 x4[4] = { 198, 18, 9, 9 };
	const __u8 x6[16] = { 198, 18, 9, 9 };   /* c612:909:: */
	char name[INET6_ADDRSTRLEN];
	struct src_count got[4];
	int n;

	hx_check(x->h, src_slot_of(4, x4) == src_slot_of(6, x6),
		     "srcs_v6_prefix_same_slot", "slots %u and %u",
		     src_slot_of(4, x4), src_slot_of(6, x6));
	syns4(x, x4, 2);
	expect_src(x, "srcs_family_v4_two", 4, x4, 2, 2);
	src_send(x, 6, x6, HX_IN, SYN, 1, 0);
	expect_src(x, "srcs_family_v6_is_another_source", 4, x4, 2, 1);
	expect_read(x, "srcs_family_read_v4_only", TCPF_SRC_SLOTS,
		    (struct want_src[]){ { 4, x4, 2 } }, 1, 1);
	src_send(x, 6, x6, HX_IN, SYN, 1, 0);
	expect_src(x, "srcs_family_v4_score_0", 4, x4, 2, 0);
	src_send(x, 6, x6, HX_IN, SYN, 1, 0);
	expect_src(x, "srcs_family_v6_takes_slot", 6, x6, 1, 1);
	n = srcs_read(x->h->srcs, got, 4);
	hx_check(x->h, n == 1 && got[0].family == TCPF_IPV6 && got[0].syns == 1 &&
		     !strcmp(src_name(&got[0], name, sizeof(name)), "c612:909::"),
		     "srcs_family_read_v6_name", "%d sources, first %s %llu",
		     n, n > 0 ? src_name(&got[0], name, sizeof(name)) : "-",
		     n > 0 ? (unsigned long long)got[0].syns : 0ULL);
	srcs_retake(x, "srcs_family_v4_lowers_v6", "srcs_family_v4_retakes", 6,
		    x6, x4);
	do_srcs_reset(x, "srcs_reset_after_family");
}

/* IPv6 sources in one slot that differ in one 32-bit word only. */
static void srcs_words(struct srcs *x)
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
		snprintf(name, sizeof(name), "srcs_v6_word%d_found", w);
		hx_check(x->h, k < (1u << 24), name, "no collider in word %d", w);
		src_send(x, 6, p, HX_IN, SYN, 2, 0);
		src_send(x, 6, q, HX_IN, SYN, 1, 0);
		snprintf(name, sizeof(name), "srcs_v6_word%d_differs", w);
		expect_src(x, name, 6, p, 2, 1);
		snprintf(name, sizeof(name), "srcs_reset_after_word%d", w);
		do_srcs_reset(x, name);
	}
}

/* The score stops at TCPF_SRC_SCORE_MAX: that is all a source banks. */
static void srcs_saturate(struct srcs *x)
{
	const __u8 s[4] = { 198, 19, 50, 5 };
	__u8 b[4];
	__u32 from = 0, slot = src_slot_of(4, s);

	syns4(x, s, TCPF_SRC_SCORE_MAX + 50);
	expect_src(x, "srcs_score_saturates", 4, s, TCPF_SRC_SCORE_MAX + 50,
		   TCPF_SRC_SCORE_MAX);
	if (!find4_in_slot(slot, &from, b)) {
		hx_check(x->h, 0, "srcs_saturate_collider",
			     "no address of 198.18.0.0/15 in slot %u", slot);
		return;
	}
	syns4(x, b, TCPF_SRC_SCORE_MAX - 1);
	expect_src(x, "srcs_saturated_max_minus_1_collisions", 4, s,
		   TCPF_SRC_SCORE_MAX + 50, 1);
	syns4(x, b, 1);
	expect_src(x, "srcs_saturated_max_collisions", 4, s,
		   TCPF_SRC_SCORE_MAX + 50, 0);
	syns4(x, b, 1);
	expect_src(x, "srcs_saturated_then_taken", 4, b, 1, 1);
	do_srcs_reset(x, "srcs_reset_after_saturate");
}

/*
 * A heavy source and a flood of one-SYN sources all in its slot, two of
 * its SYNs per flood SYN: it keeps the slot and every SYN it sent.
 * 198.18.0.0/15 holds only 28-37 addresses per slot, so the flood goes on
 * with IPv6 sources of 2001:db8::/96 in the same slot.
 */
static void srcs_heavy(struct srcs *x)
{
	enum { ROUNDS = 300 };
	const __u8 heavy[4] = { 198, 19, 100, 100 };
	__u8 (*flood)[16] = calloc(ROUNDS, 16);
	int *fam = calloc(ROUNDS, sizeof(int)), nf = 0, n4;
	__u32 from = 0, slot = src_slot_of(4, heavy), sfx;
	__u8 a[4];

	if (!flood || !fam)
		exit(1);
	while (nf < ROUNDS && find4_in_slot(slot, &from, a)) {
		if (!memcmp(a, heavy, 4))
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
	hx_check(x->h, nf == ROUNDS, "srcs_heavy_flood_found",
		     "%d colliding sources, want %d", nf, ROUNDS);
	for (int i = 0; i < nf; i++) {
		syns4(x, heavy, 2);
		src_send(x, fam[i], flood[i], HX_IN, SYN, 1, 0);
	}
	expect_src(x, "srcs_heavy_keeps_slot", 4, heavy, 2 * (__u64)nf,
		   (__u32)nf);
	expect_read(x, "srcs_heavy_read_only_heavy", TCPF_SRC_SLOTS,
		    (struct want_src[]){ { 4, heavy, 2 * (__u64)nf } }, 1, 1);
	free(flood);
	free(fam);
	do_srcs_reset(x, "srcs_reset_after_heavy");
}

/*
 * 2000 distinct one-SYN sources over the table, and one that sent 20
 * (one every 100 flood SYNs): srcs_read puts it first with exactly 20;
 * every other slot the flood reached holds one source with one SYN (in a
 * slot of k flood sources, the k-th if k is odd, else the (k-1)-th).
 */
static void srcs_top(struct srcs *x)
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
			syns4(x, t, 1);
		syns4(x, a, 1);
		if (!hits[s]++ && s != tslot)
			slots++;
		if (hits[s] % 2)
			memcpy(occupant[s], a, 4);
	}
	printf("# srcs: %d flood sources over %d slots, %d in the top "
	       "source's\n", NFLOOD, slots + !!hits[tslot], hits[tslot]);
	hx_check(x->h, hits[tslot] < NTOP / 2, "srcs_top_few_in_its_slot",
		     "%d flood sources share its slot", hits[tslot]);
	expect_src(x, "srcs_top_slot", 4, t, NTOP, NTOP - hits[tslot]);
	expect_read(x, "srcs_top_first_of_10", 10,
		    (struct want_src[]){ { 4, t, NTOP } }, 1, 10);
	m = got ? srcs_read(x->h->srcs, got, TCPF_SRC_SLOTS) : -1;
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
	hx_check(x->h, !why[0], "srcs_top_all_sources", "%s", why);
	free(got);
	do_srcs_reset(x, "srcs_reset_after_top");
}

/* One source on two CPUs: srcs_read shows it once, its SYNs summed. */
static void srcs_two_cpus(struct srcs *x)
{
	const __u8 a[4] = { 198, 18, 3, 3 }, b[4] = { 198, 18, 4, 4 };
	struct tcpf_src s;
	int first = x->cpu, used;

	if (x->cpu2 < 0) {
		printf("# srcs: one CPU only, no merge case\n");
		return;
	}
	syns4(x, a, 3);
	if (pin_cpu(x->cpu2)) {
		hx_check(x->h, 0, "srcs_two_cpus_pin", "%s", strerror(errno));
		return;
	}
	syns4(x, a, 4);
	syns4(x, b, 6);
	pin_cpu(first);
	used = src_get(x, src_slot_of(4, a), &s);
	hx_check(x->h, used == 2 && s.syns == 3, "srcs_two_cpus_two_copies",
		     "used on %d CPUs, %llu SYNs on cpu %d", used,
		     (unsigned long long)s.syns, first);
	/* unmerged, b's 6 would come before a's 4 and 3 */
	expect_read(x, "srcs_two_cpus_merged", TCPF_SRC_SLOTS,
		    (struct want_src[]){ { 4, a, 7 }, { 4, b, 6 } }, 2, 2);
	do_srcs_reset(x, "srcs_reset_two_cpus");
}

static void scenario_srcs(struct hx *h)
{
	struct srcs ctx = { .h = h, .cpu = -1, .cpu2 = -1, .port = 1024 };
	struct srcs *x = &ctx;
	cpu_set_t orig;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	reset(x->h);
	if (sched_getaffinity(0, sizeof(orig), &orig)) {
		hx_check(x->h, 0, "srcs_affinity", "%s", strerror(errno));
		return;
	}
	for (int c = 0; c < CPU_SETSIZE && c < x->h->ncpus; c++) {
		if (!CPU_ISSET(c, &orig))
			continue;
		if (x->cpu < 0)
			x->cpu = c;
		else if (x->cpu2 < 0)
			x->cpu2 = c;
	}
	if (x->cpu < 0 || pin_cpu(x->cpu)) {
		hx_check(x->h, 0, "srcs_pin", "cannot pin to a CPU");
		return;
	}
	srcs_basic(x);
	srcs_family(x);
	srcs_words(x);
	srcs_saturate(x);
	srcs_heavy(x);
	srcs_top(x);
	srcs_two_cpus(x);
	hx_check(x->h, x->failed_runs == 0, "srcs_frames_ran",
		     "%d frames failed: %s", x->failed_runs, x->run_why);
	sched_setaffinity(0, sizeof(orig), &orig);
	reset(x->h);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# srcs: %.2f s\n", (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}


int main(void)
{
	struct hx h;
	struct hx_opts o = { .flows = true, .buckets = NBUCKETS,
			     .slots = NSLOTS };

	if (hx_open(&h, "flow", &o))
		return 1;
	run_scenarios(&h);
	scenario_hash(&h);
	scenario_flood(&h);
	run_mates(&h);
	scenario_srcs(&h);
	/* last: the reaper's timer runs until the maps go */
	scenario_reaper(&h);
	hx_close(&h);
	return hx_done("test_flow");
}
