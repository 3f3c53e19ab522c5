// SPDX-License-Identifier: GPL-2.0-only
/*
 * exporter.c - `tcpflags exporter`: what tcpflags counts, as Prometheus
 * metrics (text exposition format 0.0.4) on GET /metrics.
 *
 *   tcpflags exporter [--listen ADDR:PORT] [IFACE...]
 *
 * Every scrape reads every interface afresh with snapshot_read (the maps
 * `stats --json` reads) and writes one metric family after the other, each
 * with its HELP and TYPE once.  An interface that cannot be read (gone,
 * detached) gets tcpflags_up 0 and tcpflags_scrape_errors_total and no
 * other series, so one lost interface never fails the scrape of the
 * others.  Without IFACEs the targets follow the pins at every scrape: one
 * whose pins are gone too is dropped once a scrape has said it is down.
 * The HTTP side (exphttp.h) bounds what a client can hold and makes one
 * reading at a time on its reader thread, the only one that touches the
 * targets once serving starts; the main thread only waits for SIGINT or
 * SIGTERM.
 */
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "cli.h"
#include "exphttp.h"
#include "exporter.h"
#include "glist.h"
#include "log.h"
#include "pins.h"
#include "policy.h"
#include "report.h"
#include "snapshot.h"

#define TARGETS_MAX 256
#define PINNED_MAX 65536              /* names listed to find new ones */
#define LISTEN_DEFAULT "127.0.0.1:9742"
#define CONNS_DEFAULT 1024
#define IDLE_TIMEOUT 10               /* seconds a connection may be silent */
#define FDS_SPARE 128                 /* descriptors besides connections:
				       * the pins a reading opens, MHD's */

struct target {
	char name[IF_NAMESIZE];
	struct iface_snapshot *snap;  /* allocated once, read at every scrape */
	bool up;                      /* read, and our program is attached */
	bool reported;                /* in the output of a scrape already */
	__u32 mode;                   /* the attach mode found by the read */
	__u64 errors;                 /* scrapes that could not read it */
};

struct exporter {
	bool all;                     /* no IFACE given: every attached one */
	bool full_warned;             /* said that some are not exported */
	int n;                        /* t[0..n) in use; t[n..) free, each */
	struct target t[TARGETS_MAX]; /* keeping the snapshot it had */
	char (*pinned)[IF_NAMESIZE];  /* discover's list, pinned_cap names */
	int pinned_cap;
};

/* it: any name (the member x->t is not the parameter) */
#define for_each_up(x, it) \
	for (struct target *(it) = (x)->t; (it) < (x)->t + (x)->n; (it)++) \
		if ((it)->up)

/* ------------------------------------------------------------ targets */

/* Read t afresh: up when its counters read and its program is attached. */
static void target_read(struct target *t)
{
	/* SYN sources are not exported: not read */
	t->up = snapshot_read(t->name, t->snap, SNAP_VERIFIED) == 0 &&
		t->snap->attached;
	t->mode = t->up ? t->snap->mode : 0;
	if (!t->up)
		t->errors++;
}

static struct target *target_find(struct exporter *x, const char *ifname)
{
	for (int i = 0; i < x->n; i++)
		if (!strcmp(x->t[i].name, ifname))
			return &x->t[i];
	return NULL;
}

/* Add ifname unless it is there, in the first free slot (reusing the
 * snapshot a removed target left there); NULL when the table is full. */
static struct target *target_add(struct exporter *x, const char *ifname)
{
	struct target *t = target_find(x, ifname);

	if (t)
		return t;
	if (x->n == TARGETS_MAX || strlen(ifname) >= IF_NAMESIZE)
		return NULL;
	t = &x->t[x->n];
	if (!t->snap)
		t->snap = calloc(1, sizeof(*t->snap));
	if (!t->snap)
		return NULL;
	*t = (struct target){ .snap = t->snap };
	snprintf(t->name, sizeof(t->name), "%s", ifname);
	x->n++;
	return t;
}

/* Remove t[i]: the others keep their order, its snapshot moves to the
 * first free slot for the next target_add. */
