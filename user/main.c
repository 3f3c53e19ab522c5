// SPDX-License-Identifier: GPL-2.0-only
/* main.c - subcommand dispatch only. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "exporter.h"
#include "flows.h"
#include "loader.h"
#include "rulecmd.h"
#include "log.h"
#include "stats.h"
#include "top.h"

#ifndef TCPF_VERSION
#define TCPF_VERSION "dev"
#endif

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *summary;
} commands[] = {
	{ "attach", cmd_attach, "IFACE [--mode native|skb] [...]",
	  "load, attach, pin the counters" },
	{ "detach", cmd_detach, "IFACE [--keep-maps]", "detach, drop the pins" },
	{ "status", cmd_status, "[--json]", "what is attached here" },
	{ "stats", cmd_stats, "IFACE [--json] [--watch N]", "the counters" },
	{ "flows", cmd_flows, "IFACE [--state S] [--json]",
	  "the connections followed" },
	{ "rule", cmd_rule, "add|del|list|flush|default IFACE",
	  "change the rules live" },
	{ "apply", cmd_apply, "IFACE FILE", "replace the rule set" },
	{ "reset", cmd_reset, "IFACE", "zero the counters" },
	{ "top", cmd_top, "[IFACE...] [--interval SECONDS]", "live dashboard" },
	{ "exporter", cmd_exporter, "--listen ADDR:PORT [IFACE...]",
	  "serve Prometheus /metrics" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tcpflags [-v] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %-34s %s\n", commands[i].name,
			commands[i].args, commands[i].summary);
	fprintf(f, "\n  COMMAND --help for its options; -v shows libbpf/libxdp "
		   "messages (-vv: debug)\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v"))
			tcpf_verbose = 1;
		else if (!strcmp(argv[i], "-vv"))
			tcpf_verbose = 2;
		else if (!strcmp(argv[i], "--version")) {
			printf("tcpflags %s\n", TCPF_VERSION);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			pr_warn("unknown option '%s'", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	log_setup_libs();
	opterr = 0;	/* subcommands report option errors themselves */
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].run(argc - i, argv + i);
	pr_warn("unknown command '%s'", argv[i]);
	usage(stderr);
	return EXIT_USAGE;
}
