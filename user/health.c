// SPDX-License-Identifier: GPL-2.0-only
/* health.c - status's partial state and stale namespaces (health.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "health.h"
#include "repair.h"
#include "stale.h"

#define PROBLEMS_MAX 16
#define STALE_MAX 256

static void problems_json(problem_t *p, int n)
{
	printf(", \"problems\": [");
	for (int i = 0; i < n; i++) {
		printf("%s", i ? ", " : "");
		json_string(p[i]);
	}
	printf("]");
}

void health_iface_print(const char *ifname, bool json)
{
	problem_t p[PROBLEMS_MAX];
	int n = repair_iface_problems(ifname, p, PROBLEMS_MAX);

	if (json) {
		problems_json(p, n);
		return;
	}
	for (int i = 0; i < n; i++)
		printf("  ! %s\n", p[i]);
}

static void stale_json(const struct stale_ns *s, int n)
{
	printf(", \"stale\": [");
	for (int i = 0; i < n; i++) {
		printf("%s{\"namespace\": \"%s\", \"interfaces\": [",
		       i ? ", " : "", s[i].name);
		for (int j = 0; j < s[i].nifaces && j < STALE_IFACES; j++) {
			printf("%s", j ? ", " : "");
			json_string(s[i].ifaces[j]);
		}
		printf("], \"pins\": %d, \"saved_rules\": %d}", s[i].pins,
		       s[i].sources);
	}
	printf("]");
}

static void stale_text(const struct stale_ns *s, int n)
{
	printf("\nstale: pins of deleted network namespaces ('tcpflags "
	       "prune' removes them):\n");
	for (int i = 0; i < n; i++) {
		printf("  %-24s %d pins, %d saved rule sources, interfaces:",
		       s[i].name, s[i].pins, s[i].sources);
		for (int j = 0; j < s[i].nifaces && j < STALE_IFACES; j++)
			printf(" %s", s[i].ifaces[j]);
		if (s[i].nifaces > STALE_IFACES)
			printf(" (%d more)", s[i].nifaces - STALE_IFACES);
		printf("%s\n", s[i].nifaces ? "" : " none");
	}
}

int health_ns_print(bool json)
{
	static struct stale_ns stale[STALE_MAX];
	problem_t p[PROBLEMS_MAX];
	int n = repair_ns_problems(p, PROBLEMS_MAX), ns, lines = 0;

	ns = stale_host_ns() ? stale_list(stale, STALE_MAX) : 0;
	if (ns == -EPERM)
		ns = 0;	/* a reader without CAP_SYS_ADMIN: not its business */
	if (ns < 0) {
		snprintf(p[n < PROBLEMS_MAX ? n++ : n - 1], PROBLEM_LEN,
			 "cannot tell which namespaces are stale: %s",
			 ns == -EHOSTUNREACH ? "some namespace could not be "
			 "entered" : strerror(-ns));
		ns = 0;
	}
	if (json) {
		/* only when there are some: nothing to say keeps the object
		 * as it was, {"attachments": []} */
		if (n)
			problems_json(p, n);
		if (ns)
			stale_json(stale, ns);
		return 0;
	}
	if (n)
		printf("\n");
	for (int i = 0; i < n; i++, lines++)
		printf("! %s\n", p[i]);
	if (ns)
		stale_text(stale, ns);
	return lines + ns;
}
