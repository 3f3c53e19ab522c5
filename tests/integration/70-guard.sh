#!/bin/bash
# 70-guard.sh - the SYN-flood guard on the lab, end to end.
#
# One lab, tcpflags on tcpf-srv, an XDP pass program on tcpf-cli (veth
# delivers the guard's XDP_TX replies only to a peer with one).  In the srv
# namespace a dual-stack python server: HTTP on 8080 (backlog 1024), and on
# 8081 one that records, per accepted connection, the TCP options the
# kernel's socket got (TCP_INFO: timestamps, SACK, window scales, MSS).
# Nothing listens on 8082.  Every check uses client addresses of its own
# (the lab's link holds 198.19.0.0/24 and 2001:2:0:1::/64), so a source the
# guard verified in one check cannot pass another's SYNs to the kernel.
#   cookie: curl over IPv4 and IPv6 and python sockets complete, their
#     sockets have timestamps, SACK and the window scales; a capture on the
#     server's side (after XDP) shows none of their SYNs, the kernel sent
#     no cookie of its own (TcpExtSyncookiesSent) and its passive opens rose
#     by the connections made; cookies_sent = validated = handoffs; the
#     flow table follows them (established, then closed);
#   forged ACKs (a wrong cookie, a cookie past two rotations, a good cookie
#     sent to another port) are dropped at XDP and counted, and a SYN to
#     the protected port nobody listens on gets a RST;
#   hping3 -S --flood --rand-source while curl runs: every request succeeds;
#   auth: one SYN sent once is dropped; curl passes after one
#     retransmission (>= 1 s), then at once (verified);
#   build/livegen refuses lo (not a veth) and the host's namespace;
#   auto: a spoofed flood from build/livegen engages cookie, with the time
#     in guard --json; after the flood it disengages;
#   bad input: unknown mode, bad port, no port, not attached: exit codes,
#     one line, nothing changed.
# Run as root: bash tests/integration/70-guard.sh
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

IF=$LAB_SRV_IF
t_tmp guard

tf() { run "$LAB-srv" "$TCPF" "$@"; }
nstat_of() { srv nstat -az "$1" | awk -v k="$1" '$1 == k { print $2 }'; }

new_lab
srv sysctl -qw net.ipv4.tcp_syncookies=1
cookie_client 10 40

# 8081: a server that records each accepted connection's TCP options
cat >"$TMP/opts.py" <<'EOF'
import json, socket, struct, sys

def options(path):
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", 8081))
    s.listen(1024)
    while True:
        c, a = s.accept()
        info = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        opts, scales = info[5], info[6]
        snd_mss = struct.unpack_from("I", info, 16)[0]
        data = c.recv(100)
        c.sendall(b"x" * 100000)
        c.close()
        with open(path, "a") as f:
            f.write(json.dumps({"peer": a[0], "ts": bool(opts & 1),
                                "sack": bool(opts & 2),
                                "wscale": bool(opts & 4),
                                "snd_wscale": scales & 15,
                                "rcv_wscale": scales >> 4,
                                "mss": snd_mss, "got": data.decode()}) + "\n")

options(sys.argv[1])
EOF
srv "$PY" "$ROOT/scripts/httpd.py" 8080 guarded &
srv "$PY" "$TMP/opts.py" "$TMP/opts.jsonl" &
wait_for 30 srv "$PY" -c 'import socket; socket.create_connection(("198.19.0.2", 8080), 1)'
wait_for 30 srv "$PY" -c 'import socket; socket.create_connection(("198.19.0.2", 8081), 1).close()'
: >"$TMP/opts.jsonl"

tf attach "$IF"
check_eq "attach" "$RC" 0

# ---------------------------------------------------------- bad input
tf guard "$IF" shield --port 8080
check_usage "unknown mode" "shield"
tf guard "$IF" cookie --port 70000
check_usage "bad port" "70000"
tf guard "$IF" cookie --port 80-70
check_usage "bad range" "80-70"
tf guard "$IF" cookie
check_err "no port" 2 "port"
tf guard nosuch0 cookie --port 80
check_rc "unknown interface: exit code" 2 srv "$TCPF" guard nosuch0 cookie --port 80
run "$LAB-cli" "$TCPF" guard "$LAB_CLI_IF" cookie --port 80
check_err "not attached" 1 "not attached"
check_eq "after the errors: still off" "$(gj "j['mode']")" off

# ---------------------------------------------------------- cookie
tf guard "$IF" cookie --port 8080-8082
check_eq "guard cookie: exit code" "$RC" 0
check_eq "guard --json: mode" "$(gj "j['mode'] + ' ' + j['ports']")" "cookie 8080-8082"

