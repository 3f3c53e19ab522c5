// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz.c - differential fuzzing of the parser: seeded frames
 * (tests/fuzzgen.c) through the XDP program and the TC egress program
 * with BPF_PROG_TEST_RUN, and through the reference classifier
 * (tests/fuzzref.c), which shares no code with bpf/.  Everything tcpflags
 * records for a frame is compared with what the reference predicts:
 *
 *   XDP      the verdict (pass); the one tcpf_stats key that moves, by one
 *            packet and the frame's bytes: the family and flag byte of a
 *            TCP segment, else the counter (non_tcp, tcp_fragment, the
 *            malformed reason); an ingress phase for a segment, none else;
 *   egress   the verdict (pass); an egress phase for a segment, none else;
 *            and the family and flag byte, through rules: one rule set
 *            counts each IPv4 flag byte under its own rule, the other each
 *            IPv6 one (`egress ipv4 flags F/ALL count`), so the rule hit
 *            and would_drop say which, and a segment the reference calls
 *            IPv4 runs under the IPv4 set (and IPv6 under the other).
 *
 * It is fast because it reads little: frames run in batches, the counters
 * are read once a batch and compared with the sum of the reference's
 * predictions; only a batch that does not add up is run again a frame at
 * a time to find the frames that disagree.  Each of those is printed (its
 * bytes and both records), FAILs, and is saved as a regression frame,
 * tests/regress/fuzz/HASH.hex, which every later run replays first.  (What
 * a batch cannot see: two frames whose errors cancel out exactly, each
 * counted under the other's key with the other's length.)
 *
 *   fuzz [--frames N] [--seed S] [--regress DIR] [--no-save]
 *        N 0: until SIGINT (the summary is still printed)
 */
#include <errno.h>
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "counters.h"
#include "harness.h"
#include "policy.h"
#include "rules.h"
#include "fuzzgen.h"
#include "fuzzref.h"

#define BATCH 4096
#define COVERAGE_MIN 100000      /* frames from which coverage is checked */

/* The counters a frame can move, all read at once. */
struct snap {
	struct tcpf_count stats[TCPF_STATS_ENTRIES];
	__u64 phases[TCPF_PHASE_ENTRIES];
	struct tcpf_count hits[TCPF_HIT_SLOTS];   /* by counter slot */
	struct tcpf_count drops[TCPF_DROP_MAX];
};

/* A frame of a batch and what the reference says of it. */
struct slot {
	__u8 *buf;
	__u32 len;
	struct ref_rec ref;
	__u32 key;               /* the stats key ref names */
	int bad;                 /* a verdict or test run already wrong */
};

/* What one frame did, or should do, to everything compared. */
struct rec {
	int xdp_err;             /* test run: 0 or -errno */
	__u32 xdp_ret;
	int nkeys;               /* tcpf_stats keys that moved */
	__u32 key;               /* the first of them */
	__u64 kpackets, kbytes;
	__s64 in_phase, eg_phase;/* phases per direction, summed */
	int eg_err;
	__u32 eg_ret;
	int nhits;               /* rule hit counters that moved */
	__u32 hit;               /* the first of them (rule id) */
	__u64 hpackets, hbytes;
	int ndrops;              /* drop reasons that moved */
	__u32 drop;
	__u64 dpackets, dbytes;
};

static struct {
	struct hx h;
	struct policy_maps m;
	__u32 set[2];            /* rule set index: IPv4's, IPv6's */
	int live;                /* which of them is live: 0 or 1 */
	__u32 rule_of[2][256];   /* rule id counting family, flag byte */
	__u32 slot_of[2][256];   /* its counter slot */
	__u32 rule_at[TCPF_HIT_SLOTS]; /* the rule a counter slot is of */
	__u32 cap;               /* the longest frame both programs see whole */
	__u64 seed;
	const char *regress;     /* directory of regression frames */
	int save;
	__u64 frames, disagreements, saved;
	__u64 seen[TCPF_STATS_ENTRIES];          /* outcomes, for coverage */
	__u64 frag_first[2];                     /* first fragments counted */
	__u64 frag_later[2];
	__u64 ah4_tcp;                           /* segments behind IPv4 AH */
} F;

