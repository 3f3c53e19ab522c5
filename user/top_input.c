// SPDX-License-Identifier: GPL-2.0-only
/* top_input.c - top's session: curses set up and torn down, one key at a
 * time, the refresh loop, the signals that end it, the bench mode. */
#include <fcntl.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curses.h>
#include "log.h"
#include "timefmt.h"
#include "top_draw.h"
#include "top_input.h"

#define WAIT_MS 200            /* longest wait for a key: signals are seen */
#define BENCH_LINES 50
#define BENCH_COLS 160

static volatile sig_atomic_t top_stop;
/* ------------------------------------------------------- the session */

/* One key; returns true to quit. */
static bool on_key(struct top *t, int ch)
{
	int page = LINES > 12 ? LINES - 10 : 1;

	switch (ch) {
	case 'q':
	case 'Q':
		return true;
	case 'p':
	case 'P':
	case ' ':
		t->paused = !t->paused;
		break;
	case 's':
	case 'S':
		t->sort = (t->sort + 1) % S_MAX;
		break;
	case 'r':
	case 'R':
		top_rebase(t);
		break;
	case 'h':
	case 'H':
	case '?':
	case 27:                   /* Esc */
		if (t->view == V_HELP) {
			t->view = t->back;
		} else if (ch != 27) {
			t->back = t->view;
			t->view = V_HELP;
			t->scroll[V_HELP] = 0;
		}
		break;
	case '\t':
		t->view = t->view == V_HELP ? t->back : (t->view + 1) % V_HELP;
		break;
	case KEY_BTAB:
		t->view = t->view == V_HELP ? t->back :
			  (t->view + V_HELP - 1) % V_HELP;
		break;
	case '1':
	case '2':
	case '3':
	case '4':
		t->view = (enum view)(ch - '1');
		break;
	case KEY_UP:
		t->scroll[t->view]--;
		break;
	case KEY_DOWN:
		t->scroll[t->view]++;
		break;
	case KEY_PPAGE:
		t->scroll[t->view] -= page;
		break;
	case KEY_NPAGE:
		t->scroll[t->view] += page;
		break;
	case KEY_HOME:
		t->scroll[t->view] = 0;
		break;
	case KEY_END:
		t->scroll[t->view] = INT_MAX / 2;
		break;
	default:                   /* KEY_RESIZE: curses has the new size */
		break;
	}
	return false;
}

static void top_loop(struct top *t)
{
	__u64 step = (__u64)(t->interval * 1e9 + 0.5);
	__u64 next = mono_ns() + step;

	draw(t);
	while (!top_stop) {
		__u64 now = mono_ns(), wait;
		int ch;

		if (now >= next) {
			if (!t->paused)
				top_refresh(t);
			next = next + step > now ? next + step : now + step;
			draw(t);
			continue;
		}
		wait = (next - now) / 1000000 + 1;
		timeout(wait < WAIT_MS ? (int)wait : WAIT_MS);
		ch = getch();
		if (ch == ERR)
			continue;
		if (on_key(t, ch))
			break;
		draw(t);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

/* Before curses starts, so it keeps ours: no SA_RESTART, a wait ends. */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);     /* Ctrl-\: restore, not a core */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void curses_setup(struct top *t)
{
	const char *nc = getenv("NO_COLOR");

	t->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	t->colour = has_colors() && !(nc && *nc);
	if (t->colour) {
		short bg = use_default_colors() == OK ? -1 : COLOR_BLACK;

		start_color();
		init_pair(C_RED, COLOR_RED, bg);
		init_pair(C_GREEN, COLOR_GREEN, bg);
		init_pair(C_YELLOW, COLOR_YELLOW, bg);
		init_pair(C_CYAN, COLOR_CYAN, bg);
	}
}

/* the two descriptors top_screen() holds, each only when it was had */
static void close_fds(int a, int b)
{
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
}

int top_screen(struct top *t)
{
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
	SCREEN *scr;

	catch_signals();
	setlocale(LC_CTYPE, "");
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		pr_warn("cannot drive this terminal (TERM=%s)",
			getenv("TERM") ? getenv("TERM") : "unset");
		close_fds(saved, null);
		return EXIT_FAIL;
	}
	curses_setup(t);
	/* a library's warning (libbpf, libxdp) would write over the screen */
	if (saved >= 0 && null >= 0)
		dup2(null, STDERR_FILENO);
	top_loop(t);
	endwin();
	delscreen(scr);
	if (saved >= 0 && null >= 0)
		dup2(saved, STDERR_FILENO);
	close_fds(saved, null);
	return EXIT_OK;
}

/*
 * --bench N (for `make bench`): N refreshes of each view, every one read
 * and drawn whole (as if every number changed) into a 160x50 screen on
 * /dev/null; prints the CPU time a refresh costs, the worst view last.
 */
int top_bench(struct top *t, long n)
{
	/* cppcheck-suppress incompatibleFileOpen ; curses reads one and
	 * writes the other: neither stream ever holds data */
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	double worst = 0;
	SCREEN *scr;

	setlocale(LC_CTYPE, "");
	scr = out && in ? newterm("xterm-256color", out, in) : NULL;
	if (!scr) {
		pr_warn("bench: cannot start curses on /dev/null");
		if (out)
			fclose(out);
		if (in)
			fclose(in);
		return EXIT_FAIL;
	}
	curses_setup(t);
	resize_term(BENCH_LINES, BENCH_COLS);
	for (int v = V_OVERVIEW; v < V_HELP; v++) {
		struct timespec a, b;
		double cpu;

		t->view = (enum view)v;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
		for (long i = 0; i < n; i++) {
			top_refresh(t);
			clearok(curscr, TRUE);
			draw(t);
		}
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		cpu = ((double)(b.tv_sec - a.tv_sec) +
		       (double)(b.tv_nsec - a.tv_nsec) / 1e9) / (double)n;
		if (cpu > worst)
			worst = cpu;
		printf("view %-20s %8.6f s CPU per refresh\n", view_title[v],
		       cpu);
	}
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	printf("worst %.6f\n", worst);
	return EXIT_OK;
}
