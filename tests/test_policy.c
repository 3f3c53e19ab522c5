// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_policy.c - rule sets in the data path (BPF_PROG_TEST_RUN): rules
 * parsed with ruleset_parse_text(), installed with policy_write() into a
 * private copy of the maps, then crafted frames through tcpf_xdp (ingress)
 * and tcpf_egress (egress).  Every frame asserts the verdict and the exact
 * change of every rule hit counter (tcpf_rhits) and drop reason
 * (tcpf_drops): what should move moved by the frame's packets and bytes,
 * and nothing else moved.
 *
 * Two loads of the program: flows off (tcpf_flows_on = false: every
 * segment untracked) for the pure match tests, flows on for phase and
 * state matches.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tcpflags.h"
#include "tcpflags.skel.h"
#include "rules.h"
#include "policy.h"
#include "frames.h"
#include "skel.h"
#include "harness.h"
#include "flowkey.h"

#define IN HX_IN
#define EG HX_EG
#define NONE (-1)                /* no rule hit / no drop reason */
#define R_RULE TCPF_DROP_RULE
#define R_RL TCPF_DROP_RATELIMIT
#define R_DEF TCPF_DROP_DEFAULT
#define R_WOULD TCPF_DROP_WOULD

#define FIN TCPF_FIN
#define SYN TCPF_SYN
#define RST TCPF_RST
#define PSH TCPF_PSH
#define ACK TCPF_ACK
#define URG TCPF_URG
#define ECE TCPF_ECE
#define CWR TCPF_CWR

/*
 * The harness's context and the policy maps policy_write() fills; for the
 * rate limits, the ns of credit a packet costs per rule id (as parsed) and
 * when the buckets were last emptied (CLOCK_MONOTONIC, bpf_ktime_get_ns()'s
 * clock): every bucket in use was filled after it.
 */
