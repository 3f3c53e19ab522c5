// SPDX-License-Identifier: GPL-2.0-only
/*
 * glistcmd.c - `tcpflags guard IFACE allow|deny add PREFIX... [--ttl N]`,
 * `del PREFIX...`, `list [--json]`, `flush`: the lists work as ipset's
 * and nftables' sets with timeouts do.  A change is checked whole before
 * anything is written: a bad prefix, a prefix not in the list, no room -
 * one line, and nothing changed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "cli.h"
#include "crashpoint.h"
#include "glist.h"
#include "glistcmd.h"
#include "guardstate.h"
#include "log.h"
#include "maps.h"
#include "report.h"

/* ------------------------------------------------------------ list */

static void list_show(const char *ifname, const struct glist_req *r,
		      struct glist_table *t, __u32 now)
{
	const char *name = glist_names[r->list];
	char pfx[INET6_ADDRSTRLEN + 8];
	int shown = 0;

	glist_sort(t);
	if (r->json) {
		printf("{\"interface\": ");
		json_string(ifname);
		printf(", \"list\": \"%s\", \"prefixes\": [", name);
	}
	for (int i = 0; i < t->n; i++) {
		const struct tcpf_glist *v = &t->e[i].v;
		struct prefix p;

		if (!glist_live_entry(v, r->list, now))
			continue;
		glist_prefix(&t->e[i].k, &p);
		prefix_write(pfx, sizeof(pfx), &p);
		if (r->json) {
			printf("%s{\"prefix\": \"%s\", \"expires_in\": ",
			       shown ? ", " : "", pfx);
			if (v->until[r->list])
				printf("%u}", v->until[r->list] - now);
			else
				printf("null}");
		} else if (v->until[r->list]) {
			printf("%s expires in %u s\n", pfx,
			       v->until[r->list] - now);
		} else {
			printf("%s\n", pfx);
		}
		shown++;
	}
	if (r->json)
		printf("]}\n");
}

/* ------------------------------------------------------------ changes */

/* r applied to t (purged of what expired): 0, else the exit code after
 * the one line. */
static int change(const char *ifname, const struct glist_req *r,
		  struct glist_table *t, __u32 now)
{
	const char *name = glist_names[r->list];
	char pfx[INET6_ADDRSTRLEN + 8];
	__u32 until = r->ttl > 0 ? now + (__u32)r->ttl : 0;

	glist_purge(t, now);
	if (r->op == GLIST_FLUSH || r->op == GLIST_SET)
		glist_flush(t, r->list);
	for (int i = 0; i < r->n; i++) {
		int err = r->op == GLIST_DEL ?
			  glist_del(t, &r->p[i], r->list) :
			  glist_add(t, &r->p[i], r->list, until);

		if (err == -ENOENT) {
			prefix_write(pfx, sizeof(pfx), &r->p[i]);
			pr_warn("guard %s %s: %s is not in the list", ifname,
				name, pfx);
			return EXIT_FAIL;
		}
		if (err) {
			pr_warn("guard %s %s: %s", ifname, name, strerror(-err));
			return EXIT_FAIL;
		}
	}
	glist_settle(t);
	return 0;
}

/* The data path looks the lists up only while the slot has some. */
static int set_listed(int cfd, __u32 slot, __u32 listed)
{
	struct tcpf_gconf *gc = malloc(sizeof(*gc));
	int err = 0;

	if (!gc)
		return -ENOMEM;
	if (bpf_map_lookup_elem(cfd, &slot, gc))
		err = -errno;
	else if (gc->listed != listed) {
		gc->listed = listed;
		if (bpf_map_update_elem(cfd, &slot, gc, BPF_ANY))
			err = -errno;
	}
	free(gc);
	return err;
}

static int copy(const struct glist_table *from, struct glist_table *to)
{
	*to = *from;
	to->cap = from->n ? from->n : 1;
	to->e = malloc((size_t)to->cap * sizeof(*to->e));
	if (!to->e)
		return -ENOMEM;
	/* an empty table may have no array: memcpy from NULL is undefined,
	 * even for 0 bytes */
	if (from->n)
		memcpy(to->e, from->e, (size_t)from->n * sizeof(*to->e));
	return 0;
}

int glist_run(const char *ifname, unsigned int ifindex,
	      const struct glist_req *r)
{
	struct glist_table old = { 0 }, t = { 0 };
	int cfd = -1, fd = -1, ret = EXIT_FAIL, err;
	__u32 slot, now = guard_clock_now(ifname);

	err = map_open(TCPF_MAP_GCONF, ifname, r->op == GLIST_LIST, &cfd);
	if (!err)
		err = guard_slot_of(cfd, ifindex, false, &slot);
	if (!err)
		err = map_open(TCPF_MAP_GLISTS, ifname, r->op == GLIST_LIST, &fd);
	if (err) {
		ret = not_attached(ifname, err);
		goto out;
	}
	err = glist_read(fd, slot, &old);
	if (!err && r->op != GLIST_LIST)
		crash_point("glist:read");
	if (!err)
		err = copy(&old, &t);
	if (err) {
		pr_warn("cannot read the %s list of %s: %s",
			glist_names[r->list], ifname, strerror(-err));
		goto out;
	}
	if (r->op == GLIST_LIST) {
		list_show(ifname, r, &t, now);
		ret = EXIT_OK;
		goto out;
	}
	ret = change(ifname, r, &t, now);
	if (ret)
		goto out;
	/* the entries, then the count that turns their lookup on or off */
	err = glist_write(fd, &old, &t);
	if (!err)
		err = set_listed(cfd, slot, (__u32)t.n);
	if (err == -E2BIG) {
		pr_warn("guard %s %s: %d prefixes would not fit the lists' room "
			"(%d, all interfaces')", ifname, glist_names[r->list],
			t.n + t.others, TCPF_GLIST_MAX);
		goto out;
	}
	if (err) {
		pr_warn("cannot write the %s list of %s: %s",
			glist_names[r->list], ifname, strerror(-err));
		ret = EXIT_FAIL;
		goto out;
	}
	pr_info("tcpflags: guard %s %s: %d prefixes", ifname,
		glist_names[r->list], glist_count(&t, r->list, now));
out:
	glist_table_free(&old);
	glist_table_free(&t);
	if (fd >= 0)
		close(fd);
	if (cfd >= 0)
		close(cfd);
	return ret;
}