static void target_remove(struct exporter *x, int i)
{
	struct iface_snapshot *snap = x->t[i].snap;

	memmove(&x->t[i], &x->t[i + 1],
		(size_t)(x->n - i - 1) * sizeof(x->t[0]));
	x->n--;
	x->t[x->n] = (struct target){ .snap = snap };
}

/* Is ifname's pin directory there (attached, or detached --keep-maps, or
 * its interface deleted while attached)?  Yes when unsure. */
static bool pins_present(const char *ifname)
{
	char dir[PATH_MAX];
	struct stat st;

	if (pins_iface_dir(ifname, dir, sizeof(dir)))
		return true;
	return stat(dir, &st) == 0 || errno != ENOENT;
}

/* Drop the discovered targets whose pins are gone once a scrape has
 * said tcpflags_up 0 for them: a scraper sees them go down, then go. */
static void drop_gone(struct exporter *x)
{
	for (int i = 0; i < x->n;) {
		const struct target *t = &x->t[i];

		if (!t->up && t->reported && !pins_present(t->name))
			target_remove(x, i);
		else
			i++;
	}
}

/* The interfaces pinned in this namespace, sorted, into x->pinned (grown
 * until all fit); how many, or -errno. */
static int list_pinned(struct exporter *x)
{
	char (*names)[IF_NAMESIZE];
	int n, cap;

	for (;;) {
		n = x->pinned ? pins_ifaces(x->pinned, x->pinned_cap) : 0;
		if (n < 0 || (x->pinned && n < x->pinned_cap) ||
		    x->pinned_cap >= PINNED_MAX)
			return n;
		cap = x->pinned ? 2 * x->pinned_cap : 2 * TARGETS_MAX;
		names = realloc(x->pinned, (size_t)cap * sizeof(*names));
		if (!names)
			return n;
		x->pinned = names;
		x->pinned_cap = cap;
	}
}

/*
 * Without IFACEs: follow the interfaces pinned in this namespace (as
 * `status` lists them).  One that goes away stays while its pins do
 * (tcpflags_up 0), and is dropped once they are gone and it has been
 * reported down; a new one takes a free slot.  When more are pinned than
 * the table holds, the rest are not exported: one warning until they fit.
 */
static void discover(struct exporter *x)
{
	const char *missed = NULL;
	int n = list_pinned(x), nmissed = 0;

	if (n < 0)
		return;
	drop_gone(x);
	for (int i = 0; i < n; i++)
		if (!target_add(x, x->pinned[i]) && nmissed++ == 0)
			missed = x->pinned[i];
	if (nmissed && !x->full_warned && x->n == TARGETS_MAX)
		pr_warn("exporter: more than %d interfaces attached: %s%s not "
			"exported until others go", TARGETS_MAX, missed,
			nmissed > 1 ? " and others are" : " is");
	else if (nmissed && !x->full_warned)
		pr_warn("exporter: out of memory: %s%s not exported", missed,
			nmissed > 1 ? " and others are" : " is");
	x->full_warned = nmissed > 0;
}

/* ------------------------------------------------------------ output */

/* The response body, grown as it is written. */
struct out {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void out_printf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	char *nb;
	int n;

	while (!o->oom) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && o->len + (size_t)n < o->cap) {
			o->len += (size_t)n;
			return;
		}
		nb = n < 0 ? NULL : realloc(o->buf, o->cap * 2 + (size_t)n);
		if (!nb) {
			o->oom = true;
			return;
		}
		o->buf = nb;
		o->cap = o->cap * 2 + (size_t)n;
	}
}

/* A family's HELP and TYPE lines. */
static void family(struct out *o, const char *name, const char *type,
		   const char *help)
{
	out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* s with backslash, double quote and newline escaped (a label value). */
static const char *escape(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s && n + 2 < size; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n')
			buf[n++] = '\\';
		buf[n++] = *s == '\n' ? 'n' : *s;
	}
	buf[n] = '\0';
	return buf;
}