struct ctx {
	struct hx h;
	struct policy_maps m;
	__u64 rl_cost[TCPF_RULES_MAX + 1];
	__u64 rl_epoch;
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static struct ctx off_ctx, on_ctx;

#define WATCH (HX_WATCH(HX_HITS) | HX_WATCH(HX_DROPS))
#define HITS(s, id) ((s)->c[HX_HITS][id].packets)

/* Parse text and install it: the rule set the next frames meet. */
static int install_fresh(struct ctx *x, const char *name, const char *text,
			 const __u32 *fresh, int nfresh)
{
	struct ruleset *rs = malloc(sizeof(*rs));
	char err[512] = "", cname[128];
	int ret;

	snprintf(cname, sizeof(cname), "%s_install", name);
	if (!rs) {
		hx_check(&x->h, 0, cname, "out of memory");
		return -1;
	}
	ret = ruleset_parse_text("test.rules", text, rs, err, sizeof(err));
	if (ret) {
		hx_check(&x->h, 0, cname, "does not parse: %s", err);
		free(rs);
		return -1;
	}
	for (int i = 0; i < rs->nrules; i++)
		if (rs->rules[i].id <= TCPF_RULES_MAX)
			x->rl_cost[rs->rules[i].id] = rs->rules[i].cost_ns;
	ret = policy_write(&x->m, rs, fresh, nfresh);
	ruleset_free(rs);
	free(rs);
	if (ret) {
		hx_check(&x->h, 0, cname, "policy_write: %s", strerror(-ret));
		return -1;
	}
	return 0;
}

/* Every counter of the new rule set's ids from zero. */
static int install(struct ctx *x, const char *name, const char *text)
{
	return install_fresh(x, name, text, NULL, 0);
}

static void policy_read(const struct ctx *x, struct tcpf_policy *p)
{
	__u32 zero = 0;

	memset(p, 0, sizeof(*p));
	bpf_map_lookup_elem(x->m.policy, &zero, p);
}

/* Empty every rate-limit bucket. */
static void rl_clear(struct ctx *x)
{
	__u32 vs = bpf_map__value_size(x->h.skel->maps.tcpf_ratelimit);
	void *zero = calloc(1, vs);

	x->rl_epoch = mono_ns();
	for (__u32 k = 0; zero && k < TCPF_RL_SLOTS; k++)
		bpf_map_update_elem(x->h.rl, &k, zero, BPF_ANY);
	free(zero);
}

/* ------------------------------------------------------------ frames */

static const __u8 h4_a[4] = { 198, 19, 0, 1 };     /* the frames' default */
static const __u8 h4_b[4] = { 198, 19, 0, 2 };

static struct frame_spec tcp4(__u8 flags)
{
	return (struct frame_spec){ .family = 4, .l4 = IPPROTO_TCP,
				    .flags = flags };
}

static struct frame_spec tcp6(__u8 flags)
{
	return (struct frame_spec){ .family = 6, .l4 = IPPROTO_TCP,
				    .flags = flags };
}

/*
 * One frame: the verdict is drop or pass, rule `id` (NONE: no rule) got a
 * hit, reason (NONE: none) counted it; nothing else moved.
 */
static void frame_expect(struct ctx *x, const char *name, int dir,
			 const __u8 *buf, __u32 len, int drop, int id,
			 int reason)
{
	struct hx_want w = { .dir = dir, .drop = drop, .watch = WATCH };
	char why[1024];

	if (id != NONE)
		w.move[w.nmoves++] = (struct hx_move){ HX_HITS, (__u32)id, 1 };
	if (reason != NONE)
		w.move[w.nmoves++] = (struct hx_move){ HX_DROPS, (__u32)reason,
						       1 };
	hx_check(&x->h, !hx_frame(&x->h, &w, buf, len, why, sizeof(why)),
		 name, "%s", why);
}

static void expect(struct ctx *x, const char *name, int dir,
		   const struct frame_spec *s, int drop, int id, int reason)
{
	__u8 buf[FRAME_MAX];
	struct frame_layout lay;
	__u32 len = frame_build(s, buf, &lay);

	frame_expect(x, name, dir, buf, len, drop, id, reason);
}

/*
 * n copies of a frame: npass pass, the rest are dropped as over the rate;
 * rule id hit by all n.  npass counts the tokens the buckets were filled
 * with; the clock adds one per rl_cost[id] ns, and no wait is assumed:
 * what the bucket may have earned since it was filled (x->rl_epoch, the
 * same clock as bpf_ktime_get_ns()) may pass besides, and no more.  A
 * 1/m rule earns nothing unless the run stalls for a minute.
 */
static void burst(struct ctx *x, const char *name, int dir,
		  const struct frame_spec *s, int n, int npass, int id)
{
	static struct hx_counts before, after, want;
	__u8 buf[FRAME_MAX];
	struct frame_layout lay;
	__u32 len = frame_build(s, buf, &lay), ret = 0;
	__u64 earned = 0, since;
	char why[1024];
	int got = 0, bad = 0;

	hx_snap(&x->h, WATCH, &before);
	for (int i = 0; i < n; i++) {
		if (hx_run(&x->h, dir, buf, len, &ret)) {
			bad++;
			continue;
		}
		if (ret == hx_verdict(dir, 0))
			got++;
		else if (ret != hx_verdict(dir, 1))
			bad++;
	}
	since = mono_ns() - x->rl_epoch;
	if (id >= 0 && id <= TCPF_RULES_MAX && x->rl_cost[id])
		earned = since / x->rl_cost[id];
	hx_snap(&x->h, WATCH, &after);
	memset(&want, 0, sizeof(want));
	if (id >= 0 && id <= TCPF_RULES_MAX)
		want.c[HX_HITS][id] = (struct tcpf_count){ (__u64)n, (__u64)n * len };
	want.c[HX_DROPS][R_RL] = (struct tcpf_count){ (__u64)(n - got),
						      (__u64)(n - got) * len };
	hx_moved(&before, &after, &want, WATCH, why, sizeof(why));
	hx_check(&x->h, !bad && got >= npass && (__u64)got <= npass + earned &&
		 !why[0], name, "%d of %d passed, want %d (+ up to %llu "
		 "earned in %.3f s); %d odd verdicts; %s", got, n, npass,
		 (unsigned long long)earned, (double)since / 1e9, bad, why);
}

/* --------------------------------------------------- flag sweeps */

static int ct_valid(int b)
{
	/* nf_conntrack's tcp_valid_flags[], PSH/ECE/CWR masked off */
	static const int ok[] = { 0x02, 0x22, 0x12, 0x04, 0x14, 0x11, 0x31,
				  0x10, 0x30 };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if ((b & 0x37) == ok[i])
			return 1;
	return 0;
}

static int p_syn_not_ack(int b) { return (b & (SYN | ACK)) == SYN; }
static int p_syn_exact(int b) { return b == SYN; }
static int p_syn_of_sa(int b) { return (b & (SYN | ACK)) == SYN; }
static int p_ack_exact(int b) { return b == ACK; }
static int p_iptables_syn(int b) { return (b & (SYN | RST | ACK | FIN)) == SYN; }
static int p_valid(int b) { return ct_valid(b); }
static int p_invalid(int b) { return !ct_valid(b); }
static int p_null(int b) { return b == 0; }
static int p_xmas(int b) { return b == (FIN | PSH | URG); }
static int p_synfin(int b) { return (b & (SYN | FIN)) == (SYN | FIN); }
static int p_synrst(int b) { return (b & (SYN | RST)) == (SYN | RST); }
static int p_finnoack(int b) { return (b & (FIN | ACK)) == FIN; }
static int p_ece_cwr(int b) { return (b & (ECE | CWR)) == ECE; }
static int p_all(int b) { return b == 0xff; }

/*
 * Install "rule 1 MATCH ACTION" and run every flag byte: the ones pred
 * takes are dropped (drop) or counted (count), the rest pass untouched.
 */
static void sweep(struct ctx *x, const char *name, const char *match,
		  int (*pred)(int), int family, int count)
{
	static struct hx_counts before, after, want;
	char text[256], why[1024], bad[256] = "";
	size_t used = 0;
	int nbad = 0;

	snprintf(text, sizeof(text), "rule 1 %s %s\n", match,
		 count ? "count" : "drop");
	if (install(x, name, text))
		return;
	memset(&want, 0, sizeof(want));
	hx_snap(&x->h, WATCH, &before);
	for (int b = 0; b < TCPF_PATTERNS; b++) {
		struct frame_spec s = family == 4 ? tcp4((__u8)b) : tcp6((__u8)b);
		__u8 buf[FRAME_MAX];
		struct frame_layout lay;
		__u32 len, ret = 0;
		int m = pred(b);

		s.payload = b & 7;
		len = frame_build(&s, buf, &lay);
		if (m) {
			struct tcpf_count *r = &want.c[HX_DROPS][count ? R_WOULD
								       : R_RULE];

			want.c[HX_HITS][1].packets++;
			want.c[HX_HITS][1].bytes += len;
			r->packets++;
			r->bytes += len;
		}
		if (hx_run(&x->h, HX_IN, buf, len, &ret) ||
		    ret != hx_verdict(HX_IN, m && !count)) {
			nbad++;
			if (used < sizeof(bad))
				used += (size_t)snprintf(bad + used,
					sizeof(bad) - used, " 0x%02x", b);
		}
	}
	hx_snap(&x->h, WATCH, &after);
	hx_moved(&before, &after, &want, WATCH, why, sizeof(why));
	hx_check(&x->h, !nbad && !why[0], name, "%d wrong verdicts (%s); %s",
		 nbad, bad, why);
}

static void test_flag_forms(struct ctx *x)
{
	sweep(x, "sweep_tcp_flags_syn_ack_syn", "--tcp-flags SYN,ACK SYN",
	      p_syn_not_ack, 4, 0);
	sweep(x, "sweep_tcp_flags_ece_cwr_ece", "--tcp-flags ECE,CWR ECE",
	      p_ece_cwr, 4, 1);
	sweep(x, "sweep_tcp_flags_all_all", "--tcp-flags ALL ALL", p_all, 6, 0);
	sweep(x, "sweep_flags_syn_exact", "flags SYN", p_syn_exact, 4, 0);
	sweep(x, "sweep_flags_syn_of_syn_ack", "flags SYN/SYN,ACK", p_syn_of_sa,
	      6, 1);
	sweep(x, "sweep_flags_ack_all", "flags ACK/ALL", p_ack_exact, 4, 1);
	sweep(x, "sweep_iptables_syn", "--syn", p_iptables_syn, 4, 0);
	sweep(x, "sweep_valid", "valid", p_valid, 4, 1);
	sweep(x, "sweep_invalid", "invalid", p_invalid, 4, 0);
	sweep(x, "sweep_invalid_ipv6", "invalid", p_invalid, 6, 0);
	sweep(x, "sweep_nullscan", "nullscan", p_null, 4, 0);
	sweep(x, "sweep_xmas", "xmas", p_xmas, 4, 0);
	sweep(x, "sweep_synfin", "synfin", p_synfin, 4, 0);
	sweep(x, "sweep_synrst", "synrst", p_synrst, 6, 0);
	sweep(x, "sweep_finnoack", "finnoack", p_finnoack, 4, 0);
}

/* Non-TCP and malformed frames, which a policy never touches. */
static void never_dropped(struct ctx *x, const char *tag)
{
	static const struct {
		const char *name;
		int dir;
		struct frame_spec s;
	} frames[] = {
		{ "udp4", IN, { .family = 4, .l4 = IPPROTO_UDP, .payload = 20 } },
		{ "udp6", IN, { .family = 6, .l4 = IPPROTO_UDP } },
		{ "icmp4", IN, { .family = 4, .l4 = IPPROTO_ICMP } },
		{ "icmp6", IN, { .family = 6, .l4 = IPPROTO_ICMPV6 } },
		{ "arp", IN, { .family = 0 } },
		/* a later fragment: no TCP header */
		{ "tcp_later_fragment", IN,
		  { .family = 4, .l4 = IPPROTO_TCP, .ip4_frag = 185 } },
		{ "vlan_too_deep", IN, { .family = 4, .l4 = IPPROTO_TCP,
		  .nvlan = 3, .tpid = { 0x88a8, 0x8100, 0x8100 } } },
		{ "udp4_egress", EG,
		  { .family = 4, .l4 = IPPROTO_UDP, .payload = 20 } },
		{ "arp_egress", EG, { .family = 0 } },
		{ "tcp_later_fragment_egress", EG,
		  { .family = 4, .l4 = IPPROTO_TCP, .ip4_frag = 185 } },
	};
	struct frame_spec ok = tcp4(0);
	__u8 buf[FRAME_MAX];
	struct frame_layout lay;
	char name[96];
	__u32 len;

#define N(s) (snprintf(name, sizeof(name), "%s_%s", tag, s), name)
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
		expect(x, N(frames[i].name), frames[i].dir, &frames[i].s, 0,
		       NONE, NONE);
	len = frame_build(&ok, buf, &lay);
	frame_expect(x, N("tcp_truncated"), IN, buf, lay.l4 + 10, 0, NONE,
		     NONE);
	frame_expect(x, N("tcp_truncated_egress"), EG, buf, lay.l4 + 10, 0,
		     NONE, NONE);
	buf[lay.l4 + 12] = 0x40;        /* data offset 4 */
	frame_expect(x, N("tcp_bad_doff"), IN, buf, len, 0, NONE, NONE);
	len = frame_build(&ok, buf, &lay);
	buf[lay.l3] = 0x44;             /* IHL 4 */
	frame_expect(x, N("ip4_bad_ihl"), IN, buf, len, 0, NONE, NONE);
	frame_expect(x, N("ip4_header_truncated"), IN, buf, lay.l3 + 10, 0,
		     NONE, NONE);
#undef N
}

static void flows_reset(struct ctx *x)
{
	struct tcpf_ctl ctl = { .now = 1000 };
	__u32 zero = 0;

	for (int s = 0; s < TCPF_ST_MAX; s++)
		ctl.timeout[s] = 60;
	ctl.timeout[TCPF_ST_ESTABLISHED] = 432000;
	bpf_map_update_elem(x->h.ctl, &zero, &ctl, BPF_ANY);
}

/* --------------------------------------------------- the step scripts */

/*
 * A script, one step a line (tests/lines.h: blank lines and # comments
 * skipped):
 *
 *   install NAME [fresh=ID,...]: RULE; RULE...   parse and install the
 *                      rules (";" ends a line of the rule text); fresh: the
 *                      ids whose counters start from zero (default: all).
 *                      The steps up to the next install are skipped when
 *                      it fails (its FAIL line says why)
 *   NAME DIR FLAGS [OPTION...] OUTCOME          a frame: DIR in|eg, FLAGS
 *                      the flag letters (FSRPAUEC, - for none); OPTIONs:
 *                      v6 (the frame's family; IPv4 by default), src=ADDR,
 *                      dst=ADDR, sport=N, dport=N, len=N payload bytes,
 *                      conn=PORT (a segment of the connection client
 *                      198.19.0.1:PORT -> local 198.19.0.2:80, egress the
 *                      other way) with seq=N ack=N.  OUTCOME: drop ID (a
 *                      rule drops it), count ID (counted, passed), pass ID
 *                      (a pass rule), untouched (no rule, no drop reason),
 *                      default (no rule; the default action drops it),
 *                      burst N PASSING ID (N copies at once: PASSING pass,
 *                      the rest are over the rate; rule ID hit by all N)
 *   hits NAME ID=N...  the hit counters of those ids are N (not deltas)
 *   switched NAME      the last install flipped the active set and took
 *                      the next generation
 *   live NAME N        tcpf_policy's live is N
 *   never TAG          the non-TCP and malformed frames pass untouched
 *   rl_clear, flows_reset   empty the rate-limit buckets; reset the clock
 *                      and the timeouts of the flow tables
 *   flip               the other rule set active, the generation kept
 */
struct script {
	struct ctx *x;
	const char *name;
	int skip;                      /* the last install failed */
	struct tcpf_policy before;     /* read before the last install */
};

static const char *const outcomes[] = { "drop", "count", "pass",
					"untouched", "default", "burst" };
static const int outcome_args[] = { 1, 1, 1, 0, 0, 3 };
static const int outcome_drop[] = { 1, 0, 0, 0, 1, 0 };
static const int outcome_reason[] = { R_RULE, R_WOULD, NONE, NONE, R_DEF,
				      R_RL };
enum { O_BURST = 5 };

/* A frame step being read. */
struct step {
	struct frame_spec s;
	__u8 addr[2][16];
	int dir, o;
	long arg[3];
};

static int num(const char *v, long *out)
{
	char *end;

	*out = strtol(v, &end, 0);
	return *end || end == v ? -1 : 0;
}

static int step_addr(struct step *t, int side, const char *v)
{
	int fam = strchr(v, ':') ? 6 : 4;

	if (fam != t->s.family ||
	    inet_pton(fam == 4 ? AF_INET : AF_INET6, v, t->addr[side]) != 1)
		return -1;
	if (side)
		t->s.daddr = t->addr[1];
	else
		t->s.saddr = t->addr[0];
	return 0;
}

/* One OPTION of a frame step (v6 was seen before the others). */
static int step_opt(struct step *t, const char *w)
{
	const char *v = strchr(w, '=');
	size_t k = v ? (size_t)(v - w) : 0;
	long n = 0;

	if (!v)
		return strcmp(w, "v6") ? -1 : 0;
	v++;
	if (k == 3 && (!strncmp(w, "src", 3) || !strncmp(w, "dst", 3)))
		return step_addr(t, w[0] == 'd', v);
	if (num(v, &n) || n < 0 || n > 0xffffffffL)
		return -1;
	if (k == 5 && !strncmp(w, "sport", 5))
		t->s.sport = (__u16)n;
	else if (k == 5 && !strncmp(w, "dport", 5))
		t->s.dport = (__u16)n;
	else if (k == 3 && !strncmp(w, "len", 3))
		t->s.payload = (int)n;
	else if (k == 3 && !strncmp(w, "seq", 3))
		t->s.seq = (__u32)n;
	else if (k == 3 && !strncmp(w, "ack", 3))
		t->s.ack = (__u32)n;
	else if (k == 4 && !strncmp(w, "vlan", 4) && n > 0 && n < 4096) {
		t->s.nvlan = 1;
		t->s.tpid[0] = 0x8100;
		t->s.vid[0] = (__u16)n;
	} else if (k == 3 && !strncmp(w, "ext", 3) && n <= 4) {
		/* IPv6 destination options headers before TCP */
		t->s.n_ext = (int)n;
		for (int e = 0; e < t->s.n_ext; e++)
			t->s.ext[e] = IPPROTO_DSTOPTS;
	} else if (k == 5 && !strncmp(w, "ipopt", 5) && n % 4 == 0 && n <= 40) {
		t->s.ip4_optlen = (int)n;
	} else if (k == 4 && !strncmp(w, "conn", 4)) {
		t->s.seqack = 1;
		t->s.sport = (__u16)n;
		t->s.dport = 80;
		t->s.swap = t->dir == EG;
	} else
		return -1;
	return 0;
}

/* NAME DIR FLAGS [OPTION...] OUTCOME [ARG...] */
static int do_frame(struct script *r, char **w, int nw)
{
	struct step t = { .o = -1 };
	int flags = nw >= 4 ? hx_flags(w[2]) : -1, i;

	if (flags < 0 || (strcmp(w[1], "in") && strcmp(w[1], "eg")))
		return -1;
	t.dir = strcmp(w[1], "in") ? EG : IN;
	t.s = tcp4((__u8)flags);
	for (i = 3; i < nw && t.o < 0; i++) {
		for (int o = 0; o <= O_BURST; o++)
			if (!strcmp(w[i], outcomes[o]))
				t.o = o;
		if (!strcmp(w[i], "v6"))
			t.s.family = 6;
	}
	if (t.o < 0 || nw - i != outcome_args[t.o])
		return -1;
	for (int a = 0; a < outcome_args[t.o]; a++)
		if (num(w[i + a], &t.arg[a]))
			return -1;
	for (int k = 3; k < i - 1; k++)
		if (step_opt(&t, w[k]))
			return -1;
	if (r->skip)
		return 0;
	if (t.o == O_BURST)
		burst(r->x, w[0], t.dir, &t.s, (int)t.arg[0], (int)t.arg[1],
		      (int)t.arg[2]);
	else
		expect(r->x, w[0], t.dir, &t.s, outcome_drop[t.o],
		       outcome_args[t.o] ? (int)t.arg[0] : NONE,
		       outcome_reason[t.o]);
	return 0;
}

/* In place: "; " ends a line of rule text, blanks before a line go. */
static void rules_text(char *t)
{
	char *o = t;
	int start = 1;

	for (char *p = t; *p; p++) {
		if (start && (*p == ' ' || *p == '\t'))
			continue;
		start = *p == ';';
		*o++ = start ? '\n' : *p;
	}
	*o = '\0';
}

/* install NAME [fresh=ID,...]: TEXT (the line is whole, not in words) */
static int do_install(struct script *r, char *line)
{
	char *colon = strchr(line, ':'), *w[4], *p;
	__u32 fresh[TCPF_RULES_MAX];
	int nw, nfresh = 0;

	if (!colon)
		return -1;
	*colon = '\0';
	nw = line_words(line, w, 4);
	if (nw < 2 || nw > 3 || (nw == 3 && strncmp(w[2], "fresh=", 6)))
		return -1;
	for (p = nw == 3 ? w[2] + 6 : NULL; p && *p && nfresh < TCPF_RULES_MAX;
	     p += *p == ',') {
		long id = strtol(p, &p, 10);

		if (id <= 0 || (*p && *p != ','))
			return -1;
		fresh[nfresh++] = (__u32)id;
	}
	rules_text(colon + 1);
	policy_read(r->x, &r->before);
	r->skip = install_fresh(r->x, w[1], colon + 1, nw == 3 ? fresh : NULL,
				nfresh) != 0;
	return 0;
}

/* hits NAME ID=N... */
static int do_hits(struct script *r, char **w, int nw)
{
	static struct hx_counts c;
	char why[512] = "";
	size_t used = 0;

	if (nw < 3)
		return -1;
	hx_snap(&r->x->h, WATCH, &c);
	for (int i = 2; i < nw; i++) {
		char *eq = strchr(w[i], '=');
		long id, n;

		if (!eq)
			return -1;
		*eq = '\0';
		if (num(w[i], &id) || num(eq + 1, &n) || id < 0 ||
		    id > TCPF_RULES_MAX)
			return -1;
		if (HITS(&c, id) != (__u64)n && used < sizeof(why))
			used += (size_t)snprintf(why + used, sizeof(why) - used,
				"%shits[%ld] %llu, want %ld", used ? "; " : "",
				id, (unsigned long long)HITS(&c, id), n);
	}
	if (!r->skip)
		hx_check(NULL, !used, w[1], "%s", why);
	return 0;
}

/* switched NAME, live NAME N */
static int do_policy(struct script *r, char **w, int nw)
{
	struct tcpf_policy p;
	const struct tcpf_policy *b = &r->before;
	long live = 0;

	if (nw != (strcmp(w[0], "live") ? 2 : 3) ||
	    (nw == 3 && num(w[2], &live)))
		return -1;
	if (r->skip)
		return 0;
	policy_read(r->x, &p);
	if (nw == 3)
		hx_check(NULL, p.live == live, w[1], "live %u, want %ld",
			 p.live, live);
	else
		hx_check(NULL, p.active == !b->active &&
			 p.generation == b->generation + 1, w[1],
			 "active %u -> %u, generation %u -> %u", b->active,
			 p.active, b->generation, p.generation);
	return 0;
}

/* The other set in force for a while (generation unchanged): as a
 * segment that read tcpf_policy before a switch sees it. */
static void flip(struct ctx *x)
{
	struct tcpf_policy p;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(x->m.policy, &zero, &p) ||
	    (p.active ^= 1, bpf_map_update_elem(x->m.policy, &zero, &p,
						 BPF_ANY)))
		hx_check(&x->h, 0, "flip", "tcpf_policy: %s", strerror(errno));
}

