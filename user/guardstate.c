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
#include "glist.h"
#include "guardstate.h"
#include "maps.h"

void guard_set_init(struct guard_set *g)
{
	memset(g, 0, sizeof(*g));
	g->mode = g->engage = -1;
	g->rate = g->burst = g->global_rate = -1;
	g->auth_min = g->auth_max = g->ttl = g->rotate = -1;
	g->syn_on = g->syn_off = g->calm = -1;
	g->ratio = -1;
}

void guard_rl_act(struct tcpf_rule_act *a, long long rate, long long burst,
		  int per, __u16 id)
{
	char text[80];

	memset(a, 0, sizeof(*a));
	if (rate <= 0)
		return;
	a->id = id;
	a->action = TCPF_ACT_RATELIMIT;
	a->rl_per = (__u8)per;
	a->rl_plen = 128;
	a->rl_cost = 1000000000ULL / (unsigned long long)rate;
	a->rl_depth = a->rl_cost * (unsigned long long)(burst > 0 ? burst : 1);
	snprintf(text, sizeof(text), "guard %lld/s burst %lld per %d", rate,
		 burst, per);
	a->rl_salt = tcpf_rule_salt(text);
}

int guard_ports_parse(const char *s, struct guard_set *g, char *why,
		      size_t size)
{
	char *copy = strdup(s), *save = NULL, *tok;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-'), *end;
		long lo, hi;

		lo = strtol(tok, &end, 10);
		hi = lo;
		if (dash && end == dash)
			hi = strtol(dash + 1, &end, 10);
		if (*end || end == tok || lo < 1 || hi > 65535 || lo > hi) {
			snprintf(why, size, "'%s' is not a port (1..65535) "
				 "nor a range N-M", tok);
			err = -EINVAL;
			break;
		}
		for (long p = lo; p <= hi; p++)
			g->ports[p / 64] |= 1ULL << (p % 64);
		g->ports_given = true;
	}
	if (!err && !g->ports_given) {
		snprintf(why, size, "'%s' names no port", s);
		err = -EINVAL;
	}
	free(copy);
	return err;
}

extern const char *const guard_mode_names[TCPF_GM_MAX];

/* The settings of a guard line that take a whole number, besides
 * port, engage and ratio (guard_words_parse()). */
static const struct {
	const char *word;
	size_t off;
	long long lo, hi;
	const char *metavar;
} ints[] = {
	{ "syn-rate", offsetof(struct guard_set, syn_on), 1, 1000000000, "N" },
	{ "calm-rate", offsetof(struct guard_set, syn_off), 0, 1000000000, "N" },
	{ "calm", offsetof(struct guard_set, calm), 1, 86400, "SECONDS" },
	{ "rate", offsetof(struct guard_set, rate), 1, 1000000000, "N" },
	{ "burst", offsetof(struct guard_set, burst), 1, 1000000000, "N" },
	{ "global-rate", offsetof(struct guard_set, global_rate), 0, 1000000000, "N" },
	{ "auth-min", offsetof(struct guard_set, auth_min), 1, 3600, "SECONDS" },
	{ "auth-max", offsetof(struct guard_set, auth_max), 1, 3600, "SECONDS" },
	{ "ttl", offsetof(struct guard_set, ttl), 1, 30 * 86400, "SECONDS" },
	{ "rotate", offsetof(struct guard_set, rotate), 1, 86400, "SECONDS" },
};

#define GW_PORT "port"
#define GW_ENGAGE "engage"
#define GW_RATIO "ratio"

const char *guard_setting(int i, const char **metavar)
{
	static const struct { const char *word, *metavar; } others[] = {
		{ GW_PORT, "N[,N|N-M]" }, { GW_ENGAGE, "cookie|auth" },
		{ GW_RATIO, "R" },
	};
	int n = (int)(sizeof(others) / sizeof(others[0]));

	if (i >= 0 && i < n) {
		*metavar = others[i].metavar;
		return others[i].word;
	}
	i -= n;
	if (i >= 0 && i < (int)(sizeof(ints) / sizeof(ints[0]))) {
		*metavar = ints[i].metavar;
		return ints[i].word;
	}
	return NULL;
}

