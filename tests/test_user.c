// SPDX-License-Identifier: GPL-2.0-only
/* test_user.c - userspace unit tests: flag names, validity, counter names,
 * the command-line parser (user/cli.c), the map registry against the BPF
 * object and the README. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tcpflags.h"
#include "cli.h"
#include "counters.h"
#include "log.h"
#include "maps.h"
#include "glist.h"
#include "guardstate.h"
#include "lines.h"
#include "privs.h"
#include "rules.h"
#include "check.h"
#include "tcpflags.skel.h"

/* The registry names every map the object pins, each as the object
 * defines it; and the check sees a map drift or go unregistered. */
static void registry_matches_object(void)
{
	struct tcpflags_bpf *skel = tcpflags_bpf__open();
	char why[128] = "";
	int err;

	if (!skel) {
		check_report(0, "maps_object", "cannot open the skeleton");
		return;
	}
	err = maps_check_obj(skel->obj, why, sizeof(why));
	check_report(!err, "maps_object", "%s", why);
	bpf_map__set_value_size(skel->maps.tcpf_drops, 8);
	err = maps_check_obj(skel->obj, why, sizeof(why));
	check_report(err == -EPROTO && !strcmp(why, "map tcpf_drops differs "
		     "from its row"), "maps_object_drift", "%d %s", err, why);
	tcpflags_bpf__destroy(skel);

	skel = tcpflags_bpf__open();
	if (!skel)
		return;
	/* a registered map the object does not pin */
	bpf_map__set_pin_path(skel->maps.tcpf_conns, NULL);
	err = maps_check_obj(skel->obj, why, sizeof(why));
	check_report(err == -EPROTO && !strcmp(why, "map tcpf_conns is not "
		     "pinned"), "maps_object_unpinned", "%d %s", err, why);
	tcpflags_bpf__destroy(skel);
}

/* A README pin row, "| `tcpf_x` | interface | zeroed | ... |" (name at
 * most 31 characters): its map's id if its place and reset agree with
 * the registry, else -1. */
static int readme_row(const char *line, char *name)
{
	char where[32], reset[32];

	if (sscanf(line, "| `%31[a-z_]` | %31[a-z] | %31[a-z] |", name, where,
		   reset) != 3)
		return -2;
	for (int id = 0; id < TCPF_NMAPS; id++) {
		const struct map_def *d = &map_defs[id];

		if (strcmp(d->name, name))
			continue;
		return !strcmp(where, d->scope == MAP_NS ? "namespace"
							  : "interface") &&
		       !strcmp(reset, d->reset ? "zeroed" : "kept") ? id : -1;
	}
	return -1;
}

/* The README's pin table lists every registered map once, as it is. */
static void registry_matches_readme(void)
{
	char line[512], name[32], path[4200];
	FILE *f = tree_path("README.md", path, sizeof(path)) ? NULL
							 : fopen(path, "r");
	int seen[TCPF_NMAPS] = {}, rows = 0, bad = 0;

	if (!f) {
		check_report(0, "maps_readme", "cannot open README.md");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *row = line + strspn(line, " ");
		int id;

		if (strncmp(row, "| `tcpf_", 8))
			continue;
		rows++;
		id = readme_row(row, name);
		if (id < 0) {
			check_report(0, "maps_readme_row", "README row of %s "
				     "disagrees with the registry", name);
			bad++;
		} else {
			seen[id]++;
		}
	}
	fclose(f);
	for (int id = 0; id < TCPF_NMAPS; id++)
		if (seen[id] != 1) {
			check_report(0, "maps_readme_rows", "%s is in the "
				     "README's pin table %d times",
				     map_defs[id].name, seen[id]);
			bad++;
		}
	check_report(!bad && rows == TCPF_NMAPS, "maps_readme",
		     "%d rows, %d registered, %d wrong", rows, TCPF_NMAPS, bad);
}

static void name_is(__u8 flags, const char *want)
{
	char buf[40], name[64];

	flags_name(flags, buf, sizeof(buf));
	snprintf(name, sizeof(name), "flags_name_0x%02x", flags);
	check_report(!strcmp(buf, want), name, "got '%s', want '%s'", buf,
		     want);
}

static void valid_is(__u8 flags, int want, const char *what)
{
	char name[64];

	snprintf(name, sizeof(name), "valid_%s", what);
	check_report(tcpf_flags_valid(flags) == want, name,
		     "0x%02x valid=%d, want %d", flags,
		     tcpf_flags_valid(flags), want);
}

/* ------------------------------------------------------ the cli parser */