/* A label after the first: ,key="value". */
static void label(struct out *o, const char *key, const char *value)
{
	char esc[2 * RULE_TEXT_MAX + 1];

	out_printf(o, ",%s=\"%s\"", key, escape(value, esc, sizeof(esc)));
}

/* A series: name{iface="IF", then label()s, then value(). */
static void series(struct out *o, const char *name, const char *iface)
{
	char esc[2 * IF_NAMESIZE + 1];

	out_printf(o, "%s{iface=\"%s\"", name,
		   escape(iface, esc, sizeof(esc)));
}

static void value(struct out *o, unsigned long long v)
{
	out_printf(o, "} %llu\n", v);
}

/* A series with one label besides iface: name{iface="IF",key="val"} v */
static void sample(struct out *o, const char *name, const char *iface,
		   const char *key, const char *val, unsigned long long v)
{
	series(o, name, iface);
	label(o, key, val);
	value(o, v);
}

/* ------------------------------------------------------------ metrics */

static const char *const family_names[TCPF_FAMILIES] = { "ipv4", "ipv6" };
static const char *const dir_names[TCPF_DIRS] = { "ingress", "egress" };

static void emit_flags(struct out *o, struct exporter *x, bool bytes)
{
	const char *name = bytes ? "tcpflags_bytes_total"
				 : "tcpflags_segments_total";
	char flags[40];

	family(o, name, "counter", bytes ?
	       "Bytes (frame length at XDP) of the TCP segments of each "
	       "IP family and flag byte." :
	       "TCP segments of each IP family and flag byte (patterns "
	       "seen at least once).");
	for_each_up(x, t)
		for (int fam = 0; fam < TCPF_FAMILIES; fam++)
			for (int f = 0; f < TCPF_PATTERNS; f++) {
				const struct tcpf_count *c =
					&t->snap->count.flags[fam][f];

				if (!c->packets)
					continue;
				series(o, name, t->name);
				label(o, "family", family_names[fam]);
				label(o, "flags", flags_name((__u8)f, flags,
							     sizeof(flags)));
				value(o, bytes ? c->bytes : c->packets);
			}
}

/* tcpflags_frames_total{kind}, or tcpflags_drops_total{reason}. */
static void emit_kinds(struct out *o, struct exporter *x, bool drops)
{
	const char *name = drops ? "tcpflags_drops_total"
				 : "tcpflags_frames_total";
	int n = drops ? TCPF_DROP_MAX : TCPF_CNT_MAX;

	family(o, name, "counter", drops ?
	       "Segments dropped (rule, ratelimit, default) or that a count "
	       "rule would have dropped (would_drop), by reason." :
	       "Frames without a countable TCP flag byte: non_tcp, "
	       "tcp_fragment and each malformed kind.");
	for_each_up(x, t) {
		const struct tcpf_count *c = drops ? t->snap->drops
						   : t->snap->count.cnt;

		for (int k = 0; k < n; k++)
			sample(o, name, t->name, drops ? "reason" : "kind",
			       drops ? drop_reason_name((__u32)k)
				     : counter_name((enum tcpf_counter)k),
			       c[k].packets);
	}
}

static void emit_flows(struct out *o, struct exporter *x)
{
	family(o, "tcpflags_phase_segments_total", "counter",
	       "TCP segments by direction and connection phase.");
	for_each_up(x, t)
		for (int d = 0; t->snap->flows && d < TCPF_DIRS; d++)
			for (int ph = 0; ph < TCPF_PH_MAX; ph++) {
				series(o, "tcpflags_phase_segments_total",
				       t->name);
				label(o, "direction", dir_names[d]);
				label(o, "phase", phase_name(ph));
				value(o, t->snap->fs.phase[d][ph]);
			}
	family(o, "tcpflags_connections", "gauge",
	       "Connections in each state now (the network namespace's "
	       "flow table, recounted every second).");
	for_each_up(x, t)
		for (int st = TCPF_ST_SYN_SENT; t->snap->flows &&
		     st < TCPF_ST_MAX; st++)
			sample(o, "tcpflags_connections", t->name, "state",
			       state_name(st), t->snap->fs.ctl.gauge[st]);
	family(o, "tcpflags_connection_events_total", "counter",
	       "Connection events of the network namespace's flow table.");
	for_each_up(x, t)
		for (int c = 0; t->snap->flows && c < TCPF_CONN_MAX; c++)
			sample(o, "tcpflags_connection_events_total", t->name,
			       "event", conn_name(c), t->snap->fs.conn[c]);
}

