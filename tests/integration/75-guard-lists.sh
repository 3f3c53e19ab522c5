#!/bin/bash
# 75-guard-lists.sh - the guard's allow and deny lists on the lab, end to end.
#
# tcpflags on tcpf-srv, an XDP pass program on tcpf-cli (the guard's
# SYN-ACKs need one), a dual-stack HTTP server on 8080 in the srv
# namespace.  Client addresses of the lab's link, one per check:
#   bad input: a malformed prefix, an unknown list or action, --ttl
#     where it does not go, a prefix not in the list, not attached: exit
#     2 or 1, one line, the lists unchanged;
#   cookie: a denied source's curl fails, its SYNs (scapy, counted
#     exactly) are dropped with reason guard_deny, and so is its ACK; an
#     allowed source's curl succeeds over IPv4 and IPv6 with no cookie
#     sent; deny wins over a longer allowed prefix inside it;
#   auth: the lists stay; an allowed source passes at once, unchallenged;
#   monitor: a denied SYN is counted as would_drop and passed;
#   --ttl 2: listed with its expiry, matching; 3 s later neither, and a
#     permanent shorter prefix of the same list matches again;
#   stats --json, the exporter: the list sizes and counters;
#   a rules file's guard line: `allow @SET,PREFIX deny PREFIX` replaces
#     each list given (apply, attach --rules); an unknown set refuses the
#     file, nothing changed;
#   attach again: lists and counters stay; detach: the lists go.
# Run as root: bash tests/integration/75-guard-lists.sh
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

IF=$LAB_SRV_IF
TMP=$(mktemp -d /tmp/tcpf-glists.XXXXXX)
t_exit() {
    t_cleanup
    rm -rf "$TMP"
}
trap t_exit EXIT

tf() { run "$LAB-srv" "$TCPF" "$@"; }
counters() { gj "' '.join(str(j['counters'][k]) for k in '$*'.split())"; }
lists() { gj "'%d %d' % (j['lists']['allow'], j['lists']['deny'])"; }
deny_reason() { json_get "$(srv "$TCPF" stats "$IF" --json)" "j['drops']['guard_deny']"; }
listed() { srv "$TCPF" guard "$IF" "$1" list | tr '\n' ';'; }

new_lab
cli ip link set dev "$LAB_CLI_IF" xdpdrv obj "$BUILD/empty.bpf.o" sec xdp
for i in $(seq 50 60); do
    cli ip addr add "198.19.0.$i/24" dev "$LAB_CLI_IF"
    cli ip addr add "2001:2:0:1::$i/64" dev "$LAB_CLI_IF" nodad
done
SRVMAC=$(srv ip -br link show dev "$IF" | awk '{ print $3 }')

srv "$PY" "$ROOT/scripts/httpd.py" 8080 &
wait_for 30 srv "$PY" -c 'import socket; socket.create_connection(("198.19.0.2", 8080), 1)'

# send SRC FLAGS [N]: N (1) segments to 8080 from SRC, each from its own port
cat >"$TMP/send.py" <<'EOF'
import sys
from scapy.all import Ether, IP, IPv6, TCP, sendp, conf
conf.verb = 0
dev, mac, src, flags, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
ip = IPv6(src=src, dst="2001:2:0:1::2") if ":" in src else IP(src=src, dst="198.19.0.2")
sendp([Ether(dst=mac) / ip / TCP(sport=42000 + i, dport=8080, flags=flags, seq=1000, ack=2000)
       for i in range(n)], iface=dev)
EOF
# (and wait until they went through the server's XDP program)
send() {
    cli "$PY" "$TMP/send.py" "$LAB_CLI_IF" "$SRVMAC" "$1" "$2" "${3:-1}"
    lab_sync
}
# get SRC: curl's HTTP code and connect time from SRC, or its exit code
get() {
    local url=http://198.19.0.2:8080/ rc=0 out
    [[ $1 == *:* ]] && url='http://[2001:2:0:1::2]:8080/'
    out=$(cli curl -s -o /dev/null -w '%{http_code} %{time_connect}' \
        --max-time "${2:-10}" --interface "$1" "$url") || rc=$?
    if [ "$rc" -ne 0 ]; then echo "exit $rc"; else echo "$out"; fi
}
code_of() { get "$@" | cut -d' ' -f1; }

tf attach "$IF"
check_eq "attach" "$RC" 0
tf guard "$IF" cookie --port 8080
check_eq "guard cookie" "$RC" 0

