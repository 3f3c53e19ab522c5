// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_rules.c - the rule language (user/rules.c) without BPF: every valid
 * form parses to exactly the sets it names (the 256-bit flag set checked
 * against an independent predicate), every bad input (the corpus
 * tests/rules/bad.txt) is refused with a message that says why, files are
 * parsed whole or not at all with "FILE:LINE:" errors, ruleset_write round-trips, and ruleset_compile
 * orders rules and builds the prefix and port bitmaps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "tcpflags.h"
#include "rules.h"
#include "check.h"
#include "lines.h"

#define ALLF 0xff

/* ------------------------------------------------------------ helpers */

/* Parse one rule from a string; *err gets the message. */
static int parse1(const char *text, const struct ruleset *rs, struct rule *r,
		  char *err, size_t errlen)
{
	char buf[2048], *argv[256];
	int argc;

	snprintf(buf, sizeof(buf), "%s", text);
	argc = line_words(buf, argv, 256);
	err[0] = '\0';
	return rule_parse(argc, argv, rs, r, err, errlen);
}

/* "a/len,a/len" of a prefix list, in inet_ntop's form. */
static void pfx_list_str(const struct prefix *p, int n, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(p[i].family == TCPF_IPV4 ? AF_INET : AF_INET6,
			  p[i].addr, a, sizeof(a));
		used += (size_t)snprintf(used < size ? buf + used : NULL,
					 used < size ? size - used : 0,
					 "%s%s/%u", i ? "," : "", a, p[i].plen);
	}
}

/* The bytes after an IPv4 address, and the host bits, must be zero. */
static int pfx_clean(const struct prefix *p, int n)
{
	if (!p)		/* no list holds no prefix */
		return n == 0;
	for (int i = 0; i < n; i++) {
		int max = p[i].family == TCPF_IPV4 ? 32 : 128;

		for (int bit = p[i].plen; bit < 128; bit++)
			if (p[i].addr[bit / 8] & (0x80 >> (bit % 8)))
				return 0;
		if (p[i].plen > max)
			return 0;
	}
	return 1;
}

static void ports_str(const struct port_range *r, int n, char *buf,
		      size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, used < size ? size - used : 0,
					 "%s%u-%u", i ? "," : "", r[i].lo,
					 r[i].hi);
}

static int flag_in(const __u64 *set, int b)
{
	return !!(set[b / 64] & (1ULL << (b % 64)));
}

/* ----------------------------------------- independent flag predicates */

/*
 * nf_conntrack_proto_tcp.c's tcp_valid_flags[], indexed by the flag byte
 * without PSH, ECE and CWR (FIN SYN RST ACK URG: 0x37), written out as
 * the kernel's table rather than through tcpf_flags_valid().
 */
