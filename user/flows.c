// SPDX-License-Identifier: GPL-2.0-only
/*
 * flows.c - list the connections of an interface's flow table (and the
 * half-open handshakes), read with batch lookups so a full table is fast.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cli.h"
#include "counters.h"
#include "flows.h"
#include "log.h"
#include "maps.h"
#include "report.h"
#include "pins.h"

#define BATCH 1024

struct flows_query {
	int state;              /* -1: every state */
	__u64 limit;            /* 0: no limit */
	bool json;
	__u64 matched, shown;
	__u32 now;
};

/* "198.19.0.1:40000" or "[2001:2::1]:40000" for one side of a key. */
static void endpoint(const struct tcpf_flow_key *k, int side, char *buf,
		     size_t size)
{
	char addr[INET6_ADDRSTRLEN];

	if (k->family == TCPF_IPV4) {
		inet_ntop(AF_INET, &k->addr[side][12], addr, sizeof(addr));
		snprintf(buf, size, "%s:%u", addr, ntohs(k->port[side]));
	} else {
		inet_ntop(AF_INET6, k->addr[side], addr, sizeof(addr));
		snprintf(buf, size, "[%s]:%u", addr, ntohs(k->port[side]));
	}
}

/* One row: the opener is the client. */
static void show(struct flows_query *q, const struct tcpf_flow_key *k,
		 __u32 state, int opener, int local, __u32 created, __u32 seen,
		 const __u64 pkts[2], const __u8 flags[2])
{
	char cli[64], srv[64], fc[40], fs[40];
	int c = opener & 1, s = c ^ 1;

	if (q->state >= 0 && (__u32)q->state != state)
		return;
	q->matched++;
	if (q->limit && q->shown >= q->limit)
		return;
	q->shown++;
	endpoint(k, c, cli, sizeof(cli));
	endpoint(k, s, srv, sizeof(srv));
	flags_name(flags[c], fc, sizeof(fc));
	flags_name(flags[s], fs, sizeof(fs));
	if (q->json) {
		printf("%s{\"client\": \"%s\", \"server\": \"%s\", "
		       "\"vlan\": %u, \"state\": \"%s\", \"local\": \"%s\", "
		       "\"age\": %u, \"idle\": %u, "
		       "\"packets\": {\"client\": %llu, \"server\": %llu}, "
		       "\"flags\": {\"client\": \"%s\", \"server\": \"%s\"}}",
		       q->shown > 1 ? ", " : "", cli, srv, k->vlan,
		       state_name(state), local == c ? "client" : "server",
		       created ? q->now - created : 0, q->now - seen,
		       (unsigned long long)pkts[c],
		       (unsigned long long)pkts[s], fc, fs);
		return;
	}
	printf("%-28s %-28s %-11s %6u %5u %8llu %8llu  %-16s %s\n", cli, srv,
	       state_name(state), created ? q->now - created : 0,
	       q->now - seen, (unsigned long long)pkts[c],
	       (unsigned long long)pkts[s], fc, fs);
}

/* Read every element of an array map, BATCH at a time. */
static int for_each_batch(int fd, size_t vsize,
			  void (*fn)(struct flows_query *, const void *),
			  struct flows_query *q)
{
	__u32 keys[BATCH], in = 0, out = 0, n;
	bool first = true, done = false;
	char *vals = malloc(vsize * BATCH);
	int err = 0;

	if (!vals)
		return -ENOMEM;
	while (!done) {
		n = BATCH;
		if (bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					 vals, &n, NULL)) {
			if (errno != ENOENT) {
				err = -errno;
				break;
			}
			done = true;
		}
		for (__u32 i = 0; i < n; i++)
			fn(q, vals + i * vsize);
		in = out;
		first = false;
	}
	free(vals);
	return err;
}

static void show_bucket(struct flows_query *q, const void *v)
{
	const struct tcpf_flow_bucket *b = v;

	for (int w = 0; w < TCPF_FLOW_WAYS; w++) {
		const struct tcpf_flow *f = &b->way[w].flow;

		if (f->state != TCPF_ST_NONE)
			show(q, &b->way[w].key, f->state, f->opener, f->local,
			     f->created, f->seen, f->packets, f->flags_seen);
	}
}

