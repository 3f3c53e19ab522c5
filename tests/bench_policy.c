// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_policy.c - `make bench`: what a rule set costs the XDP path.
 *
 * The tcpflags skeleton is loaded once (pin paths cleared, default
 * tracking on), as an interface runs it, and before each timing the rule
 * set it needs is made live with policy_write(), the code `tcpflags apply`
 * runs: one program and one set of maps for every rule set, so what is
 * compared is the rule sets, not where two loads of the program happened
 * to land in memory (that alone moved a timing by ~5 ns).  The timings and
 * the empty XDP_PASS program (build/empty.bpf.o) are paired rounds, as in
 * tests/bench.c (tests/benchtime.h): each round times every row of the
 * table down and back up, and a budget is the median of the rounds' ratios.
 *
 * The frame is a tracked IPv4 SYN, 198.18.5.7:40000 -> 198.19.0.2:443 (from
 * its second run on a retransmitted SYN: one half-open slot update).  The
 * rule sets are a realistic mix - flag presets, a prefix set, source and
 * destination prefixes (some next to the frame's address, so the prefix
 * trie is walked to its last level), port lists and ranges, phases, states, directions,
 * families, rate limits - in which only the LAST rule matches the frame:
 *   --syn phase handshake_syn,retransmit src 198.18.0.0/15 dport 443 drop
 * A second frame, the same SYN to port 8080, passes the cheap filters (flag
 * byte, phase, state, direction, family) and both prefix lookups of many
 * rules, and is matched by none: it falls through to the default (pass).
 * Both are checked before timing (the XDP verdict, and which rule's hit
 * counter moved), so the bench cannot time a rule set that does not do
 * what it claims.
 *
 *   policy_64_rules  max(64 rules, matched by the last; 64 rules, matched by
 *                    none) / empty program                     limit 2.5
 *   policy_scaling   256 rules, matched by the last / the one rule alone
 *                                                              limit 1.1
 * Exits 1 when a budget fails.
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
#include "policy.h"
#include "rules.h"

#define BUDGET_POLICY_64 2.5
#define BUDGET_POLICY_SCALING 1.1

#define LAST_RULE "--syn phase handshake_syn,retransmit src 198.18.0.0/15 " \
		  "dport 443 drop"

static const __u8 frame_src[4] = { 198, 18, 5, 7 };

/* The rules the frames must not match, written by hand... */
static const char *const fixed_rules[] = {
	/* one rule, its literal split at 80 columns (the parentheses say
	 * so to clang and clang-tidy, which would ask for a comma) */
	("set blocklist { 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 "
	 "2001:db8:bad::/48 }"),
	"nullscan drop",
	"xmas drop",
	"synfin drop",
	"synrst drop",
	"finnoack drop",
	"invalid phase out_of_state count",
	"src @blocklist drop",
	"dst @blocklist drop",
	"--syn dport 22 src 198.18.0.0/15 ratelimit 10/s burst 20 per src",
	"--syn dport 25,465,587 drop",
	"--syn sport 0-1023 drop",
	"phase established flags ACK/ACK dport 8000-8999 count",
	"egress flags RST/RST count",
	"state established invalid drop",
	"ipv6 --syn dport 443 src 2001:db8:1::/48 drop",
	"phase out_of_state --tcp-flags ACK,RST ACK count",
	"phase teardown_fin1,teardown_fin2 dport 0-1023 count",
	"phase reset src 198.18.0.0/15 count",
	"--syn dport 443 src 198.18.128.0/17 ratelimit 100/s per src",
	"--syn dport 1024-65535 src 203.0.113.0/24 drop",
	"--syn ipv6 dport 80,443 ratelimit 1000/s per src/64",
	"flags URG/URG drop",
	"--tcp-flags ECE,CWR ECE,CWR phase handshake_syn count",
	"dport 3306,5432,6379 src 198.18.0.0/15 drop",
	"--syn dport 443 src 198.18.0.0/24 drop",
};
#define NFIXED ((int)(sizeof(fixed_rules) / sizeof(fixed_rules[0])) - 1)

