// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "attached.h"
#include "maps.h"
#include "pins.h"
#include "policy.h"
#include "snapshot.h"
#include "timefmt.h"

static int read_srcs(const char *ifname, struct iface_snapshot *s)
{
	int ncpu = libbpf_num_possible_cpus(), fd, n;

	s->nsrcs = 0;
	/* attachments made before SYN sources were counted have no map */
	if (map_open(TCPF_MAP_SRCS, ifname, true, &fd))
		return 0;
	if (ncpu > 0 && s->srcs_cap < ncpu * TCPF_SRC_SLOTS) {
		free(s->srcs);
		s->srcs_cap = ncpu * TCPF_SRC_SLOTS;
		s->srcs = calloc((size_t)s->srcs_cap, sizeof(*s->srcs));
		if (!s->srcs)
			s->srcs_cap = 0;
	}
	n = s->srcs ? srcs_read(fd, s->srcs, s->srcs_cap) : -ENOMEM;
	close(fd);
	if (n < 0)
		return n;
	s->nsrcs = n;
	return 0;
}

static int read_meta_counts(const char *ifname, struct iface_snapshot *s)
{
	int sfd = -1, mfd = -1, err;

	err = map_open(TCPF_MAP_STATS, ifname, true, &sfd);
	if (!err)
		err = map_open(TCPF_MAP_META, ifname, true, &mfd);
	if (!err)
		err = counters_read(sfd, &s->count);
	if (!err)
		err = meta_read(mfd, &s->meta);
	if (sfd >= 0)
		close(sfd);
	if (mfd >= 0)
		close(mfd);
	return err;
}

int snapshot_read(const char *ifname, struct iface_snapshot *s,
		  unsigned int what)
{
	int err;

	ruleset_free(&s->rules);
	ruleset_init(&s->rules);
	memset(s->hits, 0, sizeof(s->hits));
	memset(s->drops, 0, sizeof(s->drops));
	s->nsrcs = 0;
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	s->taken_ns = mono_ns();
	err = read_meta_counts(ifname, s);
	if (err)
		return err;
	s->attached = iface_attached(ifname, &s->meta, &s->mode);
	/* an attachment made with --no-flows still has the maps, all zero */
	s->flows = flowstats_read(ifname, &s->fs) == 0;
	if (!s->flows)
		memset(&s->fs, 0, sizeof(s->fs));
	if (policy_load_quiet(ifname, &s->rules, s->rules_error,
			      sizeof(s->rules_error)))
		ruleset_init(&s->rules);
	err = policy_read_counts(ifname, s->hits, s->drops);
	/* an attachment of a tcpflags without the guard has no slot */
	s->guarded = !err && guard_read(ifname, s->meta.ifindex,
					   what & SNAP_VERIFIED, &s->guard) == 0;
	if (!err && (what & SNAP_SRCS))
		err = read_srcs(ifname, s);
	return err;
}

int snapshot_copy(struct iface_snapshot *dst, const struct iface_snapshot *src)
{
	struct src_count *srcs = dst->srcs;
	int cap = dst->srcs_cap;

	ruleset_free(&dst->rules);
	if (src && src->nsrcs > cap) {
		free(srcs);
		cap = src->nsrcs;
		srcs = malloc((size_t)cap * sizeof(*srcs));
		if (!srcs)
			cap = 0;
	}
	if (src)
		memcpy(dst, src, sizeof(*dst));
	else
		memset(dst, 0, sizeof(*dst));
	ruleset_init(&dst->rules);
	dst->srcs = srcs;
	dst->srcs_cap = cap;
	dst->nsrcs = src && srcs ? src->nsrcs : 0;
	if (dst->nsrcs)
		memcpy(srcs, src->srcs, (size_t)dst->nsrcs * sizeof(*srcs));
	return src && src->nsrcs && !srcs ? -ENOMEM : 0;
}

void snapshot_free(struct iface_snapshot *s)
{
	ruleset_free(&s->rules);
	free(s->srcs);
	s->srcs = NULL;
	s->srcs_cap = s->nsrcs = 0;
}