# ---------------------------------------------------------- bad input
tf guard "$IF" deny add 198.19.0.50 10.0.0.300
check_err "a malformed prefix" 2 "invalid address" "10.0.0.300"
tf guard "$IF" deny add 198.19.0.0/33
check_err "a prefix length out of range" 2 "198.19.0.0/33"
tf guard "$IF" permit add 198.19.0.50
check_err "an unknown list" 2 "unknown list" "permit"
tf guard "$IF" allow append 198.19.0.50
check_err "an unknown action" 2 "unknown action" "append"
tf guard "$IF" allow add
check_err "add with no prefix" 2 "needs a PREFIX"
tf guard "$IF" allow list --ttl 5
check_err "--ttl with list" 2 "--ttl goes with add"
tf guard "$IF" allow add 198.19.0.50 --port 80
check_err "guard settings with a list" 2 "no guard settings"
# each setting of `guard --help` but --ttl and --json is one (they are
# compared member by member, not as the bytes of the struct)
declare -A VAL=([port]=80 [engage]=cookie [syn-rate]=10 [calm-rate]=0
    [ratio]=0.2 [calm]=3 [rate]=5 [burst]=5 [global-rate]=0 [auth-min]=2
    [auth-max]=3 [rotate]=20)
opts=$("$TCPF" guard --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
check_has "guard --help lists the settings" "$opts" --port --rate --rotate
for o in $opts; do
    case $o in --ttl | --json | --help) continue ;; esac
    if [ -z "${VAL[${o#--}]:-}" ]; then
        fail "guard setting $o with a list" "no value for it in this test"
        continue
    fi
    tf guard "$IF" deny add 198.19.0.50 "$o" "${VAL[${o#--}]}"
    check_err "guard setting $o with a list" 2 "no guard settings"
done
tf guard "$IF" allow add 198.19.0.50 --ttl -1
check_usage "a negative --ttl" "--ttl"
tf guard "$IF" cookie --ttl 0
check_err "--ttl 0 for the verified sources" 2 "--ttl" "out of range"
tf guard "$IF" deny del 198.19.0.99
check_err "del, not in the list" 1 "198.19.0.99/32 is not in the list"
run "$LAB-cli" "$TCPF" guard "$LAB_CLI_IF" deny add 198.19.0.50
check_err "not attached" 1 "not attached"
check_eq "after the errors: the lists are empty" "$(lists) $(listed deny)" "0 0 "

# ---------------------------------------------------------- cookie
tf guard "$IF" deny add 198.19.0.50 2001:2:0:1::50/128 198.19.0.58/31
check_eq "deny add: exit code" "$RC" 0
tf guard "$IF" allow add 198.19.0.51 2001:2:0:1::51 198.19.0.59
check_eq "allow add: exit code" "$RC" 0
check_eq "deny list" "$(listed deny)" \
    "198.19.0.50/32;198.19.0.58/31;2001:2:0:1::50/128;"
check_eq "allow list --json" \
    "$(json_get "$(srv "$TCPF" guard "$IF" allow list --json)" \
        "[(e['prefix'], e['expires_in']) for e in j['prefixes']]")" \
    "[('198.19.0.51/32', None), ('198.19.0.59/32', None), ('2001:2:0:1::51/128', None)]"
check_eq "guard --json: the list sizes" "$(lists)" "3 3"

send 198.19.0.50 S 3
send 2001:2:0:1::50 S 2
check_eq "cookie: denied SYNs (IPv4 3, IPv6 2) dropped and counted" \
    "$(counters deny_drops cookies_sent syns) $(deny_reason)" "5 0 0 5"
send 198.19.0.50 A
check_eq "cookie: a denied source's ACK is dropped as guard_deny, not as a bad cookie" \
    "$(counters deny_drops cookies_failed) $(deny_reason)" "6 0 6"
check_eq "cookie: a denied source's curl fails" "$(get 198.19.0.50 2)" "exit 28"
d=$(counter deny_drops)
r=$(deny_reason)
check_true "cookie: its SYNs counted as deny drops and guard_deny" \
    "deny_drops $d, guard_deny $r" [ "$d" -gt 6 -a "$d" = "$r" ]
send 198.19.0.59 S
check_eq "cookie: deny (a /31) wins over allow (a /32 inside it)" \
    "$(counters deny_drops allow_passes)" "$((d + 1)) 0"

check_eq "cookie: an allowed source's curl (IPv4)" "$(code_of 198.19.0.51)" 200
check_eq "cookie: an allowed source's curl (IPv6)" "$(code_of 2001:2:0:1::51)" 200
check_eq "cookie: allowed SYNs passed, no cookie sent" \
    "$(counters allow_passes cookies_sent cookies_validated syns)" "2 0 0 0"