static void int_is(const char *s, long long lo, long long hi, int want_ret,
		   long long want, const char *want_why)
{
	char why[128] = "", name[80];
	long long v = -12345;
	int ret = cli_parse_int(s, lo, hi, &v, why, sizeof(why));

	snprintf(name, sizeof(name), "cli_int_'%s'_%lld..%lld", s, lo, hi);
	check_report(ret == want_ret && (ret ? !strcmp(why, want_why)
					     : v == want), name,
		     "ret %d v %lld why '%s', want %d %lld '%s'", ret, v, why,
		     want_ret, want, want_why);
}

static void seconds_is(const char *s, int want_ret, double want,
		       const char *want_why)
{
	char why[128] = "", name[80];
	double v = -1;
	int ret = cli_parse_seconds(s, 0.1, 3600, &v, why, sizeof(why));

	snprintf(name, sizeof(name), "cli_seconds_'%s'", s);
	check_report(ret == want_ret && (ret ? !strcmp(why, want_why)
					     : v == want), name,
		     "ret %d v %g why '%s', want %d %g '%s'", ret, v, why,
		     want_ret, want, want_why);
}

static const struct cli_word test_modes[] = {
	{ "native", 1, false }, { "drv", 1, true }, { "skb", 2, false },
	{ NULL, 0, false },
};

static void enum_is(const char *s, int want_ret, int want,
		    const char *want_why)
{
	char why[128] = "", name[80];
	int v = -1, ret = cli_parse_enum(s, test_modes, &v, why, sizeof(why));

	snprintf(name, sizeof(name), "cli_enum_'%s'", s);
	check_report(ret == want_ret && (ret ? !strcmp(why, want_why)
					     : v == want), name,
		     "ret %d v %d why '%s', want %d %d '%s'", ret, v, why,
		     want_ret, want, want_why);
}

struct topts {
	struct cli_iface iface;
	bool json;
	long n;
	unsigned int count;
	double secs;
	int mode;
	const char *file;
	int tags;
	struct cli_list rest;
};

static int count_tag(const char *arg, void *opts, char *why, size_t size)
{
	if (!strcmp(arg, "bad")) {
		snprintf(why, size, "'%s' is a bad tag", arg);
		return -1;
	}
	((struct topts *)opts)->tags++;
	return 0;
}

#define T(m) offsetof(struct topts, m)
static const struct cli_opt t_args[] = {
	{ .name = "interface", .kind = CLI_IFACE, .offset = T(iface),
	  .metavar = "IFACE" },
	{ 0 },
};
static const struct cli_opt t_opts[] = {
	{ .name = "json", .short_name = 'j', .kind = CLI_FLAG,
	  .offset = T(json), .help = "JSON" },
	{ .name = "n", .kind = CLI_INT, .offset = T(n), .metavar = "N",
	  .lo = -5, .hi = 5 },
	{ .name = "count", .short_name = 'c', .kind = CLI_COUNT,
	  .offset = T(count), .metavar = "N", .lo = 64, .hi = 1 << 24 },
	{ .name = "interval", .kind = CLI_SECONDS, .offset = T(secs),
	  .metavar = "SECONDS", .dlo = 0.1, .dhi = 3600 },
	{ .name = "mode", .kind = CLI_ENUM, .offset = T(mode),
	  .words = test_modes },
	{ .name = "file", .kind = CLI_PATH, .offset = T(file),
	  .metavar = "FILE", .flags = CLI_REQUIRED },
	{ .name = "tag", .kind = CLI_CALL, .call = count_tag,
	  .metavar = "TAG", .flags = CLI_REPEAT },
	{ .name = "secret", .kind = CLI_FLAG, .offset = T(json),
	  .flags = CLI_HIDDEN },
	{ 0 },
};
static const struct cli_command t_cmd = {
	.name = "t", .args = t_args, .opts = t_opts, .size = sizeof(struct topts),
};

/* Run f with stdout and stderr into files; their first lines into out
 * and err. */
static int captured(int (*f)(void *), void *arg, char *out, char *err,
		    size_t size)
{
	FILE *fo = tmpfile(), *fe = tmpfile();
	int so = dup(1), se = dup(2), ret;

	fflush(stdout);
	fflush(stderr);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	ret = f(arg);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	out[0] = err[0] = '\0';
	rewind(fo);
	rewind(fe);
	if (!fgets(out, (int)size, fo))
		out[0] = '\0';
	if (!fgets(err, (int)size, fe))
		err[0] = '\0';
	out[strcspn(out, "\n")] = err[strcspn(err, "\n")] = '\0';
	fclose(fo);
	fclose(fe);
	return ret;
}

struct parse_call {
	const struct cli_command *cmd;
	char **argv;
	int argc;
	struct topts o;
};

static int do_parse(void *arg)
{
	struct parse_call *c = arg;

	return cli_parse(c->cmd, c->argc, c->argv, &c->o);
}

/* cli_parse of t_cmd on the words of line; its result and first error.
 * The words live on till the next call: o's strings point into them (on
 * the stack, they were gone when the caller read o). */
