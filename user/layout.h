/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * layout.h - a map's layout, as the BTF the kernel keeps with it describes
 * it, and the conversion of one layout's values into another's.
 *
 * A plan is compiled once per map from the two BTF types: members are
 * matched by name at every depth (so a member may move, grow or shrink,
 * and one that is new starts at zero), arrays element by element up to the
 * shorter, integers zero-extended or cut (little-endian).  Applying it is
 * a few memcpy()s per value.
 */
#ifndef TCPF_LAYOUT_H
#define TCPF_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct btf;

/* One type of one BTF. */
struct layout_type {
	const struct btf *btf;
	__u32 id;
};

/* Are the two types the same layout: every size, offset and name? */
bool layout_same(struct layout_type a, struct layout_type b);

/* A digest of a type's layout, for `status`: equal layouts, equal digests. */
__u32 layout_digest(struct layout_type t, __u32 seed);

struct layout_op {
	__u32 from, to, len;
};

struct layout_plan {
	struct layout_op *op;
	int n, cap;
	__u32 from_size, to_size;
};

/* Compile from -> to; 0, or -EPROTO with why (e.g. a bitfield). */
int layout_plan(struct layout_type from, struct layout_type to,
		struct layout_plan *plan, char *why, size_t size);

/* to (to_size bytes) = from converted. */
void layout_apply(const struct layout_plan *plan, const void *from, void *to);

void layout_plan_free(struct layout_plan *plan);

/*
 * The leaves of a type: each integer (an array's element by element),
 * with whether its member carries the tcpf_counter tag (TCPF_COUNTER in
 * include/tcpflags.h).  *leaf is malloc()ed.
 */
struct layout_leaf {
	__u32 off, len;
	bool counter;
};
int layout_leaves(struct layout_type t, struct layout_leaf **leaf, int *n);

#endif
