/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzzref.h - the fuzzer's reference classifier: what tcpflags should
 * record for a frame, worked out by a plain byte walker written from the
 * RFCs (Ethernet and IEEE 802.1Q/802.1ad, RFC 791, RFC 8200, RFC 4302,
 * RFC 9293) and the README's "What is counted as what".  It shares no code
 * and no header with bpf/ or include/: its own constants, its own walk
 * (the Makefile builds it without the project's include paths).  Where the
 * two disagree, tests/fuzz.c says so.
 */
#ifndef TCPF_FUZZREF_H
#define TCPF_FUZZREF_H

#include <stddef.h>
#include <stdint.h>

/* How far a frame's headers are walked, as the README documents. */
#define REF_VLAN_TAGS 2          /* 802.1Q / 802.1ad tags */
#define REF_IP6_EXTS 8           /* IPv6 extension headers before TCP */

/* Fragments, as the frame shows them. */
enum ref_frag {
	REF_NOT_FRAG,            /* not a fragment (or an atomic one) */
	REF_FRAG_FIRST,          /* offset 0, more to come: has the header */
	REF_FRAG_LATER,          /* a middle or last fragment: no header */
};

/* What a frame is: a TCP segment and its flag byte, or the counter's name. */
struct ref_rec {
	int tcp;                 /* 1: a segment whose flags are counted */
	int family;              /* 4 or 6 (IP frames), 0 otherwise */
	uint8_t flags;           /* the flag byte, when tcp */
	int frag;                /* enum ref_frag */
	int ah4;                 /* an IPv4 AH header was stepped over */
	const char *what;        /* !tcp: the counter, "non_tcp", ... */
};

/* Classify len bytes of frame f. */
void ref_classify(const uint8_t *f, size_t len, struct ref_rec *r);

/* "v4 0x12" or the counter's name, for messages and regression files. */
const char *ref_name(const struct ref_rec *r, char *buf, size_t n);

/* Parse ref_name()'s form back; 0, or -1 when s is neither. */
int ref_parse(const char *s, struct ref_rec *r);

#endif