static int parse_line(const char *line, struct topts *o, char *out,
		      char *err)
{
	static char buf[512], *words[32];
	char *save = NULL;
	struct parse_call c = { .cmd = &t_cmd, .argv = words };
	int ret;

	snprintf(buf, sizeof(buf), "t %s", line);
	for (char *w = strtok_r(buf, " ", &save); w && c.argc < 31;
	     w = strtok_r(NULL, " ", &save))
		words[c.argc++] = !strcmp(w, "''") ? "" : w;
	words[c.argc] = NULL;
	ret = captured(do_parse, &c, out, err, 256);
	*o = c.o;
	return ret;
}

static void parse_fails(const char *line, int want_ret, const char *want)
{
	char out[256], err[256], name[128];
	struct topts o;
	int ret = parse_line(line, &o, out, err);

	snprintf(name, sizeof(name), "cli_parse_error '%s'", line);
	check_report(ret == want_ret && !strcmp(err, want), name,
		     "ret %d err '%s', want %d '%s'", ret, err, want_ret, want);
}

static void cli_parse_checks(void)
{
	char out[256], err[256];
	struct topts o;
	int ret;

	ret = parse_line("lo --file F -j --n -5 -c 64 --interval 0.25 "
			 "--mode drv --tag a --tag b", &o, out, err);
	check_report(ret == CLI_RUN && o.json && o.n == -5 && o.count == 64 &&
		     o.secs == 0.25 && o.mode == 1 && !strcmp(o.file, "F") &&
		     o.tags == 2 && !strcmp(o.iface.name, "lo") &&
		     o.iface.ifindex == 1 && !err[0], "cli_parse_all_kinds",
		     "ret %d json %d n %ld count %u secs %g mode %d tags %d "
		     "ifindex %u err '%s'", ret, o.json, o.n, o.count, o.secs,
		     o.mode, o.tags, o.iface.ifindex, err);
	ret = parse_line("--file=G lo", &o, out, err);
	check_report(ret == CLI_RUN && !o.json && o.n == 0 && o.tags == 0 &&
		     !strcmp(o.file, "G"), "cli_parse_defaults_and_order",
		     "ret %d json %d n %ld tags %d", ret, o.json, o.n, o.tags);
	parse_fails("lo --file F --interval 0", 2,
		    "tcpflags: --interval: 0 is out of range 0.1..3600");
	parse_fails("lo --file F --interval 3600.5", 2,
		    "tcpflags: --interval: 3600.5 is out of range 0.1..3600");
	parse_fails("lo --file F --interval inf", 2,
		    "tcpflags: --interval: 'inf' is not a number of seconds");
	parse_fails("lo --file F --n 6", 2,
		    "tcpflags: --n: 6 is out of range -5..5");
	parse_fails("lo --file F -c 63", 2,
		    "tcpflags: --count: 63 is out of range 64..16777216");
	parse_fails("lo --file F -c 1k", 2,
		    "tcpflags: --count: '1k' is not a whole number");
	parse_fails("lo --file F --mode turbo", 2,
		    "tcpflags: --mode: unknown value 'turbo' (native or skb)");
	parse_fails("lo --file F --tag bad", 2,
		    "tcpflags: --tag: 'bad' is a bad tag");
	parse_fails("lo --file F --interval", 2,
		    "tcpflags: t: option '--interval' needs a value");
	parse_fails("lo --file F --bogus", 2,
		    "tcpflags: t: unknown option '--bogus'");
	parse_fails("lo --file F -x", 2, "tcpflags: t: unknown option '-x'");
	parse_fails("--file F", 2, "tcpflags: t: missing interface");
	parse_fails("lo extra --file F", 2,
		    "tcpflags: t: unexpected argument 'extra'");
	parse_fails("lo", 2, "tcpflags: t: missing --file FILE");
	parse_fails("nosuch0 --file F", 2,
		    "tcpflags: cannot find interface nosuch0: no such interface");
	ret = parse_line("--help", &o, out, err);
	check_report(ret == EXIT_OK && !strcmp(out, "usage: tcpflags t "
		     "--file FILE IFACE [--json] [--n N] [--count N]") &&
		     !err[0], "cli_help_usage_line", "ret %d out '%s'", ret,
		     out);
}

struct sopts {
	struct cli_iface iface;
	long id;
	struct cli_list words;
};

static int sub_ran;
static struct sopts sub_seen;

static int sub_run(void *opts)
{
	sub_ran++;
	sub_seen = *(struct sopts *)opts;
	return 7;
}

