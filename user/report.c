// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <xdp/libxdp.h>
#include "cli.h"
#include "log.h"
#include "policy.h"
#include "report.h"

const char *mode_name(__u32 mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "skb";
	case XDP_MODE_HW:
		return "hw";
	default:
		return "?";
	}
}

int not_attached(const char *ifname, int err)
{
	if (!err || err == -ENOENT)
		pr_warn("%s is not attached; run 'tcpflags attach %s'", ifname,
			ifname);
	else if (err == -EACCES || err == -EPERM)
		pr_warn("cannot read the counters of %s: permission denied "
			"(run as root)", ifname);
	else
		pr_warn("cannot read the counters of %s: %s", ifname,
			strerror(-err));
	return EXIT_FAIL;
}

void report_rules_json(const struct iface_snapshot *s)
{
	const struct ruleset *rs = &s->rules;

	if (s->rules_error[0]) {
		/* a saved set that does not parse: no rules to show */
		printf("\"rules\": [], \"drops\": {}");
		return;
	}
	printf("\"default\": \"%s\", \"rules\": [",
	       action_name(rs->default_action));
	for (int i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];

		printf("%s{\"id\": %u, \"priority\": %d, \"text\": ",
		       i ? ", " : "", r->id, r->priority);
		json_string(r->text);
		printf(", \"action\": \"%s\", \"packets\": %llu, "
		       "\"bytes\": %llu}", action_name(r->action),
		       (unsigned long long)s->hits[r->id].packets,
		       (unsigned long long)s->hits[r->id].bytes);
	}
	printf("], \"drops\": {");
	for (int d = 0; d < TCPF_DROP_MAX; d++)
		printf("%s\"%s\": %llu", d ? ", " : "", drop_reason_name(d),
		       (unsigned long long)s->drops[d].packets);
	printf("}");
}

void report_rules_table(const struct iface_snapshot *s)
{
	const struct ruleset *rs = &s->rules;

	if (s->rules_error[0])
		return;
	printf("rules (first match decides; default %s):\n",
	       action_name(rs->default_action));
	if (!rs->nrules)
		printf("  (none)\n");
	else
		printf("  %4s %6s %10s %12s  %s\n", "ID", "PRIO", "PACKETS",
		       "BYTES", "RULE");
	for (int i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];

		printf("  %4u %6d %10llu %12llu  %s\n", r->id, r->priority,
		       (unsigned long long)s->hits[r->id].packets,
		       (unsigned long long)s->hits[r->id].bytes, r->text);
	}
	printf("drops:");
	for (int d = 0; d < TCPF_DROP_MAX; d++)
		printf(" %s %llu", drop_reason_name(d),
		       (unsigned long long)s->drops[d].packets);
	printf("\n");
}
