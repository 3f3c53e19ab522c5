// SPDX-License-Identifier: GPL-2.0-only
/* health.c - status's account of partial state (health.h). */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "health.h"
#include "repair.h"

#define PROBLEMS_MAX 16

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

int health_ns_print(bool json)
{
	problem_t p[PROBLEMS_MAX];
	int n = repair_ns_problems(p, PROBLEMS_MAX);

	if (json) {
		problems_json(p, n);
		return 0;
	}
	if (n)
		printf("\n");
	for (int i = 0; i < n; i++)
		printf("! %s\n", p[i]);
	return n;
}
