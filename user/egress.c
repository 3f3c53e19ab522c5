// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <bpf/libbpf.h>
#include "egress.h"

#define TCPF_TC_HANDLE 0x7cf1
#define TCPF_TC_PRIORITY 0x7cf1

int tc_attach(unsigned int ifindex, bool ingress, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
		    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TCPF_TC_HANDLE,
		    .priority = TCPF_TC_PRIORITY, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &opts);
}

int tc_detach(unsigned int ifindex, bool ingress)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
		    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TCPF_TC_HANDLE,
		    .priority = TCPF_TC_PRIORITY);
	__u32 id;

	if (tc_query(ifindex, ingress, &id))
		return -ENOENT;
	return bpf_tc_detach(&hook, &opts);
}

int tc_query(unsigned int ifindex, bool ingress, __u32 *prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
		    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TCPF_TC_HANDLE,
		    .priority = TCPF_TC_PRIORITY);
	int err = bpf_tc_query(&hook, &opts);

	if (err)
		return err == -EINVAL ? -ENOENT : err;
	*prog_id = opts.prog_id;
	return 0;
}
