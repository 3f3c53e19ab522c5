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
#include "log.h"
#include "maps.h"
#include "pins.h"
#include "policy.h"
#include "report.h"
#include "rulecmd.h"
#include "snapshot.h"

static const char rule_usage[] =
	"usage: tcpflags rule add IFACE [--priority N] MATCH... ACTION\n"
	"       tcpflags rule del IFACE ID\n"
	"       tcpflags rule list IFACE [--json]\n"
	"       tcpflags rule flush IFACE\n"
	"       tcpflags rule default IFACE pass|drop\n"
	"  MATCH   --tcp-flags MASK COMP | flags COMP/MASK | --syn | valid |\n"
	"          invalid | nullscan | xmas | synfin | synrst | finnoack |\n"
	"          phase P[,P] | state S[,S] | ingress | egress | ipv4 | ipv6 |\n"
	"          src PFX[,PFX] | dst PFX[,PFX] | sport N[-M][,..] | dport ..\n"
	"  ACTION  pass | drop | count |\n"
	"          ratelimit RATE[/s|/m] [burst N] per src|src/LEN|global\n";

static const char apply_usage[] =
	"usage: tcpflags apply IFACE FILE\n"
	"  Replace IFACE's rule set with FILE's, atomically: one rule per\n"
	"  line as for 'rule add', '#' comments, 'set NAME PFX...' prefix sets\n"
	"  (used as @NAME), 'default pass|drop'.\n";

static const __u32 no_ids[1];

static int usage_error(const char *what)
{
	pr_warn("%s", what);
	fputs(rule_usage, stderr);
	return EXIT_USAGE;
}

/* Root, a known interface, attached: the common preamble. */
static int target(const char *cmd, const char *ifname)
{
	unsigned int ifindex;
	int fd;

	if (require_root(cmd))
		return EXIT_FAIL;
	if (iface_lookup(ifname, &ifindex))
		return EXIT_USAGE;
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

static int rule_add(const char *ifname, int argc, char **argv)
{
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
	if (rule_parse(argc, argv, rs, &r, err, sizeof(err))) {
		pr_warn("rule add: %s", err);
		free(r.src);
		free(r.dst);
		ruleset_free(rs);
		free(rs);
		return EXIT_USAGE;
	}
	ret = ruleset_add(rs, &r);
	if (ret < 0) {
		pr_warn("rule add: too many rules on %s (at most %d)", ifname,
			TCPF_RULES_MAX);
		free(r.src);
		free(r.dst);
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

static int rule_del(const char *ifname, const char *idstr)
{
	struct ruleset *rs = malloc(sizeof(*rs));
	char *end;
	long id;
	int ret;

	errno = 0;
	id = strtol(idstr, &end, 10);
	if (errno || *end || id < 1 || id > TCPF_RULES_MAX) {
		free(rs);
		return usage_error("rule del: invalid rule id");
	}
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

	if (!err && s->rules_error[0]) {
		pr_warn("the saved rules of %s do not parse: %s", ifname,
			s->rules_error);
		err = -EINVAL;
	}
	if (err) {
		pr_warn("cannot read the rules of %s: %s", ifname,
			strerror(-err));
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

int cmd_rule(int argc, char **argv)
{
	const char *sub, *ifname;
	int ret;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(rule_usage, stdout);
		return EXIT_OK;
	}
	if (argc < 3)
		return usage_error(argc < 2 ? "rule: missing subcommand"
					    : "rule: missing interface");
	sub = argv[1];
	ifname = argv[2];
	if (strcmp(sub, "add") && strcmp(sub, "del") && strcmp(sub, "list") &&
	    strcmp(sub, "flush") && strcmp(sub, "default")) {
		pr_warn("rule: unknown subcommand '%s'", sub);
		fputs(rule_usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(sub, "del") && argc != 4)
		return usage_error("rule del: needs an interface and a rule id");
	if ((!strcmp(sub, "flush") && argc != 3) ||
	    (!strcmp(sub, "default") && (argc != 4 ||
	     (strcmp(argv[3], "pass") && strcmp(argv[3], "drop")))))
		return usage_error(!strcmp(sub, "flush") ?
				   "rule flush: needs only an interface" :
				   "rule default: needs pass or drop");
	if (!strcmp(sub, "list") && !(argc == 3 ||
	    (argc == 4 && !strcmp(argv[3], "--json"))))
		return usage_error("rule list: needs an interface (and --json)");
	if (!strcmp(sub, "add") && argc < 4)
		return usage_error("rule add: missing the rule");
	ret = target(sub, ifname);
	if (ret != EXIT_OK)
		return ret;
	if (strcmp(sub, "list")) {
		/* one change at a time: each rewrites the unused rule set */
		int lock = policy_lock(ifname);

		if (!strcmp(sub, "add"))
			ret = rule_add(ifname, argc - 3, argv + 3);
		else if (!strcmp(sub, "del"))
			ret = rule_del(ifname, argv[3]);
		else if (!strcmp(sub, "flush"))
			ret = rule_flush_default(ifname, 0, true);
		else
			ret = rule_flush_default(ifname, argv[3][0] == 'd' ?
						 TCPF_ACT_DROP : TCPF_ACT_PASS,
						 false);
		policy_unlock(lock);
		return ret;
	}
	return rule_list(ifname, argc == 4);
}

int cmd_apply(int argc, char **argv)
{
	struct ruleset *rs;
	char err[512];
	int ret, lock;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(apply_usage, stdout);
		return EXIT_OK;
	}
	if (argc != 3) {
		pr_warn("apply: needs an interface and a file");
		fputs(apply_usage, stderr);
		return EXIT_USAGE;
	}
	ret = target("apply", argv[1]);
	if (ret != EXIT_OK)
		return ret;
	rs = malloc(sizeof(*rs));
	if (!rs)
		return EXIT_FAIL;
	if (ruleset_parse_file(argv[2], rs, err, sizeof(err))) {
		/* one bad line rejects the whole file: nothing changes */
		pr_warn("%s", err);
		free(rs);
		return EXIT_USAGE;
	}
	lock = policy_lock(argv[1]);
	ret = policy_replace(argv[1], rs);
	policy_unlock(lock);
	if (ret)
		pr_warn("cannot install the rules of %s: %s", argv[1],
			policy_strerror(ret));
	/* a set too large for the tables is bad input, like a bad line */
	ret = ret == -E2BIG ? EXIT_USAGE : ret ? EXIT_FAIL : EXIT_OK;
	if (ret == EXIT_OK)
		pr_info("tcpflags: %d rules applied to %s (default %s)",
			rs->nrules, argv[1], action_name(rs->default_action));
	ruleset_free(rs);
	free(rs);
	return ret;
}
