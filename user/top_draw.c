// SPDX-License-Identifier: GPL-2.0-only
/*
 * top_draw.c - top's panels: one function per panel, told where to draw;
 * every line is cut at the right edge (curses would wrap it).  Colour is
 * only an extra: every state is also said in words.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <curses.h>
#include "counters.h"
#include "guardstate.h"
#include "policy.h"
#include "report.h"
#include "timefmt.h"
#include "top_draw.h"

#define EXACT_MAX 9999999ULL   /* totals up to this are shown exactly */
#define FUNNEL_ROWS 11
#define GUARD_ROWS 5           /* a guard's panel */
#define STATES_X 46            /* the states panel, right of the funnel */

const char *const view_title[V_MAX] = {
	"1 OVERVIEW", "2 FLAG PATTERNS", "3 RULES AND DROPS",
	"4 TOP SOURCES", "HELP",
};
static const char *const sort_name[S_MAX] = { "rate", "total", "name" };

/* -------------------------------------------------------- formatting */

/* 0.0 to 999.9, then 1.0k 12.3k 123k 1.2M ...: at most 5 characters.
 * A NaN takes the first branch, and past it the loop runs once at least:
 * a NaN failed both tests and read unit[-1]. */
static const char *fmt_num(double v, char *buf, size_t n)
{
	static const char unit[] = "kMGTPE";
	int u = -1;

	if (!(v >= 999.95)) {
		snprintf(buf, n, "%.1f", v);
		return buf;
	}
	do {
		v /= 1000;
		u++;
	} while (v >= 999.5 && u < 5);
	snprintf(buf, n, v < 99.95 ? "%.1f%c" : "%.0f%c", v, unit[u]);
	return buf;
}

/* t in local time by fmt (strftime), "?" when it has none (a time out
 * of localtime's range) */
static void fmt_clock(time_t t, const char *fmt, char *buf, size_t n)
{
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, n, fmt, &tm))
		snprintf(buf, n, "?");
}

static const char *fmt_rate(const struct figure *v, char *buf, size_t n)
{
	if (!v->rated) {
		snprintf(buf, n, "-");
		return buf;
	}
	return fmt_num(v->rate, buf, n);
}

/* exact while it fits the column, then compact */
static const char *fmt_total(__u64 v, char *buf, size_t n)
{
	if (v <= EXACT_MAX) {
		snprintf(buf, n, "%llu", (unsigned long long)v);
		return buf;
	}
	return fmt_num((double)v, buf, n);
}

static const char *fmt_share(double part, double whole, char *buf, size_t n)
{
	if (!(whole > 0))
		return "-";
	snprintf(buf, n, "%.1f%%", 100.0 * part / whole);
	return buf;
}

static const char *fmt_age(__u64 s, char *buf, size_t n)
{
	unsigned long long v = s;

	if (v >= 86400)
		snprintf(buf, n, "%llud%02lluh", v / 86400, v % 86400 / 3600);
	else if (v >= 3600)
		snprintf(buf, n, "%lluh%02llum", v / 3600, v % 3600 / 60);
	else if (v >= 60)
		snprintf(buf, n, "%llum%02llus", v / 60, v % 60);
	else
		snprintf(buf, n, "%llus", v);
	return buf;
}

/* ---------------------------------------------------------- drawing */

/* Print at (y, x), cut at the right edge (curses would wrap the rest). */
__attribute__((format(printf, 3, 4)))
static void put(int y, int x, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (y < 0 || y >= LINES - 1 || x < 0 || x >= COLS)
		return;            /* the last line is the footer's */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	mvaddnstr(y, x, buf, COLS - x);
}

static attr_t colour(const struct top *t, short pair)
{
	return t->colour ? COLOR_PAIR(pair) : 0;
}

/* A list's first row after scrolling, kept inside the list. */
static int scrolled(struct top *t, int n, int visible)
{
	int *off = &t->scroll[t->view];

	if (*off > n - visible)
		*off = n - visible;
	if (*off < 0)
		*off = 0;
	return *off;
}

/* " (rows 1-20 of 300)" when the list does not fit */
static const char *fmt_rows(int first, int shown, int n, char *buf, size_t sz)
{
	buf[0] = '\0';
	if (shown < n)
		snprintf(buf, sz, " (rows %d-%d of %d, arrows scroll)",
			 first + 1, first + shown, n);
	return buf;
}

