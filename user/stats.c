// SPDX-License-Identifier: GPL-2.0-only
/* stats.c - print the counters as a table or as JSON, once or every N s. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
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

static void count_pattern(const struct tcpf_snapshot *s, int f,
			  struct tcpf_count *out)
{
	out->packets = s->flags[TCPF_IPV4][f].packets +
		       s->flags[TCPF_IPV6][f].packets;
	out->bytes = s->flags[TCPF_IPV4][f].bytes +
		     s->flags[TCPF_IPV6][f].bytes;
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

static void print_json(const struct iface_snapshot *x)
{
	const struct tcpf_meta *m = &x->meta;
	const struct tcpf_snapshot *s = &x->count;
	const struct tcpf_flowstats *fs = x->flows ? &x->fs : NULL;
	struct tcpf_totals t;
	char name[40];
	bool first = true;

	counters_totals(s, &t);
	printf("{\"interface\": ");
	json_string(m->ifname);
	printf(", \"ifindex\": %u, \"mode\": \"%s\", ", m->ifindex,
	       mode_name(m->mode));
	printf("\"packets\": {\"total\": %llu, \"tcp\": %llu, "
	       "\"ipv4_tcp\": %llu, \"ipv6_tcp\": %llu, \"non_tcp\": %llu, "
	       "\"tcp_fragment\": %llu, \"malformed\": %llu}, ",
	       (unsigned long long)t.total, (unsigned long long)t.tcp,
	       (unsigned long long)t.ipv4_tcp, (unsigned long long)t.ipv6_tcp,
	       (unsigned long long)t.non_tcp,
	       (unsigned long long)t.tcp_fragment,
	       (unsigned long long)t.malformed);
	printf("\"malformed\": {");
	for (int c = TCPF_CNT_MAL_FIRST; c < TCPF_CNT_MAX; c++)
		printf("%s\"%s\": %llu", c == TCPF_CNT_MAL_FIRST ? "" : ", ",
		       counter_name(c),
		       (unsigned long long)s->cnt[c].packets);
	printf("}, \"flags\": [");
	for (int f = 0; f < TCPF_PATTERNS; f++) {
		struct tcpf_count c;

		count_pattern(s, f, &c);
		if (!c.packets)
			continue;
		printf("%s{\"bits\": %d, \"name\": \"%s\", \"valid\": %s, "
		       "\"packets\": %llu, \"bytes\": %llu}", first ? "" : ", ",
		       f, flags_name(f, name, sizeof(name)),
		       tcpf_flags_valid(f) ? "true" : "false",
		       (unsigned long long)c.packets,
		       (unsigned long long)c.bytes);
		first = false;
	}
	printf("]");
	if (fs)
		print_flows_json(fs);
	print_srcs_json(x);
	printf(", ");
	report_rules_json(x);
	printf("}\n");
}

static void print_table(const struct iface_snapshot *x)
{
	const struct tcpf_meta *m = &x->meta;
	const struct tcpf_snapshot *s = &x->count;
	const struct tcpf_flowstats *fs = x->flows ? &x->fs : NULL;
	struct tcpf_totals t;
	char name[40];
	bool any = false;

	counters_totals(s, &t);
	printf("%s (ifindex %u, %s mode): %llu frames: %llu TCP "
	       "(IPv4 %llu, IPv6 %llu), %llu non-TCP, %llu TCP fragments, "
	       "%llu malformed\n\n", m->ifname, m->ifindex,
	       mode_name(m->mode), (unsigned long long)t.total,
	       (unsigned long long)t.tcp, (unsigned long long)t.ipv4_tcp,
	       (unsigned long long)t.ipv6_tcp, (unsigned long long)t.non_tcp,
	       (unsigned long long)t.tcp_fragment,
	       (unsigned long long)t.malformed);
	printf("%-31s %12s %14s %7s  %s\n", "PATTERN", "PACKETS", "BYTES",
	       "SHARE", "VALID");
	for (int f = 0; f < TCPF_PATTERNS; f++) {
		struct tcpf_count c;

		count_pattern(s, f, &c);
		if (!c.packets)
			continue;
		printf("%-31s %12llu %14llu %6.1f%%  %s\n",
		       flags_name(f, name, sizeof(name)),
		       (unsigned long long)c.packets,
		       (unsigned long long)c.bytes,
		       100.0 * (double)c.packets / (double)t.tcp,
		       tcpf_flags_valid(f) ? "yes" : "NO");
	}
	if (!t.tcp)
		printf("(no TCP segments yet)\n");
	for (int c = TCPF_CNT_MAL_FIRST; c < TCPF_CNT_MAX; c++) {
		if (!s->cnt[c].packets)
			continue;
		printf("%s %s %llu", any ? "," : "\nmalformed:",
		       counter_name(c),
		       (unsigned long long)s->cnt[c].packets);
		any = true;
	}
	if (any)
		printf("\n");
	if (fs)
		print_flows_table(fs);
	print_srcs_table(x);
	printf("\n");
	report_rules_table(x);
}

static int stats_once(const char *ifname, bool json)
{
	struct iface_snapshot *x = calloc(1, sizeof(*x));
	int err = x ? snapshot_read(ifname, x, SNAP_SRCS) : -ENOMEM;

	if (err) {
		not_attached(ifname, err);
	} else {
		snprintf(x->meta.ifname, sizeof(x->meta.ifname), "%s", ifname);
		if (json)
			print_json(x);
		else
			print_table(x);
		fflush(stdout);
	}
	if (x)
		snapshot_free(x);
	free(x);
	return err;
}

static const char stats_usage[] =
	"usage: tcpflags stats IFACE [--json] [--watch SECONDS]\n";
static const char reset_usage[] = "usage: tcpflags reset IFACE\n";

int cmd_stats(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "watch", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	bool json = false;
	long watch = 0;
	unsigned int ifindex;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, ":jw:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'w':
			errno = 0;
			watch = strtol(optarg, &end, 10);
			if (errno || *end || watch < 1 || watch > 86400) {
				pr_warn("invalid --watch '%s' (whole seconds, "
					"1 to 86400)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(stats_usage, stdout);
			return EXIT_OK;
		default:
			return cli_opt_error("stats", opt, argv, stats_usage);
		}
	}
	if (cli_positional("stats", argc, argv, 1, "interface", stats_usage))
		return EXIT_USAGE;
	if (require_root("stats"))
		return EXIT_FAIL;
	if (iface_lookup(argv[optind], &ifindex))
		return EXIT_USAGE;
	if (stats_once(argv[optind], json))
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
		if (stats_once(argv[optind], json))
			return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_reset(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	unsigned int ifindex;
	int opt, err;

	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(reset_usage, stdout);
			return EXIT_OK;
		}
		return cli_opt_error("reset", opt, argv, reset_usage);
	}
	if (cli_positional("reset", argc, argv, 1, "interface", reset_usage))
		return EXIT_USAGE;
	if (require_root("reset"))
		return EXIT_FAIL;
	if (iface_lookup(argv[optind], &ifindex))
		return EXIT_USAGE;
	/* every map the registry marks reset: rule hits and drops too */
	err = maps_reset(argv[optind]);
	if (err == -ENOENT || err == -EACCES || err == -EPERM)
		return not_attached(argv[optind], err);
	if (err) {
		pr_warn("cannot reset the counters of %s: %s", argv[optind],
			strerror(-err));
		return EXIT_FAIL;
	}
	pr_info("tcpflags: counters of %s reset", argv[optind]);
	return EXIT_OK;
}
