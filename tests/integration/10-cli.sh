#!/bin/bash
# 10-cli.sh - the tcpflags command line end to end, on veth labs:
#   attach / status / stats / reset / detach with real TCP traffic,
#   re-attach and mode changes keeping the pinned counters, --keep-maps,
#   attach over maps pinned with another layout and no BTF refused,
#   two interfaces at once, the same interface name in two namespaces,
#   stats --watch, and every error path (exit code and one-line message),
#   including bpffs missing (mounted by tcpflags itself, or not mountable).
# Everything runs inside the labs' namespaces; nothing touches the host's
# interfaces.  Run as root: bash tests/integration/10-cli.sh
# (the bash -c scripts below expand their own variables:)
# shellcheck disable=SC2016
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

PORT=8080
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
OUTER_PID=$$
t_tmp cli

# ---------------------------------------------------------------- helpers

# tf NS ARGS...: run tcpflags in NS; sets RC, OUT, ERR.
tf() {
    local ns=$1
    shift
    run "$ns" "$TCPF" "$@"
}





# ns_pins NS (ns_cookie: tests/lib.sh): NS's pin directory; if_pins NS IF: one interface's.
ns_pins() { echo "/sys/fs/bpf/tcpflags/ns$(ns_cookie "$1")"; }
if_pins() { echo "$(ns_pins "$1")/$2"; }

# stats NS IFACE: stats --json without "states": those gauges are recounted
# by the in-kernel reaper once a second, so they may move between two reads
# with no new traffic (a connection entering TIME_WAIT shows up at the tick).
# When the command fails: a line saying so, unlike any other's, so that two
# failed reads never compare equal.
stats() {
    in_ns "$1" "$TCPF" stats "$2" --json 2>/dev/null |
        "$PY" -c 'import json,sys; j=json.load(sys.stdin); j.pop("states",None); print(json.dumps(j))' \
            2>/dev/null || echo "<stats $2 in $1 failed $BASHPID.$RANDOM>"
}
# counters JSON: the counting part of a stats object, for comparisons.
counters() { json_get "$1" '(j["packets"], j["malformed"], j["flags"])'; }
total() { json_get "$1" 'j["packets"]["total"]'; }
tcp() { json_get "$1" 'j["packets"]["tcp"]'; }
# flag JSON NAME: packets of one flag pattern ("SYN", "SYN|ACK", ...).
flag() {
    json_get "$1" "sum(f['packets'] for f in j['flags'] if f['name'] == '$2')"
}

# att NS IF FIELD: a field of IF's entry in status --json, or "absent".
att() {
    local st
    st=$(in_ns "$1" "$TCPF" status --json 2>/dev/null)
    json_get "$st" "([a['$3'] for a in j['attachments'] if a['interface'] == '$2'] + ['absent'])[0]" 2>/dev/null ||
        echo "status --json did not parse: $st"
}

mac() { in_ns "$1" ip -j link show dev "$2" | json_get "$(cat)" 'j[0]["address"]'; }

# quiet_lab LAB: no IPv6 chatter and no ARP on the veth, so that only the
# test's own connections cross it and counts can be compared exactly.
quiet_lab() {
    local l=$1 s
    for s in cli srv; do
        in_ns "$l-$s" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1
    done
    ip -n "$l-cli" neigh replace "$LAB_SRV4" dev "$LAB_CLI_IF" nud permanent \
        lladdr "$(mac "$l-srv" "$LAB_SRV_IF")"
    ip -n "$l-srv" neigh replace "$LAB_CLI4" dev "$LAB_SRV_IF" nud permanent \
        lladdr "$(mac "$l-cli" "$LAB_CLI_IF")"
}

# serve LAB: an HTTP server on the lab's server address.
serve() {
    in_ns "$1-srv" "$PY" -m http.server "$PORT" --bind "$LAB_SRV4" \
        --directory "$TMP" >/dev/null 2>&1 &
}
wait_listen() { wait_for 30 eval "[ -n \"\$(in_ns '$1-srv' ss -Hltn 'sport = :$PORT')\" ]"; }