/* never TAG, rl_clear, flows_reset, flip */
static int do_state(struct script *r, char **w, int nw)
{
	if (nw != (strcmp(w[0], "never") ? 1 : 2))
		return -1;
	if (r->skip)
		return 0;
	if (nw == 2)
		never_dropped(r->x, w[1]);
	else if (!strcmp(w[0], "rl_clear"))
		rl_clear(r->x);
	else if (!strcmp(w[0], "flip"))
		flip(r->x);
	else
		flows_reset(r->x);
	return 0;
}

static const struct {
	const char *word;
	int (*run)(struct script *r, char **w, int nw);
} commands[] = {
	{ "hits", do_hits }, { "switched", do_policy }, { "live", do_policy },
	{ "never", do_state }, { "rl_clear", do_state },
	{ "flows_reset", do_state }, { "flip", do_state },
};

static int script_line(void *arg, char *line, int lineno)
{
	struct script *r = arg;
	char copy[LINE_MAX_LEN], *w[16];
	size_t i, n = sizeof(commands) / sizeof(commands[0]);
	int nw, err;

	memcpy(copy, line, sizeof(copy));
	if (!strncmp(line, "install ", 8)) {
		err = do_install(r, line);
	} else {
		nw = line_words(line, w, 16);
		for (i = 0; i < n && strcmp(w[0], commands[i].word); i++)
			;
		err = i < n ? commands[i].run(r, w, nw) : do_frame(r, w, nw);
	}
	if (err)
		hx_check(&r->x->h, 0, r->name, "line %d does not read: '%s'",
			 lineno, copy);
	return 0;
}

static void run_script(struct ctx *x, const char *name, const char *text)
{
	struct script r = { .x = x, .name = name };

	if (lines_each(text, script_line, &r))
		hx_check(&x->h, 0, name, "a line is too long");
}

/* ------------------------------------------------------ the scripts */

/* Nothing installed, or an empty set: every segment passes, no count. */
static const char empty[] =
	"none_installed_null              in -  untouched\n"
	"none_installed_egress            eg SF v6 untouched\n"
	"install empty_first: nullscan drop; rule 9 --syn count\n"
	"before_empty_null_dropped        in -  drop 1\n"
	"install empty: # nothing;\n"
	"empty_null                       in -  untouched\n"
	"empty_synfin_v6                  in SF v6 untouched\n"
	"empty_egress                     eg -  untouched\n"
	"empty_syn                        in S  untouched\n"
	"install default_pass_only: default pass\n"
	"default_pass_only_null           in -  untouched\n"
	"live policy_empty_not_live 0\n";

