// SPDX-License-Identifier: GPL-2.0-only
/* rules.c - parse and compile rules; see rules.h for the language. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "counters.h"
#include "glist.h"
#include "rules.h"

#define ALL_FLAGS 0xff

static const char *const action_names[TCPF_ACT_MAX] = {
	TCPF_ACTIONS(TCPF_X_NAME)
};

const char *action_name(__u8 a)
{
	return a < TCPF_ACT_MAX ? action_names[a] : "?";
}

static int fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void ruleset_init(struct ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->default_action = TCPF_ACT_PASS;
}

void rule_free(struct rule *r)
{
	free(r->src);
	free(r->dst);
	r->src = r->dst = NULL;
}

void ruleset_free(struct ruleset *rs)
{
	for (int i = 0; i < rs->nrules; i++)
		rule_free(&rs->rules[i]);
	for (int i = 0; i < rs->nsets; i++)
		free(rs->sets[i].p);
	for (int l = 0; l < TCPF_GL_LISTS; l++)
		free(rs->guard.list[l]);
	ruleset_init(rs);
}

/* ------------------------------------------------------------ flags */

/* The words for several flags at once, beside the flags' own names. */
static const struct {
	const char *name;
	__u8 flags;
} flag_sets[] = {
	{ "ALL", ALL_FLAGS },
	{ "NONE", 0 },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* "SYN,ACK", "ALL", "NONE" -> a flag byte. */
static int parse_flag_list(const char *s, __u8 *out, char *err, size_t len)
{
	char buf[128], *tok, *save;
	__u8 v = 0;

	if (strlen(s) >= sizeof(buf) || !*s)
		return fail(err, len, "invalid flag list '%s'", s);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",|", &save); tok;
	     tok = strtok_r(NULL, ",|", &save)) {
		size_t k;
		int i;

		for (k = 0; k < ARRAY_LEN(flag_sets); k++)
			if (!strcasecmp(tok, flag_sets[k].name))
				break;
		if (k < ARRAY_LEN(flag_sets)) {
			v |= flag_sets[k].flags;
			continue;
		}
		for (i = 0; i < TCPF_NFLAGS; i++)
			if (!strcasecmp(tok, flag_name(i)))
				break;
		if (i == TCPF_NFLAGS)
			return fail(err, len, "unknown TCP flag '%s' (FIN SYN "
				    "RST PSH ACK URG ECE CWR ALL NONE)", tok);
		v |= 1u << i;
	}
	*out = v;
	return 0;
}

static void flags_keep(struct rule *r, __u8 mask, __u8 comp)
{
	for (int b = 0; b < TCPF_PATTERNS; b++)
		if ((b & mask) != comp)
			r->flags[b / 64] &= ~(1ULL << (b % 64));
}

static void flags_keep_valid(struct rule *r, int valid)
{
	for (int b = 0; b < TCPF_PATTERNS; b++)
		if (tcpf_flags_valid((__u8)b) != valid)
			r->flags[b / 64] &= ~(1ULL << (b % 64));
}

/* The classic illegal patterns; README documents each mask/value. */
static const struct {
	const char *name;
	__u8 mask, comp;
} presets[] = {
	{ "nullscan", ALL_FLAGS, 0 },
	{ "xmas", ALL_FLAGS, TCPF_FIN | TCPF_PSH | TCPF_URG },
	{ "synfin", TCPF_SYN | TCPF_FIN, TCPF_SYN | TCPF_FIN },
	{ "synrst", TCPF_SYN | TCPF_RST, TCPF_SYN | TCPF_RST },
	{ "finnoack", TCPF_FIN | TCPF_ACK, TCPF_FIN },
};

/* ------------------------------------------------------------ addresses */

int prefix_parse(const char *s, struct prefix *p, char *err, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	int max;

	if (strlen(s) >= sizeof(buf))
		return fail(err, len, "invalid prefix '%s'", s);
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = TCPF_IPV4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = TCPF_IPV6;
		max = 128;
	} else {
		return fail(err, len, "invalid address '%s'", buf);
	}
	p->plen = (__u8)max;
	if (slash) {
		char *end;
		long v;

		errno = 0;
		v = strtol(slash + 1, &end, 10);
		if (errno || *end || !slash[1] || v < 0 || v > max)
			return fail(err, len, "prefix length out of range in "
				    "'%s' (0 to %d)", s, max);
		p->plen = (__u8)v;
	}
	/* the host bits go: 198.18.1.1/15 is 198.18.0.0/15 */
	for (int bit = p->plen; bit < max; bit++)
		p->addr[bit / 8] &= (__u8)~(0x80 >> (bit % 8));
	return 0;
}

static const struct prefix_set *find_set(const struct ruleset *rs,
					 const char *name)
{
	for (int i = 0; i < rs->nsets; i++)
		if (!strcmp(rs->sets[i].name, name))
			return &rs->sets[i];
	return NULL;
}

