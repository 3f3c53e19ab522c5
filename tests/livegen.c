// SPDX-License-Identifier: GPL-2.0-only
/*
 * livegen.c - build/livegen: a spoofed SYN flood out of one veth, for
 * scripts/bench-live.sh, scripts/bench-guard.sh and the guard's tests.
 *
 *   livegen DEV COUNT --dst-mac MAC [--ipv6] [--dst ADDR] [--dport N]
 *                     [--batch N] [--flags BYTE] [--rate PPS]
 *                     [--for SECONDS]
 *
 * Run it inside the generator's network namespace (nsenter --net=...).  It
 * builds one TCP SYN frame to ADDR:N from DEV's MAC to MAC (--flags: another
 * flag byte instead of SYN, e.g. 0x03 for SYN|FIN, 0x10 for an ACK flood),
 * and runs bpf/livegen.bpf.c on it COUNT times with BPF_PROG_TEST_RUN in
 * live-frames mode: the program gives every frame a new spoofed source
 * (198.18.0.0/16, or 2001:2:0:ff::/64 with --ipv6) and sends it out of DEV
 * with XDP_TX.  --rate: PPS frames a second, evenly (the program waits
 * for the time of each 64 frames; flat out without it), in runs of a
 * second's frames (a live-frames run costs some 25 ms of setup here, its
 * page pool).  --for: stop after SECONDS though COUNT frames are not sent
 * (a receiver slower than the rate).
 *
 * It refuses any DEV that is not a veth inside a named network namespace
 * (made with `ip netns add`, as the labs are): what it sends stays there.
 *
 * Prints one line:  sent=N elapsed=SECONDS mpps=RATE kernel_ns=NS bad=0
 * sent is the number of times the program ran (XDP_TX may still fail, e.g.
 * when the peer's ring is full: count what the peer received), elapsed the
 * wall time of the run, kernel_ns the kernel's own ns per frame (it leaves
 * out the time the run gave the CPU away to other tasks; at a --rate it
 * holds the waits too).
 *
 * The default destination is 198.19.0.9 (2001:2:0:1::9): on the lab's link
 * but assigned to nobody, so the receiver's kernel drops the packets at its
 * route lookup (forwarding is off) without answering, and what a packet
 * costs the receiver is mostly its XDP program and the veth.  With the
 * receiver's own address (198.19.0.2) the SYNs reach TCP, which checks
 * their checksums and tries to answer with RSTs the namespace cannot route.
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "livegen.skel.h"
#include "csum.h"

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1)
#endif

#define ETH_LEN 14
#define IP4_LEN 20
#define IP6_LEN 40
#define TCP_LEN 20

static void usage(void)
{
	fprintf(stderr, "usage: livegen DEV COUNT --dst-mac MAC [--ipv6] "
		"[--dst ADDR] [--dport N] [--batch N] [--flags BYTE] "
		"[--rate PPS] [--for SECONDS]\n");
	exit(2);
}

static void put16(__u8 *p, unsigned int v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static int parse_mac(const char *s, __u8 mac[6])
{
	unsigned int b[6];

	/* NOLINTNEXTLINE(cert-err34-c): each byte's range is checked below */
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = (__u8)b[i];
	}
	return 0;
}

static int dev_mac(const char *dev, __u8 mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err = 0;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -1;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* Seconds since a (CLOCK_MONOTONIC). */
static double since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) +
	       (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* Is this network namespace one made with `ip netns add` (a lab's, named
 * in /run/netns), not the host's?  (PID 1's is not readable here.) */
static int named_netns(void)
{
	struct stat self, st;
	struct dirent *e;
	char path[300];
	int found = 0;
	DIR *d;

	if (stat("/proc/self/ns/net", &self))
		return 0;
	d = opendir("/run/netns");
	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		snprintf(path, sizeof(path), "/run/netns/%s", e->d_name);
		found = e->d_name[0] != '.' && !stat(path, &st) &&
			st.st_ino == self.st_ino && st.st_dev == self.st_dev;
	}
	closedir(d);
	return found;
}

/* Why dev is no lab's, or NULL: it must be a veth in a named namespace. */
static const char *lab_only(const char *dev)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };
	int fd, err;

	if (!named_netns())
		return "not in a namespace of a lab (ip netns add)";
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return "no socket";
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	ifr.ifr_data = (void *)&info;
	err = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	if (err || strcmp(info.driver, "veth"))
		return "not a veth";
	return NULL;
}

/*
 * A SYN as a flood sends it: no options, no payload.  The source address is
 * a placeholder from the flood's range; the BPF program replaces it (and the
 * port) and keeps the checksums right.
 */
static __u32 build_syn(__u8 *buf, const __u8 dmac[6], const __u8 smac[6],
		       int ipv6, const void *dst, unsigned int dport,
		       __u8 flags)
{
	__u8 *ip = buf + ETH_LEN, *tcp;
	__u32 iplen = ipv6 ? IP6_LEN : IP4_LEN, sum;

	memset(buf, 0, ETH_LEN + iplen + TCP_LEN);
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	put16(buf + 12, ipv6 ? 0x86dd : 0x0800);
	tcp = ip + iplen;
	if (ipv6) {
		static const __u8 src6[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0xff,
					       [15] = 1 };

		ip[0] = 0x60;
		put16(ip + 4, TCP_LEN);
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, src6, 16);
		memcpy(ip + 24, dst, 16);
		sum = csum_add(0, ip + 8, 32) + IPPROTO_TCP + TCP_LEN;
	} else {
		ip[0] = 0x45;
		put16(ip + 2, IP4_LEN + TCP_LEN);
		put16(ip + 4, 1);                /* identification */
		put16(ip + 6, 0x4000);           /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		ip[12] = 198, ip[13] = 18, ip[15] = 1;
		memcpy(ip + 16, dst, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, IP4_LEN)));
		sum = csum_add(0, ip + 12, 8) + IPPROTO_TCP + TCP_LEN;
	}
	put16(tcp, 40000);
	put16(tcp + 2, dport);
	tcp[4] = 0x5e, tcp[5] = 0x11, tcp[6] = 0xab, tcp[7] = 0x01;
	tcp[12] = (TCP_LEN / 4) << 4;
	tcp[13] = flags;                         /* SYN by default */
	put16(tcp + 14, 64240);
	put16(tcp + 16, csum_fold(csum_add(sum, tcp, TCP_LEN)));
	return ETH_LEN + iplen + TCP_LEN;
}