static int ct_valid(int b)
{
	static const int ok[] = {
		0x02, 0x02 | 0x20, 0x02 | 0x10, 0x04, 0x04 | 0x10,
		0x01 | 0x10, 0x01 | 0x10 | 0x20, 0x10, 0x10 | 0x20,
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if ((b & 0x37) == ok[i])
			return 1;
	return 0;
}

static int f_any(int b) { (void)b; return 1; }
static int f_syn_not_ack(int b) { return (b & 0x12) == 0x02; }
static int f_null(int b) { return b == 0; }
static int f_allset(int b) { return b == 0xff; }
static int f_ece_not_cwr(int b) { return (b & 0xc0) == 0x40; }
static int f_syn_exact(int b) { return b == 0x02; }
static int f_ack_exact(int b) { return b == 0x10; }
static int f_xmas(int b) { return b == (0x01 | 0x08 | 0x20); }
static int f_iptables_syn(int b) { return (b & 0x17) == 0x02; }
static int f_valid(int b) { return ct_valid(b); }
static int f_invalid(int b) { return !ct_valid(b); }
static int f_synfin(int b) { return (b & 0x03) == 0x03; }
static int f_synrst(int b) { return (b & 0x06) == 0x06; }
static int f_finnoack(int b) { return (b & 0x11) == 0x01; }
static int f_ece_valid(int b) { return (b & 0x40) && ct_valid(b); }
static int f_syn_flag_not_ack(int b) { return (b & 0x12) == 0x02; }
static int f_rst_ack_set(int b) { return (b & 0x14) == 0x14; }

/* ------------------------------------------------------ valid forms */

struct ok_case {
	const char *text;
	int (*flags)(int b);     /* NULL: every byte */
	__u32 phases;            /* 0: all (the default) */
	__u32 states;            /* 0: all */
	__u8 dirs, families;     /* 0: both */
	const char *src, *dst;   /* expected prefixes, NULL: any */
	const char *sport, *dport;
	__u8 action;
	__u64 rate, burst;
	__u8 per, plen;
	int priority;
};

#define PH(p) (1u << TCPF_PH_##p)
#define ST(s) (1u << TCPF_ST_##s)
#define ALL_PH ((1u << (TCPF_PH_MAX + 1)) - 1)
#define ALL_ST ((1u << TCPF_ST_MAX) - 1)
#define D_IN (1u << TCPF_DIR_INGRESS)
#define D_EG (1u << TCPF_DIR_EGRESS)
#define F4 (1u << TCPF_IPV4)
#define F6 (1u << TCPF_IPV6)
#define PASS TCPF_ACT_PASS
#define DROP TCPF_ACT_DROP
#define COUNT TCPF_ACT_COUNT
#define RL TCPF_ACT_RATELIMIT

static const struct ok_case ok_cases[] = {
	/* flag forms */
	{ "--tcp-flags SYN,ACK SYN drop", f_syn_not_ack, .action = DROP },
	{ "--tcp-flags ALL NONE drop", f_null, .action = DROP },
	{ "--tcp-flags ALL ALL drop", f_allset, .action = DROP },
	{ "--tcp-flags NONE NONE count", f_any, .action = COUNT },
	{ "--tcp-flags ECE,CWR ECE pass", f_ece_not_cwr, .action = PASS },
	{ "--tcp-flags FIN,SYN,RST,PSH,ACK,URG,ECE,CWR SYN drop", f_syn_exact,
	  .action = DROP },
	{ "--tcp-flags SYN|ACK SYN drop", f_syn_not_ack, .action = DROP },
	{ "flags SYN drop", f_syn_exact, .action = DROP },
	{ "flags SYN/SYN,ACK drop", f_syn_flag_not_ack, .action = DROP },
	{ "flags NONE drop", f_null, .action = DROP },
	{ "flags FIN,PSH,URG drop", f_xmas, .action = DROP },
	{ "flags ACK/ALL count", f_ack_exact, .action = COUNT },
	{ "flags ALL drop", f_allset, .action = DROP },
	{ "--syn drop", f_iptables_syn, .action = DROP },
	{ "valid pass", f_valid, .action = PASS },
	{ "invalid drop", f_invalid, .action = DROP },
	{ "nullscan drop", f_null, .action = DROP },
	{ "xmas drop", f_xmas, .action = DROP },
	{ "synfin drop", f_synfin, .action = DROP },
	{ "synrst drop", f_synrst, .action = DROP },
	{ "finnoack drop", f_finnoack, .action = DROP },
	{ "--tcp-flags ECE ECE valid drop", f_ece_valid, .action = DROP },
	{ "synfin invalid drop", f_synfin, .action = DROP },
	{ "--tcp-flags RST,ACK RST,ACK flags RST,ACK/RST,ACK drop",
	  f_rst_ack_set, .action = DROP },
	/* phases and states */
	{ "phase out_of_state drop", .phases = PH(OUT_OF_STATE), .action = DROP },
	{ "phase handshake_syn,handshake_synack,handshake_ack count",
	  .phases = PH(SYN) | PH(SYNACK) | PH(ACK), .action = COUNT },
	{ "phase established,teardown_fin1,teardown_ack1,teardown_fin2,"
	  "teardown_ack2,reset,retransmit count",
	  .phases = PH(ESTABLISHED) | PH(FIN1) | PH(ACK1) | PH(FIN2) |
		    PH(ACK2) | PH(RESET) | PH(RETRANSMIT), .action = COUNT },
	{ "phase untracked drop", .phases = 1u << TCPF_PH_UNTRACKED,
	  .action = DROP },
	{ "state none drop", .states = ST(NONE), .action = DROP },
	{ "state syn_sent,syn_recv,established count",
	  .states = ST(SYN_SENT) | ST(SYN_RECV) | ST(ESTABLISHED),
	  .action = COUNT },
	{ "state fin_wait1,fin_wait2,close_wait,last_ack,closing,time_wait pass",
	  .states = ST(FIN_WAIT1) | ST(FIN_WAIT2) | ST(CLOSE_WAIT) |
		    ST(LAST_ACK) | ST(CLOSING) | ST(TIME_WAIT),
	  .action = PASS },
	{ "phase out_of_state state none flags ACK drop", f_ack_exact,
	  .phases = PH(OUT_OF_STATE), .states = ST(NONE), .action = DROP },
	/* direction and family */
	{ "ingress drop", .dirs = D_IN, .action = DROP },
	{ "egress drop", .dirs = D_EG, .action = DROP },
	{ "ipv4 drop", .families = F4, .action = DROP },
	{ "ipv6 count", .families = F6, .action = COUNT },
	{ "egress ipv6 nullscan drop", f_null, .dirs = D_EG, .families = F6,
	  .action = DROP },
	/* prefixes: host bits go */
	{ "src 10.1.2.3/8 drop", .src = "10.0.0.0/8", .action = DROP },
	{ "src 198.18.1.1/15 drop", .src = "198.18.0.0/15", .action = DROP },
	{ "src 192.0.2.77 drop", .src = "192.0.2.77/32", .action = DROP },
	{ "src 0.0.0.0/0 drop", .src = "0.0.0.0/0", .action = DROP },
	{ "src 255.255.255.255/1 drop", .src = "128.0.0.0/1", .action = DROP },
	{ "dst 192.0.2.1/24,2001:db8:ffff::1/33 drop",
	  .dst = "192.0.2.0/24,2001:db8:8000::/33", .action = DROP },
	{ "src 2001:db8::1 drop", .src = "2001:db8::1/128", .action = DROP },
	{ "src ::/0 drop", .src = "::/0", .action = DROP },
	{ "src 2001:db8:1:2:3:4:5:6/127 drop", .src = "2001:db8:1:2:3:4:5:6/127",
	  .action = DROP },
	{ "src 2001:db8:1:2:3:4:5:7/127 drop", .src = "2001:db8:1:2:3:4:5:6/127",
	  .action = DROP },
	{ "src 10.0.0.0/8 dst 10.0.0.0/8 drop", .src = "10.0.0.0/8",
	  .dst = "10.0.0.0/8", .action = DROP },
	{ "src @bogons drop", .src = "198.18.0.0/15,2001:2::/48",
	  .action = DROP },
	{ "src @bogons,192.0.2.0/24 dst @lan drop",
	  .src = "198.18.0.0/15,2001:2::/48,192.0.2.0/24",
	  .dst = "10.0.0.0/8", .action = DROP },
	/* ports */
	{ "sport 80 drop", .sport = "80-80", .action = DROP },
	{ "dport 1000-2000,80,443 drop", .dport = "1000-2000,80-80,443-443",
	  .action = DROP },
	{ "dport 0,65535 drop", .dport = "0-0,65535-65535", .action = DROP },
	{ "sport 0-65535 dport 22 drop", .sport = "0-65535", .dport = "22-22",
	  .action = DROP },
	{ "dport 10-19,20-29 drop", .dport = "10-19,20-29", .action = DROP },
	/* actions */
	{ "pass", .action = PASS },
	{ "drop", .action = DROP },
	{ "count", .action = COUNT },
	{ "ratelimit 100/s per src", .action = RL, .rate = 100, .burst = 5,
	  .per = TCPF_RL_SRC, .plen = 128 },
	{ "ratelimit 6000/m burst 50 per src/24", .action = RL, .rate = 100,
	  .burst = 50, .per = TCPF_RL_SRC, .plen = 24 },
	{ "ratelimit 10 per global", .action = RL, .rate = 10, .burst = 5,
	  .per = TCPF_RL_GLOBAL },
	{ "ratelimit 1/s burst 1 per src/0", .action = RL, .rate = 1,
	  .burst = 1, .per = TCPF_RL_SRC, .plen = 0 },
	{ "ratelimit 120/min burst 1000000000 per src/64", .action = RL,
	  .rate = 2, .burst = 1000000000, .per = TCPF_RL_SRC, .plen = 64 },
	{ "ratelimit 7/sec per src/128", .action = RL, .rate = 7, .burst = 5,
	  .per = TCPF_RL_SRC, .plen = 128 },
	{ "ratelimit 1000000000/s per global", .action = RL,
	  .rate = 1000000000, .burst = 5, .per = TCPF_RL_GLOBAL },
	{ "--syn dport 80,443 ratelimit 200/s burst 50 per src/24",
	  f_iptables_syn, .dport = "80-80,443-443", .action = RL, .rate = 200,
	  .burst = 50, .per = TCPF_RL_SRC, .plen = 24 },
	/* priorities */
	{ "--priority -5 drop", .action = DROP, .priority = -5 },
	{ "--priority 1000000 drop", .action = DROP, .priority = 1000000 },
};

/* The sets the rules above use. */
static const char sets_text[] =
	"set bogons 198.18.0.0/15 2001:2::/48\n"
	"set lan 10.0.0.0/8\n";

static void check_ok(const struct ok_case *c, const struct ruleset *rs)
{
	char err[256], why[1024] = "", got[1024], name[96];
	struct rule *r = calloc(1, sizeof(*r));
	int ret;
	size_t w = 0;

#define WHY(...) (w += (size_t)snprintf(why + w, w < sizeof(why) ? sizeof(why) - w : 0, __VA_ARGS__))
	snprintf(name, sizeof(name), "parse_ok '%s'", c->text);
	ret = parse1(c->text, rs, r, err, sizeof(err));
	if (ret) {
		check_report(0, name, "refused (%d): %s", ret, err);
		free(r);
		return;
	}
	for (int b = 0; b < TCPF_PATTERNS; b++) {
		int want = c->flags ? c->flags(b) : 1;

		if (flag_in(r->flags, b) != want) {
			WHY("flag byte 0x%02x %s; ", b, want ? "missing" :
			    "accepted");
			break;
		}
	}
	if (r->phases != (c->phases ? c->phases : ALL_PH))
		WHY("phases 0x%x, want 0x%x; ", r->phases,
		    c->phases ? c->phases : ALL_PH);
	if (r->states != (c->states ? c->states : ALL_ST))
		WHY("states 0x%x, want 0x%x; ", r->states,
		    c->states ? c->states : ALL_ST);
	if (r->dirs != (c->dirs ? c->dirs : D_IN))
		WHY("dirs 0x%x; ", r->dirs);
	if (r->families != (c->families ? c->families : (F4 | F6)))
		WHY("families 0x%x; ", r->families);
	pfx_list_str(r->src, r->nsrc, got, sizeof(got));
	if ((c->src ? !r->src : !!r->src) || strcmp(got, c->src ? c->src : ""))
		WHY("src '%s', want '%s'; ", got, c->src ? c->src : "");
	pfx_list_str(r->dst, r->ndst, got, sizeof(got));
	if ((c->dst ? !r->dst : !!r->dst) || strcmp(got, c->dst ? c->dst : ""))
		WHY("dst '%s', want '%s'; ", got, c->dst ? c->dst : "");
	if (!pfx_clean(r->src, r->nsrc) || !pfx_clean(r->dst, r->ndst))
		WHY("host bits left in a prefix; ");
	ports_str(r->sport, r->nsport, got, sizeof(got));
	if (strcmp(got, c->sport ? c->sport : ""))
		WHY("sport '%s', want '%s'; ", got, c->sport ? c->sport : "");
	ports_str(r->dport, r->ndport, got, sizeof(got));
	if (strcmp(got, c->dport ? c->dport : ""))
		WHY("dport '%s', want '%s'; ", got, c->dport ? c->dport : "");
	if (r->action != c->action)
		WHY("action %u, want %u; ", r->action, c->action);
	if (c->action == RL &&
	    (r->rate != c->rate || r->burst != c->burst ||
	     r->rl_per != c->per || (c->per == TCPF_RL_SRC &&
				      r->rl_plen != c->plen)))
		WHY("rate %llu burst %llu per %u/%u, want %llu %llu %u/%u; ",
		    (unsigned long long)r->rate, (unsigned long long)r->burst,
		    r->rl_per, r->rl_plen, (unsigned long long)c->rate,
		    (unsigned long long)c->burst, c->per, c->plen);
	if (r->priority != c->priority)
		WHY("priority %d, want %d; ", r->priority, c->priority);
	if (strcmp(r->text, c->text))
		WHY("text '%s'; ", r->text);
	if (r->id)
		WHY("id %u before ruleset_add; ", r->id);
#undef WHY
	check_report(!why[0], name, "%s", why);
	rule_free(r);
	free(r);
}

/* The presets and --syn, byte by byte: how many of the 256 each takes. */
static void check_preset_sizes(const struct ruleset *rs)
{
	static const struct {
		const char *text;
		int n;
	} want[] = {
		{ "nullscan drop", 1 }, { "xmas drop", 1 },
		{ "synfin drop", 64 }, { "synrst drop", 64 },
		{ "finnoack drop", 64 }, { "--syn drop", 16 },
		{ "valid drop", 72 }, { "invalid drop", 184 },
		{ "flags SYN drop", 1 }, { "--tcp-flags NONE NONE drop", 256 },
	};
	char err[256], name[96];

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct rule r;
		int n = 0;

		snprintf(name, sizeof(name), "preset_size '%s'", want[i].text);
		if (parse1(want[i].text, rs, &r, err, sizeof(err))) {
			check_report(0, name, "refused: %s", err);
			continue;
		}
		for (int b = 0; b < TCPF_PATTERNS; b++)
			n += flag_in(r.flags, b);
		check_report(n == want[i].n, name, "%d flag bytes, want %d", n,
			     want[i].n);
		rule_free(&r);
	}
}

