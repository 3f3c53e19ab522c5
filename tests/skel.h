/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * skel.h - the tcpflags skeleton as the tests and benches use it: a
 * private copy of every map, nothing pinned in bpffs.
 */
#ifndef TCPF_TEST_SKEL_H
#define TCPF_TEST_SKEL_H

#include <stdbool.h>
#include <bpf/libbpf.h>
#include "tcpflags.skel.h"

/* Opened, pin paths cleared, not loaded (callers may size maps first). */
static inline struct tcpflags_bpf *skel_open_private(void)
{
	struct tcpflags_bpf *tf = tcpflags_bpf__open();
	struct bpf_map *map;

	if (!tf)
		return NULL;
	bpf_object__for_each_map(map, tf->obj)
		bpf_map__set_pin_path(map, NULL);
	return tf;
}

/* Opened as above, tracking on or off (`--no-flows`), and loaded. */
static inline struct tcpflags_bpf *skel_load_private(bool flows)
{
	struct tcpflags_bpf *tf = skel_open_private();

	if (!tf)
		return NULL;
	tf->rodata->tcpf_flows_on = flows;
	if (tcpflags_bpf__load(tf)) {
		tcpflags_bpf__destroy(tf);
		return NULL;
	}
	return tf;
}

#endif
