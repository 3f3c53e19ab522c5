// SPDX-License-Identifier: GPL-2.0-only
/* stats.c - print the counters as a table or as JSON, once or every N s. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "counters.h"
#include "log.h"
#include "maps.h"
#include "pins.h"
#include "report.h"
#include "snapshot.h"
#include "stats.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The next flag byte after *f that was counted (IPv4 and IPv6 added up):
 * false when there is none. */
static bool next_pattern(const struct tcpf_snapshot *s, int *f,
			 struct tcpf_count *c)
{
	while (++*f < TCPF_PATTERNS) {
		c->packets = s->flags[TCPF_IPV4][*f].packets +
			     s->flags[TCPF_IPV6][*f].packets;
		c->bytes = s->flags[TCPF_IPV4][*f].bytes +
			   s->flags[TCPF_IPV6][*f].bytes;
		if (c->packets)
			return true;
	}
	return false;
}

static __u64 phase_total(const struct tcpf_flowstats *fs, int ph)
{
	return fs->phase[TCPF_DIR_INGRESS][ph] + fs->phase[TCPF_DIR_EGRESS][ph];
}

static __u64 half_open(const struct tcpf_flowstats *fs)
{
	return (__u64)fs->ctl.gauge[TCPF_ST_SYN_SENT] +
	       fs->ctl.gauge[TCPF_ST_SYN_RECV];
}

static void print_flows_json(const struct tcpf_flowstats *fs)
{
	printf(", \"phases\": {");
	for (int ph = 0; ph < TCPF_PH_MAX; ph++)
		printf("%s\"%s\": %llu", ph ? ", " : "", phase_name(ph),
		       (unsigned long long)phase_total(fs, ph));
	printf("}, \"states\": {");
	for (int st = TCPF_ST_SYN_SENT; st < TCPF_ST_MAX; st++)
		printf("%s\"%s\": %u", st > TCPF_ST_SYN_SENT ? ", " : "",
		       state_name(st), fs->ctl.gauge[st]);
	printf("}, \"connections\": {\"half_open\": %llu",
	       (unsigned long long)half_open(fs));
	for (int c = 0; c < TCPF_CONN_MAX; c++)
		printf(", \"%s\": %llu", conn_name(c),
		       (unsigned long long)fs->conn[c]);
	printf("}");
}

static void print_flows_table(const struct tcpf_flowstats *fs)
{
	printf("\nphases (both directions):\n");
	for (int ph = 0; ph < TCPF_PH_MAX; ph++)
		printf("  %-18s %12llu%s", phase_name(ph),
		       (unsigned long long)phase_total(fs, ph),
		       ph % 3 == 2 ? "\n" : "");
	printf("\nconnections now:");
	for (int st = TCPF_ST_SYN_SENT; st < TCPF_ST_MAX; st++)
		printf(" %s %u", state_name(st), fs->ctl.gauge[st]);
	printf("\nconnections so far:");
	for (int c = 0; c < TCPF_CONN_MAX; c++)
		printf(" %s %llu", conn_name(c),
		       (unsigned long long)fs->conn[c]);
	printf("\n");
}

/* The sources that sent the most SYNs, at most SRCS_SHOWN. */
#define SRCS_SHOWN 10

static void print_srcs_json(const struct iface_snapshot *x)
{
	char name[INET6_ADDRSTRLEN];

	printf(", \"syn_sources\": [");
	for (int i = 0; i < x->nsrcs && i < SRCS_SHOWN; i++)
		printf("%s{\"source\": \"%s\", \"syns\": %llu}", i ? ", " : "",
		       src_name(&x->srcs[i], name, sizeof(name)),
		       (unsigned long long)x->srcs[i].syns);
	printf("]");
}

static void print_srcs_table(const struct iface_snapshot *x)
{
	char name[INET6_ADDRSTRLEN];

	for (int i = 0; i < x->nsrcs && i < SRCS_SHOWN; i++)
		printf("%s %s %llu", i ? "," : "\nSYN sources (most SYNs):",
		       src_name(&x->srcs[i], name, sizeof(name)),
		       (unsigned long long)x->srcs[i].syns);
	if (x->nsrcs)
		printf("\n");
}