# get NAME LAB: one HTTP request from LAB's client; waits until it is over:
# no TCP connection of the lab waits for a segment (every segment sent has
# been received, so counted).
get() {
    local code
    code=$(in_ns "$2-cli" curl -s -o /dev/null --max-time 10 \
        -w '%{http_code}' "http://$LAB_SRV4:$PORT/")
    check_eq "$1" "$code" 200
    wait_settled "$1" "$2-cli" "$2-srv"
}

# ----------------------------------------------------------------- set-up

echo "# 10-cli: labs, servers"
echo "hello" >"$TMP/index.html"
new_lab
A=$LAB
quiet_lab "$A"
new_lab
B=$LAB
quiet_lab "$B"
LAB=$A
serve "$A"
serve "$B"
check_true "http server up in $A" "nothing listens on :$PORT" wait_listen "$A"
check_true "http server up in $B" "nothing listens on :$PORT" wait_listen "$B"
SRV_A="$A-srv" CLI_A="$A-cli" SRV_B="$B-srv"
IF=$LAB_SRV_IF
PIN_A=$(if_pins "$SRV_A" "$IF")
PIN_B=$(if_pins "$SRV_B" "$IF")
PIN_CLI=$(if_pins "$CLI_A" "$LAB_CLI_IF")

# ------------------------------------------------------- help, bad command

tf "$SRV_A" --help
check_eq "--help: exit code" "$RC" 0
check_has "--help: usage on stdout" "$OUT" usage attach detach status stats reset
check_has "--help: stats says --watch SECONDS, as stats --help does" \
    "$(grep '^  stats ' <<<"$OUT")" "--watch SECONDS"
tf "$SRV_A" bogus
check_usage "unknown command" bogus

# ---------------------------------------------------------- attach, status

echo "# attach, status"
tf "$SRV_A" attach "$IF"
check_eq "attach: exit code" "$RC" 0
check_has "attach: says attached, native, new counters" "$OUT" \
    "attached to $IF" native new
read -r mode P1 name <<<"$(xdp_of "$SRV_A" "$IF")"
check_eq "attach: ip link shows tcpf_xdp in native (drv) mode" "$mode $name" "native tcpf_xdp"
check_true "attach: pins in $PIN_A" "no tcpf_stats/tcpf_meta there" \
    test -e "$PIN_A/tcpf_stats" -a -e "$PIN_A/tcpf_meta"

tf "$SRV_A" status
check_eq "status: exit code" "$RC" 0
line=$(grep "^$IF " <<<"$OUT")
check_has "status: $IF attached, native, prog id $P1" "$line" attached native " $P1 "
tf "$SRV_A" status --json
check_eq "status --json: exit code" "$RC" 0
check_eq "status --json: lists only $IF" \
    "$(json_get "$OUT" '[a["interface"] for a in j["attachments"]]')" "['$IF']"
check_eq "status --json: state, mode, prog id, pin dir" \
    "$(json_get "$OUT" '[(a["state"], a["mode"], a["prog_id"], a["pin_dir"]) for a in j["attachments"]][0]')" \
    "('attached', 'native', $P1, '$PIN_A')"
tf "$CLI_A" status --json
check_eq "status --json in the client namespace: nothing" "$OUT" '{"attachments": []}'

S=$(stats "$SRV_A" "$IF")
check_eq "stats --json: interface and mode" \
    "$(json_get "$S" '(j["interface"], j["mode"])')" "('$IF', 'native')"
check_eq "stats --json: no TCP yet" "$(tcp "$S")" 0

# ------------------------------------------------------------------ traffic

echo "# traffic"
get "traffic: GET 1" "$A"
S=$(stats "$SRV_A" "$IF")
check_eq "traffic: one SYN counted" "$(flag "$S" SYN)" 1
check_eq "traffic: no SYN|ACK on the server's ingress" "$(flag "$S" 'SYN|ACK')" 0
check_true "traffic: TCP counted (>= 4 segments)" "tcp=$(tcp "$S")" \
    test "$(tcp "$S")" -ge 4
check_eq "traffic: all of it IPv4 TCP" "$(json_get "$S" 'j["packets"]["ipv4_tcp"] == j["packets"]["tcp"] == j["packets"]["total"]')" True
tf "$SRV_A" stats "$IF"
check_eq "stats (table): exit code" "$RC" 0
check_has "stats (table): names the interface and SYN" "$OUT" "$IF" native SYN