/* ------------------------------------------------------ refusals */

/* A rule the parser must refuse; the cases are the corpus
 * tests/rules/bad.txt, one a line: TEXT | WANT [| WANT2]. */
struct bad_case {
	const char *text;
	const char *want;        /* a phrase the message must contain */
	const char *want2;       /* and another, or NULL */
};


static void check_bad(const struct bad_case *c, const struct ruleset *rs)
{
	char err[256], name[96];
	struct rule r;
	int ret;

	snprintf(name, sizeof(name), "parse_bad '%s'", c->text);
	ret = parse1(c->text, rs, &r, err, sizeof(err));
	if (!ret) {
		check_report(0, name, "accepted, want an error with '%s'",
			     c->want);
	} else {
		check_report(ret < 0 && strstr(err, c->want) &&
			     (!c->want2 || strstr(err, c->want2)), name,
			     "error %d '%s', want it to say '%s'%s%s%s", ret,
			     err, c->want, c->want2 ? " and '" : "",
			     c->want2 ? c->want2 : "", c->want2 ? "'" : "");
	}
	rule_free(&r);
}

struct corpus {
	const struct ruleset *rs;
	const char *path;
	int cases, bad_lines;
};

static int bad_line(void *arg, char *line, int lineno)
{
	struct corpus *k = arg;
	char *f[4];
	int n = line_fields(line, " | ", f, 4);
	struct bad_case c = { f[0], n > 1 ? f[1] : "", n > 2 ? f[2] : NULL };

	if (n < 2 || n > 3 || !*c.text || !*c.want || (c.want2 && !*c.want2)) {
		check_report(0, "parse_bad_corpus_line", "%s:%d: want "
			     "'RULE | PART' or 'RULE | PART | PART'", k->path,
			     lineno);
		k->bad_lines++;
		return 0;
	}
	check_bad(&c, k->rs);
	k->cases++;
	return 0;
}

/* Every case of tests/rules/bad.txt; the file must be there and hold
 * cases, every line of it one. */
static void check_bad_corpus(const struct ruleset *rs)
{
	char path[4200];
	struct corpus k = { .rs = rs, .path = path };
	int err = tree_path("tests/rules/bad.txt", path, sizeof(path));

	if (!err)
		err = lines_file(path, bad_line, &k);
	printf("# %d refusal cases from %s\n", k.cases, path);
	check_report(!err && k.cases > 0 && !k.bad_lines, "parse_bad_corpus",
		     "%s: %s, %d cases, %d lines that do not read", path,
		     err ? strerror(-err) : "read", k.cases, k.bad_lines);
}

static void check_bad_misc(const struct ruleset *rs)
{
	char err[256], text[1024];
	struct rule r;
	size_t n;
	int ret;

	err[0] = '\0';
	ret = rule_parse(0, NULL, rs, &r, err, sizeof(err));
	check_report(ret < 0 && strstr(err, "empty rule"), "parse_bad_empty",
		     "ret %d '%s'", ret, err);
	rule_free(&r);

	/* a rule longer than RULE_TEXT_MAX - 1 characters */
	n = (size_t)snprintf(text, sizeof(text), "dport 1");
	while (n < RULE_TEXT_MAX + 10)
		n += (size_t)snprintf(text + n, sizeof(text) - n, ",%zu",
				      n % 60000 + 2);
	snprintf(text + n, sizeof(text) - n, " drop");
	ret = parse1(text, rs, &r, err, sizeof(err));
	check_report(ret < 0 && strstr(err, "too long"), "parse_bad_too_long",
		     "ret %d '%s'", ret, err);
	rule_free(&r);

	/* exactly RULE_TEXT_MAX - 1 characters still fit */
	memset(text, 0, sizeof(text));
	n = (size_t)snprintf(text, sizeof(text), "--priority ");
	memset(text + n, '0', RULE_TEXT_MAX - 1 - n - 7);
	strcat(text, "1 count");
	ret = parse1(text, rs, &r, err, sizeof(err));
	check_report(ret == 0 && strlen(r.text) == RULE_TEXT_MAX - 1 &&
		     r.priority == 1, "parse_text_max_fits",
		     "ret %d '%s' len %zu", ret, err, strlen(r.text));
	rule_free(&r);
}

