// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzzgen.c - see fuzzgen.h.  A frame is built whole, with a note of
 * where each header went, so a mutation can aim at a field; the builder
 * keeps its own constants, like the reference, and knows nothing of
 * tcpflags.  Addresses come from the benchmarking ranges (198.18.0.0/15,
 * 2001:2::/48), though no frame leaves the test run.
 */
#include <stdlib.h>
#include <string.h>
#include "fuzzgen.h"

#define EXT_MAX 14               /* IPv6 extension headers built at most */
#define TAGS_MAX 4
#define BIG 65536                /* room for any frame build() makes */

/* Where a built frame's headers are. */
struct layout {
	size_t len;
	int family;              /* 4, 6, or 0: not IP */
	size_t type_off;         /* the innermost EtherType */
	int ntags;
	size_t tag[TAGS_MAX];    /* each tag's TPID */
	size_t l3, l4, ip_end;
	int next;                /* the byte naming the upper layer, or -1 */
	int next_tcp;            /* that upper layer is TCP */
	int next_ext;
	size_t ext[EXT_MAX];     /* IPv6 extension headers (and IPv4 AH) */
	int frag;                /* the fragment field (v4) or header (v6) */
};

static const unsigned int tpids[] = { 0x8100, 0x88a8 };
static const uint8_t ext_kinds[] = { 0, 43, 44, 60, 51 };
/* what may follow: TCP, the extension headers, ESP, no next header,
 * UDP, ICMPv6, the mobility, HIP, shim6 and experimental headers */
static const uint8_t next_kinds[] = { 6, 6, 6, 0, 43, 44, 60, 51, 50, 59,
				      17, 58, 135, 139, 140, 253 };
static const unsigned int ethertypes[] = { 0x0800, 0x86dd, 0x8100, 0x88a8,
					   0x0806, 0x88cc, 0x8847, 0x9100 };