static const char families[] =
	"install families: rule 1 ipv6 nullscan drop; rule 2 ipv4 xmas count\n"
	"ipv6_rule_v6_frame               in -   v6 drop 1\n"
	"ipv6_rule_v4_frame               in -   untouched\n"
	"ipv4_rule_v4_frame               in FPU count 2\n"
	"ipv4_rule_v6_frame               in FPU v6 untouched\n";

static const char directions[] =
	"install directions: rule 1 ingress nullscan drop; "
	"rule 2 egress xmas drop; rule 3 egress ipv6 nullscan count\n"
	"ingress_rule_ingress_frame       in -   drop 1\n"
	"ingress_rule_egress_frame        eg -   untouched\n"
	"egress_rule_egress_frame_shot    eg FPU drop 2\n"
	"egress_rule_ingress_frame        in FPU untouched\n"
	"egress_count_egress_v6           eg -   v6 count 3\n"
	"ingress_rule_ingress_v6          in -   v6 drop 1\n"
	"# the egress parse of what the plain one leaves (tcpf_egress())\n"
	"egress_rule_egress_vlan_shot     eg FPU vlan=7 drop 2\n"
	"egress_count_egress_v6_ext       eg -   v6 ext=2 count 3\n"
	"egress_count_egress_v6_ext_vlan  eg -   v6 ext=1 vlan=7 count 3\n"
	"egress_rule_egress_v4_options    eg FPU ipopt=8 drop 2\n"
	"ingress_rule_ingress_v6_ext      in -   v6 ext=3 drop 1\n";

static const char prefixes[] =
	"# the /8 first: an address in the /24 still meets the /8 first\n"
	"install nested_v4_wide_first: rule 1 src 10.0.0.0/8 count; "
	"rule 2 src 10.1.2.0/24 drop\n"
	"nested_v4_wide_first_in_24       in A src=10.1.2.3 count 1\n"
	"nested_v4_wide_first_in_8        in A src=10.9.0.1 count 1\n"
	"nested_v4_wide_first_outside     in A src=11.0.0.1 untouched\n"
	"# the /24 first; the /32 of rule 3 is inside rule 1's /24\n"
	"install nested_v4_narrow_first: rule 1 src 10.1.2.0/24 drop; "
	"rule 2 src 10.0.0.0/8 count; rule 3 src 10.1.2.200/32 pass\n"
	"nested_v4_narrow_first_in_24     in A src=10.1.2.3 drop 1\n"
	"nested_v4_host_in_24             in A src=10.1.2.200 drop 1\n"
	"nested_v4_narrow_first_in_8      in A src=10.1.3.1 count 2\n"
	"nested_v4_narrow_first_in_8_b    in A src=10.9.0.1 count 2\n"
	"nested_v4_narrow_first_outside   in A src=11.0.0.1 untouched\n"
	"# destinations; a rule with both sides needs both\n"
	"install dst_v4: rule 1 dst 192.0.2.0/24 src 10.0.0.0/8 drop; "
	"rule 2 dst 192.0.2.0/24 count; rule 3 src 192.0.2.0/24 drop\n"
	"dst_v4_in                        in A dst=192.0.2.9 count 2\n"
	"dst_v4_src_and_dst               in A src=10.1.2.3 dst=192.0.2.9 drop 1\n"
	"dst_v4_src_only                  in A src=10.1.2.3 dst=192.0.3.1 untouched\n"
	"dst_v4_neither                   in A src=198.19.0.1 dst=198.19.0.2 untouched\n"
	"dst_v4_sides_apart               in A src=192.0.2.9 dst=198.19.0.2 drop 3\n"
	"# IPv6, nested\n"
	"install nested_v6: rule 1 src 2001:db8:1::/48 drop; "
	"rule 2 src 2001:db8::/32 count; rule 3 dst 2001:db8:1::77/128 drop\n"
	"nested_v6_in_48                  in A v6 src=2001:db8:1::5 drop 1\n"
	"nested_v6_in_32                  in A v6 src=2001:db8:2::5 count 2\n"
	"nested_v6_outside                in A v6 src=2001:db9::1 untouched\n"
	"dst_v6_host                      in A v6 dst=2001:db8:1::77 drop 3\n"
	"dst_v6_other_host                in A v6 dst=2001:db8:1::5 untouched\n"
	"# a family's prefixes never match the other family\n"
	"install pfx_zero: rule 1 src 0.0.0.0/0 drop; rule 2 dst ::/0 count\n"
	"pfx_v4_slash0_v4                 in A drop 1\n"
	"pfx_v6_slash0_v6                 in A v6 count 2\n"
	"install pfx_v4_only: rule 1 src 0.0.0.0/0 drop\n"
	"pfx_v4_slash0_not_v6             in A v6 untouched\n"
	"# sets, mixed with literal prefixes\n"
	"install sets: set bad 10.0.0.0/8 2001:db8::/32; "
	"set more @bad 192.0.2.0/24; rule 4 src @bad drop; "
	"rule 5 dst @more,198.51.100.0/24 count\n"
	"set_v4                           in A src=10.9.0.1 drop 4\n"
	"set_v6                           in A v6 src=2001:db8:2::5 drop 4\n"
	"set_v6_outside                   in A v6 src=2001:db9::1 untouched\n"
	"set_of_sets_dst                  in A src=11.0.0.1 dst=192.0.2.9 count 5\n"
	"set_of_sets_dst_from_bad         in A src=11.0.0.1 dst=10.1.2.3 count 5\n"
	"set_outside                      in A src=11.0.0.1 dst=192.0.3.1 untouched\n";

/* Port lists and ranges: at, inside and just past each edge. */
static const char ports[] =
	"install ports: rule 1 dport 1000-2000,3000 drop; "
	"rule 2 sport 5353 count; rule 3 sport 65535 dport 65534-65535 count; "
	"rule 4 sport 65535 dport 65535 drop\n"
	"ports_40000_to_999               in S dport=999 untouched\n"
	"ports_40000_to_1000              in S dport=1000 drop 1\n"
	"ports_40000_to_1500              in S dport=1500 drop 1\n"
	"ports_40000_to_2000              in S dport=2000 drop 1\n"
	"ports_40000_to_2001              in S dport=2001 untouched\n"
	"ports_40000_to_3000              in S dport=3000 drop 1\n"
	"ports_40000_to_3001              in S dport=3001 untouched\n"
	"ports_40000_to_65535             in S dport=65535 untouched\n"
	"ports_5353_to_80                 in S sport=5353 dport=80 count 2\n"
	"ports_5353_to_1500               in S sport=5353 dport=1500 drop 1\n"
	"ports_5354_to_80                 in S sport=5354 dport=80 untouched\n"
	"ports_1_to_80                    in S sport=1 dport=80 untouched\n"
	"ports_65535_to_65534             in S sport=65535 dport=65534 count 3\n"
	"ports_65535_to_65535             in S sport=65535 dport=65535 count 3\n"
	"ports_65535_to_65533             in S sport=65535 dport=65533 untouched\n"
	"ports_v6_3000                    in S v6 dport=3000 drop 1\n";

static const char actions[] =
	"# pass decides: the drop after it is not reached\n"
	"install pass_first: rule 1 flags SYN pass; rule 2 --syn drop\n"
	"pass_stops_evaluation            in S  pass 1\n"
	"pass_first_other_reaches_drop    in SP drop 2\n"
	"# count decides too (the first match decides): passed, would_drop\n"
	"install count_first: rule 1 flags SYN ingress egress count; "
	"rule 2 --syn drop\n"
	"count_passes_would_drop          in S  count 1\n"
	"count_first_other_reaches_drop   in SP drop 2\n"
	"count_egress                     eg S  count 1\n";

static const char priorities[] =
	"install prio: rule 1 --priority 5 nullscan drop; "
	"rule 2 --priority 1 nullscan count\n"
	"priority_lower_first             in - count 2\n"
	"install prio_equal: rule 7 nullscan drop; rule 3 nullscan count\n"
	"priority_equal_lower_id_first    in - count 3\n"
	"install prio_negative: rule 1 nullscan count; "
	"rule 2 --priority -1 nullscan drop; rule 3 --priority -1 nullscan pass\n"
	"priority_negative_first          in - drop 2\n";

static const char defaults[] =
	"install default_drop: default drop; rule 1 flags SYN pass; "
	"rule 2 nullscan count\n"
	"default_drop_rule_passes         in S  pass 1\n"
	"default_drop_unmatched           in A  default\n"
	"default_drop_unmatched_v6        in FA v6 default\n"
	"default_drop_count_rule          in -  count 2\n"
	"never default_drop_never\n"
	"install default_drop_alone: default drop\n"
	"default_drop_alone_tcp           in A  default\n"
	"default_drop_alone_v6            in FA v6 default\n"
	"never default_drop_alone_never\n"
	"live policy_default_drop_live 1\n";

