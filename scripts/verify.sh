#!/bin/bash
# verify.sh - the verifier and compiler matrix: `make verify` runs it for
# VERIFY_CCS, tests/run.sh for the compilers CI runs.
#   scripts/verify.sh [CC...]      (default: clang clang-16 clang-19)
# Builds every bpf/NAME.bpf.c with each compiler at -mcpu=v2 and -mcpu=v3
# (build/verify/CC-MCPU/NAME.bpf.o, by the Makefile's rule: the flags of
# the real build), then build/verifier (TCPF_BUILD/verifier: tests/run.sh
# names the build) loads each of their programs into the kernel and prints
# a PASS or FAIL line per program and combination, with its processed
# instructions and stack, and the table.  A compiler that is
# not installed, or an object one cannot build, is a FAIL line naming it.
# VERIFY_KNOWN=FILE: the refusals known and not yet fixed (build/verifier's
# --known; tests/run.sh gives tests/verify-known.txt).
# Exits 1 on any FAIL.  Root (the kernel's verifier is behind CAP_BPF).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
MCPUS="v2 v3"
[ $# -gt 0 ] || set -- clang clang-16 clang-19

VERIFIER=${TCPF_BUILD:-build}/verifier
if [ ! -x "$VERIFIER" ]; then
    echo "FAIL verify: no $VERIFIER (make build/verifier)"
    exit 1
fi
failed=0
objs=()
for cc in "$@"; do
    if ! command -v "$cc" >/dev/null; then
        echo "FAIL $cc: no such compiler here (scripts/install-deps.sh --test installs clang-16 and clang-19)"
        failed=1
        continue
    fi
    echo "$cc: $("$cc" --version | head -n 1)"
    for m in $MCPUS; do
        want=()
        for f in bpf/*.bpf.c; do
            n=${f#bpf/}
            want+=("build/verify/$cc-$m/${n%.bpf.c}.bpf.o")
        done
        # SAN= : the objects are build/'s whatever build runs the verifier
        if out=$(make -s -j"$(nproc)" SAN= "${want[@]}" 2>&1); then
            objs+=("${want[@]}")
        else
            echo "FAIL $cc -mcpu=$m: the BPF objects do not build"
            sed 's/^/  | /' <<<"$out" | head -n 20
            failed=1
        fi
    done
done
if [ ${#objs[@]} -gt 0 ]; then
    known=()
    [ -z "${VERIFY_KNOWN:-}" ] || known=(--known "$VERIFY_KNOWN")
    "$VERIFIER" "${known[@]}" "${objs[@]}" || failed=1
fi
exit $failed
