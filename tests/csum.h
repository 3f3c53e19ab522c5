/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * csum.h - the Internet checksum (RFC 1071) of crafted frames, for
 * frames.c and livegen.c (which is built with only its own skeleton, so
 * this stays a header).  Bytes are summed as big-endian 16-bit words.
 */
#ifndef TCPF_CSUM_H
#define TCPF_CSUM_H

#include <stddef.h>
#include <linux/types.h>

/* Add n bytes at p to a running sum (an odd last byte is the high half). */
static inline __u32 csum_add(__u32 sum, const __u8 *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (__u32)p[n - 1] << 8;
	return sum;
}

/* The checksum field's value for a running sum: folded, complemented. */
static inline __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

#endif
