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
# tests/suites.txt has a row per suite: the fewest PASS (and SKIP) lines it may print
# and the seconds it may run (then it is stopped, and fails).  A suite run
# without a row fails, and so does a row whose suite did not run.  A
# build's suites (san/unit_bpf) go by the same rows.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUITES="$ROOT/tests/suites.txt"

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

declare -A MIN_PASS LIMIT RAN
ROWS=()
while read -r name min secs extra; do
    case "$name" in '' | '#'*) continue ;; esac
    if ! [[ $min =~ ^[0-9]+$ && $secs =~ ^[1-9][0-9]*$ ]] || [ -n "$extra" ] ||
        [ -n "${LIMIT[$name]:-}" ]; then
        echo "FAIL tests/suites.txt: bad row '$name $min $secs $extra' (NAME MIN_PASS TIMEOUT_S, once each)"
        failed=$((failed + 1))
        continue
    fi
    MIN_PASS[$name]=$min
    LIMIT[$name]=$secs
    ROWS+=("$name")
done < <(cat "$SUITES" 2>/dev/null || echo "- - - no tests/suites.txt")

# t_reap PID: what a suite stopped by its timeout left (its exit trap
# normally removes it): the labs tests/lib.sh names tft<PID>-N, after
# detaching what is attached in them (their pins are in bpffs, not in the
# namespace).
t_reap() {
    local ns st if
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^tft$1-"); do
        st=$(nsenter --net="/run/netns/$ns" "$ROOT/build/tcpflags" status --json 2>/dev/null)
        for if in $(/usr/bin/python3 -c 'import json, sys
for a in json.loads(sys.argv[1])["attachments"]: print(a["interface"])' "$st" 2>/dev/null); do
            nsenter --net="/run/netns/$ns" "$ROOT/build/tcpflags" detach "$if" >/dev/null 2>&1
        done
        ip netns del "$ns" 2>/dev/null
    done
}

run_suite() {
    local row=$1 name=$PREFIX$1 log="$LOGS/$1.log" san="$LOGS/$1.san" rc=0
    local p f s start end r limit min pidf="$LOGS/$1.pid"
    shift
    RAN[$row]=1
    limit=${LIMIT[$row]:-600}
    min=${MIN_PASS[$row]:-1}
    rm -rf "$san"
    mkdir -p "$san"
    chmod 1777 "$san"   # a test may run the tool as another user
    start=$(date +%s)
    # its own process group, all of it stopped at the limit (TERM: the
    # integration tests' exit traps clean up), KILLed 30 s after
    ASAN_OPTIONS="$ASAN_BASE:log_path=$san/asan" \
    UBSAN_OPTIONS="$UBSAN_BASE:log_path=$san/ubsan" \
        timeout --kill-after=30 "$limit" \
        bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$@" >"$log" 2>&1 || rc=$?
    end=$(date +%s)
    for r in "$san"/*; do
        [ -e "$r" ] || continue
        echo "FAIL $name: sanitizer report $r: $(grep -m1 'ERROR:\|runtime error:\|SUMMARY:' "$r")" >>"$log"
        cat "$r" >>"$log"
    done
    p=$(grep -c '^PASS ' "$log")
    f=$(grep -c '^FAIL ' "$log")
    s=$(grep -c '^SKIP ' "$log")
    if { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && [ $((end - start)) -ge "$limit" ]; then
        echo "FAIL $name: timed out after $limit s (tests/suites.txt), stopped" >>"$log"
        f=$((f + 1))
        [ -s "$pidf" ] && t_reap "$(cat "$pidf")"
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        # a suite that died without saying why is a failure, not a skip
        echo "FAIL $name: exited $rc without a FAIL line" >>"$log"
        f=1
    fi
    rm -f "$pidf"
    if [ -z "${LIMIT[$row]:-}" ]; then
        echo "FAIL $name: no row in tests/suites.txt (NAME MIN_PASS TIMEOUT_S)" >>"$log"
        f=$((f + 1))
    elif [ $((p + s)) -lt "$min" ]; then
        echo "FAIL $name: $p checks passed and $s skipped, tests/suites.txt wants at least $min" >>"$log"
        f=$((f + 1))
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

# a row whose suite did not run: dropped from run.sh, or misnamed
for name in "${ROWS[@]}"; do
    [ "$name" = lint ] && [ "$lint" -eq 0 ] && continue   # without --lint
    if [ -z "${RAN[$name]:-}" ]; then
        echo "FAIL $name: in tests/suites.txt but not run"
        failed=$((failed + 1))
    fi
done

if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
