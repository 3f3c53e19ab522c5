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

/* The harness's context and the policy maps policy_write() fills. */
struct ctx {
	struct hx h;
	struct policy_maps m;
};

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
static void rl_clear(const struct ctx *x)
{
	__u32 vs = bpf_map__value_size(x->h.skel->maps.tcpf_ratelimit);
	void *zero = calloc(1, vs);

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

/* Shorthands: dropped by a rule, passed by a count rule, untouched. */
static void dropped(struct ctx *x, const char *name, int dir,
		    const struct frame_spec *s, int id)
{
	expect(x, name, dir, s, 1, id, R_RULE);
}

static void counted(struct ctx *x, const char *name, int dir,
		    const struct frame_spec *s, int id)
{
	expect(x, name, dir, s, 0, id, R_WOULD);
}

static void passed(struct ctx *x, const char *name, int dir,
		   const struct frame_spec *s, int id)
{
	expect(x, name, dir, s, 0, id, NONE);
}

static void untouched(struct ctx *x, const char *name, int dir,
		      const struct frame_spec *s)
{
	expect(x, name, dir, s, 0, NONE, NONE);
}

/*
 * n copies of a frame, quickly: exactly npass pass, the rest are dropped
 * as over the rate; rule id hit by all n.
 */
static void burst(struct ctx *x, const char *name, int dir,
		  const struct frame_spec *s, int n, int npass, int id)
{
	static struct hx_counts before, after, want;
	__u8 buf[FRAME_MAX];
	struct frame_layout lay;
	__u32 len = frame_build(s, buf, &lay), ret = 0;
	char why[1024];
	int got = 0, bad = 0;

	memset(&want, 0, sizeof(want));
	want.c[HX_HITS][id] = (struct tcpf_count){ (__u64)n, (__u64)n * len };
	want.c[HX_DROPS][R_RL] = (struct tcpf_count){ (__u64)(n - npass),
						      (__u64)(n - npass) * len };
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
	hx_snap(&x->h, WATCH, &after);
	hx_moved(&before, &after, &want, WATCH, why, sizeof(why));
	hx_check(&x->h, !bad && got == npass && !why[0], name,
		 "%d of %d passed, want %d; %d odd verdicts; %s", got, n,
		 npass, bad, why);
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

/* ------------------------------------------------------ the tests */

/* Nothing installed, or an empty set: every segment passes, no count. */
static void test_empty(struct ctx *x)
{
	struct frame_spec s = tcp4(0), v6 = tcp6(SYN | FIN);

	untouched(x, "none_installed_null", IN, &s);
	untouched(x, "none_installed_egress", EG, &v6);
	if (install(x, "empty_first", "nullscan drop\nrule 9 --syn count\n"))
		return;
	dropped(x, "before_empty_null_dropped", IN, &s, 1);
	if (install(x, "empty", "# nothing\n\n"))
		return;
	untouched(x, "empty_null", IN, &s);
	untouched(x, "empty_synfin_v6", IN, &v6);
	untouched(x, "empty_egress", EG, &s);
	s.flags = SYN;
	untouched(x, "empty_syn", IN, &s);
	if (install(x, "default_pass_only", "default pass\n"))
		return;
	s.flags = 0;
	untouched(x, "default_pass_only_null", IN, &s);
	{
		struct tcpf_policy p;

		policy_read(x, &p);
		hx_check(NULL, !p.live, "policy_empty_not_live",
			     "live %u after an empty rule set", p.live);
	}
}

static void test_families(struct ctx *x)
{
	struct frame_spec n4 = tcp4(0), n6 = tcp6(0);
	struct frame_spec x4 = tcp4(FIN | PSH | URG), x6 = tcp6(FIN | PSH | URG);

	if (install(x, "families", "rule 1 ipv6 nullscan drop\n"
		    "rule 2 ipv4 xmas count\n"))
		return;
	dropped(x, "ipv6_rule_v6_frame", IN, &n6, 1);
	untouched(x, "ipv6_rule_v4_frame", IN, &n4);
	counted(x, "ipv4_rule_v4_frame", IN, &x4, 2);
	untouched(x, "ipv4_rule_v6_frame", IN, &x6);
}

static void test_directions(struct ctx *x)
{
	struct frame_spec n = tcp4(0), xm = tcp4(FIN | PSH | URG);
	struct frame_spec n6 = tcp6(0);

	if (install(x, "directions", "rule 1 ingress nullscan drop\n"
		    "rule 2 egress xmas drop\n"
		    "rule 3 egress ipv6 nullscan count\n"))
		return;
	dropped(x, "ingress_rule_ingress_frame", IN, &n, 1);
	untouched(x, "ingress_rule_egress_frame", EG, &n);
	dropped(x, "egress_rule_egress_frame_shot", EG, &xm, 2);
	untouched(x, "egress_rule_ingress_frame", IN, &xm);
	counted(x, "egress_count_egress_v6", EG, &n6, 3);
	dropped(x, "ingress_rule_ingress_v6", IN, &n6, 1);
}

static void test_prefixes(struct ctx *x)
{
	static const __u8 a[4] = { 10, 1, 2, 3 }, b[4] = { 10, 9, 0, 1 },
			  c[4] = { 11, 0, 0, 1 }, d[4] = { 10, 1, 3, 1 },
			  e[4] = { 10, 1, 2, 200 }, net[4] = { 192, 0, 2, 9 },
			  other[4] = { 192, 0, 3, 1 };
	static const __u8 v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 5 },
			  v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 5 },
			  v6c[16] = { 0x20, 0x01, 0x0d, 0xb9, [15] = 1 },
			  v6d[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0,
				      0, 0, 0, 0, 0, 0x77 };
	struct frame_spec s = tcp4(ACK), s6 = tcp6(ACK);

	/* the /8 first: an address in the /24 still meets the /8 first */
	if (install(x, "nested_v4_wide_first", "rule 1 src 10.0.0.0/8 count\n"
		    "rule 2 src 10.1.2.0/24 drop\n"))
		return;
	s.saddr = a;
	counted(x, "nested_v4_wide_first_in_24", IN, &s, 1);
	s.saddr = b;
	counted(x, "nested_v4_wide_first_in_8", IN, &s, 1);
	s.saddr = c;
	untouched(x, "nested_v4_wide_first_outside", IN, &s);

	/* the /24 first */
	if (install(x, "nested_v4_narrow_first", "rule 1 src 10.1.2.0/24 drop\n"
		    "rule 2 src 10.0.0.0/8 count\n"
		    "rule 3 src 10.1.2.200/32 pass\n"))
		return;
	s.saddr = a;
	dropped(x, "nested_v4_narrow_first_in_24", IN, &s, 1);
	s.saddr = e;   /* the /32 of rule 3 is inside rule 1's /24 */
	dropped(x, "nested_v4_host_in_24", IN, &s, 1);
	s.saddr = d;
	counted(x, "nested_v4_narrow_first_in_8", IN, &s, 2);
	s.saddr = b;
	counted(x, "nested_v4_narrow_first_in_8_b", IN, &s, 2);
	s.saddr = c;
	untouched(x, "nested_v4_narrow_first_outside", IN, &s);
	s.saddr = NULL;

	/* destinations; a rule with both sides needs both */
	if (install(x, "dst_v4", "rule 1 dst 192.0.2.0/24 src 10.0.0.0/8 drop\n"
		    "rule 2 dst 192.0.2.0/24 count\n"
		    "rule 3 src 192.0.2.0/24 drop\n"))
		return;
	s.daddr = net;
	counted(x, "dst_v4_in", IN, &s, 2);
	s.saddr = a;
	dropped(x, "dst_v4_src_and_dst", IN, &s, 1);
	s.daddr = other;
	untouched(x, "dst_v4_src_only", IN, &s);
	s.saddr = h4_a;
	s.daddr = h4_b;
	untouched(x, "dst_v4_neither", IN, &s);
	s.saddr = net;  /* 192.0.2.9 as a source: rule 3 only */
	dropped(x, "dst_v4_sides_apart", IN, &s, 3);
	s.saddr = s.daddr = NULL;

	/* IPv6, nested */
	if (install(x, "nested_v6", "rule 1 src 2001:db8:1::/48 drop\n"
		    "rule 2 src 2001:db8::/32 count\n"
		    "rule 3 dst 2001:db8:1::77/128 drop\n"))
		return;
	s6.saddr = v6a;
	dropped(x, "nested_v6_in_48", IN, &s6, 1);
	s6.saddr = v6b;
	counted(x, "nested_v6_in_32", IN, &s6, 2);
	s6.saddr = v6c;
	untouched(x, "nested_v6_outside", IN, &s6);
	s6.saddr = NULL;
	s6.daddr = v6d;
	dropped(x, "dst_v6_host", IN, &s6, 3);
	s6.daddr = v6a;
	untouched(x, "dst_v6_other_host", IN, &s6);
	s6.daddr = NULL;

	/* a family's prefixes never match the other family */
	if (install(x, "pfx_zero", "rule 1 src 0.0.0.0/0 drop\n"
		    "rule 2 dst ::/0 count\n"))
		return;
	dropped(x, "pfx_v4_slash0_v4", IN, &s, 1);
	counted(x, "pfx_v6_slash0_v6", IN, &s6, 2);
	if (install(x, "pfx_v4_only", "rule 1 src 0.0.0.0/0 drop\n"))
		return;
	untouched(x, "pfx_v4_slash0_not_v6", IN, &s6);

	/* sets, mixed with literal prefixes */
	if (install(x, "sets", "set bad 10.0.0.0/8 2001:db8::/32\n"
		    "set more @bad 192.0.2.0/24\n"
		    "rule 4 src @bad drop\n"
		    "rule 5 dst @more,198.51.100.0/24 count\n"))
		return;
	s.saddr = b;
	dropped(x, "set_v4", IN, &s, 4);
	s6.saddr = v6b;
	dropped(x, "set_v6", IN, &s6, 4);
	s6.saddr = v6c;
	untouched(x, "set_v6_outside", IN, &s6);
	s.saddr = c;
	s.daddr = net;
	counted(x, "set_of_sets_dst", IN, &s, 5);
	s.daddr = a;
	counted(x, "set_of_sets_dst_from_bad", IN, &s, 5);
	s.daddr = other;
	untouched(x, "set_outside", IN, &s);
}

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

