// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>
#include "counters.h"
#include "maps.h"

static const char *const counter_names[TCPF_CNT_MAX] = {
	TCPF_COUNTERS(TCPF_X_NAME)
};

static const char *const state_names[TCPF_ST_MAX] = {
	TCPF_STATES(TCPF_X_NAME)
};

static const char *const phase_names[TCPF_PH_MAX] = {
	TCPF_PHASES(TCPF_X_NAME)
};

static const char *const conn_names[TCPF_CONN_MAX] = {
	TCPF_CONN_COUNTERS(TCPF_X_NAME)
};

const char *state_name(__u32 st)
{
	return st < TCPF_ST_MAX ? state_names[st] : "unknown";
}

const char *phase_name(__u32 ph)
{
	return ph < TCPF_PH_MAX ? phase_names[ph] : "unknown";
}

const char *conn_name(__u32 c)
{
	return c < TCPF_CONN_MAX ? conn_names[c] : "unknown";
}

int state_parse(const char *s)
{
	for (int st = TCPF_ST_SYN_SENT; st < TCPF_ST_MAX; st++)
		if (!strcmp(s, state_names[st]))
			return st;
	return -1;
}

static const char *const flag_names[TCPF_NFLAGS] = {
	"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR",
};

const char *flag_name(int bit)
{
	return bit >= 0 && bit < TCPF_NFLAGS ? flag_names[bit] : "?";
}

const char *counter_name(enum tcpf_counter c)
{
	return (unsigned int)c < TCPF_CNT_MAX ? counter_names[c] : "unknown";
}

const char *flags_name(__u8 flags, char *buf, size_t size)
{
	size_t n = 0;

	if (!flags) {
		snprintf(buf, size, "NULL");
		return buf;
	}
	buf[0] = '\0';
	for (int i = 0; i < TCPF_NFLAGS; i++) {
		if (!(flags & (1u << i)))
			continue;
		n += (size_t)snprintf(n < size ? buf + n : NULL,
				      n < size ? size - n : 0, "%s%s",
				      n ? "|" : "", flag_names[i]);
	}
	return buf;
}

/*
 * Every value of a per-CPU array of n entries (vsize bytes each, a multiple
 * of 8) on every CPU, in one batch call: value (key, cpu) at
 * key * ncpu + cpu.  Returns a buffer to free, or NULL with *err set.
 */
static void *percpu_dump(int fd, __u32 n, size_t vsize, int *ncpu, int *err)
{
	__u32 *keys, count = n, out_batch = 0;
	void *vals;

	*ncpu = libbpf_num_possible_cpus();
	if (*ncpu < 0) {
		*err = *ncpu;
		return NULL;
	}
	keys = calloc(n, sizeof(*keys));
	vals = calloc((size_t)n * (size_t)*ncpu, vsize);
	*err = keys && vals ? 0 : -ENOMEM;
	if (!*err && bpf_map_lookup_batch(fd, NULL, &out_batch, keys, vals,
					  &count, NULL) && errno != ENOENT)
		*err = -errno;
	/* arrays come back in key order, all of them */
	if (!*err && count != n)
		*err = -EIO;
	free(keys);
	if (*err) {
		free(vals);
		return NULL;
	}
	return vals;
}

int counters_read(int fd, struct tcpf_snapshot *snap)
{
	int ncpu, err;
	struct tcpf_count *vals = percpu_dump(fd, TCPF_STATS_ENTRIES,
					      sizeof(*vals), &ncpu, &err);

	if (!vals)
		return err;
	memset(snap, 0, sizeof(*snap));
	for (__u32 key = 0; key < TCPF_STATS_ENTRIES; key++) {
		struct tcpf_count *dst = key < TCPF_KEY_CNT(0) ?
			&snap->flags[key / TCPF_PATTERNS][key % TCPF_PATTERNS] :
			&snap->cnt[key - TCPF_KEY_CNT(0)];

		for (int cpu = 0; cpu < ncpu; cpu++) {
			dst->packets += vals[(size_t)key * ncpu + cpu].packets;
			dst->bytes += vals[(size_t)key * ncpu + cpu].bytes;
		}
	}
	free(vals);
	return 0;
}