/* The counted flag patterns, as the JSON array's members. */
static void print_patterns_json(const struct tcpf_snapshot *s)
{
	struct tcpf_count pc;
	char name[40];
	bool first = true;

	for (int f = -1; next_pattern(s, &f, &pc);) {
		printf("%s{\"bits\": %d, \"name\": \"%s\", \"valid\": %s, "
		       "\"packets\": %llu, \"bytes\": %llu}", first ? "" : ", ",
		       f, flags_name(f, name, sizeof(name)),
		       tcpf_flags_valid(f) ? "true" : "false",
		       (unsigned long long)pc.packets,
		       (unsigned long long)pc.bytes);
		first = false;
	}
}

/* The counted flag patterns, a row each, with their share of tcp. */
static void print_patterns_table(const struct tcpf_snapshot *s, __u64 tcp)
{
	struct tcpf_count pc;
	char name[40];

	for (int f = -1; next_pattern(s, &f, &pc);) {
		printf("%-31s %12llu %14llu %6.1f%%  %s\n",
		       flags_name(f, name, sizeof(name)),
		       (unsigned long long)pc.packets,
		       (unsigned long long)pc.bytes,
		       100.0 * (double)pc.packets / (double)tcp,
		       tcpf_flags_valid(f) ? "yes" : "NO");
	}
}

/* What follows the counters, in either form: the connections, the SYN
 * sources, the rules. */
static void print_sections(const struct iface_snapshot *x, bool json)
{
	if (x->flows)
		(json ? print_flows_json : print_flows_table)(&x->fs);
	(json ? print_srcs_json : print_srcs_table)(x);
	printf(json ? ", " : "\n");
	(json ? report_rules_json : report_rules_table)(x);
	if (json) {
		printf(", \"guard\": ");
		if (x->guarded)
			guard_view_json(x->ifname, &x->guard);
		else
			printf("null");
	} else if (x->guarded && x->guard.gc.mode != TCPF_GM_OFF) {
		printf("\n");
		guard_view_text(x->ifname, &x->guard);
	}
}

static void print_json(const struct iface_snapshot *x,
		       const struct tcpf_totals *t)
{
	printf("{\"interface\": ");
	json_string(x->meta.ifname);
	printf(", \"ifindex\": %u, \"mode\": \"%s\", ", x->meta.ifindex,
	       mode_name(x->meta.mode));
	printf("\"packets\": {\"total\": %llu, \"tcp\": %llu, "
	       "\"ipv4_tcp\": %llu, \"ipv6_tcp\": %llu, \"non_tcp\": %llu, "
	       "\"tcp_fragment\": %llu, \"malformed\": %llu}, ",
	       t->total, t->tcp, t->ipv4_tcp, t->ipv6_tcp, t->non_tcp,
	       t->tcp_fragment, t->malformed);
	printf("\"malformed\": {");
	for (int c = TCPF_CNT_MAL_FIRST; c < TCPF_CNT_MAX; c++)
		printf("%s\"%s\": %llu", c == TCPF_CNT_MAL_FIRST ? "" : ", ",
		       counter_name(c),
		       (unsigned long long)x->count.cnt[c].packets);
	printf("}, \"flags\": [");
	print_patterns_json(&x->count);
	printf("]");
	print_sections(x, true);
	printf("}\n");
}

static void print_table(const struct iface_snapshot *x,
			const struct tcpf_totals *t)
{
	bool any = false;

	printf("%s (ifindex %u, %s mode): %llu frames: %llu TCP "
	       "(IPv4 %llu, IPv6 %llu), %llu non-TCP, %llu TCP fragments, "
	       "%llu malformed\n\n", x->meta.ifname, x->meta.ifindex,
	       mode_name(x->meta.mode), t->total, t->tcp, t->ipv4_tcp,
	       t->ipv6_tcp, t->non_tcp, t->tcp_fragment, t->malformed);
	printf("%-31s %12s %14s %7s  %s\n", "PATTERN", "PACKETS", "BYTES",
	       "SHARE", "VALID");
	print_patterns_table(&x->count, t->tcp);
	if (!t->tcp)
		printf("(no TCP segments yet)\n");
	for (int c = TCPF_CNT_MAL_FIRST; c < TCPF_CNT_MAX; c++) {
		if (!x->count.cnt[c].packets)
			continue;
		printf("%s %s %llu", any ? "," : "\nmalformed:",
		       counter_name(c),
		       (unsigned long long)x->count.cnt[c].packets);
		any = true;
	}
	if (any)
		printf("\n");
	print_sections(x, false);
}

