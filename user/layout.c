// SPDX-License-Identifier: GPL-2.0-only
/* layout.c - map layouts from BTF, and the plans that convert them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include "layout.h"

/* Past typedefs and qualifiers: they do not change a layout. */
static struct layout_type bare(struct layout_type t)
{
	const struct btf_type *bt = btf__type_by_id(t.btf, t.id);

	while (bt && (btf_is_typedef(bt) || btf_is_mod(bt) ||
		      btf_kind(bt) == BTF_KIND_TYPE_TAG)) {
		t.id = bt->type;
		bt = btf__type_by_id(t.btf, t.id);
	}
	return t;
}

static const struct btf_type *type_of(struct layout_type t)
{
	return btf__type_by_id(t.btf, t.id);
}

static __u32 size_of(struct layout_type t)
{
	__s64 s = btf__resolve_size(t.btf, t.id);

	return s < 0 ? 0 : (__u32)s;
}

static const char *name_of(const struct btf *btf, __u32 off)
{
	const char *s = btf__name_by_offset(btf, off);

	return s ? s : "";
}

bool layout_same(struct layout_type a, struct layout_type b)
{
	const struct btf_type *ta, *tb;

	a = bare(a);
	b = bare(b);
	ta = type_of(a);
	tb = type_of(b);
	if (!ta || !tb)
		return ta == tb;
	if (btf_kind(ta) != btf_kind(tb) || size_of(a) != size_of(b))
		return false;
	if (btf_is_array(ta)) {
		const struct btf_array *x = btf_array(ta), *y = btf_array(tb);

		return x->nelems == y->nelems &&
		       layout_same((struct layout_type){ a.btf, x->type },
				   (struct layout_type){ b.btf, y->type });
	}
	if (btf_is_composite(ta)) {
		const struct btf_member *x = btf_members(ta);
		const struct btf_member *y = btf_members(tb);

		if (btf_vlen(ta) != btf_vlen(tb))
			return false;
		for (int i = 0; i < btf_vlen(ta); i++, x++, y++)
			if (x->offset != y->offset ||
			    strcmp(name_of(a.btf, x->name_off),
				   name_of(b.btf, y->name_off)) ||
			    !layout_same((struct layout_type){ a.btf, x->type },
					 (struct layout_type){ b.btf, y->type }))
				return false;
		return true;
	}
	if (btf_is_int(ta))
		return btf_int_encoding(ta) == btf_int_encoding(tb) &&
		       btf_int_bits(ta) == btf_int_bits(tb);
	return true;	/* enums, pointers: their size says it */
}