/* splitmix64 */
static uint64_t rnd(struct fz_gen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [0, n) */
static size_t below(struct fz_gen *g, size_t n)
{
	return n ? (size_t)(rnd(g) % n) : 0;
}

/* true once in n */
static int one_in(struct fz_gen *g, size_t n)
{
	return below(g, n) == 0;
}

static void fill(struct fz_gen *g, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd(g);
}

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

#define PICK(g, a) ((a)[below(g, sizeof(a) / sizeof((a)[0]))])

int fz_gen_init(struct fz_gen *g, uint64_t seed, size_t cap)
{
	memset(g, 0, sizeof(*g));
	g->rng = seed;
	g->cap = cap;
	g->sweep = malloc(cap);
	g->big = malloc(BIG);
	if (g->sweep && g->big)
		return 0;
	fz_gen_free(g);
	return -1;
}

void fz_gen_free(struct fz_gen *g)
{
	free(g->sweep);
	free(g->big);
	g->sweep = NULL;
	g->big = NULL;
}

const char *fz_kind_name(int kind)
{
	static const char *const names[FZ_KINDS] = {
		"well-formed", "mutated", "cut at every byte", "random",
	};

	return kind >= 0 && kind < FZ_KINDS ? names[kind] : "?";
}

/* ---------------------------------------------------- well-formed frames */

/* A fragment field: none, don't-fragment, first, middle or last. */
static unsigned int frag4(struct fz_gen *g)
{
	switch (below(g, 10)) {
	case 0:
		return 0x2000;                            /* first */
	case 1:
		return 0x2000 | (unsigned int)(1 + below(g, 0x1fff));
	case 2:
		return (unsigned int)(1 + below(g, 0x1fff)); /* last */
	case 3:
	case 4:
		return 0x4000;
	default:
		return 0;
	}
}

static unsigned int frag6(struct fz_gen *g)
{
	switch (below(g, 5)) {
	case 0:
		return 1;                                 /* first */
	case 1:
		return (unsigned int)(1 + below(g, 0x1fff)) << 3 | 1;
	case 2:
		return (unsigned int)(1 + below(g, 0x1fff)) << 3; /* last */
	case 3:
		return 0;                                 /* atomic */
	default:
		return (unsigned int)below(g, 0x10000);
	}
}

/* IPv4 options: NOPs, record route, a timestamp, an end, or noise. */
static void ip4_options(struct fz_gen *g, uint8_t *p, size_t n)
{
	size_t i = 0;

	if (one_in(g, 4)) {
		fill(g, p, n);
		return;
	}
	while (i < n) {
		size_t left = n - i, olen;

		switch (below(g, 4)) {
		case 0:
			p[i++] = 1;                       /* NOP */
			break;
		case 1:
			if (left < 7) {
				p[i++] = 1;
				break;
			}
			olen = 3 + 4 * below(g, (left - 3) / 4 + 1);
			olen = olen > left ? left : olen;
			p[i] = 7;                         /* record route */
			p[i + 1] = (uint8_t)olen;
			p[i + 2] = 4;
			fill(g, p + i + 3, olen - 3);
			i += olen;
			break;
		case 2:
			if (left < 8) {
				p[i++] = 1;
				break;
			}
			p[i] = 68;                        /* timestamp */
			p[i + 1] = 8;
			p[i + 2] = 5;
			p[i + 3] = 0;
			fill(g, p + i + 4, 4);
			i += 8;
			break;
		default:
			memset(p + i, 0, left);           /* end of options */
			i = n;
		}
	}
}

/* TCP options: MSS, window scale, SACK permitted, timestamps, or noise. */
static void tcp_options(struct fz_gen *g, uint8_t *p, size_t n)
{
	static const uint8_t opts[] = {
		2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1,
		8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1,
	};

	if (one_in(g, 3)) {
		fill(g, p, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		p[i] = i < sizeof(opts) ? opts[i] : 1;
}

/* A length byte of an extension header: mostly short, now and then huge. */
static uint8_t ext_len(struct fz_gen *g, uint8_t type)
{
	switch (below(g, 16)) {
	case 0:
		return 255;
	case 1:
		return (uint8_t)below(g, 256);
	case 2:
		return 0;
	default:
		/* AH: 12 bytes and a 12-byte ICV, a multiple of 8 (RFC 4302) */
		return type == 51 ? (uint8_t)(4 + 2 * below(g, 3))
				  : (uint8_t)below(g, 4);
	}
}

static size_t ext_bytes(uint8_t type, uint8_t lenbyte)
{
	if (type == 44)
		return 8;
	if (type == 51)
		return ((size_t)lenbyte + 2) * 4;
	return ((size_t)lenbyte + 1) * 8;
}

/* How many extension headers: mostly few, sometimes at and past the limit. */
static int ext_count(struct fz_gen *g)
{
	switch (below(g, 20)) {
	case 0 ... 7:
		return 0;
	case 8 ... 14:
		return 1 + (int)below(g, 3);
	case 15 ... 17:
		return 4 + (int)below(g, 5);
	default:
		return 9 + (int)below(g, EXT_MAX - 8);
	}
}

/* Payload bytes: mostly none or a few, sometimes a full segment. */
static size_t payload_len(struct fz_gen *g)
{
	switch (below(g, 10)) {
	case 0 ... 3:
		return 0;
	case 4 ... 7:
		return 1 + below(g, 64);
	default:
		return below(g, 1461);
	}
}

/*
 * Build a frame into g->big, its layout in *l: the headers as chosen,
 * whatever their length.  The caller keeps the first g->cap bytes: a
 * frame that does not fit is a cut frame.
 */
static void build(struct fz_gen *g, struct layout *l)
{
	uint8_t *buf = g->big, nh[EXT_MAX + 1], next;
	size_t off, pay;
	int n;

	memset(l, 0, sizeof(*l));
	l->next = -1;
	l->frag = -1;
	fill(g, buf, 12);
	buf[0] &= 0xfe;                                   /* unicast */
	off = 12;
	/* three tags or more end the walk (vlan_too_deep): a few of those */
	switch (below(g, 20)) {
	case 0 ... 9:
		l->ntags = 0;
		break;
	case 10 ... 13:
		l->ntags = 1;
		break;
	case 14 ... 17:
		l->ntags = 2;
		break;
	default:
		l->ntags = 3 + (int)below(g, 2);
	}
	for (int i = 0; i < l->ntags; i++) {
		l->tag[i] = off;
		put16(buf + off, PICK(g, tpids));
		put16(buf + off + 2, (unsigned int)below(g, 0x10000));
		off += 4;
	}
	l->type_off = off;
	l->family = one_in(g, 2) ? 4 : 6;
	put16(buf + off, l->family == 4 ? 0x0800 : 0x86dd);
	off += 2;
	l->l3 = off;
	next = one_in(g, 8) ? PICK(g, next_kinds) : 6;
	if (l->family == 4) {
		size_t opt = one_in(g, 3) ? 4 * (1 + below(g, 10)) : 0;
		int ah = one_in(g, 12);

		memset(buf + off, 0, 20);
		buf[off] = (uint8_t)(0x40 | (5 + opt / 4));
		buf[off + 1] = (uint8_t)below(g, 256);
		put16(buf + off + 4, (unsigned int)below(g, 0x10000));
		l->frag = (int)(off + 6);
		put16(buf + off + 6, frag4(g));
		buf[off + 8] = (uint8_t)(1 + below(g, 255));
		buf[off + 9] = ah ? 51 : next;
		l->next = (int)(off + 9);
		fill(g, buf + off + 10, 2);
		buf[off + 12] = 198;
		buf[off + 13] = (uint8_t)(18 + below(g, 2));
		fill(g, buf + off + 14, 2);
		buf[off + 16] = 198;
		buf[off + 17] = (uint8_t)(18 + below(g, 2));
		fill(g, buf + off + 18, 2);
		ip4_options(g, buf + off + 20, opt);
		off += 20 + opt;
		if (ah) {
			uint8_t lb = ext_len(g, 51);

			l->ext[l->next_ext++] = off;
			l->next = (int)off;
			buf[off] = next;
			buf[off + 1] = lb;
			fill(g, buf + off + 2, ext_bytes(51, lb) - 2);
			off += ext_bytes(51, lb);
		}
	} else {
		n = ext_count(g);
		for (int i = 0; i < n; i++)
			nh[i] = PICK(g, ext_kinds);
		nh[n] = next;
		buf[off] = (uint8_t)(0x60 | below(g, 16));
		fill(g, buf + off + 1, 3);
		buf[off + 6] = nh[0];
		l->next = (int)(off + 6);
		buf[off + 7] = (uint8_t)(1 + below(g, 255));
		memset(buf + off + 8, 0, 32);
		put16(buf + off + 8, 0x2001);
		put16(buf + off + 10, 2);
		fill(g, buf + off + 14, 10);
		put16(buf + off + 24, 0x2001);
		put16(buf + off + 26, 2);
		fill(g, buf + off + 30, 10);
		off += 40;
		for (int i = 0; i < n; i++) {
			uint8_t lb = ext_len(g, nh[i]);
			size_t eb = ext_bytes(nh[i], lb);

			l->ext[l->next_ext++] = off;
			l->next = (int)off;
			buf[off] = nh[i + 1];
			buf[off + 1] = lb;
			fill(g, buf + off + 2, eb - 2);
			if (nh[i] == 44) {
				l->frag = (int)(off + 2);
				put16(buf + off + 2, frag6(g));
			}
			off += eb;
		}
	}
	l->next_tcp = next == 6;
	l->l4 = off;
	if (l->next_tcp) {
		size_t doff = one_in(g, 2) ? 20 : 20 + 4 * below(g, 11);

		fill(g, buf + off, 12);                   /* ports, seq, ack */
		buf[off + 12] = (uint8_t)(doff / 4 << 4 | below(g, 2));
		buf[off + 13] = (uint8_t)g->flags_next++;
		fill(g, buf + off + 14, 6);               /* window, sum, urg */
		tcp_options(g, buf + off + 20, doff - 20);
		off += doff;
		pay = payload_len(g);
	} else {
		pay = 8 + below(g, 64);
	}
	fill(g, buf + off, pay);
	off += pay;
	l->ip_end = off;
	if (l->family == 4)
		put16(buf + l->l3 + 2, (unsigned int)(off - l->l3));
	else
		put16(buf + l->l3 + 4, (unsigned int)(off - l->l3 - 40));
	/* garbage after the packet, or the padding to Ethernet's 60 bytes */
	if (one_in(g, 3)) {
		pay = 1 + below(g, 64);
		fill(g, buf + off, pay);
		off += pay;
	} else if (off < 60 && one_in(g, 2)) {
		memset(buf + off, 0, 60 - off);
		off = 60;
	}
	l->len = off;
}

/* ------------------------------------------------------------- mutations */

/* A length field's new value: short, exact, off by a little, huge. */
static unsigned int lying_length(struct fz_gen *g, unsigned int exact)
{
	switch (below(g, 7)) {
	case 0:
		return 0;
	case 1:
		return (unsigned int)below(g, 60);
	case 2:
		return (exact - (unsigned int)below(g, 24)) & 0xffff;
	case 3:
		return (exact + (unsigned int)below(g, 24)) & 0xffff;
	case 4:
		return 0xffff;
	default:
		return (unsigned int)below(g, 0x10000);
	}
}

/* One change to a built frame; returns its new length. */
static size_t mutate(struct fz_gen *g, uint8_t *buf, size_t len,
		     const struct layout *l)
{
	size_t at;

	switch (below(g, 14)) {
	case 0:                                  /* IHL 0-15 */
		if (l->family == 4 && l->l3 < len)
			buf[l->l3] = (uint8_t)(0x40 | below(g, 16));
		break;
	case 1:                                  /* data offset 0-15 */
		if (l->next_tcp && l->l4 + 12 < len)
			buf[l->l4 + 12] = (uint8_t)(below(g, 16) << 4 |
						    (buf[l->l4 + 12] & 0x0f));
		break;
	case 2:                                  /* total / payload length */
		at = l->l3 + (l->family == 4 ? 2 : 4);
		if (at + 1 < len)
			put16(buf + at, lying_length(g, (unsigned int)(l->ip_end -
				l->l3 - (l->family == 4 ? 0 : 40))));
		break;
	case 3:                                  /* version */
		if (l->l3 < len)
			buf[l->l3] = (uint8_t)(below(g, 16) << 4 |
					       (buf[l->l3] & 0x0f));
		break;
	case 4:                                  /* an EtherType or TPID */
		at = l->ntags && one_in(g, 2) ? l->tag[below(g, (size_t)l->ntags)]
					      : l->type_off;
		if (at + 1 < len)
			put16(buf + at, one_in(g, 4) ?
			      (unsigned int)below(g, 0x10000) :
			      PICK(g, ethertypes));
		break;
	case 5:                                  /* an extension's length */
		if (l->next_ext) {
			at = l->ext[below(g, (size_t)l->next_ext)] + 1;
			if (at < len)
				buf[at] = one_in(g, 2) ? 255 : (uint8_t)below(g, 256);
		}
		break;
	case 6:                                  /* a next header, protocol */
		if (l->next >= 0 && (size_t)l->next < len)
			buf[l->next] = one_in(g, 4) ? (uint8_t)below(g, 256)
						    : PICK(g, next_kinds);
		break;
	case 7:                                  /* an extension's kind */
		if (l->next_ext) {
			int i = (int)below(g, (size_t)l->next_ext);

			at = i ? l->ext[i - 1] : l->l3 + 6;
			if (l->family == 4)
				at = l->l3 + 9;
			if (at < len)
				buf[at] = PICK(g, next_kinds);
		}
		break;
	case 8:                                  /* the fragment field */
		if (l->frag >= 0 && (size_t)l->frag + 1 < len)
			put16(buf + l->frag, l->family == 4 ? frag4(g) | (one_in(g, 4) ?
			      0x8000 : 0) : frag6(g));
		break;
	case 9:                                  /* a few random bytes */
	case 10:
		for (size_t i = 0, n = 1 + below(g, 4); i < n; i++)
			buf[below(g, len)] = (uint8_t)rnd(g);
		break;
	case 11:                                 /* cut anywhere */
		return FZ_MIN + below(g, len - FZ_MIN + 1);
	case 12:                                 /* garbage after it all */
		at = 1 + below(g, 100);
		if (len + at > g->cap)
			at = g->cap - len;
		fill(g, buf + len, at);
		return len + at;
	default:                                 /* cut in the headers */
		if (l->l4 + 20 > FZ_MIN)
			return FZ_MIN + below(g, (l->l4 + 20 < len ? l->l4 + 20
						  : len) - FZ_MIN + 1);
	}
	return len;
}

/* ------------------------------------------------------------- the frames */

size_t fz_gen_frame(struct fz_gen *g, uint8_t *buf)
{
	struct layout l;
	size_t len;

	if (g->sweep_cut) {
		/* the frame of a sweep, cut one byte longer each time */
		len = g->sweep_cut++;
		if (g->sweep_cut > g->sweep_len)
			g->sweep_cut = 0;
		memcpy(buf, g->sweep, len);
		g->made[FZ_SWEEP]++;
		return len;
	}
	if (one_in(g, 40)) {
		/* random bytes behind an EtherType worth walking */
		len = FZ_MIN + below(g, 200);
		fill(g, buf, len);
		if (!one_in(g, 4))
			put16(buf + 12, PICK(g, ethertypes));
		if (len >= 16 && one_in(g, 2))
			buf[FZ_MIN] = one_in(g, 2) ? 0x45 : 0x60;
		g->made[FZ_RANDOM]++;
		return len;
	}
	build(g, &l);
	len = l.len < g->cap ? l.len : g->cap;
	memcpy(buf, g->big, len);
	if (len <= 300 && one_in(g, 400)) {
		/* from the Ethernet header up to the whole frame */
		memcpy(g->sweep, buf, len);
		g->sweep_len = len;
		g->sweep_cut = FZ_MIN + 1;
		g->made[FZ_SWEEP]++;
		return FZ_MIN;
	}
	if (one_in(g, 2)) {
		g->made[FZ_VALID]++;
		return len;
	}
	for (size_t i = 0, n = one_in(g, 2) ? 1 : 2 + below(g, 3); i < n; i++)
		len = mutate(g, buf, len, &l);
	g->made[FZ_MUTATED]++;
	return len;
}
