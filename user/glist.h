/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * glist.h - the guard's allow and deny lists (tcpf_glists, include/
 * tcpflags.h) from userspace: one slot's prefixes as a table, changed in
 * memory, settled (each prefix's match[] recomputed from the prefixes
 * containing it), then written back as the difference.  Expired prefixes
 * are purged at every change; until then they match nothing and are not
 * listed.  The command's words are parsed here (for the unit tests); it
 * runs in user/glistcmd.c.
 */
#ifndef TCPF_GLIST_H
#define TCPF_GLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcpflags.h"
#include "rules.h"

extern const char *const glist_names[TCPF_GL_LISTS];   /* "allow", "deny" */

struct glist_item {
	struct tcpf_glist_key k;
	struct tcpf_glist v;
};

/* One slot's prefixes, as the map holds them or as they are to be. */
struct glist_table {
	__u32 slot;
	int n, cap;
	struct glist_item *e;
	int others;              /* prefixes of the other slots: the room left */
};

void glist_table_free(struct glist_table *t);

/* TCPF_GL_ALLOW or TCPF_GL_DENY for "allow" or "deny", else -1. */
int glist_of(const char *word);

/* The key of prefix p in slot's lists. */
void glist_key(__u32 slot, const struct prefix *p, struct tcpf_glist_key *k);
/* The prefix of key k. */
void glist_prefix(const struct tcpf_glist_key *k, struct prefix *p);

/* Put p in list l until `until` (0: for good), a new expiry if there. */
int glist_add(struct glist_table *t, const struct prefix *p, int l,
	      __u32 until);
/* Take p out of list l: -ENOENT when it is not in it. */
int glist_del(struct glist_table *t, const struct prefix *p, int l);
/* Empty list l. */
void glist_flush(struct glist_table *t, int l);
/* Forget what has expired by now. */
void glist_purge(struct glist_table *t, __u32 now);
/* By family, then address, then length (a prefix before those within). */
void glist_sort(struct glist_table *t);
/* Recompute every prefix's match[] and covered from its own and the
 * shorter prefixes' entries (see struct tcpf_glist). */
void glist_settle(struct glist_table *t);
/* Is p's own entry in list l live now? */
bool glist_live_entry(const struct tcpf_glist *v, int l, __u32 now);
/* The prefixes of list l live now. */
int glist_count(const struct glist_table *t, int l, __u32 now);

/* Read slot's prefixes from the map behind fd (and count the others'). */
int glist_read(int fd, __u32 slot, struct glist_table *t);
/* Make the map hold t where it held old (old's and t's slot alike):
 * what went is deleted, what is new or changed written.  -E2BIG, and
 * nothing written, when t does not fit beside the other slots. */
int glist_write(int fd, const struct glist_table *old,
		const struct glist_table *t);
/* Delete every prefix of slot (a slot freed or given to another
 * interface). */
int glist_clear_slot(int fd, __u32 slot);

/* The live prefixes of each list of ifname's slot, into n[]; -1 each when
 * the lists cannot be read (a tcpflags without them attached). */
void glist_counts(const char *ifname, __u32 slot, __u32 now,
		  int n[TCPF_GL_LISTS]);

/* GLIST_SET: the list becomes the prefixes (a rules file's guard line) */
enum glist_op { GLIST_ADD, GLIST_DEL, GLIST_LIST, GLIST_FLUSH, GLIST_SET };

/* The word of op ("add" ...), NULL for one without (GLIST_SET and on). */
const char *glist_op_name(int op);

/* A list command as given. */
struct glist_req {
	int list;                /* enum tcpf_glist_id; -1: not a list command */
	int op;                  /* enum glist_op */
	int n;
	struct prefix *p;        /* add, del: the prefixes */
	long long ttl;           /* add: seconds, 0 or -1 (not given): for good */
	bool json;               /* list */
};

/*
 * words (after IFACE) into r when words[0] names a list: CLI_RUN, or
 * EXIT_USAGE after the one line.  ttl and json as the options gave them;
 * settings: some other guard option was given.
 */
int glist_req_parse(char **words, int n, long long ttl, bool json,
		    bool settings, struct glist_req *r);
void glist_req_free(struct glist_req *r);

#endif
