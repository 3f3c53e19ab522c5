// SPDX-License-Identifier: GPL-2.0-only
/*
 * completion.c - `tcpflags completion bash|list`: the bash completion
 * script, and the same knowledge as lines for scripts and tests, both
 * made at run time from the tables the tool parses with (the commands'
 * options, user/cli.c; the rule language, user/rules.c; the guard line,
 * user/guardstate.c), so they never name an option or a word the tool
 * does not take.  What is live (interfaces, the attached ones, rule ids)
 * the script asks for when Tab is pressed.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "completion.h"
#include "counters.h"
#include "glist.h"
#include "guardstate.h"
#include "log.h"
#include "privs.h"
#include "rules.h"

#ifndef TCPF_VERSION
#define TCPF_VERSION "dev"
#endif

/* main.c's own options, before the command (it parses them itself) */
static const struct {
	const char *name, *help;
} globals[] = {
	{ "-v", "show libbpf/libxdp messages" },
	{ "-vv", "show libbpf/libxdp messages, debug too" },
	{ "--version", "print the version" },
	{ "-h", "the commands" },
	{ "--help", "the commands" },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ walking */

/* Each command that runs (a subcommand, not its group), in order. */
static int leaves(const struct cli_command **out, int max)
{
	int n = 0;

	for (int i = 0; tcpf_commands[i]; i++) {
		const struct cli_command *c = tcpf_commands[i];

		if (!c->subs) {
			if (n < max)
				out[n] = c;
			n++;
			continue;
		}
		for (int k = 0; c->subs[k]; k++) {
			if (n < max)
				out[n] = c->subs[k];
			n++;
		}
	}
	return n;
}

/* What a value completes to, as the script's word for it: "words=a|b",
 * "iface", "attached", "file", "rule-id", "state", "state=", "rule",
 * "guard", "group" ("..." after a list: it takes the rest), "none". */
static void value_kind(const struct cli_opt *o, char *buf, size_t size)
{
	bool list = o->kind == CLI_WORDS || o->kind == CLI_IFACES;
	const char *k = "none";
	size_t n;

	switch (o->complete) {
	case CLI_COMPLETE_ATTACHED: k = "attached"; break;
	case CLI_COMPLETE_RULE_ID: k = "rule-id"; break;
	case CLI_COMPLETE_STATE: k = "state"; break;
	case CLI_COMPLETE_TIMEOUT: k = "state="; break;
	case CLI_COMPLETE_RULE: k = "rule"; break;
	case CLI_COMPLETE_GUARD: k = "guard"; break;
	case CLI_COMPLETE_GROUP: k = "group"; break;
	case CLI_COMPLETE_KIND:
		if (o->kind == CLI_IFACE || o->kind == CLI_IFACES)
			k = "iface";
		else if (o->kind == CLI_PATH)
			k = "file";
		break;
	}
	if (o->complete == CLI_COMPLETE_KIND && o->kind == CLI_ENUM) {
		/* the words --help shows (an alias is accepted, not offered) */
		n = (size_t)snprintf(buf, size, "words=");
		for (int i = 0; o->words[i].word && n < size; i++)
			if (!o->words[i].alias)
				n += (size_t)snprintf(buf + n, size - n, "%s%s",
						      buf[n - 1] == '=' ? "" : "|",
						      o->words[i].word);
		return;
	}
	snprintf(buf, size, "%s%s", k, list ? "..." : "");
}

static const char *metavar_of(const struct cli_opt *o, char *buf,
			      size_t size)
{
	size_t n = 0;

	if (o->metavar)
		return o->metavar;
	if (o->kind == CLI_FLAG)
		return "";
	if (o->kind != CLI_ENUM)
		return "VALUE";
	buf[0] = '\0';
	for (int i = 0; o->words[i].word && n < size; i++)
		if (!o->words[i].alias)
			n += (size_t)snprintf(buf + n, size - n, "%s%s",
					      n ? "|" : "", o->words[i].word);
	return buf;
}

/* ------------------------------------------------------------ the list */

/*
 * One line each, fields split by tabs:
 *   command NAME SUMMARY           (a group's subcommands: "rule add")
 *   option CMD --NAME -S|"" METAVAR|"" FLAGS HELP
 *                                   (FLAGS: hidden,required,repeat or -)
 *   arg CMD METAVAR KIND
 *   global OPTION HELP
 *   rule KIND WORD ARGS            (user/rules.h's kinds)
 *   guard setting|mode|list|op WORD ARGS
 */
static void list_commands(void)
{
	const struct cli_command *leaf[64];
	char mv[128], kind[160];
	int n = leaves(leaf, 64);

	for (int i = 0; tcpf_commands[i]; i++)
		printf("command\t%s\t%s\n", tcpf_commands[i]->name,
		       tcpf_commands[i]->summary);
	for (int i = 0; i < n && i < 64; i++) {
		const struct cli_command *c = leaf[i];

		if (strchr(c->name, ' '))
			printf("command\t%s\t%s\n", c->name, c->summary);
		for (const struct cli_opt *o = c->opts; o && o->name; o++) {
			static const struct {
				unsigned int flag;
				const char *name;
			} fl[] = { { CLI_HIDDEN, "hidden" },
				   { CLI_REQUIRED, "required" },
				   { CLI_REPEAT, "repeat" } };
			int shown = 0;

			printf("option\t%s\t--%s\t", c->name, o->name);
			if (o->short_name)
				printf("-%c", o->short_name);
			printf("\t%s\t", metavar_of(o, mv, sizeof(mv)));
			for (size_t f = 0; f < ARRAY_LEN(fl); f++)
				if (o->flags & fl[f].flag)
					printf("%s%s", shown++ ? "," : "",
					       fl[f].name);
			printf("%s\t%s\n", shown ? "" : "-",
			       o->help ? o->help : "");
		}
		for (const struct cli_opt *a = c->args; a && a->name; a++) {
			value_kind(a, kind, sizeof(kind));
			printf("arg\t%s\t%s\t%s\n", c->name,
			       metavar_of(a, mv, sizeof(mv)), kind);
		}
	}
	for (size_t i = 0; i < ARRAY_LEN(globals); i++)
		printf("global\t%s\t%s\n", globals[i].name, globals[i].help);
}

static void list_words(void)
{
	struct rule_keyword k;
	const char *w, *mv;

	for (int i = 0; rule_keyword(i, &k); i++)
		printf("rule\t%s\t%s\t%s\n", k.kind, k.word, k.args);
	for (int i = 0; (w = guard_setting(i, &mv)); i++)
		printf("guard\tsetting\t%s\t%s\n", w, mv);
	for (int m = 0; m < TCPF_GM_MAX; m++)
		printf("guard\tmode\t%s\t\n", guard_mode_names[m]);
	for (int l = 0; l < TCPF_GL_LISTS; l++)
		printf("guard\tlist\t%s\tPFX[,PFX|@SET...]\n", glist_names[l]);
	for (int op = 0; (w = glist_op_name(op)); op++)
		printf("guard\top\t%s\t\n", w);
}

/* ------------------------------------------------------------ the script */

/* w for the shell: as it is when it holds nothing special, else quoted */
static void sh_word(const char *w)
{
	if (*w && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_./=+,:@%-") == strlen(w)) {
		fputs(w, stdout);
		return;
	}
	putchar('\'');
	for (; *w; w++) {
		if (*w == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*w);
	}
	putchar('\'');
}

/* The spec of one command, a line each: "opt --LONG -S|- VALUE|-" (VALUE:
 * what it takes, - for a flag), "arg KIND", "raw" (options only before
 * its first argument). */
static void sh_spec(const struct cli_command *c)
{
	char kind[160], line[256];

	printf("\t");
	sh_word(c->name);
	printf(")\n\t\tprintf '%%s\\n'");
	for (const struct cli_opt *o = c->opts; o && o->name; o++) {
		if (o->flags & CLI_HIDDEN)
			continue;
		if (o->kind == CLI_FLAG)
			snprintf(kind, sizeof(kind), "-");
		else
			value_kind(o, kind, sizeof(kind));
		if (o->short_name)
			snprintf(line, sizeof(line), "opt --%s -%c %s", o->name,
				 o->short_name, kind);
		else
			snprintf(line, sizeof(line), "opt --%s - %s", o->name,
				 kind);
		printf(" \\\n\t\t\t");
		sh_word(line);
	}
	/* every command takes --help (user/cli.c) */
	printf(" \\\n\t\t\t'opt --help -h -'");
	for (const struct cli_opt *a = c->args; a && a->name; a++) {
		value_kind(a, kind, sizeof(kind));
		snprintf(line, sizeof(line), "arg %s", kind);
		printf(" \\\n\t\t\t");
		sh_word(line);
	}
	if (c->raw)
		printf(" \\\n\t\t\traw");
	printf(" ;;\n");
}

static void sh_data(void)
{
	const struct cli_command *leaf[64];
	struct rule_keyword k;
	const char *w;
	int n = leaves(leaf, 64);

	printf("__tcpflags_commands() {\n\techo");
	for (int i = 0; tcpf_commands[i]; i++) {
		putchar(' ');
		sh_word(tcpf_commands[i]->name);
	}
	printf("\n}\n\n__tcpflags_globals() {\n\techo");
	for (size_t i = 0; i < ARRAY_LEN(globals); i++) {
		putchar(' ');
		sh_word(globals[i].name);
	}
	printf("\n}\n\n# __tcpflags_subs COMMAND: its subcommands, if it has "
	       "any\n__tcpflags_subs() {\n\tcase $1 in\n");
	for (int i = 0; tcpf_commands[i]; i++) {
		const struct cli_command *c = tcpf_commands[i];

		if (!c->subs)
			continue;
		printf("\t");
		sh_word(c->name);
		printf(") echo");
		for (int s = 0; c->subs[s]; s++) {
			const char *sp = strrchr(c->subs[s]->name, ' ');

			putchar(' ');
			sh_word(sp ? sp + 1 : c->subs[s]->name);
		}
		printf(" ;;\n");
	}
	printf("\tesac\n}\n\n"
	       "# __tcpflags_spec COMMAND: its options (\"opt --LONG -S|- "
	       "VALUE|-\"),\n# its positional arguments (\"arg KIND\", a list "
	       "KIND...), \"raw\" when\n# its options come before its "
	       "arguments only; false for no command\n"
	       "__tcpflags_spec() {\n\tcase $1 in\n");
	for (int i = 0; i < n && i < 64; i++)
		sh_spec(leaf[i]);
	printf("\t*) return 1 ;;\n\tesac\n}\n\n");

	printf("# The rule language: \"KIND WORD NARGS VALUES\" (VALUES: the "
	       "kind of the names\n# its values are made of, or -)\n"
	       "__tcpflags_rule_words() {\n\tprintf '%%s\\n'");
	for (int i = 0; rule_keyword(i, &k); i++) {
		char line[256];

		snprintf(line, sizeof(line), "%s %s %d %s", k.kind, k.word,
			 k.nargs, *k.values ? k.values : "-");
		printf(" \\\n\t\t");
		sh_word(line);
	}
	printf("\n}\n\n# __tcpflags_guard_words mode|list|op: the words of "
	       "guard IFACE [MODE |\n# LIST OP ...]\n"
	       "__tcpflags_guard_words() {\n\tcase $1 in\n\tmode) echo");
	for (int m = 0; m < TCPF_GM_MAX; m++) {
		putchar(' ');
		sh_word(guard_mode_names[m]);
	}
	printf(" ;;\n\tlist) echo");
	for (int l = 0; l < TCPF_GL_LISTS; l++) {
		putchar(' ');
		sh_word(glist_names[l]);
	}
	printf(" ;;\n\top) echo");
	for (int op = 0; (w = glist_op_name(op)); op++) {
		putchar(' ');
		sh_word(w);
	}
	printf(" ;;\n\tesac\n}\n\n# The states --state and --timeout take\n"
	       "__tcpflags_states() {\n\techo");
	for (__u32 st = 0; st < TCPF_ST_MAX; st++)
		if (state_parse(state_name(st)) >= 0) {
			putchar(' ');
			sh_word(state_name(st));
		}
	printf("\n}\n\n");
}

/* The script's code: what it does with the data above. */
static const char script[] =
	"# COMPREPLY gets each WORD that starts with CUR:\n"
	"# __tcpflags_reply CUR WORD...\n"
	"__tcpflags_reply() {\n"
	"\tlocal cur=$1 w\n"
	"\tshift\n"
	"\tfor w in \"$@\"; do\n"
	"\t\t[[ $w == \"$cur\"* ]] && COMPREPLY+=(\"$w\")\n"
	"\tdone\n"
	"\treturn 0\n"
	"}\n"
	"\n"
	"# Every value of \"KEY\": V in JSON text (a string's, or a number's).\n"
	"__tcpflags_json() {\n"
	"\tlocal s=$2 re=\"\\\"$1\\\": \\\"?([^\\\",}]*)\"\n"
	"\twhile [[ $s =~ $re ]]; do\n"
	"\t\tprintf '%s\\n' \"${BASH_REMATCH[1]}\"\n"
	"\t\ts=${s#*\"${BASH_REMATCH[0]}\"}\n"
	"\tdone\n"
	"}\n"
	"\n"
	"# The interfaces of this network namespace: ip asks the kernel, while\n"
	"# /sys/class/net may be another namespace's (nsenter --net keeps /sys).\n"
	"__tcpflags_ifaces() {\n"
	"\tlocal l\n"
	"\tif command -v ip >/dev/null 2>&1; then\n"
	"\t\tip -o link show 2>/dev/null | while IFS= read -r l; do\n"
	"\t\t\tl=${l#*: }\n"
	"\t\t\tl=${l%%:*}\n"
	"\t\t\tprintf '%s\\n' \"${l%%@*}\"\n"
	"\t\tdone\n"
	"\telse\n"
	"\t\tls /sys/class/net 2>/dev/null\n"
	"\tfi\n"
	"}\n"
	"\n"
	"# The interfaces `tcpflags status` lists; every interface when it cannot\n"
	"# say (it needs root).\n"
	"__tcpflags_attached() {\n"
	"\tlocal out\n"
	"\tif out=$(\"$1\" status --json 2>/dev/null); then\n"
	"\t\t__tcpflags_json interface \"$out\"\n"
	"\telse\n"
	"\t\t__tcpflags_ifaces\n"
	"\tfi\n"
	"}\n"
	"\n"
	"# NAME... for a list of them: \"a,b,c\" (CUR holds the names before the\n"
	"# last comma): __tcpflags_names CUR NAME...\n"
	"__tcpflags_names() {\n"
	"\tlocal cur=$1 pre=\"\" w\n"
	"\tshift\n"
	"\tif [[ $cur == *,* ]]; then\n"
	"\t\tpre=${cur%,*},\n"
	"\tfi\n"
	"\tfor w in \"$@\"; do\n"
	"\t\t[[ $pre$w == \"$cur\"* ]] && COMPREPLY+=(\"$pre$w\")\n"
	"\tdone\n"
	"\t# src/ takes its LEN right after\n"
	"\tif [ ${#COMPREPLY[@]} -eq 1 ] && [[ ${COMPREPLY[0]} == */ ]]; then\n"
	"\t\tcompopt -o nospace 2>/dev/null\n"
	"\tfi\n"
	"\treturn 0\n"
	"}\n"
	"\n"
	"# The names of one kind of rule word (flag, phase, state, per).\n"
	"__tcpflags_kind() {\n"
	"\tlocal kind word rest\n"
	"\twhile read -r kind word rest; do\n"
	"\t\t[ \"$kind\" = \"$1\" ] && printf '%s\\n' \"$word\"\n"
	"\tdone < <(__tcpflags_rule_words)\n"
	"}\n"
	"\n"
	"# A rule's words: __tcpflags_rule CUR WORD... (the words before CUR).\n"
	"__tcpflags_rule() {\n"
	"\tlocal cur=$1 kind word nargs values w need=0\n"
	"\tlocal vals=\"\" action=\"\" tail=\"\"\n"
	"\tlocal -A nargs_of values_of kind_of\n"
	"\tshift\n"
	"\twhile read -r kind word nargs values; do\n"
	"\t\tkind_of[$word]=$kind\n"
	"\t\tnargs_of[$word]=$nargs\n"
	"\t\tvalues_of[$word]=$values\n"
	"\tdone < <(__tcpflags_rule_words)\n"
	"\tfor w in \"$@\"; do\n"
	"\t\tif [ \"$need\" -gt 0 ]; then\n"
	"\t\t\tneed=$((need - 1))\n"
	"\t\t\tcontinue\n"
	"\t\tfi\n"
	"\t\t[ -n \"$w\" ] || return 0\n"
	"\t\tcase ${kind_of[$w]-} in\n"
	"\t\tpriority | match | preset | action)\n"
	"\t\t\t[ -n \"$action\" ] && return 0\n"
	"\t\t\t[ \"${kind_of[$w]}\" = action ] && action=$w\n"
	"\t\t\tneed=${nargs_of[$w]}\n"
	"\t\t\tvals=${values_of[$w]}\n"
	"\t\t\t;;\n"
	"\t\tratelimit)\n"
	"\t\t\t[ \"$action\" = ratelimit ] || return 0\n"
	"\t\t\ttail=\"$tail $w\"\n"
	"\t\t\tneed=${nargs_of[$w]}\n"
	"\t\t\tvals=${values_of[$w]}\n"
	"\t\t\t;;\n"
	"\t\t*)\n"
	"\t\t\treturn 0 ;;\n"
	"\t\tesac\n"
	"\tdone\n"
	"\tif [ \"$need\" -gt 0 ]; then\n"
	"\t\tcase $vals in\n"
	"\t\tflag | phase | state | per)\n"
	"\t\t\t# shellcheck disable=SC2046\n"
	"\t\t\t__tcpflags_names \"$cur\" $(__tcpflags_kind \"$vals\") ;;\n"
	"\t\tesac\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\tif [ \"$action\" = ratelimit ]; then\n"
	"\t\tcase $tail in\n"
	"\t\t*per*) ;;\n"
	"\t\t*burst*) __tcpflags_reply \"$cur\" per ;;\n"
	"\t\t*) __tcpflags_reply \"$cur\" burst per ;;\n"
	"\t\tesac\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\t[ -n \"$action\" ] && return 0\n"
	"\twhile read -r kind word nargs values; do\n"
	"\t\tcase $kind in\n"
	"\t\tpriority | match | preset | action)\n"
	"\t\t\t__tcpflags_reply \"$cur\" \"$word\" ;;\n"
	"\t\tesac\n"
	"\tdone < <(__tcpflags_rule_words)\n"
	"}\n"
	"\n"
	"# A value of KIND (from the tables): __tcpflags_value KIND CUR BIN FIRST\n"
	"# [WORD...] (FIRST: the command's first positional argument, the IFACE;\n"
	"# WORDs: a list's own words before CUR).\n"
	"__tcpflags_value() {\n"
	"\tlocal kind=$1 cur=$2 bin=$3 w seen\n"
	"\tshift 3\n"
	"\tcase $kind in\n"
	"\twords=*)\n"
	"\t\tw=${kind#words=}\n"
	"\t\t# shellcheck disable=SC2086\n"
	"\t\t__tcpflags_reply \"$cur\" ${w//|/ } ;;\n"
	"\tiface)\n"
	"\t\t# shellcheck disable=SC2046\n"
	"\t\t__tcpflags_reply \"$cur\" $(__tcpflags_ifaces) ;;\n"
	"\tattached)\n"
	"\t\t# shellcheck disable=SC2046\n"
	"\t\t__tcpflags_reply \"$cur\" $(__tcpflags_attached \"$bin\") ;;\n"
	"\tattached...)\n"
	"\t\t# each interface once\n"
	"\t\tfor w in $(__tcpflags_attached \"$bin\"); do\n"
	"\t\t\tfor seen in \"$@\"; do\n"
	"\t\t\t\t[ \"$w\" = \"$seen\" ] && continue 2\n"
	"\t\t\tdone\n"
	"\t\t\t__tcpflags_reply \"$cur\" \"$w\"\n"
	"\t\tdone ;;\n"
	"\tfile)\n"
	"\t\tcompopt -o filenames 2>/dev/null\n"
	"\t\tlocal IFS=$'\\n'\n"
	"\t\t# shellcheck disable=SC2207\n"
	"\t\tCOMPREPLY+=($(compgen -f -- \"$cur\")) ;;\n"
	"\trule-id)\n"
	"\t\t# the ids of the interface before it\n"
	"\t\t# shellcheck disable=SC2046\n"
	"\t\t__tcpflags_reply \"$cur\" $(__tcpflags_json id \\\n"
	"\t\t\t\"$(\"$bin\" rule list \"$1\" --json 2>/dev/null)\") ;;\n"
	"\trule...)\n"
	"\t\t__tcpflags_rule \"$cur\" \"${@:2}\" ;;\n"
	"\tguard...)\n"
	"\t\tif [ $# -le 1 ]; then\n"
	"\t\t\t# shellcheck disable=SC2046\n"
	"\t\t\t__tcpflags_reply \"$cur\" $(__tcpflags_guard_words mode) \\\n"
	"\t\t\t\t$(__tcpflags_guard_words list)\n"
	"\t\telif [ $# -eq 2 ]; then\n"
	"\t\t\tfor w in $(__tcpflags_guard_words list); do\n"
	"\t\t\t\tif [ \"$2\" = \"$w\" ]; then\n"
	"\t\t\t\t\t# shellcheck disable=SC2046\n"
	"\t\t\t\t\t__tcpflags_reply \"$cur\" $(__tcpflags_guard_words op)\n"
	"\t\t\t\tfi\n"
	"\t\t\tdone\n"
	"\t\tfi ;;\n"
	"\tgroup)\n"
	"\t\tlocal IFS=$'\\n'\n"
	"\t\t# shellcheck disable=SC2207\n"
	"\t\tCOMPREPLY+=($(compgen -g -- \"$cur\")) ;;\n"
	"\tstate)\n"
	"\t\t# shellcheck disable=SC2046\n"
	"\t\t__tcpflags_reply \"$cur\" $(__tcpflags_states) ;;\n"
	"\tstate=)\n"
	"\t\t[[ $cur == *=* ]] && return 0\n"
	"\t\tcompopt -o nospace 2>/dev/null\n"
	"\t\tfor w in $(__tcpflags_states); do\n"
	"\t\t\t__tcpflags_reply \"$cur\" \"$w=\"\n"
	"\t\tdone ;;\n"
	"\tesac\n"
	"\treturn 0\n"
	"}\n"
	"\n"
	"# What SPEC says an option takes (\"-\": nothing), or nothing when SPEC\n"
	"# has no such option: __tcpflags_takes SPEC OPTION\n"
	"__tcpflags_takes() {\n"
	"\tlocal tag long short value\n"
	"\twhile read -r tag long short value; do\n"
	"\t\tif [ \"$tag\" = opt ] &&\n"
	"\t\t\t{ [ \"$2\" = \"$long\" ] || [ \"$2\" = \"$short\" ]; }; then\n"
	"\t\t\tprintf '%s\\n' \"$value\"\n"
	"\t\t\treturn 0\n"
	"\t\tfi\n"
	"\tdone <<<\"$1\"\n"
	"}\n"
	"\n"
	"_tcpflags() {\n"
	"\tlocal - cur=${COMP_WORDS[COMP_CWORD]} bin=${COMP_WORDS[0]} i=1\n"
	"\tlocal key subs spec w takes n tag long short value raw=0 stop=0\n"
	"\tlocal args=() kinds=()\n"
	"\tset -f\n"
	"\tCOMPREPLY=()\n"
	"\t# main's own options come before the command\n"
	"\twhile [ \"$i\" -lt \"$COMP_CWORD\" ] && [[ ${COMP_WORDS[i]} == -* ]]; do\n"
	"\t\ti=$((i + 1))\n"
	"\tdone\n"
	"\tif [ \"$i\" -eq \"$COMP_CWORD\" ]; then\n"
	"\t\tif [[ $cur == -* ]]; then\n"
	"\t\t\t# shellcheck disable=SC2046\n"
	"\t\t\t__tcpflags_reply \"$cur\" $(__tcpflags_globals)\n"
	"\t\telse\n"
	"\t\t\t# shellcheck disable=SC2046\n"
	"\t\t\t__tcpflags_reply \"$cur\" $(__tcpflags_commands)\n"
	"\t\tfi\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\tkey=${COMP_WORDS[i]}\n"
	"\ti=$((i + 1))\n"
	"\tsubs=$(__tcpflags_subs \"$key\")\n"
	"\tif [ -n \"$subs\" ]; then\n"
	"\t\tif [ \"$i\" -eq \"$COMP_CWORD\" ]; then\n"
	"\t\t\t# shellcheck disable=SC2086\n"
	"\t\t\t__tcpflags_reply \"$cur\" $subs\n"
	"\t\t\treturn 0\n"
	"\t\tfi\n"
	"\t\tkey=\"$key ${COMP_WORDS[i]}\"\n"
	"\t\ti=$((i + 1))\n"
	"\tfi\n"
	"\tspec=$(__tcpflags_spec \"$key\") || return 0\n"
	"\twhile read -r tag long short value; do\n"
	"\t\tcase $tag in\n"
	"\t\traw) raw=1 ;;\n"
	"\t\targ) kinds+=(\"$long\") ;;\n"
	"\t\tesac\n"
	"\tdone <<<\"$spec\"\n"
	"\t# the words before the cursor: options (with their values) and the\n"
	"\t# positional arguments (COMP_WORDS splits \"--mode=skb\" and \"a:b\" at\n"
	"\t# the = and the :, which join the words either side)\n"
	"\twhile [ \"$i\" -lt \"$COMP_CWORD\" ]; do\n"
	"\t\tw=${COMP_WORDS[i]}\n"
	"\t\tif [ \"$w\" = = ] || [ \"$w\" = : ]; then\n"
	"\t\t\t[ $((i + 1)) -eq \"$COMP_CWORD\" ] && return 0\n"
	"\t\t\ti=$((i + 2))\n"
	"\t\t\tcontinue\n"
	"\t\tfi\n"
	"\t\tif [ \"$stop\" -eq 0 ] && [ \"$w\" = -- ]; then\n"
	"\t\t\tstop=1\n"
	"\t\telif [ \"$stop\" -eq 0 ] && [[ $w == -?* ]] &&\n"
	"\t\t\t! { [ \"$raw\" -eq 1 ] && [ ${#args[@]} -gt 0 ]; }; then\n"
	"\t\t\ttakes=$(__tcpflags_takes \"$spec\" \"$w\")\n"
	"\t\t\tif [ -n \"$takes\" ] && [ \"$takes\" != - ]; then\n"
	"\t\t\t\tn=$((i + 1))\n"
	"\t\t\t\tif [ \"${COMP_WORDS[n]-}\" = = ]; then\n"
	"\t\t\t\t\t# --option=VALUE: the value after the =\n"
	"\t\t\t\t\t[ \"$n\" -eq \"$COMP_CWORD\" ] && cur=\"\"\n"
	"\t\t\t\t\tn=$((n + 1))\n"
	"\t\t\t\t\t[ \"$n\" -gt \"$COMP_CWORD\" ] && n=$COMP_CWORD\n"
	"\t\t\t\tfi\n"
	"\t\t\t\tif [ \"$n\" -eq \"$COMP_CWORD\" ]; then\n"
	"\t\t\t\t\t__tcpflags_value \"$takes\" \"$cur\" \"$bin\" \"${args[@]}\"\n"
	"\t\t\t\t\treturn 0\n"
	"\t\t\t\tfi\n"
	"\t\t\t\ti=$((n + 1))\n"
	"\t\t\t\tcontinue\n"
	"\t\t\tfi\n"
	"\t\telse\n"
	"\t\t\targs+=(\"$w\")\n"
	"\t\tfi\n"
	"\t\ti=$((i + 1))\n"
	"\tdone\n"
	"\tif [[ $cur == -* ]] && [ \"$stop\" -eq 0 ] &&\n"
	"\t\t! { [ \"$raw\" -eq 1 ] && [ ${#args[@]} -gt 0 ]; }; then\n"
	"\t\twhile read -r tag long short value; do\n"
	"\t\t\t[ \"$tag\" = opt ] && __tcpflags_reply \"$cur\" \"$long\"\n"
	"\t\tdone <<<\"$spec\"\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\t# the positional argument at the cursor; a list (KIND...) takes the\n"
	"\t# rest: its own words before the cursor go with the first argument\n"
	"\tn=${#args[@]}\n"
	"\t[ ${#kinds[@]} -eq 0 ] && return 0\n"
	"\tif [ \"$n\" -ge ${#kinds[@]} ]; then\n"
	"\t\t[[ ${kinds[-1]} == *... ]] || return 0\n"
	"\t\tn=$((${#kinds[@]} - 1))\n"
	"\tfi\n"
	"\tif [[ ${kinds[n]} == *... ]]; then\n"
	"\t\t__tcpflags_value \"${kinds[n]}\" \"$cur\" \"$bin\" \\\n"
	"\t\t\t\"${args[0]-}\" \"${args[@]:n}\"\n"
	"\telse\n"
	"\t\t__tcpflags_value \"${kinds[n]}\" \"$cur\" \"$bin\" \"${args[0]-}\"\n"
	"\tfi\n"
	"}\n"
	"\n"
	"complete -F _tcpflags tcpflags\n";

static void print_bash(void)
{
	printf("# bash completion for tcpflags %s, made by `tcpflags completion "
	       "bash` from\n# the tool's own tables.  Load it with\n"
	       "#   source <(tcpflags completion bash)\n"
	       "# or install it as "
	       "/usr/share/bash-completion/completions/tcpflags.\n\n",
	       TCPF_VERSION);
	sh_data();
	fputs(script, stdout);
}

/* ------------------------------------------------------------ the command */

enum { COMPLETE_BASH, COMPLETE_LIST };

static const struct cli_word what_words[] = {
	{ "bash", COMPLETE_BASH, false },
	{ "list", COMPLETE_LIST, false },
	{ NULL, 0, false },
};

struct completion_opts {
	int what;
};

/* it reads only its own tables */
static const struct priv_need need_nothing = { .pins = PINS_NONE };

static int cmd_completion(void *opts)
{
	if (((struct completion_opts *)opts)->what == COMPLETE_BASH) {
		print_bash();
	} else {
		list_commands();
		list_words();
	}
	return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
}

static const struct cli_opt completion_args[] = {
	{ .name = "shell", .kind = CLI_ENUM,
	  .offset = offsetof(struct completion_opts, what),
	  .words = what_words },
	{ 0 },
};

const struct cli_command completion_command = {
	.name = "completion", .summary = "shell completion (bash)",
	.about = "  bash: the bash completion script; source it, or install it as\n"
		 "  /usr/share/bash-completion/completions/tcpflags.  list: the\n"
		 "  commands, options and rule words it knows, a line each.\n",
	.args = completion_args, .need = &need_nothing,
	.size = sizeof(struct completion_opts), .run = cmd_completion,
};