static void draw_iface(const struct top *t, int i, int y)
{
	const struct iface *f = &t->ifs[i];
	struct figure fr = figure(t, i, g_totals, T_FRAMES);
	char up[24], r[16];

	put(y, 0, " %-15s", f->name);
	if (f->state == AT_ATTACHED) {
		const struct tcpf_meta *m = &f->cur->meta;

		attron(A_BOLD | colour(t, C_GREEN));
		put(y, 17, "attached");
		attroff(A_BOLD | colour(t, C_GREEN));
		/* after r, a new attachment's totals count from it */
		put(y, 30, "%s mode, up %s, %s pkt/s%s", mode_name(f->cur->mode),
		    m->attached_at && f->read_rt >= m->attached_at ?
		    fmt_age(f->read_rt - m->attached_at, up, sizeof(up)) : "-",
		    fmt_rate(&fr, r, sizeof(r)),
		    t->base_rt && !f->rebased ? ", totals since attach" : "");
		return;
	}
	attron(A_BOLD | A_REVERSE | colour(t, C_RED));
	put(y, 17, f->state == AT_GONE ? "GONE" : "NOT ATTACHED");
	attroff(A_BOLD | A_REVERSE | colour(t, C_RED));
	put(y, 30, "%s; waiting for it, last numbers shown", f->why);
}

/* The title, one line per interface, the totals line; returns rows. */
static int draw_header(const struct top *t)
{
	struct figure fr = figure(t, -1, g_totals, T_FRAMES);
	struct figure by = figure(t, -1, g_totals, T_BYTES);
	struct figure tcp = figure(t, -1, g_totals, T_TCP);
	struct figure dr = figure(t, -1, g_dropped, 0);
	char right[64], b[4][16], when[32];
	int y = 1;

	snprintf(right, sizeof(right), "%severy %gs  sort %s ",
		 t->paused ? "PAUSED  " : "", t->interval, sort_name[t->sort]);
	attron(A_REVERSE | (t->paused ? A_BOLD : 0));
	mvhline(0, 0, ' ', COLS);
	mvaddnstr(0, 0, " tcpflags top - ", COLS);
	addnstr(view_title[t->view], COLS - 16 > 0 ? COLS - 16 : 0);
	if (COLS - (int)strlen(right) > 36)
		mvaddstr(0, COLS - (int)strlen(right), right);
	else
		mvaddnstr(0, 36, right, COLS - 36 > 0 ? COLS - 36 : 0);
	attroff(A_REVERSE | A_BOLD);
	for (int i = 0; i < t->nifs; i++)
		draw_iface(t, i, y++);
	if (t->unshown) {
		attron(A_BOLD | colour(t, C_YELLOW));
		put(y++, 0, " %s%d more attached interface%s not shown: top "
		    "shows %d; name the ones to watch", t->unshown_more ?
		    "at least " : "", t->unshown, t->unshown > 1 ? "s" : "",
		    IFACES_MAX);
		attroff(A_BOLD | colour(t, C_YELLOW));
	}
	if (t->base_rt)
		fmt_clock(t->base_rt, "r at %H:%M:%S", when, sizeof(when));
	else
		snprintf(when, sizeof(when), "attach");
	put(y, 0, " all %s pkt/s  %s B/s   TCP %s/s   dropped %s/s   "
	    "totals since %s", fmt_rate(&fr, b[0], 16), fmt_rate(&by, b[1], 16),
	    fmt_rate(&tcp, b[2], 16), fmt_rate(&dr, b[3], 16), when);
	return y + 1;
}

static void draw_footer(const struct top *t)
{
	char keys[128];

	snprintf(keys, sizeof(keys), " q quit  p %s  s sort  r reset totals  "
		 "h help  Tab/1-4 views  arrows scroll",
		 t->paused ? "resume" : "pause");
	attron(A_REVERSE);
	mvhline(LINES - 1, 0, ' ', COLS);
	mvaddnstr(LINES - 1, 0, keys, COLS);
	attroff(A_REVERSE);
}

/* One funnel line: a phase's rate and total, a state's gauge (or -1). */
static void funnel_row(const struct top *t, int y, const char *label,
		       int phase, int state)
{
	const struct tcpf_ctl *ctl = ns_ctl(t);
	char r[16] = "", n[16] = "", g[16] = "";
	struct figure v;

	if (phase >= 0) {
		v = figure(t, -1, g_phase, phase);
		fmt_rate(&v, r, sizeof(r));
		fmt_total(v.total, n, sizeof(n));
	}
	if (state >= 0)
		snprintf(g, sizeof(g), "%u", ctl ? ctl->gauge[state] : 0);
	put(y, 0, " %-16s %8s %9s %7s", label, r, n, g);
}

