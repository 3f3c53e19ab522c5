/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cli.h - commands and their options declared as data.  Each command
 * describes itself in a struct cli_command: its positional arguments and
 * options (struct cli_opt: name, kind of value, range, where the value goes
 * in the command's own options struct, help), what privilege it needs, and
 * the function that runs it.  One parser turns that into getopt_long
 * parsing, one-line errors (exit 2), --help and the usage line; one
 * dispatcher picks the command, or the subcommand, by name.
 */
#ifndef TCPF_CLI_H
#define TCPF_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "privs.h"

/* What a value is, and the C type it is stored as at its offset. */
enum cli_kind {
	CLI_FLAG,	/* bool: true when the option is given */
	CLI_INT,	/* long, a whole number in lo..hi */
	CLI_COUNT,	/* unsigned int, a whole number in lo..hi */
	CLI_SECONDS,	/* double, a decimal number of seconds in dlo..dhi */
	CLI_ENUM,	/* int: the value of the word given (words) */
	CLI_IFACE,	/* struct cli_iface: the name, its index looked up */
	CLI_STRING,	/* const char * */
	CLI_PATH,	/* const char *: a file's name */
	CLI_CALL,	/* call() parses and stores it (e.g. STATE=SECONDS) */
	CLI_WORDS,	/* positional, last: struct cli_list, the words left */
	CLI_IFACES,	/* the same, each an interface that must exist */
};

#define CLI_REQUIRED	0x1	/* an option that must be given (a string,
				 * path or interface: NULL is missing) */
#define CLI_REPEAT	0x2	/* may be given again (usage says "...") */
#define CLI_HIDDEN	0x4	/* not in --help (make bench's options) */

/* What shell completion offers for a value, where its kind does not say
 * enough (by the kind: an enum's words, an interface, a file's name). */
enum cli_complete {
	CLI_COMPLETE_KIND,	/* what the kind says; nothing for a number */
	CLI_COMPLETE_ATTACHED,	/* an interface `status` lists */
	CLI_COMPLETE_RULE_ID,	/* an id `rule list IFACE` shows */
	CLI_COMPLETE_STATE,	/* a connection state (not none) */
	CLI_COMPLETE_TIMEOUT,	/* STATE=SECONDS: the state and the '=' */
	CLI_COMPLETE_RULE,	/* the words of a rule (user/rules.c) */
	CLI_COMPLETE_GUARD,	/* a guard mode, or allow|deny and their words */
	CLI_COMPLETE_GROUP,	/* a group's name */
};

struct cli_word {
	const char *word;
	int value;
	bool alias;		/* accepted, not shown in --help */
};

struct cli_iface {
	const char *name;
	unsigned int ifindex;	/* set after the privilege check */
};

struct cli_list {
	char **v;
	int n;
};

struct cli_opt {
	const char *name;	/* long option without "--"; for a positional
				 * argument its name in messages */
	char short_name;	/* 0: none */
	enum cli_kind kind;
	size_t offset;		/* offsetof(the command's struct, member) */
	const char *metavar;	/* the value in usage (N, FILE); enums: the
				 * words joined by '|' when NULL */
	const char *help;	/* one line for --help */
	long long lo, hi;	/* CLI_INT, CLI_COUNT; the number of words of
				 * CLI_WORDS/CLI_IFACES (hi 0: any) */
	double dlo, dhi;	/* CLI_SECONDS */
	const struct cli_word *words;	/* CLI_ENUM, ended by { NULL } */
	/* CLI_CALL: store arg into opts; on a bad value write why (what is
	 * wrong, for "tcpflags: --NAME: WHY") and return nonzero */
	int (*call)(const char *arg, void *opts, char *why, size_t size);
	unsigned int flags;	/* CLI_REQUIRED, CLI_REPEAT, CLI_HIDDEN */
	enum cli_complete complete;
};

