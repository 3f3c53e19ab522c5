#!/bin/bash
# run.sh - run every test suite and print one closing tally:
#   N passed, N failed[, N skipped]
# (skipped: a suite's SKIP lines, known failures it names; never a pass)
# Unit suites first (no network), then the integration scripts (root,
# veth pairs in namespaces they make and remove).  Full logs: build/test-logs.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOGS="$ROOT/build/test-logs"
mkdir -p "$LOGS"

passed=0
failed=0
skipped=0   # SKIP lines: known failures a suite names (never a pass)

run_suite() {
    local name=$1 log="$LOGS/$1.log" rc=0 p f start end
    shift
    start=$(date +%s)
    "$@" >"$log" 2>&1 || rc=$?
    end=$(date +%s)
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

run_suite readme bash "$ROOT/tests/readme.sh"
run_suite unit_user "$ROOT/build/test_user"
run_suite unit_bpf "$ROOT/build/test_bpf"
run_suite unit_flow "$ROOT/build/test_flow"
run_suite unit_rules "$ROOT/build/test_rules"
run_suite unit_policy "$ROOT/build/test_policy"
# differential fuzzing of the parser: the saved regression frames, then 1M
# frames of a new seed each run (printed: `make fuzz SEED=S` repeats it)
run_suite fuzz "$ROOT/build/fuzz" --frames 1000000 --regress "$ROOT/tests/regress/fuzz"
# the verifier and compiler matrix (all three compilers: ~15 s), its known
# refusals listed
VERIFY_KNOWN="$ROOT/tests/verify-known.txt" \
    run_suite verify bash "$ROOT/scripts/verify.sh" clang clang-16 clang-19
for t in "$ROOT"/tests/integration/*.sh; do
    [ -e "$t" ] || continue
    run_suite "$(basename "$t" .sh)" bash "$t"
done

if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
