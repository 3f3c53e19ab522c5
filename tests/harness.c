// SPDX-License-Identifier: GPL-2.0-only
/* harness.c - see harness.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "harness.h"
#include "policy.h"
#include "counters.h"
#include "skel.h"
#include "check.h"

static const char *const drop_names[TCPF_DROP_MAX] = {
	"rule", "ratelimit", "default", "would_drop",
};

static const __u32 class_size[HX_CLASSES] = {
	[HX_STATS] = TCPF_STATS_ENTRIES,
	[HX_PHASES] = TCPF_PHASE_ENTRIES,
	[HX_HITS] = TCPF_RULES_MAX + 1,
	[HX_DROPS] = TCPF_DROP_MAX,
};

static void hx_fds(struct hx *h)
{
	static const char *const names[] = {
		"tcpf_stats", "tcpf_phases", "tcpf_conns", "tcpf_rhits",
		"tcpf_drops", "tcpf_flows", "tcpf_syns", "tcpf_ctl",
		"tcpf_ratelimit", "tcpf_srcs", "tcpf_policy", "tcpf_rulesets",
	};
	int *fds[] = { &h->stats, &h->phases, &h->conns, &h->hits, &h->drops,
		       &h->flows, &h->syns, &h->ctl, &h->rl, &h->srcs,
		       &h->policy, &h->sets };
	struct tcpflags_bpf *s = h->skel;

	_Static_assert(sizeof(names) / sizeof(names[0]) ==
		       sizeof(fds) / sizeof(fds[0]), "a name per map fd");
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		*fds[i] = bpf_object__find_map_fd_by_name(s->obj, names[i]);
	h->prog[HX_IN] = bpf_program__fd(s->progs.tcpf_xdp);
	h->prog[HX_EG] = bpf_program__fd(s->progs.tcpf_egress);
	h->arm = bpf_program__fd(s->progs.tcpf_reaper_arm);
}

int hx_open(struct hx *h, const char *tag, const struct hx_opts *o)
{
	const char *t = tag && *tag ? tag : "harness";

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(h, 0, sizeof(*h));
	h->tag = tag;
	h->ncpus = libbpf_num_possible_cpus();
	if (h->ncpus <= 0) {
		printf("FAIL %s_load: cannot count the CPUs\n", t);
		return -1;
	}
	h->skel = skel_open_private();
	if (!h->skel) {
		printf("FAIL %s_load: cannot open the BPF object\n", t);
		return -1;
	}
	h->skel->rodata->tcpf_flows_on = o->flows;
	if (o->buckets) {
		bpf_map__set_max_entries(h->skel->maps.tcpf_flows, o->buckets);
		h->skel->rodata->tcpf_buckets_mask = o->buckets - 1;
	}
	if (o->slots) {
		bpf_map__set_max_entries(h->skel->maps.tcpf_syns, o->slots);
		h->skel->rodata->tcpf_syns_mask = o->slots - 1;
	}
	if (tcpflags_bpf__load(h->skel)) {
		printf("FAIL %s_load: the verifier rejected the program (%s)\n",
		       t, strerror(errno));
		tcpflags_bpf__destroy(h->skel);
		h->skel = NULL;
		return -1;
	}
	hx_fds(h);
	return 0;
}

void hx_close(struct hx *h)
{
	tcpflags_bpf__destroy(h->skel);
	h->skel = NULL;
}

__u32 hx_verdict(int dir, int drop)
{
	if (dir == HX_IN)
		return drop ? XDP_DROP : XDP_PASS;
	return drop ? TC_ACT_SHOT : TC_ACT_OK;
}

int hx_run_fd(int prog_fd, const __u8 *buf, __u32 len, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .data_size_in = len, .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	*retval = opts.retval;
	return 0;
}

int hx_run(const struct hx *h, int dir, const __u8 *buf, __u32 len,
	   __u32 *retval)
{
	return hx_run_fd(h->prog[dir], buf, len, retval);
}

static const char *prog_name(int dir)
{
	return dir == HX_IN ? "tcpf_xdp" : "tcpf_egress";
}

int hx_run_pass(const struct hx *h, int dir, const __u8 *buf, __u32 len,
		char *why, size_t n)
{
	__u32 ret = 0;
	int err = hx_run(h, dir, buf, len, &ret);

	if (err) {
		snprintf(why, n, "test run failed: %s", strerror(-err));
		return -1;
	}
	if (ret != hx_verdict(dir, 0)) {
		snprintf(why, n, "%s returned %u, want %u", prog_name(dir), ret,
			 hx_verdict(dir, 0));
		return -1;
	}
	return 0;
}

static int class_fd(const struct hx *h, int cls)
{
	return cls == HX_STATS ? h->stats : cls == HX_PHASES ? h->phases :
	       cls == HX_HITS ? h->hits : h->drops;
}

void hx_snap(const struct hx *h, unsigned int watch, struct hx_counts *c)
{
	static __u64 v[HX_ENTRIES];

	for (int cls = 0; cls < HX_CLASSES; cls++) {
		int err;

		memset(c->c[cls], 0, sizeof(c->c[cls]));
		if (!(watch & HX_WATCH(cls)))
			continue;
		if (cls == HX_PHASES) {
			err = percpu_u64_read(h->phases, v, class_size[cls]);
			for (__u32 k = 0; !err && k < class_size[cls]; k++)
				c->c[cls][k].packets = v[k];
		} else if (cls == HX_HITS) {
			/* by rule id, as tcpflags reads them */
			err = policy_hits_read(h->hits, h->policy, c->c[cls]);
		} else {
			err = percpu_count_read(class_fd(h, cls), c->c[cls],
						class_size[cls]);
		}
		if (err) {
			printf("FAIL counters: cannot read them: %s\n",
			       strerror(-err));
			exit(1);
		}
	}
}