/* ------------------------------------------------------------ files */

static struct ruleset *rs_new(void)
{
	struct ruleset *rs = malloc(sizeof(*rs));

	if (!rs) {
		printf("FAIL alloc: out of memory\n");
		exit(1);
	}
	ruleset_init(rs);
	return rs;
}

static int rs_empty(const struct ruleset *rs)
{
	return rs->nrules == 0 && rs->nsets == 0 &&
	       rs->default_action == TCPF_ACT_PASS;
}

/* A file the parser must refuse whole: the error names its line. */
struct file_case {
	const char *name, *text;
	int line;
	const char *phrase;      /* what the message must say */
};

/* c->text must be refused with an error starting "t.rules:LINE: " and
 * saying c->phrase, and leave the rule set empty. */
static void file_bad(const struct file_case *c)
{
	struct ruleset *rs = rs_new();
	char err[512] = "", want[32];
	int ret = ruleset_parse_text("t.rules", c->text, rs, err, sizeof(err));

	snprintf(want, sizeof(want), "t.rules:%d: ", c->line);
	check_report(ret < 0 && !strncmp(err, want, strlen(want)) &&
		     strstr(err, c->phrase) && rs_empty(rs), c->name,
		     "ret %d err '%s' (want '%s...%s'), %d rules %d sets left",
		     ret, err, want, c->phrase, rs->nrules, rs->nsets);
	ruleset_free(rs);
	free(rs);
}

static const struct file_case file_bads[] = {
	{ "file_bad_line_1",
	  "nosuch drop\nnullscan drop\n",
	  1, "unknown word 'nosuch'" },
	{ "file_bad_line_counts_comments",
	  "# c\n\n  \nset a 10.0.0.0/8\n# c # c\nsrc @a drop\n\n"
	  "dport 100-50 drop\nnullscan drop\n",
	  8, "empty port range" },
	{ "file_bad_last_line_no_newline",
	  "nullscan drop\nxmas drop\nsrc 10.0.0.0/33 drop",
	  3, "prefix length out of range" },
	{ "file_bad_crlf",
	  "nullscan drop\r\n\r\nfoo drop\r\n",
	  3, "unknown word 'foo'" },
	{ "file_bad_set_before_use",
	  "src @late drop\nset late 10.0.0.0/8\n",
	  1, "unknown set '@late'" },
	{ "file_bad_set_name",
	  "set 1x 10.0.0.0/8\n",
	  1, "invalid set name" },
	{ "file_bad_set_twice",
	  "set a 10.0.0.0/8\nset a 11.0.0.0/8\n",
	  2, "defined twice" },
	{ "file_bad_set_empty",
	  "set a\n",
	  1, "set needs a name and prefixes" },
	{ "file_bad_set_prefix",
	  "\nset a 10.0.0.0/8 2001:db8::/200\n",
	  2, "prefix length out of range" },
	{ "file_bad_default",
	  "default maybe\n",
	  1, "default takes pass or drop" },
	{ "file_bad_default_extra",
	  "default drop now\n",
	  1, "default takes pass or drop" },
	{ "file_bad_rule_id_twice",
	  "rule 3 nullscan drop\nrule 4 xmas drop\nrule 3 synfin drop\n",
	  3, "rule id 3 used twice" },
	{ "file_bad_rule_id_zero",
	  "rule 0 drop\n",
	  1, "invalid rule id" },
	{ "file_bad_rule_id_257",
	  "rule 257 drop\n",
	  1, "invalid rule id" },
	{ "file_bad_rule_id_word",
	  "rule x drop\n",
	  1, "invalid rule id" },
	{ "file_bad_rule_without_words",
	  "rule 5\n",
	  1, "empty rule" },
	{ "file_bad_after_good_sets",
	  "set a 10.0.0.0/8\ndefault drop\nsrc @a drop\ndrop drop\n",
	  4, "after the action" },
	{ "file_bad_guard_list_set",
	  "guard cookie port 80 allow @nosuch\n",
	  1, "unknown set '@nosuch'" },
	{ "file_bad_guard_list_twice",
	  "guard cookie port 80 deny 10.0.0.0/8 deny 11.0.0.0/8\n",
	  1, "guard: 'deny' given twice" },
	{ "file_bad_guard_list_no_value",
	  "guard cookie port 80 allow\n",
	  1, "guard: 'allow' needs a value" },
	{ "file_bad_guard_list_prefix",
	  "guard auth port 80 deny 10.0.0.0/33\n",
	  1, "prefix length out of range in '10.0.0.0/33'" },
	{ "file_bad_guard_list_and_a_bad_setting",
	  "set a 10.0.0.0/8\nguard cookie allow @a speed 3\n",
	  2, "guard: unknown setting 'speed'" },
};

/* A guard line's allow and deny lists: prefixes and sets, as src takes
 * them; the other words are its settings. */
static void test_guard_lists(void)
{
	static const char text[] =
		"set office 192.0.2.0/24,2001:db8::/32\n"
		"guard cookie port 80 allow @office,198.51.100.7 rotate 20 "
		"deny 198.18.0.0/15\n";
	struct ruleset *rs = rs_new();
	char err[512] = "", allow[256] = "", deny[256] = "";
	const struct guard_set *g = &rs->guard;
	int ret = ruleset_parse_text("t.rules", text, rs, err, sizeof(err));

	if (!ret) {
		pfx_list_str(g->list[TCPF_GL_ALLOW], g->nlist[TCPF_GL_ALLOW],
			     allow, sizeof(allow));
		pfx_list_str(g->list[TCPF_GL_DENY], g->nlist[TCPF_GL_DENY],
			     deny, sizeof(deny));
	}
	check_report(!ret && rs->has_guard && g->mode == TCPF_GM_COOKIE &&
		     g->rotate == 20 && g->list_given[TCPF_GL_ALLOW] &&
		     g->list_given[TCPF_GL_DENY] &&
		     !strcmp(allow, "192.0.2.0/24,2001:db8::/32,198.51.100.7/32") &&
		     !strcmp(deny, "198.18.0.0/15"), "file_guard_lists",
		     "ret %d '%s' mode %d rotate %lld allow '%s' deny '%s'",
		     ret, err, g->mode, g->rotate, allow, deny);
	ruleset_free(rs);
	ret = ruleset_parse_text("t.rules", "guard auth port 80\n", rs, err,
				 sizeof(err));
	check_report(!ret && !g->list_given[TCPF_GL_ALLOW] &&
		     !g->list_given[TCPF_GL_DENY], "file_guard_no_lists",
		     "ret %d '%s'", ret, err);
	ruleset_free(rs);
	free(rs);
}

static const struct rule *by_id(const struct ruleset *rs, __u32 id)
{
	for (int i = 0; i < rs->nrules; i++)
		if (rs->rules[i].id == id)
			return &rs->rules[i];
	return NULL;
}

