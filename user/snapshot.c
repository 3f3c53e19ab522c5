// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "pins.h"
#include "policy.h"
#include "snapshot.h"

static int read_meta_counts(const char *ifname, struct iface_snapshot *s)
{
	int sfd = -1, mfd = -1, xfd = -1, err;

	err = pins_open_map(ifname, "tcpf_stats", &sfd);
	if (!err)
		err = pins_open_map(ifname, "tcpf_meta", &mfd);
	if (!err)
		err = counters_read(sfd, &s->count);
	if (!err)
		err = meta_read(mfd, &s->meta);
	/* attachments made before SYN sources were counted have no map */
	s->nsrcs = 0;
	if (!err && !pins_open_map(ifname, "tcpf_srcs", &xfd)) {
		s->nsrcs = srcs_read(xfd, s->srcs, TCPF_SRC_TOP);
		if (s->nsrcs < 0) {
			err = s->nsrcs;
			s->nsrcs = 0;
		}
	}
	if (sfd >= 0)
		close(sfd);
	if (mfd >= 0)
		close(mfd);
	if (xfd >= 0)
		close(xfd);
	return err;
}

int snapshot_read(const char *ifname, struct iface_snapshot *s)
{
	struct timespec ts;
	int err;

	ruleset_free(&s->rules);
	ruleset_init(&s->rules);
	memset(s->hits, 0, sizeof(s->hits));
	memset(s->drops, 0, sizeof(s->drops));
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->taken_ns = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	err = read_meta_counts(ifname, s);
	if (err)
		return err;
	/* an attachment made with --no-flows still has the maps, all zero */
	s->flows = flowstats_read(ifname, &s->fs) == 0;
	if (!s->flows)
		memset(&s->fs, 0, sizeof(s->fs));
	/* a saved rule set that does not parse reads as none */
	if (policy_load(ifname, &s->rules))
		ruleset_init(&s->rules);
	return policy_read_counts(ifname, s->hits, s->drops);
}

void snapshot_free(struct iface_snapshot *s)
{
	ruleset_free(&s->rules);
}