/* "PFX,PFX,@SET" -> a new array. */
static int parse_prefix_list(const char *s, const struct ruleset *rs,
			     struct prefix **out, int *n, char *err,
			     size_t len)
{
	char *buf = strdup(s), *tok, *save;
	struct prefix *v = NULL;
	int cnt = 0, ret = 0;

	if (!buf)
		return -ENOMEM;
	for (tok = strtok_r(buf, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		const struct prefix_set *set = NULL;
		int add = 1;
		struct prefix *nv;

		if (tok[0] == '@') {
			set = find_set(rs, tok + 1);
			if (!set) {
				ret = fail(err, len, "unknown set '%s'", tok);
				break;
			}
			add = set->n;
		}
		if (cnt + add > RULE_PREFIXES_MAX) {
			ret = fail(err, len, "too many prefixes (at most %d "
				   "in one rule)", RULE_PREFIXES_MAX);
			break;
		}
		nv = realloc(v, (size_t)(cnt + add) * sizeof(*v));
		if (!nv) {
			ret = -ENOMEM;
			break;
		}
		v = nv;
		if (set) {
			memcpy(v + cnt, set->p, (size_t)add * sizeof(*v));
			cnt += add;
		} else {
			ret = prefix_parse(tok, &v[cnt++], err, len);
		}
	}
	free(buf);
	if (!ret && !cnt)
		ret = fail(err, len, "empty prefix list");
	if (ret) {
		free(v);
		return ret;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* ------------------------------------------------------------ ports */

static int parse_ports(const char *s, struct port_range *r, int *n,
		       char *err, size_t len)
{
	char buf[256], *tok, *save;
	int cnt = 0;

	if (strlen(s) >= sizeof(buf))
		return fail(err, len, "port list too long");
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-'), *end;
		long lo, hi;

		if (cnt == RULE_PORTS_MAX)
			return fail(err, len, "too many port ranges (at most "
				    "%d)", RULE_PORTS_MAX);
		errno = 0;
		lo = strtol(tok, &end, 10);
		if (errno || end == tok || (dash ? end != dash : *end != '\0'))
			return fail(err, len, "invalid port '%s'", tok);
		hi = lo;
		if (dash) {
			hi = strtol(dash + 1, &end, 10);
			if (errno || *end || !dash[1])
				return fail(err, len, "invalid port range "
					    "'%s'", tok);
		}
		if (lo < 0 || hi > 65535 || lo > 65535 || hi < 0)
			return fail(err, len, "port out of range in '%s' (0 to "
				    "65535)", tok);
		if (lo > hi)
			return fail(err, len, "empty port range '%s'", tok);
		for (int i = 0; i < cnt; i++)
			if (lo <= r[i].hi && r[i].lo <= hi)
				return fail(err, len, "overlapping port ranges "
					    "'%u-%u' and '%s'", r[i].lo,
					    r[i].hi, tok);
		r[cnt].lo = (__u16)lo;
		r[cnt].hi = (__u16)hi;
		cnt++;
	}
	if (!cnt)
		return fail(err, len, "empty port list");
	*n = cnt;
	return 0;
}

/* ------------------------------------------------------------ names */

static int parse_names(const char *s, const char *what, __u32 *mask,
		       const char *(*name)(__u32), __u32 first, __u32 max,
		       char *err, size_t len)
{
	char buf[256], *tok, *save;

	if (strlen(s) >= sizeof(buf))
		return fail(err, len, "%s list too long", what);
	strcpy(buf, s);
	*mask = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		__u32 i;

		for (i = first; i < max; i++)
			if (!strcmp(tok, name(i)))
				break;
		if (i == max && !strcmp(what, "phase") &&
		    !strcmp(tok, "untracked"))
			i = TCPF_PH_UNTRACKED;
		else if (i == max)
			return fail(err, len, "unknown %s '%s'", what, tok);
		*mask |= 1u << i;
	}
	if (!*mask)
		return fail(err, len, "empty %s list", what);
	return 0;
}

/* A rate's unit after its number, and the seconds it stands for. */
static const struct {
	const char *unit;
	__u64 seconds;
} rate_units[] = {
	{ "/s", 1 }, { "/sec", 1 }, { "/second", 1 },
	{ "/m", 60 }, { "/min", 60 }, { "/minute", 60 },
};

/* "100", "100/s", "30/m" -> packets per second and the exact cost. */
static int parse_rate(const char *s, __u64 *rate, __u64 *cost_ns, char *err,
		      size_t len)
{
	char *end;
	unsigned long long v;
	__u64 per = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return fail(err, len, "invalid rate '%s' (e.g. 100/s)", s);
	if (*end == '/') {
		size_t k;

		for (k = 0; k < ARRAY_LEN(rate_units); k++)
			if (!strcmp(end, rate_units[k].unit))
				break;
		if (k == ARRAY_LEN(rate_units))
			return fail(err, len, "invalid rate unit in '%s' "
				    "(/s or /m)", s);
		per = rate_units[k].seconds;
	} else if (*end) {
		return fail(err, len, "invalid rate '%s' (e.g. 100/s)", s);
	}
	if (!v)
		return fail(err, len, "a rate of zero would drop everything; "
			    "use drop");
	if (v > 1000000000ULL)
		return fail(err, len, "rate '%s' out of range (1/m to "
			    "1000000000/s)", s);
	*rate = v / per;
	*cost_ns = per * 1000000000ULL / v;
	return 0;
}

/* ------------------------------------------------------------ rules */

static void rule_defaults(struct rule *r)
{
	memset(r, 0, sizeof(*r));
	memset(r->flags, 0xff, sizeof(r->flags));
	r->phases = (1u << (TCPF_PH_MAX + 1)) - 1;
	r->states = (1u << TCPF_ST_MAX) - 1;
	r->action = TCPF_ACT_MAX;	/* dirs, families: set at the end */
}

/* What a word's handler gets: the rule so far, and where errors go. */
struct rule_in {
	struct rule *r;
	const struct ruleset *rs;
	char *err;
	size_t len;
};

/*
 * One word of the rule language: w is the word, a the n words after it
 * (at least the row's nargs).  Returns how many of them it took, or
 * -errno with the message in in->err.
 */
typedef int (*word_fn)(struct rule_in *in, const char *w, char **a, int n);

static int w_priority(struct rule_in *in, const char *w, char **a, int n)
{
	char *end;
	long v;

	(void)w, (void)n;
	errno = 0;
	v = strtol(a[0], &end, 10);
	if (errno || end == a[0] || *end || v < -1000000 || v > 1000000)
		return fail(in->err, in->len, "invalid priority '%s'", a[0]);
	in->r->priority = (int)v;
	return 1;
}

/* comp (and mask, unless NULL) as flag words: 0, -errno with the
 * message, or 1 when comp sets a flag outside the mask */
static int flags_match(struct rule_in *in, const char *mask_s,
		       const char *comp_s, __u8 mask)
{
	__u8 comp = 0;
	int ret;

	ret = parse_flag_list(comp_s, &comp, in->err, in->len);
	if (!ret && mask_s)
		ret = parse_flag_list(mask_s, &mask, in->err, in->len);
	if (ret)
		return ret;
	if (comp & ~mask)
		return 1;
	flags_keep(in->r, mask, comp);
	return 0;
}

static int w_tcp_flags(struct rule_in *in, const char *w, char **a, int n)
{
	__u8 mask;
	int ret;

	(void)w, (void)n;
	/* the mask is parsed first, so its error is the one reported */
	ret = parse_flag_list(a[0], &mask, in->err, in->len);
	if (!ret)
		ret = flags_match(in, NULL, a[1], mask);
	if (ret == 1)
		return fail(in->err, in->len, "--tcp-flags %s %s: the flags "
			    "set must be in the mask", a[0], a[1]);
	return ret ? ret : 2;
}

static int w_flags(struct rule_in *in, const char *w, char **a, int n)
{
	char buf[128], *slash;
	int ret;

	(void)w, (void)n;
	snprintf(buf, sizeof(buf), "%s", a[0]);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	ret = flags_match(in, slash, buf, ALL_FLAGS);
	if (ret == 1)
		return fail(in->err, in->len, "flags %s: the flags set must "
			    "be in the mask", a[0]);
	return ret ? ret : 1;
}

static int w_syn(struct rule_in *in, const char *w, char **a, int n)
{
	(void)w, (void)a, (void)n;
	flags_keep(in->r, TCPF_SYN | TCPF_RST | TCPF_ACK | TCPF_FIN, TCPF_SYN);
	return 0;
}

static int w_valid(struct rule_in *in, const char *w, char **a, int n)
{
	(void)a, (void)n;
	flags_keep_valid(in->r, w[0] == 'v');
	return 0;
}

/* phase LIST, state LIST */
static int w_names(struct rule_in *in, const char *w, char **a, int n)
{
	bool phase = w[0] == 'p';

	(void)n;
	return parse_names(a[0], w, phase ? &in->r->phases : &in->r->states,
			   phase ? phase_name : state_name, 0,
			   phase ? TCPF_PH_MAX : TCPF_ST_MAX, in->err,
			   in->len) ?: 1;
}

static int w_dir(struct rule_in *in, const char *w, char **a, int n)
{
	(void)a, (void)n;
	in->r->dirs |= 1u << (w[0] == 'e' ? TCPF_DIR_EGRESS : TCPF_DIR_INGRESS);
	return 0;
}

static int w_family(struct rule_in *in, const char *w, char **a, int n)
{
	(void)a, (void)n;
	in->r->families |= 1u << (w[3] == '6' ? TCPF_IPV6 : TCPF_IPV4);
	return 0;
}

/* src PREFIXES, dst PREFIXES, sport PORTS, dport PORTS: once each */
static int w_where(struct rule_in *in, const char *w, char **a, int n)
{
	struct rule *r = in->r;
	bool src = w[0] == 's', port = strchr(w, 'p') != NULL;
	int *cnt = port ? (src ? &r->nsport : &r->ndport)
			: (src ? &r->nsrc : &r->ndst);
	int ret;

	(void)n;
	if (*cnt)
		return fail(in->err, in->len, "'%s' given twice", w);
	if (port)
		ret = parse_ports(a[0], src ? r->sport : r->dport, cnt,
				  in->err, in->len);
	else
		ret = parse_prefix_list(a[0], in->rs, src ? &r->src : &r->dst,
					cnt, in->err, in->len);
	return ret ?: 1;
}

static int w_action(struct rule_in *in, const char *w, char **a, int n)
{
	(void)a, (void)n;
	in->r->action = w[0] == 'p' ? TCPF_ACT_PASS :
			w[0] == 'd' ? TCPF_ACT_DROP : TCPF_ACT_COUNT;
	return 0;
}

static int parse_burst(struct rule_in *in, const char *s)
{
	char *end;
	unsigned long long b;

	errno = 0;
	b = strtoull(s, &end, 10);
	if (errno || *end || !b || b > 1000000000ULL || s[0] == '-')
		return fail(in->err, in->len, "invalid burst '%s' (1 to "
			    "1000000000)", s);
	in->r->burst = b;
	return 0;
}

/* The words of `ratelimit RATE [burst N] per WHO`, and WHO's. */
#define RL_BURST "burst"
#define RL_PER "per"
#define PER_GLOBAL "global"
#define PER_SRC "src"
#define PER_SRC_LEN "src/"	/* followed by the prefix length */

/* "global", "src", "src/LEN": what one bucket is kept for */
static int parse_per(struct rule_in *in, const char *s)
{
	struct rule *r = in->r;
	size_t n = strlen(PER_SRC_LEN);
	char *end;
	long v;

	r->rl_per = TCPF_RL_SRC;
	r->rl_plen = 128;
	if (!strcmp(s, PER_GLOBAL)) {
		r->rl_per = TCPF_RL_GLOBAL;
		r->rl_plen = 0;
		return 0;
	}
	if (!strcmp(s, PER_SRC))
		return 0;
	if (strncmp(s, PER_SRC_LEN, n))
		return fail(in->err, in->len, "ratelimit per '%s': src, "
			    "src/LEN or global", s);
	errno = 0;
	v = strtol(s + n, &end, 10);
	if (errno || *end || !s[n] || v < 0 || v > 128)
		return fail(in->err, in->len, "prefix length out of range in "
			    "'%s' (0 to 128)", s);
	r->rl_plen = (__u8)v;
	return 0;
}

/* ratelimit RATE [burst N] per src|src/LEN|global */
static int w_ratelimit(struct rule_in *in, const char *w, char **a, int n)
{
	struct rule *r = in->r;
	int k = 1, ret;

	(void)w;
	ret = parse_rate(a[0], &r->rate, &r->cost_ns, in->err, in->len);
	if (ret)
		return ret;
	r->burst = 5;
	if (k + 1 < n && !strcmp(a[k], RL_BURST)) {
		if ((ret = parse_burst(in, a[k + 1])))
			return ret;
		k += 2;
	}
	if (k + 1 >= n || strcmp(a[k], RL_PER))
		return fail(in->err, in->len, "ratelimit needs 'per "
			    "src|src/LEN|global'");
	if ((ret = parse_per(in, a[k + 1])))
		return ret;
	r->action = TCPF_ACT_RATELIMIT;
	return k + 2;
}

/* The words of the language (rules.h), each with how many it needs, and
 * for rule_keyword(): its kind, its values as the man page names them,
 * and what kind of word they are. */
static const struct {
	const char *word;
	int nargs;
	word_fn fn;
	const char *kind, *args, *values;
} words[] = {
	{ "--priority", 1, w_priority, "priority", "N", "" },
	{ "--tcp-flags", 2, w_tcp_flags, "match", "MASK COMP", "flag" },
	{ "flags", 1, w_flags, "match", "COMP[/MASK]", "flag" },
	{ "--syn", 0, w_syn, "match", "", "" },
	{ "valid", 0, w_valid, "match", "", "" },
	{ "invalid", 0, w_valid, "match", "", "" },
	{ "phase", 1, w_names, "match", "P[,P...]", "phase" },
	{ "state", 1, w_names, "match", "S[,S...]", "state" },
	{ "ingress", 0, w_dir, "match", "", "" },
	{ "egress", 0, w_dir, "match", "", "" },
	{ "ipv4", 0, w_family, "match", "", "" },
	{ "ipv6", 0, w_family, "match", "", "" },
	{ "src", 1, w_where, "match", "PFX[,PFX|@SET...]", "" },
	{ "dst", 1, w_where, "match", "PFX[,PFX|@SET...]", "" },
	{ "sport", 1, w_where, "match", "N[-M][,...]", "" },
	{ "dport", 1, w_where, "match", "N[-M][,...]", "" },
	{ "pass", 0, w_action, "action", "", "" },
	{ "drop", 0, w_action, "action", "", "" },
	{ "count", 0, w_action, "action", "", "" },
	{ "ratelimit", 1, w_ratelimit, "action", "RATE", "" },
};

/* One word and what follows it: how many words it took, or -errno. */
static int rule_word(struct rule_in *in, char **argv, int left)
{
	const char *w = argv[0];

	for (size_t k = 0; k < ARRAY_LEN(words); k++) {
		if (strcmp(w, words[k].word))
			continue;
		if (left - 1 < words[k].nargs)
			return fail(in->err, in->len, "'%s' needs %s", w,
				    words[k].nargs == 1 ? "a value"
							: "two values");
		return words[k].fn(in, w, argv + 1, left - 1);
	}
	for (size_t p = 0; p < ARRAY_LEN(presets); p++)
		if (!strcmp(w, presets[p].name)) {
			flags_keep(in->r, presets[p].mask, presets[p].comp);
			return 0;
		}
	return fail(in->err, in->len, "unknown word '%s'", w);
}

/* The words joined, as `rule list` shows the rule. */
static int rule_text(struct rule *r, int argc, char **argv)
{
	size_t tl = 0;

	/* no pointer past the end: r->text + tl beyond it is undefined */
	for (int i = 0; i < argc && tl < sizeof(r->text); i++)
		tl += (size_t)snprintf(r->text + tl, sizeof(r->text) - tl,
				       "%s%s", i ? " " : "", argv[i]);
	return tl < sizeof(r->text) ? 0 : -E2BIG;
}

/* What a rule means where it does not say. */
static int rule_finish(struct rule *r, char *err, size_t len)
{
	if (r->action == TCPF_ACT_MAX)
		return fail(err, len, "no action (pass, drop, count or "
			    "ratelimit)");
	/* a rule acts where traffic arrives unless it says egress: a
	 * forgotten direction must not drop what the host itself sends */
	if (!r->dirs)
		r->dirs = 1u << TCPF_DIR_INGRESS;
	if (!r->families)
		r->families = (1u << TCPF_FAMILIES) - 1;
	if (!(r->flags[0] | r->flags[1] | r->flags[2] | r->flags[3]))
		return fail(err, len, "the flag matches exclude every "
			    "segment");
	return 0;
}

int rule_parse(int argc, char **argv, const struct ruleset *rs,
	       struct rule *r, char *err, size_t len)
{
	struct rule_in in = { .r = r, .rs = rs, .err = err, .len = len };

	rule_defaults(r);
	if (rule_text(r, argc, argv))
		return fail(err, len, "rule too long (at most %d characters)",
			    RULE_TEXT_MAX - 1);
	if (!argc)
		return fail(err, len, "empty rule");
	for (int i = 0; i < argc; i++) {
		int took;

		if (r->action != TCPF_ACT_MAX)
			return fail(err, len, "'%s' after the action '%s'",
				    argv[i], action_name(r->action));
		took = rule_word(&in, argv + i, argc - i);
		if (took < 0)
			return took;
		i += took;
	}
	return rule_finish(r, err, len);
}

static int rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int ruleset_add(struct ruleset *rs, struct rule *r)
{
	__u32 id;

	if (rs->nrules >= TCPF_RULES_MAX)
		return -E2BIG;
	if (!r->id) {
		/* the lowest free id, 1..TCPF_RULES_MAX */
		for (id = 1;; id++) {
			int used = !!(rs->reserved[id / 64] & (1ULL << (id % 64)));

			for (int i = 0; i < rs->nrules; i++)
				used |= rs->rules[i].id == id;
			if (!used)
				break;
		}
		r->id = id;
	}
	id = r->id;
	rs->rules[rs->nrules++] = *r;
	qsort(rs->rules, (size_t)rs->nrules, sizeof(rs->rules[0]), rule_cmp);
	memset(r, 0, sizeof(*r));	/* the set owns its prefixes now */
	return (int)id;
}

int ruleset_del(struct ruleset *rs, __u32 id)
{
	for (int i = 0; i < rs->nrules; i++) {
		if (rs->rules[i].id != id)
			continue;
		rule_free(&rs->rules[i]);
		memmove(&rs->rules[i], &rs->rules[i + 1],
			(size_t)(rs->nrules - i - 1) * sizeof(rs->rules[0]));
		rs->nrules--;
		return 0;
	}
	return -ENOENT;
}

/* ------------------------------------------------------------ files */

/* Split a line into words; returns the count, -1 if too many. */
static int split(char *line, char **argv, int max)
{
	char *save;
	int n = 0;

	for (char *s = strtok_r(line, " \t\r\n", &save); s;
	     s = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return -1;
		argv[n++] = s;
	}
	return n;
}

static int parse_set_line(struct ruleset *rs, int argc, char **argv,
			  char *err, size_t len)
{
	struct prefix_set *set;
	size_t jl = 0, jsize = 1;
	char *joined;
	int ret;

	if (argc < 3)
		return fail(err, len, "set needs a name and prefixes");
	if (strlen(argv[1]) >= SET_NAME_MAX || !isalpha((unsigned char)argv[1][0]))
		return fail(err, len, "invalid set name '%s'", argv[1]);
	if (find_set(rs, argv[1]))
		return fail(err, len, "set '%s' defined twice", argv[1]);
	if (rs->nsets == SETS_MAX)
		return fail(err, len, "too many sets (at most %d)", SETS_MAX);
	for (int i = 2; i < argc; i++)
		jsize += strlen(argv[i]) + 1;
	joined = malloc(jsize);
	if (!joined)
		return -ENOMEM;
	joined[0] = '\0';	/* "set a { }": no prefix at all */
	for (int i = 2; i < argc; i++) {
		/* "{", "}" and commas are optional decoration */
		if (!strcmp(argv[i], "{") || !strcmp(argv[i], "}"))
			continue;
		jl += (size_t)snprintf(joined + jl, jsize - jl, "%s%s",
				       jl ? "," : "", argv[i]);
	}
	set = &rs->sets[rs->nsets];
	ret = parse_prefix_list(joined, rs, &set->p, &set->n, err, len);
	free(joined);
	if (ret)
		return ret;
	snprintf(set->name, sizeof(set->name), "%s", argv[1]);
	rs->nsets++;
	return 0;
}

/* "rule ID MATCH... ACTION": a rule with the id `rule list` shows */
#define LINE_RULE "rule"

/* Ids written in the file ("rule ID ...") are taken before any is
 * handed out, so a rule without one never takes a later rule's. */
static void reserve_ids(const char *text, struct ruleset *rs)
{
	for (const char *t = text; t; t = strchr(t, '\n')) {
		const char *w;
		char *end;
		long id;

		t += *t == '\n';
		w = t + strspn(t, " \t");
		if (strncmp(w, LINE_RULE, strlen(LINE_RULE)))
			continue;
		w += strlen(LINE_RULE);
		if (*w != ' ' && *w != '\t')
			continue;
		/* the word parse_rule_id() takes, read as it reads it (not
		 * sscanf's %u, undefined past UINT_MAX) */
		id = strtol(w, &end, 10);
		if (end != w && strchr(" \t\r\n", *end) &&
		    id >= 1 && id <= TCPF_RULES_MAX)
			rs->reserved[id / 64] |= 1ULL << (id % 64);
	}
}

static int parse_default_line(struct ruleset *rs, int argc, char **argv,
			      char *err, size_t len)
{
	if (argc != 2 || (strcmp(argv[1], "pass") && strcmp(argv[1], "drop")))
		return fail(err, len, "default takes pass or drop");
	rs->default_action = argv[1][0] == 'd' ? TCPF_ACT_DROP : TCPF_ACT_PASS;
	return 0;
}

/* "rule ID ..." keeps an id (as `rule list` shows it); the id, or 0 */
static int parse_rule_id(const struct ruleset *rs, const char *s, __u32 *id,
			 char *err, size_t len)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 1 || v > TCPF_RULES_MAX)
		return fail(err, len, "invalid rule id '%s'", s);
	for (int i = 0; i < rs->nrules; i++)
		if (rs->rules[i].id == (__u32)v)
			return fail(err, len, "rule id %ld used twice", v);
	*id = (__u32)v;
	return 0;
}

