/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migrate.bpf.h - the one step of an upgrade that userspace cannot do
 * itself: add the counts an old program made into this program's per-CPU
 * counters without losing the ones this program is making at that moment
 * (a read-modify-write of a per-CPU value through the syscall would).
 * Run by user/migrate.c with BPF_PROG_TEST_RUN on each CPU in turn; the
 * frame is a struct tcpf_add.  The data path's increments on this CPU run
 * in softirq and never interleave with an atomic add.
 */
#ifndef TCPF_MIGRATE_BPF_H
#define TCPF_MIGRATE_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tcpflags.h"

#define TCPF_ADD_FITS(map, type)                                               \
	_Static_assert(sizeof(type) % 8 == 0 &&                                \
		       sizeof(type) / 8 <= TCPF_ADD_WORDS, "tcpf_" #map);
TCPF_ADD_MAPS(TCPF_ADD_FITS)
#undef TCPF_ADD_FITS

static __always_inline int migrate_add(__u64 *v, __u32 words,
				       const struct tcpf_add *a)
{
	if (!v)
		return XDP_ABORTED;
	for (__u32 i = 0; i < TCPF_ADD_WORDS; i++)
		if (i < words && a->word[i])
			__sync_fetch_and_add(&v[i], a->word[i]);
	return XDP_PASS;
}

SEC("xdp")
int tcpf_migrate_add(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct tcpf_add a;
	__u32 key;

	if (data + sizeof(a) > end)
		return XDP_ABORTED;
	__builtin_memcpy(&a, data, sizeof(a));
	key = a.key;
	switch (a.map) {
#define TCPF_ADD_CASE(map, type)                                               \
	case TCPF_ADD_##map:                                                   \
		return migrate_add(bpf_map_lookup_elem(&tcpf_##map, &key),     \
				   sizeof(type) / 8, &a);
	TCPF_ADD_MAPS(TCPF_ADD_CASE)
#undef TCPF_ADD_CASE
	}
	return XDP_ABORTED;
}

#endif /* TCPF_MIGRATE_BPF_H */