static void test_ports(struct ctx *x)
{
	static const struct {
		__u16 sport, dport;
		int id, reason;
	} cases[] = {
		{ 0, 999, NONE, NONE }, { 0, 1000, 1, R_RULE },
		{ 0, 1500, 1, R_RULE }, { 0, 2000, 1, R_RULE },
		{ 0, 2001, NONE, NONE }, { 0, 3000, 1, R_RULE },
		{ 0, 3001, NONE, NONE }, { 0, 65535, NONE, NONE },
		{ 5353, 80, 2, R_WOULD }, { 5353, 1500, 1, R_RULE },
		{ 5354, 80, NONE, NONE }, { 1, 80, NONE, NONE },
		{ 65535, 65534, 3, R_WOULD }, { 65535, 65535, 3, R_WOULD },
		{ 65535, 65533, NONE, NONE },
	};
	char name[64];

	if (install(x, "ports", "rule 1 dport 1000-2000,3000 drop\n"
		    "rule 2 sport 5353 count\n"
		    "rule 3 sport 65535 dport 65534-65535 count\n"
		    "rule 4 sport 65535 dport 65535 drop\n"))
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame_spec s = tcp4(SYN);

		s.sport = cases[i].sport;
		s.dport = cases[i].dport;
		snprintf(name, sizeof(name), "ports_%u_to_%u",
			 cases[i].sport ? cases[i].sport : 40000,
			 cases[i].dport);
		expect(x, name, IN, &s, cases[i].reason == R_RULE,
		       cases[i].id, cases[i].reason);
	}
	{
		struct frame_spec s = tcp6(SYN);

		s.dport = 3000;
		dropped(x, "ports_v6_3000", IN, &s, 1);
	}
}

