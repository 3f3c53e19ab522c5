/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migrate.h - attaching a build whose map layouts differ from the pins,
 * without losing what they hold.
 *
 *   migrate_prepare   (before the load) for each pinned map of another
 *                     layout: make a map of the new one, copy the pin's
 *                     entries into it member by member (user/layout.h),
 *                     and give it to the object in place of the pin.  The
 *                     per-CPU counters start at zero instead.
 *   migrate_refresh   (loaded, just before the swap) copy again what the
 *                     old programs changed since, so the swap finds the
 *                     new maps as fresh as can be
 *   ...               the loader swaps the programs in
 *   migrate_finish    wait until no old program runs (an RCU grace
 *                     period), add the old counters into the new ones with
 *                     tcpf_migrate_add, merge what the old programs
 *                     changed since the last copy (member by member: what
 *                     only the old one changed is taken; where both did, a
 *                     TCPF_COUNTER member adds the old one's increase, any
 *                     other keeps the new one's), and re-pin the new maps
 *                     over the old pins (rename: a reader sees one or the
 *                     other).
 * Until migrate_finish the old pins are untouched: a failed attach leaves
 * them, and the old program, as they were.
 */
#ifndef TCPF_MIGRATE_H
#define TCPF_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include "maps.h"

struct bpf_object;
struct migration;

/*
 * For ifname's pins and obj (opened, its maps pointed at the pins and
 * sized): *m is NULL when every pin has obj's layout.  -EPROTO with why
 * when a pin cannot be carried over (its map type changed, or no BTF).
 */
int migrate_prepare(struct bpf_object *obj, const char *ifname,
		    const struct migration *first, struct migration **m,
		    char *why, size_t size);

/*
 * Does m replace maps of the namespace (MAP_NS)?  Then every other
 * interface running tcpflags here must move to them too: for each, the
 * loader opens an object and calls migrate_prepare with first = m, which
 * hands it m's new shared maps and migrates only its own.
 */
bool migrate_shared(const struct migration *m);
int migrate_shared_fd(const struct migration *m, enum map_id id);

/* The maps migrated, as "tcpf_a tcpf_b", for the report. */
const char *migrate_names(const struct migration *m);

/* Just before the swap (the new programs loaded): what the old programs
 * changed since the first copy, into the new maps. */
int migrate_refresh(struct migration *m);

/* After the swap: add_fd is the new object's tcpf_migrate_add. */
int migrate_finish(struct migration *m, int add_fd);

/* Free m; before migrate_finish this drops the new maps, pins unchanged. */
void migrate_free(struct migration *m);

/*
 * Layout versions, for `status`: a digest of a map's type, entries and the
 * BTF of its key and value, in obj (this build) or as pinned for ifname
 * (0: not pinned, or its BTF not readable without CAP_SYS_ADMIN).  Equal
 * layouts, equal digests.
 */
__u32 migrate_obj_layout(const struct bpf_object *obj, enum map_id id);
__u32 migrate_pin_layout(enum map_id id, const char *ifname);

#endif
