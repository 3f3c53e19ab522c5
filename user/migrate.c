// SPDX-License-Identifier: GPL-2.0-only
/* migrate.c - carry the pins over to a build of another map layout. */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "layout.h"
#include "log.h"
#include "maps.h"
#include "migrate.h"

struct mig_map {
	enum map_id id;
	int old_fd, new_fd;
	char path[PATH_MAX];
	__u32 type;
	__u32 n;                  /* entries carried over (arrays) */
	__u32 old_esz, new_esz;   /* bytes per entry, every CPU's */
	int add;                  /* enum tcpf_add_map, or -1: state */
	const struct placed *placed; /* placed by the flow hash, or NULL */
	struct layout_plan kplan, vplan;
	struct layout_type nval;  /* the new value type */
	struct layout_leaf *leaf; /* its leaves, made when first needed */
	int nleaf;
	void *snap;               /* the old entries at the last copy */
};

struct migration {
	struct mig_map map[TCPF_NMAPS];
	int n;
	struct btf *btf;          /* the new object's, in the kernel */
	int ncpu;
	char ifname[IF_NAMESIZE];
	bool finished;
	char names[TCPF_NMAPS * 16];
};

static const char *const add_names[] = {
#define TCPF_ADD_NAME(map, type) [TCPF_ADD_##map] = "tcpf_" #map,
	TCPF_ADD_MAPS(TCPF_ADD_NAME)
#undef TCPF_ADD_NAME
};

static int add_id_of(const char *name)
{
	for (int i = 0; i < TCPF_ADD_MAX; i++)
		if (!strcmp(add_names[i], name))
			return i;
	return -1;
}

static bool percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

static bool is_array(__u32 type)
{
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/*
 * The tables the flow hash places entries in.  An upgrade puts every live
 * entry where this build's hash looks for it, not at its old index: the
 * old build's hash may differ (TCPF_HASH_VERSION names it in the layout).
 * Offsets are this build's, the converted values'.
 */
struct placed {
	enum map_id id;
	__u32 ways, way_size, key_off, live_off, seen_off;
	__u32 (*slot)(__u32 hash, __u32 mask);
};

static const struct placed placed_maps[] = {
	{ TCPF_MAP_FLOWS, TCPF_FLOW_WAYS, sizeof(struct tcpf_flow_entry),
	  offsetof(struct tcpf_flow_entry, key),
	  offsetof(struct tcpf_flow_entry, flow.state),
	  offsetof(struct tcpf_flow_entry, flow.seen), tcpf_flow_bucket },
	{ TCPF_MAP_SYNS, 1, sizeof(struct tcpf_syn),
	  offsetof(struct tcpf_syn, key), offsetof(struct tcpf_syn, stage),
	  offsetof(struct tcpf_syn, seen), tcpf_syn_slot },
};

static const struct placed *placed_of(enum map_id id)
{
	for (size_t i = 0; i < sizeof(placed_maps) / sizeof(placed_maps[0]); i++)
		if (placed_maps[i].id == id)
			return &placed_maps[i];
	return NULL;
}

static bool live(const struct placed *pl, const char *e)
{
	return e[pl->live_off] != 0;	/* TCPF_ST_NONE, TCPF_HS_EMPTY */
}

static __u32 seen_of(const struct placed *pl, const char *e)
{
	__u32 v;

	memcpy(&v, e + pl->seen_off, sizeof(v));
	return v;
}

static bool same_key(const struct placed *pl, const char *x, const char *y)
{
	return !memcmp(x + pl->key_off, y + pl->key_off,
		       sizeof(struct tcpf_flow_key));
}

/* Where this build's hash puts entry e in a table of n slots. */
static __u32 slot_of(const struct placed *pl, const char *e, __u32 n)
{
	struct tcpf_flow_key k;

	memcpy(&k, e + pl->key_off, sizeof(k));
	return pl->slot(tcpf_flow_hash(&k), n - 1);
}

/* The way of value v holding e's key (live), or -1. */
static int way_of(const struct placed *pl, const char *v, const char *e)
{
	for (__u32 w = 0; w < pl->ways; w++) {
		const char *x = v + (size_t)w * pl->way_size;

		if (live(pl, x) && same_key(pl, x, e))
			return (int)w;
	}
	return -1;
}

/* A way of value v for e, which is not in it: a free one, else the least
 * recently seen if e was seen later (as an insert evicts); or -1. */
static int way_for(const struct placed *pl, const char *v, const char *e)
{
	int best = -1;

	for (__u32 w = 0; w < pl->ways; w++) {
		const char *x = v + (size_t)w * pl->way_size;

		if (!live(pl, x))
			return (int)w;
		if ((__s32)(seen_of(pl, e) - seen_of(pl, x)) > 0 &&
		    (best < 0 || (__s32)(seen_of(pl, v + (size_t)best *
						   pl->way_size) -
					  seen_of(pl, x)) > 0))
			best = (int)w;
	}
	return best;
}

/* The per-CPU stride the syscall copies values in. */
static __u32 stride(__u32 vsize)
{
	return (vsize + 7) / 8 * 8;
}

/* Every entry of an array map, keys 0..n-1, into buf (esz bytes each). */
static int read_all(int fd, __u32 n, __u32 esz, void *buf)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys = calloc(4096, sizeof(*keys)), batch = 0, done = 0;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	while (done < n) {
		__u32 count = n - done < 4096 ? n - done : 4096;

		if (bpf_map_lookup_batch(fd, done ? &batch : NULL, &batch,
					 keys, (char *)buf + (size_t)done * esz,
					 &count, &opts)) {
			err = -errno;
			if (err != -ENOENT || !count)
				break;
			err = 0;
		}
		done += count;
	}
	free(keys);
	return err ? err : done == n ? 0 : -EIO;
}

