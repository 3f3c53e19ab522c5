// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzzref.c - the reference classifier (see fuzzref.h).  One function per
 * layer, each given the frame, its length and the offset it starts at,
 * reading bytes one at a time: nothing here knows how tcpflags is built,
 * only what its README says it counts.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzzref.h"

/* EtherTypes (IEEE 802.3, 802.1Q, 802.1ad; RFC 894, RFC 2464). */
#define ET_IPV4 0x0800
#define ET_IPV6 0x86dd
#define ET_CTAG 0x8100
#define ET_STAG 0x88a8

/* IP protocol numbers (IANA). */
#define P_HOPOPT 0
#define P_TCP 6
#define P_IP6_ROUTE 43
#define P_IP6_FRAG 44
#define P_AH 51
#define P_IP6_OPTS 60

#define ETH_LEN 14
#define TAG_LEN 4
#define IP4_MIN 20
#define IP6_LEN 40
#define TCP_MIN 20
#define IP6_MAXPLEN 65535        /* a jumbogram's payload is longer (RFC 2675) */

static unsigned int be16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static void other(struct ref_rec *r, const char *what)
{
	r->tcp = 0;
	r->what = what;
}

/*
 * TCP (RFC 9293 3.1) at off, the IP packet ending at end (<= the frame):
 * the fixed 20 bytes, then a data offset of at least 5 words that stays
 * inside the packet.
 */
static void ref_tcp(const uint8_t *f, size_t off, size_t end,
		    struct ref_rec *r)
{
	size_t doff;

	if (off + TCP_MIN > end)
		return other(r, "tcp_truncated");
	doff = (size_t)(f[off + 12] >> 4) * 4;
	if (doff < TCP_MIN || off + doff > end)
		return other(r, "tcp_bad_doff");
	r->tcp = 1;
	r->flags = f[off + 13];
	r->what = NULL;
}

/*
 * IPv4 (RFC 791) at off.  As the kernel (ip_rcv_core) and tcpdump judge a
 * header: a version other than 4, then an IHL under 5 words, are bad
 * headers whatever the lengths say; then the total length must fit the
 * frame and hold the header.  A fragment with a non-zero offset has no
 * transport header; one with offset 0 does.  IPsec AH (RFC 4302) in
 * transport mode sits between the header and TCP, the flag byte in the
 * clear, as in IPv6: one AH is stepped over.
 */
static void ref_ipv4(const uint8_t *f, size_t len, size_t off,
		     struct ref_rec *r)
{
	size_t ihl, tot, end, ah;
	unsigned int fragoff;
	uint8_t proto;

	if (len - off < IP4_MIN)
		return other(r, "ip4_truncated");
	if (f[off] >> 4 != 4)
		return other(r, "ip_bad_version");
	ihl = (size_t)(f[off] & 0x0f) * 4;
	if (ihl < IP4_MIN)
		return other(r, "ip4_bad_ihl");
	tot = be16(f + off + 2);
	if (tot > len - off)
		return other(r, "ip4_truncated");
	if (tot < ihl)
		return other(r, "ip4_bad_ihl");
	r->family = 4;
	fragoff = be16(f + off + 6) & 0x1fff;
	proto = f[off + 9];
	end = off + tot;
	if (fragoff) {
		r->frag = REF_FRAG_LATER;
		return other(r, proto == P_TCP ? "tcp_fragment" : "non_tcp");
	}
	if (be16(f + off + 6) & 0x2000)
		r->frag = REF_FRAG_FIRST;
	off += ihl;
	if (proto == P_AH) {
		r->ah4 = 1;
		/* its length in 32-bit words, minus 2 (RFC 4302 2.2) */
		if (off + 8 > end)
			return other(r, "ip4_truncated");
		ah = ((size_t)f[off + 1] + 2) * 4;
		if (off + ah > end)
			return other(r, "ip4_truncated");
		proto = f[off];
		off += ah;
	}
	if (proto != P_TCP)
		return other(r, "non_tcp");
	ref_tcp(f, off, end, r);
}

/* The IPv6 extension headers walked to find TCP (RFC 8200 4, RFC 4302). */
static int ip6_ext(uint8_t nh)
{
	return nh == P_HOPOPT || nh == P_IP6_ROUTE || nh == P_IP6_FRAG ||
	       nh == P_IP6_OPTS || nh == P_AH;
}

/*
 * IPv6 (RFC 8200) at off.  The payload length must fit the frame; 0 is a
 * jumbogram's (RFC 2675: more than 65535 bytes follow, which the frame
 * itself must then hold) and otherwise what it says, an empty payload, as
 * the kernel trims it.  The chain is walked up to REF_IP6_EXTS headers:
 * every one must lie inside the packet; a fragment header with a non-zero
 * offset ends the walk (nothing after it is a header); ESP, no next header
 * and anything unknown end it too.
 */
