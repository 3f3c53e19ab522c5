// SPDX-License-Identifier: GPL-2.0-only
/* crashpoint.c - test-only kill and stop points (crashpoint.h). */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "crashpoint.h"

struct point {
	bool parsed;
	char name[64];
	long at;        /* the hit that fires, 1-based; 0: none */
	long hits;
};

static void parse(struct point *p, const char *env)
{
	const char *v = getenv(env), *colon;

	p->parsed = true;
	if (!v || !*v)
		return;
	colon = strrchr(v, ':');
	/* "attach:xdp" is a name; "attach:xdp:2" its second hit */
	if (colon && colon[1] >= '0' && colon[1] <= '9') {
		p->at = strtol(colon + 1, NULL, 10);
		snprintf(p->name, sizeof(p->name), "%.*s", (int)(colon - v), v);
	} else {
		p->at = 1;
		snprintf(p->name, sizeof(p->name), "%s", v);
	}
}

static bool fires(struct point *p, const char *env, const char *name)
{
	if (!p->parsed)
		parse(p, env);
	return p->at && !strcmp(p->name, name) && ++p->hits == p->at;
}

void crash_point(const char *name)
{
	static struct point kill_at, stop_at;

	if (fires(&stop_at, "TCPF_PAUSE_AT", name)) {
		fflush(NULL);
		raise(SIGSTOP);
	}
	if (fires(&kill_at, "TCPF_CRASH_AT", name)) {
		fflush(NULL);
		raise(SIGKILL);
	}
}
