/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * maps.h - the registry of pinned maps: one row per map the BPF object pins
 * (LIBBPF_PIN_BY_NAME), and the one place that says
 *   - where it is pinned: per interface,
 *         /sys/fs/bpf/tcpflags/ns<cookie>/<ifname>/<name>,
 *     or per network namespace, shared by its interfaces (one flow table,
 *     so a connection crossing two attached interfaces is one entry),
 *         /sys/fs/bpf/tcpflags/ns<cookie>/<name>;
 *   - whether `tcpflags reset` zeroes it;
 *   - its layout: type, key and value size, and max_entries (SIZED: set
 *     at attach, then kept while pinned).  A pin of another layout (left
 *     by another version) is carried over at attach (user/migrate.h).
 * The loader pins, reuses and checks from it, `reset` zeroes from it, the
 * readers open by its ids, and tests/test_user.c holds it against the BPF
 * object and the README's pin table.  Adding a map: its BPF definition
 * and one row here.
 */
#ifndef TCPF_MAPS_H
#define TCPF_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/types.h>
#include "tcpflags.h"

#define SIZED 0u

/* X(id, name, scope, reset, type, key, value, max_entries) */
#define TCPF_MAP_TABLE(X)                                                                         \
	X(STATS, stats, IFACE, true, PERCPU_ARRAY, __u32, struct tcpf_count, TCPF_STATS_ENTRIES)  \
	X(META, meta, IFACE, false, ARRAY, __u32, struct tcpf_meta, 1)                            \
	X(PHASES, phases, IFACE, true, PERCPU_ARRAY, __u32, __u64, TCPF_PHASE_ENTRIES)            \
	X(SRCS, srcs, IFACE, true, PERCPU_ARRAY, __u32, struct tcpf_src, TCPF_SRC_SLOTS)          \
	X(POLICY, policy, IFACE, false, ARRAY, __u32, struct tcpf_policy, 1)                      \
	X(RULESETS, rulesets, IFACE, false, ARRAY, __u32, struct tcpf_set, TCPF_RULESETS)         \
	X(RHITS, rhits, IFACE, true, PERCPU_ARRAY, __u32, struct tcpf_count, TCPF_HIT_SLOTS)      \
	X(DROPS, drops, IFACE, true, PERCPU_ARRAY, __u32, struct tcpf_count, TCPF_DROP_MAX)       \
	X(RATELIMIT, ratelimit, IFACE, false, ARRAY, __u32, struct tcpf_rl_bucket, TCPF_RL_SLOTS) \
	X(FLOWS, flows, NS, false, ARRAY, __u32, struct tcpf_flow_bucket, SIZED)                  \
	X(SYNS, syns, NS, false, ARRAY, __u32, struct tcpf_syn, SIZED)                            \
	X(CTL, ctl, NS, false, ARRAY, __u32, struct tcpf_ctl, 1)                                  \
	X(CONNS, conns, NS, false, PERCPU_ARRAY, __u32, __u64, TCPF_CONN_MAX)                     \
	X(TIMER, timer, NS, false, ARRAY, __u32, struct tcpf_timer, 1)                            \
	X(GCONF, gconf, NS, false, ARRAY, __u32, struct tcpf_gconf, TCPF_GUARD_SLOTS)              \
	X(GSTATE, gstate, NS, false, ARRAY, __u32, struct tcpf_gstate, TCPF_GUARD_SLOTS)           \
	X(GSTATS, gstats, NS, false, PERCPU_ARRAY, __u32, __u64, TCPF_GUARD_SLOTS * TCPF_GC_MAX)   \
	X(GAUTH, gauth, NS, false, ARRAY, __u32, struct tcpf_gauth, TCPF_GUARD_AUTH_SLOTS)         \
	X(GVERIFIED, gverified, NS, false, ARRAY, __u32, struct tcpf_gverified, TCPF_GUARD_VERIFIED_SLOTS) \
	X(GVBITS, gvbits, NS, false, ARRAY, __u32, struct tcpf_gvbits, 1)                          \
	X(GLISTS, glists, NS, false, LPM_TRIE, struct tcpf_glist_key, struct tcpf_glist, TCPF_GLIST_MAX) \
	/* a new map: its row above this line */

enum map_scope { MAP_IFACE, MAP_NS };

#define TCPF_MAP_ID(id, ...) TCPF_MAP_##id,
enum map_id { TCPF_MAP_TABLE(TCPF_MAP_ID) TCPF_NMAPS };
#undef TCPF_MAP_ID

struct map_def {
	const char *name;        /* "tcpf_stats": the BPF map and its pin */
	enum map_scope scope;
	bool reset;              /* `tcpflags reset` zeroes every entry */
	enum bpf_map_type type;
	__u32 key_size, value_size;
	__u32 max_entries;       /* SIZED: chosen at attach */
};

extern const struct map_def map_defs[TCPF_NMAPS];

/* The directory map id of ifname is pinned in, and its pin's path. */
int map_pin_dir(enum map_id id, const char *ifname, char *buf, size_t size);
int map_pin_path(enum map_id id, const char *ifname, char *buf,
		 size_t size);

/*
 * Open map id of ifname (a per-namespace map: ifname's namespace's), read
 * only when ro: a reader cannot disturb the data path.  -ENOENT when it is
 * not pinned.
 */
int map_open(enum map_id id, const char *ifname, bool ro, int *fd);

/*
 * While an upgrade is under way (user/migrate.c), map_open() of map id of
 * ifname in this process opens fd, the map of the new layout not yet
 * pinned; -1 ends that.
 */
void map_stage(enum map_id id, const char *ifname, int fd);

/* Entries of a pinned map, 0 when it is not pinned. */
__u32 map_pinned_entries(enum map_id id, const char *ifname);

/* Zero every entry of the map behind fd, on every CPU if per-CPU. */
int map_zero(int fd);

/* Zero ifname's maps marked reset (one missing, as an older attachment
 * may lack, is skipped); -ENOENT when none is pinned. */
int maps_reset(const char *ifname);

/*
 * Does an opened BPF object pin exactly the registry's maps, each of its
 * row's layout (SIZED entries not compared)?  0, else -EPROTO with the
 * first difference in why.
 */
struct bpf_object;
int maps_check_obj(struct bpf_object *obj, char *why, size_t size);

/* Point each of obj's pinned maps at its pin of ifname's (by scope). */
int maps_set_pins(struct bpf_object *obj, const char *ifname);

/*
 * Are ifname's pins of this tcpflags' map ABI (tcpf_meta, if pinned)?  0,
 * else -EPROTO with "its pins are of map ABI N (this tcpflags: M)" in why.
 * (Their layouts: user/migrate.h carries those over.)
 */
int maps_check_pins(const char *ifname, char *why, size_t size);

#endif
