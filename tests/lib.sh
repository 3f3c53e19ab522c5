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
# One queue each way (a veth's default, made sure of): frames from any CPU
# meet the receiver's XDP program in the order they were sent, which
# lab_sync relies on.
new_lab() {
    LAB="tft$$-${#T_LABS[@]}"
    T_LABS+=("$LAB")
    lab_up "$LAB"
    in_ns "$LAB-cli" ethtool -L "$LAB_CLI_IF" rx 1 tx 1 2>/dev/null
    in_ns "$LAB-srv" ethtool -L "$LAB_SRV_IF" rx 1 tx 1 2>/dev/null
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
# When JSON does not parse (a command that failed and printed nothing) or
# PYEXPR fails, it prints a line of its own, unlike any other call's, and
# returns 1: two failed reads never compare equal.
json_get() {
    "$PY" -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null ||
        { echo "<json_get failed $BASHPID.$RANDOM: '${1:0:40}'>"; return 1; }
}

# check_same NAME GOT WANT: two outputs of commands are equal, and not
# empty (two failures print nothing alike).
check_same() {
    if [ -z "$2" ] || [ -z "$3" ]; then
        fail "$1" "an output is empty: got '$2', want '$3'"
    else
        check_eq "$1" "$2" "$3"
    fi
}

# ---- waiting for events, not for time: each deadline is generous, only
# there to end a test whose event never comes

# ns_cookie NS: the namespace's cookie, read independently of tcpflags.
ns_cookie() {
    in_ns "$1" "$PY" -c 'import socket, struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
print(struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, 71, 8))[0])'
}

# reaper_ticks NS: the passes NS's reaper has made, read from its pinned
# tcpf_ctl with bpftool (not through tcpflags), or "none".
reaper_ticks() {
    bpftool -j map lookup pinned "/sys/fs/bpf/tcpflags/ns$(ns_cookie "$1")/tcpf_ctl" \
        key 0 0 0 0 2>/dev/null |
        "$PY" -c 'import json, sys; print(json.load(sys.stdin)["formatted"]["value"]["ticks"])' \
            2>/dev/null || echo none
}

# wait_tick NS: until a pass of the reaper has begun after this call (two
# more have ended: the next may have been under way), so the gauges it
# recounts (`stats` states, half_open) hold everything before the call.
wait_tick() {
    local t0
    t0=$(reaper_ticks "$1")
    if ! [[ $t0 =~ ^[0-9]+$ ]]; then
        fail "reaper of $1" "cannot read its ticks: $t0"
        return 1
    fi
    wait_for 30 eval '[ "$(reaper_ticks '"$1"')" -ge '"$((t0 + 2))"' ] 2>/dev/null' ||
        { fail "reaper of $1" "not two passes in 30 s"; return 1; }
}

# tcp_settled NS...: no TCP socket of these namespaces is midway (LISTEN
# and TIME-WAIT only): every segment their connections sent has arrived.
tcp_settled() {
    local ns
    for ns in "$@"; do
        in_ns "$ns" ss -Htan | grep -qvE '^(LISTEN|TIME-WAIT) ' && return 1
    done
    return 0
}

# wait_settled NAME NS...: wait for tcp_settled; a FAIL line if it never is.
wait_settled() {
    local name=$1
    shift
    wait_for 30 tcp_settled "$@" ||
        fail "$name: connections settle" "$(for ns; do in_ns "$ns" ss -Htan; done | grep -vE '^(LISTEN|TIME-WAIT) ' | head -n 3)"
}

# udp_noports NS: datagrams NS received for a port nobody holds.
udp_noports() { in_ns "$1" awk '/^Udp: [0-9]/ { print $3 }' /proc/net/snmp; }

# lab_sync: marker datagrams from the lab's client to the server's discard
# port (no rule and no TCP count touches them), one sent from each CPU,
# and wait until the server's stack has had them all: the frames sent
# before them have been through the server's XDP program and its
# captures' taps (native XDP: the veth's one ring keeps order; generic:
# each CPU's backlog does).  Their payload, $MARK, shows where they are in
# a capture (wait_mark).
MARK_N=0
lab_sync() {
    local n0 cpu ncpu
    MARK_N=$((MARK_N + 1))
    MARK="tcpf-mark-$$-$MARK_N"
    ncpu=$(nproc)
    n0=$(udp_noports "$LAB-srv")
    for ((cpu = 0; cpu < ncpu; cpu++)); do
        cli taskset -c "$cpu" bash -c 'echo "$1" >"/dev/udp/$2/9"' _ "$MARK" "$LAB_SRV4"
    done
    wait_for 30 eval '[ "$(udp_noports "$LAB-srv")" -ge '"$((n0 + ncpu))"' ]' ||
        fail "lab $LAB: the marker datagrams arrived" "not in 30 s"
}

# wait_mark FILE...: until each capture file holds the last lab_sync's
# markers (tcpdump -U writes a packet as it reads it; its filter must take
# UDP to port 9).
wait_mark() {
    local f ncpu
    ncpu=$(nproc)
    for f in "$@"; do
        wait_for 30 eval '[ "$(grep -aoF "$MARK" "'"$f"'" | wc -l)" -ge '"$ncpu"' ]' ||
            fail "capture $(basename "$f"): the markers reached it" "not in 30 s"
    done
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

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds; 1 if it
# has not after SECONDS (polls, so under load the deadline stretches).
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

# needs TOOL...: each one there, else a FAIL line for it and the suite ends
needs() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || fail "$tool" "missing (install-deps.sh, make)"
    done
    [ "$T_FAILED" -eq 0 ] || exit 1
}

# web_server ADDR: a static HTTP server (index.html: hello) in the lab's
# server namespace on ADDR port $HTTP, listening when it returns
web_server() {
    mkdir -p "$TMP/www"
    echo hello >"$TMP/www/index.html"
    : >"$TMP/http.log"
    srv "$PY" -m http.server --bind "$1" --directory "$TMP/www" "$HTTP" >"$TMP/http.log" 2>&1 &
    check_true "http.server listening on :$HTTP" "$(cat "$TMP/http.log")" \
        wait_for 30 eval "srv ss -Hltn 'sport = :$HTTP' | grep -q LISTEN"
}