/* ...and generated ones, kind j % 5, to fill a rule set of any size. */
static int gen_rule(char *buf, size_t size, int j)
{
	int i = j / 5;

	switch (j % 5) {
	case 0: /* a /24 blocklist beside the frame's source */
		return snprintf(buf, size, "--syn dport 443 src 198.18.%d.0/24 "
				"drop\n", 10 + i);
	case 1: /* hosts in the frame's own /24 (never .7) */
		return snprintf(buf, size, "--syn src 198.18.5.%d/32 drop\n",
				8 + i);
	case 2:
		return snprintf(buf, size, "phase established dport %d-%d "
				"count\n", 1000 + i * 100, 1099 + i * 100);
	case 3:
		return snprintf(buf, size, "ipv6 src 2001:db8:%x::/48 drop\n",
				i + 1);
	default:
		return snprintf(buf, size, "--syn dst 198.19.%d.0/24 drop\n",
				i + 1);
	}
}

/* A rule set of n rules: n - 1 that do not match, then LAST_RULE. */
static struct ruleset *make_ruleset(int n)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));
	size_t size = 1 << 16, len = 0;
	char *text = malloc(size), err[512];
	int fill = 0;

	if (!rs || !text)
		goto fail;
	if (n > 1)
		len += (size_t)snprintf(text + len, size - len, "%s\n",
					fixed_rules[0]);
	for (int i = 1; i <= NFIXED && fill < n - 1; i++, fill++)
		len += (size_t)snprintf(text + len, size - len, "%s\n",
					fixed_rules[i]);
	for (int j = 0; fill < n - 1; j++, fill++)
		len += (size_t)gen_rule(text + len, size - len, j);
	len += (size_t)snprintf(text + len, size - len, "%s\n", LAST_RULE);
	if (len >= size) {
		fprintf(stderr, "bench_policy: rule text too long\n");
		goto fail;
	}
	if (ruleset_parse_text("bench", text, rs, err, sizeof(err))) {
		fprintf(stderr, "bench_policy: %s\n", err);
		goto fail;
	}
	if (rs->nrules != n) {
		fprintf(stderr, "bench_policy: %d rules, not %d\n", rs->nrules,
			n);
		ruleset_free(rs);
		goto fail;
	}
	free(text);
	return rs;
fail:
	free(text);
	free(rs);
	return NULL;
}

static int run_once(int fd, const __u8 *buf, __u32 len, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .data_size_in = len, .repeat = 1);

	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	*retval = opts.retval;
	return 0;
}

static int install(struct tcpflags_bpf *tf, const struct ruleset *rs)
{
	struct policy_maps m = {
		.policy = bpf_map__fd(tf->maps.tcpf_policy),
		.sets = bpf_map__fd(tf->maps.tcpf_rulesets),
		.hits = bpf_map__fd(tf->maps.tcpf_rhits),
	};

	return policy_write(&m, rs, NULL, 0);
}

/* Make rule set i the live one of tf, unless it is already. */
static int use_set(struct tcpflags_bpf *tf, struct ruleset *const *rs, int i,
		   int *live)
{
	int err;

	if (*live == i)
		return 0;
	err = install(tf, rs[i]);
	if (err) {
		fprintf(stderr, "bench_policy: cannot install %d rules: %s\n",
			rs[i]->nrules, strerror(-err));
		return err;
	}
	*live = i;
	return 0;
}

/* Packets counted on rule id, summed over the CPUs. */
static __u64 rule_hits(struct tcpflags_bpf *tf, __u32 id)
{
	static struct tcpf_count hits[TCPF_RULES_MAX + 1];

	if (id > TCPF_RULES_MAX ||
	    policy_hits_read(bpf_map__fd(tf->maps.tcpf_rhits),
			     bpf_map__fd(tf->maps.tcpf_policy), hits))
		return 0;
	return hits[id].packets;
}

/*
 * One run of a frame: the verdict must be `want`, and the hits must move
 * on rule `id` only (on none when id is 0).
 */
static int check_match(const char *what, struct tcpflags_bpf *tf,
		       const __u8 *buf, __u32 len, __u32 want, __u32 id)
{
	__u64 before[TCPF_RULES_MAX + 1];
	__u32 ret = 0;

	for (__u32 i = 1; i <= TCPF_RULES_MAX; i++)
		before[i] = rule_hits(tf, i);
	if (run_once(bpf_program__fd(tf->progs.tcpf_xdp), buf, len, &ret)) {
		fprintf(stderr, "bench_policy: %s: test run failed: %s\n",
			what, strerror(errno));
		return -1;
	}
	if (ret != want) {
		fprintf(stderr, "bench_policy: %s: verdict %u, expected %u\n",
			what, ret, want);
		return -1;
	}
	for (__u32 i = 1; i <= TCPF_RULES_MAX; i++) {
		__u64 d = rule_hits(tf, i) - before[i];

		if (d != (i == id)) {
			fprintf(stderr, "bench_policy: %s: rule %u counted %llu "
				"hits, expected %d\n", what, i,
				(unsigned long long)d, i == id);
			return -1;
		}
	}
	return 0;
}

