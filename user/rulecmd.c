// SPDX-License-Identifier: GPL-2.0-only
/*
 * rulecmd.c - change an attached interface's rules while traffic flows:
 * every change recompiles the whole set into the unused half of the
 * double buffer and switches with one map write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "crashpoint.h"
#include "log.h"
#include "maps.h"
#include "pins.h"
#include "policy.h"
#include "report.h"
#include "rulecmd.h"
#include "guard.h"
#include "snapshot.h"

static const char rule_grammar[] =
	"  MATCH   --tcp-flags MASK COMP | flags COMP/MASK | --syn | valid |\n"
	"          invalid | nullscan | xmas | synfin | synrst | finnoack |\n"
	"          phase P[,P] | state S[,S] | ingress | egress | ipv4 | ipv6 |\n"
	"          src PFX[,PFX] | dst PFX[,PFX] | sport N[-M][,..] | dport ..\n"
	"  ACTION  pass | drop | count |\n"
	"          ratelimit RATE[/s|/m] [burst N] per src|src/LEN|global\n";

/* Every rule subcommand's command line (each uses some of it). */
struct rule_opts {
	struct cli_iface iface;
	struct cli_list words;	/* add: the rule */
	long id;		/* del */
	int action;		/* default: TCPF_ACT_PASS or TCPF_ACT_DROP */
	bool json;		/* list */
	const char *file;	/* apply */
};

static const __u32 no_ids[1];

/* The interface has its rule maps pinned (root and the interface are
 * checked by the parser): EXIT_OK, else EXIT_FAIL after the line. */
static int target(const char *ifname)
{
	int fd;

	if (map_open(TCPF_MAP_RULESETS, ifname, true, &fd))
		return not_attached(ifname, -ENOENT);
	close(fd);
	return EXIT_OK;
}

static int install(const char *ifname, struct ruleset *rs, const __u32 *fresh,
		   int nfresh)
{
	int err = policy_install(ifname, rs, fresh, nfresh);

	if (err) {
		pr_warn("cannot install the rules of %s: %s", ifname,
			policy_strerror(err));
		return err == -E2BIG ? EXIT_USAGE : EXIT_FAIL;
	}
	return EXIT_OK;
}

static int rule_add(const struct rule_opts *o)
{
	const char *ifname = o->iface.name;
	struct ruleset *rs = malloc(sizeof(*rs));
	struct rule r;
	char err[512];
	__u32 id;
	int ret;

	if (!rs)
		return EXIT_FAIL;
	if (policy_load(ifname, rs)) {
		free(rs);
		return EXIT_FAIL;
	}
	if (rule_parse(o->words.n, o->words.v, rs, &r, err, sizeof(err))) {
		pr_warn("rule add: %s", err);
		rule_free(&r);
		ruleset_free(rs);
		free(rs);
		return EXIT_USAGE;
	}
	ret = ruleset_add(rs, &r);
	if (ret < 0) {
		pr_warn("rule add: too many rules on %s (at most %d)", ifname,
			TCPF_RULES_MAX);
		rule_free(&r);
		ruleset_free(rs);
		free(rs);
		return EXIT_FAIL;
	}
	id = (__u32)ret;
	ret = install(ifname, rs, &id, 1);
	if (ret == EXIT_OK)
		pr_info("tcpflags: rule %u added to %s", id, ifname);
	ruleset_free(rs);
	free(rs);
	return ret;
}

static int rule_del(const struct rule_opts *o)
{
	struct ruleset *rs = malloc(sizeof(*rs));
	const char *ifname = o->iface.name;
	long id = o->id;
	int ret;

	if (!rs || policy_load(ifname, rs)) {
		free(rs);
		return EXIT_FAIL;
	}
	if (ruleset_del(rs, (__u32)id)) {
		pr_warn("rule del: %s has no rule %ld", ifname, id);
		ret = EXIT_FAIL;
	} else {
		__u32 gone = (__u32)id;

		ret = install(ifname, rs, &gone, 1);
		if (ret == EXIT_OK)
			pr_info("tcpflags: rule %ld deleted from %s", id,
				ifname);
	}
	ruleset_free(rs);
	free(rs);
	return ret;
}

