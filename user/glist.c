// SPDX-License-Identifier: GPL-2.0-only
/* glist.c - the guard's allow and deny lists as tables (glist.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "glist.h"
#include "cli.h"
#include "log.h"
#include "maps.h"

const char *const glist_names[TCPF_GL_LISTS] = {
	[TCPF_GL_ALLOW] = "allow",
	[TCPF_GL_DENY] = "deny",
};

void glist_table_free(struct glist_table *t)
{
	free(t->e);
	t->e = NULL;
	t->n = t->cap = 0;
}

int glist_of(const char *word)
{
	for (int l = 0; l < TCPF_GL_LISTS; l++)
		if (!strcmp(word, glist_names[l]))
			return l;
	return -1;
}

void glist_key(__u32 slot, const struct prefix *p, struct tcpf_glist_key *k)
{
	memset(k, 0, sizeof(*k));
	k->plen = TCPF_GLIST_PLEN(p->plen);
	k->slot = (__u8)slot;
	k->family = p->family;
	memcpy(k->addr, p->addr, sizeof(k->addr));
}

void glist_prefix(const struct tcpf_glist_key *k, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = k->family;
	p->plen = (__u8)(k->plen - TCPF_GLIST_PLEN(0));
	memcpy(p->addr, k->addr, sizeof(p->addr));
}

static struct glist_item *find(const struct glist_table *t,
			       const struct tcpf_glist_key *k)
{
	for (int i = 0; i < t->n; i++)
		if (!memcmp(&t->e[i].k, k, sizeof(*k)))
			return &t->e[i];
	return NULL;
}

static struct glist_item *append(struct glist_table *t)
{
	if (t->n == t->cap) {
		int cap = t->cap ? t->cap * 2 : 64;
		struct glist_item *e = realloc(t->e, (size_t)cap * sizeof(*e));

		if (!e)
			return NULL;
		t->e = e;
		t->cap = cap;
	}
	memset(&t->e[t->n], 0, sizeof(t->e[0]));
	return &t->e[t->n++];
}

int glist_add(struct glist_table *t, const struct prefix *p, int l,
	      __u32 until)
{
	struct tcpf_glist_key k;
	struct glist_item *it;

	glist_key(t->slot, p, &k);
	it = find(t, &k);
	if (!it) {
		it = append(t);
		if (!it)
			return -ENOMEM;
		it->k = k;
	}
	it->v.in |= (__u8)(1u << l);
	it->v.until[l] = until;
	return 0;
}

/* Drop the items in no list, keeping the order. */
static void compact(struct glist_table *t)
{
	int n = 0;

	for (int i = 0; i < t->n; i++)
		if (t->e[i].v.in)
			t->e[n++] = t->e[i];
	t->n = n;
}

static void take_out(struct tcpf_glist *v, int l)
{
	v->in &= (__u8)~(1u << l);
	v->until[l] = 0;
}

int glist_del(struct glist_table *t, const struct prefix *p, int l)
{
	struct tcpf_glist_key k;
	struct glist_item *it;

	glist_key(t->slot, p, &k);
	it = find(t, &k);
	if (!it || !(it->v.in & (1u << l)))
		return -ENOENT;
	take_out(&it->v, l);
	compact(t);
	return 0;
}

void glist_flush(struct glist_table *t, int l)
{
	for (int i = 0; i < t->n; i++)
		take_out(&t->e[i].v, l);
	compact(t);
}

bool glist_live_entry(const struct tcpf_glist *v, int l, __u32 now)
{
	return (v->in >> l & 1) && tcpf_until_live(v->until[l], now);
}

void glist_purge(struct glist_table *t, __u32 now)
{
	for (int i = 0; i < t->n; i++)
		for (int l = 0; l < TCPF_GL_LISTS; l++)
			if (!glist_live_entry(&t->e[i].v, l, now))
				take_out(&t->e[i].v, l);
	compact(t);
}

int glist_count(const struct glist_table *t, int l, __u32 now)
{
	int n = 0;

	for (int i = 0; i < t->n; i++)
		n += glist_live_entry(&t->e[i].v, l, now);
	return n;
}

/* Family, address, then length: a prefix sorts before those it contains,
 * and they follow it in a run. */
static int item_cmp(const void *a, const void *b)
{
	const struct tcpf_glist_key *x = &((const struct glist_item *)a)->k;
	const struct tcpf_glist_key *y = &((const struct glist_item *)b)->k;
	int c = (int)x->family - (int)y->family;

	if (!c)
		c = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (!c)
		c = (x->plen > y->plen) - (x->plen < y->plen);
	return c;
}

/* Does prefix a contain prefix b? */
static bool contains(const struct tcpf_glist_key *a,
		     const struct tcpf_glist_key *b)
{
	__u32 bits = a->plen - TCPF_GLIST_PLEN(0), i;

	if (a->family != b->family || a->plen > b->plen)
		return false;
	for (i = 0; i + 8 <= bits; i += 8)
		if (a->addr[i / 8] != b->addr[i / 8])
			return false;
	return i == bits ||
	       !((a->addr[i / 8] ^ b->addr[i / 8]) & (0xff00 >> (bits - i)));
}

/* The later of two expiries, 0 (never) above all. */
static __u32 later(__u32 a, __u32 b)
{
	return !a || !b ? 0 : tcpf_ahead(a, b) ? a : b;
}

void glist_sort(struct glist_table *t)
{
	qsort(t->e, (size_t)t->n, sizeof(t->e[0]), item_cmp);
}