/* Write entries first..first+count-1 of buf into an array map. */
static int write_some(int fd, __u32 first, __u32 count, __u32 esz,
		      const void *buf)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys = malloc(4096 * sizeof(*keys));
	int err = 0;

	if (!keys)
		return -ENOMEM;
	for (__u32 done = 0; done < count && !err;) {
		__u32 k = count - done < 4096 ? count - done : 4096;

		for (__u32 i = 0; i < k; i++)
			keys[i] = first + done + i;
		if (bpf_map_update_batch(fd, keys, (const char *)buf +
					 (size_t)(done) * esz, &k, &opts))
			err = -errno;
		done += k;
	}
	free(keys);
	return err;
}

/* One entry, every CPU's value of it, from the old layout to the new. */
static void convert(const struct migration *m, const struct mig_map *mm,
		    const void *from, void *to)
{
	int cpus = percpu(mm->type) ? m->ncpu : 1;
	__u32 fs = percpu(mm->type) ? stride(mm->vplan.from_size) :
				      mm->vplan.from_size;
	__u32 ts = percpu(mm->type) ? stride(mm->vplan.to_size) :
				      mm->vplan.to_size;

	memset(to, 0, mm->new_esz);
	for (int c = 0; c < cpus; c++)
		layout_apply(&mm->vplan, (const char *)from + (size_t)c * fs,
			     (char *)to + (size_t)c * ts);
}

/* Every live entry of the old table (mm->snap, old_n values) into out,
 * a table of mm->n values, where this build's hash puts it. */
static int place_all(const struct migration *m, const struct mig_map *mm,
		     char *out, __u32 old_n)
{
	const struct placed *pl = mm->placed;
	char *v = malloc(mm->new_esz);

	if (!v)
		return -ENOMEM;
	memset(out, 0, (size_t)mm->n * mm->new_esz);
	for (__u32 i = 0; i < old_n; i++) {
		convert(m, mm, (char *)mm->snap + (size_t)i * mm->old_esz, v);
		for (__u32 w = 0; w < pl->ways; w++) {
			const char *e = v + (size_t)w * pl->way_size;
			char *to;
			int x;

			if (!live(pl, e))
				continue;
			to = out + (size_t)slot_of(pl, e, mm->n) * mm->new_esz;
			x = way_of(pl, to, e);
			if (x < 0)
				x = way_for(pl, to, e);
			if (x >= 0)
				memcpy(to + (size_t)x * pl->way_size, e,
				       pl->way_size);
		}
	}
	free(v);
	return 0;
}

