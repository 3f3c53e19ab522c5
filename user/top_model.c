// SPDX-License-Identifier: GPL-2.0-only
/* top_model.c - reading the interfaces top shows, and their figures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "attached.h"
#include "counters.h"
#include "maps.h"
#include "pins.h"
#include "timefmt.h"
#include "top_model.h"

#define PINNED_MAX 256         /* pinned interfaces a rescan looks at */
#define RAW_WORDS (sizeof(struct raw) / sizeof(__u64))
_Static_assert(sizeof(struct raw) % sizeof(__u64) == 0, "raw: __u64 only");

/* ------------------------------------------------------------ reading */

static void raw_take(struct raw *r, const struct iface_snapshot *s)
{
	r->count = s->count;
	memcpy(r->phase, s->fs.phase, sizeof(r->phase));
	memcpy(r->hits, s->hits, sizeof(r->hits));
	memcpy(r->drops, s->drops, sizeof(r->drops));
	if (s->guarded)
		memcpy(r->guard, s->guard.c, sizeof(r->guard));
	else
		memset(r->guard, 0, sizeof(r->guard));
}

/*
 * Add a read: each counter's total gains what it went up by.  One that
 * went down was reset (maybe read with the reset half done): it gains
 * nothing and has no rate this time; it counts on from its new value.
 * fresh (a first read, a new attachment): the totals are the counters.
 */
static void counts_add(struct counts *c, const struct raw *now, bool fresh)
{
	const __u64 *n = (const __u64 *)now;
	__u64 *last = (__u64 *)&c->last, *delta = (__u64 *)&c->delta;
	__u64 *down = (__u64 *)&c->down, *total = (__u64 *)&c->total;

	for (size_t i = 0; i < RAW_WORDS; i++) {
		if (fresh) {
			total[i] = n[i];
			delta[i] = down[i] = 0;
		} else if (n[i] >= last[i]) {
			delta[i] = n[i] - last[i];
			down[i] = 0;
			total[i] += delta[i];
		} else {
			delta[i] = 0;
			down[i] = 1;
		}
		last[i] = n[i];
	}
}

/* c's entry in s, whose SYN sources are sorted by src_cmp; NULL: none */
struct src_count *src_find(const struct iface_snapshot *s,
				  const struct src_count *c)
{
	return s->nsrcs <= 0 ? NULL :
	       bsearch(c, s->srcs, (size_t)s->nsrcs, sizeof(*c), src_cmp);
}

static void srcs_sort(struct iface_snapshot *s)
{
	if (s->nsrcs > 1)
		qsort(s->srcs, (size_t)s->nsrcs, sizeof(*s->srcs), src_cmp);
}

/* A source whose count went down was reset (or lost a slot on a CPU):
 * it counts afresh, after `r`, so it leaves the baseline (SYNS: all it
 * has). */
static void srcs_forget_base(struct iface *f)
{
	if (!f->rebased || !f->have_prev)
		return;
	for (int k = 0; k < f->cur->nsrcs; k++) {
		const struct src_count *c = &f->cur->srcs[k];
		const struct src_count *p = src_find(f->prev, c);
		struct src_count *b = p && c->syns < p->syns ?
				      src_find(f->base, c) : NULL;

		if (b)
			b->syns = 0;
	}
}

static void iface_lost(struct iface *f, const char *why)
{
	f->state = AT_GONE;
	f->why = why;
	f->have_prev = false;      /* the numbers shown are the last read */
}

/*
 * Read f again and tell its state.  When it cannot be read the last
 * numbers stay; when it comes back, rates start again at the next read.
 * A new attachment (its attach time or its program differ) has new
 * counters: its totals count from it.  The guard's verified sources are
 * a 1.5 MB read (some 10 ms of CPU): counted only for a guard's panel,
 * at the read after the panel appears and then every `every` reads; the
 * reads between keep that count.  Returns snapshot_read's error.
 */