/* Handshake and teardown, as the help screen explains; FUNNEL_ROWS. */
static void draw_funnel(const struct top *t, int y)
{
	struct figure syn = figure(t, -1, g_phase, TCPF_PH_SYN);
	struct figure done = figure(t, -1, g_phase, TCPF_PH_ACK);
	char a[16], b[16];

	attron(A_BOLD | colour(t, C_CYAN));
	put(y, 0, " %-16s %8s %9s %7s", ns_ctl(t) ? "FUNNEL" :
	    "FUNNEL (no flows)", "/s", "TOTAL", "NOW");
	attroff(A_BOLD | colour(t, C_CYAN));
	funnel_row(t, y + 1, "SYN", TCPF_PH_SYN, -1);
	funnel_row(t, y + 2, "SYN-ACK", TCPF_PH_SYNACK, -1);
	funnel_row(t, y + 3, "completed", TCPF_PH_ACK, -1);
	put(y + 4, 0, "   %-14s %8s %9s", "completion",
	    done.rated ? fmt_share(done.rate, syn.rate, a, sizeof(a)) : "-",
	    fmt_share((double)done.total, (double)syn.total, b, sizeof(b)));
	funnel_row(t, y + 5, "FIN (fin1)", TCPF_PH_FIN1, -1);
	funnel_row(t, y + 6, "CLOSE_WAIT", -1, TCPF_ST_CLOSE_WAIT);
	funnel_row(t, y + 7, "LAST_ACK (fin2)", TCPF_PH_FIN2, TCPF_ST_LAST_ACK);
	funnel_row(t, y + 8, "TIME_WAIT (ack2)", TCPF_PH_ACK2,
		   TCPF_ST_TIME_WAIT);
	funnel_row(t, y + 9, "resets", TCPF_PH_RESET, -1);
	funnel_row(t, y + 10, "out_of_state", TCPF_PH_OUT_OF_STATE, -1);
}

/* The connections per state now (gauges), and the half-open ones. */
static void draw_states(const struct top *t, int y, int x)
{
	const struct tcpf_ctl *ctl = ns_ctl(t);

	attron(A_BOLD | colour(t, C_CYAN));
	put(y, x, "%-14s %7s", "CONNECTIONS", "NOW");
	attroff(A_BOLD | colour(t, C_CYAN));
	for (int st = TCPF_ST_SYN_SENT; st < TCPF_ST_MAX; st++)
		put(y + st, x, "%-14s %7u", state_name(st),
		    ctl ? ctl->gauge[st] : 0);
	put(y + TCPF_ST_MAX, x, "%-14s %7u", "half-open", ctl ?
	    ctl->gauge[TCPF_ST_SYN_SENT] + ctl->gauge[TCPF_ST_SYN_RECV] : 0);
}

static void draw_spark(const struct top *t, int y, int x, int w, int key)
{
	static const char *const block[8] = {
		"\u2581", "\u2582", "\u2583", "\u2584",
		"\u2585", "\u2586", "\u2587", "\u2588",
	};
	static const char ascii[] = " .:-=+*#";
	const float *h = t->hist[key / TCPF_PATTERNS][key % TCPF_PATTERNS];
	int n = w < t->hist_n ? w : t->hist_n;
	float max = 0;

	if (y >= LINES - 1 || n <= 0)
		return;
	for (int i = 0; i < n; i++)
		if (h[(t->hist_head - 1 - i + HIST) % HIST] > max)
			max = h[(t->hist_head - 1 - i + HIST) % HIST];
	move(y, x + w - n);
	for (int i = n - 1; i >= 0; i--) {       /* oldest first */
		float v = h[(t->hist_head - 1 - i + HIST) % HIST];
		int l = max > 0 && v > 0 ? 1 + (int)(v / max * 6.999f) : 0;

		if (v == NO_RATE)  /* no rate then: a gap */
			addch(' ');
		else if (t->utf8)
			addstr(block[l]);
		else
			addch((chtype)ascii[l]);
	}
}

struct prow {
	int key;                   /* family * 256 + flag byte */
	char name[40];
	struct figure v;
};

static enum sort sort_key;     /* for the qsort comparators */

static int cmp_figure(const struct figure *a, const struct figure *b)
{
	double x = a->rate, y = b->rate;
	__u64 m = a->total, n = b->total;

	if (sort_key == S_TOTAL && m != n)
		return m < n ? 1 : -1;
	if (x != y)
		return x < y ? 1 : -1;
	if (m != n)
		return m < n ? 1 : -1;
	return 0;
}

/* Rows in the sort key's order; by_name: their order by name, which
 * also breaks ties of rate and total. */
static int sorted(const struct figure *a, const struct figure *b, int by_name)
{
	int c = sort_key == S_NAME ? 0 : cmp_figure(a, b);

	return c ? c : by_name;
}

/* Sort n rows by t's sort key; returns n. */
static int sort_rows(const struct top *t, void *rows, int n, size_t size,
		     int (*cmp)(const void *, const void *))
{
	sort_key = t->sort;
	qsort(rows, (size_t)n, size, cmp);
	return n;
}

/* Interface i when it has been read, else NULL. */
static const struct iface *read_iface(const struct top *t, int i)
{
	return t->ifs[i].have_cur ? &t->ifs[i] : NULL;
}

static int cmp_prow(const void *pa, const void *pb)
{
	const struct prow *a = pa, *b = pb;
	int c = sorted(&a->v, &b->v, strcmp(a->name, b->name));

	return c ? c : a->key - b->key;
}