static void test_files(void)
{
	test_guard_lists();
	/* comments only on the first line: see test_comments() */
	static const char good[] =
		"# a rules file\n"
		"\n"
		"set bogons 198.18.0.0/15 2001:2::/48\n"
		"   \n"
		"set more { 192.0.2.0/24, 198.51.100.7/24 }\n"
		"set both @bogons @more 203.0.113.0/24\n"
		"default drop\n"
		"\t\n"
		"invalid drop\n"
		"rule 9 src @bogons drop\n"
		"--priority -1 flags SYN dst @both count\r\n"
		"--syn ratelimit 1000/s burst 200 per src";
	struct ruleset *rs = rs_new();
	char err[512] = "", got[1024];
	const struct rule *r;
	int ret;

	ret = ruleset_parse_text("t.rules", good, rs, err, sizeof(err));
	check_report(ret == 0, "file_good_parses", "ret %d '%s'", ret, err);
	check_report(rs->nrules == 4 && rs->nsets == 3 &&
		     rs->default_action == TCPF_ACT_DROP, "file_good_shape",
		     "%d rules %d sets default %u", rs->nrules, rs->nsets,
		     rs->default_action);
	pfx_list_str(rs->sets[1].p, rs->sets[1].n, got, sizeof(got));
	check_report(rs->nsets > 1 && !strcmp(rs->sets[1].name, "more") &&
		     !strcmp(got, "192.0.2.0/24,198.51.100.0/24"),
		     "file_set_decorated", "set '%s' = '%s'",
		     rs->nsets > 1 ? rs->sets[1].name : "?", got);
	pfx_list_str(rs->sets[2].p, rs->sets[2].n, got, sizeof(got));
	check_report(rs->nsets > 2 && !strcmp(got, "198.18.0.0/15,2001:2::/48,"
		     "192.0.2.0/24,198.51.100.0/24,203.0.113.0/24"),
		     "file_set_of_sets", "'%s'", got);
	/* ids: explicit 9 kept; the others the lowest free, in file order */
	r = by_id(rs, 1);
	check_report(r && !strcmp(r->text, "invalid drop"), "file_id_implicit_1",
		     "id 1 is '%s'", r ? r->text : "(none)");
	r = by_id(rs, 9);
	pfx_list_str(r ? r->src : NULL, r ? r->nsrc : 0, got, sizeof(got));
	check_report(r && !strcmp(r->text, "src @bogons drop") &&
		     !strcmp(got, "198.18.0.0/15,2001:2::/48"),
		     "file_id_explicit_9", "id 9 is '%s' src '%s'",
		     r ? r->text : "(none)", got);
	r = by_id(rs, 2);
	check_report(r && r->priority == -1 && r->action == TCPF_ACT_COUNT &&
		     /* cppcheck-suppress nullPointerRedundantCheck ; r is
		      * tested first in the && chain (cppcheck 2.10 misreads) */
		     r->ndst == 5 && !strcmp(r->text,
					     "--priority -1 flags SYN dst @both count"),
		     "file_id_implicit_2_crlf", "id 2 is '%s'",
		     r ? r->text : "(none)");
	r = by_id(rs, 3);
	check_report(r && r->action == TCPF_ACT_RATELIMIT && r->rate == 1000 &&
		     r->burst == 200, "file_last_line_no_newline",
		     "id 3 is '%s'", r ? r->text : "(none)");
	/* kept in evaluation order: (priority, id) */
	check_report(rs->nrules == 4 && rs->rules[0].id == 2 &&
		     rs->rules[1].id == 1 && rs->rules[2].id == 3 &&
		     rs->rules[3].id == 9, "file_rules_sorted",
		     "order %u %u %u %u", rs->rules[0].id, rs->rules[1].id,
		     rs->rules[2].id, rs->rules[3].id);
	ruleset_free(rs);
	check_report(rs_empty(rs), "ruleset_free_empties", "not empty");
	free(rs);

	/* one bad line anywhere rejects the file, at its line number */
	for (size_t i = 0; i < sizeof(file_bads) / sizeof(file_bads[0]); i++)
		file_bad(&file_bads[i]);

	/* ruleset_parse_file: the path leads the message */
	{
		char path[] = "/tmp/tcpf_test_rulesXXXXXX", want[128];
		int fd = mkstemp(path);
		struct ruleset *fr = rs_new();

		if (fd < 0 || write(fd, "nullscan drop\n\n\nxmas drop extra\n",
				    32) != 32) {
			check_report(0, "file_parse_path", "cannot write %s",
				     path);
		} else {
			snprintf(want, sizeof(want), "%s:4: ", path);
			ret = ruleset_parse_file(path, fr, err, sizeof(err));
			check_report(ret < 0 && !strncmp(err, want, strlen(want)) &&
				     strstr(err, "after the action") &&
				     rs_empty(fr), "file_parse_path",
				     "ret %d '%s'", ret, err);
		}
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		ret = ruleset_parse_file("/nonexistent/tcpf.rules", fr, err,
					 sizeof(err));
		check_report(ret < 0 && strstr(err, "/nonexistent/tcpf.rules"),
			     "file_parse_missing", "ret %d '%s'", ret, err);
		free(fr);
	}
}

/* Comments: a '#' ends its own line's words, and nothing else. */
static void comments_case(const char *name, const char *text, int nrules,
			  const char *last_text)
{
	struct ruleset *rs = rs_new();
	char err[512] = "";
	int ret = ruleset_parse_text("t.rules", text, rs, err, sizeof(err));
	const struct rule *r = by_id(rs, (__u32)nrules);

	check_report(ret == 0 && rs->nrules == nrules && r &&
		     !strcmp(r->text, last_text), name,
		     "ret %d '%s': %d rules (want %d), rule %d is '%s' (want "
		     "'%s')", ret, err, rs->nrules, nrules, nrules,
		     r ? r->text : "(none)", last_text);
	ruleset_free(rs);
	free(rs);
}

static void test_comments(void)
{
	comments_case("file_comment_line_between_rules",
		      "nullscan drop\n# a comment\nxmas drop\n", 2,
		      "xmas drop");
	comments_case("file_comment_after_a_rule",
		      "nullscan drop\nxmas drop # scans\nsynfin drop\n", 3,
		      "synfin drop");
	comments_case("file_comments_everywhere",
		      "# head\nset a 10.0.0.0/8 # lan\n\n   # indented\n"
		      "default drop # closed\nnullscan drop#tight\n"
		      "# between\nsrc @a drop\n", 2, "src @a drop");
}