/* The first copy of a state map's arrays: keep the old entries read. */
static int copy_array(struct migration *m, struct mig_map *mm, __u32 old_n)
{
	void *out;
	int err;

	mm->snap = malloc((size_t)old_n * mm->old_esz);
	out = malloc((size_t)mm->n * mm->new_esz);
	if (!mm->snap || !out) {
		free(out);
		return -ENOMEM;
	}
	err = read_all(mm->old_fd, old_n, mm->old_esz, mm->snap);
	if (!err && mm->placed)
		err = place_all(m, mm, out, old_n);
	else
		for (__u32 i = 0; i < mm->n && !err; i++)
			convert(m, mm, (char *)mm->snap + (size_t)i * mm->old_esz,
				(char *)out + (size_t)i * mm->new_esz);
	if (!err)
		err = write_some(mm->new_fd, 0, mm->n, mm->new_esz, out);
	free(out);
	return err;
}

/* A hash-keyed map (the LPM trie of the guard's lists): key by key. */
static int copy_keyed(struct mig_map *mm)
{
	__u32 ks = mm->kplan.from_size, nks = mm->kplan.to_size;
	char *key = calloc(4, ks), *next, *nkey;
	char *val = malloc(mm->vplan.from_size), *nval = malloc(mm->vplan.to_size);
	void *prev = NULL;
	int err = 0;

	if (!key || !val || !nval || nks > 2 * ks) {
		err = -ENOMEM;
		goto out;
	}
	/* only now: NULL + ks is undefined (cppcheck) */
	next = key + ks;
	nkey = key + 2 * ks;
	while (!bpf_map_get_next_key(mm->old_fd, prev, next)) {
		memcpy(key, next, ks);
		prev = key;
		if (bpf_map_lookup_elem(mm->old_fd, key, val))
			continue;	/* deleted meanwhile */
		layout_apply(&mm->kplan, key, nkey);
		layout_apply(&mm->vplan, val, nval);
		if (bpf_map_update_elem(mm->new_fd, nkey, nval, BPF_ANY)) {
			err = -errno;
			break;
		}
	}
out:
	free(key);
	free(val);
	free(nval);
	return err;
}

/* Does the pin's layout differ from the object's map? */
static bool differs(const struct bpf_map_info *in, const struct btf *ob,
		    const struct bpf_map *map, const struct btf *nb)
{
	if (in->key_size != bpf_map__key_size(map) ||
	    in->value_size != bpf_map__value_size(map))
		return true;
	if (!ob || !nb)
		return false;	/* no BTF: the sizes say all */
	return !layout_same((struct layout_type){ ob, in->btf_key_type_id },
			    (struct layout_type){ nb, bpf_map__btf_key_type_id(map) }) ||
	       !layout_same((struct layout_type){ ob, in->btf_value_type_id },
			    (struct layout_type){ nb, bpf_map__btf_value_type_id(map) });
}

/* A map of the object's layout, with its BTF, not pinned. */
static int create_like(struct migration *m, const struct bpf_map *map,
		       __u32 entries)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts,
		    .btf_fd = (__u32)btf__fd(m->btf),
		    .btf_key_type_id = bpf_map__btf_key_type_id(map),
		    .btf_value_type_id = bpf_map__btf_value_type_id(map),
		    .map_flags = bpf_map__map_flags(map),
		    .map_extra = bpf_map__map_extra(map));
	int fd = bpf_map_create(bpf_map__type(map), bpf_map__name(map),
				bpf_map__key_size(map),
				bpf_map__value_size(map), entries, &opts);

	return fd < 0 ? -errno : fd;
}

static int load_btf(struct migration *m, struct bpf_object *obj)
{
	const struct btf *b = bpf_object__btf(obj);
	const void *raw;
	__u32 size;

	if (!b)
		return -ENOENT;
	raw = btf__raw_data(b, &size);
	m->btf = raw ? btf__new(raw, size) : NULL;
	if (!m->btf)
		return -errno ? -errno : -ENOMEM;
	return btf__load_into_kernel(m->btf);
}