# ------------------------------------------------------ re-attach, same mode

echo "# re-attach"
before=$(stats "$SRV_A" "$IF")
tf "$SRV_A" attach "$IF"
check_eq "re-attach: exit code" "$RC" 0
check_has "re-attach: says re-attached, kept counters" "$OUT" re-attached kept
after=$(stats "$SRV_A" "$IF")
check_same "re-attach: stats --json identical" "$after" "$before"
read -r mode P2 name <<<"$(xdp_of "$SRV_A" "$IF")"
check_eq "re-attach: still native tcpf_xdp" "$mode $name" "native tcpf_xdp"
check_true "re-attach: new prog id ($P1 -> $P2)" "prog id unchanged" test "$P2" != "$P1"
check_eq "re-attach: status prog id follows" "$(att "$SRV_A" "$IF" prog_id)" "$P2"
get "re-attach: GET 2" "$A"
check_eq "re-attach: the new program counts on (SYN 2)" \
    "$(flag "$(stats "$SRV_A" "$IF")" SYN)" 2

# ------------------------------------------------------- re-attach, skb mode

echo "# --mode skb"
before=$(stats "$SRV_A" "$IF")
tf "$SRV_A" attach "$IF" --mode skb
check_eq "attach --mode skb: exit code" "$RC" 0
check_has "attach --mode skb: says skb, kept counters" "$OUT" skb kept
after=$(stats "$SRV_A" "$IF")
check_same "attach --mode skb: counters kept" "$(counters "$after")" "$(counters "$before")"
check_eq "attach --mode skb: stats mode" "$(json_get "$after" 'j["mode"]')" skb
check_eq "attach --mode skb: status mode and state" \
    "$(att "$SRV_A" "$IF" mode) $(att "$SRV_A" "$IF" state)" "skb attached"
read -r mode P3 name <<<"$(xdp_of "$SRV_A" "$IF")"
check_eq "attach --mode skb: ip link shows generic XDP" "$mode $name" "skb tcpf_xdp"
check_eq "attach --mode skb: status prog id" "$(att "$SRV_A" "$IF" prog_id)" "$P3"
get "skb: GET 3" "$A"
check_eq "skb: counts on (SYN 3)" "$(flag "$(stats "$SRV_A" "$IF")" SYN)" 3

# -------------------------------------------------- detach --keep-maps

echo "# detach --keep-maps"
before=$(stats "$SRV_A" "$IF")
tf "$SRV_A" detach "$IF" --keep-maps
check_eq "detach --keep-maps: exit code" "$RC" 0
check_has "detach --keep-maps: says counters kept" "$OUT" "detached from $IF" kept
check_eq "detach --keep-maps: no XDP program left" "$(xdp_of "$SRV_A" "$IF")" none
check_true "detach --keep-maps: pins kept" "pins gone from $PIN_A" \
    test -e "$PIN_A/tcpf_stats" -a -e "$PIN_A/tcpf_meta"
check_eq "detach --keep-maps: status says detached" "$(att "$SRV_A" "$IF" state)" detached
check_same "detach --keep-maps: stats still readable, unchanged" \
    "$(counters "$(stats "$SRV_A" "$IF")")" "$(counters "$before")"
get "detached: GET (not counted)" "$A"
check_same "detached: nothing counted" \
    "$(counters "$(stats "$SRV_A" "$IF")")" "$(counters "$before")"
tf "$SRV_A" attach "$IF"
check_eq "attach after --keep-maps: exit code" "$RC" 0
check_has "attach after --keep-maps: kept counters" "$OUT" kept
after=$(stats "$SRV_A" "$IF")
check_same "attach after --keep-maps: starts from the kept values" \
    "$(counters "$after")" "$(counters "$before")"
check_eq "attach after --keep-maps: native again" "$(json_get "$after" 'j["mode"]')" native
get "kept: GET 4" "$A"
after=$(stats "$SRV_A" "$IF")
check_eq "attach after --keep-maps: counting continues (SYN 4)" "$(flag "$after" SYN)" 4
check_true "attach after --keep-maps: total grew" "$(total "$before") -> $(total "$after")" \
    test "$(total "$after")" -gt "$(total "$before")"

# -------------------------------------------------------------------- reset

