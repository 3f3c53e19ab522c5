// SPDX-License-Identifier: GPL-2.0-only
/*
 * verifier.c - build/verifier: every program of some BPF objects loaded
 * into the kernel, through the real verifier, with its statistics
 * (BPF_LOG_STATS).  scripts/verify.sh runs it on the compiler matrix.
 *
 *   verifier [-v] [--limit N] [--known FILE] OBJ...
 *
 * An OBJ's directory is named CC-MCPU (build/verify/clang-16-v3/
 * tcpflags.bpf.o): the compiler and -mcpu it was built with.  Each program
 * loads in an object of its own (the others' autoload off), so a refusal
 * names one program, and with every map's pin path cleared, so nothing is
 * read from or left in bpffs (the maps are private, and freed with it).
 * The load-time settings keep their defaults: the fullest program.
 *
 * One line per program and object, "PASS OBJ/PROG CC MCPU: N insns, stack
 * S" (S as the verifier's "stack depth" line gives it: the main program's
 * bytes, then each subprogram's), or FAIL with the verifier's last words;
 * then the table, program by program, and the largest count.  A program
 * passes when it loads, with its BTF, in fewer than --limit processed
 * instructions (default 500000: half the kernel's 1M).  -v shows libbpf's
 * messages and the verifier's log of a refusal.
 *
 * --known FILE lists refusals known and not yet fixed, one a line,
 * "OBJ/PROG CC MCPU WHY" (# comments): such a combination is a SKIP line
 * (not a pass; tests/run.sh counts it apart) that says "fails, as known"
 * while its failure says WHY, and a FAIL once it passes or fails for
 * another reason, so the list cannot outlive its failures.  Exits 1 when any fails, 2 on usage.  Root.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "check.h"

#define LOG_SIZE (1 << 20)
#define MAX_RUNS 1024
#define MAX_PROGS 32
#define BPF_LOG_STATS 4

struct run {
	char obj[64], prog[64], cc[32], mcpu[8];
	char stack[64];
	long insns;     /* -1: the log did not say */
	int ok, order;  /* order: as the command line gave them */
	int known;      /* a known refusal, failing as known (a SKIP) */
};

static struct run runs[MAX_RUNS];
static int nruns, verbose;
static char last_warn[256];
static char log_buf[LOG_SIZE];
static char known[64][256];
static int nknown;

/* "OBJ/PROG CC MCPU WHY" lines of a --known file */
static int read_known(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];

	if (!f)
		return -1;
	while (nknown < 64 && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] && line[0] != '#')
			memcpy(known[nknown++], line, sizeof(line));
	}
	fclose(f);
	return 0;
}

/* The known refusal of this combination: its WHY, or NULL. */
static const char *known_why(const struct run *r)
{
	char key[200];
	size_t n = (size_t)snprintf(key, sizeof(key), "%s/%s %s %s ", r->obj,
				    r->prog, r->cc, r->mcpu);

	for (int i = 0; i < nknown; i++)
		if (!strncmp(known[i], key, n))
			return known[i] + n;
	return NULL;
}