send 198.19.0.51 A
check_eq "cookie: an allowed source's stray ACK goes to the kernel, uncounted" \
    "$(counters allow_passes cookies_failed)" "2 0"
check_eq "cookie: any other source still gets a cookie" "$(code_of 198.19.0.53)" 200
check_eq "... sent and validated" "$(counters cookies_sent cookies_validated)" "1 1"

# ---------------------------------------------------------- auth
tf guard "$IF" auth --port 8080
check_eq "guard auth: the lists stay" "$RC $(lists)" "0 3 3"
check_eq "auth: a denied source's curl fails" "$(get 198.19.0.50 2)" "exit 28"
check_eq "auth: ... not challenged" "$(counter auth_challenges)" 0
a=$(counter allow_passes)
# at once: the counters say so (an allow pass, no challenge), not a time
check_eq "auth: an allowed source passes" "$(code_of 198.19.0.51)" 200
check_eq "auth: ... at once, as an allow pass, unchallenged" \
    "$(counters allow_passes auth_challenges)" "$((a + 1)) 0"
t=$(get 2001:2:0:1::55)
check_true "auth: an unlisted source pays a retransmission" "got $t" \
    "$PY" -c 'import sys; c, t = sys.argv[1].split(); sys.exit(not (c == "200" and float(t) >= 0.9))' "$t"
tf guard "$IF" allow add 2001:2:0:1::52
check_eq "allow add (IPv6)" "$RC" 0
check_eq "auth: a newly allowed source passes" "$(code_of 2001:2:0:1::52)" 200
check_eq "auth: at once, as an allow pass, one challenge in all" \
    "$(counters allow_passes auth_challenges)" "$((a + 2)) 1"

# ---------------------------------------------------------- monitor
tf guard "$IF" monitor --port 8080
d=$(counter deny_drops)
send 198.19.0.50 S
check_eq "monitor: a denied SYN is would_drop, not dropped" \
    "$(counters deny_drops would_drop would_cookie)" "$d 1 1"

# ---------------------------------------------------------- TTLs
tf guard "$IF" auth --port 8080
# The TTL entries must match while they last: their SYNs go from a sender
# started before (scapy imported, frames built) the moment both are added,
# not a scapy start later; their end is waited for, not slept through.
TTL=6
cat >"$TMP/sendgo.py" <<'EOF'
import os, sys, time
from scapy.all import Ether, IP, TCP, sendp, conf
conf.verb = 0
dev, mac, go = sys.argv[1:4]
frames = [Ether(dst=mac) / IP(src=src, dst="198.19.0.2") /
          TCP(sport=43000 + i, dport=8080, flags="S", seq=1000)
          for i, src in enumerate(sys.argv[4:])]
print("ready", flush=True)
deadline = time.time() + 120
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.01)
sendp(frames, iface=dev)
EOF
cli "$PY" "$TMP/sendgo.py" "$LAB_CLI_IF" "$SRVMAC" "$TMP/ttl.go" 198.19.0.56 198.19.0.57 \
    >"$TMP/ttl.out" 2>&1 &
SENDER=$!
wait_for 60 grep -q ready "$TMP/ttl.out" || fail "TTL: the sender starts" "$(cat "$TMP/ttl.out")"
d=$(counter deny_drops)
a=$(counter allow_passes)
tf guard "$IF" deny add 198.19.0.56 --ttl "$TTL"
check_eq "deny add --ttl $TTL" "$RC" 0
tf guard "$IF" allow add 198.19.0.56/30
tf guard "$IF" allow add 198.19.0.57 --ttl "$TTL"
touch "$TMP/ttl.go"
check_true "listed with its expiry" "$(listed deny)" \
    grep -qE "198.19.0.56/32 expires in [1-$TTL] s" <<<"$(listed deny)"
wait "$SENDER"
lab_sync
check_eq "TTL entries match while they last" \
    "$(counters deny_drops allow_passes)" "$((d + 1)) $((a + 1))"
# what the lists stop showing, the data path stops applying: SYNs sent the
# moment the entries leave the list (a sender started before) meet the
# allowed /30 under them (listed on the wall clock's second, the deny entry
# went on dropping for up to a second: the data path's is the reaper's)
cli "$PY" "$TMP/sendgo.py" "$LAB_CLI_IF" "$SRVMAC" "$TMP/ttl.go2" 198.19.0.56 198.19.0.57 \
    >"$TMP/ttl2.out" 2>&1 &
