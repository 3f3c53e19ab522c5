// SPDX-License-Identifier: GPL-2.0-only
/*
 * prune.c - `tcpflags prune [NAMESPACE...]`: remove the pins and saved
 * rules of deleted network namespaces (all stale ones, or those named as
 * status names them, ns<cookie>), and this namespace's leftovers of an
 * interrupted detach.  A live namespace's are never touched.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "lock.h"
#include "log.h"
#include "pins.h"
#include "prune.h"
#include "repair.h"
#include "stale.h"

#define STALE_MAX 1024

struct prune_opts {
	struct cli_list names;
};

/* One stale namespace, under its own lock (two prunes meet there). */
static int prune_one(const struct stale_ns *s)
{
	char dir[PATH_MAX], prev[256];
	struct state_lock l;
	int err;

	snprintf(dir, sizeof(dir), "%s/%s", TCPF_RUN_ROOT, s->name);
	err = state_lock(dir, "tcpflags prune", &l, prev, sizeof(prev));
	if (!err) {
		err = stale_remove(s->name);
		state_unlock(&l);
	}
	if (err) {
		pr_warn("cannot remove the pins of %s: %s", s->name,
			strerror(-err));
		return err;
	}
	pr_info("tcpflags: removed the pins of deleted namespace %s (%d "
		"pins, %d saved rule sources, %d interfaces%s%s)", s->name,
		s->pins, s->sources, s->nifaces, s->nifaces ? ": " : "",
		s->nifaces ? s->ifaces[0] : "");
	return 0;
}

/* The stale entry of name, or why not. */
static int find(const struct stale_ns *all, int n, const char *name)
{
	int alive;

	for (int i = 0; i < n; i++)
		if (!strcmp(all[i].name, name))
			return i;
	alive = stale_alive(name);
	if (alive == -EINVAL)
		pr_warn("prune: '%s' is not a namespace's name (ns<cookie>, "
			"as 'tcpflags status' lists them)", name);
	else if (alive == 1)
		pr_warn("prune: %s is a live namespace's: detach its "
			"interfaces from inside it", name);
	else
		pr_warn("prune: nothing of %s is pinned or saved", name);
	return alive == -EINVAL ? -EINVAL : -ENOENT;
}

static int cmd_prune(void *opts)
{
	static struct stale_ns all[STALE_MAX];
	const struct prune_opts *o = opts;
	int n = stale_list(all, STALE_MAX), done = 0, ret = EXIT_OK;

	if (n < 0) {
		pr_warn("cannot tell which namespaces are gone: %s", n ==
			-EHOSTUNREACH ? "some namespace could not be entered" :
			strerror(-n));
		return EXIT_FAIL;
	}
	for (int i = 0; i < o->names.n; i++) {
		int at = find(all, n, o->names.v[i]);

		if (at < 0)
			return at == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	for (int i = 0; i < n; i++) {
		bool named = !o->names.n;

		for (int j = 0; j < o->names.n; j++)
			named |= !strcmp(o->names.v[j], all[i].name);
		if (!named)
			continue;
		if (prune_one(&all[i]))
			ret = EXIT_FAIL;
		else
			done++;
	}
	/* this namespace's leftovers, when nothing was named */
	if (!o->names.n && repair_leftovers() > 0)
		done++;
	if (!done && ret == EXIT_OK)
		pr_info("tcpflags: nothing to prune");
	return ret;
}

static const struct cli_opt prune_args[] = {
	{ .name = "namespace", .kind = CLI_WORDS,
	  .offset = offsetof(struct prune_opts, names),
	  .metavar = "[NAMESPACE...]" },
	{ 0 },
};

const struct cli_command prune_command = {
	.name = "prune", .summary = "remove deleted namespaces' pins",
	.about = "  Remove the pins and saved rules of deleted network namespaces\n"
		 "  (all of them, or the NAMESPACEs named as 'status' lists them,\n"
		 "  ns<cookie>), and what an interrupted detach left here.\n",
	.args = prune_args, .writes = true,
	.size = sizeof(struct prune_opts), .run = cmd_prune,
};
