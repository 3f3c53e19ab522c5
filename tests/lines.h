/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lines.h - the suites' one reader of text tables: a text (a string in a
 * suite, or a file of a corpus) line by line, blank lines and # comments
 * skipped, each line split into words or into fields (" | " between them).
 */
#ifndef TCPF_LINES_H
#define TCPF_LINES_H

#include <stddef.h>

#define LINE_MAX_LEN 512

/* What runs each line: a copy it may modify, its number (from 1); a
 * nonzero return stops the reading and is returned. */
typedef int (*line_fn)(void *arg, char *line, int lineno);

/* Every line of text that is not blank or a comment, to fn; -E2BIG at a
 * line of LINE_MAX_LEN bytes or more. */
int lines_each(const char *text, line_fn fn, void *arg);
/* The same with the file at path: -errno when it cannot be read. */
int lines_file(const char *path, line_fn fn, void *arg);

/* The path of rel, a file of the source tree (README.md,
 * tests/rules/bad.txt), found from the running binary in build/; 0, or
 * -ENAMETOOLONG or -errno. */
int tree_path(const char *rel, char *buf, size_t size);

/* Split line in place on blanks: at most max words; their count. */
int line_words(char *line, char **w, int max);
/* Split line in place at each sep (a string: " | "), blanks around a
 * field trimmed: at most max fields (the last holds the rest); their
 * count. */
int line_fields(char *line, const char *sep, char **f, int max);

#endif