static void show_syn(struct flows_query *q, const void *v)
{
	const struct tcpf_syn *h = v;
	__u64 pkts[2] = { h->packets[0], h->packets[1] };

	if (h->stage != TCPF_HS_EMPTY)
		show(q, &h->key, h->opener == h->local ? TCPF_ST_SYN_SENT
						       : TCPF_ST_SYN_RECV,
		     h->opener, h->local, 0, h->seen, pkts, h->flags_seen);
}

struct flows_opts {
	struct cli_iface iface;
	int state;		/* -1: every state */
	long limit;		/* 0: no limit */
	bool json;
};

/* --state STATE */
static int parse_state(const char *arg, void *opts, char *why, size_t size)
{
	int st = state_parse(arg);

	if (st < 0) {
		snprintf(why, size, "unknown state '%s'", arg);
		return -EINVAL;
	}
	((struct flows_opts *)opts)->state = st;
	return 0;
}

static int cmd_flows(void *opts)
{
	const struct flows_opts *o = opts;
	const char *ifname = o->iface.name;
	struct flows_query q = {
		.state = o->state, .limit = (__u64)o->limit, .json = o->json,
	};
	int ffd = -1, sfd = -1, err;
	struct timespec ts;

	if (map_open(TCPF_MAP_META, ifname, true, &ffd) == 0) {
		close(ffd);
		if (map_open(TCPF_MAP_FLOWS, ifname, true, &ffd) == 0)
			map_open(TCPF_MAP_SYNS, ifname, true, &sfd);
	}
	if (ffd < 0 || sfd < 0) {
		if (ffd >= 0)
			close(ffd);
		return not_attached(ifname, -ENOENT);
	}
	/* the reaper's clock (bpf/reaper.bpf.h): never behind what it
	 * stamped, so no age is negative */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	q.now = (__u32)ts.tv_sec;
	if (q.json) {
		printf("{\"interface\": ");
		json_string(ifname);
		printf(", \"flows\": [");
	}
	else
		printf("%-28s %-28s %-11s %6s %5s %8s %8s  %-16s %s\n",
		       "CLIENT", "SERVER", "STATE", "AGE", "IDLE", "PKTS>",
		       "PKTS<", "FLAGS>", "FLAGS<");
	err = for_each_batch(ffd, sizeof(struct tcpf_flow_bucket), show_bucket,
			     &q);
	if (!err)
		err = for_each_batch(sfd, sizeof(struct tcpf_syn), show_syn, &q);
	if (q.json)
		printf("], \"shown\": %llu, \"matched\": %llu}\n",
		       (unsigned long long)q.shown,
		       (unsigned long long)q.matched);
	else if (q.matched > q.shown)
		printf("(%llu more; raise --limit)\n",
		       (unsigned long long)(q.matched - q.shown));
	close(ffd);
	close(sfd);
	if (err) {
		pr_warn("cannot read the flow table: %s", strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

#define FLOWS(m) offsetof(struct flows_opts, m)

static const struct cli_opt flows_args[] = {
	CLI_ARG_ATTACHED(struct flows_opts, iface), { 0 },
};

static const struct cli_opt flows_options[] = {
	{ .name = "state", .short_name = 's', .kind = CLI_CALL,
	  .call = parse_state, .metavar = "STATE",
	  .complete = CLI_COMPLETE_STATE,
	  .help = "only the connections in STATE (established, ...)" },
	CLI_OPT_JSON(struct flows_opts, json),
	{ .name = "limit", .short_name = 'l', .kind = CLI_INT,
	  .offset = FLOWS(limit), .metavar = "N", .lo = 1, .hi = LONG_MAX,
	  .help = "show at most N of them (all are counted)" },
	{ 0 },
};

static const struct flows_opts flows_defaults = { .state = -1 };

const struct cli_command flows_command = {
	.name = "flows", .summary = "the connections followed",
	.about = "  The connections in the flow table IFACE uses (shared by the\n"
		 "  namespace's attached interfaces), then the half-open handshakes.\n",
	.args = flows_args, .opts = flows_options,
	.size = sizeof(struct flows_opts), .defaults = &flows_defaults,
	.need = &priv_read, .run = cmd_flows,
};
