#!/bin/sh
# test.sh - the README's test command: install what is missing, build, and
# run every test.  Ends with "N passed, N failed"; non-zero on any failure.
set -e
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    echo "tcpflags tests: run as root (they load XDP programs and make network namespaces)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
scripts/install-deps.sh --test
make -s test-progs
exec tests/run.sh
