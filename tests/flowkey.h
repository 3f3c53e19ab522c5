/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flowkey.h - flow_key() of bpf/flow.bpf.h, restated for the tests that
 * need to know where a connection lands (to make two share a bucket or a
 * half-open slot).  The hash and the indexes are include/tcpflags.h's: a
 * test that aims with them checks that the program put the key there (it
 * scans the map), and test_flow holds the hash to a random function's
 * spread (hash_spread_*), which aiming with it cannot show.
 */
#ifndef TCPF_FLOWKEY_H
#define TCPF_FLOWKEY_H

#include <string.h>
#include <arpa/inet.h>
#include "tcpflags.h"

/* The canonical key of a segment src:sport -> dst:dport; returns the
 * sender's side.  family is 4 or 6. */
static inline int flowkey_make(int family, const __u8 *src, const __u8 *dst,
			       __u16 sport, __u16 dport, __u16 vlan,
			       struct tcpf_flow_key *k)
{
	__u64 a[2], b[2];
	__u16 sp = htons(sport), dp = htons(dport);
	int swap;

	memset(k, 0, sizeof(*k));
	if (family == 4) {
		k->addr[0][10] = k->addr[0][11] = 0xff;
		k->addr[1][10] = k->addr[1][11] = 0xff;
		memcpy(&k->addr[0][12], src, 4);
		memcpy(&k->addr[1][12], dst, 4);
	} else {
		memcpy(k->addr[0], src, 16);
		memcpy(k->addr[1], dst, 16);
	}
	memcpy(a, k->addr[0], 16);
	memcpy(b, k->addr[1], 16);
	swap = a[0] != b[0] ? a[0] > b[0] :
	       a[1] != b[1] ? a[1] > b[1] : sp > dp;
	if (swap) {
		memcpy(k->addr[0], b, 16);
		memcpy(k->addr[1], a, 16);
		k->port[0] = dp;
		k->port[1] = sp;
	} else {
		k->port[0] = sp;
		k->port[1] = dp;
	}
	k->vlan = vlan;
	k->family = family == 4 ? TCPF_IPV4 : TCPF_IPV6;
	return swap;
}

/* Index into tcpf_flows (buckets) and tcpf_syns (half-open slots). */
static inline __u32 flowkey_bucket(const struct tcpf_flow_key *k, __u32 mask)
{
	return tcpf_flow_bucket(tcpf_flow_hash(k), mask);
}

static inline __u32 flowkey_slot(const struct tcpf_flow_key *k, __u32 mask)
{
	return tcpf_syn_slot(tcpf_flow_hash(k), mask);
}

#endif