/* Install A, then B, then C (into A's slot again). */
static const char switches[] =
	"install switch_a: rule 1 flags SYN drop; rule 2 src 10.0.0.0/8 drop; "
	"rule 3 dport 81 drop\n"
	"hits switch_fresh_null_zeroes_all 1=0 2=0 3=0\n"
	"switch_a_syn                     in S  drop 1\n"
	"switch_a_syn_again               in S  drop 1\n"
	"switch_a_src                     in A  src=10.1.1.1 drop 2\n"
	"switch_a_dport                   in A  dport=81 drop 3\n"
	"switch_a_fin                     in FA untouched\n"
	"install switch_b fresh=1,4: rule 1 flags FIN,ACK drop; "
	"rule 4 nullscan count\n"
	"switched switch_b_flips_set\n"
	"hits switch_b_fresh_ids_zeroed 1=0 4=0\n"
	"hits switch_b_removed_rules_read_nothing 2=0 3=0\n"
	"switch_b_syn_no_longer           in S  untouched\n"
	"switch_b_src_no_longer           in A  src=10.1.1.1 untouched\n"
	"switch_b_dport_no_longer         in A  dport=81 untouched\n"
	"switch_b_fin                     in FA drop 1\n"
	"install switch_c fresh=5,6: rule 5 src 11.0.0.0/8 drop; "
	"rule 6 dport 82 drop\n"
	"switched switch_c_back_to_first_slot\n"
	"switch_c_old_prefix_gone         in A  src=10.1.1.1 untouched\n"
	"switch_c_old_port_gone           in A  dport=81 untouched\n"
	"switch_c_fin_no_longer           in FA untouched\n"
	"switch_c_src                     in A  src=11.1.1.1 drop 5\n"
	"switch_c_dport                   in A  dport=82 drop 6\n"
	"hits switch_c_removed_rule_reads_nothing 1=0 4=0\n"
	"hits switch_c_fresh_counts 5=1 6=1\n";

/*
 * A rule new under the id of one it replaces: a segment the old set
 * decided after the new rule's counter was zeroed (it read the active set
 * before the switch) counts for the old rule, not for the new one.  flip
 * makes the old set the active one for such a segment, and back.
 */
static const char fresh_ids[] =
	"install fresh_a: rule 1 flags SYN drop; rule 2 flags FIN drop\n"
	"fresh_a_syn                      in S  drop 1\n"
	"fresh_a_fin                      in F  drop 2\n"
	"install fresh_b fresh=1: rule 1 flags FIN,ACK drop; rule 2 flags FIN drop\n"
	"hits fresh_b_zeroed_and_kept 1=0 2=1\n"
	"flip\n"
	"fresh_old_set_in_flight_syn      in S  drop 1\n"
	"fresh_old_set_in_flight_fin      in F  drop 2\n"
	"flip\n"
	"hits fresh_b_no_hit_of_the_old_rule 1=0 2=2\n"
	"fresh_b_finack                   in FA drop 1\n"
	"hits fresh_b_its_own_hits 1=1 2=2\n"
	"install fresh_c: rule 1 flags FIN,ACK drop; rule 2 flags FIN drop\n"
	"hits fresh_c_all_fresh 1=0 2=0\n"
	"fresh_c_finack                   in FA drop 1\n"
	"install fresh_d fresh=2: rule 1 flags FIN,ACK drop; rule 2 flags RST drop\n"
	"hits fresh_d_kept_across_switches 1=1 2=0\n";

/*
 * 2001:db8:0:1::1 and ::2 share a /64; c613:1:: is 198.19.0.1's bits.
 * 1/m: a bucket earns a token a minute, so what passes is its burst
 * (burst() still allows what it may have earned, should the run stall).
 */
static const char ratelimits[] =
	"rl_clear\n"
	"install rl_global: rule 10 nullscan ratelimit 1/m burst 3 per global\n"
	"rl_global_not_matching           in A untouched\n"
	"rl_global_burst                  in - src=198.19.0.1 burst 2 2 10\n"
	"rl_global_shared_by_sources      in - src=10.0.0.1 burst 2 1 10\n"
	"rl_global_empty                  in - v6 burst 3 0 10\n"
	"install rl_src: rule 11 nullscan ratelimit 1/m burst 3 per src\n"
	"rl_src_first                     in - src=198.19.0.1 burst 5 3 11\n"
	"rl_src_second_own_bucket         in - src=198.19.0.200 burst 5 3 11\n"
	"rl_src_first_still_empty         in - src=198.19.0.1 burst 1 0 11\n"
	"rl_src_v6_first                  in - v6 src=2001:db8:0:1::1 burst 4 3 11\n"
	"rl_src_v6_second                 in - v6 src=2001:db8:0:1::2 burst 4 3 11\n"
	"install rl_src24: rule 12 nullscan ratelimit 1/m burst 3 per src/24\n"
	"rl_src24_first                   in - src=198.19.0.1 burst 5 3 12\n"
	"rl_src24_same_24_shares          in - src=198.19.0.200 burst 5 0 12\n"
	"rl_src24_next_24_own             in - src=198.19.1.1 burst 5 3 12\n"
	"install rl_src64: rule 13 nullscan ratelimit 1/m burst 2 per src/64\n"
	"rl_src64_first                   in - v6 src=2001:db8:0:1::1 burst 3 2 13\n"
	"rl_src64_same_64_shares          in - v6 src=2001:db8:0:1::2 burst 3 0 13\n"
	"rl_src64_next_64_own             in - v6 src=2001:db8:0:2::1 burst 3 2 13\n"
	"install rl_default_burst: rule 14 nullscan ratelimit 1/m per global\n"
	"rl_default_burst_5               in - src=198.19.1.1 burst 7 5 14\n"
	"# per src: an IPv6 source is not the IPv4 source of its top bits\n"
	"install rl_family: rule 15 nullscan ratelimit 1/m burst 2 per src\n"
	"rl_src_v4_exhausted              in - src=198.19.0.1 burst 3 2 15\n"
	"rl_src_v6_not_v4_bucket          in - v6 src=c613:1:: burst 3 2 15\n"
	"# egress: its own rule, its own bucket\n"
	"install rl_egress: rule 16 egress nullscan ratelimit 1/m burst 1 "
	"per global\n"
	"rl_egress_burst                  eg - src=198.19.0.1 burst 3 1 16\n"
	"rl_egress_not_ingress            in - src=198.19.0.1 untouched\n"
	"# a rule changed under the same id starts from full buckets, not from\n"
	"# what its old text left; one written again as it was keeps its own\n"
	"install rl_changed_old: rule 17 nullscan ratelimit 1/m burst 2 per src\n"
	"rl_changed_old_exhausted         in - src=198.19.0.1 burst 3 2 17\n"
	"install rl_changed_new: rule 17 nullscan ratelimit 1/m burst 3 per src\n"
	"rl_changed_new_full              in - src=198.19.0.1 burst 4 3 17\n"
	"install rl_unchanged: rule 17 nullscan ratelimit 1/m burst 3 per src\n"
	"rl_unchanged_keeps_bucket        in - src=198.19.0.1 burst 1 0 17\n";

/*
 * The refill, on a clock the test drives: a bucket's last refill moved
 * back by k tokens' worth of ns gives k more passes (rounded down, the
 * fraction kept), never more than its burst.  The bucket is found by its
 * rule id in the map (the program's slot, not a copy of its hash).
 */
static int rl_find(struct ctx *x, int id, __u32 *slot,
		   struct tcpf_rl_bucket *b)
{
	int n = 0;

	for (__u32 k = 0; k < TCPF_RL_SLOTS; k++) {
		struct tcpf_rl_bucket v;

		if (bpf_map_lookup_elem(x->h.rl, &k, &v) || v.rule == 0 ||
		    (v.rule & 0x1ff) != (__u32)id)
			continue;
		*slot = k;
		*b = v;
		n++;
	}
	return n;
}

/* Move rule id's one bucket's last refill back by back_ns. */
static int rl_rewind(struct ctx *x, const char *name, int id, __u64 back_ns)
{
	struct tcpf_rl_bucket b;
	__u32 slot = 0;
	int n = rl_find(x, id, &slot, &b), err;

	if (n != 1) {
		hx_check(&x->h, 0, name, "%d buckets of rule %d, want 1", n, id);
		return -1;
	}
	b.last -= back_ns;
	err = bpf_map_update_elem(x->h.rl, &slot, &b, BPF_ANY);
	hx_check(&x->h, !err, name, "cannot write bucket %u: %s", slot,
		 strerror(errno));
	return err;
}

static void test_rl_refill(struct ctx *x)
{
	const __u64 tok = 60000000000ULL;   /* 1/m */
	struct frame_spec s = tcp4(0);

	rl_clear(x);
	if (install(x, "rl_refill", "rule 18 nullscan ratelimit 1/m burst 3 "
		    "per global\n"))
		return;
	burst(x, "rl_refill_burst", IN, &s, 4, 3, 18);
	/* 2.5 tokens: two pass, half a token stays */
	if (rl_rewind(x, "rl_refill_rewind_2.5", 18, 5 * tok / 2))
		return;
	burst(x, "rl_refill_two_and_a_half_tokens", IN, &s, 3, 2, 18);
	/* and the half with another half makes one */
	if (rl_rewind(x, "rl_refill_rewind_0.5", 18, tok / 2))
		return;
	burst(x, "rl_refill_halves_add_up", IN, &s, 2, 1, 18);
	/* a hundred tokens' worth: the burst, no more */
	if (rl_rewind(x, "rl_refill_rewind_100", 18, 100 * tok))
		return;
	burst(x, "rl_refill_capped_at_burst", IN, &s, 5, 3, 18);
}

