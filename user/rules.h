/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rules.h - the rule language: parse rules and rule files, and compile a
 * rule set into the bitmaps the XDP program matches with (no I/O here).
 *
 *   [--priority N] MATCH... ACTION
 *   MATCH   --tcp-flags MASK COMP | flags COMP/MASK | --syn | valid | invalid
 *           | nullscan | xmas | synfin | synrst | finnoack
 *           | phase P[,P...] | state S[,S...] | ingress | egress | ipv4 | ipv6
 *           (no direction: ingress only; the words add up)
 *           | src PFX[,PFX|@SET...] | dst ... | sport N[-M][,...] | dport ...
 *   ACTION  pass | drop | count | ratelimit RATE[/s|/m] [burst N]
 *           per src|src/LEN|global
 */
#ifndef TCPF_RULES_H
#define TCPF_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcpflags.h"
#include "guardstate.h"

#define RULE_TEXT_MAX 512
#define RULE_PORTS_MAX 16
#define RULE_PREFIXES_MAX 4096
#define SETS_MAX 64
#define SET_NAME_MAX 32

struct prefix {
	__u8 family;             /* TCPF_IPV4 or TCPF_IPV6 */
	__u8 plen;
	__u8 addr[16];
};

/* "198.18.0.0/15", "2001:2::/48", a bare address (/32, /128) into p,
 * the host bits cleared; else -EINVAL with why in err. */
int prefix_parse(const char *s, struct prefix *p, char *err, size_t len);
/* p as "ADDR/LEN" into buf, snprintf's way: the length it needs. */
size_t prefix_write(char *buf, size_t size, const struct prefix *p);

struct port_range {
	__u16 lo, hi;
};

struct rule {
	__u32 id;
	int priority;            /* lower first; then by id */
	__u64 flags[4];          /* the flag bytes it accepts, a 256-bit set */
	__u32 phases;            /* bit per enum tcpf_phase (+ untracked) */
	__u32 states;            /* bit per enum tcpf_state */
	__u8 dirs;               /* bit per enum tcpf_dir */
	__u8 families;           /* bit per enum tcpf_family */
	int nsrc, ndst;
	struct prefix *src, *dst;/* NULL: any */
	int nsport, ndport;
	struct port_range sport[RULE_PORTS_MAX], dport[RULE_PORTS_MAX];
	__u8 action;             /* enum tcpf_action */
	__u8 rl_per;             /* enum tcpf_rl_per */
	__u8 rl_plen;
	__u64 rate;              /* packets per second, rounded down */
	__u64 cost_ns;           /* exact: the ns of credit one packet costs */
	__u64 burst;             /* packets */
	char text[RULE_TEXT_MAX];/* as written, sets by name */
};

struct prefix_set {
	char name[SET_NAME_MAX];
	int n;
	struct prefix *p;
};

/* A rule set as written: what `rule list` shows and `apply` replaces. */
struct ruleset {
	int nrules;
	struct rule rules[TCPF_RULES_MAX];
	int nsets;
	struct prefix_set sets[SETS_MAX];
	__u8 default_action;     /* TCPF_ACT_PASS or TCPF_ACT_DROP */
	__u64 reserved[(TCPF_RULES_MAX + 64) / 64]; /* ids a file names */
	bool has_guard;          /* a `guard MODE ...` line: */
	struct guard_set guard;  /* applied with the rules */
};

/* The compiled form, ready for the maps of one rule set. */
struct pfx_entry {
	struct prefix p;
	__u8 side;               /* 0 source, 1 destination */
	struct tcpf_bitmap rules;
};

struct compiled {
	struct tcpf_ruleset rs;
	/* per match kind, before they are folded into rs.early and rs.late */
	struct tcpf_bitmap flags[TCPF_PATTERNS];
	struct tcpf_bitmap phase[16];  /* enum tcpf_phase + untracked */
	struct tcpf_bitmap flags_phase[TCPF_PATTERNS]; /* a phase possible */
	struct tcpf_bitmap state[16];  /* enum tcpf_state */
	struct tcpf_bitmap dir[TCPF_DIRS];
	struct tcpf_bitmap family[TCPF_FAMILIES];
	int npfx;
	struct pfx_entry *pfx;
	bool ports;              /* some rule matches ports */
	struct tcpf_bitmap *port[2]; /* [side][65536], when ports */
};

void ruleset_init(struct ruleset *rs);
void ruleset_free(struct ruleset *rs);

/* Free what a parsed rule holds (its prefixes); also after rule_parse()
 * failed, which may leave some allocated. */
void rule_free(struct rule *r);

/* Parse one rule from words; sets come from rs.  On error, a message. */
int rule_parse(int argc, char **argv, const struct ruleset *rs,
	       struct rule *r, char *err, size_t errlen);

/* Parse a rules file into rs (empty first): "FILE:LINE: what" on error. */
int ruleset_parse_file(const char *path, struct ruleset *rs, char *err,
		       size_t errlen);
/* The same from a string (the file's contents). */
int ruleset_parse_text(const char *name, const char *text,
		       struct ruleset *rs, char *err, size_t errlen);

/* Add a parsed rule (taking its prefixes) with its id, or the lowest free
 * one; returns the id, or -E2BIG when full. */
int ruleset_add(struct ruleset *rs, struct rule *r);
/* Remove rule id; -ENOENT when there is none. */
int ruleset_del(struct ruleset *rs, __u32 id);

/* Write rs in the file syntax, ids kept ("rule ID ..."). */
int ruleset_write(const struct ruleset *rs, char *buf, size_t size);

/* Compile rs for rule set `set` (0 or 1). */
int ruleset_compile(const struct ruleset *rs, struct compiled *c);
void compiled_free(struct compiled *c);

const char *action_name(__u8 action);

/*
 * The words of the language as data, for `tcpflags completion` and the
 * man page's test: every word rule_parse() and a file's lines take, and
 * the names their values are made of.  kind: "priority", "match",
 * "preset", "action"; "ratelimit" (after ratelimit RATE), "per" (after
 * per); "unit" (of a RATE); "line" (a file's line that starts with it);
 * "flag", "phase", "state" (in the values of --tcp-flags and flags,
 * phase, state).
 */
struct rule_keyword {
	const char *word;
	const char *kind;
	const char *args;        /* its values as the man page names them */
	int nargs;               /* how many words they are */
	const char *values;      /* the kind of the names in them, or "" */
};

/* Keyword i, from 0 on: false past the last. */
bool rule_keyword(int i, struct rule_keyword *k);

#endif