/* 256 rules fit, the 257th is refused at its line. */
static void test_limits(void)
{
	size_t size = 300 * 64, n = 0;
	char *text = malloc(size), err[512] = "";
	struct ruleset *rs = rs_new();
	int ret;

	for (int i = 0; i < TCPF_RULES_MAX; i++)
		n += (size_t)snprintf(text + n, size - n, "dport %d drop\n",
				      1000 + i);
	ret = ruleset_parse_text("t.rules", text, rs, err, sizeof(err));
	check_report(ret == 0 && rs->nrules == TCPF_RULES_MAX,
		     "file_256_rules", "ret %d '%s' %d rules", ret, err,
		     rs->nrules);
	{
		int ids_ok = 1;

		for (int i = 0; i < rs->nrules; i++)
			ids_ok &= rs->rules[i].id == (__u32)i + 1 &&
				  rs->rules[i].dport[0].lo == 1000 + i;
		check_report(ids_ok, "file_256_rules_ids", "ids not 1..256 in order");
	}
	ruleset_free(rs);
	snprintf(text + n, size - n, "\nnullscan drop\n");
	ret = ruleset_parse_text("t.rules", text, rs, err, sizeof(err));
	check_report(ret < 0 && !strncmp(err, "t.rules:258: ", 13) &&
		     strstr(err, "too many rules") && rs_empty(rs),
		     "file_257th_rule_refused", "ret %d '%s'", ret, err);
	ruleset_free(rs);

	/* ruleset_add by itself: -E2BIG when full; ids the lowest free */
	{
		struct rule r;
		int id, ok = 1;

		for (int i = 0; i < TCPF_RULES_MAX && ok; i++) {
			ok = !parse1("nullscan drop", rs, &r, err, sizeof(err));
			id = ruleset_add(rs, &r);
			ok = ok && id == i + 1;
		}
		check_report(ok && rs->nrules == TCPF_RULES_MAX,
			     "ruleset_add_256", "%d rules", rs->nrules);
		parse1("xmas drop", rs, &r, err, sizeof(err));
		id = ruleset_add(rs, &r);
		check_report(id == -E2BIG && rs->nrules == TCPF_RULES_MAX,
			     "ruleset_add_257_e2big", "ruleset_add gave %d", id);
		rule_free(&r);
		check_report(ruleset_del(rs, 17) == 0 &&
			     rs->nrules == TCPF_RULES_MAX - 1 && !by_id(rs, 17),
			     "ruleset_del", "rule 17 still there");
		check_report(ruleset_del(rs, 17) == -ENOENT, "ruleset_del_missing",
			     "a second delete did not say ENOENT");
		parse1("xmas drop", rs, &r, err, sizeof(err));
		id = ruleset_add(rs, &r);
		check_report(id == 17, "ruleset_add_lowest_free_id",
			     "new rule got id %d, want 17", id);
		ruleset_free(rs);
	}
	free(text);
	free(rs);
}

/* ------------------------------------------------------ round trip */

static int rules_same(const struct rule *a, const struct rule *b, char *why,
		      size_t n)
{
	char x[1024], y[1024];

	if (a->id != b->id || a->priority != b->priority ||
	    strcmp(a->text, b->text)) {
		snprintf(why, n, "rule %u/%d '%s' became %u/%d '%s'", a->id,
			 a->priority, a->text, b->id, b->priority, b->text);
		return 0;
	}
	if (memcmp(a->flags, b->flags, sizeof(a->flags)) ||
	    a->phases != b->phases || a->states != b->states ||
	    a->dirs != b->dirs || a->families != b->families ||
	    a->action != b->action || a->rate != b->rate ||
	    a->burst != b->burst || a->rl_per != b->rl_per ||
	    a->rl_plen != b->rl_plen || a->nsport != b->nsport ||
	    a->ndport != b->ndport ||
	    memcmp(a->sport, b->sport, sizeof(a->sport[0]) * (size_t)a->nsport) ||
	    memcmp(a->dport, b->dport, sizeof(a->dport[0]) * (size_t)a->ndport)) {
		snprintf(why, n, "rule %u '%s' matches differently", a->id,
			 a->text);
		return 0;
	}
	pfx_list_str(a->src, a->nsrc, x, sizeof(x));
	pfx_list_str(b->src, b->nsrc, y, sizeof(y));
	if (strcmp(x, y)) {
		snprintf(why, n, "rule %u src '%.400s' became '%.400s'", a->id, x, y);
		return 0;
	}
	pfx_list_str(a->dst, a->ndst, x, sizeof(x));
	pfx_list_str(b->dst, b->ndst, y, sizeof(y));
	if (strcmp(x, y)) {
		snprintf(why, n, "rule %u dst '%.400s' became '%.400s'", a->id, x, y);
		return 0;
	}
	return 1;
}

static void round_trip(const char *name, const char *text)
{
	struct ruleset *a = rs_new(), *b = rs_new();
	size_t size = 4 << 20;
	char *buf = malloc(size), err[512] = "", why[1024] = "";
	int ret, ok = 1;

	ret = ruleset_parse_text("in.rules", text, a, err, sizeof(err));
	if (ret) {
		check_report(0, name, "the input does not parse: %s", err);
		goto out;
	}
	ret = ruleset_write(a, buf, size);
	if (ret) {
		check_report(0, name, "ruleset_write: %d", ret);
		goto out;
	}
	ret = ruleset_parse_text("out.rules", buf, b, err, sizeof(err));
	if (ret) {
		check_report(0, name, "its own output does not parse: %s", err);
		goto out;
	}
	if (a->nrules != b->nrules || a->nsets != b->nsets ||
	    a->default_action != b->default_action) {
		snprintf(why, sizeof(why), "%d rules %d sets default %u became "
			 "%d %d %u", a->nrules, a->nsets, a->default_action,
			 b->nrules, b->nsets, b->default_action);
		ok = 0;
	}
	for (int i = 0; ok && i < a->nsets; i++) {
		char x[4096], y[4096];

		pfx_list_str(a->sets[i].p, a->sets[i].n, x, sizeof(x));
		pfx_list_str(b->sets[i].p, b->sets[i].n, y, sizeof(y));
		if (strcmp(a->sets[i].name, b->sets[i].name) ||
		    a->sets[i].n != b->sets[i].n || strcmp(x, y)) {
			snprintf(why, sizeof(why), "set '%s' changed",
				 a->sets[i].name);
			ok = 0;
		}
	}
	for (int i = 0; ok && i < a->nrules; i++)
		ok = rules_same(&a->rules[i], &b->rules[i], why, sizeof(why));
	check_report(ok, name, "%s", why);
	/* and written again, the same text */
	if (ok) {
		char *buf2 = malloc(size);
		char sname[96];

		snprintf(sname, sizeof(sname), "%s_stable", name);
		ret = ruleset_write(b, buf2, size);
		check_report(!ret && !strcmp(buf, buf2), sname,
			     "the second write differs");
		free(buf2);
	}
out:
	ruleset_free(a);
	ruleset_free(b);
	free(a);
	free(b);
	free(buf);
}

/* ruleset_write into every buffer too small for the text (each of its
 * exact size, so that ASan sees a byte written past it): -ENOSPC and the
 * text's start, terminated; the exact size: 0 and the whole text.  It
 * once formed buf + n past the end of the buffer (undefined behaviour)
 * for each piece written after the first that did not fit. */
static void write_truncated(void)
{
	struct ruleset *rs = rs_new();
	char err[512] = "", full[512], *small;
	size_t len, bad = 0, first_bad = 0;
	int ret;

	ret = ruleset_parse_text("t.rules", "set lan 10.0.0.0/8, 192.168.0.0/16\n"
				 "rule 4 src @lan synfin drop\nxmas drop",
				 rs, err, sizeof(err));
	ret = ret ? ret : ruleset_write(rs, full, sizeof(full));
	len = strlen(full);
	check_report(!ret && len > 40, "write_whole", "ret %d '%s' len %zu",
		     ret, err, len);
	for (size_t size = 1; !ret && size <= len + 1; size++) {
		int want = size <= len ? -ENOSPC : 0;

		small = malloc(size);
		if (!small)
			break;
		if (ruleset_write(rs, small, size) != want ||
		    strlen(small) != size - 1 ||
		    strncmp(small, full, size - 1)) {
			if (!bad++)
				first_bad = size;
		}
		free(small);
	}
	check_report(!ret && !bad, "write_truncated_each_size",
		     "%zu of %zu sizes wrong, the first %zu", bad, len + 1,
		     first_bad);
	ruleset_free(rs);
	free(rs);
}

