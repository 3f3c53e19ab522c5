// SPDX-License-Identifier: GPL-2.0-only
/* test_user.c - userspace unit tests: flag names, validity, counter names,
 * the map registry against the BPF object and the README. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tcpflags.h"
#include "counters.h"
#include "maps.h"
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

/* README.md beside build/: this binary is build/test_user. */
static FILE *open_readme(void)
{
	char exe[PATH_MAX], path[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/../README.md", dirname(exe));
	return fopen(path, "r");
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
	FILE *f = open_readme();
	char line[512], name[32];
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

int main(void)
{
	int nvalid = 0, unique = 1;

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
	registry_matches_object();
	registry_matches_readme();
	return check_done("test_user");
}
