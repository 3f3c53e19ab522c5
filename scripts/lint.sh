#!/bin/bash
# lint.sh - `make lint`: the static checks, a PASS or FAIL line per file
# and tool, then "lint: N passed, N failed"; exits 1 on any finding.
#   - cppcheck: user/, tests/ and bpf/ (warning, portability,
#     performance; scripts/lint/cppcheck.cfg tells it the kernel's types
#     and libbpf's macros)
#   - clang-tidy: every .c of user/, tests/ and bpf/ with the project's
#     headers (scripts/lint/clang-tidy.yaml: the checks, and why each one
#     left out is); the generated skeletons are system headers to it
#   - shellcheck: every shell script of scripts/, tests/ and .ci/, with
#     the files they source, at severity warning (its info and style notes
#     are advice, not defects)
# A finding the code keeps on purpose is suppressed where it is, with the
# reason beside it.  Needs the libbpf skeletons (it makes them) and
# Debian's cppcheck, clang-tidy and shellcheck (install-deps.sh --test).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
CONF=scripts/lint
JOBS=$(nproc)
OUT=$(mktemp -d /tmp/tcpf-lint.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
# report TOOL FILE FINDINGS: a line for FILE, its findings under it
report() {
    if [ -s "$3" ]; then
        fail "$1 $2" "$(grep -c . "$3") lines of findings"
        sed 's/^/  | /' "$3"
    else
        pass "$1 $2"
    fi
}

missing=0
for tool in cppcheck clang-tidy shellcheck; do
    if ! command -v "$tool" >/dev/null; then
        fail "lint: $tool" "not installed (scripts/install-deps.sh --test)"
        missing=1
    fi
done
[ "$missing" -eq 0 ] || { echo "lint: $passed passed, $failed failed"; exit 1; }

# the skeletons the sources include, named by their #include lines
skels=$(grep -ho '"[a-z_]*\.skel\.h"' user/*.c tests/*.c tests/*.h | tr -d '"' |
        sort -u | sed 's|^|build/|')
# shellcheck disable=SC2086  # one word per skeleton
if ! err=$(make -s SAN= $skels 2>&1); then
    fail "lint: skeletons" "make could not build them"
    sed 's/^/  | /' <<<"$err"
    echo "lint: $passed passed, $failed failed"
    exit 1
fi

user_c=(user/*.c tests/*.c)
bpf_c=(bpf/*.bpf.c)
# the Makefile's CFLAGS and BPF_CFLAGS, less the warnings and optimisation
# that only the compilers use
ARCH=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
TRIPLET=$(gcc -dumpmachine)
read -r -a CFL <<<"-std=gnu11 -Iinclude -Iuser -Itests -isystem build -DTCPF_VERSION=\"lint\" $(pkg-config --cflags ncursesw 2>/dev/null)"
BFL=(-target bpf -D__TARGET_ARCH_"$ARCH" -Iinclude -I/usr/include/"$TRIPLET")

# ---- cppcheck: one run over the tree, its findings sorted by file
# readdirCalled: off, as its advice (readdir_r) is deprecated by glibc,
#   whose readdir is safe on a stream of one's own;
# arithOperationsOnVoidPointer: off for bpf/, whose data and data_end
#   pointers are void * by the kernel's UAPI (GNU C, as all BPF C is).
cpp_common=('--enable=warning,portability,performance' --std=c11
    --library=posix --library=gnu --library="$CONF/cppcheck.cfg"
    --inline-suppr --quiet -j"$JOBS" --suppress=readdirCalled
    --template='{file}:{line}: {severity}: {message} [{id}]')
nice cppcheck "${cpp_common[@]}" -Iinclude -Iuser -Itests -D__x86_64__ \
    user tests >"$OUT/cppcheck" 2>&1
nice cppcheck "${cpp_common[@]}" --suppress=arithOperationsOnVoidPointer \
    -Iinclude -I/usr/include/"$TRIPLET" -I/usr/include -D__bpf__ \
    -D__TARGET_ARCH_"$ARCH" bpf >>"$OUT/cppcheck" 2>&1
for f in user/*.[ch] tests/*.[ch] bpf/*.[ch]; do
    grep "^$f:" "$OUT/cppcheck" >"$OUT/one"
    report cppcheck "$f" "$OUT/one"
done
# a finding in a file not listed above (a header elsewhere) is one too
grep -v -E '^(user|tests|bpf)/[^/:]*:' "$OUT/cppcheck" >"$OUT/other"
[ ! -s "$OUT/other" ] || report cppcheck "(other files)" "$OUT/other"

# ---- clang-tidy: a run per translation unit, JOBS at a time
# A finding is a diagnostic with its notes.  Those located in build/ are
# dropped: the skeletons are bpftool's code, not ours, and its one
# finding there (clang-analyzer-unix.Malloc: "potential leak of 's'" in
# NAME_bpf__create_skeleton) is false: the error path hands s to
# bpf_object__destroy_skeleton(), which frees it where the analyzer
# cannot see.  The exit status is not used, as it counts those too.
tidy() {
    local f=$1 out
    out="$OUT/tidy.${f//\//_}"
    shift
    nice clang-tidy --quiet --config-file="$CONF/clang-tidy.yaml" "$f" -- "$@" \
        >"$out.raw" 2>&1
    awk -v root="$ROOT/" '
        BEGIN { keep = 1 }
        # its tallies, which count the dropped findings too
        /^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$/ { next }
        /^[0-9]+ warnings? treated as errors?$/ { next }
        /^Suppressed [0-9]+ warnings|^Use -header-filter/ { next }
        /^[^ ].*:[0-9]+:[0-9]+: (error|warning): / {
            path = $0
            sub(/:[0-9]+:[0-9]+: .*/, "", path)
            sub("^" root, "", path)
            keep = path !~ /^build\//
        }
        keep { print }
    ' "$out.raw" >"$out"
}
running=0
for f in "${user_c[@]}" "${bpf_c[@]}"; do
    if [[ $f == bpf/* ]]; then tidy "$f" "${BFL[@]}" &
    else tidy "$f" "${CFL[@]}" &
    fi
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
done
wait
for f in "${user_c[@]}" "${bpf_c[@]}"; do
    report clang-tidy "$f" "$OUT/tidy.${f//\//_}"
done

# ---- shellcheck
for f in scripts/*.sh tests/*.sh tests/integration/*.sh .ci/run; do
    [ -e "$f" ] || continue
    nice shellcheck -x -P SCRIPTDIR -S warning -f gcc "$f" >"$OUT/one" 2>&1
    report shellcheck "$f" "$OUT/one"
done

echo "lint: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
