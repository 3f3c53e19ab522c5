// SPDX-License-Identifier: GPL-2.0-only
/* guardstate.c - an interface's guard as the maps hold it: its slot, its
 * settings, the timer's state, its counters; read at one moment, shown. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include "tcpflags.h"
#include "cli.h"
#include "counters.h"
#include "guardstate.h"
#include "maps.h"

const char *const guard_mode_names[TCPF_GM_MAX] = {
	TCPF_GUARD_MODES(TCPF_X_NAME)
};
const char *const guard_counter_names[TCPF_GC_MAX] = {
	TCPF_GUARD_COUNTERS(TCPF_X_NAME)
};

int guard_slot_of(int fd, unsigned int ifindex, bool alloc, __u32 *slot)
{
	struct tcpf_gconf gc;
	int free_slot = -1;
	char name[IF_NAMESIZE];

	for (__u32 i = 0; i < TCPF_GUARD_SLOTS; i++) {
		if (bpf_map_lookup_elem(fd, &i, &gc))
			return -errno;
		if (gc.ifindex == ifindex) {
			*slot = i;
			return 0;
		}
		/* free, or left by an interface that is gone */
		if (free_slot < 0 &&
		    (!gc.ifindex || !if_indextoname(gc.ifindex, name)))
			free_slot = (int)i;
	}
	if (!alloc)
		return -ENOENT;
	if (free_slot < 0)
		return -ENOSPC;
	*slot = (__u32)free_slot;
	return 0;
}

__u32 guard_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u32)ts.tv_sec;
}

/* Sum of one counter of a slot over the CPUs. */
int guard_stats_read(const char *ifname, __u32 slot, __u64 *out)
{
	__u64 *all = calloc(TCPF_GUARD_SLOTS * TCPF_GC_MAX, sizeof(*all));
	int fd, err;

	if (!all)
		return -ENOMEM;
	err = map_open(TCPF_MAP_GSTATS, ifname, true, &fd);
	if (!err) {
		err = percpu_u64_read(fd, all, TCPF_GUARD_SLOTS * TCPF_GC_MAX);
		close(fd);
	}
	if (!err)
		memcpy(out, all + slot * TCPF_GC_MAX, TCPF_GC_MAX * sizeof(*out));
	free(all);
	return err;
}

static void ports_text(const struct tcpf_gconf *gc, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (long p = 1; p <= 65535 && n + 16 < size; p++) {
		long q = p;

		if (!(gc->ports[p / 64] & (1ULL << (p % 64))))
			continue;
		while (q < 65535 && (gc->ports[(q + 1) / 64] &
				     (1ULL << ((q + 1) % 64))))
			q++;
		n += (size_t)snprintf(buf + n, size - n, n ? ",%ld" : "%ld", p);
		if (q > p)
			n += (size_t)snprintf(buf + n, size - n, "-%ld", q);
		p = q;
	}
}

/* Sources verified now: the table read in batches, a few syscalls. */
static int verified_count(const char *ifname, __u32 now)
{
	enum { BATCH = 4096 };
	struct tcpf_gverified *v = malloc(BATCH * sizeof(*v));
	__u32 *keys = malloc(BATCH * sizeof(*keys)), out = 0;
	int fd, n = 0, err = 0;
	bool first = true;

	if (!v || !keys || map_open(TCPF_MAP_GVERIFIED, ifname, true, &fd)) {
		free(v);
		free(keys);
		return 0;
	}
	while (!err) {
		__u32 count = BATCH;

		err = bpf_map_lookup_batch(fd, first ? NULL : &out, &out, keys,
					   v, &count, NULL) ? -errno : 0;
		first = false;
		for (__u32 i = 0; i < count; i++)
			if (v[i].family && (__s32)(v[i].until - now) > 0)
				n++;
	}
	close(fd);
	free(v);
	free(keys);
	return n;
}

int guard_read(const char *ifname, unsigned int ifindex, bool verified,
	       struct guard_view *v)
{
	int fd, sfd, err = map_open(TCPF_MAP_GCONF, ifname, true, &fd);
	__u32 slot;

	if (err)
		return err;
	err = guard_slot_of(fd, ifindex, false, &slot);
	if (!err && bpf_map_lookup_elem(fd, &slot, &v->gc))
		err = -errno;
	close(fd);
	if (!err)
		err = map_open(TCPF_MAP_GSTATE, ifname, true, &sfd);
	if (err)
		return err;
	if (bpf_map_lookup_elem(sfd, &slot, &v->gs))
		err = -errno;
	close(sfd);
	if (!err)
		err = guard_stats_read(ifname, slot, v->c);
	if (err)
		return err;
	v->now = guard_mono_now();
	v->verified = verified ? verified_count(ifname, v->now) : -1;
	v->engaged = v->gc.mode == TCPF_GM_AUTO ? v->gs.engaged :
		     v->gc.mode == TCPF_GM_COOKIE || v->gc.mode == TCPF_GM_AUTH;
	ports_text(&v->gc, v->ports, sizeof(v->ports));
	return 0;
}

