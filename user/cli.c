// SPDX-License-Identifier: GPL-2.0-only
/*
 * cli.c - the one parser of every command's table (see cli.h): getopt_long
 * from the options, typed values with their ranges, positional arguments,
 * root, interfaces, usage and --help, and the dispatch by name.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "lock.h"
#include "log.h"
#include "pins.h"
#include "repair.h"

#define OPTS_MAX 32		/* options of one command, --help included */
#define WIDTH 78		/* usage lines wrap before this column */
#define HELP_COL 26		/* where an option's help starts */

/* ------------------------------------------------------- typed parsers */

int cli_parse_int(const char *s, long long lo, long long hi, long long *v,
		  char *why, size_t size)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(s, &end, 10);
	if (!(*s == '-' || (*s >= '0' && *s <= '9')) || end == s || *end ||
	    (errno && errno != ERANGE)) {
		snprintf(why, size, "'%s' is not a whole number", s);
		return -EINVAL;
	}
	if (errno == ERANGE || x < lo || x > hi) {
		if (hi == LLONG_MAX || hi == LONG_MAX)
			snprintf(why, size, "%s is less than %lld", s, lo);
		else
			snprintf(why, size, "%s is out of range %lld..%lld", s,
				 lo, hi);
		return -EINVAL;
	}
	*v = x;
	return 0;
}

int cli_parse_seconds(const char *s, double lo, double hi, double *v,
		      char *why, size_t size)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(s, &end);
	/* digits and a point only: no "inf", "nan", hex or leading space */
	if (!((*s >= '0' && *s <= '9') || *s == '.' || *s == '-') ||
	    end == s || *end || strpbrk(s, "xXnN")) {
		snprintf(why, size, "'%s' is not a number of seconds", s);
		return -EINVAL;
	}
	if (errno == ERANGE || !isfinite(x) || !(x >= lo && x <= hi)) {
		snprintf(why, size, "%s is out of range %g..%g", s, lo, hi);
		return -EINVAL;
	}
	*v = x;
	return 0;
}

/* The words shown (aliases left out), joined: "native|skb", "native or
 * skb", "a, b or c". */
static void words_join(const struct cli_word *w, bool prose, char *buf,
		       size_t size)
{
	size_t len = 0;
	int n = 0, shown = 0;

	for (int i = 0; w[i].word; i++)
		n += !w[i].alias;
	buf[0] = '\0';
	for (int i = 0; w[i].word && len < size; i++) {
		if (w[i].alias)
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					!shown ? "" : !prose ? "|" :
					shown == n - 1 ? " or " : ", ",
					w[i].word);
		shown++;
	}
}

int cli_parse_enum(const char *s, const struct cli_word *words, int *v,
		   char *why, size_t size)
{
	char list[128];

	for (int i = 0; words[i].word; i++) {
		if (!strcmp(s, words[i].word)) {
			*v = words[i].value;
			return 0;
		}
	}
	words_join(words, true, list, sizeof(list));
	snprintf(why, size, "unknown value '%s' (%s)", s, list);
	return -EINVAL;
}

/* ------------------------------------------------------- storing values */

static void *at(void *opts, const struct cli_opt *o)
{
	return (char *)opts + o->offset;
}

static int store_number(const struct cli_opt *o, const char *arg,
			void *opts, char *why, size_t size)
{
	long long v;
	double d;

	if (o->kind == CLI_SECONDS) {
		if (cli_parse_seconds(arg, o->dlo, o->dhi, &d, why, size))
			return -EINVAL;
		*(double *)at(opts, o) = d;
		return 0;
	}
	if (cli_parse_int(arg, o->lo, o->hi, &v, why, size))
		return -EINVAL;
	if (o->kind == CLI_COUNT)
		*(unsigned int *)at(opts, o) = (unsigned int)v;
	else
		*(long *)at(opts, o) = (long)v;
	return 0;
}