/* Every pattern some interface has counted, sorted. */
static int pattern_rows(struct top *t, struct prow *rows)
{
	int n = 0;

	for (int key = 0; key < TCPF_FAMILIES * TCPF_PATTERNS; key++) {
		bool *seen = &t->seen[key / TCPF_PATTERNS][key % TCPF_PATTERNS];

		/* a row stays once counted: after r, or a reset, at 0 */
		for (int i = 0; i < t->nifs && !*seen; i++)
			*seen = t->ifs[i].have_cur &&
				(g_pattern(&t->ifs[i].c->last, key) ||
				 g_pattern(&t->ifs[i].c->total, key));
		if (!*seen)
			continue;
		rows[n].key = key;
		flags_name((__u8)(key % TCPF_PATTERNS), rows[n].name,
			   sizeof(rows[n].name));
		rows[n].v = figure(t, -1, g_pattern, key);
		n++;
	}
	return sort_rows(t, rows, n, sizeof(*rows), cmp_prow);
}

/* The columns of the patterns table at this width. */
struct pcols {
	int namew;                 /* the PATTERN column */
	int fixed;                 /* where the sparkline starts */
	int sparkw;                /* its cells: none under 8 */
};

static struct pcols pattern_cols(void)
{
	struct pcols c;

	c.namew = COLS - 38 - HIST;
	c.namew = c.namew < 19 ? 19 : c.namew > 31 ? 31 : c.namew;
	c.fixed = c.namew + 38;
	c.sparkw = COLS - c.fixed < HIST ? COLS - c.fixed : HIST;
	if (c.sparkw < 8)
		c.sparkw = 0;
	return c;
}

static void pattern_header(const struct top *t, int y, const struct pcols *c)
{
	char spark[32] = "";

	if (c->sparkw)
		snprintf(spark, sizeof(spark), "LAST %d", c->sparkw);
	attron(A_BOLD | colour(t, C_CYAN));
	put(y, 0, " %-*s %-4s %8s %6s %9s %-3s  %s", c->namew, "PATTERN",
	    "FAM", "PKT/s", "SHARE", "TOTAL", "V", spark);
	attroff(A_BOLD | colour(t, C_CYAN));
}

/* One pattern: name (cut with a +), family, rate, share of all TCP
 * segments/s, total, validity, sparkline. */
static void pattern_row(const struct top *t, int y, const struct pcols *c,
			const struct prow *p, const struct figure *tcp)
{
	bool valid = tcpf_flags_valid((__u8)(p->key % TCPF_PATTERNS));
	int len = (int)strlen(p->name);
	char r[16], s[16], n[16];

	put(y, 0, " %-*.*s%s %-4s %8s %6s %9s ", c->namew,
	    len > c->namew ? c->namew - 1 : c->namew, p->name,
	    len > c->namew ? "+" : "",
	    p->key / TCPF_PATTERNS == TCPF_IPV6 ? "ipv6" : "ipv4",
	    fmt_rate(&p->v, r, sizeof(r)),
	    p->v.rated && tcp->rated ?
	    fmt_share(p->v.rate, tcp->rate, s, sizeof(s)) : "-",
	    fmt_total(p->v.total, n, sizeof(n)));
	if (!valid)
		attron(A_BOLD | colour(t, C_RED));
	put(y, c->namew + 33, "%-3s", valid ? "yes" : "NO");
	if (!valid)
		attroff(A_BOLD | colour(t, C_RED));
	if (c->sparkw)
		draw_spark(t, y, c->fixed, c->sparkw, p->key);
}

/*
 * The flag patterns table in h rows from y: its column header, then rows;
 * the overview shows the first ones, the patterns view (all) a title
 * first, and scrolls.
 */
static void draw_patterns(struct top *t, int y, int h, bool all)
{
	static struct prow rows[TCPF_FAMILIES * TCPF_PATTERNS];
	struct figure tcp = figure(t, -1, g_totals, T_TCP);
	struct pcols cols = pattern_cols();
	int n = pattern_rows(t, rows), first = 0, shown;
	char more[64];

	if (all && h >= 3) {
		first = scrolled(t, n, h - 2);
		shown = n - first < h - 2 ? n - first : h - 2;
		attron(A_BOLD);
		put(y, 0, " ALL FLAG PATTERNS: %d seen, sorted by %s%s", n,
		    sort_name[t->sort],
		    fmt_rows(first, shown, n, more, sizeof(more)));
		attroff(A_BOLD);
		y++;
		h--;
	}
	if (h < 2)
		return;
	pattern_header(t, y, &cols);
	shown = n - first < h - 1 ? n - first : h - 1;
	for (int i = 0; i < shown; i++)
		pattern_row(t, y + 1 + i, &cols, &rows[first + i], &tcp);
	if (!n)
		put(y + 1, 1, "(no TCP segments counted yet)");
}

/* A cell of a guard's panel: a counter of interface i, by label. */
struct gcell {
	const char *label;
	getter get;
	int arg;
};