/* A rules file's `guard MODE [WORD VALUE]...`: the options as words. */
int guard_words_parse(char **w, int n, struct guard_set *g, char *why,
		      size_t size)
{
	int i;

	guard_set_init(g);
	if (n < 1) {
		snprintf(why, size, "guard needs a mode (off|monitor|ratelimit|"
			 "auth|cookie|auto)");
		return -EINVAL;
	}
	for (g->mode = 0; g->mode < TCPF_GM_MAX; g->mode++)
		if (!strcmp(w[0], guard_mode_names[g->mode]))
			break;
	if (g->mode == TCPF_GM_MAX) {
		snprintf(why, size, "unknown guard mode '%s' (off|monitor|"
			 "ratelimit|auth|cookie|auto)", w[0]);
		return -EINVAL;
	}
	for (i = 1; i < n; i += 2) {
		const char *k = w[i], *v = i + 1 < n ? w[i + 1] : NULL;
		char sub[96];
		size_t j;

		if (!v) {
			snprintf(why, size, "guard: '%s' needs a value", k);
			return -EINVAL;
		}
		if (!strcmp(k, GW_PORT)) {
			if (guard_ports_parse(v, g, sub, sizeof(sub)))
				goto bad;
			continue;
		}
		if (!strcmp(k, GW_ENGAGE)) {
			g->engage = !strcmp(v, "cookie") ? TCPF_GM_COOKIE :
				    !strcmp(v, "auth") ? TCPF_GM_AUTH : -1;
			if (g->engage < 0) {
				snprintf(sub, sizeof(sub), "'%s' is not cookie "
					 "or auth", v);
				goto bad;
			}
			continue;
		}
		if (!strcmp(k, GW_RATIO)) {
			double r;

			if (cli_parse_seconds(v, 0, 1, &r, sub, sizeof(sub)))
				goto bad;
			g->ratio = r;
			continue;
		}
		for (j = 0; j < sizeof(ints) / sizeof(ints[0]); j++)
			if (!strcmp(k, ints[j].word))
				break;
		if (j == sizeof(ints) / sizeof(ints[0])) {
			snprintf(why, size, "guard: unknown setting '%s'", k);
			return -EINVAL;
		}
		if (cli_parse_int(v, ints[j].lo, ints[j].hi,
				  (long long *)((char *)g + ints[j].off), sub,
				  sizeof(sub)))
			goto bad;
		continue;
bad:
		snprintf(why, size, "guard %s: %s", k, sub);
		return -EINVAL;
	}
	return 0;
}

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

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the reaper's clock */
	return (__u32)ts.tv_sec;
}