int main(int argc, char **argv)
{
	const char *dev, *dst_s = NULL;
	unsigned long long count, rate = 0, done = 0, ns = 0;
	double limit = 0;
	const char *why;
	unsigned int dport = 80, batch = 64, ifindex, flags = 0x02;
	int ipv6 = 0, have_dmac = 0, err;
	__u8 dmac[6], smac[6], dst[16], frame[128];
	struct xdp_md xmd = { 0 };
	struct livegen_bpf *skel;
	struct timespec a;
	__u32 len, seed;
	double secs;
	char *end;

	if (argc < 3)
		usage();
	dev = argv[1];
	count = strtoull(argv[2], &end, 10);
	if (*end || !count || count > 0xffffffffull)
		usage();
	for (int i = 3; i < argc; i++) {
		const char *opt = argv[i];

		if (!strcmp(opt, "--ipv6")) {
			ipv6 = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(opt, "--dst")) {
			dst_s = argv[++i];
		} else if (!strcmp(opt, "--dst-mac")) {
			if (parse_mac(argv[++i], dmac))
				usage();
			have_dmac = 1;
		} else if (!strcmp(opt, "--dport")) {
			dport = (unsigned int)strtoul(argv[++i], &end, 10);
			if (*end || !dport || dport > 65535)
				usage();
		} else if (!strcmp(opt, "--flags")) {
			flags = (unsigned int)strtoul(argv[++i], &end, 0);
			if (*end || flags > 0xff)
				usage();
		} else if (!strcmp(opt, "--rate")) {
			rate = strtoull(argv[++i], &end, 10);
			if (*end || !rate || rate > 100000000ull)
				usage();
		} else if (!strcmp(opt, "--for")) {
			limit = strtod(argv[++i], &end);
			if (*end || !(limit > 0))
				usage();
		} else if (!strcmp(opt, "--batch")) {
			batch = (unsigned int)strtoul(argv[++i], &end, 10);
			if (*end || !batch || batch > 256)
				usage();
		} else {
			usage();
		}
	}
	if (!have_dmac)
		usage();
	if (!dst_s)
		dst_s = ipv6 ? "2001:2:0:1::9" : "198.19.0.9";
	if (inet_pton(ipv6 ? AF_INET6 : AF_INET, dst_s, dst) != 1) {
		fprintf(stderr, "livegen: bad address %s\n", dst_s);
		return 2;
	}
	ifindex = if_nametoindex(dev);
	if (!ifindex || dev_mac(dev, smac)) {
		fprintf(stderr, "livegen: no interface %s here\n", dev);
		return 1;
	}
	why = lab_only(dev);
	if (why) {
		fprintf(stderr, "livegen: refusing %s: %s\n", dev, why);
		return 1;
	}
	len = build_syn(frame, dmac, smac, ipv6, dst, dport, (__u8)flags);

	skel = livegen_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "livegen: cannot load livegen.bpf.o: %s\n",
			strerror(errno));
		return 1;
	}
	/* a random start, so that runs do not repeat each other's sources */
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (__u32)time(NULL) ^ (__u32)getpid() << 16;
	skel->bss->seq = seed;
	skel->bss->gap_ns = rate ? 1000000000ull / rate : 0;
	if (len == 54 || len == 74) {
		memcpy(skel->bss->tmpl, frame, len);
		skel->bss->tmpl_len = len;
	}

	/* the kernel wants data_end == the frame's length */
	xmd.data_end = len;
	xmd.ingress_ifindex = ifindex;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = len, .ctx_in = &xmd,
		    .ctx_size_in = sizeof(xmd),
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (err = 0; done < count && !err; done += opts.repeat) {
		/* flat out: one run; at a rate: a second's frames a run */
		unsigned long long n = rate ? rate : count;

		opts.repeat = (__u32)(n < count - done ? n : count - done);
		err = bpf_prog_test_run_opts(
			bpf_program__fd(skel->progs.livegen_syn), &opts);
		ns += (unsigned long long)opts.duration * opts.repeat;
		if (limit > 0 && since(&a) >= limit) {
			done += opts.repeat;
			break;
		}
	}
	secs = since(&a);
	if (err) {
		fprintf(stderr, "livegen: live test run failed: %s\n",
			strerror(errno));
		livegen_bpf__destroy(skel);
		return 1;
	}
	printf("sent=%llu elapsed=%.6f mpps=%.3f kernel_ns=%llu bad=%llu\n",
	       done, secs, (double)done / secs / 1e6, done ? ns / done : 0,
	       (unsigned long long)skel->bss->bad);
	err = skel->bss->bad ? 1 : 0;
	livegen_bpf__destroy(skel);
	return err;
}