# nsenter execs tcpdump: $! is its pid; -Z root: $TMP is root's only
# (and lab_sync's markers, to know when it holds everything)
nsenter --net="/run/netns/$LAB-srv" tcpdump -Z root -i "$IF" -nn -U --immediate-mode -B 65536 \
    -w "$TMP/srv.pcap" '(tcp and (port 8080 or port 8081)) or udp port 9' 2>"$TMP/dump.err" &
DUMP=$!
wait_for 30 grep -q 'listening on' "$TMP/dump.err" ||
    fail "capture on the server's side" "$(cat "$TMP/dump.err")"
opens0=$(nstat_of TcpPassiveOpens)
ok=0
for i in 10 11 12 13 14; do
    code=$(cli curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
        --interface "198.19.0.$i" http://198.19.0.2:8080/)
    [ "$code" = 200 ] && ok=$((ok + 1))
    code=$(cli curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
        --interface "2001:2:0:1::$i" 'http://[2001:2:0:1::2]:8080/')
    [ "$code" = 200 ] && ok=$((ok + 1))
done
check_eq "cookie: curl IPv4 and IPv6" "$ok" 10
got=0
for a in 198.19.0.15 2001:2:0:1::15; do
    n=$(cli "$PY" -c 'import socket, sys
a = sys.argv[1]
fam = socket.AF_INET6 if ":" in a else socket.AF_INET
s = socket.socket(fam)
s.bind((a, 0))
s.connect(("2001:2:0:1::2" if ":" in a else "198.19.0.2", 8081))
s.sendall(b"hello")
n = 0
while True:
    d = s.recv(65536)
    if not d:
        break
    n += len(d)
print(n)' "$a")
    [ "$n" = 100000 ] && got=$((got + 1))
done
check_eq "cookie: python sockets get all 100000 bytes" "$got" 2
wait_settled cookie "$LAB-cli" "$LAB-srv"
lab_sync
wait_mark "$TMP/srv.pcap"
kill -INT "$DUMP" 2>/dev/null
wait "$DUMP" 2>/dev/null
opens1=$(nstat_of TcpPassiveOpens)
check_eq "cookie: the kernel's passive opens" "$((opens1 - opens0))" 12
check_eq "cookie: the kernel sent no cookie" "$(nstat_of TcpExtSyncookiesSent)" 0
syns=$(tcpdump -nn -r "$TMP/srv.pcap" 'tcp and tcp[tcpflags] & tcp-syn != 0' 2>/dev/null | wc -l)
acks=$(tcpdump -nn -r "$TMP/srv.pcap" 'tcp and tcp[tcpflags] & tcp-syn == 0' 2>/dev/null | wc -l)
check_eq "cookie: no SYN nor SYN-ACK on the server's side" "$syns" 0
check_true "cookie: the connections' other segments on the server's side" \
    "captured $acks" [ "$acks" -gt 50 ]
check_eq "cookie: sent, validated, handed off" \
    "$(gj "'%d %d %d %d' % tuple(j['counters'][k] for k in ('cookies_sent', 'cookies_validated', 'handoffs', 'handoffs_failed'))")" \
    "12 12 12 0"
# the window scale both kernels offer: tcp_select_initial_window()'s
WS=$(srv "$PY" -c 'import math
r = max(int(open("/proc/sys/net/ipv4/tcp_rmem").read().split()[2]),
        int(open("/proc/sys/net/core/rmem_max").read()))
print(min(14, max(0, int(math.log2(r)) - 15)))')
check_eq "cookie: socket options (ts sack wscale snd rcv)" "$("$PY" -c 'import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["peer"].endswith("::15") or o["peer"].endswith(".15"):
        print(o["peer"].replace("::ffff:", ""), o["ts"], o["sack"], o["wscale"],
              o["snd_wscale"], o["rcv_wscale"], o["got"])' "$TMP/opts.jsonl" | sort | tr '\n' ';')" \
    "198.19.0.15 True True True $WS $WS hello;2001:2:0:1::15 True True True $WS $WS hello;"
check_has "cookie: the flow table follows them" \
    "$(srv "$TCPF" flows "$IF" --json)" '"198.19.0.15:' '"[2001:2:0:1::15]:'

# forged ACKs: scapy from a source of the lab, spoofed into 198.18.0.0/15
cat >"$TMP/forge.py" <<'EOF'
import sys, time
from scapy.all import Ether, IP, TCP, AsyncSniffer, sendp, conf
conf.verb = 0
dev, dmac, case = sys.argv[1], sys.argv[2], sys.argv[3]
src, dst = "198.18.7.%d" % (10 + int(sys.argv[4])), "198.19.0.2"
base = Ether(dst=dmac) / IP(src=src, dst=dst)
if case == "wrong":
    sendp(base / TCP(sport=40000, dport=8080, flags="A", seq=1001, ack=12345678), iface=dev)
    sys.exit(0)
import threading
up = threading.Event()
sn = AsyncSniffer(iface=dev, filter="tcp and src host %s" % dst, count=1, timeout=60,
                  started_callback=up.set)
sn.start()
up.wait(60)
sendp(base / TCP(sport=40001, dport=8080, flags="S", seq=5000), iface=dev)
sn.join()
if not sn.results:
    print("no SYN-ACK")
    sys.exit(1)
sa = sn.results[0][TCP]
if sa.flags != "SA" or sa.ack != 5001:
    print("not a SYN-ACK:", sa.flags, sa.ack)
    sys.exit(1)
if case == "old":
    time.sleep(float(sys.argv[5]))
port = 8081 if case == "port" else 8080
sendp(base / TCP(sport=40001, dport=port, flags="A", seq=5001, ack=sa.seq + 1), iface=dev)
print("sent")
EOF
SRVMAC=$(srv ip -br link show dev "$IF" | awk '{ print $3 }')
failed0=$(counter cookies_failed)
cli "$PY" "$TMP/forge.py" "$LAB_CLI_IF" "$SRVMAC" wrong 1 >/dev/null
lab_sync
check_eq "forged ACK, wrong cookie: dropped and counted" \
    "$(counter cookies_failed)" "$((failed0 + 1))"
out=$(cli "$PY" "$TMP/forge.py" "$LAB_CLI_IF" "$SRVMAC" port 2)
lab_sync
check_eq "forged ACK, another port's cookie: dropped and counted" \
    "$out $(counter cookies_failed)" "sent $((failed0 + 2))"
tf guard "$IF" cookie --rotate 1
out=$(cli "$PY" "$TMP/forge.py" "$LAB_CLI_IF" "$SRVMAC" old 3 3.2)
lab_sync
check_eq "forged ACK, a cookie past two rotations: dropped and counted" \
    "$out $(counter cookies_failed)" "sent $((failed0 + 3))"
check_eq "forged ACKs: the drops' reason" \
    "$(json_get "$(srv "$TCPF" stats "$IF" --json)" "j['drops']['guard_ack']")" 3
tf guard "$IF" cookie --rotate 30
rc=0
cli curl -s -o /dev/null --max-time 10 --interface 198.19.0.16 http://198.19.0.2:8082/ || rc=$?
check_eq "a SYN to a protected port nobody listens on: refused (curl exit 7)" "$rc" 7
check_eq "... with the guard's RST" "$(counter rsts_sent)" 1

# hping3 flood from random sources while curl runs: begun (the guard has
# answered a thousand of it) before the curls, stopped after them
c0=$(counter cookies_sent)
# nsenter execs timeout: $! is timeout, which passes TERM on to hping3
nsenter --net="/run/netns/$LAB-cli" timeout 300 /usr/sbin/hping3 -S --flood --rand-source \
    -p 8080 198.19.0.2 >/dev/null 2>&1 &
FLOOD=$!
check_true "hping3 --flood: the guard answers it" "cookies_sent $(counter cookies_sent)" \
    wait_for 60 eval '[ "$(counter cookies_sent)" -gt '"$((c0 + 1000))"' ]'
ok=0
for i in $(seq 20 29); do
    code=$(cli curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
        --interface "198.19.0.$i" http://198.19.0.2:8080/)
    [ "$code" = 200 ] && ok=$((ok + 1))
    sleep 0.2
done
check_true "hping3 --flood: still flooding after the curls" "it ended" kill -0 "$FLOOD"
kill -TERM "$FLOOD" 2>/dev/null
wait "$FLOOD" 2>/dev/null
lab_sync                         # its last SYNs through XDP before auth
flood_syns=$(counter cookies_sent)
check_eq "hping3 --flood --rand-source: every curl succeeds" "$ok" 10

# ---------------------------------------------------------- auth
tf guard "$IF" auth --port 8080
check_eq "guard auth" "$RC" 0
ch0=$(counter auth_challenges)
# the hping3 flood above can leave a late SYN retransmission of a verified
# curl client: this section counts its own passes
vp0=$(counter verified_passes)
cli "$PY" -c 'from scapy.all import *
conf.verb = 0
sendp(Ether(dst="'"$SRVMAC"'") / IP(src="198.18.9.1", dst="198.19.0.2") /
      TCP(sport=41000, dport=8080, flags="S", seq=777), iface="'"$LAB_CLI_IF"'")'
lab_sync
check_eq "auth: a single SYN is dropped" "$(counter auth_challenges) $(counter auth_passes)" \
    "$((ch0 + 1)) 0"
# after one retransmission: one more challenge, and the SYN's RTO at
# least (a bound from below; how long is the counters' to say, not a time)
t=$(cli curl -s -o /dev/null -w '%{http_code} %{time_connect}' --max-time 20 \
    --interface 198.19.0.30 http://198.19.0.2:8080/)
check_true "auth: curl passes after a retransmission (connect >= 0.9 s)" "got $t" \
    "$PY" -c 'import sys; c, t = sys.argv[1].split(); sys.exit(not (c == "200" and 0.9 <= float(t)))' "$t"
check_eq "auth: ... one challenge and one pass for it" \
    "$(counter auth_challenges) $(counter auth_passes)" "$((ch0 + 2)) 1"
t=$(cli curl -s -o /dev/null -w '%{http_code}' --max-time 20 \
    --interface 198.19.0.30 http://198.19.0.2:8080/)
check_eq "auth: then verified: passes" "$t" 200
check_eq "auth: ... at once: no challenge, a verified pass" \
    "$(counter auth_challenges) $(counter auth_passes) $(( $(counter verified_passes) - vp0 ))" \
    "$((ch0 + 2)) 1 1"

# ---------------------------------------------------------- the flood's generator stays in a lab
run "$LAB-cli" "$BUILD/livegen" lo 10 --dst-mac "$SRVMAC"
check_eq "livegen refuses an interface that is not a veth" "$RC $ERR" \
    "1 livegen: refusing lo: not a veth"
RC=0
ERR=$("$BUILD/livegen" lo 10 --dst-mac "$SRVMAC" 2>&1 >/dev/null) || RC=$?
check_eq "livegen refuses the host's namespace" "$RC $ERR" \
    "1 livegen: refusing lo: not in a namespace of a lab (ip netns add)"

# ---------------------------------------------------------- auto
tf guard "$IF" auto --port 8080 --syn-rate 20000 --calm-rate 5000 --calm 2
check_eq "guard auto" "$RC" 0
check_eq "auto: calm before the flood" "$(gj "j['engaged']")" False
MAC=$SRVMAC
t0=$(date +%s)
cli "$BUILD/livegen" "$LAB_CLI_IF" 4000000 --dst-mac "$MAC" \
    --dst 198.19.0.2 --dport 8080 >/dev/null 2>&1 &
GEN=$!
wait_for 30 "$PY" -c 'import json, subprocess, sys
o = json.loads(subprocess.run(sys.argv[1:], capture_output=True).stdout)
sys.exit(not o["engaged"])' nsenter --net="/run/netns/$LAB-srv" "$TCPF" guard "$IF" --json
engaged=$(gj "j['engaged'] and j['engaged_since'] >= $t0 - 1")
check_eq "auto: a flood engages it, since the flood began" "$engaged" True
wait "$GEN" 2>/dev/null
check_true "auto: it answered the flood with cookies" "cookies_sent $(counter cookies_sent)" \
    [ "$(counter cookies_sent)" -gt "$((flood_syns + 10000))" ]
wait_for 30 "$PY" -c 'import json, subprocess, sys
o = json.loads(subprocess.run(sys.argv[1:], capture_output=True).stdout)
sys.exit(o["engaged"])' nsenter --net="/run/netns/$LAB-srv" "$TCPF" guard "$IF" --json
check_eq "auto: calm after the flood, released after it engaged" \
    "$(gj "(not j['engaged']) and j['last_released'] >= j['last_engaged'] >= $t0 - 1")" True

tf guard "$IF" off
check_eq "guard off" "$(gj "j['mode']")" off

# ---------------------------------------------------------- rules files
printf 'synfin drop\nguard cookie port 8080,8443 rotate 20 ttl 600\n' >"$TMP/g.rules"
tf apply "$IF" "$TMP/g.rules"
check_eq "apply with a guard line: exit code" "$RC" 0
check_eq "apply with a guard line: the guard" \
    "$(gj "'%s %s %d %d' % (j['mode'], j['ports'], j['settings']['rotate'], j['settings']['ttl'])")" \
    "cookie 8080,8443 20 600"
printf 'xmas drop\nguard auth port 8080 speed 3\n' >"$TMP/bad.rules"
tf apply "$IF" "$TMP/bad.rules"
check_err "apply, a bad guard line" 2 "speed"
check_eq "apply, a bad guard line: nothing changed" \
    "$(gj "j['mode']") $(json_get "$(srv "$TCPF" rule list "$IF" --json)" "[r['text'] for r in j['rules']]")" \
    "cookie ['synfin drop']"
tf detach "$IF"
check_eq "detach" "$RC" 0
printf 'guard auth port 8080\n' >"$TMP/a.rules"
tf attach "$IF" --rules "$TMP/a.rules"
check_eq "attach --rules with a guard line" "$RC $(gj "j['mode'] + ' ' + j['ports']")" "0 auth 8080"
tf detach "$IF"
check_eq "detach, the guard goes with it" "$RC" 0

t_done
