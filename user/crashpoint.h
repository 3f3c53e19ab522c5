/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * crashpoint.h - named points in the commands that change state, where a
 * test can kill the process (TCPF_CRASH_AT=NAME[:N]: SIGKILL the Nth time
 * NAME is reached, N default 1) or stop it (TCPF_PAUSE_AT=NAME[:N]:
 * SIGSTOP, so that a test can run another command while this one is
 * inside its change).  For tests only: without the variables a point
 * costs one compare.  The names (tests/integration/85-crash.sh uses them):
 *   lock                    the lock taken, the journal written, nothing done
 *   attach:loaded           maps pinned, the program loaded, not attached
 *   attach:xdp              XDP attached, no TC hooks, no rules, no meta
 *   attach:egress           the TC hooks on, the rules not installed
 *   attach:rules            the rules installed, the meta not recorded
 *   attach:meta             everything done but the report
 *   rules:saved             rule change: the new source written beside
 *   rules:set               the unused rule set written, not switched to
 *   rules:switched          switched to it, the source not renamed in
 *   apply:guard             apply: its guard line applied, no rule yet
 *   glist:read              guard lists: read, not written back
 *   detach:xdp              detach: XDP off, the TC hooks still on
 *   detach:hooks            every hook off, the pins all there
 *   detach:meta             tcpf_meta unpinned (the tombstone), rest there
 *   detach:pin              one more pin unlinked (N: the Nth)
 */
#ifndef TCPF_CRASHPOINT_H
#define TCPF_CRASHPOINT_H

void crash_point(const char *name);

#endif