static int rule_flush_default(const char *ifname, int deflt, bool flush)
{
	struct ruleset *rs = malloc(sizeof(*rs));
	int ret;

	if (!rs || policy_load(ifname, rs)) {
		free(rs);
		return EXIT_FAIL;
	}
	if (flush) {
		__u8 d = rs->default_action;
		int nsets = rs->nsets;

		for (int i = 0; i < rs->nrules; i++) {
			free(rs->rules[i].src);
			free(rs->rules[i].dst);
		}
		rs->nrules = 0;
		rs->default_action = d;
		rs->nsets = nsets;
	} else {
		rs->default_action = (__u8)deflt;
	}
	/* no rule is new: every hit counter stays */
	ret = install(ifname, rs, no_ids, 0);
	if (ret == EXIT_OK)
		pr_info("tcpflags: %s", flush ? "rules flushed" :
			deflt == TCPF_ACT_DROP ? "default action: drop"
					       : "default action: pass");
	ruleset_free(rs);
	free(rs);
	return ret;
}

/* `rule list`: the rules and their hits from one snapshot. */
static int rule_list(const char *ifname, bool json)
{
	struct iface_snapshot *s = calloc(1, sizeof(*s));
	int err = s ? snapshot_read(ifname, s, 0) : -ENOMEM;

	if (err) {
		pr_warn("cannot read the rules of %s: %s", ifname,
			strerror(-err));
	} else if (s->rules_error[0]) {
		pr_warn("the saved rules of %s do not parse: %s", ifname,
			s->rules_error);
		err = -EINVAL;
	} else if (json) {
		printf("{\"interface\": ");
		json_string(ifname);
		printf(", ");
		report_rules_json(s);
		printf("}\n");
	} else {
		report_rules_table(s);
	}
	if (s)
		snapshot_free(s);
	free(s);
	return err ? EXIT_FAIL : EXIT_OK;
}

static int rule_flush(const struct rule_opts *o)
{
	return rule_flush_default(o->iface.name, 0, true);
}

static int rule_default(const struct rule_opts *o)
{
	return rule_flush_default(o->iface.name, o->action, false);
}

/* A change (the dispatcher holds the namespace's lock: writes), each
 * rewrites the unused rule set. */
static int locked(const struct rule_opts *o,
		  int (*change)(const struct rule_opts *o))
{
	int ret = target(o->iface.name);

	return ret != EXIT_OK ? ret : change(o);
}

static int run_add(void *opts)
{
	return locked(opts, rule_add);
}

static int run_del(void *opts)
{
	return locked(opts, rule_del);
}

static int run_flush(void *opts)
{
	return locked(opts, rule_flush);
}

static int run_default(void *opts)
{
	return locked(opts, rule_default);
}

static int run_list(void *opts)
{
	const struct rule_opts *o = opts;
	const char *ifname = o->iface.name;
	int ret = target(ifname);

	if (ret != EXIT_OK)
		return ret;
	return rule_list(ifname, o->json);
}