static void rule_series(struct out *o, const char *name,
			const struct target *t, const struct rule *r)
{
	char id[16];

	snprintf(id, sizeof(id), "%u", r->id);
	series(o, name, t->name);
	label(o, "rule", id);
	label(o, "action", action_name(r->action));
}

static void emit_rules(struct out *o, struct exporter *x)
{
	static const char *const names[] = {
		"tcpflags_rule_hits_total", "tcpflags_rule_bytes_total",
		"tcpflags_rule_info",
	};
	static const char *const helps[] = {
		"Segments each rule matched (first match decides).",
		"Bytes (frame length) of the segments each rule matched.",
		"Each rule's text and priority; the value is always 1.",
	};
	char prio[16];

	for (int m = 0; m < 3; m++) {
		family(o, names[m], m == 2 ? "gauge" : "counter", helps[m]);
		for_each_up(x, t)
			for (int i = 0; i < t->snap->rules.nrules; i++) {
				const struct rule *r = &t->snap->rules.rules[i];
				const struct tcpf_count *h = &t->snap->hits[r->id];

				rule_series(o, names[m], t, r);
				if (m < 2) {
					value(o, m ? h->bytes : h->packets);
					continue;
				}
				snprintf(prio, sizeof(prio), "%d", r->priority);
				label(o, "text", r->text);
				label(o, "priority", prio);
				value(o, 1);
			}
	}
	family(o, "tcpflags_rules_valid", "gauge",
	       "1 when the interface's saved rule set parses (or there is "
	       "none), 0 when it does not: its rules then have no series.");
	for_each_up(x, t) {
		series(o, "tcpflags_rules_valid", t->name);
		value(o, !t->snap->rules_error[0]);
	}
	emit_kinds(o, x, true);
}

/* The SYN-flood guard: its mode, engagement, rates and counters. */
static void emit_guard(struct out *o, struct exporter *x)
{
	family(o, "tcpflags_guard_mode", "gauge",
	       "1 for the guard's mode on each interface (off, monitor, "
	       "ratelimit, auth, cookie, auto).");
	for_each_up(x, t)
		if (t->snap->guarded)
			sample(o, "tcpflags_guard_mode", t->name, "mode",
			       guard_mode_names[t->snap->guard.gc.mode %
						TCPF_GM_MAX], 1);
	family(o, "tcpflags_guard_engaged", "gauge",
	       "1 while cookie or auth is in force (auto: while a flood "
	       "lasts).");
	for_each_up(x, t)
		if (t->snap->guarded) {
			series(o, "tcpflags_guard_engaged", t->name);
			value(o, t->snap->guard.engaged);
		}
	family(o, "tcpflags_guard_syn_rate", "gauge",
	       "SYNs per second to the protected ports, over the last second.");
	family(o, "tcpflags_guard_completion_ratio", "gauge",
	       "Handshakes completed per SYN to the protected ports, over the "
	       "last second.");
	family(o, "tcpflags_guard_verified_sources", "gauge",
	       "Sources the guard lets through until their TTL.");
	for_each_up(x, t)
		if (t->snap->guarded) {
			const struct guard_view *g = &t->snap->guard;

			series(o, "tcpflags_guard_syn_rate", t->name);
			value(o, g->gs.syn_rate);
			series(o, "tcpflags_guard_completion_ratio", t->name);
			out_printf(o, "} %.3f\n", g->gs.ratio / 1000.0);
			series(o, "tcpflags_guard_verified_sources", t->name);
			value(o, (unsigned long long)g->verified);
		}
	family(o, "tcpflags_guard_events_total", "counter",
	       "What the guard did, by event: cookies sent, validated and "
	       "failed, handoffs, RSTs, auth challenges and passes, ...");
	for_each_up(x, t)
		if (t->snap->guarded)
			for (int k = 0; k < TCPF_GC_MAX; k++)
				sample(o, "tcpflags_guard_events_total", t->name,
				       "event", guard_counter_names[k],
				       t->snap->guard.c[k]);
	family(o, "tcpflags_guard_list_prefixes", "gauge",
	       "Prefixes in force in the guard's allow and deny lists.");
	for_each_up(x, t)
		for (int l = 0; t->snap->guarded && l < TCPF_GL_LISTS; l++)
			if (t->snap->guard.listed[l] >= 0)
				sample(o, "tcpflags_guard_list_prefixes", t->name,
				       "list", glist_names[l],
				       (unsigned long long)t->snap->guard.listed[l]);
}

