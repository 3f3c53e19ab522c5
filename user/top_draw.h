/* SPDX-License-Identifier: GPL-2.0-only */
/* top_draw.h - drawing top's screen (curses), one panel at a time. */
#ifndef TCPF_TOP_DRAW_H
#define TCPF_TOP_DRAW_H

#include "top_model.h"

enum { C_RED = 1, C_GREEN, C_YELLOW, C_CYAN };

extern const char *const view_title[V_MAX];

/* The whole screen for t's view. */
void draw(struct top *t);

#endif