/* [rule ID] MATCH... ACTION */
static int parse_rule_line(struct ruleset *rs, int argc, char **argv,
			   char *err, size_t len)
{
	struct rule r;
	__u32 id = 0;
	int skip = 0, ret;

	if (!strcmp(argv[0], LINE_RULE) && argc > 1) {
		if ((ret = parse_rule_id(rs, argv[1], &id, err, len)))
			return ret;
		skip = 2;
	}
	ret = rule_parse(argc - skip, argv + skip, rs, &r, err, len);
	if (!ret) {
		r.id = id;
		if (ruleset_add(rs, &r) < 0)
			ret = fail(err, len, "too many rules (at most %d)",
				   TCPF_RULES_MAX);
	}
	if (ret)
		rule_free(&r);
	return ret;
}

/*
 * `guard MODE [WORD VALUE]...`: the settings go to guard_words_parse(),
 * but `allow LIST` and `deny LIST`, prefixes and @sets as a rule's src
 * takes them, are the guard's lists, whole.
 */
static int parse_guard_line(struct ruleset *rs, int argc, char **argv,
			    char *err, size_t len)
{
	struct guard_set *g = &rs->guard;
	struct prefix *list[TCPF_GL_LISTS] = { NULL };
	int nlist[TCPF_GL_LISTS] = { 0 }, n = 0, ret = 0;
	char **w = calloc((size_t)argc, sizeof(*w));

	if (!w)
		return -ENOMEM;
	for (int i = 1; i < argc && !ret; i++) {
		int l = i >= 2 && i % 2 == 0 ? glist_of(argv[i]) : -1;

		if (l < 0) {
			w[n++] = argv[i];
		} else if (i + 1 == argc) {
			ret = fail(err, len, "guard: '%s' needs a value", argv[i]);
		} else if (list[l]) {
			ret = fail(err, len, "guard: '%s' given twice", argv[i]);
		} else {
			ret = parse_prefix_list(argv[++i], rs, &list[l],
						&nlist[l], err, len);
		}
	}
	if (!ret)
		ret = guard_words_parse(w, n, g, err, len) ? -EINVAL : 0;
	for (int l = 0; l < TCPF_GL_LISTS; l++) {
		if (ret) {
			free(list[l]);
			continue;
		}
		g->list_given[l] = list[l] != NULL;
		g->list[l] = list[l];
		g->nlist[l] = nlist[l];
	}
	/* each list[l] is freed or kept above (the analyzer does not tie the
	 * list[l] parse_prefix_list() filled to list[0] and list[1]):
	 * NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
	free(w);
	rs->has_guard = !ret;
	return ret;
}

/* The lines of a rules file that start with a word of their own (any
 * other line is a rule), and what follows the word. */
static const struct {
	const char *word, *args;
	int (*fn)(struct ruleset *rs, int argc, char **argv, char *err,
		  size_t len);
} lines[] = {
	{ "set", "NAME PFX...", parse_set_line },
	{ "default", "pass|drop", parse_default_line },
	{ "guard", "MODE [SETTING VALUE]...", parse_guard_line },
	{ LINE_RULE, "ID MATCH... ACTION", parse_rule_line },
};

/* One line of a rules file, its comment cut off. */
static int parse_line(struct ruleset *rs, char *line, char *err, size_t len)
{
	char *argv[512], *hash = strchr(line, '#');
	int argc;

	if (hash)
		*hash = '\0';
	argc = split(line, argv, 512);
	if (argc < 0)
		return fail(err, len, "too many words");
	if (argc == 0)
		return 0;
	for (size_t k = 0; k < ARRAY_LEN(lines); k++)
		if (!strcmp(argv[0], lines[k].word))
			return lines[k].fn(rs, argc, argv, err, len);
	return parse_rule_line(rs, argc, argv, err, len);
}

/* ------------------------------------------------------------ keywords */

bool rule_keyword(int i, struct rule_keyword *k)
{
	static const struct rule_keyword tail[] = {
		{ RL_BURST, "ratelimit", "N", 1, "" },
		{ RL_PER, "ratelimit", "src|src/LEN|global", 1, "per" },
		{ PER_SRC, "per", "", 0, "" },
		{ PER_SRC_LEN, "per", "LEN", 0, "" },
		{ PER_GLOBAL, "per", "", 0, "" },
	};
	int n;

	memset(k, 0, sizeof(*k));
	k->args = k->values = "";
	if (i < 0)
		return false;
#define FROM(table, fill)						\
	do {								\
		n = (int)ARRAY_LEN(table);				\
		if (i < n) {						\
			fill;						\
			return true;					\
		}							\
		i -= n;							\
	} while (0)
	FROM(words, (k->word = words[i].word, k->kind = words[i].kind,
		     k->args = words[i].args, k->nargs = words[i].nargs,
		     k->values = words[i].values));
	FROM(presets, (k->word = presets[i].name, k->kind = "preset"));
	FROM(tail, *k = tail[i]);
	FROM(rate_units, (k->word = rate_units[i].unit, k->kind = "unit"));
	FROM(lines, (k->word = lines[i].word, k->kind = "line",
		     k->args = lines[i].args));
	FROM(flag_sets, (k->word = flag_sets[i].name, k->kind = "flag"));
#undef FROM
	if (i < TCPF_NFLAGS) {
		k->word = flag_name(i);
		k->kind = "flag";
		return true;
	}
	i -= TCPF_NFLAGS;
	/* phase and state take what parse_names() does */
	if (i <= TCPF_PH_MAX) {
		k->word = i < TCPF_PH_MAX ? phase_name((__u32)i) : "untracked";
		k->kind = "phase";
		return true;
	}
	i -= TCPF_PH_MAX + 1;
	if (i < TCPF_ST_MAX) {
		k->word = state_name((__u32)i);
		k->kind = "state";
		return true;
	}
	return false;
}

int ruleset_parse_text(const char *name, const char *text,
		       struct ruleset *rs, char *err, size_t len)
{
	char *copy = strdup(text), *line, *next;
	char msg[256];
	int lineno = 0, ret = 0;

	if (!copy)
		return -ENOMEM;
	ruleset_init(rs);
	reserve_ids(text, rs);
	for (line = copy; line && !ret; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		ret = parse_line(rs, line, msg, sizeof(msg));
	}
	free(copy);
	memset(rs->reserved, 0, sizeof(rs->reserved));
	if (ret) {
		snprintf(err, len, "%s:%d: %s", name, lineno, msg);
		ruleset_free(rs);
	}
	return ret;
}

int ruleset_parse_file(const char *path, struct ruleset *rs, char *err,
		       size_t len)
{
	FILE *f = fopen(path, "r");
	char *text;
	long size;
	int ret;

	if (!f)
		return fail(err, len, "cannot read %s: %s", path,
			    strerror(errno)), -errno;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	if (size < 0 || size > (16 << 20)) {
		fclose(f);
		return fail(err, len, "%s: too large", path);
	}
	text = calloc(1, (size_t)size + 1);
	if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
		free(text);
		fclose(f);
		return fail(err, len, "cannot read %s", path);
	}
	fclose(f);
	ret = ruleset_parse_text(path, text, rs, err, len);
	free(text);
	return ret;
}

