# shellcheck shell=bash
# lib.sh - helpers for the integration tests (sourced).
#
# A test prints one "PASS name" or "FAIL name: why" line per check; the
# runner counts them.  Every test makes its own namespaces with a unique
# prefix and removes them on exit, whatever happens.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# the build whose programs the tests run: tests/run.sh sets TCPF_BUILD
# (build/san for `make SAN=1 test`)
BUILD=${TCPF_BUILD:-$ROOT/build}
TCPF="$BUILD/tcpflags"
# SANITIZED=1: its programs carry ASan (make SAN=1), whose allocator and
# quarantine count in their memory figures
SANITIZED=0
# shellcheck disable=SC2034  # the tests' (55-exporter-load)
if grep -q __asan_init "$TCPF" 2>/dev/null; then SANITIZED=1; fi
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

# t_tmp NAME: TMP, a scratch directory of the test's own
# (/tmp/tcpf-NAME.XXXXXX), and the exit trap that undoes everything: the
# test's t_undo first when it defines one (what it made beyond its labs),
# then the labs, then TMP (KEEP_TMP=1 keeps it, for a look, and says where).
t_tmp() {
    TMP=$(mktemp -d "/tmp/tcpf-$1.XXXXXX")
    trap t_exit EXIT
}
t_exit() {
    if declare -F t_undo >/dev/null; then t_undo; fi
    t_cleanup
    if [ -n "${KEEP_TMP:-}" ]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
}

# srv / cli CMD...: run in the lab's server or client namespace.
srv() { in_ns "$LAB-srv" "$@"; }
cli() { in_ns "$LAB-cli" "$@"; }

# cookie_client FIRST LAST: the client side of a lab where the guard's
# cookies work: an XDP pass program on its veth (veth delivers XDP_TX
# frames only to a peer with one) and the addresses 198.19.0.FIRST..LAST
# and 2001:2:0:1::FIRST..LAST, so that each connection can come from a
# source of its own (one that completed a handshake is verified).
cookie_client() {
    local i
    cli ip link set dev "$LAB_CLI_IF" xdpdrv obj "$BUILD/empty.bpf.o" sec xdp
    for i in $(seq "$1" "$2"); do
        cli ip addr add "198.19.0.$i/24" dev "$LAB_CLI_IF"
        cli ip addr add "2001:2:0:1::$i/64" dev "$LAB_CLI_IF" nodad
    done
}

# json_get JSON PYEXPR: evaluate PYEXPR with the parsed object as `j`.
json_get() {
    "$PY" -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- shared by the integration tests (run needs the test's $TMP) ----

# run NS CMD...: run CMD in namespace NS; sets RC, OUT, ERR.
# shellcheck disable=SC2034  # OUT is the test's
run() {
    local ns=$1
    shift
    RC=0
    in_ns "$ns" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
    OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
}

# gj PYEXPR: evaluate PYEXPR over `guard $IF --json` (the server's) as j
gj() {
    local out
    out=$(srv "$TCPF" guard "$IF" --json)
    json_get "$out" "$1"
}
# counter NAME: one of the guard's counters
counter() { gj "j['counters']['$1']"; }

# check_has NAME TEXT WORD...: TEXT contains every WORD (any case).
check_has() {
    local name=$1 text=$2 w
    shift 2
    for w in "$@"; do
        if ! grep -qiF -- "$w" <<<"$text"; then
            fail "$name" "'$w' not in: ${text:-<empty>}"
            return
        fi
    done
    pass "$name"
}

# check_true NAME WHY CMD...: CMD succeeds.
check_true() {
    local name=$1 why=$2
    shift 2
    if "$@"; then pass "$name"; else fail "$name" "$why"; fi
}

# check_err NAME WANT_RC WORD...: the last run exited WANT_RC with exactly
# one stderr line, "tcpflags: ...", holding every WORD.
check_err() {
    local name=$1 want=$2
    shift 2
    check_eq "$name: exit code" "$RC" "$want"
    if [ -z "$ERR" ] || [ "$(wc -l <<<"$ERR")" -ne 1 ] ||
        [[ $ERR != "tcpflags: "* ]]; then
        fail "$name: one 'tcpflags: ' line on stderr" "stderr: ${ERR:-<empty>}"
    else
        pass "$name: one 'tcpflags: ' line on stderr"
    fi
    [ $# -gt 0 ] && check_has "$name: message" "$ERR" "$@"
}

# check_usage NAME WORD...: the last run was a usage error: exit 2, and the
# first stderr line is "tcpflags: ..." holding every WORD (a usage synopsis
# may follow it).
check_usage() {
    local name=$1 first
    shift
    check_eq "$name: exit code" "$RC" 2
    first=$(head -n 1 <<<"$ERR")
    if [[ $first != "tcpflags: "* ]]; then
        fail "$name: stderr starts 'tcpflags: '" "stderr: ${ERR:-<empty>}"
    else
        pass "$name: stderr starts 'tcpflags: '"
    fi
    [ $# -gt 0 ] && check_has "$name: message" "$first" "$@"
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
    local n=$(($1 * 10))
    shift
    while ! "$@" >/dev/null 2>&1; do
        n=$((n - 1))
        [ "$n" -gt 0 ] || return 1
        sleep 0.1
    done
}

# xdp_of NS DEV: "MODE ID NAME" of the XDP program on DEV, or "none".
xdp_of() {
    in_ns "$1" ip -j link show dev "$2" | "$PY" -c 'import json, sys
l = json.load(sys.stdin)[0]
x = l.get("xdp")
if not x or "prog" not in x:
    print("none")
else:
    m = {1: "native", 2: "skb", 3: "hw"}.get(x["mode"], str(x["mode"]))
    print(m, x["prog"]["id"], x["prog"]["name"])'
}

# t_done: the exit code of the test script.
t_done() { [ "$T_FAILED" -eq 0 ]; }