static int run_apply(void *opts)
{
	const struct rule_opts *o = opts;
	const char *ifname = o->iface.name;
	struct ruleset *rs;
	char err[512];
	int ret = target(ifname);

	if (ret != EXIT_OK)
		return ret;
	rs = malloc(sizeof(*rs));
	if (!rs)
		return EXIT_FAIL;
	if (ruleset_parse_file(o->file, rs, err, sizeof(err))) {
		/* one bad line rejects the whole file: nothing changes */
		pr_warn("%s", err);
		free(rs);
		return EXIT_USAGE;
	}
	/* the guard line first: refused, it leaves everything as it was */
	if (rs->has_guard &&
	    (ret = guard_apply(ifname, o->iface.ifindex, &rs->guard))) {
		ruleset_free(rs);
		free(rs);
		return ret == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	if (rs->has_guard)
		crash_point("apply:guard");
	ret = policy_replace(ifname, rs);
	if (ret)
		pr_warn("cannot install the rules of %s: %s", ifname,
			policy_strerror(ret));
	/* a set too large for the tables is bad input, like a bad line */
	ret = ret == -E2BIG ? EXIT_USAGE : ret ? EXIT_FAIL : EXIT_OK;
	if (ret == EXIT_OK)
		pr_info("tcpflags: %d rules applied to %s (default %s)",
			rs->nrules, ifname, action_name(rs->default_action));
	ruleset_free(rs);
	free(rs);
	return ret;
}

/* ------------------------------------------------------- the tables */

#define RULE(m) offsetof(struct rule_opts, m)
#define IFACE_ARG CLI_ARG_ATTACHED(struct rule_opts, iface)

static const struct cli_word action_words[] = {
	{ "pass", TCPF_ACT_PASS, false },
	{ "drop", TCPF_ACT_DROP, false },
	{ NULL, 0, false },
};

static const struct cli_opt iface_only[] = { IFACE_ARG, { 0 } };

static const struct cli_opt add_args[] = {
	IFACE_ARG,
	{ .name = "rule", .kind = CLI_WORDS, .offset = RULE(words),
	  .metavar = "[--priority N] MATCH... ACTION", .lo = 1,
	  .complete = CLI_COMPLETE_RULE },
	{ 0 },
};

static const struct cli_opt del_args[] = {
	IFACE_ARG,
	{ .name = "rule id", .kind = CLI_INT, .offset = RULE(id),
	  .metavar = "ID", .lo = 1, .hi = TCPF_RULES_MAX,
	  .complete = CLI_COMPLETE_RULE_ID },
	{ 0 },
};

static const struct cli_opt default_args[] = {
	IFACE_ARG,
	{ .name = "action", .kind = CLI_ENUM, .offset = RULE(action),
	  .words = action_words },
	{ 0 },
};

static const struct cli_opt list_options[] = {
	CLI_OPT_JSON(struct rule_opts, json),
	{ 0 },
};

static const struct cli_opt apply_args[] = {
	IFACE_ARG,
	{ .name = "file", .kind = CLI_PATH, .offset = RULE(file),
	  .metavar = "FILE" },
	{ 0 },
};

#define RULE_CMD .size = sizeof(struct rule_opts)
/* a change: the namespace's writer lock (user/lock.h) */
#define RULE_WRITER RULE_CMD, .writes = true

static const struct cli_command rule_add_cmd = {
	.name = "rule add", .summary = "add a rule (live)",
	.about = rule_grammar, .args = add_args, .raw = true,
	.run = run_add, .need = &priv_write, RULE_WRITER,
};
static const struct cli_command rule_del_cmd = {
	.name = "rule del", .summary = "remove a rule",
	.args = del_args, .run = run_del, .need = &priv_write, RULE_WRITER,
};
static const struct cli_command rule_list_cmd = {
	.name = "rule list", .summary = "the rules with their hits",
	.args = iface_only, .opts = list_options, .run = run_list,
	.need = &priv_read, RULE_CMD,
};
static const struct cli_command rule_flush_cmd = {
	.name = "rule flush", .summary = "remove every rule",
	.args = iface_only, .run = run_flush, .need = &priv_write, RULE_WRITER,
};
static const struct cli_command rule_default_cmd = {
	.name = "rule default", .summary = "what no rule matches gets",
	.args = default_args, .run = run_default, .need = &priv_write,
	RULE_WRITER,
};

static const struct cli_command *const rule_subs[] = {
	&rule_add_cmd, &rule_del_cmd, &rule_list_cmd, &rule_flush_cmd,
	&rule_default_cmd, NULL,
};

const struct cli_command rule_command = {
	.name = "rule", .summary = "change the rules live",
	.about = rule_grammar, .subs = rule_subs,
};

const struct cli_command apply_command = {
	.name = "apply", .summary = "replace the rule set",
	.about = "  Replace IFACE's rule set with FILE's, atomically: one rule per\n"
		 "  line as for 'rule add', '#' comments, 'set NAME PFX...' prefix sets\n"
		 "  (used as @NAME), 'default pass|drop', 'guard MODE port LIST ...'\n"
		 "  (the guard's options as words, without --).\n",
	.args = apply_args, .run = run_apply, .need = &priv_write, RULE_WRITER,
};
