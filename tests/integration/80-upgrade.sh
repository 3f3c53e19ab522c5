#!/bin/bash
# 80-upgrade.sh - upgrades keep everything: attaching a build of another
# map layout carries the pins over and swaps the program in, with traffic
# flowing the whole time.
#
# Two builds of this tree: build/ and build/layout-test/ (make
# LAYOUT_TEST=1: a word in front of the counters, flow entries, rate-limit
# buckets, flow settings and rule sets, and a flow hash with a seed, so
# every connection moves to another bucket).  tcpflags on tcpf-srv with the
# rules `synfin drop`, and on tcpfx0, a second veth in its namespace, with
# --no-flows --ingress-only.  While the server is re-attached 20 times,
# alternating the two builds, with the same rules file (each re-attach
# moves tcpfx0 along: it shares the namespace's maps):
#   - 4 connections held open to an echo server, a line each every 20 ms;
#   - a new HTTP connection after another (tests/traffic.py conns);
#   - SYN|FIN frames to port 9999 at 400/s from the client's veth, and
#     100/s into tcpfx0 from its peer.
# Then, exactly:
#   - 0 SYN|FIN frames reach the server's stack (a packet socket after
#     XDP, which saw the other TCP frames), and the drop rule's hits and
#     drops['rule'] equal the frames sent;
#   - the counters' sum (stats total) equals the frames the client's veth
#     sent since the first attach, read when the link is quiet; the same
#     for tcpfx0;
#   - every line echoed, every HTTP request answered;
#   - each held connection is still ESTABLISHED in the flow table with at
#     least as many client packets as lines it sent (a reset entry starts
#     again from zero);
#   - every re-attach says it carried the maps of the other layout over,
#     and `status` of the other build names them before.
# Then an upgrade killed after its XDP swap: `status` says the program
# runs on maps not pinned, and the next attach completes it.
# Run as root: bash tests/integration/80-upgrade.sh
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

IF=$LAB_SRV_IF
XIF=tcpfx0 XPEER=tcpfx1
NEW="$BUILD/layout-test/tcpflags"
TRAFFIC="$ROOT/tests/traffic.py"
REATTACHES=20
t_tmp upgrade
new_lab

t_undo() {
    touch "$TMP/stop"
    # shellcheck disable=SC2046  # one word per job
    kill $(jobs -p) 2>/dev/null || true
    wait 2>/dev/null || true
}

if [ ! -x "$NEW" ]; then
    fail "layout-test build" "$NEW missing (make test-progs builds it)"
    exit 1
fi

# tx NS DEV: frames DEV has sent; total IFACE: frames tcpflags counted.
tx() { in_ns "$1" ip -j -s link show dev "$2" | json_get "$(cat)" "j[0]['stats64']['tx']['packets']"; }
total() { json_get "$(srv "$TCPF" stats "$1" --json)" "j['packets']['total']"; }
# pair_cli: "TX TOTAL", the frames the client's veth sent and those
# tcpflags counted on IF, read so that they cover the same frames: the
# ones in TX have been through XDP before TOTAL is read (lab_sync: markers
# sent after them, and nothing but the markers sent before TX is read
# again).  Reading TX, TOTAL and TX again until the two TX agree missed the
# frames still on their way to XDP.
pair_cli() {
    local a b t n=30 ncpu
    ncpu=$(nproc)
    while [ "$n" -gt 0 ]; do
        a=$(tx "$LAB-cli" "$LAB_CLI_IF")
        lab_sync
        t=$(total "$IF")
        b=$(tx "$LAB-cli" "$LAB_CLI_IF")
        if [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ && $t =~ ^[0-9]+$ ]] &&
            [ "$b" -eq $((a + ncpu)) ]; then
            echo "$b $t"
            return 0
        fi
        n=$((n - 1))
    done
    return 1
}

printf 'default pass\nsynfin drop\n' >"$TMP/rules"
srv_mac=$(srv ip -j link show dev "$IF" | json_get "$(cat)" "j[0]['address']")