echo "# reset"
tf "$SRV_A" reset "$IF"
check_eq "reset: exit code" "$RC" 0
S=$(stats "$SRV_A" "$IF")
check_eq "reset: total 0" "$(total "$S")" 0
check_eq "reset: no flag pattern left" "$(json_get "$S" 'j["flags"]')" "[]"
check_eq "reset: no malformed left" "$(json_get "$S" 'sum(j["malformed"].values())')" 0
read -r mode P4 name <<<"$(xdp_of "$SRV_A" "$IF")"
check_eq "reset: still attached" "$(att "$SRV_A" "$IF" state) $mode $name" \
    "attached native tcpf_xdp"
get "reset: GET" "$A"
check_eq "reset: counts again from zero (SYN 1)" "$(flag "$(stats "$SRV_A" "$IF")" SYN)" 1

# -------------------------------------------------------------- stats --watch

echo "# stats --watch"
# nsenter execs tcpflags: $! is tcpflags itself
nsenter --net="/run/netns/$SRV_A" "$TCPF" stats "$IF" --watch 1 --json \
    >"$TMP/watch" 2>"$TMP/err" &
wpid=$!
check_true "stats --watch 1: prints again (a second line)" \
    "$(wc -l <"$TMP/watch") lines in 30 s" \
    wait_for 30 eval '[ "$(wc -l <"$TMP/watch")" -ge 2 ]'