static int iface_read(struct iface *f, int every)
{
	struct iface_snapshot *s = f->spare;
	const struct guard_view *g = guard_on(f);
	bool count = g && (g->verified < 0 || ++f->uncounted >= every);
	struct raw now;
	bool fresh;
	int err;

	if (!if_nametoindex(f->name)) {
		iface_lost(f, "the interface is gone");
		return -ENODEV;
	}
	err = snapshot_read(f->name, s, SNAP_SRCS | (count ? SNAP_VERIFIED : 0));
	if (err) {
		iface_lost(f, err == -ENOENT ? "detached, its counters removed"
			   : strerror(-err));
		return err;
	}
	if (count)
		f->uncounted = 0;
	else if (g && s->guarded)
		s->guard.verified = g->verified;
	fresh = !f->have_cur ||
		s->meta.attached_at != f->cur->meta.attached_at ||
		s->meta.prog_id != f->cur->meta.prog_id;
	raw_take(&now, s);
	counts_add(f->c, &now, fresh);
	if (fresh) {
		f->rebased = false;
		snapshot_copy(f->base, NULL);
	}
	f->have_prev = f->have_cur && f->state != AT_GONE && !fresh;
	f->elapsed = f->have_prev ?
		     (double)(s->taken_ns - f->cur->taken_ns) / 1e9 : 0;
	/* cur becomes prev, the read cur; the old prev is the next spare */
	f->spare = f->prev;
	f->prev = f->cur;
	f->cur = s;
	srcs_sort(f->prev);
	srcs_forget_base(f);
	f->have_cur = true;
	f->read_rt = (__u64)time(NULL);
	f->state = s->attached ? AT_ATTACHED : AT_DETACHED;
	f->why = s->attached ? NULL :
		 "no tcpflags XDP program on it (counters kept)";
	return 0;
}

int iface_open(struct iface *f, const char *name)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->cur = calloc(1, sizeof(*f->cur));
	f->prev = calloc(1, sizeof(*f->prev));
	f->base = calloc(1, sizeof(*f->base));
	f->spare = calloc(1, sizeof(*f->spare));
	f->c = calloc(1, sizeof(*f->c));
	if (!f->cur || !f->prev || !f->base || !f->spare || !f->c) {
		iface_lost(f, "out of memory");    /* never drawn as read */
		return -ENOMEM;
	}
	return iface_read(f, 1);
}

void iface_close(struct iface *f)
{
	struct iface_snapshot *s[] = { f->cur, f->prev, f->base, f->spare };

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (s[i])
			snapshot_free(s[i]);
		free(s[i]);
	}
	free(f->c);
	memset(f, 0, sizeof(*f));
}

/* Are the pins of name those of the program attached to it now?  Only
 * its meta is read: a rescan costs little for stale pins. */
static bool pinned_attached(const char *name)
{
	struct tcpf_meta m;
	__u32 mode;
	int fd, err;

	if (map_open(TCPF_MAP_META, name, true, &fd))
		return false;
	err = meta_read(fd, &m);
	close(fd);
	return !err && iface_attached(name, &m, &mode);
}

int find_iface(const struct top *t, const char *name)
{
	for (int i = 0; i < t->nifs; i++)
		if (!strcmp(t->ifs[i].name, name))
			return i;
	return -1;
}