struct cli_command {
	const char *name;	/* "attach"; a subcommand's full name: "rule add" */
	const char *summary;	/* one line for tcpflags --help */
	const char *about;	/* the lines --help prints under the usage */
	const struct cli_opt *args;	/* positional arguments, ended by {} */
	const struct cli_opt *opts;	/* options, ended by {} */
	/* what it needs (privs.h), checked after the parse, before the
	 * interfaces are looked up; NULL: priv_load, the most */
	const struct priv_need *need;
	/* or what it needs given its options (guard: show or set) */
	const struct priv_need *(*need_of)(const void *opts);
	bool raw;		/* options only before the first positional (the
				 * words of a rule start with "--" too) */
	/* it changes state: run() holds the namespace's writer lock
	 * (user/lock.h); writes_if decides from the parsed options */
	bool writes;
	bool (*writes_if)(const void *opts);
	size_t size;		/* sizeof the options struct run() takes */
	const void *defaults;	/* its value before parsing; NULL: zeros */
	/* after the parse, before the privilege check: checks that need
	 * more than one value or a file (CLI_RUN, else the exit code);
	 * NULL: none */
	int (*check)(void *opts);
	int (*run)(void *opts);	/* after a successful parse: the exit code */
	/* frees what check made, last, whatever stopped the command after it
	 * (run, the privilege check, an unknown interface) or before it (then
	 * it finds opts as defaults and options left them); NULL: nothing */
	void (*release)(void *opts);
	/* a command of subcommands has these instead of args, opts, run */
	const struct cli_command *const *subs;	/* ended by NULL */
};

/* The IFACE argument (a struct cli_iface member): any interface, or one
 * tcpflags is attached to (what completion offers); and --json (a bool). */
#define CLI_ARG_IFACE(type, member)					\
	{ .name = "interface", .kind = CLI_IFACE,			\
	  .offset = offsetof(type, member), .metavar = "IFACE" }
#define CLI_ARG_ATTACHED(type, member)					\
	{ .name = "interface", .kind = CLI_IFACE,			\
	  .offset = offsetof(type, member), .metavar = "IFACE",		\
	  .complete = CLI_COMPLETE_ATTACHED }
#define CLI_OPT_JSON(type, member)					\
	{ .name = "json", .short_name = 'j', .kind = CLI_FLAG,		\
	  .offset = offsetof(type, member), .help = "one JSON object" }

/* cli_parse: the options are parsed, go on and run the command. */
#define CLI_RUN (-1)

/*
 * argv[0] is the command's name.  Fill opts (cmd->size bytes, already
 * holding the defaults) from the command line, check the positional
 * arguments, run cmd->check, check its privilege, and look the interfaces
 * up.  CLI_RUN, or the exit code to return now: EXIT_OK after --help,
 * EXIT_USAGE after a usage error, EXIT_FAIL when it lacks a privilege.
 * Errors are one "tcpflags: ..." line.
 */
int cli_parse(const struct cli_command *cmd, int argc, char **argv,
	      void *opts);

/* Parse and run cmd (argv[0] its name), or the subcommand argv[1] names
 * if cmd has subcommands: the exit code. */
int cli_dispatch(const struct cli_command *cmd, int argc, char **argv);

/* The command of that name in a NULL-ended table, or NULL.  A
 * subcommand's name is matched on its last word ("add" in "rule add"). */
const struct cli_command *cli_find(const struct cli_command *const *table,
				   const char *name);

/* The usage lines and what --help says about cmd. */
void cli_usage(const struct cli_command *cmd, FILE *f);
void cli_help(const struct cli_command *cmd, FILE *f);

/* One line per command of the table: name, short synopsis, summary. */
void cli_table(const struct cli_command *const *table, FILE *f);

/*
 * The typed parsers behind the kinds: 0, or -EINVAL with why (e.g.
 * "0 is out of range 0.1..3600") written.  Exposed for CLI_CALL parsers
 * and the unit tests.
 */
int cli_parse_int(const char *s, long long lo, long long hi, long long *v,
		  char *why, size_t size);
int cli_parse_seconds(const char *s, double lo, double hi, double *v,
		      char *why, size_t size);
int cli_parse_enum(const char *s, const struct cli_word *words, int *v,
		   char *why, size_t size);

/* Print s as a JSON string, quoted and escaped. */
void json_string(const char *s);

#endif