SENDER=$!
wait_for 60 grep -q ready "$TMP/ttl2.out" || fail "TTL: the second sender starts" "$(cat "$TMP/ttl2.out")"
c=$(counter auth_challenges)
want="198.19.0.50/32;198.19.0.58/31;2001:2:0:1::50/128; 198.19.0.51/32;198.19.0.56/30;198.19.0.59/32;2001:2:0:1::51/128;2001:2:0:1::52/128;"
check_true "expired: not listed" "$(listed deny) $(listed allow)" \
    wait_for 60 eval '[ "$(listed deny) $(listed allow)" = "$want" ]'
touch "$TMP/ttl.go2"
wait "$SENDER"
lab_sync
check_eq "expired: not counted" "$(lists)" "5 3"
check_eq "expired: at once, .56 and .57 fall to the allowed /30 under them" \
    "$(counters deny_drops allow_passes auth_challenges)" "$((d + 1)) $((a + 3)) $c"
tf guard "$IF" allow del 198.19.0.56/30
send 198.19.0.57 S
check_eq "allow del: .57 is challenged again" \
    "$(counters allow_passes auth_challenges)" "$((a + 3)) $((c + 1))"

# ---------------------------------------------------------- reports
check_eq "stats --json: the guard's lists and counters" \
    "$(json_get "$(srv "$TCPF" stats "$IF" --json)" \
        "'%(allow)d %(deny)d' % j['guard']['lists'] + ' %d %d' % (j['guard']['counters']['allow_passes'], j['guard']['counters']['deny_drops'])")" \
    "4 3 $(counters allow_passes deny_drops)"
check_has "guard: the lists in the text" "$(srv "$TCPF" guard "$IF")" \
    "allow list 4 prefixes, passed $(counter allow_passes); deny list 3 prefixes, dropped $(counter deny_drops)"
srv "$TCPF" exporter --listen 127.0.0.1:9175 "$IF" >/dev/null 2>&1 &
EXPORTER=$!
wait_for 30 srv curl -sf http://127.0.0.1:9175/metrics
m=$(srv curl -s http://127.0.0.1:9175/metrics)
check_has "exporter: the list sizes and counters" "$m" \
    "tcpflags_guard_list_prefixes{iface=\"$IF\",list=\"allow\"} 4" \
    "tcpflags_guard_list_prefixes{iface=\"$IF\",list=\"deny\"} 3" \
    "tcpflags_guard_events_total{iface=\"$IF\",event=\"deny_drops\"} $(counter deny_drops)"
kill "$EXPORTER"
wait "$EXPORTER" 2>/dev/null

# ---------------------------------------------------------- rules files
printf 'set office 198.19.0.51,2001:2:0:1::51\nguard cookie port 8080 allow @office,198.19.0.59 deny 198.19.0.50\n' \
    >"$TMP/g.rules"
tf apply "$IF" "$TMP/g.rules"
check_eq "apply, a guard line with lists: exit code" "$RC" 0
check_eq "apply: each list given is replaced whole" \
    "$(gj "j['mode']") $(listed allow) $(listed deny)" \
    "cookie 198.19.0.51/32;198.19.0.59/32;2001:2:0:1::51/128; 198.19.0.50/32;"
printf 'guard auth port 8080 deny @nosuch\n' >"$TMP/bad.rules"
tf apply "$IF" "$TMP/bad.rules"
check_err "apply, a guard line naming an unknown set" 2 "unknown set '@nosuch'"
check_eq "... nothing changed" "$(gj "j['mode']") $(lists)" "cookie 3 1"

# ---------------------------------------------------------- lifetime
before="$(lists) $(counters allow_passes deny_drops)"
tf attach "$IF"
check_eq "attach again" "$RC" 0
check_eq "attach again: the lists and counters stay" \
    "$(lists) $(counters allow_passes deny_drops)" "$before"
d=$(counter deny_drops)
send 198.19.0.50 S
check_eq "attach again: the deny list still drops" "$(counter deny_drops)" "$((d + 1))"
tf guard "$IF" deny flush
check_eq "deny flush" "$RC $(lists) $(listed deny)" "0 3 0 "
tf detach "$IF"
check_eq "detach" "$RC" 0
tf attach "$IF"
check_eq "attach after detach: no lists left" "$RC $(lists)" "0 0 0"
tf detach "$IF"
tf attach "$IF" --rules "$TMP/g.rules"
check_eq "attach --rules, a guard line with lists" \
    "$RC $(gj "j['mode']") $(listed allow) $(listed deny)" \
    "0 cookie 198.19.0.51/32;198.19.0.59/32;2001:2:0:1::51/128; 198.19.0.50/32;"
tf detach "$IF"

t_done
