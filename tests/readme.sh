#!/bin/bash
# readme.sh - the README against the tree: every file of bpf/, include/,
# user/, scripts/ and tests/ has its line in the README's "Layout" (a
# module's .h goes with its .c), and every file the Layout names exists.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
failed=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

layout=$(awk '/^### Layout/ { on = 1; next } on && /^##/ { exit } on' README.md)
[ -n "$layout" ] || { echo "FAIL layout: README.md has no '### Layout' section"; exit 1; }

files=$(git ls-files --cached --others --exclude-standard bpf include user scripts tests 2>/dev/null)
[ -n "$files" ] || files=$(find bpf include user scripts tests -type f | sort)
for f in $files; do
    case "$f" in tests/regress/*) continue ;; esac
    if grep -qF "\`$f\`" <<<"$layout"; then
        pass "layout names $f"
    elif [[ $f == *.h ]] && grep -qF "\`${f%.h}.c\`" <<<"$layout" && [ -e "${f%.h}.c" ]; then
        pass "layout names $f (with ${f%.h}.c)"
    else
        fail "layout names $f" "README.md's Layout has no line for it"
    fi
done
for f in $(grep -oE '`(bpf|include|user|scripts|tests)/[A-Za-z0-9_./-]*`' <<<"$layout" | tr -d '`' | sort -u); do
    if [ -e "$f" ]; then pass "layout's $f exists"; else fail "layout's $f exists" "no such file"; fi
done
[ "$failed" -eq 0 ]