/* Plan, make and fill the new map of one pin whose layout changed. */
static int prepare_one(struct migration *m, struct bpf_object *obj,
		       struct mig_map *mm, const struct bpf_map_info *in,
		       const struct btf *ob, char *why, size_t size)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj,
							   map_defs[mm->id].name);
	const struct btf *nb = bpf_object__btf(obj);
	__u32 entries = bpf_map__max_entries(map);
	int err;

	mm->type = in->type;
	mm->add = percpu(in->type) ? add_id_of(map_defs[mm->id].name) : -1;
	mm->placed = placed_of(mm->id);
	mm->nval = (struct layout_type){ nb, bpf_map__btf_value_type_id(map) };
	err = layout_plan((struct layout_type){ ob, in->btf_key_type_id },
			  (struct layout_type){ nb, bpf_map__btf_key_type_id(map) },
			  &mm->kplan, why, size);
	if (!err)
		err = layout_plan((struct layout_type){ ob, in->btf_value_type_id },
				  (struct layout_type){ nb, bpf_map__btf_value_type_id(map) },
				  &mm->vplan, why, size);
	if (err)
		return err;
	if (mm->kplan.from_size != in->key_size ||
	    mm->vplan.from_size != in->value_size ||
	    mm->vplan.to_size != bpf_map__value_size(map)) {
		snprintf(why, size, "its BTF and its sizes disagree");
		return -EPROTO;
	}
	if (map_defs[mm->id].max_entries == SIZED)
		entries = in->max_entries;	/* a table keeps its size */
	if (!m->btf) {
		err = load_btf(m, obj);
		if (err) {
			snprintf(why, size, "cannot load the new BTF: %s",
				 strerror(-err));
			return err;
		}
	}
	mm->new_fd = create_like(m, map, entries);
	if (mm->new_fd < 0) {
		err = mm->new_fd;
		snprintf(why, size, "cannot make its new map: %s",
			 strerror(-err));
		return err;
	}
	mm->n = in->max_entries < entries ? in->max_entries : entries;
	mm->old_esz = percpu(in->type) ? stride(in->value_size) * m->ncpu
				       : in->value_size;
	mm->new_esz = percpu(in->type) ? stride(bpf_map__value_size(map)) * m->ncpu
				       : bpf_map__value_size(map);
	if (mm->add >= 0)
		err = 0;	/* counters: added in at the end */
	else if (is_array(in->type))
		err = copy_array(m, mm, in->max_entries);
	else
		err = copy_keyed(mm);
	if (err) {
		snprintf(why, size, "cannot copy it: %s", strerror(-err));
		return err;
	}
	if (bpf_map__set_pin_path(map, NULL) || bpf_map__reuse_fd(map, mm->new_fd)) {
		snprintf(why, size, "cannot hand it to the object");
		return -EINVAL;
	}
	return 0;
}

int migrate_shared_fd(const struct migration *m, enum map_id id)
{
	for (int i = 0; m && i < m->n; i++)
		if (m->map[i].id == id && map_defs[id].scope == MAP_NS)
			return m->map[i].new_fd;
	return -1;
}

bool migrate_shared(const struct migration *m)
{
	for (int id = 0; id < TCPF_NMAPS; id++)
		if (migrate_shared_fd(m, id) >= 0)
			return true;
	return false;
}