run "$LAB-srv" "$TCPF" attach "$IF" --rules "$TMP/rules"
check_eq "attach the first layout" "$RC" 0
# a second interface on the namespace's shared maps, as it was attached
srv ip link add "$XIF" type veth peer name "$XPEER"
# no IPv6 (its router solicitations and reports): only the test's frames
# cross it, so that what XIF counted can be waited for to reach what its
# peer sent
srv sysctl -qw "net.ipv6.conf.$XIF.disable_ipv6=1" "net.ipv6.conf.$XPEER.disable_ipv6=1"
srv ip link set "$XIF" up
srv ip link set "$XPEER" up
x_mac=$(srv ip -j link show dev "$XIF" | json_get "$(cat)" "j[0]['address']")
run "$LAB-srv" "$TCPF" attach "$XIF" --no-flows --ingress-only
check_eq "attach the second interface, --no-flows --ingress-only" "$RC" 0
x_prog0=$(xdp_of "$LAB-srv" "$XIF")
# status names what the other build would carry over, and nothing for its own
run "$LAB-srv" "$NEW" status
check_has "status of the other build: pins of another layout" "$OUT" \
    "pinned in another layout, carried over by the next attach: tcpf_stats tcpf_rulesets tcpf_rhits tcpf_drops tcpf_ratelimit tcpf_flows tcpf_syns tcpf_ctl"
run "$LAB-srv" "$TCPF" status
check_true "status of this build: no pin of another layout" "$OUT" \
    test "$(grep -c "another layout" <<<"$OUT")" -eq 0
srv "$PY" "$TRAFFIC" echo 7000 &
srv "$PY" "$ROOT/scripts/httpd.py" 8080 &
listening() { srv ss -Htln "sport = :$1" | grep -q .; }
wait_for 30 listening 7000
wait_for 30 listening 8080

read -r tx0 total0 <<<"$(pair_cli)"
# nothing crosses the other link yet
xtx0=$(tx "$LAB-srv" "$XPEER")
xtotal0=$(total "$XIF")
check_true "a quiet moment to start counting" "the link never went quiet" \
    test -n "${tx0:-}" -a -n "$xtx0" -a -n "$xtotal0"

srv "$PY" "$TRAFFIC" sniff "$IF" 9999 "$TMP/stop" >"$TMP/sniff" &
cli "$PY" "$TRAFFIC" hold "$LAB_SRV4" 7000 4 "$TMP/stop" >"$TMP/hold" &
cli "$PY" "$TRAFFIC" conns "$LAB_SRV4" 8080 "$TMP/stop" >"$TMP/conns" &
cli "$PY" "$TRAFFIC" synfin "$LAB_CLI_IF" "$LAB_CLI4" "$LAB_SRV4" 9999 \
    "$srv_mac" 400 "$TMP/stop" >"$TMP/synfin" &
srv "$PY" "$TRAFFIC" synfin "$XPEER" 192.0.2.1 192.0.2.2 80 "$x_mac" 100 \
    "$TMP/stop" >"$TMP/xsynfin" &
wait_for 60 test -e "$TMP/stop.held" -a -e "$TMP/stop.sniffing"

carried=0 moved=0
for i in $(seq 1 "$REATTACHES"); do
    if [ $((i % 2)) -eq 1 ]; then tool=$NEW; else tool=$TCPF; fi
    run "$LAB-srv" "$tool" attach "$IF" --rules "$TMP/rules"
    if [ "$RC" -ne 0 ]; then
        fail "re-attach $i" "exit $RC: $ERR"
    elif grep -q "carried over to the new layout: .*tcpf_stats.*tcpf_flows" <<<"$OUT$ERR"; then
        carried=$((carried + 1))
    fi
    grep -q "re-attached to $XIF too" <<<"$OUT$ERR" && moved=$((moved + 1))
    sleep 0.2
done
check_eq "re-attaches that carried the maps of the other layout over" \
    "$carried" "$REATTACHES"
check_eq "re-attaches that moved $XIF along (it shares the flow table)" \
    "$moved" "$REATTACHES"
check_true "$XIF runs another program than at first" "still $x_prog0" \
    test "$(xdp_of "$LAB-srv" "$XIF")" != "$x_prog0"
run "$LAB-srv" "$TCPF" status
check_true "status: both attached, no pin of another layout" "$OUT" \
    test "$(grep -c " attached " <<<"$OUT")" -eq 2 -a \
    "$(grep -c "another layout" <<<"$OUT")" -eq 0

# the held connections' flow entries, before they close
srv "$TCPF" flows "$IF" --state established --json >"$TMP/flows"
touch "$TMP/stop"
# shellcheck disable=SC2046  # one word per job
wait $(jobs -p | tail -n 5) 2>/dev/null
for f in hold conns synfin xsynfin sniff; do
    wait_for 30 test -s "$TMP/$f" || fail "$f" "printed nothing"
done
hold=$(cat "$TMP/hold") conns=$(cat "$TMP/conns")
sent=$(json_get "$(cat "$TMP/synfin")" "j['sent']")
sniff=$(cat "$TMP/sniff")