/* Client ISN 0x1000, server ISN 0x9000. */
static const char phases[] =
	"flows_reset\n"
	"install phase_oos: rule 1 phase out_of_state "
	"--tcp-flags SYN,ACK,RST ACK ingress egress drop\n"
	"phase_oos_syn                        in S   conn=41000 seq=0x1000 ack=0 untouched\n"
	"phase_oos_synack_egress              eg SA  conn=41000 seq=0x9000 ack=0x1001 untouched\n"
	"phase_oos_handshake_ack              in A   conn=41000 seq=0x1001 ack=0x9001 untouched\n"
	"phase_oos_tracked_data               in PA  conn=41000 seq=0x1001 ack=0x9001 len=100 untouched\n"
	"phase_oos_tracked_ack_egress         eg A   conn=41000 seq=0x9001 ack=0x1065 untouched\n"
	"phase_oos_tracked_ack                in A   conn=41000 seq=0x1065 ack=0x9001 untouched\n"
	"phase_oos_stray_ack                  in A   conn=41001 seq=0x1065 ack=0x9001 drop 1\n"
	"phase_oos_stray_data                 in PA  conn=41001 seq=0x1065 ack=0x9001 len=10 drop 1\n"
	"phase_oos_stray_ack_egress           eg A   conn=41001 seq=0x9000 ack=0x1000 drop 1\n"
	"phase_oos_stray_rst_not_matched      in RA  conn=41001 seq=0x1000 ack=0x9000 untouched\n"
	"install phase_hs: rule 2 phase handshake_syn count; "
	"rule 3 phase handshake_synack,handshake_ack ingress egress drop; "
	"rule 4 phase retransmit drop\n"
	"phase_hs_syn                         in S   conn=41002 seq=0x1000 ack=0 count 2\n"
	"phase_hs_syn_retransmit              in S   conn=41002 seq=0x1000 ack=0 drop 4\n"
	"phase_hs_synack                      eg SA  conn=41002 seq=0x9000 ack=0x1001 drop 3\n"
	"phase_hs_ack                         in A   conn=41002 seq=0x1001 ack=0x9001 drop 3\n"
	"phase_hs_established_data            in PA  conn=41002 seq=0x1001 ack=0x9001 len=50 untouched\n"
	"phase_hs_data_retransmit             in PA  conn=41002 seq=0x1001 ack=0x9001 len=50 drop 4\n"
	"# untracked never happens with flows on\n"
	"install phase_untracked_on: rule 1 phase untracked drop\n"
	"phase_untracked_with_flows           in S   conn=41003 seq=0x1000 ack=0 untouched\n"
	"phase_untracked_with_flows_null      in -   conn=41004 seq=0x1000 ack=0 untouched\n";

/* Client ISN 0x5000, server ISN 0x7000; the last ACK closes the
 * connection: state none after it. */
static const char states[] =
	"flows_reset\n"
	"install state: rule 1 state none --tcp-flags SYN,ACK ACK drop; "
	"rule 2 state syn_recv ingress egress count; "
	"rule 3 state close_wait ingress egress count; "
	"rule 4 state last_ack egress count\n"
	"state_syn_recv_syn                   in S   conn=42000 seq=0x5000 ack=0 count 2\n"
	"state_syn_recv_synack                eg SA  conn=42000 seq=0x7000 ack=0x5001 count 2\n"
	"state_established_ack                in A   conn=42000 seq=0x5001 ack=0x7001 untouched\n"
	"state_established_data               in PA  conn=42000 seq=0x5001 ack=0x7001 len=20 untouched\n"
	"state_close_wait_peer_fin            in FA  conn=42000 seq=0x5015 ack=0x7001 count 3\n"
	"state_close_wait_ack_egress          eg A   conn=42000 seq=0x7001 ack=0x5016 count 3\n"
	"state_last_ack_egress_fin            eg FA  conn=42000 seq=0x7001 ack=0x5016 count 4\n"
	"state_none_after_close               in A   conn=42000 seq=0x5016 ack=0x7002 drop 1\n"
	"state_none_stray_ack                 in A   conn=42001 seq=0x5000 ack=0x7000 drop 1\n"
	"state_none_stray_synack_not_matched  in SA  conn=42002 seq=0x5000 ack=0x7000 untouched\n";

/* Without flows: every segment untracked, its state none. */
static const char untracked_off[] =
	"install phase_untracked_off: rule 1 phase untracked --syn ingress "
	"egress drop\n"
	"phase_untracked_without_flows        in S   drop 1\n"
	"phase_untracked_without_flows_ack    in A   untouched\n"
	"phase_untracked_without_flows_egress eg S   drop 1\n";

static const char state_none_off[] =
	"install state_none_off: rule 2 state none nullscan count; "
	"rule 3 state established xmas drop\n"
	"state_none_without_flows             in -   count 2\n"
	"state_established_without_flows      in FPU untouched\n";

/* ------------------------------------------------- tests written in C */

/*
 * Prefixes by property: random (fixed-seed) rule sets of nested, sibling
 * and disjoint prefixes of every length at a trie boundary, some through
 * sets, and probes at and around their edges, each checked against a
 * brute-force reference: the first rule, in priority order, whose
 * direction and family admit the frame and whose source and destination
 * lists (where given) each hold a prefix containing the address.  The
 * verdict and exactly which hit counter moved must agree.
 * PFX_PROP_SEED=N in the environment runs another seed.
 */
#define PP_ROUNDS 6
#define PP_RULES 40
#define PP_PROBES 200
#define PP_LIST 8                /* prefixes a side of a rule, sets expanded */
#define PP_SETS 3
#define PP_SET_MAX 6
#define PP_BASES 4
#define PP_POOL (PP_RULES * PP_LIST)
#define PP_FILLERS 44            /* rules no probe meets, in later rounds */

struct pp_pfx {
	int fam;                 /* TCPF_IPV4, TCPF_IPV6 */
	int plen;
	__u8 a[16];              /* host bits zero; IPv4 in a[0..3], rest 0 */
};

struct pp_rule {
	int id, prio, action, dirs, fams;
	int n[2];                /* prefixes per side (0 src, 1 dst) */
	struct pp_pfx p[2][PP_LIST];
	char text[RULE_TEXT_MAX];
};

struct pp_set {
	char name[16];
	int n;
	struct pp_pfx p[PP_SET_MAX];
};

static const int pp_len[TCPF_FAMILIES][13] = {
	{ 0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32 },
	{ 0, 1, 8, 15, 16, 17, 47, 48, 63, 64, 65, 127, 128 },
};

static __u64 pp_state;

/* xorshift64*: the same sequence on every run and every libc */
static __u32 pp_rand(void)
{
	pp_state ^= pp_state >> 12;
	pp_state ^= pp_state << 25;
	pp_state ^= pp_state >> 27;
	return (__u32)((pp_state * 0x2545f4914f6cdd1dULL) >> 32);
}

static int pp_below(int n)
{
	return (int)(pp_rand() % (__u32)n);
}

static int pp_bits(int fam)
{
	return fam == TCPF_IPV4 ? 32 : 128;
}

static int pp_bit(const __u8 *a, int i)
{
	return a[i / 8] >> (7 - i % 8) & 1;
}

static void pp_flip(__u8 *a, int i)
{
	a[i / 8] ^= (__u8)(0x80 >> (i % 8));
}

static void pp_setbit(__u8 *a, int i, int v)
{
	if (pp_bit(a, i) != !!v)
		pp_flip(a, i);
}

static void pp_random(__u8 *a, int fam)
{
	memset(a, 0, 16);
	for (int i = 0; i < pp_bits(fam) / 8; i++)
		a[i] = (__u8)pp_rand();
}

/* a += delta (+1 or -1), wrapping at the ends of the family's space */
static void pp_step(__u8 *a, int fam, int delta)
{
	for (int i = pp_bits(fam) / 8 - 1; i >= 0; i--) {
		a[i] = (__u8)(a[i] + delta);
		if (a[i] != (delta > 0 ? 0x00 : 0xff))
			break;
	}
}

static bool pp_in(const struct pp_pfx *p, int fam, const __u8 *a)
{
	if (p->fam != fam)
		return false;
	for (int i = 0; i < p->plen; i++)
		if (pp_bit(p->a, i) != pp_bit(a, i))
			return false;
	return true;
}

/* A prefix of a boundary length from a base: nested, sibling or cousin. */
static void pp_make(struct pp_pfx *p, int fam, __u8 bases[][PP_BASES][16])
{
	int v = pp_below(10), l;

	do
		l = pp_len[fam][pp_below(13)];
	while (l <= 1 && pp_below(4));	/* /0 and /1 cover too much: rarely */
	p->fam = fam;
	p->plen = l;
	memcpy(p->a, bases[fam][pp_below(PP_BASES)], 16);
	if (l && v == 0)
		pp_flip(p->a, l - 1);          /* the sibling */
	else if (l && v == 1)
		pp_flip(p->a, pp_below(l));    /* a cousin, disjoint */
	for (int i = l; i < pp_bits(fam); i++)
		pp_setbit(p->a, i, 0);
}

