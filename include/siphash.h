/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * siphash.h - SipHash-2-4 (Aumasson and Bernstein, 2012) over whole 64-bit
 * words, for the guard's SYN cookies: the BPF programs make and check
 * them, `tcpflags guard` derives the first secrets, the tests check both
 * against each other.  One definition, built for both targets.
 */
#ifndef TCPF_SIPHASH_H
#define TCPF_SIPHASH_H

#include <linux/types.h>

#define TCPF_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

struct tcpf_sip {
	__u64 v0, v1, v2, v3;
};

static inline __attribute__((always_inline)) void
tcpf_sipround(struct tcpf_sip *s)
{
	s->v0 += s->v1;
	s->v1 = TCPF_ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = TCPF_ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = TCPF_ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = TCPF_ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = TCPF_ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = TCPF_ROTL(s->v2, 32);
}

static inline __attribute__((always_inline)) void
tcpf_sip_init(struct tcpf_sip *s, const __u64 key[2])
{
	s->v0 = key[0] ^ 0x736f6d6570736575ULL;
	s->v1 = key[1] ^ 0x646f72616e646f6dULL;
	s->v2 = key[0] ^ 0x6c7967656e657261ULL;
	s->v3 = key[1] ^ 0x7465646279746573ULL;
}

/* One message word: two compression rounds. */
static inline __attribute__((always_inline)) void
tcpf_sip_word(struct tcpf_sip *s, __u64 m)
{
	s->v3 ^= m;
	tcpf_sipround(s);
	tcpf_sipround(s);
	s->v0 ^= m;
}

/*
 * The last block - the message's length in bytes in the top byte, its
 * last tail_len (< 8) bytes below, as little-endian - and finalization.
 */
static inline __attribute__((always_inline)) __u64
tcpf_sip_final(struct tcpf_sip *s, __u32 words, __u64 tail, __u32 tail_len)
{
	tcpf_sip_word(s, (__u64)(words * 8 + tail_len) << 56 | tail);
	s->v2 ^= 0xff;
	tcpf_sipround(s);
	tcpf_sipround(s);
	tcpf_sipround(s);
	tcpf_sipround(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/*
 * SipHash-2-4 of a message of n words and a tail of tail_len bytes: the
 * tail rides in the length block, so a few bytes past whole words cost no
 * compression of their own.
 */
static inline __attribute__((always_inline)) __u64
tcpf_siphash_tail(const __u64 key[2], const __u64 *m, __u32 n, __u64 tail,
		  __u32 tail_len)
{
	struct tcpf_sip s;
	__u32 i;

	tcpf_sip_init(&s, key);
	for (i = 0; i < n; i++)
		tcpf_sip_word(&s, m[i]);
	return tcpf_sip_final(&s, n, tail, tail_len);
}

/* SipHash-2-4 of a message of n words. */
static inline __attribute__((always_inline)) __u64
tcpf_siphash(const __u64 key[2], const __u64 *m, __u32 n)
{
	return tcpf_siphash_tail(key, m, n, 0, 0);
}

/*
 * The secret of epoch e, derived from the master key: two SipHash outputs,
 * so the kernel's timer can rotate with no daemon and no random source of
 * its own, and nobody without the master key can tell one from the next.
 */
static inline __attribute__((always_inline)) void
tcpf_guard_secret(const __u64 master[2], __u32 epoch, __u64 out[2])
{
	__u64 m = epoch;

	out[0] = tcpf_siphash(master, &m, 1);
	m |= 1ULL << 32;
	out[1] = tcpf_siphash(master, &m, 1);
}

#endif /* TCPF_SIPHASH_H */