static void guard_cell(const struct top *t, int i, int y, int x, int w,
		       const struct gcell *c)
{
	struct figure v = figure(t, i, c->get, c->arg);
	char r[16], n[16];

	put(y, x, " %-*s %5s %7s", w, c->label, fmt_rate(&v, r, sizeof(r)),
	    fmt_total(v.total, n, sizeof(n)));
}

/* "auto, engaged since 12:04:31", "auto, calm", "cookie since ...". */
static const char *guard_state(const struct guard_view *v, char *buf,
			       size_t n)
{
	const char *mode = guard_mode_names[v->gc.mode % TCPF_GM_MAX];
	time_t since = (time_t)guard_wall(v, guard_engaged_at(v));
	char hms[16] = "";

	if (since)
		fmt_clock(since, "%H:%M:%S", hms, sizeof(hms));
	if (v->gc.mode == TCPF_GM_AUTO)
		snprintf(buf, n, "auto, %s%s", since ? "engaged since " :
			 "calm", hms);
	else
		snprintf(buf, n, "%s%s%s", mode, since ? " since " : "", hms);
	return buf;
}

/*
 * Interface i's guard (not off): its state, the SYN rate and completion
 * the timer measured last second, then its counters and drops; the
 * columns fit 80.  GUARD_ROWS.
 */
static void draw_guard(const struct top *t, int i, int y)
{
	static const struct gcell cell[3][3] = {
		{ { "sent", g_guard, TCPF_GC_COOKIE_SENT },
		  { "validated", g_guard, TCPF_GC_COOKIE_VALID },
		  { "failed", g_guard, TCPF_GC_COOKIE_FAILED } },
		{ { "challenges", g_guard, TCPF_GC_AUTH_CHALLENGE },
		  { "passes", g_guard, TCPF_GC_AUTH_PASS },
		  { NULL, NULL, 0 } },                     /* verified, below */
		{ { "guard_ack", g_drop, TCPF_DROP_GUARD_ACK },
		  { "guard_auth", g_drop, TCPF_DROP_GUARD_AUTH },
		  { "guard_ratelimit", g_drop, TCPF_DROP_GUARD_RATELIMIT } },
	};
	static const char *const head[3] = { "COOKIES", "AUTH", "DROPS" };
	static const int x[3] = { 0, 25, 50 }, w[3] = { 10, 10, 15 };
	const struct guard_view *v = guard_on(&t->ifs[i]);
	bool hot = v->gc.mode == TCPF_GM_AUTO && v->engaged;
	char st[48], r[16], c[16], n[16];

	attron(A_BOLD | (hot ? colour(t, C_YELLOW) : 0));
	put(y, 0, " GUARD %s: %s   SYN %s/s, completion %s", t->ifs[i].name,
	    guard_state(v, st, sizeof(st)), fmt_num(v->gs.syn_rate, r, sizeof(r)),
	    v->gs.syn_rate ? fmt_share(v->gs.ratio, 1000, c, sizeof(c)) : "-");
	attroff(A_BOLD | (hot ? colour(t, C_YELLOW) : 0));
	attron(A_BOLD | colour(t, C_CYAN));
	for (int col = 0; col < 3; col++)
		put(y + 1, x[col], " %-*s %5s %7s", w[col], head[col], "/s",
		    "TOTAL");
	attroff(A_BOLD | colour(t, C_CYAN));
	for (int col = 0; col < 3; col++)
		for (int row = 0; row < 3; row++)
			if (cell[col][row].label)
				guard_cell(t, i, y + 2 + row, x[col], w[col],
					   &cell[col][row]);
	/* a gauge, the namespace's: sources verified now */
	if (v->verified >= 0)
		snprintf(n, sizeof(n), "%d", v->verified);
	put(y + 4, x[1], " %-*s %5s %7s", w[1], "verified", "",
	    v->verified >= 0 ? n : "-");
}

/* The funnel and the states; a guard's panel for each interface with one
 * on (the pattern header right below it: 80x24 keeps a pattern row); as
 * many pattern rows as the rest of the screen holds. */
static void draw_overview(struct top *t, int y)
{
	draw_funnel(t, y);
	draw_states(t, y, STATES_X);
	y += FUNNEL_ROWS + 1;
	for (int i = 0; i < t->nifs; i++)
		if (guard_on(&t->ifs[i])) {
			draw_guard(t, i, y);
			y += GUARD_ROWS;
		}
	draw_patterns(t, y, LINES - 1 - y, false);
}