static bool listed(char (*names)[IF_NAMESIZE], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/* Where a new interface goes: a free slot, or one GONE whose pins are
 * gone too; -1 when every slot shows something. */
static int free_slot(struct top *t, char (*names)[IF_NAMESIZE], int n)
{
	if (t->nifs < IFACES_MAX)
		return t->nifs++;
	for (int i = 0; i < t->nifs; i++)
		if (t->ifs[i].state == AT_GONE &&
		    !listed(names, n, t->ifs[i].name)) {
			iface_close(&t->ifs[i]);
			return i;
		}
	return -1;
}

/*
 * No IFACE named: add the interfaces attached in this namespace that are
 * not shown yet (those shown stay, GONE when they go away, until their
 * slot is needed).  Counts those left out for want of room.  -ENOMEM, or
 * pins_ifaces' error, else 0.
 */
int top_scan(struct top *t)
{
	static char names[PINNED_MAX][IF_NAMESIZE];
	int n = pins_ifaces(names, PINNED_MAX), slot;

	if (n < 0)
		return n;
	t->unshown = 0;
	t->unshown_more = n == PINNED_MAX;
	for (int i = 0; i < n; i++) {
		if (find_iface(t, names[i]) >= 0 || !pinned_attached(names[i]))
			continue;
		slot = free_slot(t, names, n);
		if (slot < 0) {
			t->unshown++;
			continue;
		}
		if (iface_open(&t->ifs[slot], names[i]) == -ENOMEM)
			return -ENOMEM;
	}
	return 0;
}

/* ----------------------------------------------------------- figures */


/*
 * get(arg) summed over the interfaces (only: one of them, or -1).  Rated
 * when some interface has had two reads, and none of the counters in it
 * went down (was reset) in the last interval of one.
 */
struct figure figure(const struct top *t, int only, getter get,
			    int arg)
{
	struct figure v = { 0 };
	bool down = false;

	for (int i = 0; i < t->nifs; i++) {
		const struct iface *f = &t->ifs[i];

		if (!f->have_cur || (only >= 0 && i != only))
			continue;
		v.total += get(&f->c->total, arg);
		if (!f->have_prev || !(f->elapsed > 0))
			continue;
		if (get(&f->c->down, arg)) {
			down = true;
			continue;
		}
		v.rate += (double)get(&f->c->delta, arg) / f->elapsed;
		v.rated = true;
	}
	if (down) {
		v.rated = false;
		v.rate = 0;
	}
	return v;
}

/* key = family * 256 + flag byte */
__u64 g_pattern(const struct raw *r, int key)
{
	return r->count.flags[key / TCPF_PATTERNS][key % TCPF_PATTERNS].packets;
}

/* The frame and byte totals of enum total. */
__u64 g_totals(const struct raw *r, int which)
{
	struct tcpf_totals t;
	const __u64 *field[] = {
		[T_FRAMES] = &t.total, [T_TCP] = &t.tcp,
		[T_IPV4] = &t.ipv4_tcp, [T_IPV6] = &t.ipv6_tcp,
		[T_NON_TCP] = &t.non_tcp, [T_FRAGMENTS] = &t.tcp_fragment,
		[T_MALFORMED] = &t.malformed,
	};
	__u64 bytes = 0;

	if (which == T_BYTES) {
		for (int fam = 0; fam < TCPF_FAMILIES; fam++)
			for (int p = 0; p < TCPF_PATTERNS; p++)
				bytes += r->count.flags[fam][p].bytes;
		for (int c = 0; c < TCPF_CNT_MAX; c++)
			bytes += r->count.cnt[c].bytes;
		return bytes;
	}
	counters_totals(&r->count, &t);
	return *field[which];
}

/* both directions: the egress observer sees what this host sends */
__u64 g_phase(const struct raw *r, int phase)
{
	return r->phase[TCPF_DIR_INGRESS][phase] +
	       r->phase[TCPF_DIR_EGRESS][phase];
}

__u64 g_drop(const struct raw *r, int reason)
{
	return r->drops[reason].packets;
}

/* what was really dropped: would_drop segments passed */
__u64 g_dropped(const struct raw *r, int unused)
{
	__u64 n = 0;

	(void)unused;
	for (int d = 0; d < TCPF_DROP_MAX; d++)
		if (d != TCPF_DROP_WOULD)
			n += r->drops[d].packets;
	return n;
}

__u64 g_hits(const struct raw *r, int id)
{
	return r->hits[id].packets;
}

__u64 g_hit_bytes(const struct raw *r, int id)
{
	return r->hits[id].bytes;
}

__u64 g_guard(const struct raw *r, int counter)
{
	return r->guard[counter];
}

const struct guard_view *guard_on(const struct iface *f)
{
	return f->have_cur && f->cur->guarded &&
	       f->cur->guard.gc.mode != TCPF_GM_OFF ? &f->cur->guard : NULL;
}

/* The namespace's flow clock and gauges (shared by its interfaces). */
const struct tcpf_ctl *ns_ctl(const struct top *t)
{
	for (int i = 0; i < t->nifs; i++)
		if (t->ifs[i].have_cur && t->ifs[i].cur->flows)
			return &t->ifs[i].cur->fs.ctl;
	return NULL;
}

/* The sparklines: every pattern's packets/s at each refresh, NO_RATE
 * when it has none (before two reads, across a reset). */
static void hist_push(struct top *t)
{
	for (int fam = 0; fam < TCPF_FAMILIES; fam++)
		for (int p = 0; p < TCPF_PATTERNS; p++) {
			struct figure v = figure(t, -1, g_pattern,
						 fam * TCPF_PATTERNS + p);

			t->hist[fam][p][t->hist_head] =
				v.rated ? (float)v.rate : NO_RATE;
		}
	t->hist_head = (t->hist_head + 1) % HIST;
	if (t->hist_n < HIST)
		t->hist_n++;
}

/* "totals since r" while some interface still counts from r */
static void note_baseline(struct top *t)
{
	bool any = false;

	for (int i = 0; i < t->nifs; i++)
		any |= t->ifs[i].rebased;
	if (!any)
		t->base_rt = 0;
}

void top_refresh(struct top *t)
{
	int every = (int)(VERIFIED_S / t->interval + 0.5);

	for (int i = 0; i < t->nifs; i++)
		iface_read(&t->ifs[i], every > 1 ? every : 1);
	/* after the reads: one just added has no second read to rate */
	if (t->scan)
		top_scan(t);
	hist_push(t);
	note_baseline(t);
}

/* `r`: totals count from now on screen; the kernel's are left alone. */
void top_rebase(struct top *t)
{
	for (int i = 0; i < t->nifs; i++) {
		struct iface *f = &t->ifs[i];

		if (!f->have_cur)
			continue;
		memset(&f->c->total, 0, sizeof(f->c->total));
		snapshot_copy(f->base, f->cur);
		srcs_sort(f->base);
		f->rebased = true;
	}
	t->base_rt = time(NULL);
}