enum { T_EMPTY_M, T_EMPTY_N, T_NONE_M, T_ONE_M, T_64_M, T_64_N, T_256_M, T_MAX };

static const char *const t_names[T_MAX] = {
	[T_EMPTY_M] = "empty program",
	[T_EMPTY_N] = "empty program",
	[T_NONE_M] = "tcpflags, no rules",
	[T_ONE_M] = "tcpflags, 1 rule",
	[T_64_M] = "tcpflags, 64 rules",
	[T_64_N] = "tcpflags, 64 rules",
	[T_256_M] = "tcpflags, 256 rules",
};

/* The rule set each timing needs: 0 none, then 1, 64 and 256 rules. */
static const int t_set[T_MAX] = {
	[T_NONE_M] = 0, [T_ONE_M] = 1, [T_64_M] = 2, [T_64_N] = 2,
	[T_256_M] = 3,
};

/* What the timings share: the program, its rule sets, the one live now. */
struct policy_bench {
	struct tcpflags_bpf *tf;
	struct ruleset *rs[4];
	int live;
};

/* bench_set's prep: make the rule set of timing k live before it runs. */
static int prep_timing(void *ctx, int k)
{
	struct policy_bench *pb = ctx;

	if (k == T_EMPTY_M || k == T_EMPTY_N)
		return 0;
	return use_set(pb->tf, pb->rs, t_set[k], &pb->live);
}

/* The rule sets of the timings: none, then 1, 64 and 256 rules. */
static int make_sets(struct ruleset **rs, __u32 *last_id)
{
	static const int sizes[4] = { 0, 1, 64, 256 };

	for (int i = 0; i < 4; i++) {
		if (!sizes[i]) {
			rs[i] = calloc(1, sizeof(*rs[i]));
			if (!rs[i])
				return -ENOMEM;
			ruleset_init(rs[i]);
			continue;
		}
		rs[i] = make_ruleset(sizes[i]);
		if (!rs[i])
			return -EINVAL;
		last_id[i] = rs[i]->rules[rs[i]->nrules - 1].id;
	}
	return 0;
}

/* The frames do what the budgets say, before they are timed. */
static int check_sets(struct policy_bench *pb, const __u32 *last_id,
		      const __u8 *m_buf, __u32 m_len, const __u8 *n_buf,
		      __u32 n_len)
{
	struct tcpflags_bpf *tf = pb->tf;

	return use_set(tf, pb->rs, 0, &pb->live) ||
	       check_match("no rules, SYN to 443", tf, m_buf, m_len, XDP_PASS,
			   0) ||
	       use_set(tf, pb->rs, 1, &pb->live) ||
	       check_match("1 rule, SYN to 443", tf, m_buf, m_len, XDP_DROP,
			   last_id[1]) ||
	       use_set(tf, pb->rs, 2, &pb->live) ||
	       check_match("64 rules, SYN to 8080", tf, n_buf, n_len, XDP_PASS,
			   0) ||
	       check_match("64 rules, SYN to 443", tf, m_buf, m_len, XDP_DROP,
			   last_id[2]) ||
	       use_set(tf, pb->rs, 3, &pb->live) ||
	       check_match("256 rules, SYN to 443", tf, m_buf, m_len, XDP_DROP,
			   last_id[3]);
}

static void print_table(const struct bench_set *s, __u32 m_len)
{
	printf("\nRule sets on the XDP path, BPF_PROG_TEST_RUN, %d rounds of %d "
	       "frames a timing, CPU time\n", BENCH_ROUNDS, BENCH_REPEAT);
	printf("tcpflags with tracking on; frame: IPv4 SYN 198.18.5.7:40000 -> "
	       "198.19.0.2:PORT (%u bytes)\n", m_len);
	printf("matching rule, always the last: %s\n", LAST_RULE);
	printf("a round times every row, down the table and back up; ratio: "
	       "the median of the\nrounds' ratios to the empty program, "
	       "min-max beside it\n\n");
	printf("%-22s %-22s %7s %6s  %s\n", "program", "frame", "ns", "ratio",
	       "min-max");
	for (int k = 0; k < T_MAX; k++) {
		bool n = k == T_EMPTY_N || k == T_64_N;
		const char *fr = n ? "port 8080: no match" :
				 k == T_EMPTY_M || k == T_NONE_M ?
				 "port 443" : "port 443: last rule";
		struct bench_ratio q =
			bench_ratio(s, n ? T_EMPTY_N : T_EMPTY_M, k);

		printf("%-22s %-22s %7.2f %6.2f  %.2f-%.2f\n", t_names[k], fr,
		       bench_ns(s, k), q.median, q.lo, q.hi);
	}
}