/* Every pattern seen, and what is not a TCP segment. */
static void draw_patterns_view(struct top *t, int y)
{
	static const int which[] = { T_TCP, T_IPV4, T_IPV6, T_NON_TCP,
				     T_FRAGMENTS, T_MALFORMED };
	char r[6][16], n[6][16];

	for (int i = 0; i < 6; i++) {
		struct figure v = figure(t, -1, g_totals, which[i]);

		fmt_rate(&v, r[i], 16);
		fmt_total(v.total, n[i], 16);
	}
	put(y, 0, " /s:     TCP %s (ipv4 %s, ipv6 %s)  non-TCP %s  "
	    "fragments %s  malformed %s", r[0], r[1], r[2], r[3], r[4], r[5]);
	put(y + 1, 0, " totals: TCP %s (ipv4 %s, ipv6 %s)  non-TCP %s  "
	    "fragments %s  malformed %s", n[0], n[1], n[2], n[3], n[4], n[5]);
	draw_patterns(t, y + 3, LINES - 1 - (y + 3), true);
}

/* Drops by reason; returns the rows it took. */
static int draw_drops(const struct top *t, int y)
{
	char r[16], n[16];

	attron(A_BOLD | colour(t, C_CYAN));
	put(y, 0, " %-12s %8s %9s   %s", "DROPS", "/s", "TOTAL",
	    "(would_drop: count rules, passed)");
	attroff(A_BOLD | colour(t, C_CYAN));
	for (int d = 0; d < TCPF_DROP_MAX; d++) {
		struct figure v = figure(t, -1, g_drop, d);

		put(y + 1 + d, 0, " %-12s %8s %9s", drop_reason_name(d),
		    fmt_rate(&v, r, sizeof(r)), fmt_total(v.total, n, sizeof(n)));
	}
	return TCPF_DROP_MAX + 1;
}

struct rrow {
	int ifi;
	const struct rule *r;
	struct figure pk, by;
};

static int cmp_rrow(const void *pa, const void *pb)
{
	const struct rrow *a = pa, *b = pb;
	int c = sorted(&a->pk, &b->pk, a->ifi - b->ifi);

	return c ? c : (int)a->r->id - (int)b->r->id;
}

static int rule_rows(const struct top *t, struct rrow *rows)
{
	int n = 0;

	for (int i = 0; i < t->nifs; i++) {
		const struct iface *f = read_iface(t, i);

		for (int k = 0; f && k < f->cur->rules.nrules; k++) {
			const struct rule *r = &f->cur->rules.rules[k];

			if (r->id > TCPF_RULES_MAX)
				continue;
			rows[n].ifi = i;
			rows[n].r = r;
			rows[n].pk = figure(t, i, g_hits, (int)r->id);
			rows[n].by = figure(t, i, g_hit_bytes, (int)r->id);
			n++;
		}
	}
	return sort_rows(t, rows, n, sizeof(*rows), cmp_rrow);
}

/* The rules with their hits, in h rows from y; the list scrolls. */
/* The column heads of a list of rows, IFACE first when x leaves room. */
__attribute__((format(printf, 4, 5)))
static void list_heads(const struct top *t, int y, int x, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	attron(A_BOLD | colour(t, C_CYAN));
	if (x)
		put(y, 0, " %-15s", "IFACE");
	put(y, x, "%s", buf);
	attroff(A_BOLD | colour(t, C_CYAN));
}

static void draw_rules(struct top *t, int y, int h)
{
	static struct rrow rows[IFACES_MAX * TCPF_RULES_MAX];
	int n = rule_rows(t, rows), first, shown, x = t->nifs > 1 ? 17 : 0;
	char what[64] = "", more[64], r[16], p[16], b[16];

	if (h < 2)
		return;
	if (t->nifs == 1)
		snprintf(what, sizeof(what), " on %s, default %s", t->ifs[0].name,
			 action_name(t->ifs[0].cur->rules.default_action));
	first = scrolled(t, n, h - 2);
	shown = n - first < h - 2 ? n - first : h - 2;
	attron(A_BOLD);
	put(y, 0, " RULES: %d%s; first match decides; sorted by %s%s", n,
	    what, t->sort == S_NAME ? "id" : sort_name[t->sort],
	    fmt_rows(first, shown, n, more, sizeof(more)));
	attroff(A_BOLD);
	list_heads(t, y + 1, x, " %4s %8s %10s %12s  %s", "ID", "HITS/s",
		   "PACKETS", "BYTES", "RULE");
	for (int i = 0; i < shown; i++) {
		const struct rrow *w = &rows[first + i];

		if (x)
			put(y + 2 + i, 0, " %-15s", t->ifs[w->ifi].name);
		put(y + 2 + i, x, " %4u %8s %10s %12s  %s", w->r->id,
		    fmt_rate(&w->pk, r, sizeof(r)),
		    fmt_total(w->pk.total, p, sizeof(p)),
		    fmt_total(w->by.total, b, sizeof(b)), w->r->text);
	}
	if (!n)
		put(y + 2, 1, "(no rules: every segment gets the default action)");
}