static void test_round_trip(void)
{
	char *big;
	size_t n = 0, size = 64 << 10;

	round_trip("round_trip_rules",
		   "set bogons 198.18.0.0/15 2001:2::/48\n"
		   "set lan 10.0.0.0/8, 192.168.0.0/16\n"
		   "default drop\n"
		   "rule 200 --priority 5 src @bogons,192.0.2.1/24 drop\n"
		   "rule 3 --priority -2 --syn dport 80,443 ratelimit 6000/m "
		   "burst 50 per src/24\n"
		   "invalid drop\n"
		   "phase out_of_state state none flags ACK/ALL ingress ipv6 count\n"
		   "egress dst @lan sport 1000-2000 pass\n"
		   "--tcp-flags FIN,SYN,RST SYN,FIN dport 0-65535 drop\n");
	round_trip("round_trip_empty", "");
	round_trip("round_trip_default_pass_only", "default pass\n");

	/* a set written on one line (commas) with more prefixes than a line
	 * has words: ruleset_write must write something that parses */
	big = malloc(size);
	n += (size_t)snprintf(big + n, size - n, "set many ");
	for (int i = 0; i < 600; i++)
		n += (size_t)snprintf(big + n, size - n, "%s10.%d.%d.0/24",
				      i ? "," : "", i / 256, i % 256);
	snprintf(big + n, size - n, "\nsrc @many drop\n");
	round_trip("round_trip_large_set", big);
	free(big);
}

/* ------------------------------------------------------------ compile */

static int bit(const struct tcpf_bitmap *b, int i)
{
	return !!(b->w[i / 64] & (1ULL << (i % 64)));
}

static int bits_are(const struct tcpf_bitmap *b, __u64 w0)
{
	return b->w[0] == w0 && !b->w[1] && !b->w[2] && !b->w[3];
}

static const struct pfx_entry *find_pfx(const struct compiled *c,
					const char *s, int side)
{
	struct prefix p;
	char a[64], *slash;

	memset(&p, 0, sizeof(p));
	snprintf(a, sizeof(a), "%s", s);
	slash = strchr(a, '/');
	*slash = '\0';
	/* NOLINTNEXTLINE(cert-err34-c): the suite's own literal */
	p.plen = (__u8)atoi(slash + 1);
	if (inet_pton(AF_INET, a, p.addr) == 1)
		p.family = TCPF_IPV4;
	else if (inet_pton(AF_INET6, a, p.addr) == 1)
		p.family = TCPF_IPV6;
	for (int i = 0; i < c->npfx; i++)
		if (c->pfx[i].side == side && !memcmp(&c->pfx[i].p, &p, sizeof(p)))
			return &c->pfx[i];
	return NULL;
}

static void pfx_bits(const struct compiled *c, const char *pfx, int side,
		     __u64 want, const char *name)
{
	const struct pfx_entry *e = find_pfx(c, pfx, side);

	check_report(e && bits_are(&e->rules, want), name,
		     "%s side %d: %s 0x%llx, want 0x%llx", pfx, side,
		     e ? "rules" : "no entry",
		     e ? (unsigned long long)e->rules.w[0] : 0ULL,
		     (unsigned long long)want);
}