size_t prefix_write(char *buf, size_t size, const struct prefix *p)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family == TCPF_IPV4 ? AF_INET : AF_INET6, p->addr, a,
		  sizeof(a));
	return (size_t)snprintf(buf, size, "%s/%u", a, p->plen);
}

int ruleset_write(const struct ruleset *rs, char *buf, size_t size)
{
	size_t n = 0;

/* past the end only counted: buf + n beyond it is undefined, NULL with
 * size 0 is snprintf's way to count */
#define OUT(...) (n += (size_t)snprintf(n < size ? buf + n : NULL, \
					n < size ? size - n : 0, __VA_ARGS__))
	OUT("default %s\n", action_name(rs->default_action));
	for (int i = 0; i < rs->nsets; i++) {
		/* one word, comma-joined: a set may hold thousands */
		OUT("set %s ", rs->sets[i].name);
		for (int j = 0; j < rs->sets[i].n; j++) {
			if (j)
				OUT(",");
			n += prefix_write(n < size ? buf + n : NULL,
					  n < size ? size - n : 0,
					  &rs->sets[i].p[j]);
		}
		OUT("\n");
	}
	for (int i = 0; i < rs->nrules; i++)
		OUT("rule %u %s\n", rs->rules[i].id, rs->rules[i].text);