int migrate_prepare(struct bpf_object *obj, const char *ifname,
		    const struct migration *first, struct migration **out,
		    char *why, size_t size)
{
	struct migration *m = calloc(1, sizeof(*m));
	int err = 0;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->ncpu = libbpf_num_possible_cpus();
	snprintf(m->ifname, sizeof(m->ifname), "%s", ifname);
	for (int id = 0; id < TCPF_NMAPS && !err; id++) {
		struct mig_map *mm = &m->map[m->n];
		struct bpf_map *map = bpf_object__find_map_by_name(obj, map_defs[id].name);
		struct bpf_map_info in = {};
		__u32 len = sizeof(in);
		struct btf *ob = NULL;
		char mwhy[96] = "";
		int shared = migrate_shared_fd(first, id);

		*mm = (struct mig_map){ .id = id, .old_fd = -1, .new_fd = -1 };
		if (shared >= 0) {
			/* first's: made, filled and re-pinned by it */
			if (!map || bpf_map__set_pin_path(map, NULL) ||
			    bpf_map__reuse_fd(map, shared)) {
				snprintf(why, size, "cannot share the new %s",
					 map_defs[id].name);
				err = -EINVAL;
			}
			continue;
		}
		if (map_pin_path(id, ifname, mm->path, sizeof(mm->path)))
			continue;
		mm->old_fd = bpf_obj_get(mm->path);
		if (mm->old_fd < 0 || !map ||
		    bpf_obj_get_info_by_fd(mm->old_fd, &in, &len))
			goto next;
		if (in.btf_id)
			ob = btf__load_from_kernel_by_id(in.btf_id);
		if (!differs(&in, ob, map, bpf_object__btf(obj)) &&
		    (map_defs[id].max_entries == SIZED ||
		     in.max_entries == bpf_map__max_entries(map)))
			goto next;
		if (in.type != bpf_map__type(map))
			snprintf(mwhy, sizeof(mwhy), "its type changed");
		else if (!ob)
			snprintf(mwhy, sizeof(mwhy), "it has no BTF");
		if (mwhy[0] || prepare_one(m, obj, mm, &in, ob, mwhy, sizeof(mwhy))) {
			snprintf(why, size, "its pinned map %s has another "
				 "layout and cannot be carried over: %s",
				 map_defs[id].name, mwhy);
			err = -EPROTO;
		}
		btf__free(ob);
		m->n++;		/* freed with the rest, even half made */
		if (!err)
			map_stage(id, ifname, mm->new_fd);
		continue;
next:
		btf__free(ob);
		if (mm->old_fd >= 0)
			close(mm->old_fd);
	}
	if (err || !m->n) {
		migrate_free(m);
		return err;
	}

	for (int i = 0; i < m->n; i++)
		snprintf(m->names + strlen(m->names),
			 sizeof(m->names) - strlen(m->names), "%s%s",
			 i ? " " : "", map_defs[m->map[i].id].name);
	*out = m;
	return 0;
}

const char *migrate_names(const struct migration *m)
{
	return m->names;
}

/*
 * Wait until every BPF program that may have started before now has
 * finished: an update of a map-in-map returns after an RCU grace period
 * (the kernel's promise that programs no longer see the old inner map).
 */
static int wait_old_programs(void)
{
	int inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "tcpf_sync", 4, 4, 1,
				   NULL);
	LIBBPF_OPTS(bpf_map_create_opts, opts, .inner_map_fd = (__u32)inner);
	int outer = inner < 0 ? -1 :
		    bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "tcpf_sync", 4,
				   4, 1, &opts);
	__u32 zero = 0;
	int err = outer < 0 ||
		  bpf_map_update_elem(outer, &zero, &inner, BPF_ANY) ? -errno : 0;

	if (outer >= 0)
		close(outer);
	if (inner >= 0)
		close(inner);
	return err;
}

/* Add the old counters into the new: one atomic add per entry. */
static int add_counts(const struct migration *m, const struct mig_map *mm,
		      int add_fd)
{
	void *old = malloc((size_t)mm->n * mm->old_esz);
	void *conv = malloc(mm->new_esz);
	__u32 vs = stride(mm->vplan.to_size);
	int err = old && conv ? 0 : -ENOMEM;

	if (!err)
		err = read_all(mm->old_fd, mm->n, mm->old_esz, old);
	for (__u32 k = 0; k < mm->n && !err; k++) {
		struct tcpf_add a = { .map = (__u32)mm->add, .key = k };
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = &a,
			    .data_size_in = sizeof(a));
		bool any = false;

		convert(m, mm, (char *)old + (size_t)k * mm->old_esz, conv);
		for (int c = 0; c < m->ncpu; c++)
			for (__u32 w = 0; w < vs / 8 && w < TCPF_ADD_WORDS; w++) {
				__u64 v;

				memcpy(&v, (char *)conv + (size_t)c * vs + w * 8, 8);
				a.word[w] += v;
				any |= v != 0;
			}
		if (!any)
			continue;
		if (bpf_prog_test_run_opts(add_fd, &run))
			err = -errno;
		else if (run.retval != XDP_PASS)
			err = -EIO;
	}
	free(old);
	free(conv);
	return err;
}

/*
 * One value (every CPU's) where the old program moved it on from a to b:
 * each leaf the old one changed takes b's, where the new one left it as a
 * (cur) was; where both changed, a counter adds b - a, else the new
 * program's (the later) stays.
 */