static void test_compile(void)
{
	static const char text[] =
		"default drop\n"
		"rule 5 --priority 1 src 10.0.0.0/8 drop\n"            /* rank 2 */
		"rule 2 --priority 1 src 10.1.2.0/24 dst 10.0.0.0/8 pass\n" /* 1 */
		"rule 9 --priority -1 src 2001:db8::/32 ratelimit 100/s "
		"burst 50 per src/24\n"                                /* 0 */
		"rule 7 --priority 1 src 10.1.2.128/25,2001:db8:1::/48 "
		"dport 80,1000-1002 count\n"                           /* 3 */
		"rule 4 --priority 3 sport 0,65535 phase reset state none "
		"egress ipv6 nullscan drop\n"                          /* 4 */
		"rule 6 --priority 3 dst 10.0.0.0/8 drop\n";           /* 5 */
	struct ruleset *rs = rs_new();
	struct compiled *c = calloc(1, sizeof(*c));
	char err[512] = "";
	int ret, ok;

	ret = ruleset_parse_text("t.rules", text, rs, err, sizeof(err));
	if (ret) {
		check_report(0, "compile_input", "%s", err);
		goto out;
	}
	ret = ruleset_compile(rs, c);
	check_report(ret == 0, "compile_ok", "ruleset_compile: %d", ret);
	if (ret)
		goto out;
	check_report(c->rs.nrules == 6 && c->rs.default_action == TCPF_ACT_DROP,
		     "compile_header", "nrules %u default %u", c->rs.nrules,
		     c->rs.default_action);
	check_report(c->rs.act[0].id == 9 && c->rs.act[1].id == 2 &&
		     c->rs.act[2].id == 5 && c->rs.act[3].id == 7 &&
		     c->rs.act[4].id == 4 && c->rs.act[5].id == 6 &&
		     c->rs.act[6].id == 0, "compile_order_priority_then_id",
		     "bit order by id: %u %u %u %u %u %u", c->rs.act[0].id,
		     c->rs.act[1].id, c->rs.act[2].id, c->rs.act[3].id,
		     c->rs.act[4].id, c->rs.act[5].id);
	check_report(c->rs.act[0].action == TCPF_ACT_RATELIMIT &&
		     c->rs.act[0].rl_per == TCPF_RL_SRC &&
		     c->rs.act[0].rl_plen == 24 &&
		     c->rs.act[0].rl_cost == 10000000ULL &&
		     c->rs.act[0].rl_depth == 500000000ULL &&
		     c->rs.act[1].action == TCPF_ACT_PASS &&
		     c->rs.act[2].action == TCPF_ACT_DROP &&
		     c->rs.act[3].action == TCPF_ACT_COUNT &&
		     c->rs.act[1].rl_cost == 0 && c->rs.act[1].rl_depth == 0,
		     "compile_actions", "act[0] %u per %u/%u cost %llu depth %llu",
		     c->rs.act[0].action, c->rs.act[0].rl_per,
		     c->rs.act[0].rl_plen,
		     (unsigned long long)c->rs.act[0].rl_cost,
		     (unsigned long long)c->rs.act[0].rl_depth);

	/* the per-value bitmaps: bit 4 (rule 4) is the only restricted one;
	 * rules that name no direction act on ingress only */
	ok = 1;
	for (int b = 0; b < TCPF_PATTERNS; b++)
		ok &= bits_are(&c->flags[b], b ? 0x2f : 0x3f);
	check_report(ok, "compile_flags_rows", "flag rows wrong");
	ok = 1;
	for (int p = 0; p < 16; p++)
		ok &= bits_are(&c->phase[p], p > TCPF_PH_MAX ? 0 :
			       p == TCPF_PH_RESET ? 0x3f : 0x2f);
	check_report(ok, "compile_phase_rows", "phase rows wrong (untracked "
		     "0x%llx)", (unsigned long long)c->phase[TCPF_PH_UNTRACKED].w[0]);
	ok = 1;
	for (int s = 0; s < 16; s++)
		ok &= bits_are(&c->state[s], s >= TCPF_ST_MAX ? 0 :
			       s == TCPF_ST_NONE ? 0x3f : 0x2f);
	check_report(ok, "compile_state_rows", "state rows wrong");
	check_report(bits_are(&c->dir[TCPF_DIR_INGRESS], 0x2f) &&
		     bits_are(&c->dir[TCPF_DIR_EGRESS], 0x10) &&
		     bits_are(&c->family[TCPF_IPV4], 0x2f) &&
		     bits_are(&c->family[TCPF_IPV6], 0x3f),
		     "compile_dir_family_rows", "dir/family rows wrong");
	/* which rules have no src/dst/sport/dport constraint */
	check_report(bits_are(&c->rs.src_any, 1u << 4 | 1u << 5) &&
		     bits_are(&c->rs.dst_any, 0x1f & ~(1u << 1)) &&
		     bits_are(&c->rs.sport_any, 0x2f) &&
		     bits_are(&c->rs.dport_any, 0x37),
		     "compile_any_rows", "src 0x%llx dst 0x%llx sport 0x%llx "
		     "dport 0x%llx", (unsigned long long)c->rs.src_any.w[0],
		     (unsigned long long)c->rs.dst_any.w[0],
		     (unsigned long long)c->rs.sport_any.w[0],
		     (unsigned long long)c->rs.dport_any.w[0]);

	check_report(c->rs.lookups == (TCPF_LOOKUP_SRC | TCPF_LOOKUP_DST |
				       TCPF_LOOKUP_SPORT | TCPF_LOOKUP_DPORT),
		     "compile_lookups_all", "lookups 0x%x", c->rs.lookups);
	/* the XDP path's two tables: the rows above, ANDed */
	ok = 1;
	for (int d = 0; d < TCPF_DIRS; d++)
		for (int f = 0; f < TCPF_FAMILIES; f++)
			for (int b = 0; b < TCPF_PATTERNS; b++)
				ok &= bits_are(&c->rs.early[TCPF_EARLY_KEY(d, f, b)],
					       (b ? 0x2f : 0x3f) &
					       (d == TCPF_DIR_INGRESS ? 0x2f : 0x10) &
					       (f == TCPF_IPV4 ? 0x2f : 0x3f) &
					       /* rule 4 (reset only) needs RST */
					       (b & TCPF_RST ? 0x3f : 0x2f));
	check_report(ok, "compile_early_folded", "an early row is not "
		     "dir & family & flags & a phase the flags allow");
	ok = 1;
	for (int p = 0; p < 16; p++)
		for (int st = 0; st < 16; st++)
			ok &= bits_are(&c->rs.late[TCPF_LATE_KEY(p, st)],
				       (p > TCPF_PH_MAX ? 0 :
					p == TCPF_PH_RESET ? 0x3f : 0x2f) &
				       (st >= TCPF_ST_MAX ? 0 :
					st == TCPF_ST_NONE ? 0x3f : 0x2f));
	check_report(ok, "compile_late_folded", "a late row is not "
		     "phase & state");

	/* prefixes: each entry holds the rules with a prefix containing it */
	check_report(c->npfx == 6, "compile_pfx_count", "%d entries, want 6 "
		     "(5 source, 10.0.0.0/8 once as a destination)",
		     c->npfx);
	pfx_bits(c, "10.0.0.0/8", 0, 1u << 2, "compile_pfx_v4_slash8");
	pfx_bits(c, "10.1.2.0/24", 0, 1u << 1 | 1u << 2,
		 "compile_pfx_v4_slash24_nested");
	pfx_bits(c, "10.1.2.128/25", 0, 1u << 1 | 1u << 2 | 1u << 3,
		 "compile_pfx_v4_slash25_nested_twice");
	pfx_bits(c, "2001:db8::/32", 0, 1u << 0, "compile_pfx_v6_slash32");
	pfx_bits(c, "2001:db8:1::/48", 0, 1u << 0 | 1u << 3,
		 "compile_pfx_v6_slash48_nested");
	pfx_bits(c, "10.0.0.0/8", 1, 1u << 1 | 1u << 5,
		 "compile_pfx_dst_shared_entry");
	check_report(!find_pfx(c, "10.1.2.0/24", 1), "compile_pfx_sides_apart",
		     "a source prefix appeared on the destination side");

	/* ports */
	check_report(c->ports && c->port[0] && c->port[1], "compile_ports_on",
		     "no port tables");
	if (c->ports && c->port[0] && c->port[1]) {
		ok = bits_are(&c->port[0][0], 1u << 4) &&
		     bits_are(&c->port[0][65535], 1u << 4) &&
		     bits_are(&c->port[0][1], 0) &&
		     bits_are(&c->port[1][80], 1u << 3) &&
		     bits_are(&c->port[1][79], 0) &&
		     bits_are(&c->port[1][81], 0) &&
		     bits_are(&c->port[1][999], 0) &&
		     bits_are(&c->port[1][1000], 1u << 3) &&
		     bits_are(&c->port[1][1002], 1u << 3) &&
		     bits_are(&c->port[1][1003], 0);
		for (int p = 2; ok && p < 65535; p++)
			ok = bits_are(&c->port[0][p], 0);
		check_report(ok, "compile_port_rows", "port rows wrong");
	}
	compiled_free(c);

	/* no port rule: no port tables */
	ruleset_free(rs);
	ret = ruleset_parse_text("t.rules", "src 10.0.0.0/8 drop\nnullscan drop\n",
				 rs, err, sizeof(err));
	ret = ret ? ret : ruleset_compile(rs, c);
	check_report(!ret && !c->ports && !c->port[0] && !c->port[1] &&
		     c->npfx == 1 && c->rs.default_action == TCPF_ACT_PASS,
		     "compile_no_ports", "ret %d ports %d npfx %d", ret,
		     c->ports, c->npfx);
	check_report(!ret && c->rs.lookups == TCPF_LOOKUP_SRC,
		     "compile_lookups_src_only", "lookups 0x%x", c->rs.lookups);
	compiled_free(c);

	/* bits past the first word: rule ranks 63, 64, 127, 128, 255 */
	ruleset_free(rs);
	{
		size_t size = 256 * 48, n = 0;
		char *t = malloc(size);

		for (int i = 0; i < TCPF_RULES_MAX; i++)
			n += (size_t)snprintf(t + n, size - n,
					      "rule %d --priority %d dport %d drop\n",
					      TCPF_RULES_MAX - i, i, 1000 + i);
		ret = ruleset_parse_text("t.rules", t, rs, err, sizeof(err));
		ret = ret ? ret : ruleset_compile(rs, c);
		ok = !ret && c->rs.nrules == TCPF_RULES_MAX && c->ports;
		for (int i = 0; ok && i < TCPF_RULES_MAX; i++) {
			const struct tcpf_bitmap *pb = &c->port[1][1000 + i];
			int nset = 0;

			for (int k = 0; k < TCPF_RULES_MAX; k++)
				nset += bit(pb, k);
			ok = c->rs.act[i].id == (__u32)(TCPF_RULES_MAX - i) &&
			     bit(pb, i) && nset == 1 &&
			     bit(&c->rs.dport_any, i) == 0 &&
			     bit(&c->flags[0x12], i);
		}
		check_report(ok, "compile_256_rules_bits", "ret %d '%s'", ret,
			     err);
		compiled_free(c);
		free(t);
	}
out:
	ruleset_free(rs);
	free(rs);
	free(c);
}

int main(void)
{
	struct ruleset *rs = rs_new();
	char err[256] = "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (ruleset_parse_text("sets", sets_text, rs, err, sizeof(err))) {
		printf("FAIL sets: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++)
		check_ok(&ok_cases[i], rs);
	check_preset_sizes(rs);
	check_bad_corpus(rs);
	check_bad_misc(rs);
	ruleset_free(rs);
	free(rs);

	test_files();
	test_comments();
	test_limits();
	test_round_trip();
	write_truncated();
	test_compile();
	return check_done("test_rules");
}