static void emit_status(struct out *o, struct exporter *x)
{
	family(o, "tcpflags_attached", "gauge",
	       "1 for each interface tcpflags is attached to, with its mode.");
	for_each_up(x, t)
		sample(o, "tcpflags_attached", t->name, "mode",
		       mode_name(t->mode), 1);
	family(o, "tcpflags_attach_time_seconds", "gauge",
	       "When tcpflags was first attached to the interface (Unix "
	       "time; kept across re-attach).");
	for_each_up(x, t) {
		series(o, "tcpflags_attach_time_seconds", t->name);
		value(o, t->snap->meta.attached_at);
	}
	family(o, "tcpflags_up", "gauge",
	       "1 when the interface's counters were read, 0 when it is gone "
	       "or tcpflags is not attached to it.");
	for (int i = 0; i < x->n; i++) {
		series(o, "tcpflags_up", x->t[i].name);
		value(o, x->t[i].up);
	}
	family(o, "tcpflags_scrape_errors_total", "counter",
	       "Scrapes that could not read the interface.");
	for (int i = 0; i < x->n; i++) {
		series(o, "tcpflags_scrape_errors_total", x->t[i].name);
		value(o, x->t[i].errors);
	}
}

/* The whole /metrics body, read afresh; NULL when out of memory.  The
 * HTTP side's reader thread is the only caller. */
static char *scrape(void *cls, size_t *len)
{
	struct exporter *x = cls;
	struct out o = { .cap = 65536 };

	o.buf = malloc(o.cap);
	if (!o.buf)
		return NULL;
	if (x->all)
		discover(x);
	for (int i = 0; i < x->n; i++)
		target_read(&x->t[i]);
	emit_flags(&o, x, false);
	emit_flags(&o, x, true);
	emit_kinds(&o, x, false);
	emit_flows(&o, x);
	emit_rules(&o, x);
	emit_guard(&o, x);
	emit_status(&o, x);
	if (o.oom) {
		free(o.buf);
		return NULL;
	}
	for (int i = 0; i < x->n; i++)
		x->t[i].reported = true;
	*len = o.len;
	return o.buf;
}

/* ------------------------------------------------------------ command */

static int listen_error(const char *spec, const char *why)
{
	pr_warn("exporter: invalid --listen '%s': %s", spec, why);
	cli_usage(&exporter_command, stderr);
	return EXIT_USAGE;
}

/*
 * The address of "A.B.C.D:PORT" or "[IPV6]:PORT" into host (not checked
 * yet), its family into *family, where the port starts into *port.
 * 0, or EXIT_USAGE after the error.
 */
static int parse_host(const char *spec, char *host, size_t size, int *family,
		      const char **port)
{
	const char *h = spec, *end;
	size_t hlen;

	if (spec[0] == '[') {
		end = strchr(spec, ']');
		if (!end || end[1] != ':')
			return listen_error(spec, "expected [IPV6]:PORT");
		*family = AF_INET6;
		h = spec + 1;
		hlen = (size_t)(end - h);
		*port = end + 2;
	} else {
		end = strrchr(spec, ':');
		if (!end || memchr(spec, ':', (size_t)(end - spec)))
			return listen_error(spec, end ? "an IPv6 address goes "
					    "in brackets: [ADDR]:PORT" :
					    "expected ADDR:PORT");
		*family = AF_INET;
		hlen = (size_t)(end - spec);
		*port = end + 1;
	}
	if (!hlen || hlen >= size)
		return listen_error(spec, "missing or too long an address");
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return 0;
}