/* libbpf's warnings: the last one kept for a FAIL line, all shown with -v */
static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	va_list copy;

	if (level == LIBBPF_WARN) {
		va_copy(copy, ap);
		vsnprintf(last_warn, sizeof(last_warn), fmt, copy);
		va_end(copy);
		last_warn[strcspn(last_warn, "\n")] = '\0';
	}
	if (!verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* build/verify/clang-16-v3/tcpflags.bpf.o: clang-16, v3, tcpflags */
static void labels(const char *path, struct run *r)
{
	char dir[256], *base, *dash;

	snprintf(dir, sizeof(dir), "%s", path);
	base = strrchr(dir, '/');
	snprintf(r->obj, sizeof(r->obj), "%.*s",
		 (int)strcspn(base ? base + 1 : dir, "."),
		 base ? base + 1 : dir);
	snprintf(r->cc, sizeof(r->cc), "?");
	snprintf(r->mcpu, sizeof(r->mcpu), "?");
	if (!base)
		return;
	*base = '\0';
	base = strrchr(dir, '/');
	base = base ? base + 1 : dir;
	dash = strrchr(base, '-');
	if (!dash)
		return;
	*dash = '\0';
	snprintf(r->cc, sizeof(r->cc), "%.*s", (int)sizeof(r->cc) - 1,
		 base);
	snprintf(r->mcpu, sizeof(r->mcpu), "%s", dash + 1);
}

/*
 * Why the verifier refused: its last line before the statistics it
 * prints on the way out (verification time, stack depth, processed).
 */
static const char *refusal(char *log)
{
	static const char *const stats[] = { "verification time",
					     "stack depth", "processed " };
	char *end = log + strlen(log), *line;
	int stat;

	for (;;) {
		while (end > log && end[-1] == '\n')
			*--end = '\0';
		if (end == log)
			return "(empty log)";
		for (line = end; line > log && line[-1] != '\n'; line--)
			;
		stat = 0;
		for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++)
			stat |= !strncmp(line, stats[i], strlen(stats[i]));
		if (!stat)
			return line;
		end = line;
	}
}

/* The figures of a load's log: "processed N insns" and "stack depth S". */
static void figures(const char *log, struct run *r)
{
	const char *p = strstr(log, "processed ");

	r->insns = -1;
	/* NOLINTNEXTLINE(cert-err34-c): the kernel's count, well in range */
	if (p && sscanf(p, "processed %ld insns", &r->insns) != 1)
		r->insns = -1;
	p = strstr(log, "stack depth ");
	snprintf(r->stack, sizeof(r->stack), "%.*s",
		 p ? (int)strcspn(p + 12, "\n") : 1, p ? p + 12 : "?");
}

/* Load the program named prog of path alone, and check it. */
static void load_one(const char *path, const char *prog, long limit)
{
	struct run *r = &runs[nruns];
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_map *m;
	char name[600], fig[384] = "", why[512] = "";
	const char *kwhy;
	int err;

	r->order = nruns++;
	labels(path, r);
	snprintf(r->prog, sizeof(r->prog), "%.*s", (int)sizeof(r->prog) - 1,
		 prog);
	snprintf(r->stack, sizeof(r->stack), "-");
	r->insns = -1;
	log_buf[0] = '\0';
	last_warn[0] = '\0';
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		snprintf(why, sizeof(why), "cannot open: %s", strerror(errno));
		goto out;
	}
	bpf_object__for_each_map(m, obj)
		bpf_map__set_pin_path(m, NULL);
	bpf_object__for_each_program(p, obj) {
		int mine = !strcmp(bpf_program__name(p), prog);

		bpf_program__set_autoload(p, mine);
		if (mine) {
			bpf_program__set_log_level(p, BPF_LOG_STATS);
			bpf_program__set_log_buf(p, log_buf, sizeof(log_buf));
		}
	}
	err = bpf_object__load(obj);
	if (err && verbose)
		fprintf(stderr, "--- %s %s (%s -mcpu=%s): the log\n%s---\n",
			path, prog, r->cc, r->mcpu, log_buf);
	figures(log_buf, r);
	if (err)
		snprintf(why, sizeof(why), "refused (%s): %s", strerror(-err),
			 log_buf[0] ? refusal(log_buf) : last_warn);
	else if (bpf_object__btf_fd(obj) < 0)
		/* libbpf loads on without BTF the kernel refuses, quietly */
		snprintf(why, sizeof(why), "loaded without its BTF: %s",
			 last_warn);
	else if (r->insns < 0)
		snprintf(why, sizeof(why), "no \"processed N insns\" in the log");
	else if (r->insns >= limit)
		snprintf(why, sizeof(why),
			 "not under %ld, half the kernel's 1M limit", limit);
	bpf_object__close(obj);