static void test_actions(struct ctx *x)
{
	struct frame_spec syn = tcp4(SYN), synpsh = tcp4(SYN | PSH);

	/* pass decides: the drop after it is not reached */
	if (install(x, "pass_first", "rule 1 flags SYN pass\n"
		    "rule 2 --syn drop\n"))
		return;
	passed(x, "pass_stops_evaluation", IN, &syn, 1);
	dropped(x, "pass_first_other_reaches_drop", IN, &synpsh, 2);

	/* count decides too (the first match decides): passed, would_drop */
	if (install(x, "count_first", "rule 1 flags SYN ingress egress count\n"
		    "rule 2 --syn drop\n"))
		return;
	counted(x, "count_passes_would_drop", IN, &syn, 1);
	dropped(x, "count_first_other_reaches_drop", IN, &synpsh, 2);
	counted(x, "count_egress", EG, &syn, 1);
}

static void test_priorities(struct ctx *x)
{
	struct frame_spec n = tcp4(0);

	if (install(x, "prio", "rule 1 --priority 5 nullscan drop\n"
		    "rule 2 --priority 1 nullscan count\n"))
		return;
	counted(x, "priority_lower_first", IN, &n, 2);
	if (install(x, "prio_equal", "rule 7 nullscan drop\n"
		    "rule 3 nullscan count\n"))
		return;
	counted(x, "priority_equal_lower_id_first", IN, &n, 3);
	if (install(x, "prio_negative", "rule 1 nullscan count\n"
		    "rule 2 --priority -1 nullscan drop\n"
		    "rule 3 --priority -1 nullscan pass\n"))
		return;
	dropped(x, "priority_negative_first", IN, &n, 2);
}