kill -TERM "$wpid"
RC=0
wait "$wpid" || RC=$?
check_eq "stats --watch: exits 0 on SIGTERM" "$RC" 0
ok=$("$PY" -c 'import json, sys
ls = open(sys.argv[1]).read().splitlines()
print(all(json.loads(l)["interface"] == sys.argv[2] for l in ls) and len(ls) > 0)' \
    "$TMP/watch" "$IF" 2>&1)
check_eq "stats --watch: every line one JSON object" "$ok" True
check_eq "stats --watch: nothing on stderr" "$(cat "$TMP/err")" ""

# ------------------------------------------------------------------ not root

echo "# not root"
before=$(stats "$SRV_A" "$IF")
run "$SRV_A" "${NOBODY[@]}" "$TCPF" attach "$IF"
check_err "attach as nobody" 1 root "permission denied"
run "$SRV_A" "${NOBODY[@]}" "$TCPF" stats "$IF"
check_err "stats as nobody" 1 root "permission denied"
run "$SRV_A" "${NOBODY[@]}" "$TCPF" detach "$IF"
check_err "detach as nobody" 1 root "permission denied"
run "$SRV_A" "${NOBODY[@]}" "$TCPF" reset "$IF"
check_err "reset as nobody" 1 root "permission denied"
check_eq "not root: attachment untouched" "$(xdp_of "$SRV_A" "$IF")" "native $P4 tcpf_xdp"
check_same "not root: counters untouched" "$(stats "$SRV_A" "$IF")" "$before"

# -------------------------------------------------------- two interfaces

echo "# two interfaces"
tf "$SRV_A" reset "$IF"
tf "$CLI_A" attach "$LAB_CLI_IF"
check_eq "attach $LAB_CLI_IF (client ns): exit code" "$RC" 0
check_true "client pins in their own namespace dir" "$PIN_CLI vs $PIN_A" \
    test -e "$PIN_CLI/tcpf_stats" -a "$(dirname "$PIN_CLI")" != "$(dirname "$PIN_A")"
get "two interfaces: GET" "$A"
SS=$(stats "$SRV_A" "$IF")
SC=$(stats "$CLI_A" "$LAB_CLI_IF")
check_eq "two interfaces: server ingress SYN 1, SYN|ACK 0" \
    "$(flag "$SS" SYN) $(flag "$SS" 'SYN|ACK')" "1 0"
check_eq "two interfaces: client ingress SYN|ACK 1, SYN 0" \
    "$(flag "$SC" 'SYN|ACK') $(flag "$SC" SYN)" "1 0"
check_eq "two interfaces: client stats name its interface" \
    "$(json_get "$SC" 'j["interface"]')" "$LAB_CLI_IF"
check_eq "two interfaces: status in each namespace lists its own" \
    "$(att "$SRV_A" "$LAB_CLI_IF" state) $(att "$CLI_A" "$IF" state) $(att "$CLI_A" "$LAB_CLI_IF" state)" \
    "absent absent attached"
tf "$CLI_A" detach "$LAB_CLI_IF"
check_eq "detach $LAB_CLI_IF: exit code" "$RC" 0
check_true "detach $LAB_CLI_IF: its pins gone" "$PIN_CLI still there" test ! -e "$PIN_CLI"
check_eq "detach $LAB_CLI_IF: no XDP on it" "$(xdp_of "$CLI_A" "$LAB_CLI_IF")" none
check_same "detach $LAB_CLI_IF: server counters untouched" "$(stats "$SRV_A" "$IF")" "$SS"
check_eq "detach $LAB_CLI_IF: server still attached" "$(xdp_of "$SRV_A" "$IF")" "native $P4 tcpf_xdp"

# --------------------------------------------- same name, other namespace

echo "# same interface name in two namespaces"
SA=$(stats "$SRV_A" "$IF")
tf "$SRV_B" attach "$IF"
check_eq "attach $IF in $B: exit code" "$RC" 0
check_has "attach $IF in $B: new counters of its own" "$OUT" new "$PIN_B"
check_true "two namespaces: two pin dirs" "$PIN_A vs $PIN_B" \
    test "$PIN_A" != "$PIN_B" -a -e "$PIN_B/tcpf_stats" -a -e "$PIN_A/tcpf_stats"
check_eq "attach in $B: starts at zero TCP" "$(tcp "$(stats "$SRV_B" "$IF")")" 0
check_same "attach in $B: $A's counters untouched" "$(stats "$SRV_A" "$IF")" "$SA"
check_eq "attach in $B: $A's program untouched" "$(xdp_of "$SRV_A" "$IF")" "native $P4 tcpf_xdp"
check_eq "attach in $B: status in $A shows only its own" \
    "$(att "$SRV_A" "$IF" pin_dir)" "$PIN_A"
get "lab B: GET" "$B"
check_eq "lab B traffic: counted in $B (SYN 1)" "$(flag "$(stats "$SRV_B" "$IF")" SYN)" 1
check_same "lab B traffic: not in $A" "$(stats "$SRV_A" "$IF")" "$SA"
SB=$(stats "$SRV_B" "$IF")
get "lab A: GET" "$A"
SA=$(stats "$SRV_A" "$IF")
check_eq "lab A traffic: counted in $A (SYN 2)" "$(flag "$SA" SYN)" 2
check_same "lab A traffic: not in $B" "$(stats "$SRV_B" "$IF")" "$SB"
tf "$SRV_B" reset "$IF"
check_same "reset in $B: $A untouched" "$(stats "$SRV_A" "$IF")" "$SA"
tf "$SRV_B" detach "$IF"
check_eq "detach in $B: exit code" "$RC" 0
check_true "detach in $B: its pins gone" "$PIN_B still there" test ! -e "$PIN_B"
check_eq "detach in $B: its XDP gone" "$(xdp_of "$SRV_B" "$IF")" none
check_true "detach in $B: $A's pins kept" "$PIN_A gone" test -e "$PIN_A/tcpf_stats"
check_same "detach in $B: $A's counters untouched" "$(stats "$SRV_A" "$IF")" "$SA"
check_eq "detach in $B: $A still attached" \
    "$(att "$SRV_A" "$IF" state) $(xdp_of "$SRV_A" "$IF")" "attached native $P4 tcpf_xdp"

# ------------------------------------------------------------- plain detach

echo "# detach"
tf "$SRV_A" detach "$IF"
check_eq "detach: exit code" "$RC" 0
check_has "detach: says detached" "$OUT" "detached from $IF"
check_true "detach: pin dir removed" "$PIN_A still there" test ! -e "$PIN_A"
check_true "detach: namespace pin dir removed with its last interface" \
    "$(dirname "$PIN_A") still there" test ! -e "$(dirname "$PIN_A")"
check_eq "detach: no XDP on $IF" "$(xdp_of "$SRV_A" "$IF")" none
check_eq "detach: ip link shows no xdp" "$(in_ns "$SRV_A" ip link show dev "$IF" | grep -c xdp)" 0
tf "$SRV_A" status --json
check_eq "detach: status --json empty" "$OUT" '{"attachments": []}'
tf "$SRV_A" status
check_has "detach: status says nothing attached" "$OUT" "nothing attached"

# ------------------------------------------------------------- not attached

echo "# not attached"
tf "$SRV_A" stats "$IF"
check_err "stats, not attached" 1 "$IF" "not attached"
tf "$SRV_A" stats "$IF" --json
check_err "stats --json, not attached" 1 "$IF" "not attached"
check_eq "stats --json, not attached: nothing on stdout" "$OUT" ""
tf "$SRV_A" reset "$IF"
check_err "reset, not attached" 1 "$IF" "not attached"
tf "$SRV_A" detach "$IF"
check_err "detach, not attached" 1 "$IF" "not attached"
tf "$SRV_A" detach "$IF" --keep-maps
check_err "detach --keep-maps, not attached" 1 "$IF" "not attached"

# ------------------------------------------------------------- usage errors

echo "# usage errors"
tf "$SRV_A" attach nosuch0
check_err "attach unknown interface" 2 nosuch0 "no such interface"
tf "$SRV_A" stats nosuch0
check_err "stats unknown interface" 2 nosuch0 "no such interface"
tf "$SRV_A" reset nosuch0
check_err "reset unknown interface" 2 nosuch0 "no such interface"
tf "$SRV_A" detach nosuch0
check_err "detach unknown interface" 2 nosuch0 "no such interface"
tf "$SRV_A" attach "$IF" --mode turbo
check_usage "attach --mode turbo" turbo mode
check_eq "attach --mode turbo: nothing attached" "$(xdp_of "$SRV_A" "$IF")" none
tf "$SRV_A" attach "$IF" --mode
check_usage "attach --mode without a value"
tf "$SRV_A" attach
check_usage "attach without an interface"
tf "$SRV_A" stats
check_usage "stats without an interface"
tf "$SRV_A" reset
check_usage "reset without an interface"
tf "$SRV_A" detach
check_usage "detach without an interface"
tf "$SRV_A" attach "$IF" --bogus
check_usage "attach --bogus" --bogus
tf "$SRV_A" stats "$IF" --bogus
check_usage "stats --bogus" --bogus
tf "$SRV_A" status --bogus
check_usage "status --bogus" --bogus
tf "$SRV_A" stats "$IF" --watch 0
check_err "stats --watch 0" 2
check_eq "stats --watch 0: the message names the range" "$ERR" \
    "tcpflags: --watch: 0 is out of range 1..86400"
tf "$SRV_A" attach "$IF" --flows 63
check_eq "attach --flows 63: the range" "$RC $ERR" \
    "2 tcpflags: --flows: 63 is out of range 64..16777216"
tf "$SRV_A" attach "$IF" --timeout syn_recv=x
check_eq "attach --timeout syn_recv=x" "$RC $ERR" \
    "2 tcpflags: --timeout: 'x' is not a whole number"
tf "$SRV_A" attach "$IF" --timeout nosuch=1
check_eq "attach --timeout nosuch=1" "$RC $ERR" \
    "2 tcpflags: --timeout: unknown state 'nosuch' in 'nosuch=1'"
tf "$SRV_A" rule
check_usage "rule without a subcommand" "rule: missing subcommand"
tf "$SRV_A" rule bogus "$IF"
check_usage "rule bogus" "rule: unknown subcommand 'bogus'"
tf "$SRV_A" rule default "$IF" maybe
check_usage "rule default maybe" "invalid action" "maybe" "pass or drop"
tf "$SRV_A" --bogus
check_usage "tcpflags --bogus" --bogus
check_eq "usage errors: nothing attached, nothing pinned" \
    "$(xdp_of "$SRV_A" "$IF") $(test -e "$PIN_A" && echo pinned)" "none "

# ---------------------------------------------------- native mode on lo

echo "# native mode unsupported (lo)"
tf "$SRV_A" attach lo
check_err "attach lo (native)" 1 lo native "--mode skb"
check_eq "attach lo (native): no XDP left on lo" "$(xdp_of "$SRV_A" lo)" none
check_true "attach lo (native): no pin dir left for lo" "$(if_pins "$SRV_A" lo) exists" \
    test ! -e "$(if_pins "$SRV_A" lo)"
check_true "attach lo (native): no namespace pin dir left" "$(ns_pins "$SRV_A") exists" \
    test ! -e "$(ns_pins "$SRV_A")"
check_eq "attach lo (native): status empty" "$(in_ns "$SRV_A" "$TCPF" status --json)" \
    '{"attachments": []}'
tf "$SRV_A" stats lo
check_err "stats lo after the failed attach" 1 lo "not attached"
tf "$SRV_A" attach lo --mode skb
check_eq "attach lo --mode skb: exit code" "$RC" 0
check_eq "attach lo --mode skb: generic XDP on lo" "$(xdp_of "$SRV_A" lo | cut -d' ' -f1,3)" "skb tcpf_xdp"
tf "$SRV_A" detach lo
check_eq "detach lo: exit code" "$RC" 0
check_eq "detach lo: nothing left" \
    "$(xdp_of "$SRV_A" lo) $(test -e "$(if_pins "$SRV_A" lo)" && echo pinned)" "none "

# ----------------------------------------------------- foreign XDP program

echo "# foreign XDP program"
in_ns "$CLI_A" ip link set dev "$LAB_CLI_IF" xdp obj "$BUILD/empty.bpf.o" sec xdp
foreign=$(xdp_of "$CLI_A" "$LAB_CLI_IF")
check_eq "foreign: tcpf_empty attached with ip" "$(cut -d' ' -f1,3 <<<"$foreign")" "native tcpf_empty"
fid=$(cut -d' ' -f2 <<<"$foreign")
tf "$CLI_A" attach "$LAB_CLI_IF"
check_err "attach over a foreign program" 1 "$LAB_CLI_IF" "detach it first" tcpf_empty
check_eq "attach over a foreign program: it is still there" \
    "$(xdp_of "$CLI_A" "$LAB_CLI_IF")" "$foreign"
tf "$CLI_A" attach "$LAB_CLI_IF" --mode skb
check_err "attach --mode skb over a foreign program" 1 "$LAB_CLI_IF" "detach it first"
check_eq "attach --mode skb over a foreign program: it is still there" \
    "$(xdp_of "$CLI_A" "$LAB_CLI_IF")" "$foreign"
check_true "attach over a foreign program: nothing pinned" "$PIN_CLI exists" \
    test ! -e "$PIN_CLI"
tf "$CLI_A" detach "$LAB_CLI_IF"
check_err "detach with only a foreign program" 1 "not attached"
check_eq "detach with only a foreign program: it is still there" \
    "$(xdp_of "$CLI_A" "$LAB_CLI_IF")" "native $fid tcpf_empty"
in_ns "$CLI_A" ip link set dev "$LAB_CLI_IF" xdp off

# ------------------------------------------------------------------- bpffs

echo "# bpffs"
# In a private mount namespace, unmount /sys/fs/bpf (every stacked mount).
UNMOUNT='n=0
while [ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ]; do
    n=$((n + 1)); [ $n -gt 8 ] && exit 90
    umount /sys/fs/bpf || exit 90
done'
# Not mountable: /sys/fs read-only and empty, no bpf directory to mount on
# (without CAP_SYS_ADMIN attach is refused before it tries: 15-privileges).
RC=0
in_ns "$SRV_A" unshare -m --propagation private bash -c "$UNMOUNT"'
mount -t tmpfs -o ro,size=4k tcpf-ro /sys/fs || exit 90
exec "$@"' \
    _ "$TCPF" attach "$IF" >"$TMP/out" 2>"$TMP/err" || RC=$?
ERR=$(cat "$TMP/err")
if [ "$RC" = 90 ]; then
    fail "bpffs not mountable" "could not unmount /sys/fs/bpf in a private mount namespace"
else
    check_err "attach, bpffs missing and not mountable" 1 bpffs /sys/fs/bpf
fi
check_eq "bpffs not mountable: nothing attached" "$(xdp_of "$SRV_A" "$IF")" none
check_true "bpffs not mountable: host bpffs untouched" "$PIN_A exists" test ! -e "$PIN_A"

# root in a private mount namespace without bpffs: tcpflags mounts it.
RC=0
in_ns "$SRV_A" unshare -m --propagation private bash -c "$UNMOUNT"'
T=$1 TCPF=$2 IF=$3 PIN=$4 OUTER=$5
rc=0; "$TCPF" attach "$IF" >"$T/a.out" 2>"$T/a.err" || rc=$?; echo $rc >"$T/a.rc"
stat -f -c %T /sys/fs/bpf >"$T/fstype"
test -e "$PIN/tcpf_stats" && echo yes >"$T/pinned"
nsenter --mount="/proc/$OUTER/ns/mnt" sh -c '"'"'test -e "$1" && echo yes || echo no'"'"' _ "$PIN" >"$T/hostpinned"
"$TCPF" status --json >"$T/status" 2>&1
rc=0; "$TCPF" detach "$IF" >"$T/d.out" 2>"$T/d.err" || rc=$?; echo $rc >"$T/d.rc"
test -e "$PIN" && echo yes >"$T/leftover"
exit 0' _ "$TMP" "$TCPF" "$IF" "$PIN_A" "$OUTER_PID" >/dev/null 2>&1 || RC=$?
if [ "$RC" = 90 ]; then
    fail "bpffs mounted by attach" "could not unmount /sys/fs/bpf in a private mount namespace"
else
    check_eq "bpffs missing, root: attach exit code" "$(cat "$TMP/a.rc" 2>/dev/null)" 0
    check_eq "bpffs missing, root: attach stderr" "$(cat "$TMP/a.err" 2>/dev/null)" ""
    check_eq "bpffs missing, root: attach mounted bpffs" "$(cat "$TMP/fstype" 2>/dev/null)" bpf_fs
    check_eq "bpffs missing, root: pins in the new bpffs" "$(cat "$TMP/pinned" 2>/dev/null)" yes
    check_eq "bpffs missing, root: not in the host's bpffs" "$(cat "$TMP/hostpinned" 2>/dev/null)" no
    check_eq "bpffs missing, root: status sees it" \
        "$(json_get "$(cat "$TMP/status")" '[(a["interface"], a["state"]) for a in j["attachments"]]' 2>&1)" \
        "[('$IF', 'attached')]"
    check_eq "bpffs missing, root: detach exit code" "$(cat "$TMP/d.rc" 2>/dev/null)" 0
    check_eq "bpffs missing, root: detach removed the pins" "$(cat "$TMP/leftover" 2>/dev/null)" ""
fi
check_eq "bpffs missing, root: no XDP left" "$(xdp_of "$SRV_A" "$IF")" none

# ----------------------------------------- pins of another tcpflags version

echo "# pins of another layout (an upgrade over kept maps)"
XIF=tcpfx0
# its pins go even if this is cut short (the lab's own go in t_cleanup)
t_undo() { in_ns "$SRV_A" "$TCPF" detach "$XIF" >/dev/null 2>&1; }
in_ns "$SRV_A" ip link add "$XIF" type veth peer name tcpfx1
in_ns "$SRV_A" ip link set "$XIF" up
PIN_X=$(if_pins "$SRV_A" "$XIF")
tf "$SRV_A" attach "$XIF"
tf "$SRV_A" detach "$XIF" --keep-maps
# as an earlier build left it: the rule sets' map with another value size,
# and no BTF to carry it over by (80-upgrade.sh: a layout that has one)
rm -f "$PIN_X/tcpf_rulesets"
bpftool map create "$PIN_X/tcpf_rulesets" type array key 4 value 8 entries 2 \
    name tcpf_rulesets
npins=$(ls "$PIN_X" | wc -l)
tf "$SRV_A" attach "$XIF"
check_err "attach over another layout" 1 "pinned map tcpf_rulesets" \
    "another version" "tcpflags detach $XIF"
check_eq "attach over another layout: no XDP program" "$(xdp_of "$SRV_A" "$XIF")" none
check_eq "attach over another layout: the pins left as they were" \
    "$(ls "$PIN_X" | wc -l)" "$npins"
tf "$SRV_A" detach "$XIF"
check_eq "attach over another layout: detach exit code" "$RC" 0
check_true "attach over another layout: detach removed the pins" "$PIN_X is still there" \
    test ! -e "$PIN_X"
tf "$SRV_A" attach "$XIF"
check_eq "attach over another layout: attach after detach" "$RC" 0
tf "$SRV_A" detach "$XIF"
in_ns "$SRV_A" ip link del "$XIF"

t_done