static void draw_rules_view(struct top *t, int y)
{
	y += draw_drops(t, y) + 1;
	for (int i = 0; i < t->nifs; i++) {
		const struct iface *f = &t->ifs[i];

		if (!f->have_cur || !f->cur->rules_error[0])
			continue;
		attron(A_BOLD | colour(t, C_RED));
		put(y++, 0, " %s: the saved rule set does not read (%s): no "
		    "rule rows", f->name, f->cur->rules_error);
		attroff(A_BOLD | colour(t, C_RED));
	}
	draw_rules(t, y, LINES - 1 - y);
}

/* ----------------------------------------------- top sources by SYN */
/*
 * The data path's bounded per-source SYN table, as the snapshot holds it
 * (srcs[nsrcs], every CPU's slots merged).  A source's rate is the
 * increase of its count since the previous read, matched by address.  Its
 * merged count can go down (a slot lost on one CPU, a `tcpflags reset`):
 * then it has no rate that time ("-"), nor does one that was not in the
 * previous read - never all its SYNs as new.  SYNS is its count as the
 * table has it; since `r`, the increase from its count then (none then:
 * all of it; one that went down since leaves the baseline).
 */
struct srow {
	int ifi;
	const struct src_count *c;
	struct figure v;
};

static __u64 src_syns(const struct iface_snapshot *s,
		      const struct src_count *c)
{
	const struct src_count *hit = src_find(s, c);

	return hit ? hit->syns : 0;
}

static __u64 gain(__u64 now, __u64 then)
{
	return now > then ? now - then : 0;
}

static int cmp_srow(const void *pa, const void *pb)
{
	const struct srow *a = pa, *b = pb;
	int c = sorted(&a->v, &b->v, src_cmp(a->c, b->c));

	return c ? c : a->ifi - b->ifi;
}

static void source_figure(const struct iface *f, const struct src_count *c,
			  struct figure *v)
{
	const struct src_count *p = f->have_prev && f->elapsed > 0 ?
				    src_find(f->prev, c) : NULL;

	v->total = f->rebased ? gain(c->syns, src_syns(f->base, c)) : c->syns;
	/* gone down: reset, or a slot lost - no rate this time, as a
	 * counter that went down has none */
	v->rated = p && c->syns >= p->syns;
	v->rate = v->rated ? (double)gain(c->syns, p->syns) / f->elapsed : 0;
}

/* Every interface's sources, sorted; rows has room for all of them. */
static int source_rows(const struct top *t, struct srow *rows)
{
	int n = 0;

	for (int i = 0; i < t->nifs; i++) {
		const struct iface *f = read_iface(t, i);

		for (int k = 0; f && k < f->cur->nsrcs; k++) {
			rows[n].ifi = i;
			rows[n].c = &f->cur->srcs[k];
			source_figure(f, rows[n].c, &rows[n].v);
			n++;
		}
	}
	return sort_rows(t, rows, n, sizeof(*rows), cmp_srow);
}

static void draw_sources(struct top *t, int y)
{
	int n = 0, first, shown, h = LINES - 1 - y, x = t->nifs > 1 ? 17 : 0;
	char a[INET6_ADDRSTRLEN], r[16], s[16], more[64];
	struct srow *rows;

	for (int i = 0; i < t->nifs; i++)
		n += t->ifs[i].have_cur ? t->ifs[i].cur->nsrcs : 0;
	rows = calloc((size_t)n + 1, sizeof(*rows));
	if (!rows || h < 3) {
		free(rows);
		return;
	}
	n = source_rows(t, rows);
	first = scrolled(t, n, h - 2);
	shown = n - first < h - 2 ? n - first : h - 2;
	attron(A_BOLD);
	put(y, 0, " TOP SOURCES BY SYN RATE: %d source%s; sorted by %s%s", n,
	    n == 1 ? "" : "s", t->sort == S_NAME ? "address" : sort_name[t->sort],
	    fmt_rows(first, shown, n, more, sizeof(more)));
	attroff(A_BOLD);
	list_heads(t, y + 1, x, " %-39s %-4s %8s %10s", "SOURCE", "FAM",
		   "SYN/s", "SYNS");
	for (int i = 0; i < shown; i++) {
		const struct srow *w = &rows[first + i];

		if (x)
			put(y + 2 + i, 0, " %-15s", t->ifs[w->ifi].name);
		put(y + 2 + i, x, " %-39s %-4s %8s %10s",
		    src_name(w->c, a, sizeof(a)),
		    w->c->family == TCPF_IPV6 ? "ipv6" : "ipv4",
		    fmt_rate(&w->v, r, sizeof(r)),
		    fmt_total(w->v.total, s, sizeof(s)));
	}
	if (!n)
		put(y + 2, 1, "(no SYNs counted per source yet)");
	free(rows);
}

