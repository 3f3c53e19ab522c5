// SPDX-License-Identifier: GPL-2.0-only
#include <getopt.h>
#include <stdio.h>
#include "cli.h"
#include "log.h"

int cli_opt_error(const char *cmd, int opt, char **argv, const char *usage)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		pr_warn("%s: option '%s' needs a value", cmd, arg);
	else if (optopt)
		pr_warn("%s: unknown option '-%c'", cmd, optopt);
	else
		pr_warn("%s: unknown option '%s'", cmd, arg);
	fputs(usage, stderr);
	return EXIT_USAGE;
}

int cli_positional(const char *cmd, int argc, char **argv, int want,
		   const char *what, const char *usage)
{
	int have = argc - optind;

	if (have == want)
		return 0;
	if (have < want)
		pr_warn("%s: missing %s", cmd, what);
	else
		pr_warn("%s: unexpected argument '%s'", cmd,
			argv[optind + want]);
	fputs(usage, stderr);
	return EXIT_USAGE;
}

void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}