/* Non-TCP and malformed frames, which a policy never touches. */
static void never_dropped(struct ctx *x, const char *tag)
{
	struct frame_spec udp4 = { .family = 4, .l4 = IPPROTO_UDP, .payload = 20 };
	struct frame_spec udp6 = { .family = 6, .l4 = IPPROTO_UDP };
	struct frame_spec icmp4 = { .family = 4, .l4 = IPPROTO_ICMP };
	struct frame_spec icmp6 = { .family = 6, .l4 = IPPROTO_ICMPV6 };
	struct frame_spec arp = { .family = 0 };
	struct frame_spec frag = tcp4(0), deep = tcp4(0), ok = tcp4(0);
	__u8 buf[FRAME_MAX];
	struct frame_layout lay;
	char name[96];
	__u32 len;

	frag.ip4_frag = 185;            /* a later fragment: no TCP header */
	deep.nvlan = 3;
	deep.tpid[0] = 0x88a8;
	deep.tpid[1] = deep.tpid[2] = 0x8100;
#define N(s) (snprintf(name, sizeof(name), "%s_%s", tag, s), name)
	untouched(x, N("udp4"), IN, &udp4);
	untouched(x, N("udp6"), IN, &udp6);
	untouched(x, N("icmp4"), IN, &icmp4);
	untouched(x, N("icmp6"), IN, &icmp6);
	untouched(x, N("arp"), IN, &arp);
	untouched(x, N("tcp_later_fragment"), IN, &frag);
	untouched(x, N("vlan_too_deep"), IN, &deep);
	untouched(x, N("udp4_egress"), EG, &udp4);
	untouched(x, N("arp_egress"), EG, &arp);
	untouched(x, N("tcp_later_fragment_egress"), EG, &frag);
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

static void test_default(struct ctx *x)
{
	struct frame_spec syn = tcp4(SYN), ack = tcp4(ACK), v6 = tcp6(FIN | ACK);

	if (install(x, "default_drop", "default drop\nrule 1 flags SYN pass\n"
		    "rule 2 nullscan count\n"))
		return;
	passed(x, "default_drop_rule_passes", IN, &syn, 1);
	expect(x, "default_drop_unmatched", IN, &ack, 1, NONE, R_DEF);
	expect(x, "default_drop_unmatched_v6", IN, &v6, 1, NONE, R_DEF);
	syn.flags = 0;
	counted(x, "default_drop_count_rule", IN, &syn, 2);
	never_dropped(x, "default_drop_never");

	if (install(x, "default_drop_alone", "default drop\n"))
		return;
	expect(x, "default_drop_alone_tcp", IN, &ack, 1, NONE, R_DEF);
	expect(x, "default_drop_alone_v6", IN, &v6, 1, NONE, R_DEF);
	never_dropped(x, "default_drop_alone_never");
	{
		struct tcpf_policy p;

		policy_read(x, &p);
		hx_check(NULL, p.live == 1, "policy_default_drop_live",
			     "live %u with default drop", p.live);
	}
}

/* Install A, then B, then C (into A's slot again). */
static void test_switch(struct ctx *x)
{
	static const __u8 ten[4] = { 10, 1, 1, 1 }, eleven[4] = { 11, 1, 1, 1 };
	static const __u32 fresh_b[] = { 1, 4 }, fresh_c[] = { 5, 6 };
	struct frame_spec syn = tcp4(SYN), ack10 = tcp4(ACK), ack81 = tcp4(ACK);
	struct frame_spec fin = tcp4(FIN | ACK), ack11 = tcp4(ACK);
	struct frame_spec ack82 = tcp4(ACK);
	struct tcpf_policy p0, p1, p2;
	static struct hx_counts c;

	ack10.saddr = ten;
	ack11.saddr = eleven;
	ack81.dport = 81;
	ack82.dport = 82;
	if (install(x, "switch_a", "rule 1 flags SYN drop\n"
		    "rule 2 src 10.0.0.0/8 drop\n"
		    "rule 3 dport 81 drop\n"))
		return;
	policy_read(x, &p0);
	hx_snap(&x->h, WATCH, &c);
	hx_check(NULL, HITS(&c, 1) == 0 && HITS(&c, 2) == 0 &&
		     HITS(&c, 3) == 0, "switch_fresh_null_zeroes_all",
		     "hits %llu %llu %llu after an install with every id fresh",
		     (unsigned long long)HITS(&c, 1),
		     (unsigned long long)HITS(&c, 2),
		     (unsigned long long)HITS(&c, 3));
	dropped(x, "switch_a_syn", IN, &syn, 1);
	dropped(x, "switch_a_syn_again", IN, &syn, 1);
	dropped(x, "switch_a_src", IN, &ack10, 2);
	dropped(x, "switch_a_dport", IN, &ack81, 3);
	untouched(x, "switch_a_fin", IN, &fin);

	if (install_fresh(x, "switch_b", "rule 1 flags FIN,ACK drop\n"
			  "rule 4 nullscan count\n", fresh_b, 2))
		return;
	policy_read(x, &p1);
	hx_check(NULL, p1.active == !p0.active && p1.generation == p0.generation + 1,
		     "switch_b_flips_set", "active %u -> %u, generation %u -> %u",
		     p0.active, p1.active, p0.generation, p1.generation);
	hx_snap(&x->h, WATCH, &c);
	hx_check(NULL, HITS(&c, 1) == 0 && HITS(&c, 4) == 0 &&
		     HITS(&c, 2) == 1 && HITS(&c, 3) == 1,
		     "switch_b_fresh_ids_zeroed",
		     "hits[1] %llu (want 0), [2] %llu [3] %llu (want 1, kept)",
		     (unsigned long long)HITS(&c, 1),
		     (unsigned long long)HITS(&c, 2),
		     (unsigned long long)HITS(&c, 3));
	untouched(x, "switch_b_syn_no_longer", IN, &syn);
	untouched(x, "switch_b_src_no_longer", IN, &ack10);
	untouched(x, "switch_b_dport_no_longer", IN, &ack81);
	dropped(x, "switch_b_fin", IN, &fin, 1);

	if (install_fresh(x, "switch_c", "rule 5 src 11.0.0.0/8 drop\n"
			  "rule 6 dport 82 drop\n", fresh_c, 2))
		return;
	policy_read(x, &p2);
	hx_check(NULL, p2.active == p0.active && p2.generation == p1.generation + 1,
		     "switch_c_back_to_first_slot", "active %u generation %u",
		     p2.active, p2.generation);
	untouched(x, "switch_c_old_prefix_gone", IN, &ack10);
	untouched(x, "switch_c_old_port_gone", IN, &ack81);
	untouched(x, "switch_c_fin_no_longer", IN, &fin);
	dropped(x, "switch_c_src", IN, &ack11, 5);
	dropped(x, "switch_c_dport", IN, &ack82, 6);
	hx_snap(&x->h, WATCH, &c);
	hx_check(NULL, HITS(&c, 1) == 1, "switch_c_old_counter_kept",
		     "hits[1] %llu, want 1 (rule 1 not fresh)",
		     (unsigned long long)HITS(&c, 1));
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
	{
		struct frame_spec s = tcp4(SYN);

		s.dport = 999;
		untouched(x, "full_256_no_match", IN, &s);
		s.dport = 1256;
		untouched(x, "full_256_past_last", IN, &s);
	}

	/* the last rule matches everything, all before it nothing here */
	n = 0;
	t = malloc(size);
	for (int i = 1; i < TCPF_RULES_MAX; i++)
		n += (size_t)snprintf(t + n, size - n, "dport %d drop\n", i);
	snprintf(t + n, size - n, "--priority 9 count\n");
	if (!install(x, "full_last_catch_all", t)) {
		struct frame_spec s = tcp4(ACK);

		s.dport = 8080;
		counted(x, "full_256_last_rule_matches", IN, &s, 256);
		s.dport = 255;
		dropped(x, "full_256_rule_255", IN, &s, 255);
	}
	free(t);
}

static void test_ratelimit(struct ctx *x)
{
	static const __u8 a[4] = { 198, 19, 0, 1 }, b[4] = { 198, 19, 0, 200 },
			  c[4] = { 198, 19, 1, 1 }, d[4] = { 10, 0, 0, 1 };
	static const __u8 v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, [15] = 1 },
			  v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, [15] = 2 },
			  v6c[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2, [15] = 1 },
			  /* first 32 bits = 198.19.0.1 */
			  v6m[16] = { 198, 19, 0, 1 };
	struct frame_spec s = tcp4(0), s6 = tcp6(0), other = tcp4(ACK);

	rl_clear(x);
	if (install(x, "rl_global", "rule 10 nullscan ratelimit 1/s burst 3 "
		    "per global\n"))
		return;
	untouched(x, "rl_global_not_matching", IN, &other);
	s.saddr = a;
	burst(x, "rl_global_burst", IN, &s, 2, 2, 10);
	s.saddr = d;
	burst(x, "rl_global_shared_by_sources", IN, &s, 2, 1, 10);
	burst(x, "rl_global_empty", IN, &s6, 3, 0, 10);

	if (install(x, "rl_src", "rule 11 nullscan ratelimit 1/s burst 3 "
		    "per src\n"))
		return;
	s.saddr = a;
	burst(x, "rl_src_first", IN, &s, 5, 3, 11);
	s.saddr = b;
	burst(x, "rl_src_second_own_bucket", IN, &s, 5, 3, 11);
	s.saddr = a;
	burst(x, "rl_src_first_still_empty", IN, &s, 1, 0, 11);
	s6.saddr = v6a;
	burst(x, "rl_src_v6_first", IN, &s6, 4, 3, 11);
	s6.saddr = v6b;
	burst(x, "rl_src_v6_second", IN, &s6, 4, 3, 11);

	if (install(x, "rl_src24", "rule 12 nullscan ratelimit 1/s burst 3 "
		    "per src/24\n"))
		return;
	s.saddr = a;
	burst(x, "rl_src24_first", IN, &s, 5, 3, 12);
	s.saddr = b;
	burst(x, "rl_src24_same_24_shares", IN, &s, 5, 0, 12);
	s.saddr = c;
	burst(x, "rl_src24_next_24_own", IN, &s, 5, 3, 12);

	if (install(x, "rl_src64", "rule 13 nullscan ratelimit 1/s burst 2 "
		    "per src/64\n"))
		return;
	s6.saddr = v6a;
	burst(x, "rl_src64_first", IN, &s6, 3, 2, 13);
	s6.saddr = v6b;
	burst(x, "rl_src64_same_64_shares", IN, &s6, 3, 0, 13);
	s6.saddr = v6c;
	burst(x, "rl_src64_next_64_own", IN, &s6, 3, 2, 13);

	if (install(x, "rl_default_burst", "rule 14 nullscan ratelimit 1/s "
		    "per global\n"))
		return;
	burst(x, "rl_default_burst_5", IN, &s, 7, 5, 14);

	/* per src: an IPv6 source is not the IPv4 source of its top bits */
	if (install(x, "rl_family", "rule 15 nullscan ratelimit 1/s burst 2 "
		    "per src\n"))
		return;
	s.saddr = a;
	burst(x, "rl_src_v4_exhausted", IN, &s, 3, 2, 15);
	s6.saddr = v6m;
	burst(x, "rl_src_v6_not_v4_bucket", IN, &s6, 3, 2, 15);

	/* egress: its own rule, its own bucket */
	if (install(x, "rl_egress", "rule 16 egress nullscan ratelimit 1/s "
		    "burst 1 per global\n"))
		return;
	burst(x, "rl_egress_burst", EG, &s, 3, 1, 16);
	untouched(x, "rl_egress_not_ingress", IN, &s);

	/* a rule changed under the same id starts from full buckets, not
	 * from what its old text left; one written again as it was keeps
	 * its own */
	if (install(x, "rl_changed_old", "rule 17 nullscan ratelimit 1/s "
		    "burst 2 per src\n"))
		return;
	s.saddr = a;
	burst(x, "rl_changed_old_exhausted", IN, &s, 3, 2, 17);
	if (install(x, "rl_changed_new", "rule 17 nullscan ratelimit 1/s "
		    "burst 3 per src\n"))
		return;
	burst(x, "rl_changed_new_full", IN, &s, 4, 3, 17);
	if (install(x, "rl_unchanged", "rule 17 nullscan ratelimit 1/s "
		    "burst 3 per src\n"))
		return;
	burst(x, "rl_unchanged_keeps_bucket", IN, &s, 1, 0, 17);
}