static void merge(const struct migration *m, const struct mig_map *mm,
		  const char *a, const char *b, char *cur, __u32 end)
{
	int cpus = percpu(mm->type) ? m->ncpu : 1;
	__u32 vs = percpu(mm->type) ? stride(mm->vplan.to_size) : mm->vplan.to_size;

	for (int c = 0; c < cpus; c++, a += vs, b += vs, cur += vs)
		for (int i = 0; i < mm->nleaf; i++) {
			const struct layout_leaf *l = &mm->leaf[i];
			__u64 x, y, z;

			if (l->off + l->len > end)
				continue;
			if (!memcmp(b + l->off, a + l->off, l->len))
				continue;
			if (!memcmp(cur + l->off, a + l->off, l->len) ||
			    !l->counter || l->len != 8) {
				if (!memcmp(cur + l->off, a + l->off, l->len))
					memcpy(cur + l->off, b + l->off, l->len);
				continue;
			}
			memcpy(&x, a + l->off, 8);
			memcpy(&y, b + l->off, 8);
			memcpy(&z, cur + l->off, 8);
			z += y - x;
			memcpy(cur + l->off, &z, 8);
		}
}

/*
 * Into the new table (mm->new_fd), one way of the old that changed from
 * a to b (converted): a's entry, where the new program left it as it was,
 * goes if b is not it; b's is merged into its place (where a was it, from
 * a; where it is new, from nothing), or placed.
 */
static int sync_way(const struct migration *m, const struct mig_map *mm,
		    const char *a, const char *b, char *cur)
{
	const struct placed *pl = mm->placed;
	__u32 ws = pl->way_size, k;
	char none[sizeof(struct tcpf_flow_entry) > sizeof(struct tcpf_syn) ?
		  sizeof(struct tcpf_flow_entry) : sizeof(struct tcpf_syn)] = {};
	const char *from = live(pl, a) && same_key(pl, a, b) ? a : none;
	int x;

	if (live(pl, a) && from == none) {
		k = slot_of(pl, a, mm->n);
		if (bpf_map_lookup_elem(mm->new_fd, &k, cur))
			return -errno;
		x = way_of(pl, cur, a);
		if (x >= 0 && !memcmp(cur + (size_t)x * ws, a, ws)) {
			memset(cur + (size_t)x * ws, 0, ws);
			if (bpf_map_update_elem(mm->new_fd, &k, cur, BPF_ANY))
				return -errno;
		}
	}
	if (!live(pl, b))
		return 0;
	k = slot_of(pl, b, mm->n);
	if (bpf_map_lookup_elem(mm->new_fd, &k, cur))
		return -errno;
	x = way_of(pl, cur, b);
	if (x >= 0)
		merge(m, mm, from, b, cur + (size_t)x * ws, ws);
	else if ((x = way_for(pl, cur, b)) >= 0)
		memcpy(cur + (size_t)x * ws, b, ws);
	else
		return 0;
	return bpf_map_update_elem(mm->new_fd, &k, cur, BPF_ANY) ? -errno : 0;
}

/* What the old programs changed since the last copy, merged in. */
static int sync_state(const struct migration *m, struct mig_map *mm)
{
	void *now = malloc((size_t)mm->n * mm->old_esz);
	void *a = malloc(mm->new_esz), *b = malloc(mm->new_esz);
	void *cur = malloc(mm->new_esz);
	int err = now && a && b && cur ? 0 : -ENOMEM;

	if (!err)
		err = read_all(mm->old_fd, mm->n, mm->old_esz, now);
	for (__u32 k = 0; k < mm->n && !err; k++) {
		char *o = (char *)now + (size_t)k * mm->old_esz;
		char *s = (char *)mm->snap + (size_t)k * mm->old_esz;

		if (!memcmp(o, s, mm->old_esz))
			continue;
		if (!mm->leaf) {
			err = layout_leaves(mm->nval, &mm->leaf, &mm->nleaf);
			if (err)
				break;
		}
		convert(m, mm, s, a);
		convert(m, mm, o, b);
		for (__u32 w = 0; mm->placed && w < mm->placed->ways && !err; w++) {
			size_t off = (size_t)w * mm->placed->way_size;

			if (memcmp((char *)a + off, (char *)b + off,
				   mm->placed->way_size))
				err = sync_way(m, mm, (char *)a + off,
					       (char *)b + off, cur);
		}
		if (mm->placed) {
			memcpy(s, o, mm->old_esz);
			continue;
		}
		if (bpf_map_lookup_elem(mm->new_fd, &k, cur)) {
			err = -errno;
			break;
		}
		merge(m, mm, a, b, cur, mm->vplan.to_size);
		if (bpf_map_update_elem(mm->new_fd, &k, cur, BPF_ANY))
			err = -errno;
		memcpy(s, o, mm->old_esz);
	}
	free(now);
	free(a);
	free(b);
	free(cur);
	return err;
}