static volatile sig_atomic_t stop;
static int passed, failed;

/* "PASS name: what" or "FAIL name: what", counted for the closing tally. */
static void fz_check(int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fz_check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		passed++;
	else
		failed++;
	printf("%s %s: ", ok ? "PASS" : "FAIL", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ the maps */

static void snap_read(struct snap *s)
{
	int err = percpu_count_read(F.h.stats, s->stats, TCPF_STATS_ENTRIES);

	if (!err)
		err = percpu_u64_read(F.h.phases, s->phases, TCPF_PHASE_ENTRIES);
	if (!err)
		err = percpu_count_read(F.h.hits, s->hits, TCPF_HIT_SLOTS);
	if (!err)
		err = percpu_count_read(F.h.drops, s->drops, TCPF_DROP_MAX);
	if (err) {
		printf("FAIL fuzz_counters: cannot read them: %s\n",
		       strerror(-err));
		exit(1);
	}
}

/* Make family fam's rule set (0 IPv4, 1 IPv6) the live one. */
static void set_live(int fam)
{
	struct tcpf_policy pol;
	__u32 zero = 0;

	if (F.live == fam)
		return;
	if (bpf_map_lookup_elem(F.m.policy, &zero, &pol) ||
	    (pol.active = F.set[fam], pol.generation++,
	     bpf_map_update_elem(F.m.policy, &zero, &pol, BPF_ANY))) {
		printf("FAIL fuzz_policy: cannot switch the rule set: %s\n",
		       strerror(errno));
		exit(1);
	}
	F.live = fam;
}

/*
 * The two rule sets: `egress ipv4 flags F/ALL count` for every flag byte
 * F (rule F + 1), and the same for IPv6, each installed by the project's
 * own compiler; policy_write() puts each into the set not in use.
 */
static int install_rules(void)
{
	static const char *const fams[2] = { "ipv4", "ipv6" };
	struct ruleset *rs = malloc(sizeof(*rs));
	char *text = malloc(256 * 96), err[512] = "";
	struct tcpf_policy pol;
	__u32 zero = 0;
	int ret = -1;

	for (int fam = 0; rs && text && fam < 2; fam++) {
		size_t used = 0;

		for (int f = 0; f < 256; f++) {
			char names[64] = "";

			for (int b = 0; b < 8; b++)
				if (f & 1 << b)
					snprintf(names + strlen(names),
						 sizeof(names) - strlen(names),
						 "%s%s", *names ? "," : "",
						 flag_name(b));
			used += (size_t)snprintf(text + used, 256 * 96 - used,
				"egress %s flags %s/ALL count\n", fams[fam],
				f ? names : "NONE");
		}
		if (ruleset_parse_text("fuzz.rules", text, rs, err,
				       sizeof(err))) {
			printf("FAIL fuzz_rules: %s\n", err);
			goto out;
		}
		for (int i = 0; i < rs->nrules; i++) {
			const struct rule *r = &rs->rules[i];

			/* line i counts flag byte i, and nothing else */
			if (r->flags[i / 64] != 1ULL << (i % 64) ||
			    r->flags[(i / 64 + 1) % 4] ||
			    r->flags[(i / 64 + 2) % 4] ||
			    r->flags[(i / 64 + 3) % 4] || rs->nrules != 256) {
				printf("FAIL fuzz_rules: rule %d is not flag "
				       "byte 0x%02x alone\n", i, i);
				goto out;
			}
			F.rule_of[fam][i] = r->id;
		}
		ret = policy_write(&F.m, rs, NULL, 0);
		ruleset_free(rs);
		if (ret || bpf_map_lookup_elem(F.m.policy, &zero, &pol)) {
			printf("FAIL fuzz_rules: cannot install them: %s\n",
			       strerror(ret ? -ret : errno));
			ret = -1;
			goto out;
		}
		F.set[fam] = pol.active;
		/* the slots the set's rules count in (tcpf_policy's table,
		 * as tcpflags reads them): the two sets' are apart */
		for (int f = 0; f < 256; f++) {
			__u32 id = F.rule_of[fam][f];

			F.slot_of[fam][f] = tcpf_hit_slot(pol.hit[pol.active & 1][id],
							  id);
			F.rule_at[F.slot_of[fam][f]] = id;
		}
	}
	F.live = 1;
	ret = rs && text ? 0 : -1;
out:
	free(rs);
	free(text);
	return ret;
}

/* ------------------------------------------- what a frame should record */

static int counter_key(const char *what, __u32 *key)
{
	for (int c = 0; c < TCPF_CNT_MAX; c++) {
		if (!strcmp(counter_name((enum tcpf_counter)c), what)) {
			*key = TCPF_KEY_CNT(c);
			return 0;
		}
	}
	return -1;
}

/* The stats key the reference says the frame moves. */
static __u32 ref_key(const struct ref_rec *r)
{
	__u32 key;

	if (r->tcp)
		return TCPF_KEY_FLAGS(r->family == 6 ? TCPF_IPV6 : TCPF_IPV4,
				      r->flags);
	if (counter_key(r->what, &key)) {
		printf("FAIL fuzz_reference: it names '%s', which tcpflags "
		       "does not count\n", r->what);
		exit(1);
	}
	return key;
}

/*
 * The kernel's test run of a TC program refuses (-EINVAL) a frame whose
 * EtherType says IPv4 or IPv6 but which is shorter than that header: no
 * such frame reaches egress, and XDP alone sees these cuts.
 */
static int eg_refused(const struct slot *s)
{
	unsigned int type = (unsigned int)s->buf[12] << 8 | s->buf[13];

	return (type == 0x0800 && s->len < 14 + 20) ||
	       (type == 0x86dd && s->len < 14 + 40);
}

/* The egress run's rule set: the segment's family's. */
static int eg_family(const struct ref_rec *r)
{
	return r->tcp && r->family == 6;
}

static void rec_want(const struct slot *s, struct rec *w)
{
	const struct ref_rec *r = &s->ref;

	memset(w, 0, sizeof(*w));
	w->xdp_ret = XDP_PASS;
	w->nkeys = 1;
	w->key = s->key;
	w->kpackets = 1;
	w->kbytes = s->len;
	w->in_phase = r->tcp;
	w->eg_ret = TC_ACT_OK;
	if (eg_refused(s)) {
		w->eg_err = -EINVAL;
		w->eg_ret = 0;
	}
	w->eg_phase = r->tcp;
	if (r->tcp) {
		w->nhits = 1;
		w->hit = F.rule_of[eg_family(r)][r->flags];
		w->hpackets = 1;
		w->hbytes = s->len;
		w->ndrops = 1;
		w->drop = TCPF_DROP_WOULD;
		w->dpackets = 1;
		w->dbytes = s->len;
	}
}

/* ---------------------------------------------- running and comparing */

static __s64 phase_sum(const struct snap *s, int dir)
{
	__u64 n = 0;

	for (int p = 0; p < TCPF_PH_MAX; p++)
		n += s->phases[TCPF_KEY_PHASE(dir, p)];
	return (__s64)n;
}

/* Which of n counters moved from a to b: how many, and the first. */
static int moved(const struct tcpf_count *a, const struct tcpf_count *b,
		 __u32 n, __u32 *first, __u64 *packets, __u64 *bytes)
{
	int k = 0;

	for (__u32 i = 0; i < n; i++) {
		if (a[i].packets == b[i].packets && a[i].bytes == b[i].bytes)
			continue;
		if (!k++) {
			*first = i;
			*packets = b[i].packets - a[i].packets;
			*bytes = b[i].bytes - a[i].bytes;
		}
	}
	return k;
}

/* One frame alone, every counter read before and after: its record. */
static void rec_run(const struct slot *s, struct rec *g)
{
	static struct snap a, b;

	memset(g, 0, sizeof(*g));
	snap_read(&a);
	set_live(eg_family(&s->ref));
	g->xdp_err = hx_run(&F.h, HX_IN, s->buf, s->len, &g->xdp_ret);
	g->eg_err = hx_run(&F.h, HX_EG, s->buf, s->len, &g->eg_ret);
	snap_read(&b);
	g->nkeys = moved(a.stats, b.stats, TCPF_STATS_ENTRIES, &g->key,
			 &g->kpackets, &g->kbytes);
	g->in_phase = phase_sum(&b, HX_IN) - phase_sum(&a, HX_IN);
	g->eg_phase = phase_sum(&b, HX_EG) - phase_sum(&a, HX_EG);
	g->nhits = moved(a.hits, b.hits, TCPF_HIT_SLOTS, &g->hit,
			 &g->hpackets, &g->hbytes);
	if (g->nhits)
		g->hit = F.rule_at[g->hit];	/* the slot's rule */
	g->ndrops = moved(a.drops, b.drops, TCPF_DROP_MAX, &g->drop,
			  &g->dpackets, &g->dbytes);
}

static int rec_equal(const struct rec *a, const struct rec *b)
{
	return a->xdp_err == b->xdp_err && a->xdp_ret == b->xdp_ret &&
	       a->nkeys == b->nkeys &&
	       (!a->nkeys || (a->key == b->key && a->kpackets == b->kpackets &&
			      a->kbytes == b->kbytes)) &&
	       a->in_phase == b->in_phase && a->eg_phase == b->eg_phase &&
	       a->eg_err == b->eg_err && a->eg_ret == b->eg_ret &&
	       a->nhits == b->nhits &&
	       (!a->nhits || (a->hit == b->hit && a->hpackets == b->hpackets &&
			      a->hbytes == b->hbytes)) &&
	       a->ndrops == b->ndrops &&
	       (!a->ndrops || (a->drop == b->drop && a->dpackets == b->dpackets &&
			       a->dbytes == b->dbytes));
}

/* A rule's id and the flag byte it counts in the live set. */
static void rule_name(__u32 id, char *buf, size_t n)
{
	for (int f = 0; f < 256; f++) {
		if (F.rule_of[F.live][f] == id) {
			snprintf(buf, n, "rule %u (flag byte 0x%02x)", id, f);
			return;
		}
	}
	snprintf(buf, n, "rule %u", id);
}

static void rec_print(const char *who, const struct rec *r)
{
	char key[48] = "", hit[48] = "";

	if (r->nkeys)
		hx_key_name(HX_STATS, r->key, key, sizeof(key));
	if (r->nhits)
		rule_name(r->hit, hit, sizeof(hit));
	printf("  %-9s xdp: %s%d, verdict %u; stats: %d moved%s%s%s "
	       "(%llu packets, %llu bytes); ingress phases %+lld\n", who,
	       r->xdp_err ? "error " : "run ", r->xdp_err, r->xdp_ret,
	       r->nkeys, r->nkeys ? ", '" : "", key, r->nkeys ? "'" : "",
	       (unsigned long long)r->kpackets, (unsigned long long)r->kbytes,
	       (long long)r->in_phase);
	printf("  %-9s egress: %s%d, verdict %u; egress phases %+lld; rule "
	       "hits: %d moved%s%s (%llu packets, %llu bytes); drops: %d "
	       "moved%s%s (%llu/%llu)\n", "",
	       r->eg_err ? "error " : "run ", r->eg_err, r->eg_ret,
	       (long long)r->eg_phase, r->nhits, r->nhits ? ", " : "", hit,
	       (unsigned long long)r->hpackets, (unsigned long long)r->hbytes,
	       r->ndrops, r->ndrops ? ", " : "",
	       r->ndrops ? drop_reason_name(r->drop) : "",
	       (unsigned long long)r->dpackets, (unsigned long long)r->dbytes);
}

static void hex_print(const __u8 *buf, __u32 len)
{
	for (__u32 i = 0; i < len; i += 32) {
		printf("  %04x ", i);
		for (__u32 j = i; j < len && j < i + 32; j++)
			printf("%02x", buf[j]);
		printf("\n");
	}
}

static __u64 fnv64(const __u8 *p, __u32 n)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (__u32 i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* Save a frame the two disagree on, with what the reference expects. */
static void regress_save(const struct slot *s, const char *why)
{
	char path[4096], name[48];
	FILE *fp;

	if (!F.save || !F.regress)
		return;
	snprintf(path, sizeof(path), "%s/%016llx.hex", F.regress,
		 (unsigned long long)fnv64(s->buf, s->len));
	if (!access(path, F_OK))
		return;
	fp = fopen(path, "w");
	if (!fp) {
		printf("  (cannot save it as %s: %s)\n", path, strerror(errno));
		return;
	}
	fprintf(fp, "# a frame tcpflags and tests/fuzzref.c disagreed on\n"
		"# found by: make fuzz SEED=0x%016llx\n# %s\n"
		"expect %s\n", (unsigned long long)F.seed, why,
		ref_name(&s->ref, name, sizeof(name)));
	for (__u32 i = 0; i < s->len; i++)
		fprintf(fp, "%02x%s", s->buf[i],
			i + 1 == s->len || i % 32 == 31 ? "\n" : "");
	fclose(fp);
	F.saved++;
	printf("  saved as %s\n", path);
}

/* The reference's record of a frame. */
static void slot_classify(struct slot *s)
{
	ref_classify(s->buf, s->len, &s->ref);
	s->key = ref_key(&s->ref);
}

/* Compare one frame alone; prints PASS (when asked) or FAIL.  0: it held. */
static int frame_check(const struct slot *s, const char *name, int pass_line)
{
	struct rec want, got;
	char rn[48];

	rec_want(s, &want);
	rec_run(s, &got);
	ref_name(&s->ref, rn, sizeof(rn));
	if (rec_equal(&want, &got)) {
		if (pass_line)
			fz_check(1, name, "%u bytes, %s", s->len, rn);
		return 0;
	}
	fz_check(0, name, "tcpflags and the reference disagree on a %u-byte "
		 "frame (the reference: %s)", s->len, rn);
	hex_print(s->buf, s->len);
	rec_print("tcpflags", &got);
	rec_print("reference", &want);
	return -1;
}

/*
 * A batch: every frame through XDP (the IPv4 rule set live) and, under
 * its family's rule set, egress; then the counters once, against the sum
 * of the predictions.  If they do not add up, each frame again alone.
 */
static void batch_run(struct slot *sl, int n, struct snap *before)
{
	static struct snap after, want;
	int ok = 1;

	want = *before;
	for (int pass = 0; pass < 2; pass++) {
		set_live(pass);
		for (int i = 0; i < n; i++) {
			struct slot *s = &sl[i];
			const struct ref_rec *r = &s->ref;
			__u32 ret, key;

			if (eg_family(r) != pass)
				continue;
			if (hx_run(&F.h, HX_IN, s->buf, s->len, &ret) ||
			    ret != XDP_PASS)
				s->bad = 1;
			key = s->key;
			want.stats[key].packets++;
			want.stats[key].bytes += s->len;
			if (eg_refused(s) ?
			    hx_run(&F.h, HX_EG, s->buf, s->len, &ret) != -EINVAL :
			    hx_run(&F.h, HX_EG, s->buf, s->len, &ret) ||
			    ret != TC_ACT_OK)
				s->bad = 1;
			if (!r->tcp)
				continue;
			/* the phases are summed: any one phase will do */
			want.phases[TCPF_KEY_PHASE(HX_IN, 0)]++;
			want.phases[TCPF_KEY_PHASE(HX_EG, 0)]++;
			key = F.slot_of[pass][r->flags];
			want.hits[key].packets++;
			want.hits[key].bytes += s->len;
			want.drops[TCPF_DROP_WOULD].packets++;
			want.drops[TCPF_DROP_WOULD].bytes += s->len;
		}
	}
	snap_read(&after);
	for (int i = 0; i < n; i++)
		ok = ok && !sl[i].bad;
	ok = ok && !memcmp(after.stats, want.stats, sizeof(want.stats)) &&
	     !memcmp(after.hits, want.hits, sizeof(want.hits)) &&
	     !memcmp(after.drops, want.drops, sizeof(want.drops)) &&
	     phase_sum(&after, HX_IN) == phase_sum(&want, HX_IN) &&
	     phase_sum(&after, HX_EG) == phase_sum(&want, HX_EG);
	if (!ok) {
		for (int i = 0; i < n; i++) {
			char name[96], why[96];

			snprintf(name, sizeof(name), "fuzz_frame_%llu",
				 (unsigned long long)(F.frames + (__u64)i));
			if (!frame_check(&sl[i], name, 0))
				continue;
			F.disagreements++;
			snprintf(why, sizeof(why), "frame %llu of that run",
				 (unsigned long long)(F.frames + (__u64)i));
			regress_save(&sl[i], why);
		}
		snap_read(&after);
	}
	for (int i = 0; i < n; i++) {
		const struct ref_rec *r = &sl[i].ref;

		F.seen[sl[i].key]++;
		F.ah4_tcp += r->ah4 && r->tcp;
		if (r->frag == REF_FRAG_FIRST && r->tcp)
			F.frag_first[r->family == 6]++;
		if (r->frag == REF_FRAG_LATER && r->family)
			F.frag_later[r->family == 6]++;
	}
	F.frames += (__u64)n;
	*before = after;
}

/* -------------------------------------------------- regression frames */

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A .hex file: '#' comments, "expect WHAT", then the bytes in hex. */
static int regress_read(const char *path, __u8 *buf, __u32 cap, __u32 *len,
			struct ref_rec *expect, char *why, size_t n)
{
	FILE *fp = fopen(path, "r");
	char line[1024];
	int have = 0, hi = -1;

	*len = 0;
	if (!fp) {
		snprintf(why, n, "cannot read it: %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		if (!strncmp(line, "expect ", 7)) {
			if (ref_parse(line + 7, expect)) {
				snprintf(why, n, "'%.64s' is no record", line + 7);
				fclose(fp);
				return -1;
			}
			have = 1;
			continue;
		}
		for (char *p = line; *p; p++) {
			int v = hexval(*p);

			if (*p == ' ' || *p == '\t')
				continue;
			if (v < 0 || (*len == cap && hi < 0)) {
				snprintf(why, n, "bad byte '%c' or too long", *p);
				fclose(fp);
				return -1;
			}
			if (hi < 0) {
				hi = v;
			} else {
				buf[(*len)++] = (__u8)(hi << 4 | v);
				hi = -1;
			}
		}
	}
	fclose(fp);
	if (!have || hi >= 0 || *len < FZ_MIN) {
		snprintf(why, n, "no 'expect' line, an odd digit or under %d "
			 "bytes", FZ_MIN);
		return -1;
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every saved frame: the reference still says what the file says, and
 * tcpflags records it. */
static void regress_replay(void)
{
	DIR *d = F.regress ? opendir(F.regress) : NULL;
	char *names[4096];
	struct dirent *e;
	int n = 0;
	__u8 *buf = malloc(65536);

	if (!d || !buf) {
		if (F.regress)
			fz_check(0, "fuzz_regress", "cannot read %s: %s",
				 F.regress, strerror(errno));
		free(buf);
		if (d)
			closedir(d);
		return;
	}
	while ((e = readdir(d)) && n < 4096) {
		size_t l = strlen(e->d_name);

		if (l > 4 && !strcmp(e->d_name + l - 4, ".hex"))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), name_cmp);
	for (int i = 0; i < n; i++) {
		struct slot s = { .buf = buf };
		struct ref_rec expect;
		char path[4096], name[128], why[256], a[48], b[48];

		snprintf(path, sizeof(path), "%s/%s", F.regress, names[i]);
		snprintf(name, sizeof(name), "fuzz_regress_%.*s",
			 (int)strlen(names[i]) - 4, names[i]);
		if (regress_read(path, buf, F.cap, &s.len, &expect, why,
				 sizeof(why))) {
			fz_check(0, name, "%s: %s", path, why);
		} else {
			slot_classify(&s);
			ref_name(&s.ref, a, sizeof(a));
			ref_name(&expect, b, sizeof(b));
			if (strcmp(a, b))
				fz_check(0, name, "the reference now says %s, "
					 "the file %s", a, b);
			else
				frame_check(&s, name, 1);
		}
		free(names[i]);
	}
	free(buf);
}

/* ----------------------------------------------------------- the setup */

/* The longest frame XDP sees whole (past it, the test run makes the
 * rest fragments XDP's data_end does not reach) and TC accepts. */
static int probe_cap(void)
{
	static __u8 buf[65536];
	__u32 lo = 256, hi = sizeof(buf), key = TCPF_KEY_CNT(TCPF_CNT_NON_TCP);
	static struct snap a, b;

	memset(buf, 0, sizeof(buf));
	buf[12] = 0x88;                                /* LLDP: non_tcp */
	buf[13] = 0xcc;
	while (lo < hi) {
		__u32 mid = (lo + hi + 1) / 2, ret;
		int ok;

		snap_read(&a);
		ok = !hx_run(&F.h, HX_IN, buf, mid, &ret) &&
		     !hx_run(&F.h, HX_EG, buf, mid, &ret);
		snap_read(&b);
		ok = ok && b.stats[key].bytes - a.stats[key].bytes == mid;
		if (ok)
			lo = mid;
		else
			hi = mid - 1;
	}
	F.cap = lo;
	return lo > 256 ? 0 : -1;
}

/* A segment's record in a regression file, "v4 0x12": taken whole, or
 * refused (sscanf's %u read "v4294967300 0x12" as v4). */
static int check_records(void)
{
	static const struct {
		const char *s;
		int family, flags;	/* 0: refused */
	} recs[] = {
		{ "v4 0x12", 4, 0x12 }, { "v6 0xff", 6, 0xff },
		{ "v4 0x100", 0, 0 }, { "v4294967300 0x12", 0, 0 },
		{ "v4 0x12x", 0, 0 }, { "v4 0x12 ", 0, 0 }, { "v5 0x12", 0, 0 },
		{ "v4 12", 0, 0 }, { "v 0x12", 0, 0 },
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		struct ref_rec r;
		int ok = !ref_parse(recs[i].s, &r) && r.tcp;

		if (ok != !!recs[i].family ||
		    (ok && (r.family != recs[i].family ||
			    r.flags != recs[i].flags))) {
			printf("FAIL fuzz_records: '%s' %s\n", recs[i].s,
			       ok == !!recs[i].family ? "read wrong" :
			       ok ? "taken" : "refused");
			bad++;
		}
	}
	if (!bad)
		printf("PASS fuzz_records\n");
	return bad ? -1 : 0;
}

/* Every frame the reference can name, tcpflags counts. */
static int check_names(void)
{
	static const char *const whats[] = {
		"non_tcp", "tcp_fragment", "eth_truncated", "vlan_truncated",
		"vlan_too_deep", "ip_bad_version", "ip4_truncated",
		"ip4_bad_ihl", "ip6_truncated", "ip6_ext_truncated",
		"ip6_ext_too_long", "tcp_truncated", "tcp_bad_doff",
	};
	__u32 key;

	for (size_t i = 0; i < sizeof(whats) / sizeof(whats[0]); i++) {
		struct ref_rec r;

		if (ref_parse(whats[i], &r) || counter_key(whats[i], &key)) {
			printf("FAIL fuzz_names: '%s' is not a name both "
			       "the reference and tcpflags know\n", whats[i]);
			return -1;
		}
	}
	return check_records();
}

/* What the run reached: every outcome a frame can have in a test run. */
static void coverage(void)
{
	char name[64];
	int have[2] = { 0, 0 };

	for (int c = 0; c < TCPF_CNT_MAX; c++) {
		__u64 n = F.seen[TCPF_KEY_CNT(c)];

		/* the kernel refuses test frames under 14 bytes */
		if (c == TCPF_CNT_MAL_ETH_TRUNC)
			continue;
		snprintf(name, sizeof(name), "fuzz_coverage_%s",
			 counter_name((enum tcpf_counter)c));
		fz_check(n > 0, name, "%llu frames", (unsigned long long)n);
	}
	for (int fam = 0; fam < 2; fam++) {
		for (int f = 0; f < 256; f++)
			have[fam] += F.seen[TCPF_KEY_FLAGS(fam, f)] > 0;
		snprintf(name, sizeof(name), "fuzz_coverage_v%d_flag_bytes",
			 fam ? 6 : 4);
		fz_check(have[fam] == 256, name,
			 "%d of the 256 flag bytes seen", have[fam]);
		snprintf(name, sizeof(name), "fuzz_coverage_v%d_fragments",
			 fam ? 6 : 4);
		fz_check(F.frag_first[fam] && F.frag_later[fam], name,
			 "%llu first fragments counted, %llu later ones",
			 (unsigned long long)F.frag_first[fam],
			 (unsigned long long)F.frag_later[fam]);
	}
	fz_check(F.ah4_tcp > 0, "fuzz_coverage_v4_ah",
		 "%llu segments counted behind an IPv4 AH header",
		 (unsigned long long)F.ah4_tcp);
}

static void usage(void)
{
	fprintf(stderr, "usage: fuzz [--frames N] [--seed S] [--regress DIR] "
		"[--no-save]\n  N 0: until interrupted\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "frames", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "regress", required_argument, NULL, 'r' },
		{ "no-save", no_argument, NULL, 'S' },
		{ 0 },
	};
	struct hx_opts o = { .flows = true };
	unsigned long long frames = 1000000;
	static struct slot sl[BATCH];
	static struct snap before;
	struct fz_gen g;
	int have_seed = 0, c;
	double t0, t;
	char *end;

	F.save = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			frames = strtoull(optarg, &end, 0);
			if (errno || *end || optarg[0] == '-')
				usage();
			break;
		case 's':
			errno = 0;
			F.seed = strtoull(optarg, &end, 0);
			if (errno || *end || !*optarg)
				usage();
			have_seed = 1;
			break;
		case 'r':
			F.regress = optarg;
			break;
		case 'S':
			F.save = 0;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		F.seed = ((__u64)ts.tv_sec * 1000000007ULL) ^
			 (__u64)ts.tv_nsec ^ ((__u64)getpid() << 40);
	}
	if (hx_open(&F.h, "fuzz", &o))
		return 1;
	F.m = (struct policy_maps){ F.h.policy, F.h.sets, F.h.hits };
	if (check_names() || install_rules())
		return 1;
	if (probe_cap()) {
		printf("FAIL fuzz_setup: the test run takes no frame of 256 "
		       "bytes\n");
		return 1;
	}
	printf("fuzz: seed 0x%016llx (make fuzz SEED=0x%016llx repeats this "
	       "run), frames up to %u bytes\n", (unsigned long long)F.seed,
	       (unsigned long long)F.seed, F.cap);
	regress_replay();
	if (fz_gen_init(&g, F.seed, F.cap))
		return 1;
	for (int i = 0; i < BATCH; i++) {
		sl[i].buf = malloc(F.cap);
		if (!sl[i].buf)
			return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	snap_read(&before);
	t0 = now_s();
	while (!stop && (!frames || F.frames < frames)) {
		int n = 0;

		while (n < BATCH && !stop &&
		       (!frames || F.frames + (__u64)n < frames)) {
			struct slot *s = &sl[n++];

			s->len = (__u32)fz_gen_frame(&g, s->buf);
			s->bad = 0;
			slot_classify(s);
		}
		batch_run(sl, n, &before);
	}
	t = now_s() - t0;
	printf("fuzz: frames made: ");
	for (int k = 0; k < FZ_KINDS; k++)
		printf("%s%llu %s", k ? ", " : "",
		       (unsigned long long)g.made[k], fz_kind_name(k));
	printf("\n%llu frames, %llu disagreements\n",
	       (unsigned long long)F.frames,
	       (unsigned long long)F.disagreements);
	printf("%.0f frames/s (%.1f s; each frame through XDP and TC egress)\n",
	       t > 0 ? (double)F.frames / t : 0.0, t);
	if (F.frames >= COVERAGE_MIN)
		coverage();
	fz_check(F.disagreements == 0, "fuzz_frames",
		 "%llu frames, %llu disagreements (seed 0x%016llx)%s",
		 (unsigned long long)F.frames,
		 (unsigned long long)F.disagreements,
		 (unsigned long long)F.seed,
		 F.saved ? "; saved as regression frames" : "");
	for (int i = 0; i < BATCH; i++)
		free(sl[i].buf);
	fz_gen_free(&g);
	hx_close(&F.h);
	printf("fuzz: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