static int stats_once(const char *ifname, bool json)
{
	struct iface_snapshot *x = calloc(1, sizeof(*x));
	int err = x ? snapshot_read(ifname, x, SNAP_SRCS | SNAP_VERIFIED) : -ENOMEM;
	struct tcpf_totals t;

	if (err) {
		not_attached(ifname, err);
	} else {
		snprintf(x->meta.ifname, sizeof(x->meta.ifname), "%s", ifname);
		counters_totals(&x->count, &t);
		if (json)
			print_json(x, &t);
		else
			print_table(x, &t);
		fflush(stdout);
	}
	if (x)
		snapshot_free(x);
	free(x);
	return err;
}

struct stats_opts {
	struct cli_iface iface;
	bool json;
	long watch;		/* seconds between reports, 0: once */
};

static int cmd_stats(void *opts)
{
	const struct stats_opts *o = opts;
	const char *ifname = o->iface.name;
	bool json = o->json;
	long watch = o->watch;

	if (stats_once(ifname, json))
		return EXIT_FAIL;
	if (!watch)
		return EXIT_OK;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		sleep((unsigned int)watch);
		if (stop)
			break;
		if (!json)
			printf("\n");
		if (stats_once(ifname, json))
			return EXIT_FAIL;
	}
	return EXIT_OK;
}

static const struct cli_opt stats_args[] = {
	CLI_ARG_ATTACHED(struct stats_opts, iface), { 0 },
};

static const struct cli_opt stats_options[] = {
	CLI_OPT_JSON(struct stats_opts, json),
	{ .name = "watch", .short_name = 'w', .kind = CLI_INT,
	  .offset = offsetof(struct stats_opts, watch), .metavar = "SECONDS",
	  .lo = 1, .hi = 86400, .help = "again every SECONDS until ^C" },
	{ 0 },
};

const struct cli_command stats_command = {
	.name = "stats", .summary = "the counters",
	.about = "  The counters of IFACE: flag patterns, malformed frames, phases,\n"
		 "  connections, SYN sources, rules and drops; with --watch, again\n"
		 "  every SECONDS (with --json, one JSON object a line).\n",
	.args = stats_args, .opts = stats_options,
	.size = sizeof(struct stats_opts), .need = &priv_read,
	.run = cmd_stats,
};

struct reset_opts {
	struct cli_iface iface;
};

static int cmd_reset(void *opts)
{
	const char *ifname = ((const struct reset_opts *)opts)->iface.name;
	int err;

	/* every map the registry marks reset: rule hits and drops too */
	err = maps_reset(ifname);
	if (err == -ENOENT || err == -EACCES || err == -EPERM)
		return not_attached(ifname, err);
	if (err) {
		pr_warn("cannot reset the counters of %s: %s", ifname,
			strerror(-err));
		return EXIT_FAIL;
	}
	pr_info("tcpflags: counters of %s reset", ifname);
	return EXIT_OK;
}

static const struct cli_opt reset_args[] = {
	CLI_ARG_ATTACHED(struct reset_opts, iface), { 0 },
};

const struct cli_command reset_command = {
	.name = "reset", .summary = "zero the counters",
	.about = "  Zero IFACE's counters (flag patterns, phases, rule hits, drops,\n"
		 "  SYN sources); the flow table and the rules stay.\n",
	.args = reset_args, .writes = true,
	.size = sizeof(struct reset_opts), .need = &priv_write,
	.run = cmd_reset,
};