out:
	if (r->insns >= 0)
		snprintf(fig, sizeof(fig), ": %ld insns, stack %s", r->insns,
			 r->stack);
	r->ok = !why[0];
	kwhy = known_why(r);
	if (kwhy && r->ok) {
		r->ok = 0;
		snprintf(why, sizeof(why), "loads: no longer a known refusal "
			 "(take it out of the known list)");
	} else if (kwhy && strstr(why, kwhy)) {
		/* not a pass: a SKIP line, counted apart by tests/run.sh */
		r->known = 1;
		printf("SKIP %s/%s %s -mcpu=%s%s: fails, as known: %s\n",
		       r->obj, r->prog, r->cc, r->mcpu, fig, why);
		return;
	}
	snprintf(name, sizeof(name), "%s/%s %s -mcpu=%s%s", r->obj, r->prog,
		 r->cc, r->mcpu, fig);
	check_report(r->ok, name, "%s", why);
}

/* Every program of one object, each loaded alone. */
static void load_all(const char *path, long limit)
{
	char progs[MAX_PROGS][64];
	struct bpf_object *obj;
	struct bpf_program *p;
	int n = 0;

	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		struct run r = { 0 };
		char name[160];

		labels(path, &r);
		snprintf(name, sizeof(name), "%s %s -mcpu=%s", r.obj, r.cc,
			 r.mcpu);
		check_report(0, name, "cannot open %s: %s", path,
			     strerror(errno));
		return;
	}
	bpf_object__for_each_program(p, obj)
		if (n < MAX_PROGS)
			snprintf(progs[n++], sizeof(progs[0]), "%s",
				 bpf_program__name(p));
	bpf_object__close(obj);
	for (int i = 0; i < n && nruns < MAX_RUNS; i++)
		load_one(path, progs[i], limit);
}

/* By object and program, then in the command line's order. */
static int by_program(const void *a, const void *b)
{
	const struct run *x = a, *y = b;
	int c = strcmp(x->obj, y->obj);

	if (!c)
		c = strcmp(x->prog, y->prog);
	return c ? c : x->order - y->order;
}

static void table(void)
{
	const struct run *big = NULL;

	qsort(runs, (size_t)nruns, sizeof(runs[0]), by_program);
	printf("\n%-16s %-10s %-9s %-4s %8s  %-18s %s\n", "PROGRAM", "OBJECT",
	       "COMPILER", "MCPU", "INSNS", "STACK", "RESULT");
	for (int i = 0; i < nruns; i++) {
		const struct run *r = &runs[i];

		printf("%-16s %-10s %-9s %-4s %8ld  %-18s %s\n", r->prog,
		       r->obj, r->cc, r->mcpu, r->insns, r->stack,
		       r->known ? "known" : r->ok ? "PASS" : "FAIL");
		if (!big || r->insns > big->insns)
			big = r;
	}
	if (big)
		printf("largest: %s under %s -mcpu=%s, %ld insns (%.1f%% of "
		       "the kernel's 1M)\n", big->prog, big->cc, big->mcpu,
		       big->insns, big->insns / 10000.0);
}

int main(int argc, char **argv)
{
	long limit = 500000;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v"))
			verbose = 1;
		else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
			limit = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--known") && i + 1 < argc) {
			if (read_known(argv[++i])) {
				fprintf(stderr, "verifier: cannot read %s: %s\n",
					argv[i], strerror(errno));
				return 2;
			}
		}
		else
			break;
	}
	if (i >= argc || argv[i][0] == '-' || limit <= 0) {
		fprintf(stderr, "usage: verifier [-v] [--limit N] [--known FILE] "
			"OBJ...\n");
		return 2;
	}
	libbpf_set_print(print_libbpf);
	for (; i < argc; i++)
		load_all(argv[i], limit);
	table();
	return check_done("verifier");
}