/* PORT: digits only, 1 to 65535.  0, or EXIT_USAGE after the error. */
static int parse_port(const char *spec, const char *port)
{
	size_t len = strlen(port);
	long p = len && len <= 5 && strspn(port, "0123456789") == len ?
		 strtol(port, NULL, 10) : -1;

	if (p < 1 || p > 65535)
		return listen_error(spec, "the port must be 1 to 65535");
	return 0;
}

/* "A.B.C.D:PORT" or "[IPV6]:PORT" -> *res (numeric only: no names). */
static int parse_listen(const char *spec, struct addrinfo **res)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
	};
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
	const char *port;

	if (parse_host(spec, host, sizeof(host), &hints.ai_family, &port) ||
	    parse_port(spec, port))
		return EXIT_USAGE;
	/* inet_pton, unlike getaddrinfo, refuses "10.1" and "10.0.0.010" */
	if ((hints.ai_family == AF_INET &&
	     inet_pton(AF_INET, host, &(struct in_addr){ 0 }) != 1) ||
	    getaddrinfo(host, port, &hints, res))
		return listen_error(spec, hints.ai_family == AF_INET ?
				    "not an IPv4 address" :
				    "not an IPv6 address");
	return 0;
}

/* IPv6 wildcard: IPv4 too, whatever net.ipv6.bindv6only says. */
static int dual_stack(int fd, const struct addrinfo *ai)
{
	const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;
	int zero = 0;

	if (ai->ai_family != AF_INET6 ||
	    !IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
		return 0;
	return setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
}

/* A socket bound to ai and listening; -1 after one line on failure. */
static int listen_on(const char *spec, const struct addrinfo *ai)
{
	int one = 1, fd, err;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	/* a backlog for bursts: what MHD has not accepted yet waits there */
	if (fd >= 0 &&
	    !setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) &&
	    !dual_stack(fd, ai) &&
	    !bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, SOMAXCONN))
		return fd;
	err = errno;
	pr_warn("cannot listen on %s: %s", spec, strerror(err));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The interfaces named: known, attached.  Exit code, 0 when all are. */
static int add_named(struct exporter *x, const struct cli_list *names)
{
	struct target *t;

	for (int i = 0; i < names->n; i++) {
		const char *name = names->v[i];

		t = target_add(x, name);
		if (!t) {
			pr_warn("exporter: too many interfaces (at most %d)",
				TARGETS_MAX);
			return EXIT_USAGE;
		}
		target_read(t);
		if (!t->up)
			return not_attached(name, -ENOENT);
		/* the start's read is no scrape error */
		t->errors = 0;
	}
	return EXIT_OK;
}

static void exporter_free(struct exporter *x)
{
	if (!x)
		return;
	for (int i = 0; i < TARGETS_MAX; i++) {
		if (x->t[i].snap)
			snapshot_free(x->t[i].snap);
		free(x->t[i].snap);
	}
	free(x->pinned);
	free(x);
}

/*
 * The targets: the IFACEs named (each attached now; they stay
 * whatever happens to them), or none yet and every attached interface
 * found at each scrape.  Exit code; *xp is freed by the caller.
 */
static int make_targets(const struct cli_list *names, struct exporter **xp)
{
	struct exporter *x = calloc(1, sizeof(*x));

	*xp = x;
	if (!x) {
		pr_warn("exporter: out of memory");
		return EXIT_FAIL;
	}
	x->all = !names->n;
	return add_named(x, names);
}

/*
 * Descriptors for *conns connections and the rest: the soft limit raised
 * as far as the hard one allows, else fewer connections (one line).
 */
static void fit_fds(unsigned int *conns)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)*conns + FDS_SPARE;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < want) {
		getrlimit(RLIMIT_NOFILE, &rl);
		*conns = rl.rlim_cur > FDS_SPARE + 16 ?
			 (unsigned int)(rl.rlim_cur - FDS_SPARE) : 16;
		pr_warn("exporter: open files limited to %llu: at most %u "
			"connections", (unsigned long long)rl.rlim_cur, *conns);
	}
}

