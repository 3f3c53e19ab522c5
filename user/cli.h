/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cli.h - what every subcommand's argument parsing shares: getopt errors and
 * wrong argument counts reported as one "tcpflags: ..." line, then usage.
 */
#ifndef TCPF_CLI_H
#define TCPF_CLI_H

/* Start every optstring with ':' so a missing value is reported as such. */

/* A getopt error (opt is '?' or ':'): print it; returns EXIT_USAGE. */
int cli_opt_error(const char *cmd, int opt, char **argv, const char *usage);

/* After options: exactly `want` positional arguments (named `what`)? */
int cli_positional(const char *cmd, int argc, char **argv, int want,
		   const char *what, const char *usage);

/* Print s as a JSON string, quoted and escaped. */
void json_string(const char *s);

#endif