check_eq "held connections: every line echoed" "$(json_get "$hold" "j['errors']")" 0
check_true "held connections: lines sent" "none sent: $hold" \
    test "$(json_get "$hold" "min(j['sent'])")" -gt 0
check_eq "HTTP connections: none failed" "$(json_get "$conns" "j['failed']")" 0
check_true "HTTP connections: some made" "none: $conns" \
    test "$(json_get "$conns" "j['ok']")" -gt 0
check_true "SYN|FIN frames sent" "none sent" test "${sent:-0}" -gt 0
check_eq "SYN|FIN frames that reached the stack" "$(json_get "$sniff" "j['synfin']")" 0
check_true "the packet socket saw the other TCP frames" "it saw none: $sniff" \
    test "$(json_get "$sniff" "j['tcp']")" -gt 0
rules=$(srv "$TCPF" rule list "$IF" --json)
check_eq "the drop rule's hits are the frames sent" \
    "$(json_get "$rules" "[r['packets'] for r in j['rules'] if r['text'] == 'synfin drop'][0]")" "$sent"
check_eq "drops by rule are the frames sent" \
    "$(json_get "$(srv "$TCPF" stats "$IF" --json)" "j['drops']['rule']")" "$sent"

# every held connection: still the entry made at its handshake
for p in $(json_get "$hold" "' '.join(map(str, j['ports']))"); do
    i=$(json_get "$hold" "j['ports'].index($p)")
    lines=$(json_get "$hold" "j['sent'][$i]")
    read -r st pk <<<"$("$PY" -c 'import json, sys
j = json.load(open(sys.argv[1]))
f = [f for f in j["flows"] if f["client"] == sys.argv[2]]
print(*(f[0]["state"], f[0]["packets"]["client"]) if f else ("absent", 0))' \
        "$TMP/flows" "$LAB_CLI4:$p")"
    check_eq "held connection :$p is established" "$st" established
    check_true "held connection :$p kept its packets ($pk >= $lines lines)" \
        "its entry restarted or stopped counting" test "${pk:-0}" -ge "$lines"
done

wait_for 30 bash -c "! ip netns pids $LAB-cli | grep -q ." || true
read -r tx1 total1 <<<"$(pair_cli)"
check_eq "frames counted = frames sent since the first attach" \
    "$((${total1:-0} - ${total0:-0}))" "$((${tx1:-0} - ${tx0:-0}))"
# the last of them reach XIF's XDP program after their sender is done:
# wait until it has counted as many (then it is exact, or it is not)
xtx1=$(tx "$LAB-srv" "$XPEER")
wait_for 30 eval '[ $(($(total "$XIF") - xtotal0)) -ge $((xtx1 - xtx0)) ]'
xtotal1=$(total "$XIF")
check_eq "$XIF: frames counted = frames sent" \
    "$((xtotal1 - xtotal0))" "$((xtx1 - xtx0))"
check_true "$XIF: frames sent" "none" test "$((xtx1 - xtx0))" -gt 0
echo "# $REATTACHES re-attaches: $sent SYN|FIN dropped, $(json_get "$conns" "j['ok']") HTTP connections, lines $(json_get "$hold" "j['sent']"), $((tx1 - tx0)) frames"

# an upgrade killed after its program went in, before the maps were
# pinned: status says what it counts is in no pin; the next attach
# completes it, and moves XIF along again
TCPF_CRASH_AT=attach:xdp run "$LAB-srv" "$NEW" attach "$IF" --rules "$TMP/rules"
check_eq "killed upgrade: killed after the XDP swap" "$RC" 137
run "$LAB-srv" "$TCPF" status
check_has "killed upgrade: status says its counts are in no pin" "$OUT" \
    "runs on maps that are not pinned (an upgrade was interrupted)"
run "$LAB-srv" "$NEW" attach "$IF" --rules "$TMP/rules"
check_eq "killed upgrade: the next attach completes it" "$RC" 0
run "$LAB-srv" "$NEW" status
check_true "killed upgrade: then no problem, both attached, one layout" "$OUT" \
    test "$(grep -c '!' <<<"$OUT")" -eq 0 -a \
    "$(grep -c " attached " <<<"$OUT")" -eq 2 -a \
    "$(grep -c "another layout" <<<"$OUT")" -eq 0

srv "$TCPF" detach "$IF" >/dev/null 2>&1
srv "$TCPF" detach "$XIF" >/dev/null 2>&1
t_done
