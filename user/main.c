// SPDX-License-Identifier: GPL-2.0-only
/* main.c - subcommand dispatch only. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "completion.h"
#include "exporter.h"
#include "flows.h"
#include "loader.h"
#include "guard.h"
#include "prune.h"
#include "rulecmd.h"
#include "log.h"
#include "stats.h"
#include "top.h"

#ifndef TCPF_VERSION
#define TCPF_VERSION "dev"
#endif

const struct cli_command *const tcpf_commands[] = {
	&attach_command, &detach_command, &status_command, &stats_command,
	&flows_command, &rule_command, &apply_command, &guard_command,
	&reset_command, &prune_command,
	&top_command, &exporter_command, &completion_command, NULL,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tcpflags [-v] COMMAND [ARGS]\n\ncommands:\n");
	cli_table(tcpf_commands, f);
	fprintf(f, "\n  COMMAND --help for its options; -v shows libbpf/libxdp "
		   "messages (-vv: debug)\n");
}

int main(int argc, char **argv)
{
	const struct cli_command *cmd;
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
	cmd = cli_find(tcpf_commands, argv[i]);
	if (cmd)
		return cli_dispatch(cmd, argc - i, argv + i);
	pr_warn("unknown command '%s'", argv[i]);
	usage(stderr);
	return EXIT_USAGE;
}
