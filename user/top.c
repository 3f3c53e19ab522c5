// SPDX-License-Identifier: GPL-2.0-only
/*
 * top.c - `tcpflags top [IFACE...] [--interval SECONDS]`: what TCP does on
 * attached interfaces, live, the way top shows processes (ncurses).
 *
 * Every --interval it reads each interface with snapshot_read() (every map
 * read-only) and shows rates: the increase of a counter between the last
 * two reads over the real time between them (snapshot.taken_ns).  Totals
 * are kept here, per raw counter: each read adds what the counter gained
 * since the last one, so a total never goes back - not when `tcpflags
 * reset` zeroes the kernel's counters, nor when a read catches a reset
 * half done.  A counter that went down was reset: it has no rate for that
 * interval (a sum holding it shows "-").  Totals count from the attach,
 * or from the moment `r` was pressed (an on-screen baseline: the kernel
 * counters are never touched).  Several interfaces add up; connection
 * states are the namespace's (one flow table per netns).  With no IFACE
 * named, the pinned interfaces are looked up again at every refresh.
 *
 * The command (options, the interfaces to show) is here; top_model.c
 * reads and keeps the figures, top_draw.c draws them, top_input.c runs
 * the terminal session.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "log.h"
#include "pins.h"
#include "report.h"
#include "top.h"
#include "top_input.h"
#include "top_model.h"

/* ---------------------------------------------------------- options */

static const char top_usage[] =
	"usage: tcpflags top [IFACE...] [--interval SECONDS]\n"
	"  A live dashboard of the named interfaces (all attached in this\n"
	"  network namespace when none is named), refreshed every SECONDS\n"
	"  (0.1 to 60, default 1).  Keys: q quit, p pause, s sort, r reset the\n"
	"  on-screen totals, Tab or 1-4 views, h help.\n";

static int parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.1 && v <= 60)) {
		pr_warn("invalid --interval '%s' (seconds, 0.1 to 60)", s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int open_named(struct top *t, char **names, int n)
{
	for (int i = 0; i < n; i++) {
		struct iface *f = &t->ifs[t->nifs];
		int err;

		if (find_iface(t, names[i]) >= 0)
			continue;
		err = iface_open(f, names[i]);
		t->nifs++;         /* closed with the others */
		if (err == -ENOMEM) {
			pr_warn("top: out of memory");
			return EXIT_FAIL;
		}
		if (err || f->state != AT_ATTACHED)
			return not_attached(names[i], err);
	}
	return EXIT_OK;
}

/* Every interface attached in this namespace; looked up again at each
 * refresh. */
static int open_all(struct top *t)
{
	int err;

	t->scan = true;
	err = top_scan(t);
	if (err == -ENOMEM) {
		pr_warn("top: out of memory");
		return EXIT_FAIL;
	}
	if (err) {
		pr_warn("cannot list the attached interfaces: %s",
			strerror(-err));
		return EXIT_FAIL;
	}
	if (!t->nifs) {
		pr_warn("nothing is attached in this network namespace; run "
			"'tcpflags attach IFACE'");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

struct top_opts {
	double interval;
	long bench;                /* --bench N refreshes; 0: the screen */
	char **names;              /* the IFACEs named */
	int nnames;
};

/* The command line into o; -1 when done (--help), else an exit code. */
static int top_options(int argc, char **argv, struct top_opts *o)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "bench", required_argument, NULL, 'B' }, /* make bench */
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	unsigned int ifindex;
	char *end;
	int opt;

	o->interval = 1;
	o->bench = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (parse_interval(optarg, &o->interval))
				return EXIT_USAGE;
			break;
		case 'B':
			o->bench = strtol(optarg, &end, 10);
			if (*end || o->bench < 1 || o->bench > 100000) {
				pr_warn("invalid --bench '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(top_usage, stdout);
			return -1;
		default:
			return cli_opt_error("top", opt, argv, top_usage);
		}
	}
	o->names = argv + optind;
	o->nnames = argc - optind;
	if (o->nnames > IFACES_MAX) {
		pr_warn("top: at most %d interfaces", IFACES_MAX);
		return EXIT_USAGE;
	}
	if (require_root("top"))
		return EXIT_FAIL;
	for (int i = 0; i < o->nnames; i++)
		if (iface_lookup(o->names[i], &ifindex))
			return EXIT_USAGE;
	return EXIT_OK;
}

/* The bench, or the screen when there is a terminal. */
static int top_run(struct top *t, long bench)
{
	if (bench)
		return top_bench(t, bench);
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
		pr_warn("top needs a terminal; use 'tcpflags stats --watch'");
		return EXIT_USAGE;
	}
	return top_screen(t);
}

int cmd_top(int argc, char **argv)
{
	struct top_opts o = { 0 };
	struct top *t;
	int ret = top_options(argc, argv, &o);

	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	t = calloc(1, sizeof(*t));
	if (!t) {
		pr_warn("top: out of memory");
		return EXIT_FAIL;
	}
	t->interval = o.interval;
	ret = o.nnames ? open_named(t, o.names, o.nnames) : open_all(t);
	if (ret == EXIT_OK)
		ret = top_run(t, o.bench);
	for (int i = 0; i < t->nifs; i++)
		iface_close(&t->ifs[i]);
	free(t);
	return ret;
}