/* FNV-1a over the walk layout_same() makes. */
static __u32 mix(__u32 h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--) {
		/* clang-analyzer 14 takes the bytes of layout_digest()'s
		 * __u32 w[] for garbage, both assigned as they are:
		 * NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
		h = (h ^ *c++) * 16777619u;
	}
	return h;
}

__u32 layout_digest(struct layout_type t, __u32 h)
{
	const struct btf_type *bt;
	__u32 w[2];

	t = bare(t);
	bt = type_of(t);
	if (!bt)
		return mix(h, "?", 1);
	w[0] = btf_kind(bt);
	w[1] = size_of(t);
	h = mix(h, w, sizeof(w));
	if (btf_is_array(bt)) {
		h = mix(h, &btf_array(bt)->nelems, 4);
		return layout_digest((struct layout_type){ t.btf,
							   btf_array(bt)->type }, h);
	}
	if (btf_is_composite(bt)) {
		const struct btf_member *m = btf_members(bt);

		for (int i = 0; i < btf_vlen(bt); i++, m++) {
			const char *name = name_of(t.btf, m->name_off);

			h = mix(h, name, strlen(name) + 1);
			h = mix(h, &m->offset, 4);
			h = layout_digest((struct layout_type){ t.btf, m->type },
					  h);
		}
	}
	return h;
}

/* arr (n of *cap used) with room for one more: arr, or it realloc()ed
 * to twice the room; NULL when out of memory (arr then unchanged). */
static void *room_for_one(void *arr, int *cap, int n, size_t elem)
{
	int want = *cap ? 2 * *cap : 16;

	if (n < *cap)
		return arr;
	arr = realloc(arr, (size_t)want * elem);
	if (arr)
		*cap = want;
	return arr;
}

static int plan_add(struct layout_plan *p, __u32 from, __u32 to, __u32 len)
{
	struct layout_op *last = p->n ? &p->op[p->n - 1] : NULL, *op;

	if (!len)
		return 0;
	if (last && last->from + last->len == from &&
	    last->to + last->len == to) {
		last->len += len;	/* contiguous: one memcpy */
		return 0;
	}
	op = room_for_one(p->op, &p->cap, p->n, sizeof(*op));
	if (!op)
		return -ENOMEM;
	p->op = op;
	/* p->op holds p->cap entries, p->n <= p->cap (the analyzer loses
	 * layout_plan()'s memset across plan_walk()):
	 * NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
	p->op[p->n++] = (struct layout_op){ from, to, len };
	return 0;
}

static const struct btf_member *member_named(struct layout_type t,
					     const char *name, int nth_anon)
{
	const struct btf_type *bt = type_of(t);
	const struct btf_member *m = btf_members(bt);
	int anon = 0;

	for (int i = 0; i < btf_vlen(bt); i++, m++) {
		const char *n = name_of(t.btf, m->name_off);

		if (*name ? !strcmp(n, name) : (!*n && anon++ == nth_anon))
			return m;
	}
	return NULL;
}

struct plan_ctx {
	struct layout_plan *plan;
	char *why;
	size_t size;
};

static int plan_walk(struct plan_ctx *c, struct layout_type f, __u32 foff,
		     struct layout_type t, __u32 toff)
{
	const struct btf_type *tf, *tt;
	__u32 fs, ts;

	f = bare(f);
	t = bare(t);
	tf = type_of(f);
	tt = type_of(t);
	if (!tf || !tt)
		return 0;
	fs = size_of(f);
	ts = size_of(t);
	if (layout_same(f, t))
		return plan_add(c->plan, foff, toff, ts);
	if ((btf_is_int(tf) || btf_is_any_enum(tf)) &&
	    (btf_is_int(tt) || btf_is_any_enum(tt)))
		/* little-endian: the low bytes come first */
		return plan_add(c->plan, foff, toff, fs < ts ? fs : ts);
	if (btf_is_array(tf) && btf_is_array(tt)) {
		struct layout_type ef = { f.btf, btf_array(tf)->type };
		struct layout_type et = { t.btf, btf_array(tt)->type };
		__u32 n = btf_array(tf)->nelems < btf_array(tt)->nelems ?
			  btf_array(tf)->nelems : btf_array(tt)->nelems;
		__u32 sf = size_of(ef), st = size_of(et);

		for (__u32 i = 0; i < n; i++) {
			int err = plan_walk(c, ef, foff + i * sf, et,
					    toff + i * st);

			if (err)
				return err;
		}
		return 0;
	}
	if (btf_is_composite(tf) && btf_kind(tf) == btf_kind(tt)) {
		const struct btf_member *m = btf_members(tt);
		int anon = 0;

		for (int i = 0; i < btf_vlen(tt); i++, m++) {
			const char *name = name_of(t.btf, m->name_off);
			const struct btf_member *src =
				member_named(f, name, *name ? 0 : anon++);
			int err;

			if (!src)
				continue;	/* new: starts at zero */
			if (btf_member_bitfield_size(tt, i) ||
			    btf_member_bitfield_size(tf, (__u32)(src - btf_members(tf)))) {
				snprintf(c->why, c->size, "member %s is a "
					 "bitfield", name);
				return -EPROTO;
			}
			err = plan_walk(c, (struct layout_type){ f.btf, src->type },
					foff + src->offset / 8,
					(struct layout_type){ t.btf, m->type },
					toff + m->offset / 8);
			if (err)
				return err;
		}
		return 0;
	}
	return 0;	/* another kind of thing: nothing carries over */
}

int layout_plan(struct layout_type from, struct layout_type to,
		struct layout_plan *plan, char *why, size_t size)
{
	struct plan_ctx c = { plan, why, size };
	int err;

	memset(plan, 0, sizeof(*plan));
	plan->from_size = size_of(from);
	plan->to_size = size_of(to);
	err = plan_walk(&c, from, 0, to, 0);
	if (err)
		layout_plan_free(plan);
	return err;
}

void layout_apply(const struct layout_plan *plan, const void *from, void *to)
{
	memset(to, 0, plan->to_size);
	for (int i = 0; i < plan->n; i++)
		memcpy((char *)to + plan->op[i].to,
		       (const char *)from + plan->op[i].from, plan->op[i].len);
}

void layout_plan_free(struct layout_plan *plan)
{
	free(plan->op);
	memset(plan, 0, sizeof(*plan));
}

struct leaf_ctx {
	struct layout_leaf *leaf;
	int n, cap;
	__u32 *tag;             /* (struct id, member) pairs tagged counter */
	int ntags;
};

static bool tagged(const struct leaf_ctx *c, __u32 id, __u32 member)
{
	for (int i = 0; i < c->ntags; i++)
		if (c->tag[2 * i] == id && c->tag[2 * i + 1] == member)
			return true;
	return false;
}

static int leaf_add(struct leaf_ctx *c, __u32 off, __u32 len, bool counter)
{
	struct layout_leaf *l = room_for_one(c->leaf, &c->cap, c->n,
					     sizeof(*l));

	if (!l)
		return -ENOMEM;
	c->leaf = l;
	c->leaf[c->n++] = (struct layout_leaf){ off, len, counter };
	return 0;
}

static int leaf_walk(struct leaf_ctx *c, struct layout_type t, __u32 off,
		     bool counter)
{
	const struct btf_type *bt;
	int err = 0;

	t = bare(t);
	bt = type_of(t);
	if (!bt)
		return 0;
	if (btf_is_array(bt)) {
		struct layout_type e = { t.btf, btf_array(bt)->type };
		__u32 es = size_of(e);

		for (__u32 i = 0; i < btf_array(bt)->nelems && !err; i++)
			err = leaf_walk(c, e, off + i * es, counter);
		return err;
	}
	if (btf_is_composite(bt)) {
		const struct btf_member *m = btf_members(bt);

		for (__u32 i = 0; i < btf_vlen(bt) && !err; i++, m++)
			err = leaf_walk(c, (struct layout_type){ t.btf, m->type },
					off + m->offset / 8, tagged(c, t.id, i));
		return err;
	}
	return leaf_add(c, off, size_of(t), counter);
}

int layout_leaves(struct layout_type t, struct layout_leaf **leaf, int *n)
{
	struct leaf_ctx c = {};
	__u32 cnt = btf__type_cnt(t.btf);
	int err = 0;

	for (__u32 id = 1; id < cnt && !err; id++) {
		const struct btf_type *bt = btf__type_by_id(t.btf, id);
		__u32 *tag;

		if (!btf_is_decl_tag(bt) || btf_decl_tag(bt)->component_idx < 0 ||
		    strcmp(name_of(t.btf, bt->name_off), "tcpf_counter"))
			continue;
		tag = realloc(c.tag, (c.ntags + 1) * 2 * sizeof(*tag));
		if (!tag) {
			err = -ENOMEM;
			break;
		}
		c.tag = tag;
		c.tag[2 * c.ntags] = bt->type;
		c.tag[2 * c.ntags++ + 1] = (__u32)btf_decl_tag(bt)->component_idx;
	}
	if (!err)
		err = leaf_walk(&c, t, 0, false);
	free(c.tag);
	if (err) {
		free(c.leaf);
		c.leaf = NULL;
		c.n = 0;
	}
	*leaf = c.leaf;
	*n = c.n;
	return err;
}