static const struct cli_opt sub_args[] = {
	{ .name = "interface", .kind = CLI_STRING,
	  .offset = offsetof(struct sopts, iface), .metavar = "IFACE" },
	{ .name = "rule id", .kind = CLI_INT, .offset = offsetof(struct sopts, id),
	  .metavar = "ID", .lo = 1, .hi = 256 },
	{ 0 },
};
static const struct cli_opt raw_args[] = {
	{ .name = "interface", .kind = CLI_STRING,
	  .offset = offsetof(struct sopts, iface), .metavar = "IFACE" },
	{ .name = "rule", .kind = CLI_WORDS,
	  .offset = offsetof(struct sopts, words), .metavar = "RULE...",
	  .lo = 1 },
	{ 0 },
};
static const struct cli_command sub_del = {
	.name = "g del", .args = sub_args, .size = sizeof(struct sopts),
	.run = sub_run,
};
static const struct cli_command sub_add = {
	.name = "g add", .args = raw_args, .raw = true,
	.size = sizeof(struct sopts), .run = sub_run,
};
static const struct cli_command *const g_subs[] = { &sub_add, &sub_del, NULL };

/* A command whose check makes something: release frees it once, however
 * the command ends (the exporter's address, guard's prefixes, attach's
 * rules once leaked when an unknown interface stopped the command). */
struct mopts {
	struct cli_iface iface;
	char *made;
};
static int m_made, m_released, m_ran;

static int m_check(void *opts)
{
	((struct mopts *)opts)->made = malloc(16);
	m_made++;
	return CLI_RUN;
}

static int m_run(void *opts)
{
	(void)opts;
	m_ran++;
	return 0;
}

static void m_release(void *opts)
{
	struct mopts *o = opts;

	m_released += o->made != NULL;
	free(o->made);
}

static const struct cli_opt m_args[] = {
	CLI_ARG_IFACE(struct mopts, iface),
	{ 0 },
};
static const struct priv_need m_need = { 0, PINS_NONE };
static const struct cli_command m_cmd = {
	.name = "m", .args = m_args, .size = sizeof(struct mopts),
	.need = &m_need, .check = m_check, .run = m_run,
	.release = m_release,
};
static const struct cli_command g_cmd = { .name = "g", .subs = g_subs };

struct dispatch_call {
	char *argv[8];
	int argc;
};

static int do_dispatch(void *arg)
{
	struct dispatch_call *c = arg;

	return cli_dispatch(&g_cmd, c->argc, c->argv);
}

static void dispatch_is(struct dispatch_call c, int want_ret,
			const char *want_err, const char *name)
{
	/* static: what the command kept (sub_seen) points into its argv
	 * until the next call (c, on the stack, was gone when it was read) */
	static struct dispatch_call run;
	char out[256], err[256];
	int ret;

	run = c;
	for (run.argc = 0; run.argv[run.argc]; run.argc++)
		;
	ret = captured(do_dispatch, &run, out, err, 256);
	check_report(ret == want_ret && !strcmp(err, want_err), name,
		     "ret %d err '%s', want %d '%s'", ret, err, want_ret,
		     want_err);
}

static int do_m(void *arg)
{
	return cli_dispatch(&m_cmd, 2, arg);
}

static void cli_release_checks(void)
{
	char *ok[] = { "m", "lo", NULL }, *bad[] = { "m", "nosuch0", NULL };
	char out[256], err[256];
	int ret;

	ret = captured(do_m, ok, out, err, 256);
	check_report(ret == 0 && m_made == 1 && m_ran == 1 && m_released == 1,
		     "cli_release_after_run", "ret %d made %d ran %d released %d",
		     ret, m_made, m_ran, m_released);
	ret = captured(do_m, bad, out, err, 256);
	check_report(ret == EXIT_USAGE && m_made == 2 && m_ran == 1 &&
		     m_released == 2, "cli_release_after_unknown_iface",
		     "ret %d made %d ran %d released %d", ret, m_made, m_ran,
		     m_released);
}

static void cli_dispatch_checks(void)
{
	sub_ran = 0;
	dispatch_is((struct dispatch_call){ .argv = { "g", "del", "eth0", "3" } }, 7,
		    "", "cli_dispatch_sub_runs");
	check_report(sub_ran == 1 && sub_seen.id == 3 &&
		     !strcmp(sub_seen.iface.name, "eth0"),
		     "cli_dispatch_sub_options", "ran %d id %ld", sub_ran,
		     sub_seen.id);
	dispatch_is((struct dispatch_call){ .argv = { "g", "add", "eth0", "--syn",
					      "drop" } }, 7, "",
		    "cli_dispatch_raw_words");
	check_report(sub_seen.words.n == 2 &&
		     !strcmp(sub_seen.words.v[0], "--syn") &&
		     !strcmp(sub_seen.words.v[1], "drop"),
		     "cli_raw_words_kept", "%d words", sub_seen.words.n);
	dispatch_is((struct dispatch_call){ .argv = { "g" } }, 2,
		    "tcpflags: g: missing subcommand", "cli_dispatch_missing");
	dispatch_is((struct dispatch_call){ .argv = { "g", "mod", "eth0" } }, 2,
		    "tcpflags: g: unknown subcommand 'mod'",
		    "cli_dispatch_unknown");
	dispatch_is((struct dispatch_call){ .argv = { "g", "del", "eth0", "0" } }, 2,
		    "tcpflags: g del: invalid rule id: 0 is out of range 1..256",
		    "cli_dispatch_bad_positional");
	dispatch_is((struct dispatch_call){ .argv = { "g", "add", "eth0" } }, 2,
		    "tcpflags: g add: missing rule", "cli_dispatch_missing_words");
	check_report(sub_ran == 2, "cli_dispatch_errors_run_nothing",
		     "ran %d times, want 2", sub_ran);
}

