#!/bin/sh
# test.sh - the README's test command: install what is missing, build, and
# run every test: the lint, the whole suite, and the whole suite again on
# the programs built with ASan and UBSan (build/san).  Ends with one
# "N passed, N failed" counting them all; non-zero on any failure.
set -e
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    echo "tcpflags tests: run as root (they load XDP programs and make network namespaces)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
scripts/install-deps.sh --test
make -s test-progs
make -s SAN=1 test-progs
exec tests/run.sh --lint build build/san