/* Serve x on spec (ai) until SIGINT or SIGTERM: EXIT_OK, or EXIT_FAIL if
 * the socket or the server cannot start. */
static int serve(struct exporter *x, const char *spec,
		 const struct addrinfo *ai, unsigned int conns)
{
	struct exphttp_conf conf = { .max_conns = conns,
				     .timeout = IDLE_TIMEOUT };
	struct exphttp *h;
	sigset_t set;
	int sig;

	fit_fds(&conf.max_conns);
	conf.fd = listen_on(spec, ai);
	if (conf.fd < 0)
		return EXIT_FAIL;
	/* blocked before the server's threads start, which inherit it */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	h = exphttp_start(&conf, scrape, x);
	if (!h) {
		pr_warn("cannot start the HTTP server on %s", spec);
		close(conf.fd);
		return EXIT_FAIL;
	}
	pr_info("tcpflags: serving http://%s/metrics (%s)", spec,
		x->all ? "every attached interface" : "the interfaces named");
	fflush(stdout);
	sigwait(&set, &sig);
	exphttp_stop(h);	/* closes the socket */
	return EXIT_OK;
}

struct exporter_opts {
	const char *listen;
	unsigned int max_conns;
	struct cli_list ifaces;
	struct addrinfo *ai;	/* listen's, made before root */
};

static int exporter_check(void *opts)
{
	struct exporter_opts *o = opts;

	return parse_listen(o->listen, &o->ai) ? EXIT_USAGE : CLI_RUN;
}

static int cmd_exporter(void *opts)
{
	struct exporter_opts *o = opts;
	struct exporter *x = NULL;
	int ret = make_targets(&o->ifaces, &x);

	if (ret == EXIT_OK)
		ret = serve(x, o->listen, o->ai, o->max_conns);
	exporter_free(x);
	return ret;
}

/* check's address, also when an unknown interface stopped the command */
static void exporter_release(void *opts)
{
	struct exporter_opts *o = opts;

	if (o->ai)
		freeaddrinfo(o->ai);
}

static const struct cli_opt exporter_args[] = {
	{ .name = "interfaces", .kind = CLI_IFACES,
	  .offset = offsetof(struct exporter_opts, ifaces),
	  .metavar = "[IFACE...]", .complete = CLI_COMPLETE_ATTACHED },
	{ 0 },
};

static const struct cli_opt exporter_options[] = {
	{ .name = "listen", .short_name = 'l', .kind = CLI_STRING,
	  .offset = offsetof(struct exporter_opts, listen),
	  .metavar = "ADDR:PORT",
	  .help = "default " LISTEN_DEFAULT "; [::1]:9742; [::]:9742 is IPv4 "
		  "too" },
	{ .name = "max-connections", .short_name = 'c', .kind = CLI_COUNT,
	  .offset = offsetof(struct exporter_opts, max_conns), .metavar = "N",
	  .lo = 16, .hi = 65536,
	  .help = "connections held at once (1024): past them the one "
		  "idle longest goes" },
	{ 0 },
};

static const struct exporter_opts exporter_defaults = {
	.listen = LISTEN_DEFAULT, .max_conns = CONNS_DEFAULT,
};

const struct cli_command exporter_command = {
	.name = "exporter", .summary = "serve Prometheus /metrics",
	.about = "  Serve the counters of IFACE (default: every interface attached in\n"
		 "  this network namespace) as Prometheus metrics on GET /metrics,\n"
		 "  and \"ok\" on GET /healthz; on loopback unless --listen says.\n"
		 "  It needs to read the pins only: run it as a user of the group\n"
		 "  given to 'attach --group', or with CAP_DAC_READ_SEARCH.\n",
	.args = exporter_args, .opts = exporter_options,
	.size = sizeof(struct exporter_opts), .defaults = &exporter_defaults,
	.check = exporter_check, .release = exporter_release,
	.need = &priv_read, .run = cmd_exporter,
};