static void cli_checks(void)
{
	int_is("42", 1, 100, 0, 42, "");
	int_is("0", 1, 100, -22, 0, "0 is out of range 1..100");
	int_is("101", 1, 100, -22, 0, "101 is out of range 1..100");
	int_is("abc", 1, 100, -22, 0, "'abc' is not a whole number");
	int_is("12x", 1, 100, -22, 0, "'12x' is not a whole number");
	int_is("", 1, 100, -22, 0, "'' is not a whole number");
	int_is(" 5", 1, 100, -22, 0, "' 5' is not a whole number");
	int_is("-3", -5, 5, 0, -3, "");
	int_is("99999999999999999999", 1, 100, -22, 0,
	       "99999999999999999999 is out of range 1..100");
	int_is("0", 1, 9223372036854775807LL, -22, 0, "0 is less than 1");
	seconds_is("0.5", 0, 0.5, "");
	seconds_is("3600", 0, 3600, "");
	seconds_is("1e1", 0, 10, "");
	seconds_is("0", -22, 0, "0 is out of range 0.1..3600");
	seconds_is("0.05", -22, 0, "0.05 is out of range 0.1..3600");
	seconds_is("-1", -22, 0, "-1 is out of range 0.1..3600");
	seconds_is("abc", -22, 0, "'abc' is not a number of seconds");
	seconds_is("nan", -22, 0, "'nan' is not a number of seconds");
	seconds_is("0x10", -22, 0, "'0x10' is not a number of seconds");
	seconds_is("1s", -22, 0, "'1s' is not a number of seconds");
	enum_is("native", 0, 1, "");
	enum_is("drv", 0, 1, "");
	enum_is("skb", 0, 2, "");
	enum_is("SKB", -22, 0, "unknown value 'SKB' (native or skb)");
	cli_parse_checks();
	cli_dispatch_checks();
	cli_release_checks();
}

/* ------------------------------------------------------------ guard lists */

struct glist_call {
	char *words[8];
	int n;
	long long ttl;
	bool json, settings;
	struct glist_req r;
};

static int do_glist_parse(void *arg)
{
	struct glist_call *c = arg;

	return glist_req_parse(c->words, c->n, c->ttl, c->json, c->settings,
			       &c->r);
}

/* `guard IFACE WORDS [--ttl N] [--json] [--port ..]` refused: exit 2 and
 * this one line; nothing parsed is left. */
static void glist_refused(const char *line, long long ttl, bool json,
			  bool settings, const char *want)
{
	struct glist_call c = { .ttl = ttl, .json = json, .settings = settings };
	char buf[256], out[256], err[256], name[160], *save = NULL;
	int ret;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok_r(buf, " ", &save); w && c.n < 8;
	     w = strtok_r(NULL, " ", &save))
		c.words[c.n++] = w;
	ret = captured(do_glist_parse, &c, out, err, sizeof(err));
	snprintf(name, sizeof(name), "glist_refused '%s'", line);
	check_report(ret == EXIT_USAGE && !strcmp(err, want) && !c.r.p, name,
		     "ret %d err '%s', want '%s'", ret, err, want);
	glist_req_free(&c.r);
}

/* What the data path decides for addr (the longest listed prefix
 * holding it, as the LPM trie finds it): "deny", "allow" or "none". */
static const char *glist_verdict(const struct glist_table *t,
				 const char *addr, __u32 now)
{
	const struct tcpf_glist *best = NULL;
	struct prefix a;
	char why[64];
	__u32 best_len = 0;

	if (prefix_parse(addr, &a, why, sizeof(why)))
		return "not an address";
	for (int i = 0; i < t->n; i++) {
		struct prefix p;
		__u32 bits;
		int ok = 1;

		glist_prefix(&t->e[i].k, &p);
		if (p.family != a.family || (best && p.plen < best_len))
			continue;
		for (bits = 0; bits < p.plen && ok; bits++)
			ok = !((p.addr[bits / 8] ^ a.addr[bits / 8]) &
			       (0x80 >> (bits % 8)));
		if (ok) {
			best = &t->e[i].v;
			best_len = p.plen;
		}
	}
	if (!best)
		return "none";
	if (tcpf_glist_live(best, TCPF_GL_DENY, now))
		return "deny";
	return tcpf_glist_live(best, TCPF_GL_ALLOW, now) ? "allow" : "none";
}