/* Append to buf of size bytes at *n (past size once it is full). */
static void pp_cat(char *buf, size_t size, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void pp_cat(char *buf, size_t size, size_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*n += (size_t)vsnprintf(buf + (*n < size ? *n : size),
				*n < size ? size - *n : 0, fmt, ap);
	va_end(ap);
}

/* PREFIX as text; now and then with host bits set (the parser clears them). */
static void pp_put(char *buf, size_t size, size_t *n, const struct pp_pfx *p)
{
	char s[INET6_ADDRSTRLEN];
	__u8 a[16];

	memcpy(a, p->a, 16);
	if (!pp_below(8))
		for (int i = p->plen; i < pp_bits(p->fam); i++)
			pp_setbit(a, i, pp_below(2));
	inet_ntop(p->fam == TCPF_IPV4 ? AF_INET : AF_INET6, a, s, sizeof(s));
	pp_cat(buf, size, n, "%s/%d", s, p->plen);
}

/* An address near a prefix of the pool: at, just past or inside an edge. */
static void pp_near(__u8 *a, int fam, const struct pp_pfx *pool[2][PP_POOL],
		    const int npool[2])
{
	const struct pp_pfx *p;
	int k = pp_below(20);

	if (!npool[fam] || k == 19) {
		pp_random(a, fam);
		return;
	}
	if (k == 18 && npool[!fam]) {
		/* the other family's prefix bytes: must not match across */
		p = pool[!fam][pp_below(npool[!fam])];
		pp_random(a, fam);
		if (pp_below(2) && fam == TCPF_IPV6)
			memset(a, 0, 16);
		memcpy(a, p->a, 4);
		return;
	}
	p = pool[fam][pp_below(npool[fam])];
	memcpy(a, p->a, 16);
	if (k >= 3 && k < 6) {                 /* the last address */
		for (int i = p->plen; i < pp_bits(fam); i++)
			pp_setbit(a, i, 1);
	} else if (k >= 6 && k < 9) {          /* just below the base */
		pp_step(a, fam, -1);
	} else if (k >= 9 && k < 12) {         /* just past the last */
		for (int i = p->plen; i < pp_bits(fam); i++)
			pp_setbit(a, i, 1);
		pp_step(a, fam, 1);
	} else if (k >= 12) {                  /* inside, and one bit off */
		for (int i = p->plen; i < pp_bits(fam); i++)
			pp_setbit(a, i, pp_below(2));
		if (k >= 16)
			pp_flip(a, pp_below(pp_bits(fam)));
	}                                      /* else the base itself */
}

static int pp_order(const void *x, const void *y)
{
	const struct pp_rule *a = x, *b = y;

	if (a->prio != b->prio)
		return a->prio < b->prio ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static const char *pp_action(int act)
{
	return act == TCPF_ACT_DROP ? "drop" :
	       act == TCPF_ACT_COUNT ? "count" : "pass";
}

/* Rule set number `round`: its text in buf, its rules in priority order. */
static int pp_build(int round, struct pp_rule *r, char *buf, size_t size)
{
	__u8 bases[TCPF_FAMILIES][PP_BASES][16];
	struct pp_set set[PP_SETS];
	int ids[TCPF_RULES_MAX], nrules;
	size_t n = 0;

	/* bases that share leading bits at many depths; an IPv6 one starts
	 * with the bytes of an IPv4 one */
	for (int f = 0; f < TCPF_FAMILIES; f++) {
		int bits = pp_bits(f);

		pp_random(bases[f][0], f);
		memcpy(bases[f][1], bases[f][0], 16);
		pp_flip(bases[f][1], 8 + pp_below(bits - 8));
		memcpy(bases[f][2], bases[f][0], 16);
		pp_flip(bases[f][2], bits * 3 / 4 + pp_below(bits / 4));
		pp_random(bases[f][3], f);
	}
	memcpy(bases[TCPF_IPV6][3], bases[TCPF_IPV4][0], 2);
	if (round & 1)
		pp_cat(buf, size, &n, "default drop\n");
	for (int s = 0; s < PP_SETS; s++) {
		struct pp_set *st = &set[s];

		snprintf(st->name, sizeof(st->name), "pp%d%c", round, 'a' + s);
		st->n = 0;
		pp_cat(buf, size, &n, "set %s {", st->name);
		if (s == PP_SETS - 1) {        /* a set of a set */
			pp_cat(buf, size, &n, " @%s", set[0].name);
			memcpy(st->p, set[0].p, sizeof(st->p[0]) * (size_t)set[0].n);
			st->n = set[0].n;
		}
		for (int k = 1 + pp_below(3); k > 0; k--) {
			struct pp_pfx *p = &st->p[st->n++];

			pp_make(p, pp_below(2), bases);
			pp_cat(buf, size, &n, " ");
			pp_put(buf, size, &n, p);
		}
		pp_cat(buf, size, &n, " }\n");
	}
	for (int i = 0; i < TCPF_RULES_MAX; i++)
		ids[i] = i + 1;
	for (int i = TCPF_RULES_MAX - 1; i > 0; i--) {
		int j = pp_below(i + 1), t = ids[i];

		ids[i] = ids[j];
		ids[j] = t;
	}
	/*
	 * Later rounds first add rules no probe can meet (the probes carry
	 * ACK alone), ahead of the others: their prefixes still go into the
	 * classes, and the rules that can match straddle bit 64 of a bitmap.
	 */
	for (int k = 0; round >= PP_ROUNDS / 2 && k < PP_FILLERS; k++) {
		struct pp_pfx p;

		pp_make(&p, pp_below(2), bases);
		pp_cat(buf, size, &n, "rule %d --priority -1 %s ",
		       ids[TCPF_RULES_MAX - 1 - k], pp_below(2) ? "dst" : "src");
		pp_put(buf, size, &n, &p);
		pp_cat(buf, size, &n, " flags SYN drop\n");
	}
	nrules = PP_RULES / 2 + pp_below(PP_RULES / 2 + 1);
	for (int k = 0; k < nrules; k++) {
		struct pp_rule *q = &r[k];
		int v = pp_below(10), depth = 7, wide = 0;
		size_t tl = 0, ts = sizeof(q->text);

		memset(q, 0, sizeof(*q));
		q->id = ids[k];
		pp_cat(q->text, ts, &tl, "rule %d", q->id);
		for (int side = 0; side < 2; side++) {
			/* src only, dst only, or both */
			if ((side == 0 && v >= 5 && v < 8) ||
			    (side == 1 && v < 5))
				continue;
			pp_cat(q->text, ts, &tl, " %s ", side ? "dst" : "src");
			if (!pp_below(4)) {
				const struct pp_set *st = &set[pp_below(PP_SETS)];

				pp_cat(q->text, ts, &tl, "@%s", st->name);
				memcpy(q->p[side], st->p,
				       sizeof(st->p[0]) * (size_t)st->n);
				q->n[side] = st->n;
				if (pp_below(2))
					continue;
				pp_cat(q->text, ts, &tl, ",");
			}
			for (int c = 1 + pp_below(3);
			     c > 0 && q->n[side] < PP_LIST; c--) {
				struct pp_pfx *p = &q->p[side][q->n[side]++];

				pp_make(p, pp_below(2), bases);
				pp_put(q->text, ts, &tl, p);
				if (c > 1 && q->n[side] < PP_LIST)
					pp_cat(q->text, ts, &tl, ",");
			}
		}
		for (int side = 0; side < 2; side++)
			for (int j = 0; j < q->n[side]; j++) {
				const struct pp_pfx *p = &q->p[side][j];
				int eighths = p->plen * 8 / (pp_bits(p->fam) + 1);

				if (p->plen <= 1)
					wide = 1;
				if (eighths < depth)
					depth = eighths;
			}
		/*
		 * What holds (nearly) every address goes last; half the rest
		 * by depth, the rule whose widest prefix is longest first
		 * (or long prefixes would seldom decide), half in any order
		 * (a wide rule before a narrow one inside it).
		 */
		q->prio = wide ? 8 + pp_below(2) :
			  pp_below(2) ? 7 - depth : pp_below(8);
		pp_cat(q->text, ts, &tl, " --priority %d", q->prio);
		q->fams = (1 << TCPF_FAMILIES) - 1;
		v = pp_below(8);
		if (v < 2) {
			q->fams = 1 << v;
			pp_cat(q->text, ts, &tl, " %s", v ? "ipv6" : "ipv4");
		}
		v = pp_below(10);
		q->dirs = 1 << IN;
		if (v >= 7 && v < 9) {
			q->dirs |= 1 << EG;
			pp_cat(q->text, ts, &tl, " ingress egress");
		} else if (v == 9) {
			q->dirs = 1 << EG;
			pp_cat(q->text, ts, &tl, " egress");
		}
		v = pp_below(5);
		q->action = v < 2 ? TCPF_ACT_DROP : v < 4 ? TCPF_ACT_COUNT :
			    TCPF_ACT_PASS;
		pp_cat(q->text, ts, &tl, " %s", pp_action(q->action));
		if (tl >= ts)
			return -1;
		pp_cat(buf, size, &n, "%s\n", q->text);
	}
	if (n >= size)
		return -1;
	qsort(r, (size_t)nrules, sizeof(r[0]), pp_order);
	return nrules;
}

static void test_prefix_property(struct ctx *x)
{
	static struct pp_rule rules[PP_RULES];
	static char text[32768];
	const char *env = getenv("PFX_PROP_SEED");

	pp_state = env ? strtoull(env, NULL, 0) : 0x7063667870726f70ULL;
	if (!pp_state)
		pp_state = 1;
	for (int round = 0; round < PP_ROUNDS; round++) {
		const struct pp_pfx *pool[2][PP_POOL];
		int npool[2] = { 0, 0 }, nrules, shown = 0;
		char name[64];

		nrules = pp_build(round, rules, text, sizeof(text));
		snprintf(name, sizeof(name), "pfx_prop_r%d", round);
		if (nrules < 0) {
			hx_check(NULL, 0, name, "rule set text too long");
			continue;
		}
		if (install(x, name, text)) {
			printf("  rule set of round %d:\n%s", round, text);
			continue;
		}
		/* where the probes go: every prefix a rule names, any side */
		for (int k = 0; k < nrules; k++)
			for (int side = 0; side < 2; side++)
				for (int j = 0; j < rules[k].n[side]; j++) {
					const struct pp_pfx *p = &rules[k].p[side][j];

					pool[p->fam][npool[p->fam]++] = p;
				}
		for (int i = 0; i < PP_PROBES; i++) {
			int fam = pp_below(2), side = pp_below(2);
			int dir = pp_below(5) ? IN : EG, want = NONE, failed;
			struct frame_spec s = fam == TCPF_IPV4 ? tcp4(ACK) : tcp6(ACK);
			char as[2][INET6_ADDRSTRLEN];
			__u8 a[2][16];

			pp_near(a[side], fam, pool, npool);
			if (pp_below(3))
				pp_near(a[!side], fam, pool, npool);
			else
				pp_random(a[!side], fam);
			for (int k = 0; k < nrules && want == NONE; k++) {
				const struct pp_rule *q = &rules[k];
				bool ok = (q->fams >> fam & 1) && (q->dirs >> dir & 1);

				for (int sd = 0; sd < 2 && ok; sd++) {
					bool in = !q->n[sd];

					for (int j = 0; j < q->n[sd] && !in; j++)
						in = pp_in(&q->p[sd][j], fam, a[sd]);
					ok = in;
				}
				if (ok)
					want = k;
			}
			s.saddr = a[0];
			s.daddr = a[1];
			snprintf(name, sizeof(name), "pfx_prop_r%d_%03d_v%d_%s",
				 round, i, fam == TCPF_IPV4 ? 4 : 6,
				 dir == IN ? "in" : "eg");
			failed = hx_failed();
			if (want == NONE)
				expect(x, name, dir, &s, (round & 1) && dir == IN,
				       NONE, (round & 1) && dir == IN ? R_DEF : NONE);
			else
				expect(x, name, dir, &s,
				       rules[want].action == TCPF_ACT_DROP,
				       rules[want].id,
				       rules[want].action == TCPF_ACT_DROP ? R_RULE :
				       rules[want].action == TCPF_ACT_COUNT ? R_WOULD :
				       NONE);
			if (hx_failed() == failed)
				continue;
			for (int sd = 0; sd < 2; sd++)
				inet_ntop(fam == TCPF_IPV4 ? AF_INET : AF_INET6,
					  a[sd], as[sd], sizeof(as[sd]));
			printf("  %s: %s frame %s -> %s; want %s%s\n", name,
			       dir == IN ? "ingress" : "egress", as[0], as[1],
			       want == NONE ? "no rule" : "the first match: ",
			       want == NONE ? "" : rules[want].text);
			if (!shown++)
				printf("  rule set of round %d:\n%s", round, text);
		}
	}
}

/* 256 rules: rank i is rule 256 - i, matching dport 1000 + i only. */
static void test_full(struct ctx *x)
{
	static const int ranks[] = { 0, 1, 62, 63, 64, 65, 127, 128, 191, 192,
				     254, 255 };
	size_t size = 256 * 64, n = 0;
	char *t = malloc(size), name[64];

	for (int i = 0; i < TCPF_RULES_MAX; i++)
		n += (size_t)snprintf(t + n, size - n,
				      "rule %d --priority %d dport %d %s\n",
				      TCPF_RULES_MAX - i, i, 1000 + i,
				      i % 2 ? "count" : "drop");
	if (install(x, "full", t)) {
		free(t);
		return;
	}
	free(t);
	for (size_t k = 0; k < sizeof(ranks) / sizeof(ranks[0]); k++) {
		struct frame_spec s = tcp4(SYN);
		int r = ranks[k];

		s.dport = (__u16)(1000 + r);
		snprintf(name, sizeof(name), "full_256_rank_%d", r);
		expect(x, name, IN, &s, r % 2 == 0, TCPF_RULES_MAX - r,
		       r % 2 ? R_WOULD : R_RULE);
	}
	run_script(x, "full", "full_256_no_match in S dport=999 untouched\n"
		   "full_256_past_last in S dport=1256 untouched\n");

	/* the last rule matches everything, all before it nothing here */
	n = 0;
	t = malloc(size);
	for (int i = 1; i < TCPF_RULES_MAX; i++)
		n += (size_t)snprintf(t + n, size - n, "dport %d drop\n", i);
	snprintf(t + n, size - n, "--priority 9 count\n");
	if (!install(x, "full_last_catch_all", t))
		run_script(x, "full_last_catch_all",
			   "full_256_last_rule_matches in A dport=8080 count 256\n"
			   "full_256_rule_255 in A dport=255 drop 255\n");
	free(t);
}

/*
 * A stray segment whose half-open slot holds another connection's
 * handshake has no connection: its state is none, not that handshake's.
 */
static void test_state_slot(struct ctx *x)
{
	__u32 mask = x->h.skel->rodata->tcpf_syns_mask;
	struct tcpf_flow_key k;
	char steps[1024];
	__u16 p = 0, q;
	__u32 slot, at = 0;
	int busy;

	flowkey_make(4, h4_a, h4_b, 43000, 80, 0, &k);
	slot = flowkey_slot(&k, mask);
	for (q = 43001; q < 60000 && !p; q++) {
		flowkey_make(4, h4_a, h4_b, q, 80, 0, &k);
		if (flowkey_slot(&k, mask) == slot)
			p = q;
	}
	if (!p) {
		hx_check(NULL, 0, "on_state_slot_setup", "no port shares the slot");
		return;
	}
	run_script(x, "state_slot", "flows_reset\n"
		 "install state_slot: rule 1 state none --tcp-flags SYN,ACK ACK "
		 "ingress egress drop; rule 2 state syn_recv,syn_sent ingress "
		 "egress count\n"
		 "state_slot_half_open_syn in S conn=43000 seq=0x100 ack=0 "
		 "count 2\n");
	/* aimed with the hash's copy: the program's own slot is that one,
	 * else the stray segments below would not meet the handshake */
	flowkey_make(4, h4_a, h4_b, 43000, 80, 0, &k);
	busy = 0;
	for (__u32 i = 0; i <= mask; i++) {
		struct tcpf_syn h;

		if (!bpf_map_lookup_elem(x->h.syns, &i, &h) &&
		    h.stage != TCPF_HS_EMPTY && !memcmp(&h.key, &k, sizeof(k))) {
			busy++;
			at = i;
		}
	}
	hx_check(NULL, busy == 1 && at == slot, "on_state_slot_aimed",
		 "the handshake in %d slots, the last %u; the stray ACKs aim "
		 "at %u", busy, at, slot);
	snprintf(steps, sizeof(steps),
		 "state_none_stray_ack_in_busy_slot in A conn=%u seq=0x200 "
		 "ack=0x300 drop 1\n"
		 "state_none_stray_ack_in_busy_slot_egress eg A conn=%u "
		 "seq=0x300 ack=0x200 drop 1\n", p, p);
	run_script(x, "state_slot", steps);
}

static int load(struct ctx *x, const char *tag, bool flows)
{
	/* a small half-open table, so tests can aim two keys at one slot */
	struct hx_opts o = { .flows = flows, .slots = 256 };

	/* every rate-limit bucket is filled after the program loads */
	x->rl_epoch = mono_ns();
	if (hx_open(&x->h, tag, &o))
		return -1;
	x->m = (struct policy_maps){
		.policy = x->h.policy, .sets = x->h.sets, .hits = x->h.hits,
	};
	return 0;
}

/* ------------------------------------------------------------ main */

/* A part of the suite: a script, or a test written in C. */
struct part {
	const char *name;
	const char *script;
	void (*run)(struct ctx *x);
};

static const struct part off_parts[] = {
	{ "empty", empty, NULL }, { "flag_forms", NULL, test_flag_forms },
	{ "families", families, NULL }, { "directions", directions, NULL },
	{ "prefixes", prefixes, NULL },
	{ "prefix_property", NULL, test_prefix_property },
	{ "ports", ports, NULL }, { "actions", actions, NULL },
	{ "priorities", priorities, NULL }, { "default", defaults, NULL },
	{ "switch", switches, NULL }, { "fresh_ids", fresh_ids, NULL },
	{ "full", NULL, test_full },
	{ "ratelimit", ratelimits, NULL },
	{ "ratelimit_refill", NULL, test_rl_refill },
	{ "phase_untracked_off", untracked_off, NULL },
	{ "state_none_off", state_none_off, NULL },
};

static const struct part on_parts[] = {
	{ "phases", phases, NULL }, { "states", states, NULL },
	{ "state_slot", NULL, test_state_slot },
	{ "directions", directions, NULL }, { "default", defaults, NULL },
};

/* Load the program (flows on or off) and run the parts on it. */
static int run_parts(struct ctx *x, const char *tag, bool flows,
		     const struct part *parts, size_t n)
{
	if (load(x, tag, flows))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (parts[i].script)
			run_script(x, parts[i].name, parts[i].script);
		else
			parts[i].run(x);
	}
	hx_close(&x->h);
	return 0;
}

int main(void)
{
	if (run_parts(&off_ctx, "off", false, off_parts,
		      sizeof(off_parts) / sizeof(off_parts[0])) ||
	    run_parts(&on_ctx, "on", true, on_parts,
		      sizeof(on_parts) / sizeof(on_parts[0])))
		return 1;
	return hx_done("test_policy");
}
