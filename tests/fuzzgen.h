/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzzgen.h - the fuzzer's frames: seeded, so a run is reproducible from
 * its seed.  Well-formed TCP segments (0-4 VLAN tags, IPv4 with options
 * and fragments, IPv6 with extension chains of every kind and length, TCP
 * options, every flag byte in turn, padding after the packet), the same
 * mutated (IHL, data offset, lengths, versions, EtherTypes, next headers,
 * fragment fields, random bytes, cuts, garbage), other protocols, random
 * bytes, and now and then one frame cut at every length.
 */
#ifndef TCPF_FUZZGEN_H
#define TCPF_FUZZGEN_H

#include <stddef.h>
#include <stdint.h>

#define FZ_MIN 14                /* the kernel's test run refuses less */

/* How a frame was made, for the run's summary. */
enum fz_kind {
	FZ_VALID,                /* a well-formed frame, as built */
	FZ_MUTATED,              /* built, then fields changed */
	FZ_SWEEP,                /* one cut of a frame cut at every length */
	FZ_RANDOM,               /* random bytes behind an EtherType */
	FZ_KINDS,
};

struct fz_gen {
	uint64_t rng;
	unsigned int flags_next; /* the next well-formed segment's flag byte */
	size_t cap;              /* the longest frame made */
	uint8_t *big;            /* where a frame is built, before its cut */
	uint8_t *sweep;          /* a frame being cut at every length */
	size_t sweep_len, sweep_cut;
	uint64_t made[FZ_KINDS];
};

/* Frames of at most cap bytes (>= 256) from seed; -1 out of memory. */
int fz_gen_init(struct fz_gen *g, uint64_t seed, size_t cap);
void fz_gen_free(struct fz_gen *g);
/* The next frame into buf (cap bytes); its length (>= FZ_MIN). */
size_t fz_gen_frame(struct fz_gen *g, uint8_t *buf);
const char *fz_kind_name(int kind);

#endif
