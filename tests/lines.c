// SPDX-License-Identifier: GPL-2.0-only
/* lines.c - see lines.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lines.h"

static int blank_or_comment(const char *s)
{
	s += strspn(s, " \t");
	return !*s || *s == '#';
}

int lines_each(const char *text, line_fn fn, void *arg)
{
	int lineno = 0;

	for (const char *p = text; *p; ) {
		size_t n = strcspn(p, "\n");
		char line[LINE_MAX_LEN];
		int ret;

		lineno++;
		if (n >= sizeof(line))
			return -E2BIG;
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		if (blank_or_comment(line))
			continue;
		ret = fn(arg, line, lineno);
		if (ret)
			return ret;
	}
	return 0;
}

int lines_file(const char *path, line_fn fn, void *arg)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	long len;
	int ret;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) || !(text = calloc(1, (size_t)len + 1)) ||
	    fread(text, 1, (size_t)len, f) != (size_t)len) {
		ret = -(errno ? errno : EIO);
		fclose(f);
		free(text);
		return ret;
	}
	fclose(f);
	ret = lines_each(text, fn, arg);
	free(text);
	return ret;
}

int line_words(char *line, char **w, int max)
{
	int n = 0;

	for (char *save = NULL, *t = strtok_r(line, " \t", &save);
	     t && n < max; t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	return n;
}

static char *trim(char *s)
{
	char *e;

	s += strspn(s, " \t");
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

int line_fields(char *line, const char *sep, char **f, int max)
{
	size_t len = strlen(sep);
	int n = 0;

	for (char *p = line; n < max; ) {
		char *e = strstr(p, sep);

		if (e)
			*e = '\0';
		f[n++] = trim(p);
		if (!e)
			break;
		p = e + len;
	}
	return n;
}

int tree_path(const char *rel, char *buf, size_t size)
{
	char exe[4096], *slash;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int err = -ENOENT;

	if (len <= 0)
		return len ? -errno : -ENOENT;
	exe[len] = '\0';
	/* the binary is in build/ or a build directory under it (build/san):
	 * the nearest directory above it that holds rel */
	for (int up = 0; up < 3; up++) {
		slash = strrchr(exe, '/');
		if (!slash)
			break;
		*slash = '\0';
		if ((size_t)snprintf(buf, size, "%s/../%s", exe, rel) >= size)
			return -ENAMETOOLONG;
		if (!access(buf, F_OK))
			return 0;
		err = -errno;
	}
	return err;
}
