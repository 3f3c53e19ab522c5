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
#include "rules.h"

#define ALL_FLAGS 0xff

static const char *const action_names[TCPF_ACT_MAX] = {
	[TCPF_ACT_PASS] = "pass",
	[TCPF_ACT_DROP] = "drop",
	[TCPF_ACT_COUNT] = "count",
	[TCPF_ACT_RATELIMIT] = "ratelimit",
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

static void rule_free(struct rule *r)
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
	ruleset_init(rs);
}

/* ------------------------------------------------------------ flags */

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
		int i;

		if (!strcasecmp(tok, "ALL")) {
			v |= ALL_FLAGS;
			continue;
		}
		if (!strcasecmp(tok, "NONE"))
			continue;
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

static int parse_prefix(const char *s, struct prefix *p, char *err,
			size_t len)
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
			ret = parse_prefix(tok, &v[cnt++], err, len);
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
		end++;
		if (!strcmp(end, "s") || !strcmp(end, "sec") ||
		    !strcmp(end, "second"))
			per = 1;
		else if (!strcmp(end, "m") || !strcmp(end, "min") ||
			 !strcmp(end, "minute"))
			per = 60;
		else
			return fail(err, len, "invalid rate unit in '%s' "
				    "(/s or /m)", s);
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

#define NEED(n)                                                         \
	do {                                                            \
		if (i + (n) >= argc)                                    \
			return fail(err, len, "'%s' needs %s", w,       \
				    (n) == 1 ? "a value" : "two values"); \
	} while (0)

int rule_parse(int argc, char **argv, const struct ruleset *rs,
	       struct rule *r, char *err, size_t len)
{
	size_t tl = 0;
	int ret = 0, i;

	rule_defaults(r);
	for (i = 0; i < argc; i++)
		tl += (size_t)snprintf(r->text + tl,
				       tl < sizeof(r->text) ? sizeof(r->text) - tl : 0,
				       "%s%s", i ? " " : "", argv[i]);
	if (tl >= sizeof(r->text))
		return fail(err, len, "rule too long (at most %d characters)",
			    RULE_TEXT_MAX - 1);
	if (!argc)
		return fail(err, len, "empty rule");

