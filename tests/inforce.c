// SPDX-License-Identifier: GPL-2.0-only
/*
 * inforce.c - which rule set is in force on an interface, for the crash
 * tests (tests/integration/85-crash.sh), judged two ways:
 *
 *   inforce IFACE FILE...      the index (1..) of the first FILE whose
 *                              clean install writes exactly the bytes of
 *                              the active half of IFACE's tcpf_rulesets,
 *                              0 if none.  Each FILE is installed with
 *                              policy_write() into maps of this program's
 *                              own (never the interface's), then the two
 *                              sets are compared byte for byte.
 *   inforce --probe PROG_ID PORT...
 *                              one TCP SYN to each destination port run
 *                              through the XDP program PROG_ID (the one
 *                              attached: `ip link` names it) with
 *                              BPF_PROG_TEST_RUN: "drop" or "pass" each.
 *
 * Run in the interface's namespace.  Exit 0, or 1 with one line on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "frames.h"
#include "maps.h"
#include "policy.h"
#include "rules.h"
#include "tcpflags.h"

static int die(const char *what, int err)
{
	fprintf(stderr, "inforce: %s: %s\n", what, strerror(err));
	return 1;
}

/* The live set: tcpf_rulesets[tcpf_policy.active]; never switched: none. */
static int read_live(const char *ifname, struct tcpf_set *s, bool *never)
{
	struct tcpf_policy pol;
	__u32 key = 0;
	int pfd, sfd, err;

	err = map_open(TCPF_MAP_POLICY, ifname, true, &pfd);
	if (err)
		return err;
	err = map_open(TCPF_MAP_RULESETS, ifname, true, &sfd);
	if (err) {
		close(pfd);
		return err;
	}
	if (bpf_map_lookup_elem(pfd, &key, &pol))
		err = -errno;
	*never = !err && pol.generation == 0;
	key = pol.active & 1;
	if (!err && !*never && bpf_map_lookup_elem(sfd, &key, s))
		err = -errno;
	if (!err)
		policy_unslot(s);
	close(pfd);
	close(sfd);
	return err;
}

/* Install FILE into fresh maps of our own; its active set into out. */
static int clean_install(const char *file, struct tcpf_set *out, bool *empty)
{
	struct ruleset *rs = malloc(sizeof(*rs));
	struct policy_maps m = { -1, -1, -1 };
	int ncpu = libbpf_num_possible_cpus(), err;
	struct tcpf_policy pol;
	char why[512];
	__u32 key = 0;

	if (!rs)
		return -ENOMEM;
	err = ruleset_parse_file(file, rs, why, sizeof(why));
	if (err) {
		fprintf(stderr, "inforce: %s\n", why);
		free(rs);
		return err;
	}
	*empty = rs->nrules == 0 && rs->default_action == TCPF_ACT_PASS;
	m.policy = bpf_map_create(BPF_MAP_TYPE_ARRAY, "if_policy", 4,
				  sizeof(struct tcpf_policy), 1, NULL);
	m.sets = bpf_map_create(BPF_MAP_TYPE_ARRAY, "if_sets", 4,
				sizeof(struct tcpf_set), TCPF_RULESETS, NULL);
	m.hits = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "if_hits", 4,
				sizeof(struct tcpf_count), TCPF_HIT_SLOTS, NULL);
	if (m.policy < 0 || m.sets < 0 || m.hits < 0 || ncpu < 0)
		err = -errno;
	if (!err)
		err = policy_write(&m, rs, NULL, 0);
	if (!err && bpf_map_lookup_elem(m.policy, &key, &pol))
		err = -errno;
	/* pol only once read (it was read unset on an error before) */
	if (!err) {
		key = pol.active & 1;
		if (bpf_map_lookup_elem(m.sets, &key, out))
			err = -errno;
		else
			policy_unslot(out);
	}
	/* one by one: a pointer walked from one member to the next is
	 * undefined */
	if (m.policy >= 0)
		close(m.policy);
	if (m.sets >= 0)
		close(m.sets);
	if (m.hits >= 0)
		close(m.hits);
	ruleset_free(rs);
	free(rs);
	return err;
}

static int which(const char *ifname, char **files, int n)
{
	struct tcpf_set *live = malloc(sizeof(*live)),
			*cand = malloc(sizeof(*cand));
	bool never, empty;
	int err, found = 0, ret = 0;

	/* each way out frees both (they leaked on the errors) */
	if (!live || !cand) {
		ret = die("memory", ENOMEM);
		goto out;
	}
	err = read_live(ifname, live, &never);
	if (err) {
		ret = die(ifname, -err);
		goto out;
	}
	for (int i = 0; i < n && !found; i++) {
		memset(cand, 0, sizeof(*cand));
		err = clean_install(files[i], cand, &empty);
		if (err) {
			ret = die(files[i], -err);
			goto out;
		}
		/* a policy never switched passes all: the empty set's */
		if (never ? empty : !memcmp(live, cand, sizeof(*live)))
			found = i + 1;
	}
	printf("%d\n", found);
out:
	free(live);
	free(cand);
	return ret;
}

static int probe(__u32 prog_id, char **ports, int n)
{
	int fd = bpf_prog_get_fd_by_id(prog_id);

	if (fd < 0)
		return die("the XDP program", errno);
	for (int i = 0; i < n; i++) {
		struct frame_spec spec = { .family = 4, .l4 = 6,
					   .flags = 0x02, .sport = 40000 };
		LIBBPF_OPTS(bpf_test_run_opts, run);
		struct frame_layout lay;
		__u8 frame[FRAME_MAX];
		char *end;
		long port = strtol(ports[i], &end, 10);

		if (end == ports[i] || *end || port < 1 || port > 65535) {
			close(fd);
			return die(ports[i], EINVAL);
		}
		spec.dport = (__u16)port;
		run.data_in = frame;
		run.data_size_in = frame_build(&spec, frame, &lay);
		if (bpf_prog_test_run_opts(fd, &run)) {
			int err = errno;

			close(fd);
			return die("BPF_PROG_TEST_RUN", err);
		}
		printf("%s%s", i ? " " : "",
		       run.retval == XDP_DROP ? "drop" :
		       run.retval == XDP_PASS ? "pass" : "other");
	}
	printf("\n");
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "--probe"))
		return probe((__u32)strtoul(argv[2], NULL, 10), argv + 3,
			     argc - 3);
	if (argc >= 3 && argv[1][0] != '-')
		return which(argv[1], argv + 2, argc - 2);
	fprintf(stderr, "usage: inforce IFACE FILE... | inforce --probe "
		"PROG_ID PORT...\n");
	return 2;
}