/* The budgets' lines; 1 when one fails. */
static int judge(const struct bench_set *s)
{
	struct bench_ratio r64m = bench_ratio(s, T_EMPTY_M, T_64_M);
	struct bench_ratio r64n = bench_ratio(s, T_EMPTY_N, T_64_N);
	struct bench_ratio one = bench_ratio(s, T_NONE_M, T_ONE_M);
	struct bench_ratio scaling = bench_ratio(s, T_ONE_M, T_256_M);
	struct bench_ratio r64 = r64m.median > r64n.median ? r64m : r64n;
	int failed = 0;

	printf("\npolicy_64_rules: the worse of 64 rules matched by the last "
	       "(%.2f) and by none (%.2f), / empty\n", r64m.median,
	       r64n.median);
	printf("policy_scaling: 256 rules / 1 rule, both matched by the last "
	       "rule (%.2f / %.2f ns)\n", bench_ns(s, T_256_M),
	       bench_ns(s, T_ONE_M));
	printf("info policy_cost_64_rules ns=%.2f (64 rules - no rules, port "
	       "443)\n", bench_ns(s, T_64_M) - bench_ns(s, T_NONE_M));
	printf("info policy_first_rule ratio=%.2f spread=%.2f-%.2f (1 rule / "
	       "no rules, port 443)\n", one.median, one.lo, one.hi);
	failed |= bench_budget("policy_64_rules", r64, BUDGET_POLICY_64,
			       false);
	failed |= bench_budget("policy_scaling", scaling,
			       BUDGET_POLICY_SCALING, false);
	return failed;
}

int main(void)
{
	struct policy_bench pb = { .live = -1 };
	__u32 last_id[4] = { 0 };
	struct empty_bpf *em = empty_bpf__open_and_load();
	struct frame_spec m_spec = {
		.family = 4, .l4 = IPPROTO_TCP, .flags = TCPF_SYN,
		.saddr = frame_src, .dport = 443,
	};
	struct frame_spec n_spec = m_spec;
	struct frame_layout lay;
	__u8 m_buf[FRAME_MAX], n_buf[FRAME_MAX];
	__u32 m_len, n_len;
	static struct bench_set set = { .n = T_MAX, .prep = prep_timing };
	int ret = 1, err;

	n_spec.dport = 8080;
	m_len = frame_build(&m_spec, m_buf, &lay);
	n_len = frame_build(&n_spec, n_buf, &lay);
	pb.tf = skel_load_private(true);
	if (!em || !pb.tf) {
		fprintf(stderr, "bench_policy: cannot load the BPF objects: "
			"%s\n", strerror(errno));
		goto out;
	}
	if (make_sets(pb.rs, last_id) ||
	    check_sets(&pb, last_id, m_buf, m_len, n_buf, n_len))
		goto out;
	for (int k = 0; k < T_MAX; k++) {
		bool n = k == T_EMPTY_N || k == T_64_N;
		bool empty = k == T_EMPTY_M || k == T_EMPTY_N;

		set.side[k] = (struct bench_side){
			.fd = empty ? bpf_program__fd(em->progs.tcpf_empty)
				    : bpf_program__fd(pb.tf->progs.tcpf_xdp),
			.buf = n ? n_buf : m_buf, .len = n ? n_len : m_len };
	}
	set.ctx = &pb;
	err = bench_run(&set);
	if (err) {
		fprintf(stderr, "bench_policy: test run failed: %s\n",
			strerror(-err));
		goto out;
	}
	print_table(&set, m_len);
	ret = judge(&set);
out:
	for (int i = 0; i < 4; i++)
		if (pb.rs[i]) {
			ruleset_free(pb.rs[i]);
			free(pb.rs[i]);
		}
	tcpflags_bpf__destroy(pb.tf);
	empty_bpf__destroy(em);
	return ret;
}