static void ref_ipv6(const uint8_t *f, size_t len, size_t off,
		     struct ref_rec *r)
{
	size_t plen, end, hlen;
	uint8_t nh;
	int n;

	if (len - off < IP6_LEN)
		return other(r, "ip6_truncated");
	if (f[off] >> 4 != 6)
		return other(r, "ip_bad_version");
	plen = be16(f + off + 4);
	if (plen > len - off - IP6_LEN)
		return other(r, "ip6_truncated");
	if (plen == 0 && len - off - IP6_LEN > IP6_MAXPLEN)
		end = len;
	else
		end = off + IP6_LEN + plen;
	r->family = 6;
	nh = f[off + 6];
	off += IP6_LEN;
	for (n = 0; ip6_ext(nh); n++) {
		if (n == REF_IP6_EXTS)
			return other(r, "ip6_ext_too_long");
		if (off + 8 > end)
			return other(r, "ip6_ext_truncated");
		if (nh == P_IP6_FRAG)
			hlen = 8;
		else if (nh == P_AH)
			hlen = ((size_t)f[off + 1] + 2) * 4;
		else
			hlen = ((size_t)f[off + 1] + 1) * 8;
		if (off + hlen > end)
			return other(r, "ip6_ext_truncated");
		if (nh == P_IP6_FRAG) {
			unsigned int fo = be16(f + off + 2);

			if (fo & 0xfff8) {
				r->frag = REF_FRAG_LATER;
				return other(r, f[off] == P_TCP ?
						"tcp_fragment" : "non_tcp");
			}
			if (fo & 1)
				r->frag = REF_FRAG_FIRST;
		}
		nh = f[off];
		off += hlen;
	}
	if (nh != P_TCP)
		return other(r, "non_tcp");
	ref_tcp(f, off, end, r);
}

void ref_classify(const uint8_t *f, size_t len, struct ref_rec *r)
{
	unsigned int type;
	size_t off = ETH_LEN;
	int tags = 0;

	memset(r, 0, sizeof(*r));
	if (len < ETH_LEN)
		return other(r, "eth_truncated");
	type = be16(f + 12);
	while (type == ET_CTAG || type == ET_STAG) {
		if (tags == REF_VLAN_TAGS)
			return other(r, "vlan_too_deep");
		if (off + TAG_LEN > len)
			return other(r, "vlan_truncated");
		type = be16(f + off + 2);
		off += TAG_LEN;
		tags++;
	}
	if (type == ET_IPV4)
		return ref_ipv4(f, len, off, r);
	if (type == ET_IPV6)
		return ref_ipv6(f, len, off, r);
	other(r, "non_tcp");
}

const char *ref_name(const struct ref_rec *r, char *buf, size_t n)
{
	if (r->tcp)
		snprintf(buf, n, "v%d 0x%02x", r->family, r->flags);
	else
		snprintf(buf, n, "%s", r->what);
	return buf;
}

static const char *const ref_whats[] = {
	"non_tcp", "tcp_fragment", "eth_truncated", "vlan_truncated",
	"vlan_too_deep", "ip_bad_version", "ip4_truncated", "ip4_bad_ihl",
	"ip6_truncated", "ip6_ext_truncated", "ip6_ext_too_long",
	"tcp_truncated", "tcp_bad_doff",
};

int ref_parse(const char *s, struct ref_rec *r)
{
	unsigned long fam = 0, flags = 0;
	char *e = NULL, *f = NULL;

	memset(r, 0, sizeof(*r));
	/* "v4 0x12", nothing after: strtoul, as sscanf's %u and %x wrap a
	 * value past UINT_MAX round into range ("v4294967300" read as 4) */
	if (s[0] == 'v' && isdigit((unsigned char)s[1]))
		fam = strtoul(s + 1, &e, 10);
	if (e && !strncmp(e, " 0x", 3) && isxdigit((unsigned char)e[3]))
		flags = strtoul(e + 3, &f, 16);
	if (f && !*f && (fam == 4 || fam == 6) && flags <= 0xff) {
		r->tcp = 1;
		r->family = (int)fam;
		r->flags = (uint8_t)flags;
		return 0;
	}
	for (size_t i = 0; i < sizeof(ref_whats) / sizeof(ref_whats[0]); i++) {
		if (!strcmp(s, ref_whats[i])) {
			r->what = ref_whats[i];
			return 0;
		}
	}
	return -1;
}