#undef OUT
	return n < size ? 0 : -ENOSPC;
}

/* ------------------------------------------------------------ compile */

static void bm_set(struct tcpf_bitmap *b, int bit)
{
	b->w[bit / 64] |= 1ULL << (bit % 64);
}

/* Does q contain p (same family, shorter or equal, same leading bits)? */
static bool contains(const struct prefix *q, const struct prefix *p)
{
	if (q->family != p->family || q->plen > p->plen)
		return false;
	for (int bit = 0; bit < q->plen; bit++) {
		__u8 m = (__u8)(0x80 >> (bit % 8));

		if ((q->addr[bit / 8] & m) != (p->addr[bit / 8] & m))
			return false;
	}
	return true;
}

static int add_pfx(struct compiled *c, const struct prefix *p, int side)
{
	struct pfx_entry *nv;

	for (int i = 0; i < c->npfx; i++)
		if (c->pfx[i].side == side &&
		    !memcmp(&c->pfx[i].p, p, sizeof(*p)))
			return 0;
	if (c->npfx >= TCPF_PFX_MAX)
		return -E2BIG;
	nv = realloc(c->pfx, (size_t)(c->npfx + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	c->pfx = nv;
	memset(&c->pfx[c->npfx], 0, sizeof(c->pfx[0]));
	c->pfx[c->npfx].p = *p;
	c->pfx[c->npfx].side = (__u8)side;
	c->npfx++;
	return 0;
}

/* Rule i's bits in the per-value bitmaps, and its action. */
static int compile_rule(struct compiled *c, const struct rule *r, int i)
{
	struct tcpf_ruleset *o = &c->rs;
	struct tcpf_rule_act *a = &o->act[i];
	int err;

	for (int b = 0; b < TCPF_PATTERNS; b++)
		if (r->flags[b / 64] & (1ULL << (b % 64)))
			bm_set(&c->flags[b], i);
	for (int p = 0; p <= TCPF_PH_MAX; p++)
		if (r->phases & (1u << p))
			bm_set(&c->phase[p], i);
	for (int s = 0; s < TCPF_ST_MAX; s++)
		if (r->states & (1u << s))
			bm_set(&c->state[s], i);
	for (int d = 0; d < TCPF_DIRS; d++)
		if (r->dirs & (1u << d))
			bm_set(&c->dir[d], i);
	for (int f = 0; f < TCPF_FAMILIES; f++)
		if (r->families & (1u << f))
			bm_set(&c->family[f], i);
	if (!r->nsrc)
		bm_set(&o->src_any, i);
	if (!r->ndst)
		bm_set(&o->dst_any, i);
	if (!r->nsport)
		bm_set(&o->sport_any, i);
	if (!r->ndport)
		bm_set(&o->dport_any, i);
	o->lookups |= (r->nsrc ? TCPF_LOOKUP_SRC : 0) |
		      (r->ndst ? TCPF_LOOKUP_DST : 0) |
		      (r->nsport ? TCPF_LOOKUP_SPORT : 0) |
		      (r->ndport ? TCPF_LOOKUP_DPORT : 0);
	if (r->nsport || r->ndport)
		c->ports = true;
	/* decided only once the tracker has run */
	if (r->phases != (1u << (TCPF_PH_MAX + 1)) - 1 ||
	    r->states != (1u << TCPF_ST_MAX) - 1)
		bm_set(&o->stateful, i);
	for (int j = 0; j < r->nsrc; j++)
		if ((err = add_pfx(c, &r->src[j], 0)))
			return err;
	for (int j = 0; j < r->ndst; j++)
		if ((err = add_pfx(c, &r->dst[j], 1)))
			return err;
	a->id = (__u16)r->id;
	a->rl_salt = tcpf_rule_salt(r->text);
	a->action = r->action;
	a->rl_per = r->rl_per;
	a->rl_plen = r->rl_plen;
	if (r->action == TCPF_ACT_RATELIMIT) {
		a->rl_cost = r->cost_ns;
		a->rl_depth = a->rl_cost * r->burst;
	}
	return 0;
}

/* The candidates the program reads in one lookup each: before the
 * tracker (direction, family, flag byte) and after it (phase, state). */
static void compile_tables(struct compiled *c)
{
	struct tcpf_ruleset *o = &c->rs;

	/* per flag byte, only rules with a phase such a segment can have */
	for (int b = 0; b < TCPF_PATTERNS; b++)
		for (int p = 0; p < 16; p++)
			if (tcpf_phase_possible((__u32)p, (__u8)b))
				for (int w = 0; w < TCPF_RULE_WORDS; w++)
					c->flags_phase[b].w[w] |= c->phase[p].w[w];
	for (int d = 0; d < TCPF_DIRS; d++)
		for (int f = 0; f < TCPF_FAMILIES; f++)
			for (int b = 0; b < TCPF_PATTERNS; b++) {
				struct tcpf_bitmap *e =
					&o->early[TCPF_EARLY_KEY(d, f, b)];

				for (int w = 0; w < TCPF_RULE_WORDS; w++)
					e->w[w] = c->dir[d].w[w] &
						  c->family[f].w[w] &
						  c->flags[b].w[w] &
						  c->flags_phase[b].w[w];
			}
	for (int p = 0; p < 16; p++)
		for (int st = 0; st < 16; st++)
			for (int w = 0; w < TCPF_RULE_WORDS; w++)
				o->late[TCPF_LATE_KEY(p, st)].w[w] =
					c->phase[p].w[w] & c->state[st].w[w];
}

/* Each prefix: the rules with a prefix containing it (the trie returns
 * what the longest prefix holding the address carries). */
static void compile_prefixes(const struct ruleset *rs, struct compiled *c)
{
	for (int k = 0; k < c->npfx; k++) {
		struct pfx_entry *e = &c->pfx[k];

		for (int i = 0; i < rs->nrules; i++) {
			const struct rule *r = &rs->rules[i];
			const struct prefix *l = e->side ? r->dst : r->src;
			int n = e->side ? r->ndst : r->nsrc;

			for (int j = 0; j < n; j++)
				if (contains(&l[j], &e->p)) {
					bm_set(&e->rules, i);
					break;
				}
		}
	}
}

static void port_bits(struct tcpf_bitmap *port, const struct port_range *pr,
		      int n, int i)
{
	for (int j = 0; j < n; j++)
		for (int p = pr[j].lo; p <= pr[j].hi; p++)
			bm_set(&port[p], i);
}

/* Per port, sport and dport: the rules matching it (only when a rule
 * names ports: the tables are 2 x 64K bitmaps). */
static int compile_ports(const struct ruleset *rs, struct compiled *c)
{
	if (!c->ports)
		return 0;
	for (int side = 0; side < 2; side++) {
		c->port[side] = calloc(TCPF_PORTS, sizeof(struct tcpf_bitmap));
		if (!c->port[side])
			return -ENOMEM;
	}
	for (int i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];

		port_bits(c->port[0], r->sport, r->nsport, i);
		port_bits(c->port[1], r->dport, r->ndport, i);
	}
	return 0;
}

int ruleset_compile(const struct ruleset *rs, struct compiled *c)
{
	struct tcpf_ruleset *o = &c->rs;
	int err = 0;

	memset(c, 0, sizeof(*c));
	tcpf_ctz_table(o->ctz);
	o->nrules = (__u32)rs->nrules;
	o->default_action = rs->default_action;
	for (int i = 0; i < rs->nrules && !err; i++)
		err = compile_rule(c, &rs->rules[i], i);
	if (!err) {
		compile_tables(c);
		compile_prefixes(rs, c);
		err = compile_ports(rs, c);
	}
	if (err)
		compiled_free(c);
	return err;
}

void compiled_free(struct compiled *c)
{
	free(c->pfx);
	free(c->port[0]);
	free(c->port[1]);
	c->pfx = NULL;
	c->port[0] = c->port[1] = NULL;
	c->npfx = 0;
}
