# shellcheck shell=bash
# benchlib.sh - the paired-rounds harness of the live benchmarks
# (scripts/bench-live.sh, scripts/bench-guard.sh), in shell; the C benches
# have the same in tests/benchtime.h.  A round runs the receivers as a
# palindrome, so a drift over the round moves each side's runs alike; a
# ratio is taken between the figures of one round, and a budget is judged on
# the median of the rounds' ratios, with their min-max beside it.

# palindrome "A B" "C": the runs of a round: A B C B A (the first list
# twice, the second once, in the middle)
palindrome() {
    local fwd i out="$1 $2"
    read -r -a fwd <<< "$1"
    for ((i = ${#fwd[@]} - 1; i >= 0; i--)); do out="$out ${fwd[$i]}"; done
    echo "$out"
}

# median and min-max of a list of numbers separated by blanks
median() { tr -s ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
minmax() { tr -s ' ' '\n' | grep . | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }

# rounds ARRAY KEY: ARRAY[KEY,r] for each round r (0 .. ROUNDS-1); KEY may
# hold commas itself ("half,cookie" for ARRAY[half,cookie,r])
rounds() {
    local -n arr=$1
    local i out=""
    for ((i = 0; i < ROUNDS; i++)); do out="$out ${arr[$2,$i]}"; done
    echo "${out# }"
}

# ratios ARRAY NUM DEN: per round, ARRAY[NUM,r] / ARRAY[DEN,r] (keys as
# rounds takes them)
ratios() {
    local -n arr=$1
    local i out=""
    for ((i = 0; i < ROUNDS; i++)); do
        out="$out $(awk -v a="${arr[$2,$i]}" -v b="${arr[$3,$i]}" 'BEGIN { printf "%.3f", a / b }')"
    done
    echo "${out# }"
}

# budget NAME RATIOS LIMIT ceiling|floor: the line, judged on its median as
# printed; a failure sets FAILED=1 (the caller's exit status)
FAILED=0
# shellcheck disable=SC2034  # FAILED is the caller's
budget() {
    local med spread verdict
    med=$(echo "$2" | median)
    spread=$(echo "$2" | tr -s ' ' '\n' | grep . | sort -g |
             awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }')
    verdict=$(awk -v m="$med" -v l="$3" -v k="$4" 'BEGIN {
        m = sprintf("%.2f", m) + 0
        ok = k == "floor" ? m >= l : m <= l
        print ok ? "PASS" : "FAIL" }')
    [ "$verdict" = PASS ] || FAILED=1
    printf 'budget %s ratio=%.2f limit=%s spread=%s pairs=%d %s\n' "$1" "$med" "$3" \
        "$spread" "$(echo "$2" | wc -w)" "$verdict"
}

# gen_secs CLOCK: the generator's time in seconds from build/livegen's line
# on stdin: its CPU time (kernel_ns per frame, which leaves out the
# stretches the run gave the CPU away, times the frames), or with CLOCK
# wall its elapsed time
gen_secs() {
    awk -v clock="$1" '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
        END { if (clock == "wall") print v["elapsed"]
              else printf "%.6f\n", v["kernel_ns"] * v["sent"] / 1e9 }'
}