/* One value into opts: 0, or -EINVAL with why written. */
static int store(const struct cli_opt *o, const char *arg, void *opts,
		 char *why, size_t size)
{
	switch (o->kind) {
	case CLI_FLAG:
		*(bool *)at(opts, o) = true;
		return 0;
	case CLI_INT:
	case CLI_COUNT:
	case CLI_SECONDS:
		return store_number(o, arg, opts, why, size);
	case CLI_ENUM:
		return cli_parse_enum(arg, o->words, (int *)at(opts, o), why,
				      size);
	case CLI_IFACE:
		((struct cli_iface *)at(opts, o))->name = arg;
		return 0;
	case CLI_STRING:
	case CLI_PATH:
		*(const char **)at(opts, o) = arg;
		return 0;
	case CLI_CALL:
		return o->call(arg, opts, why, size) ? -EINVAL : 0;
	default:
		snprintf(why, size, "no parser for this kind");
		return -EINVAL;
	}
}

/* ------------------------------------------------------------- usage */

static int nopts(const struct cli_opt *o)
{
	int n = 0;

	while (o && o[n].name)
		n++;
	return n;
}

static const char *metavar(const struct cli_opt *o, char *buf, size_t size)
{
	if (o->metavar)
		return o->metavar;
	if (o->kind == CLI_ENUM) {
		words_join(o->words, false, buf, size);
		return buf;
	}
	return o->kind == CLI_FLAG ? NULL : "VALUE";
}

/* "--mode native|skb" (or "-m, --mode native|skb" with the short name). */
static void option_text(const struct cli_opt *o, bool with_short, char *buf,
			size_t size)
{
	char words[128];
	const char *m = metavar(o, words, sizeof(words));
	int len = 0;

	if (with_short)
		len = snprintf(buf, size, o->short_name ? "-%c, " : "    ",
			       o->short_name);
	snprintf(buf + len, size - (size_t)len, "--%s%s%s", o->name,
		 m ? " " : "", m ? m : "");
}

/* The synopsis of an option: "--listen ADDR:PORT", "[--json]". */
static void option_token(const struct cli_opt *o, char *buf, size_t size)
{
	char text[160];

	option_text(o, false, text, sizeof(text));
	snprintf(buf, size, o->flags & CLI_REQUIRED ? "%s%s" : "[%s]%s", text,
		 o->flags & CLI_REPEAT ? "..." : "");
}

/* Synopsis token i of cmd (the required options, the positionals, the
 * other options but hidden ones): false past the last. */
static bool token(const struct cli_command *cmd, int i, char *buf,
		  size_t size)
{
	int na = nopts(cmd->args), n = nopts(cmd->opts), seen = 0;
	char text[160];

	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1) {
			if (i < seen + na) {
				snprintf(buf, size, "%s",
					 metavar(&cmd->args[i - seen], text,
						 sizeof(text)));
				return true;
			}
			seen += na;
			continue;
		}
		for (int k = 0; k < n; k++) {
			const struct cli_opt *o = &cmd->opts[k];

			if (o->flags & CLI_HIDDEN ||
			    !(o->flags & CLI_REQUIRED) != (pass == 2))
				continue;
			if (seen++ == i) {
				option_token(o, buf, size);
				return true;
			}
		}
	}
	return false;
}

/* "PREFIX tcpflags NAME TOKEN...", wrapped under the first token. */
static void synopsis(const struct cli_command *cmd, const char *prefix,
		     FILE *f)
{
	char tok[192];
	int indent = fprintf(f, "%stcpflags %s", prefix, cmd->name);
	int col = indent;

	for (int i = 0; token(cmd, i, tok, sizeof(tok)); i++) {
		if (col > indent && col + 1 + (int)strlen(tok) > WIDTH)
			col = fprintf(f, "\n%*s", indent, "") - 1;
		col += fprintf(f, " %s", tok);
	}
	fputc('\n', f);
}

