#!/bin/bash
# run.sh - run every test suite and print one closing tally:
#   N passed, N failed[, N skipped]
# (skipped: a suite's SKIP lines, known failures it names; never a pass)
#   tests/run.sh [--lint] [BUILD...]
# BUILD: a build directory whose programs the suites run (default:
# $TCPF_BUILD, else build/; `make SAN=1 test` gives build/san).  Given
# several (scripts/test.sh: build build/san), the whole suite runs on each
# in turn; the suites of a build other than build/ are named after it
# (san/unit_bpf).  --lint runs
# scripts/lint.sh first, as a suite.
# Unit suites first (no network), then the integration scripts (root,
# veth pairs in namespaces they make and remove).  Full logs:
# BUILD/test-logs.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)

lint=0
if [ "${1:-}" = --lint ]; then lint=1; shift; fi
[ $# -gt 0 ] || set -- "${TCPF_BUILD:-$ROOT/build}"

# A sanitized build (make SAN=1) stops at its first report, a leak at exit
# included, and writes it to a file of the suite's (log_path); run_suite
# fails a suite that left one whatever its exit status, as a report at
# exit can follow the last PASS line or a test ignore the status.  A
# build without sanitizers ignores these.
SAN_OPTS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
ASAN_BASE="$SAN_OPTS:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1"
UBSAN_BASE=$SAN_OPTS

passed=0
failed=0
skipped=0   # SKIP lines: known failures a suite names (never a pass)

run_suite() {
    local name=$PREFIX$1 log="$LOGS/$1.log" san="$LOGS/$1.san" rc=0 p f start end r
    shift
    rm -rf "$san"
    mkdir -p "$san"
    chmod 1777 "$san"   # a test may run the tool as another user
    start=$(date +%s)
    ASAN_OPTIONS="$ASAN_BASE:log_path=$san/asan" \
    UBSAN_OPTIONS="$UBSAN_BASE:log_path=$san/ubsan" \
        "$@" >"$log" 2>&1 || rc=$?
    end=$(date +%s)
    for r in "$san"/*; do
        [ -e "$r" ] || continue
        echo "FAIL $name: sanitizer report $r: $(grep -m1 'ERROR:\|runtime error:\|SUMMARY:' "$r")" >>"$log"
        cat "$r" >>"$log"
    done
    p=$(grep -c '^PASS ' "$log")
    f=$(grep -c '^FAIL ' "$log")
    s=$(grep -c '^SKIP ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        # a suite that died without saying why is a failure, not a skip
        echo "FAIL $name: exited $rc without a FAIL line" >>"$log"
        f=1
    fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $name: ran no check" >>"$log"
        f=1
    fi
    grep '^FAIL \|^SKIP ' "$log" | sed 's/^/  /'
    if [ "$f" -gt 0 ]; then tail -n 5 "$log" | grep -v '^PASS \|^FAIL ' | sed 's/^/  | /'; fi
    if [ "$s" -gt 0 ]; then
        printf '%-28s %4d passed, %d failed, %d skipped  (%ds)\n' "$name" "$p" "$f" "$s" $((end - start))
    else
        printf '%-28s %4d passed, %d failed  (%ds)\n' "$name" "$p" "$f" $((end - start))
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
}

if [ "$(id -u)" -ne 0 ]; then
    echo "FAIL tests: the tests load BPF programs and make namespaces: run them as root"
    echo "0 passed, 1 failed"
    exit 1
fi

# suites: the whole suite on the programs of $BUILD
suites() {
    run_suite readme bash "$ROOT/tests/readme.sh"
    run_suite unit_user "$BUILD/test_user"
    run_suite unit_bpf "$BUILD/test_bpf"
    run_suite unit_flow "$BUILD/test_flow"
    run_suite unit_rules "$BUILD/test_rules"
    run_suite unit_policy "$BUILD/test_policy"
    # differential fuzzing of the parser: the saved regression frames, then 1M
    # frames of a new seed each run (printed: `make fuzz SEED=S` repeats it)
    run_suite fuzz "$BUILD/fuzz" --frames 1000000 --regress "$ROOT/tests/regress/fuzz"
    # the verifier and compiler matrix (all three compilers: ~15 s), its known
    # refusals listed
    VERIFY_KNOWN="$ROOT/tests/verify-known.txt" \
        run_suite verify bash "$ROOT/scripts/verify.sh" clang clang-16 clang-19
    for t in "$ROOT"/tests/integration/*.sh; do
        [ -e "$t" ] || continue
        run_suite "$(basename "$t" .sh)" bash "$t"
    done
}

if [ "$lint" -eq 1 ]; then
    PREFIX='' LOGS="$ROOT/build/test-logs"
    mkdir -p "$LOGS"
    run_suite lint "$ROOT/scripts/lint.sh"
fi
for b in "$@"; do
    if ! BUILD=$(cd "$b" 2>/dev/null && pwd) || [ ! -x "$BUILD/tcpflags" ]; then
        echo "  FAIL $b: no build there (make test-progs, make SAN=1 test-progs)"
        failed=$((failed + 1))
        continue
    fi
    # lib.sh and scripts/verify.sh run the programs of TCPF_BUILD
    export TCPF_BUILD=$BUILD
    LOGS="$BUILD/test-logs"
    mkdir -p "$LOGS"
    PREFIX=
    [ "$BUILD" = "$ROOT/build" ] || PREFIX="$(basename "$BUILD")/"
    suites
done

if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