/* ----------------------------------------------- flows: phase, state */

/*
 * Steps as text, one a line:  NAME DIR FLAGS CPORT SEQ ACK LEN OUTCOME [ID]
 * A segment of the connection client 198.19.0.1:CPORT -> local
 * 198.19.0.2:80 (- for CPORT: port 40000 and the default sequence
 * numbers), on DIR (in|eg: the local host sends egress), with the flag
 * letters FLAGS (FSRPAUEC, - for none) and LEN payload bytes.  OUTCOME:
 * drop ID (a rule drops it), count ID (counted, passed), pass ID (a pass
 * rule), untouched (no rule, no drop reason).
 */
static int step_line(struct ctx *x, char *line)
{
	static const char *const outcomes[] = { "drop", "count", "pass",
						"untouched" };
	static const int drop_of[] = { 1, 0, 0, 0 };
	static const int reason_of[] = { R_RULE, R_WOULD, NONE, NONE };
	char *w[10];
	int nw = line_words(line, w, 10), flags, o = -1;
	struct frame_spec s;

	if (nw == 0 || w[0][0] == '#')
		return 0;
	flags = nw >= 8 ? hx_flags(w[2]) : -1;
	for (int i = 0; nw >= 8 && i < 4; i++)
		if (!strcmp(w[7], outcomes[i]))
			o = i;
	if (flags < 0 || o < 0 || nw != (o == 3 ? 8 : 9) ||
	    (strcmp(w[1], "in") && strcmp(w[1], "eg")))
		return -1;
	s = tcp4((__u8)flags);
	if (strcmp(w[3], "-")) {
		s.seqack = 1;
		s.sport = (__u16)strtoul(w[3], NULL, 0);
		s.dport = 80;
		s.seq = (__u32)strtoul(w[4], NULL, 0);
		s.ack = (__u32)strtoul(w[5], NULL, 0);
		s.payload = atoi(w[6]);
		s.swap = !strcmp(w[1], "eg");
	}
	expect(x, w[0], strcmp(w[1], "in") ? EG : IN, &s, drop_of[o],
	       o == 3 ? NONE : atoi(w[8]), reason_of[o]);
	return 0;
}