int migrate_refresh(struct migration *m)
{
	int err = 0;

	for (int i = 0; i < m->n && !err; i++)
		if (m->map[i].add < 0 && is_array(m->map[i].type))
			err = sync_state(m, &m->map[i]);
	return err;
}

/* The new map's pin over the old one, in one rename. */
static int repin(const struct mig_map *mm)
{
	char tmp[PATH_MAX + 8];

	snprintf(tmp, sizeof(tmp), "%s_new", mm->path); /* bpffs: no dots */
	unlink(tmp);
	if (bpf_obj_pin(mm->new_fd, tmp))
		return -errno;
	if (rename(tmp, mm->path)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

int migrate_finish(struct migration *m, int add_fd)
{
	int err = wait_old_programs();

	if (err)
		pr_warn("cannot wait for the old programs to finish: %s",
			strerror(-err));
	for (int i = 0; i < m->n && !err; i++) {
		struct mig_map *mm = &m->map[i];

		if (mm->add >= 0)
			err = add_counts(m, mm, add_fd);
		else if (is_array(mm->type))
			err = sync_state(m, mm);
		if (err)
			pr_warn("cannot carry %s over: %s", map_defs[mm->id].name,
				strerror(-err));
	}
	/* re-pinned even after an error: the programs running use them */
	for (int i = 0; i < m->n; i++) {
		int e = repin(&m->map[i]);

		if (e) {
			pr_warn("cannot pin the new %s: %s",
				map_defs[m->map[i].id].name, strerror(-e));
			err = err ? err : e;
		}
	}
	m->finished = true;
	return err;
}

void migrate_free(struct migration *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->n; i++) {
		struct mig_map *mm = &m->map[i];

		map_stage(mm->id, m->ifname, -1);
		if (mm->old_fd >= 0)
			close(mm->old_fd);
		if (mm->new_fd >= 0)
			close(mm->new_fd);
		layout_plan_free(&mm->kplan);
		layout_plan_free(&mm->vplan);
		free(mm->leaf);
		free(mm->snap);
	}
	btf__free(m->btf);
	free(m);
}

static __u32 digest(__u32 type, __u32 entries, struct layout_type k,
		    struct layout_type v)
{
	__u32 seed = 2166136261u ^ type ^ entries * 16777619u;

	return layout_digest(v, layout_digest(k, seed));
}

__u32 migrate_obj_layout(const struct bpf_object *obj, enum map_id id)
{
	const struct bpf_map *map =
		bpf_object__find_map_by_name(obj, map_defs[id].name);
	const struct btf *b = bpf_object__btf(obj);

	if (!map || !b)
		return 0;
	return digest(bpf_map__type(map), map_defs[id].max_entries,
		      (struct layout_type){ b, bpf_map__btf_key_type_id(map) },
		      (struct layout_type){ b, bpf_map__btf_value_type_id(map) });
}

__u32 migrate_pin_layout(enum map_id id, const char *ifname)
{
	struct bpf_map_info in = {};
	__u32 len = sizeof(in), d = 0;
	struct btf *b = NULL;
	int fd;

	if (map_open(id, ifname, true, &fd))
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &in, &len))
		d = 0;
	else if (!in.btf_id)
		d = 1;	/* no BTF: not this build's */
	else if ((b = btf__load_from_kernel_by_id(in.btf_id)))
		d = digest(in.type, map_defs[id].max_entries == SIZED ? SIZED :
			   in.max_entries,
			   (struct layout_type){ b, in.btf_key_type_id },
			   (struct layout_type){ b, in.btf_value_type_id });
	/* else its BTF is not the caller's to read (BPF_BTF_GET_FD_BY_ID
	 * takes CAP_SYS_ADMIN: a reader of the pins' group): unknown, 0 */
	btf__free(b);
	close(fd);
	return d;
}