void glist_settle(struct glist_table *t)
{
	/* the prefixes containing the current one, shortest first: at most
	 * one per length */
	int up[129 + 1], depth = 0;

	glist_sort(t);
	for (int i = 0; i < t->n; i++) {
		struct tcpf_glist *v = &t->e[i].v;
		const struct tcpf_glist *p;

		while (depth && !contains(&t->e[up[depth - 1]].k, &t->e[i].k))
			depth--;
		p = depth ? &t->e[up[depth - 1]].v : NULL;
		v->covered = v->in;
		for (int l = 0; l < TCPF_GL_LISTS; l++) {
			v->match[l] = v->until[l];
			if (!p || !(p->covered >> l & 1))
				continue;
			v->match[l] = v->in >> l & 1 ?
				      later(v->until[l], p->match[l]) :
				      p->match[l];
			v->covered |= (__u8)(1u << l);
		}
		up[depth++] = i;
	}
}

/* ------------------------------------------------------------ the map */

int glist_read(int fd, __u32 slot, struct glist_table *t)
{
	struct tcpf_glist_key k, next;
	bool first = true;

	memset(t, 0, sizeof(*t));
	t->slot = slot;
	while (!bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		struct glist_item *it;

		first = false;
		k = next;
		if (k.slot != slot) {
			t->others++;
			continue;
		}
		it = append(t);
		if (!it)
			return -ENOMEM;
		it->k = k;
		if (bpf_map_lookup_elem(fd, &k, &it->v))
			t->n--;	/* gone meanwhile */
	}
	return errno == ENOENT ? 0 : -errno;
}

int glist_write(int fd, const struct glist_table *old,
		const struct glist_table *t)
{
	if (t->others + t->n > TCPF_GLIST_MAX)
		return -E2BIG;
	/* first what went: its room may be needed */
	for (int i = 0; i < old->n; i++)
		if (!find(t, &old->e[i].k) &&
		    bpf_map_delete_elem(fd, &old->e[i].k) && errno != ENOENT)
			return -errno;
	for (int i = 0; i < t->n; i++) {
		const struct glist_item *was = find(old, &t->e[i].k);

		if (was && !memcmp(&was->v, &t->e[i].v, sizeof(was->v)))
			continue;
		if (bpf_map_update_elem(fd, &t->e[i].k, &t->e[i].v, BPF_ANY))
			return -errno;
	}
	return 0;
}

int glist_clear_slot(int fd, __u32 slot)
{
	struct glist_table t, none = { .slot = slot };
	int err = glist_read(fd, slot, &t);

	if (!err)
		err = glist_write(fd, &t, &none);
	glist_table_free(&t);
	return err;
}

void glist_counts(const char *ifname, __u32 slot, __u32 now,
		  int n[TCPF_GL_LISTS])
{
	struct glist_table t;
	int fd;

	n[TCPF_GL_ALLOW] = n[TCPF_GL_DENY] = -1;
	if (map_open(TCPF_MAP_GLISTS, ifname, true, &fd))
		return;
	if (!glist_read(fd, slot, &t))
		for (int l = 0; l < TCPF_GL_LISTS; l++)
			n[l] = glist_count(&t, l, now);
	glist_table_free(&t);
	close(fd);
}

/* ------------------------------------------------------------ requests */

static const char *const op_names[] = {
	[GLIST_ADD] = "add", [GLIST_DEL] = "del", [GLIST_LIST] = "list",
	[GLIST_FLUSH] = "flush",
};	/* GLIST_SET: no word of its own */
#define NOPS ((int)(sizeof(op_names) / sizeof(op_names[0])))

const char *glist_op_name(int op)
{
	return op >= 0 && op < NOPS ? op_names[op] : NULL;
}

void glist_req_free(struct glist_req *r)
{
	free(r->p);
	r->p = NULL;
	r->n = 0;
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* EXIT_USAGE after "tcpflags: guard: " and the line. */
static int usage(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pr_warn("guard: %s", line);
	return EXIT_USAGE;
}

int glist_req_parse(char **words, int n, long long ttl, bool json,
		    bool settings, struct glist_req *r)
{
	const char *name = words[0];
	char why[160];

	memset(r, 0, sizeof(*r));
	r->list = glist_of(name);
	r->ttl = ttl;
	r->json = json;
	if (n < 2)
		return usage("%s needs add|del|list|flush", name);
	for (r->op = 0; r->op < NOPS; r->op++)
		if (!strcmp(words[1], op_names[r->op]))
			break;
	if (r->op == NOPS)
		return usage("%s: unknown action '%s' (add|del|list|flush)",
			     name, words[1]);
	if (settings)
		return usage("%s %s takes no guard settings (only --ttl, "
			     "--json)", name, words[1]);
	if (ttl >= 0 && r->op != GLIST_ADD)
		return usage("%s %s: --ttl goes with add", name, words[1]);
	if (json && r->op != GLIST_LIST)
		return usage("%s %s: --json goes with list", name, words[1]);
	if ((r->op == GLIST_ADD || r->op == GLIST_DEL) && n < 3)
		return usage("%s %s needs a PREFIX", name, words[1]);
	if ((r->op == GLIST_LIST || r->op == GLIST_FLUSH) && n > 2)
		return usage("%s %s takes no PREFIX", name, words[1]);
	r->n = n - 2;
	r->p = calloc((size_t)(r->n ? r->n : 1), sizeof(*r->p));
	if (!r->p) {
		pr_warn("out of memory");
		return EXIT_FAIL;
	}
	for (int i = 0; i < r->n; i++)
		if (prefix_parse(words[2 + i], &r->p[i], why, sizeof(why))) {
			glist_req_free(r);
			return usage("%s: %s", name, why);
		}
	return CLI_RUN;
}