void hx_key_name(int cls, __u32 key, char *buf, size_t n)
{
	char f[40];

	if (cls == HX_STATS && key < TCPF_KEY_CNT(0))
		snprintf(buf, n, "%s %s", key / TCPF_PATTERNS ? "v6" : "v4",
			 flags_name(key % TCPF_PATTERNS, f, sizeof(f)));
	else if (cls == HX_STATS)
		snprintf(buf, n, "%s", counter_name(key - TCPF_KEY_CNT(0)));
	else if (cls == HX_PHASES)
		snprintf(buf, n, "%s %s", key / TCPF_PH_MAX ? "egress" : "ingress",
			 phase_name(key % TCPF_PH_MAX));
	else if (cls == HX_HITS)
		snprintf(buf, n, "hits[%u]", key);
	else
		snprintf(buf, n, "drops.%s", drop_names[key]);
}

int hx_moved(const struct hx_counts *before, const struct hx_counts *after,
	     const struct hx_counts *want, unsigned int watch, char *why,
	     size_t n)
{
	size_t used = 0;
	char name[48];

	why[0] = '\0';
	for (int cls = 0; cls < HX_CLASSES; cls++) {
		if (!(watch & HX_WATCH(cls)))
			continue;
		for (__u32 k = 0; k < class_size[cls] && used < n; k++) {
			const struct tcpf_count *b = &before->c[cls][k];
			const struct tcpf_count *a = &after->c[cls][k];
			const struct tcpf_count *w = &want->c[cls][k];
			__u64 dp = a->packets - b->packets;
			__u64 db = a->bytes - b->bytes;

			if (dp == w->packets && db == w->bytes)
				continue;
			hx_key_name(cls, k, name, sizeof(name));
			used += (size_t)snprintf(why + used, n - used,
				"%s'%s' moved by %llu packets %llu bytes, want "
				"%llu/%llu", used ? "; " : "", name,
				(unsigned long long)dp, (unsigned long long)db,
				(unsigned long long)w->packets,
				(unsigned long long)w->bytes);
		}
	}
	return used != 0;
}

void hx_want_counts(const struct hx_want *w, __u32 len, struct hx_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < w->nmoves; i++) {
		const struct hx_move *m = &w->move[i];
		struct tcpf_count *e = &c->c[m->cls][m->key];

		e->packets += m->packets;
		if (m->cls != HX_PHASES)
			e->bytes += m->packets * len;
	}
}

int hx_frame(const struct hx *h, const struct hx_want *want,
	     const __u8 *buf, __u32 len, char *why, size_t n)
{
	static struct hx_counts before, after, w;
	__u32 ret = 0, v = hx_verdict(want->dir, want->drop);
	int err;

	hx_snap(h, want->watch, &before);
	err = hx_run(h, want->dir, buf, len, &ret);
	if (err) {
		snprintf(why, n, "test run failed: %s", strerror(-err));
		return -1;
	}
	hx_snap(h, want->watch, &after);
	hx_want_counts(want, len, &w);
	if (ret != v) {
		size_t used = (size_t)snprintf(why, n, "%s returned %u, want %u"
			" (%s)", prog_name(want->dir), ret, v,
			want->drop ? "drop" : "pass");

		if (used + 2 < n && hx_moved(&before, &after, &w, want->watch,
					     why + used + 2, n - used - 2))
			/* joins the two messages (the second is terminated):
			 * NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
			memcpy(why + used, "; ", 2);
		return -1;
	}
	return hx_moved(&before, &after, &w, want->watch, why, n) ? -1 : 0;
}

void hx_check(const struct hx *h, int ok, const char *name,
	      const char *fmt, ...)
{
	char full[160], why[2048];
	va_list ap;

	if (h && h->tag && *h->tag)
		snprintf(full, sizeof(full), "%s_%s", h->tag, name);
	else
		snprintf(full, sizeof(full), "%s", name);
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	check_report(ok, full, "%s", why);
}

int hx_failed(void)
{
	return check_failed;
}

int hx_done(const char *suite)
{
	return check_done(suite);
}

int hx_flags(const char *s)
{
	static const char letters[] = "FSRPAUEC";
	int f = 0;

	if (!strcmp(s, "-"))
		return 0;
	for (; *s; s++) {
		const char *p = strchr(letters, *s);

		if (!p || !*s)
			return -1;
		f |= 1 << (p - letters);
	}
	return f;
}

int hx_lookup(const char *s, const char *(*name)(__u32), int max)
{
	for (int i = 0; i < max; i++)
		if (!strcmp(s, name((__u32)i)))
			return i;
	return -1;
}