void cli_usage(const struct cli_command *cmd, FILE *f)
{
	if (!cmd->subs) {
		synopsis(cmd, "usage: ", f);
		return;
	}
	for (int i = 0; cmd->subs[i]; i++)
		synopsis(cmd->subs[i], i ? "       " : "usage: ", f);
}

void cli_help(const struct cli_command *cmd, FILE *f)
{
	char text[192];
	int n = nopts(cmd->opts);

	cli_usage(cmd, f);
	if (cmd->about)
		fprintf(f, "\n%s", cmd->about);
	fputc('\n', f);
	for (int i = 0; i < n; i++) {
		const struct cli_opt *o = &cmd->opts[i];

		if (o->flags & CLI_HIDDEN)
			continue;
		option_text(o, true, text, sizeof(text));
		if (strlen(text) + 2 >= HELP_COL)
			fprintf(f, "  %s\n%*s%s\n", text, HELP_COL, "",
				o->help ? o->help : "");
		else
			fprintf(f, "  %-*s%s\n", HELP_COL - 2, text,
				o->help ? o->help : "");
	}
	fprintf(f, "  -h, --help              this text\n");
}

static const char *last_word(const char *name)
{
	const char *sp = strrchr(name, ' ');

	return sp ? sp + 1 : name;
}

/* The synopsis after the name, as many tokens as fit in width. */
static void short_synopsis(const struct cli_command *cmd, char *buf,
			   size_t size, size_t width)
{
	char tok[192];
	size_t len = 0;

	buf[0] = '\0';
	if (cmd->subs) {
		for (int i = 0; cmd->subs[i]; i++)
			len += (size_t)snprintf(buf + len, size - len, "%s%s",
						i ? "|" : "",
						last_word(cmd->subs[i]->name));
		snprintf(buf + len, size - len, " ...");
		return;
	}
	for (int i = 0; token(cmd, i, tok, sizeof(tok)); i++) {
		char next[192];
		size_t room = token(cmd, i + 1, next, sizeof(next)) ? 6 : 0;

		if (len + !!len + strlen(tok) + room > width) {
			snprintf(buf + len, size - len, "%s[...]",
				 len ? " " : "");
			return;
		}
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					len ? " " : "", tok);
	}
}

void cli_table(const struct cli_command *const *table, FILE *f)
{
	char syn[128];
	int name = 8;	/* the names' column; the synopsis gives up the rest */

	for (int i = 0; table[i]; i++)
		if ((int)strlen(table[i]->name) > name)
			name = (int)strlen(table[i]->name);
	for (int i = 0; table[i]; i++) {
		short_synopsis(table[i], syn, sizeof(syn), (size_t)(42 - name));
		fprintf(f, "  %-*s %-*s %s\n", name, table[i]->name, 42 - name,
			syn, table[i]->summary);
	}
}

static int usage_error(const struct cli_command *cmd)
{
	cli_usage(cmd, stderr);
	return EXIT_USAGE;
}

/* ------------------------------------------------------------ parsing */

/* getopt_long's table and optstring from cmd's options; val is the short
 * name, or 256 + the option's index for a long-only one. */
static void getopt_tables(const struct cli_command *cmd, struct option *lo,
			  char *shorts)
{
	int n = nopts(cmd->opts), k = 0;

	shorts[k++] = cmd->raw ? '+' : ':';
	if (cmd->raw)
		shorts[k++] = ':';
	for (int i = 0; i < n; i++) {
		const struct cli_opt *o = &cmd->opts[i];

		lo[i] = (struct option){
			.name = o->name,
			.has_arg = o->kind == CLI_FLAG ? no_argument
						       : required_argument,
			.val = o->short_name ? o->short_name : 256 + i,
		};
		if (o->short_name) {
			shorts[k++] = o->short_name;
			if (o->kind != CLI_FLAG)
				shorts[k++] = ':';
		}
	}
	lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n + 1] = (struct option){ 0 };
	shorts[k++] = 'h';
	shorts[k] = '\0';
}