static int steps_line(void *arg, char *line, int lineno)
{
	(void)lineno;
	return step_line(arg, line);
}

static void run_steps(struct ctx *x, const char *name, const char *steps)
{
	if (lines_each(steps, steps_line, x))
		hx_check(&x->h, 0, name, "a step does not read");
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

/* Client ISN 0x1000, server ISN 0x9000. */
static const char phase_oos[] =
	"phase_oos_syn                      in S  41000 0x1000 0      0   untouched\n"
	"phase_oos_synack_egress            eg SA 41000 0x9000 0x1001 0   untouched\n"
	"phase_oos_handshake_ack            in A  41000 0x1001 0x9001 0   untouched\n"
	"phase_oos_tracked_data             in PA 41000 0x1001 0x9001 100 untouched\n"
	"phase_oos_tracked_ack_egress       eg A  41000 0x9001 0x1065 0   untouched\n"
	"phase_oos_tracked_ack              in A  41000 0x1065 0x9001 0   untouched\n"
	"phase_oos_stray_ack                in A  41001 0x1065 0x9001 0   drop 1\n"
	"phase_oos_stray_data               in PA 41001 0x1065 0x9001 10  drop 1\n"
	"phase_oos_stray_ack_egress         eg A  41001 0x9000 0x1000 0   drop 1\n"
	"phase_oos_stray_rst_not_matched    in RA 41001 0x1000 0x9000 0   untouched\n";

static const char phase_hs[] =
	"phase_hs_syn                       in S  41002 0x1000 0      0   count 2\n"
	"phase_hs_syn_retransmit            in S  41002 0x1000 0      0   drop 4\n"
	"phase_hs_synack                    eg SA 41002 0x9000 0x1001 0   drop 3\n"
	"phase_hs_ack                       in A  41002 0x1001 0x9001 0   drop 3\n"
	"phase_hs_established_data          in PA 41002 0x1001 0x9001 50  untouched\n"
	"phase_hs_data_retransmit           in PA 41002 0x1001 0x9001 50  drop 4\n";

/* untracked never happens with flows on */
static const char phase_untracked_on[] =
	"phase_untracked_with_flows         in S  41003 0x1000 0      0   untouched\n"
	"phase_untracked_with_flows_null    in -  41004 0x1000 0      0   untouched\n";

static void test_phases(struct ctx *x)
{
	flows_reset(x);
	if (!install(x, "phase_oos", "rule 1 phase out_of_state "
		     "--tcp-flags SYN,ACK,RST ACK ingress egress drop\n"))
		run_steps(x, "phase_oos", phase_oos);
	if (!install(x, "phase_hs", "rule 2 phase handshake_syn count\n"
		     "rule 3 phase handshake_synack,handshake_ack ingress egress "
		     "drop\nrule 4 phase retransmit drop\n"))
		run_steps(x, "phase_hs", phase_hs);
	if (!install(x, "phase_untracked_on", "rule 1 phase untracked drop\n"))
		run_steps(x, "phase_untracked_on", phase_untracked_on);
}

/* Client ISN 0x5000, server ISN 0x7000; the last ACK closes the
 * connection: state none after it. */
static const char states[] =
	"state_syn_recv_syn                 in S  42000 0x5000 0      0   count 2\n"
	"state_syn_recv_synack              eg SA 42000 0x7000 0x5001 0   count 2\n"
	"state_established_ack              in A  42000 0x5001 0x7001 0   untouched\n"
	"state_established_data             in PA 42000 0x5001 0x7001 20  untouched\n"
	"state_close_wait_peer_fin          in FA 42000 0x5015 0x7001 0   count 3\n"
	"state_close_wait_ack_egress        eg A  42000 0x7001 0x5016 0   count 3\n"
	"state_last_ack_egress_fin          eg FA 42000 0x7001 0x5016 0   count 4\n"
	"state_none_after_close             in A  42000 0x5016 0x7002 0   drop 1\n"
	"state_none_stray_ack               in A  42001 0x5000 0x7000 0   drop 1\n"
	"state_none_stray_synack_not_matched in SA 42002 0x5000 0x7000 0  untouched\n";

static void test_states(struct ctx *x)
{
	flows_reset(x);
	if (!install(x, "state", "rule 1 state none --tcp-flags SYN,ACK ACK drop\n"
		     "rule 2 state syn_recv ingress egress count\n"
		     "rule 3 state close_wait ingress egress count\n"
		     "rule 4 state last_ack egress count\n"))
		run_steps(x, "state", states);
}

/*
 * A stray segment whose half-open slot holds another connection's
 * handshake has no connection: its state is none, not that handshake's.
 */
static void test_state_slot(struct ctx *x)
{
	__u32 mask = x->h.skel->rodata->tcpf_syns_mask;
	struct tcpf_flow_key k;
	char steps[512];
	__u16 p = 0, q;
	__u32 slot;

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
	flows_reset(x);
	if (install(x, "state_slot", "rule 1 state none --tcp-flags SYN,ACK "
		    "ACK ingress egress drop\n"
		    "rule 2 state syn_recv,syn_sent ingress egress count\n"))
		return;
	snprintf(steps, sizeof(steps),
		 "state_slot_half_open_syn in S 43000 0x100 0 0 count 2\n"
		 "state_none_stray_ack_in_busy_slot in A %u 0x200 0x300 0 drop 1\n"
		 "state_none_stray_ack_in_busy_slot_egress eg A %u 0x300 0x200 0 "
		 "drop 1\n", p, p);
	run_steps(x, "state_slot", steps);
}

/* ------------------------------------------------------------ main */

static int load(struct ctx *x, const char *tag, bool flows)
{
	/* a small half-open table, so tests can aim two keys at one slot */
	struct hx_opts o = { .flows = flows, .slots = 256 };

	if (hx_open(&x->h, tag, &o))
		return -1;
	x->m = (struct policy_maps){
		.policy = x->h.policy, .sets = x->h.sets, .hits = x->h.hits,
	};
	return 0;
}

/* Without flows: every segment untracked, its state none. */
static const char untracked_off[] =
	"phase_untracked_without_flows         in S   - - - - drop 1\n"
	"phase_untracked_without_flows_ack     in A   - - - - untouched\n"
	"phase_untracked_without_flows_egress  eg S   - - - - drop 1\n";

static const char state_none_off[] =
	"state_none_without_flows              in -   - - - - count 2\n"
	"state_established_without_flows       in FPU - - - - untouched\n";

int main(void)
{
	if (load(&off_ctx, "off", false))
		return 1;
	test_empty(&off_ctx);
	test_flag_forms(&off_ctx);
	test_families(&off_ctx);
	test_directions(&off_ctx);
	test_prefixes(&off_ctx);
	test_prefix_property(&off_ctx);
	test_ports(&off_ctx);
	test_actions(&off_ctx);
	test_priorities(&off_ctx);
	test_default(&off_ctx);
	test_switch(&off_ctx);
	test_full(&off_ctx);
	test_ratelimit(&off_ctx);
	if (!install(&off_ctx, "phase_untracked_off", "rule 1 phase untracked "
		     "--syn ingress egress drop\n"))
		run_steps(&off_ctx, "phase_untracked_off", untracked_off);
	if (!install(&off_ctx, "state_none_off", "rule 2 state none nullscan "
		     "count\nrule 3 state established xmas drop\n"))
		run_steps(&off_ctx, "state_none_off", state_none_off);
	hx_close(&off_ctx.h);

	if (load(&on_ctx, "on", true))
		return 1;
	test_phases(&on_ctx);
	test_states(&on_ctx);
	test_state_slot(&on_ctx);
	test_directions(&on_ctx);
	test_default(&on_ctx);
	hx_close(&on_ctx.h);
	return hx_done("test_policy");
}