__u32 guard_clock_now(const char *ifname)
{
	struct tcpf_ctl ctl;
	__u32 zero = 0;
	int fd = -1;

	if (map_open(TCPF_MAP_CTL, ifname, true, &fd))
		return guard_mono_now();
	if (bpf_map_lookup_elem(fd, &zero, &ctl) || !ctl.now)
		ctl.now = guard_mono_now();
	close(fd);
	return ctl.now;
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

/* Sources verified now: the table read in batches, 16 syscalls of ~0.6
 * ms each for its 65536 slots. */
static int verified_batch(int fd, __u32 now)
{
	enum { BATCH = 4096 };
	struct tcpf_gverified *v = malloc(BATCH * sizeof(*v));
	__u32 *keys = malloc(BATCH * sizeof(*keys)), out = 0;
	int n = 0, err = !v || !keys;
	bool first = true;

	while (!err) {
		__u32 count = BATCH;

		err = bpf_map_lookup_batch(fd, first ? NULL : &out, &out, keys,
					   v, &count, NULL) ? -errno : 0;
		first = false;
		for (__u32 i = 0; i < count; i++)
			if (v[i].family && tcpf_ahead(v[i].until, now))
				n++;
	}
	free(v);
	free(keys);
	return n;
}

/*
 * Sources verified now.  Only slots whose tcpf_gvbits bit is set can hold
 * one (a bit goes only once its source has expired): with few of them,
 * those slots alone, one lookup each, where a batch read of the whole
 * table took ~10 ms of every scrape.
 */
static int verified_count(const char *ifname, __u32 now)
{
	enum { FEW = 2048 };
	struct tcpf_gvbits *bits = malloc(sizeof(*bits));
	struct tcpf_gverified v;
	__u32 zero = 0, slot;
	int fd, bfd, n = 0, set = 0;

	if (!bits || map_open(TCPF_MAP_GVERIFIED, ifname, true, &fd)) {
		free(bits);
		return 0;
	}
	if (map_open(TCPF_MAP_GVBITS, ifname, true, &bfd) == 0) {
		if (bpf_map_lookup_elem(bfd, &zero, bits))
			set = FEW + 1;
		close(bfd);
	} else {
		set = FEW + 1;
	}
	for (int w = 0; set <= FEW && w < TCPF_GUARD_VERIFIED_SLOTS / 64; w++)
		set += __builtin_popcountll(bits->w[w]);
	if (set > FEW) {
		n = verified_batch(fd, now);
	} else {
		for (int w = 0; w < TCPF_GUARD_VERIFIED_SLOTS / 64; w++)
			for (__u64 b = bits->w[w]; b; b &= b - 1) {
				slot = (__u32)w * 64 + (__u32)__builtin_ctzll(b);
				if (!bpf_map_lookup_elem(fd, &slot, &v) &&
				    v.family && tcpf_ahead(v.until, now))
					n++;
			}
	}
	close(fd);
	free(bits);
	return n;
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC now: a monotonic second as wall-clock
 * time, the same whenever a read is shown (top draws after it reads). */
static long long rt_offset_ns(void)
{
	struct timespec m, r;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	return ((long long)r.tv_sec - m.tv_sec) * 1000000000LL +
	       (r.tv_nsec - m.tv_nsec);
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
	v->now = guard_clock_now(ifname);
	v->rt_ns = rt_offset_ns();
	v->verified = verified ? verified_count(ifname, v->now) : -1;
	if (v->gc.listed)
		glist_counts(ifname, slot, v->now, v->listed);
	else	/* the data path's count too: nothing to read */
		v->listed[TCPF_GL_ALLOW] = v->listed[TCPF_GL_DENY] = 0;
	v->engaged = v->gc.mode == TCPF_GM_AUTO ? v->gs.engaged :
		     v->gc.mode == TCPF_GM_COOKIE || v->gc.mode == TCPF_GM_AUTH;
	ports_text(&v->gc, v->ports, sizeof(v->ports));
	return 0;
}

long long guard_wall(const struct guard_view *v, __u32 t)
{
	return t ? ((long long)t * 1000000000LL + v->rt_ns) / 1000000000LL : 0;
}

/* ", \"name\": " and t in wall-clock seconds, or null for never (0). */
static void json_time(const char *name, const struct guard_view *v, __u32 t)
{
	printf(", \"%s\": ", name);
	if (t)
		printf("%lld", guard_wall(v, t));
	else
		printf("null");
}

__u32 guard_engaged_at(const struct guard_view *v)
{
	if (!v->engaged)
		return 0;
	return v->gc.mode == TCPF_GM_AUTO ? v->gs.engaged_at : v->gc.set_at;
}

void guard_view_json(const char *ifname, const struct guard_view *v)
{
	const struct tcpf_gconf *gc = &v->gc;
	const struct tcpf_gstate *gs = &v->gs;

	printf("{\"interface\": ");
	json_string(ifname);
	printf(", \"mode\": \"%s\", \"engage\": \"%s\", \"ports\": \"%s\", "
	       "\"engaged\": %s",
	       guard_mode_names[gc->mode < TCPF_GM_MAX ? gc->mode : 0],
	       guard_mode_names[gc->engage < TCPF_GM_MAX ? gc->engage : 0], v->ports,
	       v->engaged ? "true" : "false");
	json_time("engaged_since", v, guard_engaged_at(v));
	json_time("last_engaged", v, gs->engaged_at);
	json_time("last_released", v, gs->released_at);
	printf(", \"syn_rate\": %u, \"completion_ratio\": %.3f, "
	       "\"verified_sources\": %d, \"lists\": {\"allow\": %d, "
	       "\"deny\": %d}, \"counters\": {",
	       gs->syn_rate, gs->ratio / 1000.0, v->verified,
	       v->listed[TCPF_GL_ALLOW], v->listed[TCPF_GL_DENY]);
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
	printf("  allow list %d prefixes, passed %llu; deny list %d prefixes, "
	       "dropped %llu\n", v->listed[TCPF_GL_ALLOW],
	       (unsigned long long)c[TCPF_GC_ALLOW], v->listed[TCPF_GL_DENY],
	       (unsigned long long)c[TCPF_GC_DENY]);
	if (gc->mode == TCPF_GM_MONITOR)
		printf("  monitor: cookie would answer %llu SYNs and drop %llu "
		       "ACKs\n", (unsigned long long)c[TCPF_GC_WOULD_COOKIE],
		       (unsigned long long)c[TCPF_GC_WOULD_DROP]);
}