static const struct cli_opt *option_of(const struct cli_command *cmd, int val)
{
	int n = nopts(cmd->opts);

	if (val >= 256 && val - 256 < n)
		return &cmd->opts[val - 256];
	for (int i = 0; i < n; i++)
		if (cmd->opts[i].short_name == val)
			return &cmd->opts[i];
	return NULL;
}

/* getopt's '?' or ':': one line, the usage. */
static int getopt_error(const struct cli_command *cmd, int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		pr_warn("%s: option '%s' needs a value", cmd->name, arg);
	else if (optopt)
		pr_warn("%s: unknown option '-%c'", cmd->name, optopt);
	else
		pr_warn("%s: unknown option '%s'", cmd->name, arg);
	return usage_error(cmd);
}

/* The options: CLI_RUN, or the exit code (--help, a usage error). */
static int parse_options(const struct cli_command *cmd, int argc,
			 char **argv, void *opts)
{
	struct option lo[OPTS_MAX + 2];
	char shorts[2 * OPTS_MAX + 4], why[256];
	const struct cli_opt *o;
	int opt;

	if (nopts(cmd->opts) > OPTS_MAX) {
		pr_warn("%s: too many options in its table", cmd->name);
		return EXIT_FAIL;
	}
	getopt_tables(cmd, lo, shorts);
	optind = 0;	/* a fresh scan: another optstring than the last */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (opt == 'h') {
			cli_help(cmd, stdout);
			return EXIT_OK;
		}
		o = opt == '?' || opt == ':' ? NULL : option_of(cmd, opt);
		if (!o)
			return getopt_error(cmd, opt, argv);
		/* a bad value is one line: the usage would not help */
		if (store(o, optarg, opts, why, sizeof(why))) {
			pr_warn("--%s: %s", o->name, why);
			return EXIT_USAGE;
		}
	}
	for (int i = 0; i < nopts(cmd->opts); i++) {
		o = &cmd->opts[i];
		if (!(o->flags & CLI_REQUIRED) || o->kind == CLI_FLAG)
			continue;
		/* a required option has no default: still zero is missing */
		if (!*(const void **)at(opts, o)) {
			pr_warn("%s: missing --%s %s", cmd->name, o->name,
				o->metavar ? o->metavar : "");
			return usage_error(cmd);
		}
	}
	return CLI_RUN;
}

/* The words after the options into the positional arguments. */
static int parse_args(const struct cli_command *cmd, int argc, char **argv,
		      void *opts)
{
	int na = nopts(cmd->args), have = argc - optind, fixed = na;
	const struct cli_opt *last = na ? &cmd->args[na - 1] : NULL;
	bool list = na && (cmd->args[na - 1].kind == CLI_WORDS ||
			   cmd->args[na - 1].kind == CLI_IFACES);
	char why[256];

	fixed -= list;
	for (int i = 0; i < fixed; i++) {
		const struct cli_opt *a = &cmd->args[i];

		if (i >= have) {
			pr_warn("%s: missing %s", cmd->name, a->name);
			return usage_error(cmd);
		}
		if (store(a, argv[optind + i], opts, why, sizeof(why))) {
			pr_warn("%s: invalid %s: %s", cmd->name, a->name, why);
			return EXIT_USAGE;
		}
	}
	if (!list && have > fixed) {
		pr_warn("%s: unexpected argument '%s'", cmd->name,
			argv[optind + fixed]);
		return usage_error(cmd);
	}
	if (list) {
		struct cli_list *l = at(opts, last);

		l->v = argv + optind + fixed;
		l->n = have - fixed;
		if (l->n < last->lo || (last->hi && l->n > last->hi)) {
			if (l->n < last->lo)
				pr_warn("%s: missing %s", cmd->name,
					last->name);
			else
				pr_warn("%s: at most %lld %s", cmd->name,
					last->hi, last->name);
			return usage_error(cmd);
		}
	}
	return CLI_RUN;
}