	for (i = 0; i < argc && !ret; i++) {
		const char *w = argv[i];
		size_t p;

		if (r->action != TCPF_ACT_MAX)
			return fail(err, len, "'%s' after the action '%s'", w,
				    action_name(r->action));
		if (!strcmp(w, "--priority")) {
			char *end;
			long v;

			NEED(1);
			errno = 0;
			v = strtol(argv[++i], &end, 10);
			if (errno || end == argv[i] || *end || v < -1000000 ||
			    v > 1000000)
				return fail(err, len, "invalid priority '%s'",
					    argv[i]);
			r->priority = (int)v;
		} else if (!strcmp(w, "--tcp-flags")) {
			__u8 mask, comp;

			NEED(2);
			ret = parse_flag_list(argv[i + 1], &mask, err, len);
			if (!ret)
				ret = parse_flag_list(argv[i + 2], &comp, err,
						      len);
			if (!ret && (comp & ~mask))
				return fail(err, len, "--tcp-flags %s %s: the "
					    "flags set must be in the mask",
					    argv[i + 1], argv[i + 2]);
			if (!ret)
				flags_keep(r, mask, comp);
			i += 2;
		} else if (!strcmp(w, "flags")) {
			char buf[128], *slash;
			__u8 mask = ALL_FLAGS, comp;

			NEED(1);
			snprintf(buf, sizeof(buf), "%s", argv[++i]);
			slash = strchr(buf, '/');
			if (slash)
				*slash = '\0';
			ret = parse_flag_list(buf, &comp, err, len);
			if (!ret && slash)
				ret = parse_flag_list(slash + 1, &mask, err,
						      len);
			if (!ret && (comp & ~mask))
				return fail(err, len, "flags %s: the flags set "
					    "must be in the mask", argv[i]);
			if (!ret)
				flags_keep(r, mask, comp);
		} else if (!strcmp(w, "--syn")) {
			flags_keep(r, TCPF_SYN | TCPF_RST | TCPF_ACK | TCPF_FIN,
				   TCPF_SYN);
		} else if (!strcmp(w, "valid") || !strcmp(w, "invalid")) {
			flags_keep_valid(r, w[0] == 'v');
		} else if (!strcmp(w, "phase")) {
			NEED(1);
			ret = parse_names(argv[++i], "phase", &r->phases,
					  phase_name, 0, TCPF_PH_MAX, err, len);
		} else if (!strcmp(w, "state")) {
			NEED(1);
			ret = parse_names(argv[++i], "state", &r->states,
					  state_name, 0, TCPF_ST_MAX, err, len);
		} else if (!strcmp(w, "ingress") || !strcmp(w, "egress")) {
			r->dirs |= 1u << (w[0] == 'e' ? TCPF_DIR_EGRESS
						      : TCPF_DIR_INGRESS);
		} else if (!strcmp(w, "ipv4") || !strcmp(w, "ipv6")) {
			r->families |= 1u << (w[3] == '6' ? TCPF_IPV6
							  : TCPF_IPV4);
		} else if (!strcmp(w, "src") || !strcmp(w, "dst")) {
			bool src = w[0] == 's';

			NEED(1);
			if (src ? r->src : r->dst)
				return fail(err, len, "'%s' given twice", w);
			ret = parse_prefix_list(argv[++i], rs,
						src ? &r->src : &r->dst,
						src ? &r->nsrc : &r->ndst, err,
						len);
		} else if (!strcmp(w, "sport") || !strcmp(w, "dport")) {
			bool src = w[0] == 's';

			NEED(1);
			if (src ? r->nsport : r->ndport)
				return fail(err, len, "'%s' given twice", w);
			ret = parse_ports(argv[++i], src ? r->sport : r->dport,
					  src ? &r->nsport : &r->ndport, err,
					  len);
		} else if (!strcmp(w, "pass") || !strcmp(w, "drop") ||
			   !strcmp(w, "count")) {
			r->action = w[0] == 'p' ? TCPF_ACT_PASS :
				    w[0] == 'd' ? TCPF_ACT_DROP : TCPF_ACT_COUNT;
		} else if (!strcmp(w, "ratelimit")) {
			NEED(1);
			ret = parse_rate(argv[++i], &r->rate, &r->cost_ns, err,
					 len);
			r->burst = 5;
			if (!ret && i + 2 < argc && !strcmp(argv[i + 1], "burst")) {
				char *end;
				unsigned long long b;

				errno = 0;
				b = strtoull(argv[i + 2], &end, 10);
				if (errno || *end || !b || b > 1000000000ULL ||
				    argv[i + 2][0] == '-')
					return fail(err, len, "invalid burst "
						    "'%s' (1 to 1000000000)",
						    argv[i + 2]);
				r->burst = b;
				i += 2;
			}
			if (!ret && (i + 2 >= argc || strcmp(argv[i + 1], "per")))
				return fail(err, len, "ratelimit needs 'per "
					    "src|src/LEN|global'");
			if (ret)
				break;
			i += 2;
			if (!strcmp(argv[i], "global")) {
				r->rl_per = TCPF_RL_GLOBAL;
			} else if (!strcmp(argv[i], "src")) {
				r->rl_per = TCPF_RL_SRC;
				r->rl_plen = 128;
			} else if (!strncmp(argv[i], "src/", 4)) {
				char *end;
				long v;

				errno = 0;
				v = strtol(argv[i] + 4, &end, 10);
				if (errno || *end || !argv[i][4] || v < 0 ||
				    v > 128)
					return fail(err, len, "prefix length "
						    "out of range in '%s' (0 "
						    "to 128)", argv[i]);
				r->rl_per = TCPF_RL_SRC;
				r->rl_plen = (__u8)v;
			} else {
				return fail(err, len, "ratelimit per '%s': "
					    "src, src/LEN or global",
					    argv[i]);
			}
			r->action = TCPF_ACT_RATELIMIT;
		} else {
			for (p = 0; p < sizeof(presets) / sizeof(presets[0]); p++)
				if (!strcmp(w, presets[p].name))
					break;
			if (p == sizeof(presets) / sizeof(presets[0]))
				return fail(err, len, "unknown word '%s'", w);
			flags_keep(r, presets[p].mask, presets[p].comp);
		}
	}
	if (ret)
		return ret;
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
	int n = 0;

