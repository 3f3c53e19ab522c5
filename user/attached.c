// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "attached.h"

int query_attached(unsigned int ifindex, struct attached *a)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p = NULL;
	long err;

	memset(a, 0, sizeof(*a));
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = libxdp_get_error(mp);
	if (err == -ENOENT || (!err && !mp))
		return 0;
	if (err)
		return (int)err;

	a->legacy = xdp_multiprog__is_legacy(mp);
	a->mode = xdp_multiprog__attach_mode(mp);
	if (a->legacy) {
		p = xdp_multiprog__main_prog(mp);
		if (p && strcmp(xdp_program__name(p), TCPF_PROG_NAME)) {
			snprintf(a->foreign, sizeof(a->foreign), "%s (id %u)",
				 xdp_program__name(p), xdp_program__id(p));
			p = NULL;
		}
	} else {
		while ((p = xdp_multiprog__next_prog(p, mp)))
			if (!strcmp(xdp_program__name(p), TCPF_PROG_NAME))
				break;
	}
	if (p) {
		a->ours = true;
		a->prog_id = xdp_program__id(p);
	}
	xdp_multiprog__close(mp);
	return 0;
}

/*
 * Is prog_id on ifindex's XDP hook itself (no dispatcher), in which mode?
 * Netlink alone: no capability, where libxdp reads the program by its id
 * (BPF_PROG_GET_FD_BY_ID: CAP_SYS_ADMIN) to learn its name.
 */
static bool on_hook(unsigned int ifindex, __u32 prog_id, __u32 *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (!prog_id || bpf_xdp_query((int)ifindex, 0, &q))
		return false;
	*mode = q.drv_prog_id == prog_id ? XDP_MODE_NATIVE :
		q.skb_prog_id == prog_id ? XDP_MODE_SKB :
		q.hw_prog_id == prog_id ? XDP_MODE_HW : XDP_MODE_UNSPEC;
	return *mode != XDP_MODE_UNSPEC;
}

int query_ours(unsigned int ifindex, __u32 prog_id, struct attached *a)
{
	__u32 mode;

	if (!on_hook(ifindex, prog_id, &mode))
		return query_attached(ifindex, a);
	memset(a, 0, sizeof(*a));
	a->ours = a->legacy = true;
	a->mode = mode;
	a->prog_id = prog_id;
	return 0;
}

bool iface_attached(const char *ifname, const struct tcpf_meta *m,
		    __u32 *mode)
{
	unsigned int ifindex = if_nametoindex(ifname);
	struct attached a;

	*mode = 0;
	if (!ifindex || ifindex != m->ifindex ||
	    query_ours(ifindex, m->prog_id, &a) || !a.ours ||
	    a.prog_id != m->prog_id)
		return false;
	*mode = a.mode;
	return true;
}

int prog_map_ids(__u32 prog_id, __u32 *ids, __u32 max)
{
	struct bpf_prog_info info = { .nr_map_ids = max,
				      .map_ids = (__u64)(unsigned long)ids };
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(prog_id), err = 0;

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	close(fd);
	return err ? err : (int)info.nr_map_ids;
}
