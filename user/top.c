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
#include <stddef.h>
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
	struct cli_list ifaces;    /* the IFACEs named */
};

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

static int cmd_top(void *opts)
{
	const struct top_opts *o = opts;
	struct top *t;
	int ret;

	t = calloc(1, sizeof(*t));
	if (!t) {
		pr_warn("top: out of memory");
		return EXIT_FAIL;
	}
	t->interval = o->interval;
	ret = o->ifaces.n ? open_named(t, o->ifaces.v, o->ifaces.n)
			  : open_all(t);
	if (ret == EXIT_OK)
		ret = top_run(t, o->bench);
	for (int i = 0; i < t->nifs; i++)
		iface_close(&t->ifs[i]);
	free(t);
	return ret;
}

static const struct cli_opt top_args[] = {
	{ .name = "interfaces", .kind = CLI_IFACES,
	  .offset = offsetof(struct top_opts, ifaces), .metavar = "[IFACE...]",
	  .lo = 0, .hi = IFACES_MAX, .complete = CLI_COMPLETE_ATTACHED },
	{ 0 },
};

static const struct cli_opt top_options[] = {
	{ .name = "interval", .kind = CLI_SECONDS,
	  .offset = offsetof(struct top_opts, interval), .metavar = "SECONDS",
	  .dlo = 0.1, .dhi = 60, .help = "refresh every SECONDS (default 1)" },
	/* make bench: N refreshes of every view, the CPU each took */
	{ .name = "bench", .kind = CLI_INT,
	  .offset = offsetof(struct top_opts, bench), .metavar = "N",
	  .lo = 1, .hi = 100000, .flags = CLI_HIDDEN },
	{ 0 },
};

static const struct top_opts top_defaults = { .interval = 1 };

const struct cli_command top_command = {
	.name = "top", .summary = "live dashboard",
	.about = "  A live dashboard of the named interfaces (all attached in this\n"
		 "  network namespace when none is named).  Keys: q quit, p pause,\n"
		 "  s sort, r reset the on-screen totals, Tab or 1-4 views, arrows,\n"
		 "  PgUp/PgDn and Home/End scroll, h help.  It needs a terminal;\n"
		 "  'tcpflags stats --watch' writes the same counters as lines.\n",
	.args = top_args, .opts = top_options,
	.size = sizeof(struct top_opts), .defaults = &top_defaults,
	.need = &priv_read, .run = cmd_top,
};
