/* SPDX-License-Identifier: GPL-2.0-only */
/* top_input.h - top's session: the terminal, the keys, the refresh loop. */
#ifndef TCPF_TOP_INPUT_H
#define TCPF_TOP_INPUT_H

#include "top_model.h"

/* Run on the terminal until q or a signal; an exit code. */
int top_screen(struct top *t);
/* --bench N: N refreshes of each view into a screen on /dev/null. */
int top_bench(struct top *t, long n);

#endif
