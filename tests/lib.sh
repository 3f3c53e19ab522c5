# shellcheck shell=bash
# lib.sh - helpers for the integration tests (sourced).
#
# A test prints one "PASS name" or "FAIL name: why" line per check; the
# runner counts them.  Every test makes its own namespaces with a unique
# prefix and removes them on exit, whatever happens.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TCPF="$ROOT/build/tcpflags"
PY=/usr/bin/python3          # Debian's python, the one with scapy
# shellcheck source=../scripts/netns.sh
. "$ROOT/scripts/netns.sh"

T_FAILED=0
T_LABS=()

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; T_FAILED=$((T_FAILED + 1)); }

# check_eq NAME GOT WANT
check_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

# check_rc NAME WANT_RC CMD...: run CMD, compare its exit code.
check_rc() {
    local name=$1 want=$2 rc=0
    shift 2
    "$@" >/dev/null 2>&1 || rc=$?
    check_eq "$name" "$rc" "$want"
}

# new_lab: a fresh lab with a unique prefix, removed at exit; sets LAB.
new_lab() {
    LAB="tft$$-${#T_LABS[@]}"
    T_LABS+=("$LAB")
    lab_up "$LAB"
}

t_cleanup() {
    local l
    for l in "${T_LABS[@]}"; do
        in_ns "$l-srv" "$TCPF" detach "$LAB_SRV_IF" >/dev/null 2>&1 || true
        in_ns "$l-cli" "$TCPF" detach "$LAB_CLI_IF" >/dev/null 2>&1 || true
        # a server started in the lab dies with it
        ip netns pids "$l-srv" 2>/dev/null | xargs -r kill 2>/dev/null || true
        ip netns pids "$l-cli" 2>/dev/null | xargs -r kill 2>/dev/null || true
        lab_down "$l"
    done
}
trap t_cleanup EXIT

# srv / cli CMD...: run in the lab's server or client namespace.
srv() { in_ns "$LAB-srv" "$@"; }
cli() { in_ns "$LAB-cli" "$@"; }

# json_get JSON PYEXPR: evaluate PYEXPR with the parsed object as `j`.
json_get() {
    "$PY" -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# t_done: the exit code of the test script.
t_done() { [ "$T_FAILED" -eq 0 ]; }