/* Every interface named, in order: the options', then the arguments'. */
static int lookup_ifaces(const struct cli_opt *o, void *opts)
{
	for (; o && o->name; o++) {
		if (o->kind == CLI_IFACE) {
			struct cli_iface *f = at(opts, o);

			if (f->name && iface_lookup(f->name, &f->ifindex))
				return EXIT_USAGE;
		} else if (o->kind == CLI_IFACES) {
			struct cli_list *l = at(opts, o);
			unsigned int ifindex;

			for (int i = 0; i < l->n; i++)
				if (iface_lookup(l->v[i], &ifindex))
					return EXIT_USAGE;
		}
	}
	return CLI_RUN;
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv,
	      void *opts)
{
	int ret = parse_options(cmd, argc, argv, opts);

	if (ret == CLI_RUN)
		ret = parse_args(cmd, argc, argv, opts);
	if (ret == CLI_RUN && cmd->check)
		ret = cmd->check(opts);
	if (ret != CLI_RUN)
		return ret;
	if (priv_check(cmd->name, cmd->need_of ? cmd->need_of(opts) :
			       cmd->need ? cmd->need : &priv_load))
		return EXIT_FAIL;
	ret = lookup_ifaces(cmd->opts, opts);
	return ret == CLI_RUN ? lookup_ifaces(cmd->args, opts) : ret;
}

/* ----------------------------------------------------------- dispatch */

const struct cli_command *cli_find(const struct cli_command *const *table,
				   const char *name)
{
	for (int i = 0; table[i]; i++)
		if (!strcmp(last_word(table[i]->name), name))
			return table[i];
	return NULL;
}

static int dispatch_sub(const struct cli_command *cmd, int argc, char **argv)
{
	const struct cli_command *sub;

	if (argc < 2) {
		pr_warn("%s: missing subcommand", cmd->name);
		return usage_error(cmd);
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		cli_help(cmd, stdout);
		return EXIT_OK;
	}
	sub = cli_find(cmd->subs, argv[1]);
	if (!sub) {
		pr_warn("%s: unknown subcommand '%s'", cmd->name, argv[1]);
		return usage_error(cmd);
	}
	return cli_dispatch(sub, argc - 1, argv + 1);
}

/* A writer runs with the namespace's lock, its command line recorded;
 * what a killed one left is repaired first. */
static int run_locked(const struct cli_command *cmd, int argc, char **argv,
		      void *opts)
{
	char what[256], prev[256];
	struct state_lock l;
	size_t n = (size_t)snprintf(what, sizeof(what), "tcpflags %s",
				    cmd->name);
	int ret;

	for (int i = 1; i < argc && n < sizeof(what); i++)
		n += (size_t)snprintf(what + n, sizeof(what) - n, " %s",
				      argv[i]);
	ret = state_lock(NULL, what, &l, prev, sizeof(prev));
	if (ret) {
		pr_warn("%s: cannot take the lock of this namespace's state "
			"in %s: %s", cmd->name, TCPF_RUN_ROOT, strerror(-ret));
		return EXIT_FAIL;
	}
	if (prev[0])
		repair_after_kill(prev);
	ret = cmd->run(opts);
	state_unlock(&l);
	return ret;
}

int cli_dispatch(const struct cli_command *cmd, int argc, char **argv)
{
	void *opts;
	int ret;

	if (cmd->subs)
		return dispatch_sub(cmd, argc, argv);
	opts = calloc(1, cmd->size ? cmd->size : 1);
	if (!opts) {
		pr_warn("%s: out of memory", cmd->name);
		return EXIT_FAIL;
	}
	if (cmd->defaults)
		memcpy(opts, cmd->defaults, cmd->size);
	ret = cli_parse(cmd, argc, argv, opts);
	if (ret == CLI_RUN && (cmd->writes ||
			       (cmd->writes_if && cmd->writes_if(opts))))
		ret = run_locked(cmd, argc, argv, opts);
	else if (ret == CLI_RUN)
		ret = cmd->run(opts);
	if (cmd->release)
		cmd->release(opts);
	free(opts);
	return ret;
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