void counters_totals(const struct tcpf_snapshot *s, struct tcpf_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (int f = 0; f < TCPF_PATTERNS; f++) {
		t->ipv4_tcp += s->flags[TCPF_IPV4][f].packets;
		t->ipv6_tcp += s->flags[TCPF_IPV6][f].packets;
	}
	t->tcp = t->ipv4_tcp + t->ipv6_tcp;
	t->non_tcp = s->cnt[TCPF_CNT_NON_TCP].packets;
	t->tcp_fragment = s->cnt[TCPF_CNT_TCP_FRAGMENT].packets;
	for (int c = TCPF_CNT_MAL_FIRST; c < TCPF_CNT_MAX; c++)
		t->malformed += s->cnt[c].packets;
	t->total = t->tcp + t->non_tcp + t->tcp_fragment + t->malformed;
}

/* Sum a per-CPU array whose values are `words` __u64 each into out. */
static int percpu_sum(int fd, __u64 *out, __u32 n, int words)
{
	int ncpu, err;
	__u64 *vals = percpu_dump(fd, n, (size_t)words * sizeof(*vals), &ncpu,
				  &err);

	if (!vals)
		return err;
	memset(out, 0, (size_t)n * words * sizeof(*out));
	for (__u32 key = 0; key < n; key++)
		for (int cpu = 0; cpu < ncpu; cpu++)
			for (int w = 0; w < words; w++)
				out[(size_t)key * words + w] +=
					vals[((size_t)key * ncpu + cpu) * words + w];
	free(vals);
	return 0;
}

int percpu_u64_read(int fd, __u64 *out, __u32 n)
{
	return percpu_sum(fd, out, n, 1);
}

int percpu_count_read(int fd, struct tcpf_count *out, __u32 n)
{
	_Static_assert(sizeof(*out) % sizeof(__u64) == 0, "words");
	return percpu_sum(fd, (__u64 *)out, n, sizeof(*out) / sizeof(__u64));
}

int flowstats_read(const char *ifname, struct tcpf_flowstats *fs)
{
	int pfd = -1, cfd = -1, tfd = -1, err;
	__u32 zero = 0;

	memset(fs, 0, sizeof(*fs));
	err = map_open(TCPF_MAP_PHASES, ifname, true, &pfd);
	if (!err)
		err = map_open(TCPF_MAP_CONNS, ifname, true, &cfd);
	if (!err)
		err = map_open(TCPF_MAP_CTL, ifname, true, &tfd);
	if (!err)
		err = percpu_u64_read(pfd, &fs->phase[0][0], TCPF_PHASE_ENTRIES);
	if (!err)
		err = percpu_u64_read(cfd, fs->conn, TCPF_CONN_MAX);
	if (!err && bpf_map_lookup_elem(tfd, &zero, &fs->ctl))
		err = -errno;
	if (pfd >= 0)
		close(pfd);
	if (cfd >= 0)
		close(cfd);
	if (tfd >= 0)
		close(tfd);
	return err;
}

int src_cmp(const void *a, const void *b)
{
	const struct src_count *x = a, *y = b;

	if (x->family != y->family)
		return (int)x->family - (int)y->family;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

static int by_syns(const void *a, const void *b)
{
	const struct src_count *x = a, *y = b;

	if (x->syns != y->syns)
		return x->syns < y->syns ? 1 : -1;
	return src_cmp(a, b);
}

int srcs_read(int fd, struct src_count *out, int max)
{
	int ncpu, n = 0, m = 0, err;
	struct tcpf_src *vals = percpu_dump(fd, TCPF_SRC_SLOTS, sizeof(*vals),
					    &ncpu, &err);
	struct src_count *all;

	if (!vals)
		return err;
	all = calloc((size_t)ncpu * TCPF_SRC_SLOTS, sizeof(*all));
	if (!all) {
		free(vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < (size_t)ncpu * TCPF_SRC_SLOTS; i++) {
		const struct tcpf_src *v = &vals[i];

		if (!v->used || !v->syns)
			continue;
		all[n].family = v->family;
		memcpy(all[n].addr, v->addr, sizeof(all[n].addr));
		all[n++].syns = v->syns;
	}
	if (n > 0) {
		/* one source on several CPUs: one line */
		qsort(all, (size_t)n, sizeof(*all), src_cmp);
		for (int i = 0; i < n; i++) {
			if (m && !src_cmp(&all[m - 1], &all[i]))
				all[m - 1].syns += all[i].syns;
			else
				all[m++] = all[i];
		}
		qsort(all, (size_t)m, sizeof(*all), by_syns);
		n = m < max ? m : max;
		memcpy(out, all, (size_t)n * sizeof(*out));
	}
	free(vals);
	free(all);
	return n;
}

const char *src_name(const struct src_count *s, char *buf, size_t size)
{
	if (!inet_ntop(s->family == TCPF_IPV4 ? AF_INET : AF_INET6, s->addr,
		       buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}