	for (char *s = strtok(line, " \t\r\n"); s; s = strtok(NULL, " \t\r\n")) {
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

int ruleset_parse_text(const char *name, const char *text,
		       struct ruleset *rs, char *err, size_t len)
{
	char *copy = strdup(text), *line, *next, *argv[512];
	char msg[256];
	int lineno = 0, ret = 0;

	if (!copy)
		return -ENOMEM;
	ruleset_init(rs);
	/* ids written in the file are taken before any is handed out */
	for (const char *t = text; t; t = strchr(t, '\n')) {
		unsigned int id;

		t += *t == '\n';
		if (sscanf(t, " rule %u", &id) == 1 && id >= 1 &&
		    id <= TCPF_RULES_MAX)
			rs->reserved[id / 64] |= 1ULL << (id % 64);
	}
	for (line = copy; line && !ret; line = next) {
		char *hash;
		struct rule r;
		int argc;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		hash = strchr(line, '#');
		lineno++;
		if (hash)
			*hash = '\0';
		argc = split(line, argv, 512);
		if (argc < 0) {
			ret = fail(msg, sizeof(msg), "too many words");
		} else if (argc == 0) {
			continue;
		} else if (!strcmp(argv[0], "set")) {
			ret = parse_set_line(rs, argc, argv, msg, sizeof(msg));
		} else if (!strcmp(argv[0], "default")) {
			if (argc != 2 || (strcmp(argv[1], "pass") &&
					  strcmp(argv[1], "drop")))
				ret = fail(msg, sizeof(msg),
					   "default takes pass or drop");
			else
				rs->default_action = argv[1][0] == 'd' ?
					TCPF_ACT_DROP : TCPF_ACT_PASS;
		} else {
			__u32 id = 0;
			int skip = 0;

			/* "rule ID ..." keeps an id (as `rule list` shows) */
			if (!strcmp(argv[0], "rule") && argc > 1) {
				char *end;
				long v = strtol(argv[1], &end, 10);

				if (*end || v < 1 || v > TCPF_RULES_MAX) {
					ret = fail(msg, sizeof(msg),
						   "invalid rule id '%s'",
						   argv[1]);
					break;
				}
				id = (__u32)v;
				skip = 2;
				for (int i = 0; i < rs->nrules; i++)
					if (rs->rules[i].id == id)
						ret = fail(msg, sizeof(msg),
							   "rule id %u used "
							   "twice", id);
				if (ret)
					break;
			}
			ret = rule_parse(argc - skip, argv + skip, rs, &r, msg,
					 sizeof(msg));
			if (!ret) {
				r.id = id;
				if (ruleset_add(rs, &r) < 0)
					ret = fail(msg, sizeof(msg),
						   "too many rules (at most "
						   "%d)", TCPF_RULES_MAX);
			}
			if (ret)
				rule_free(&r);
		}
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

static size_t put_prefix(char *buf, size_t size, const struct prefix *p)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family == TCPF_IPV4 ? AF_INET : AF_INET6, p->addr, a,
		  sizeof(a));
	return (size_t)snprintf(buf, size, "%s/%u", a, p->plen);
}

int ruleset_write(const struct ruleset *rs, char *buf, size_t size)
{
	size_t n = 0;

#define OUT(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))
	OUT("default %s\n", action_name(rs->default_action));
	for (int i = 0; i < rs->nsets; i++) {
		/* one word, comma-joined: a set may hold thousands */
		OUT("set %s ", rs->sets[i].name);
		for (int j = 0; j < rs->sets[i].n; j++) {
			if (j)
				OUT(",");
			n += put_prefix(buf + n, n < size ? size - n : 0,
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

int ruleset_compile(const struct ruleset *rs, struct compiled *c)
{
	struct tcpf_ruleset *o = &c->rs;
	int err;

	memset(c, 0, sizeof(*c));
	tcpf_ctz_table(o->ctz);
	o->nrules = (__u32)rs->nrules;
	o->default_action = rs->default_action;
	for (int i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];
		struct tcpf_rule_act *a = &o->act[i];

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
				goto fail;
		for (int j = 0; j < r->ndst; j++)
			if ((err = add_pfx(c, &r->dst[j], 1)))
				goto fail;
		a->id = (__u16)r->id;
		a->rl_salt = tcpf_rule_salt(r->text);
		a->action = r->action;
		a->rl_per = r->rl_per;
		a->rl_plen = r->rl_plen;
		if (r->action == TCPF_ACT_RATELIMIT) {
			a->rl_cost = r->cost_ns;
			a->rl_depth = a->rl_cost * r->burst;
		}
	}
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
	/* each prefix: the rules with a prefix containing it (the trie
	 * returns what the longest prefix holding the address carries) */
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
	if (c->ports) {
		for (int side = 0; side < 2; side++) {
			c->port[side] = calloc(TCPF_PORTS, sizeof(struct tcpf_bitmap));
			if (!c->port[side]) {
				err = -ENOMEM;
				goto fail;
			}
		}
		for (int i = 0; i < rs->nrules; i++) {
			const struct rule *r = &rs->rules[i];

			for (int j = 0; j < r->nsport; j++)
				for (int p = r->sport[j].lo; p <= r->sport[j].hi; p++)
					bm_set(&c->port[0][p], i);
			for (int j = 0; j < r->ndport; j++)
				for (int p = r->dport[j].lo; p <= r->dport[j].hi; p++)
					bm_set(&c->port[1][p], i);
		}
	}
	return 0;
fail:
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