/* A CLOCK_MONOTONIC second as wall-clock seconds (0: never). */
static long long wall(const struct guard_view *v, __u32 t)
{
	return t ? (long long)time(NULL) - (long long)(v->now - t) : 0;
}

void guard_view_json(const char *ifname, const struct guard_view *v)
{
	const struct tcpf_gconf *gc = &v->gc;
	const struct tcpf_gstate *gs = &v->gs;

	printf("{\"interface\": ");
	json_string(ifname);
	printf(", \"mode\": \"%s\", \"engage\": \"%s\", \"ports\": \"%s\", "
	       "\"engaged\": %s, \"engaged_since\": ",
	       guard_mode_names[gc->mode < TCPF_GM_MAX ? gc->mode : 0],
	       guard_mode_names[gc->engage < TCPF_GM_MAX ? gc->engage : 0], v->ports,
	       v->engaged ? "true" : "false");
	if (v->engaged && gc->mode == TCPF_GM_AUTO)
		printf("%lld", wall(v, gs->engaged_at));
	else if (v->engaged)
		printf("%lld", wall(v, gc->set_at));
	else
		printf("null");
	printf(", \"last_engaged\": ");
	if (gs->engaged_at)
		printf("%lld", wall(v, gs->engaged_at));
	else
		printf("null");
	printf(", \"last_released\": ");
	if (gs->released_at)
		printf("%lld", wall(v, gs->released_at));
	else
		printf("null");
	printf(", \"syn_rate\": %u, \"completion_ratio\": %.3f, "
	       "\"verified_sources\": %d, \"counters\": {",
	       gs->syn_rate, gs->ratio / 1000.0, v->verified);
	for (int i = 0; i < TCPF_GC_MAX; i++)
		printf("%s\"%s\": %llu", i ? ", " : "", guard_counter_names[i],
		       (unsigned long long)v->c[i]);
	printf("}, \"settings\": {\"syn_rate\": %u, \"calm_rate\": %u, "
	       "\"ratio\": %.3f, \"calm\": %u, \"auth_min\": %u, "
	       "\"auth_max\": %u, \"ttl\": %u, \"rotate\": %u, "
	       "\"window_scale\": %u, \"mss4\": %u, \"mss6\": %u}}",
	       gc->syn_on, gc->syn_off, gc->ratio_on / 1000.0, gc->calm,
	       gc->auth_min, gc->auth_max, gc->verified_ttl, gc->rotate,
	       gc->wscale, gc->mss4, gc->mss6);
}

void guard_view_text(const char *ifname, const struct guard_view *v)
{
	const struct tcpf_gconf *gc = &v->gc;
	const struct tcpf_gstate *gs = &v->gs;
	const __u64 *c = v->c;

	printf("guard on %s: %s", ifname, guard_mode_names[gc->mode % TCPF_GM_MAX]);
	if (gc->mode == TCPF_GM_AUTO)
		printf(" (%s when engaged)", guard_mode_names[gc->engage % TCPF_GM_MAX]);
	printf(", ports %s\n", v->ports[0] ? v->ports : "none");
	if (gc->mode == TCPF_GM_AUTO) {
		if (gs->engaged)
			printf("  engaged %u s ago\n", v->now - gs->engaged_at);
		else if (gs->released_at)
			printf("  calm; released %u s ago\n",
			       v->now - gs->released_at);
		else
			printf("  calm; never engaged\n");
	}
	printf("  SYNs %u/s, handshakes completed %.1f%%, %d verified sources\n",
	       gs->syn_rate, gs->ratio / 10.0, v->verified);
	printf("  cookies sent %llu, validated %llu, failed %llu; handed to "
	       "the kernel %llu (failed %llu); RSTs %llu\n",
	       (unsigned long long)c[TCPF_GC_COOKIE_SENT],
	       (unsigned long long)c[TCPF_GC_COOKIE_VALID],
	       (unsigned long long)c[TCPF_GC_COOKIE_FAILED],
	       (unsigned long long)c[TCPF_GC_HANDOFF],
	       (unsigned long long)c[TCPF_GC_HANDOFF_FAILED],
	       (unsigned long long)c[TCPF_GC_RST]);
	printf("  auth challenges %llu, passes %llu; verified passes %llu; "
	       "rate-limited %llu; left to the kernel %llu\n",
	       (unsigned long long)c[TCPF_GC_AUTH_CHALLENGE],
	       (unsigned long long)c[TCPF_GC_AUTH_PASS],
	       (unsigned long long)c[TCPF_GC_VERIFIED],
	       (unsigned long long)c[TCPF_GC_RL_DROP],
	       (unsigned long long)c[TCPF_GC_UNSUPPORTED]);
	if (gc->mode == TCPF_GM_MONITOR)
		printf("  monitor: cookie would answer %llu SYNs and drop %llu "
		       "ACKs\n", (unsigned long long)c[TCPF_GC_WOULD_COOKIE],
		       (unsigned long long)c[TCPF_GC_WOULD_DROP]);
}