static const char *const help_text[] = {
	"KEYS",
	"  q            quit (so do Ctrl-C, Ctrl-\\ and SIGTERM): the terminal",
	"               is restored",
	"  p            pause: the numbers freeze (PAUSED) until p again",
	"  s            sort by rate, then total, then name (rules: id;",
	"               sources: address)",
	"  r            reset the on-screen baseline: totals count from now;",
	"               the kernel counters are never touched",
	"  Tab, 1-4     views: 1 overview, 2 all flag patterns, 3 rules and",
	"               drops, 4 top sources by SYN rate",
	"  h, Esc       this help, and back",
	"  arrows, PgUp, PgDn, Home, End   scroll a list",
	"",
	"NUMBERS",
	"  /s      increase of a counter between the last two reads, divided",
	"          by the real time between them; - before the second read,",
	"          and where a counter went down (`tcpflags reset`) then",
	"  TOTAL   since attach, or since r; exact up to 9999999, then 12.3M;",
	"          top adds up what each counter gains, so `tcpflags reset`",
	"          does not take a total back",
	"  1.2k    1200; k M G T: thousands, millions, ...",
	"  SHARE   a pattern's packets/s as a part of all TCP segments/s",
	"  V       conntrack's verdict on the flag byte: yes (the rule word",
	"          `valid`) or NO (`invalid`)",
	"  LAST n  the pattern's packets/s over the last n refreshes (up to",
	"          60, as the width allows), each row scaled to its own peak",
	"  all     every frame XDP saw; TCP the segments it counted by flags",
	"  dropped drops by rule, ratelimit and default action; would_drop",
	"          (count rules) passes and is not in it",
	"",
	"FUNNEL (phases, both directions; NOW: connections in that state)",
	"  SYN               handshake_syn: a SYN that opens a handshake",
	"  SYN-ACK           handshake_synack: the SYN-ACK that acks it",
	"  completed         handshake_ack: the ACK that opens the connection",
	"  completion        completed / SYN, of the last interval and of the",
	"                    totals",
	"  FIN (fin1)        teardown_fin1: the first FIN of a connection; its",
	"                    receiver goes to CLOSE_WAIT, its sender FIN_WAIT1",
	"  CLOSE_WAIT        gauge: the peer closed first, this host not yet",
	"  LAST_ACK (fin2)   teardown_fin2: the second FIN (the passive closer",
	"                    enters LAST_ACK); NOW: gauge last_ack",
	"  TIME_WAIT (ack2)  teardown_ack2: the ACK of the second FIN, the",
	"                    close complete (TIME_WAIT or CLOSED); NOW: gauge",
	"                    time_wait",
	"  resets            reset: RSTs of tracked connections or handshakes",
	"  out_of_state      segments that fit no tracked connection",
	"CONNECTIONS: the gauges the kernel recounts each second, shared by",
	"  the namespace's interfaces; half-open = syn_sent + syn_recv",
	"",
	"GUARD (overview: a panel per interface whose guard is not off)",
	"  title     its mode: auto engaged since HH:MM:SS, or calm; cookie",
	"            and auth since they were set; SYN/s to the protected",
	"            ports and the share completed, as the guard's timer",
	"            measured its last second (- without SYNs)",
	"  COOKIES   sent: SYN-ACKs with a cookie; validated: ACKs with a",
	"            valid one; failed: ACKs with none, and no connection",
	"  AUTH      challenges: first SYNs dropped; passes: SYNs sent again",
	"            in the window; verified: sources let through now (the",
	"            namespace's, counted every 5 s; - before the first count)",
	"  DROPS     the guard's drop reasons (view 3 has them too)",
	"",
	"TOP SOURCES (the data path's bounded table, every CPU merged)",
	"  SYN/s   - for a source that was not in the previous read, or",
	"          whose count went down (reset, a slot lost on a CPU)",
	"  SYNS    as the table counts them: since the source took its slot",
	"          (`tcpflags reset` empties the table); since r: the increase",
	"",
	"STATE: attached; NOT ATTACHED (counters kept, no program on it);",
	"  GONE (detached or deleted): the last numbers stay, top waits",
	"  and comes back when the interface is attached again",
	"  With no IFACE named, interfaces attached later appear at the next",
	"  refresh",
};

static void draw_help(struct top *t, int y)
{
	int n = (int)(sizeof(help_text) / sizeof(help_text[0]));
	int h = LINES - 1 - y, first = scrolled(t, n, h);

	for (int i = 0; i < h && first + i < n; i++) {
		bool title = help_text[first + i][0] &&
			     help_text[first + i][0] != ' ';

		if (title)
			attron(A_BOLD);
		put(y + i, 1, "%s", help_text[first + i]);
		if (title)
			attroff(A_BOLD);
	}
}

/* What each view draws below the header. */
static void (*const view_draw[V_MAX])(struct top *t, int y) = {
	[V_OVERVIEW] = draw_overview,
	[V_PATTERNS] = draw_patterns_view,
	[V_RULES] = draw_rules_view,
	[V_SOURCES] = draw_sources,
	[V_HELP] = draw_help,
};

void draw(struct top *t)
{
	int y;

	erase();
	y = draw_header(t) + 1;
	view_draw[t->view](t, y);
	draw_footer(t);
	refresh();
}