static void glist_add_text(struct glist_table *t, const char *pfx, int l,
			   __u32 until)
{
	struct prefix p;
	char why[64];

	if (prefix_parse(pfx, &p, why, sizeof(why)) ||
	    glist_add(t, &p, l, until))
		check_report(0, "glist_add", "%s: %s", pfx, why);
}

static void glist_checks(void)
{
	static const struct {
		const char *addr;
		__u32 now;
		const char *want;
	} q[] = {
		{ "10.9.9.9", 60, "allow" },     /* the /8 alone */
		{ "10.1.9.9", 60, "deny" },      /* deny /16 under allow /8 */
		{ "10.1.2.3", 60, "deny" },      /* allow /24 under it: deny wins */
		{ "10.2.3.4", 60, "allow" },     /* its /16 expired, the /8 holds */
		{ "11.0.0.1", 60, "none" },
		{ "10.1.2.3", 120, "allow" },    /* the deny /16 expired */
		{ "10.1.9.9", 120, "allow" },
		{ "10.3.0.1", 60, "deny" },      /* deny /32 for good */
		{ "10.3.0.2", 60, "allow" },
		{ "2001:db8:1::1", 60, "deny" }, /* deny /32 over allow /48 */
		{ "2001:db8:2::1", 60, "deny" },
		{ "2001:db9::1", 60, "none" },
		{ "::ffff:10.9.9.9", 60, "none" }, /* IPv6 is not IPv4 */
		{ "192.0.2.1", 60, "deny" },     /* one entry, both lists: */
		{ "192.0.2.1", 200, "allow" },   /* deny till 150, allow for good */
	};
	struct glist_table t = { .slot = 3 };
	struct prefix p;
	char name[96], why[64];

	glist_add_text(&t, "10.0.0.0/8", TCPF_GL_ALLOW, 0);
	glist_add_text(&t, "10.1.0.0/16", TCPF_GL_DENY, 100);
	glist_add_text(&t, "10.1.2.0/24", TCPF_GL_ALLOW, 0);
	glist_add_text(&t, "10.2.0.0/16", TCPF_GL_ALLOW, 50);
	glist_add_text(&t, "10.3.0.1", TCPF_GL_DENY, 0);
	glist_add_text(&t, "2001:db8::/32", TCPF_GL_DENY, 0);
	glist_add_text(&t, "2001:db8:1::/48", TCPF_GL_ALLOW, 0);
	glist_add_text(&t, "192.0.2.1", TCPF_GL_ALLOW, 0);
	glist_add_text(&t, "192.0.2.1", TCPF_GL_DENY, 150);
	glist_settle(&t);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		const char *got = glist_verdict(&t, q[i].addr, q[i].now);

		snprintf(name, sizeof(name), "glist_match %s at %u", q[i].addr,
			 q[i].now);
		check_report(!strcmp(got, q[i].want), name, "got %s, want %s",
			     got, q[i].want);
	}
	check_report(t.n == 8 && glist_count(&t, TCPF_GL_ALLOW, 60) == 4 &&
		     glist_count(&t, TCPF_GL_DENY, 60) == 4 &&
		     glist_count(&t, TCPF_GL_DENY, 160) == 2, "glist_count",
		     "%d items, at 60 %d allow %d deny, at 160 %d deny", t.n,
		     glist_count(&t, TCPF_GL_ALLOW, 60),
		     glist_count(&t, TCPF_GL_DENY, 60),
		     glist_count(&t, TCPF_GL_DENY, 160));
	/* at 160 the deny /16 (100) and /32 of 192.0.2.1 (150), the allow
	 * 10.2/16 (50) are gone: their items too, but 192.0.2.1's allow */
	glist_purge(&t, 160);
	glist_settle(&t);
	check_report(t.n == 6 && glist_count(&t, TCPF_GL_ALLOW, 160) == 4 &&
		     glist_count(&t, TCPF_GL_DENY, 160) == 2 &&
		     !strcmp(glist_verdict(&t, "10.1.9.9", 160), "allow"),
		     "glist_purge", "%d items", t.n);
	prefix_parse("10.1.2.0/24", &p, why, sizeof(why));
	check_report(glist_del(&t, &p, TCPF_GL_DENY) == -ENOENT &&
		     glist_del(&t, &p, TCPF_GL_ALLOW) == 0 && t.n == 5 &&
		     glist_del(&t, &p, TCPF_GL_ALLOW) == -ENOENT,
		     "glist_del", "%d items", t.n);
	glist_add_text(&t, "10.0.0.0/8", TCPF_GL_ALLOW, 500);
	check_report(t.n == 5 && glist_count(&t, TCPF_GL_ALLOW, 499) == 3 &&
		     glist_count(&t, TCPF_GL_ALLOW, 500) == 2,
		     "glist_add_again_sets_its_ttl", "%d items", t.n);
	glist_flush(&t, TCPF_GL_DENY);
	glist_settle(&t);
	check_report(t.n == 3 && !glist_count(&t, TCPF_GL_DENY, 0) &&
		     !strcmp(glist_verdict(&t, "10.3.0.1", 0), "allow") &&
		     !strcmp(glist_verdict(&t, "2001:db8:1::1", 0), "allow"),
		     "glist_flush", "%d items", t.n);
	glist_table_free(&t);

	/* the words after IFACE, --ttl (-1: not given), --json, another
	 * setting given; the one line */
	static const struct {
		const char *words;
		long long ttl;
		bool json, settings;
		const char *want;
	} bad[] = {
		{ "allow", -1, false, false,
		  "tcpflags: guard: allow needs add|del|list|flush" },
		{ "deny append 10.0.0.1", -1, false, false,
		  "tcpflags: guard: deny: unknown action 'append' "
		  "(add|del|list|flush)" },
		{ "allow add", -1, false, false,
		  "tcpflags: guard: allow add needs a PREFIX" },
		{ "deny del", -1, false, false,
		  "tcpflags: guard: deny del needs a PREFIX" },
		{ "allow list 10.0.0.1", -1, false, false,
		  "tcpflags: guard: allow list takes no PREFIX" },
		{ "deny flush 10.0.0.0/8", -1, false, false,
		  "tcpflags: guard: deny flush takes no PREFIX" },
		{ "allow add 10.0.0.1 10.0.0.256", -1, false, false,
		  "tcpflags: guard: allow: invalid address '10.0.0.256'" },
		{ "deny add 10.0.0.0/33", -1, false, false,
		  "tcpflags: guard: deny: prefix length out of range in "
		  "'10.0.0.0/33' (0 to 32)" },
		{ "deny add 2001:db8::/129", -1, false, false,
		  "tcpflags: guard: deny: prefix length out of range in "
		  "'2001:db8::/129' (0 to 128)" },
		{ "allow add 10.0.0.1/", -1, false, false,
		  "tcpflags: guard: allow: prefix length out of range in "
		  "'10.0.0.1/' (0 to 32)" },
		{ "allow del 10.0.0.1", 5, false, false,
		  "tcpflags: guard: allow del: --ttl goes with add" },
		{ "allow add 10.0.0.1", -1, true, false,
		  "tcpflags: guard: allow add: --json goes with list" },
		{ "deny add 10.0.0.1", 60, false, true,
		  "tcpflags: guard: deny add takes no guard settings (only "
		  "--ttl, --json)" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		glist_refused(bad[i].words, bad[i].ttl, bad[i].json,
			      bad[i].settings, bad[i].want);
}

/* ------------------------------------------------------------ guard limit */

/* The guard's rate limit as the data path gets it.  Its salt once came
 * from an unseeded rand(): 0x4567 in every run of tcpflags whatever the
 * limit, so a changed limit kept the buckets of the one before. */
static void guard_rl_checks(void)
{
	static const struct {
		const char *name;
		long long rate, burst;
		int per;
	} changed[] = {
		{ "guard_rl_rate_changed_fresh_buckets", 200, 20, TCPF_RL_SRC },
		{ "guard_rl_burst_changed_fresh_buckets", 100, 40, TCPF_RL_SRC },
		{ "guard_rl_per_changed_fresh_buckets", 100, 20, TCPF_RL_GLOBAL },
	};
	struct tcpf_rule_act a, b, zero = { 0 };

	guard_rl_act(&a, 100, 20, TCPF_RL_SRC, 300);
	check_report(a.action == TCPF_ACT_RATELIMIT && a.id == 300 &&
		     a.rl_per == TCPF_RL_SRC && a.rl_plen == 128 &&
		     a.rl_cost == 10000000ULL && a.rl_depth == 200000000ULL,
		     "guard_rl_act", "action %u id %u per %u plen %u cost %llu "
		     "depth %llu", a.action, a.id, a.rl_per, a.rl_plen,
		     (unsigned long long)a.rl_cost,
		     (unsigned long long)a.rl_depth);
	guard_rl_act(&b, 100, 20, TCPF_RL_SRC, 300);
	check_report(b.rl_salt == a.rl_salt, "guard_rl_same_limit_same_buckets",
		     "salt %#x, then %#x", a.rl_salt, b.rl_salt);
	for (size_t i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
		guard_rl_act(&b, changed[i].rate, changed[i].burst,
			     changed[i].per, 300);
		check_report(b.rl_salt != a.rl_salt, changed[i].name,
			     "salt %#x for both", a.rl_salt);
	}
	guard_rl_act(&b, 50, 0, TCPF_RL_GLOBAL, 301);
	check_report(b.rl_cost == 20000000ULL && b.rl_depth == 20000000ULL,
		     "guard_rl_no_burst_is_one", "cost %llu depth %llu",
		     (unsigned long long)b.rl_cost,
		     (unsigned long long)b.rl_depth);
	guard_rl_act(&b, 0, 20, TCPF_RL_SRC, 300);
	check_report(!memcmp(&b, &zero, sizeof(b)), "guard_rl_none",
		     "action %u id %u", b.action, b.id);
}

int main(void)
{
	int nvalid = 0, unique = 1;

	glist_checks();
	guard_rl_checks();
	name_is(0x00, "NULL");
	name_is(0x02, "SYN");
	name_is(0x12, "SYN|ACK");
	name_is(0x11, "FIN|ACK");
	name_is(0x29, "FIN|PSH|URG");
	name_is(0x03, "FIN|SYN");
	name_is(0xc2, "SYN|ECE|CWR");
	name_is(0xff, "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR");

	/* the nine combinations nf_conntrack accepts, PSH/ECE/CWR ignored */
	valid_is(TCPF_SYN, 1, "syn");
	valid_is(TCPF_SYN | TCPF_URG, 1, "syn_urg");
	valid_is(TCPF_SYN | TCPF_ACK, 1, "syn_ack");
	valid_is(TCPF_RST, 1, "rst");
	valid_is(TCPF_RST | TCPF_ACK, 1, "rst_ack");
	valid_is(TCPF_FIN | TCPF_ACK, 1, "fin_ack");
	valid_is(TCPF_FIN | TCPF_ACK | TCPF_URG, 1, "fin_ack_urg");
	valid_is(TCPF_ACK, 1, "ack");
	valid_is(TCPF_ACK | TCPF_URG, 1, "ack_urg");
	valid_is(TCPF_ACK | TCPF_PSH | TCPF_ECE | TCPF_CWR, 1, "ack_psh_ece_cwr");
	valid_is(TCPF_SYN | TCPF_ECE | TCPF_CWR, 1, "syn_ecn_setup");
	valid_is(0, 0, "null_scan");
	valid_is(TCPF_FIN | TCPF_PSH | TCPF_URG, 0, "xmas");
	valid_is(0xff, 0, "all_flags");
	valid_is(TCPF_SYN | TCPF_FIN, 0, "syn_fin");
	valid_is(TCPF_SYN | TCPF_RST, 0, "syn_rst");
	valid_is(TCPF_FIN, 0, "fin_without_ack");
	valid_is(TCPF_PSH, 0, "psh_alone");
	valid_is(TCPF_RST | TCPF_FIN | TCPF_ACK, 0, "rst_fin_ack");
	for (int f = 0; f < TCPF_PATTERNS; f++)
		nvalid += tcpf_flags_valid((__u8)f);
	check_report(nvalid == 72, "valid_pattern_count",
		     "%d valid patterns, want 9 x 8 = 72", nvalid);

	for (int a = 0; a < TCPF_CNT_MAX; a++)
		for (int b = a + 1; b < TCPF_CNT_MAX; b++)
			if (!strcmp(counter_name(a), counter_name(b)))
				unique = 0;
	check_report(unique && strcmp(counter_name(TCPF_CNT_MAX), "unknown") == 0,
		     "counter_names_unique", "duplicate or missing name");
	{
		/* per-minute rates are exact: 30/m is one packet every 2 s */
		static const struct { const char *rate; __u64 cost; } rates[] = {
			{ "30/m", 2000000000ULL }, { "90/m", 666666666ULL },
			{ "1/m", 60000000000ULL }, { "100/s", 10000000ULL },
		};

		for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
			char *argv[] = { "ratelimit", (char *)rates[i].rate,
					 "per", "global" };
			struct ruleset rs;
			struct rule r;
			char err[256], name[64];
			int ret;

			ruleset_init(&rs);
			ret = rule_parse(4, argv, &rs, &r, err, sizeof(err));
			snprintf(name, sizeof(name), "rate_cost_%s",
				 rates[i].rate);
			check_report(!ret && r.cost_ns == rates[i].cost, name,
				     "ret %d cost %llu, want %llu (%s)", ret,
				     (unsigned long long)r.cost_ns,
				     (unsigned long long)rates[i].cost,
				     ret ? err : "");
		}
	}
	cli_checks();
	registry_matches_object();
	registry_matches_readme();
	return check_done("test_user");
}
