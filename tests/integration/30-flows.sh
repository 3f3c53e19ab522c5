#!/bin/bash
# 30-flows.sh - the connection tracker (phases, states, connection counters,
# `flows`) against an independent capture of both directions, on real TCP.
#
# tcpflags watches tcpf-srv in the server namespace: XDP ingress plus the TC
# egress observer, so the server host sees both halves of each connection.
# tcpdump captures the same interface in both directions; for every
# sub-scenario the phases are zeroed (`tcpflags reset`), a fresh capture
# runs, and the phase counts must equal what the capture implies (a small
# reference model over tshark's fields: SYN, SYN|ACK, the ACK completing a
# handshake, first and second FIN and their ACKs, RSTs, segments sent
# again).  Connection counters are namespace-wide and never reset: each
# check is on a delta.
#
#   lab 1 (--timeout syn_recv=5 --timeout time_wait=8: long enough that a
#   state can be seen before it ends, whatever the load):
#     1. curl over IPv4 and IPv6 (HTTP/1.1; curl closes first): opened,
#        closed, every phase, nothing left in the table;
#     2. a connection reset by the client, one reset by the server
#        (SO_LINGER 0): reset counter, reset phase, gone from `flows`;
#     3. a SYN to a closed port answered by RST: refused;
#     5. IPv6 connections the server closes first: opened/closed, phases,
#        TIME_WAIT gauge and listing, then TIME_WAIT ending quietly;
#     4. a half-open handshake (the source never answers the SYN-ACK; one
#        SYN-ACK retransmission): half_open / syn_recv gauges, retransmit,
#        expiry: waited for, and never seen before 5 s after its last
#        segment.
#   No sleep: a capture ends once the lab's connections have settled and a
#   marker datagram sent after them is in it (lib.sh lab_sync), and the
#   gauges are read after a reaper pass that began after the traffic
#   (wait_tick).
#   Every teardown is made deterministic (one side closes only once the
#   other's FIN has arrived): crossing FINs would let the capture and the
#   hooks (TC egress runs before the tap) see the two FINs in either order.
#   lab 2 (default timeouts):
#     6. K connections held open, then a spoofed SYN flood from 198.18/16
#        (the server has no route back: it answers nothing): the K stay
#        established and listed, every flood SYN is a half-open slot or
#        displaced one; then the K close.
#   lab 3 (--ingress-only):
#     7. the SYN-ACK is never seen, so no handshake completes: every
#        ingress segment after the SYN is out_of_state, nothing is opened.
#   SYN sources (`stats` "syn_sources", emptied by `reset`): scenarios 1-5
#   check the list against the capture's SYNs per source; lab 1 then
#     8. N curls and K hping3 SYNs: exactly the client with N, then N + K
#        (also the plain `stats` line); `reset` empties the list;
#   lab 4 (--no-flows):
#     9. no tracking and no rules: SYNs are not counted (the list stays
#        empty); a live rule set turns the counting on, before the rule
#        that drops those very SYNs.
#
# Run as root: bash tests/integration/30-flows.sh
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

PORT=8080          # the server below: HTTP/1.1 and a few commands
CLOSED_PORT=9      # nothing listens: the server answers RST
HPING_PORT=20011   # scenarios 8 and 9: hping3's own closed port (it takes
                   # any segment from its port as a reply)
HPING=/usr/sbin/hping3
N4=6               # scenario 1: curl over IPv4
N6=4               # scenario 1: curl over IPv6
N5=3               # scenario 5: IPv6, the server closes first
K=5                # scenario 6: connections held through the flood
M=3000             # scenario 6: spoofed SYNs
HALF_SRC=198.19.0.3   # scenario 4: a lab address nobody owns (198.18.0.0/15)

# KEEP_TMP=1 keeps the captures and logs for a look
t_tmp flows

# ------------------------------------------------------------ the helpers

# The server (server namespace, dual stack), one request per connection.
# "GET ...": an HTTP/1.1 answer of BLOB bytes, kept alive until the client
# closes, then close.  HOLD: read until the peer closes, then close.  BYE n:
# send n bytes and close first.  RST: wait for one more segment of data,
# then close with SO_LINGER 0 (an RST instead of a FIN).
cat >"$TMP/server.py" <<'EOF'
import socket, struct, sys, threading
BLOB = int(sys.argv[2])

def handle(c):
    try:
        line = b""
        while not line.endswith(b"\n"):
            d = c.recv(256)
            if not d:
                break
            line += d
        cmd = line.split()
        if cmd and cmd[0] == b"GET":
            while b"\r\n\r\n" not in line:
                d = c.recv(4096)
                if not d:
                    break
                line += d
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                      b"Content-Length: %d\r\n\r\n" % BLOB + b"x" * BLOB)
        if cmd and cmd[0] == b"RST":
            c.recv(256)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            c.close()
            return
        if cmd and cmd[0] == b"BYE":
            c.sendall(b"b" * int(cmd[1]))
            c.close()
            return
        while c.recv(4096):
            pass
    except OSError:
        pass
    c.close()

s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1])))
s.listen(128)
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
EOF

# The clients (client namespace).  Each prints the local ports it used.
#   hold ADDR PORT N RELEASE:   N connections (HOLD), closed (FIN) once the
#                               file RELEASE exists
#   rst ADDR PORT RELEASE:      one connection, reset by us (SO_LINGER 0)
#                               once RELEASE exists
#   srvrst ADDR PORT RELEASE:   one connection the server resets once we
#                               send it a segment (after RELEASE exists)
#   bye ADDR PORT N BYTES:      N connections that read BYTES until the
#                               server closes, then close
#   refused ADDR PORT:          one connect() to a closed port
cat >"$TMP/client.py" <<'EOF'
import os, socket, struct, sys, time

def conn(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((addr, port))
    return s

def wait_file(path):
    deadline = time.time() + 60
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.02)

def out(*a):
    print(*a, flush=True)

mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "hold":
    n, release = int(sys.argv[4]), sys.argv[5]
    socks = [conn(addr, port) for _ in range(n)]
    for s in socks:
        s.sendall(b"HOLD\n")
    out(" ".join(str(s.getsockname()[1]) for s in socks))
    wait_file(release)
    for s in socks:
        s.close()
elif mode == "rst":
    s = conn(addr, port)
    s.sendall(b"HOLD\n")
    out(s.getsockname()[1])
    wait_file(sys.argv[4])
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
elif mode == "srvrst":
    s = conn(addr, port)
    s.sendall(b"RST\n")
    out(s.getsockname()[1])
    wait_file(sys.argv[4])
    s.sendall(b"GO\n")
    try:
        while s.recv(256):
            pass
        out("no reset")
    except ConnectionResetError:
        out("reset")
    s.close()
elif mode == "bye":
    n, size = int(sys.argv[4]), int(sys.argv[5])
    ports = []
    for _ in range(n):
        s = conn(addr, port)
        s.sendall(b"BYE %d\n" % size)
        got = 0
        while True:                     # until the server's FIN
            d = s.recv(65536)
            if not d:
                break
            got += len(d)
        ports.append(str(s.getsockname()[1]))
        s.close()
        assert got == size, got
    out(" ".join(ports))
elif mode == "refused":
    try:
        conn(addr, port)
        out("connected")
    except ConnectionRefusedError:
        out("refused")
EOF

# Frames crafted with scapy (client namespace, sent on tcpf-cli).
#   syn IFACE SMAC DMAC SRC DST DPORT SPORT SEQ:  one SYN
#   flood IFACE SMAC DMAC DST DPORT COUNT:         COUNT SYNs, each from its own
#       random address in 198.18.0.0/16 and a random port
cat >"$TMP/craft.py" <<'EOF'
import random, sys
from scapy.all import Ether, IP, TCP, conf, sendp
mode, iface, smac, dmac = sys.argv[1:5]
if mode == "syn":
    src, dst, dport, sport, seq = sys.argv[5:10]
    sendp(Ether(src=smac, dst=dmac) / IP(src=src, dst=dst) /
          TCP(sport=int(sport), dport=int(dport), flags="S", seq=int(seq)),
          iface=iface, verbose=False)
else:
    dst, dport, count = sys.argv[5], int(sys.argv[6]), int(sys.argv[7])
    rnd = random.Random()
    hosts = rnd.sample(range(1, 65535), count)          # distinct sources
    tmpl = Ether(src=smac, dst=dmac) / IP(dst=dst) / TCP(dport=dport, flags="S")
    frames = []
    for h in hosts:
        f = tmpl.copy()
        f[IP].src = "198.18.%d.%d" % (h >> 8, h & 255)
        f[TCP].sport = rnd.randrange(1024, 65536)
        f[TCP].seq = rnd.getrandbits(32)
        frames.append(bytes(f))
    s = conf.L2socket(iface=iface)
    for f in frames:
        s.send(f)
    s.close()
    print(len(frames))
EOF

# The reference: what the capture implies, segment by segment, for a host
# that sees both directions.  model.py TSV LOCAL_ADDR...: prints one JSON
# object: the expected phase counts, connection events, plain counts (and
# the time of the last SYN-ACK).
cat >"$TMP/model.py" <<'EOF'
import json, sys

SYN, ACK, RST, FIN = 0x02, 0x10, 0x04, 0x01
M32 = 1 << 32
def after_eq(a, b):
    return ((a - b) % M32) < (1 << 31)

ph = dict.fromkeys(["handshake_syn", "handshake_synack", "handshake_ack",
                    "established", "teardown_fin1", "teardown_ack1",
                    "teardown_fin2", "teardown_ack2", "reset", "retransmit",
                    "out_of_state"], 0)
ev = dict.fromkeys(["opened", "closed", "reset", "refused"], 0)
plain = dict.fromkeys(["total", "syn", "synack", "fin", "rst",
                       "to_198_18", "from_198_18", "received",
                       "syn_received", "sent_with_data", "first_fin_local",
                       "fins_crossed"], 0)
local = set(sys.argv[2:])
conns = {}      # canonical 4-tuple -> state
last_time = {}  # flag name -> time of the last such segment
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) < 11:
        continue
    t, s4, d4, s6, d6, sp, dp, flags, seq, ack, ln = f[:11]
    src = (s4 or s6) + "|" + sp
    dst = (d4 or d6) + "|" + dp
    flags, seq, ack, ln = int(flags, 16) & 0xff, int(seq), int(ack), int(ln)
    plain["total"] += 1
    if (d4 or d6) in local:
        plain["received"] += 1
        if flags & (SYN | ACK | RST | FIN) == SYN:
            plain["syn_received"] += 1
    if (s4 or s6) in local and ln:
        plain["sent_with_data"] += 1
    if d4.startswith("198.18."):
        plain["to_198_18"] += 1
    if s4.startswith("198.18."):
        plain["from_198_18"] += 1
    fl = flags & (SYN | ACK | RST | FIN)
    if fl == SYN: plain["syn"] += 1
    if fl == SYN | ACK:
        plain["synack"] += 1
        last_time["synack"] = float(t)
    if fl & FIN: plain["fin"] += 1
    if fl & RST: plain["rst"] += 1
    key = tuple(sorted([src, dst]))
    c = conns.get(key)
    end = (seq + ln) % M32
    if fl & RST:
        if c and c["est"]:
            if not c["closed"]:
                ev["reset"] += 1
            ph["reset"] += 1
            del conns[key]
        elif c:
            ev["refused"] += 1
            ph["reset"] += 1
            del conns[key]
        else:
            ph["out_of_state"] += 1
        continue
    if c is None or not c["est"]:
        if fl == SYN:
            if c and c["opener"] == src and c["isn"][src] == seq:
                ph["retransmit"] += 1
            else:
                conns[key] = {"opener": src, "isn": {src: seq}, "synack": False,
                              "est": False}
                ph["handshake_syn"] += 1
        elif fl == SYN | ACK and c and src != c["opener"] and \
                ack == (c["isn"][c["opener"]] + 1) % M32:
            if c["synack"] and c["isn"].get(src) == seq:
                ph["retransmit"] += 1
            else:
                c["synack"] = True
                c["isn"][src] = seq
                ph["handshake_synack"] += 1
        elif fl == ACK and c and c["synack"] and src == c["opener"] and \
                ack == (c["isn"][dst] + 1) % M32:
            c.update(est=True, closed=False, fins={}, order=[], acked=set(),
                     hi={src: end, dst: (c["isn"][dst] + 1) % M32})
            ev["opened"] += 1
            ph["handshake_ack"] += 1
        else:
            ph["out_of_state"] += 1
        continue
    # an established connection
    if fl & SYN:
        ph["retransmit" if seq == c["isn"][src] else "out_of_state"] += 1
        continue
    if fl & FIN:
        fin_end = (end + 1) % M32
        if src in c["fins"]:
            ph["retransmit" if fin_end == c["fins"][src] else "out_of_state"] += 1
        else:
            if c["order"] and not (fl & ACK and after_eq(ack, c["fins"][dst])):
                plain["fins_crossed"] += 1
            elif not c["order"] and src.split("|")[0] in local:
                plain["first_fin_local"] += 1
            c["fins"][src] = fin_end
            c["order"].append(src)
            c["hi"][src] = fin_end
            ph["teardown_fin1" if len(c["order"]) == 1 else "teardown_fin2"] += 1
        if fl & ACK and dst in c["fins"] and dst not in c["acked"] and \
                after_eq(ack, c["fins"][dst]):
            c["acked"].add(dst)
    elif fl & ACK and dst in c["fins"] and dst not in c["acked"] and \
            after_eq(ack, c["fins"][dst]):
        c["acked"].add(dst)
        ph["teardown_ack1" if c["order"][0] == dst else "teardown_ack2"] += 1
        if ln and after_eq(end, c["hi"][src]):
            c["hi"][src] = end
    elif ln and after_eq(c["hi"][src], end):
        ph["retransmit"] += 1
    else:
        if ln:
            c["hi"][src] = end
        ph["established"] += 1
    if not c["closed"] and len(c["acked"]) == 2:
        c["closed"] = True
        ev["closed"] += 1
print(json.dumps({"phases": ph, "events": ev, "plain": plain,
                  "last": last_time}))
EOF

mac_of() { ip -n "$1" -j link show dev "$2" | json_get "$(cat)" 'j[0]["address"]'; }


stats() { srv "$TCPF" stats "$LAB_SRV_IF" --json 2>/dev/null; }
# conn JSON NAME / state JSON NAME / phase JSON NAME
conn() { json_get "$1" "j['connections']['$2']"; }
state() { json_get "$1" "j['states']['$2']"; }
phase() { json_get "$1" "j['phases']['$2']"; }
# flows_ports [--state S]: the client ports `flows --json` lists, sorted
flows_ports() {
    local js
    js=$(srv "$TCPF" flows "$LAB_SRV_IF" --json "$@" 2>/dev/null)
    json_get "$js" "' '.join(sorted((f['client'].rsplit(':', 1)[1] for f in j['flows']), key=int)) or '-'"
}
sorted_words() { tr ' ' '\n' <<<"$1" | sort -n | tr '\n' ' ' | sed 's/ $//'; }

# start_servers: the server in the lab, and warm ARP/ND.
start_servers() {
    srv "$PY" "$TMP/server.py" "$PORT" 20000 >"$TMP/$LAB.server.log" 2>&1 &
    if ! wait_for 30 eval "srv ss -Hltn 'sport = :$PORT' | grep -q LISTEN"; then
        fail "$LAB: server listening" "not listening after 10 s"
        return 1
    fi
    cli ping -c 1 -W 2 "$LAB_SRV4" >/dev/null 2>&1
    wait_for 30 cli ping -6 -c 1 -W 1 "$LAB_SRV6"
    return 0
}

# cap_start NAME: capture both directions of tcpf-srv into $TMP/NAME.pcap,
# and zero the phases once tcpdump listens.
CAP_PID=
cap_start() {
    CAP=$1
    # nsenter directly, not through srv(): $! must be tcpdump itself
    # a 64 MB buffer: the flood's 3000 SYNs come faster than tcpdump
    # writes them when the machine is busy (it dropped 159 of them)
    nsenter --net="/run/netns/$LAB-srv" tcpdump -i "$LAB_SRV_IF" -B 65536 \
        --immediate-mode -U -n -w "$TMP/$CAP.pcap" 2>"$TMP/$CAP.tcpdump.err" &
    CAP_PID=$!
    if ! wait_for 30 grep -q 'listening on' "$TMP/$CAP.tcpdump.err"; then
        fail "$CAP: tcpdump listening" "$(cat "$TMP/$CAP.tcpdump.err")"
        return 1
    fi
    check_rc "$CAP: reset the phases" 0 srv "$TCPF" reset "$LAB_SRV_IF"
}

# cap_end: end the capture once the lab's connections have settled and a
# marker sent after them is in it: it holds every segment they sent.
cap_end() {
    wait_settled "$CAP" "$LAB-cli" "$LAB-srv"
    lab_sync
    wait_mark "$TMP/$CAP.pcap"
    kill -INT "$CAP_PID"
    wait "$CAP_PID"
    check_eq "$CAP: tcpdump dropped nothing" \
        "$(grep -c '^0 packets dropped by kernel' "$TMP/$CAP.tcpdump.err")" 1
}

# cap_stop: cap_end, then cap_model: MODEL, the reference's verdict.
cap_stop() {
    cap_end
    cap_model
}
cap_model() {
    timeout 60 tshark -r "$TMP/$CAP.pcap" -o tcp.relative_sequence_numbers:FALSE \
        -Y 'tcp && !icmp && !icmpv6' -T fields -E separator=/t \
        -e frame.time_epoch -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst \
        -e tcp.srcport -e tcp.dstport -e tcp.flags -e tcp.seq_raw -e tcp.ack_raw \
        -e tcp.len >"$TMP/$CAP.tsv" 2>"$TMP/$CAP.tshark.err" ||
        fail "$CAP: tshark read the capture" "$(tail -n 1 "$TMP/$CAP.tshark.err")"
    MODEL=$("$PY" "$TMP/model.py" "$TMP/$CAP.tsv" "$LAB_SRV4" "$LAB_SRV6" \
        2>"$TMP/$CAP.model.err") ||
        fail "$CAP: the reference model ran" "$(tail -n 1 "$TMP/$CAP.model.err")"
    echo "$MODEL" >"$TMP/$CAP.model.json"
}
model() { json_get "$MODEL" "$1"; }

# srcs_json JSON: its "syn_sources", as compact JSON
srcs_json() { json_get "$1" 'json.dumps(j["syn_sources"])'; }
# srcs_want SOURCE SYNS...: the "syn_sources" those pairs make, same form
srcs_want() {
    local out="" sep=""
    while [ $# -gt 1 ]; do
        out+="$sep{\"source\": \"$1\", \"syns\": $2}"
        sep=", "
        shift 2
    done
    echo "[$out]"
}
# cap_srcs: the SYNs (no ACK, RST or FIN) the capture saw arrive at the
# server, per source, in the order `stats` lists them (most first, then
# IPv4 before IPv6, then by address)
cap_srcs() {
    "$PY" - "$TMP/$CAP.tsv" "$LAB_SRV4" "$LAB_SRV6" <<'PYEOF'
import ipaddress, json, sys
local, n = set(sys.argv[2:]), {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) < 11:
        continue
    src, dst = f[1] or f[3], f[2] or f[4]
    if dst in local and int(f[7], 16) & 0x17 == 0x02:
        n[src] = n.get(src, 0) + 1
def order(kv):
    a = ipaddress.ip_address(kv[0])
    return (-kv[1], a.version, a.packed)
print(json.dumps([{"source": s, "syns": c} for s, c in sorted(n.items(), key=order)]))
PYEOF
}
# check_srcs T JSON SOURCE SYNS...: syn_sources is exactly those pairs, and
# exactly what the capture saw
check_srcs() {
    local t=$1 js=$2
    shift 2
    check_eq "$t: syn_sources = $(srcs_want "$@")" "$(srcs_json "$js")" "$(srcs_want "$@")"
    check_eq "$t: syn_sources = the capture's SYNs per source" "$(srcs_json "$js")" "$(cap_srcs)"
}
# srcs_line: the plain `stats` line of SYN sources, or '-'
srcs_line() {
    srv "$TCPF" stats "$LAB_SRV_IF" 2>/dev/null | grep '^SYN sources' || echo -
}
# hping K: K SYNs from the client to HPING_PORT (closed), 20 ms apart, and
# wait until they went through the server's XDP program
hping() {
    cli timeout 60 "$HPING" -S -p "$HPING_PORT" -c "$1" -i u20000 "$LAB_SRV4" \
        >>"$TMP/hping.log" 2>&1 || true
    lab_sync
}

# check_phases T JSON: every phase equals the reference's, and all of them
# together are every TCP segment of the capture.
check_phases() {
    local t=$1 js=$2 p
    check_eq "$t: capture: no FINs crossed (the order is the same for every observer)" \
        "$(model 'j["plain"]["fins_crossed"]')" 0
    for p in handshake_syn handshake_synack handshake_ack established \
        teardown_fin1 teardown_ack1 teardown_fin2 teardown_ack2 reset \
        retransmit out_of_state; do
        check_eq "$t: phase $p = capture" "$(phase "$js" "$p")" \
            "$(model "j['phases']['$p']")"
    done
    check_eq "$t: sum of phases = TCP segments captured (both directions)" \
        "$(json_get "$js" 'sum(j["phases"].values())')" "$(model 'j["plain"]["total"]')"
    echo "# $t: captured $(model 'j["plain"]["total"]') TCP segments," \
        "$(model 'j["plain"]["received"]') received," \
        "$(model 'j["plain"]["sent_with_data"]') sent with payload"
}

# conn_delta T BEFORE AFTER NAME WANT
conn_delta() {
    local a b
    a=$(conn "$2" "$4")
    b=$(conn "$3" "$4")
    if [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ ]]; then
        check_eq "$1: connections.$4 +$5" "$((b - a))" "$5"
    else
        fail "$1: connections.$4 +$5" "cannot read them: '$a', '$b'"
    fi
}

# conn_deltas NAME BEFORE AFTER KIND N [KIND N]...: conn_delta for each pair
conn_deltas() {
    local name=$1 a=$2 b=$3
    shift 3
    while [ $# -ge 2 ]; do
        conn_delta "$name" "$a" "$b" "$1" "$2"
        shift 2
    done
}

# check_orderly NAME BEFORE AFTER N: N connections opened and closed in
# order, by tcpflags' counters and by the capture
check_orderly() {
    conn_deltas "$1" "$2" "$3" opened "$4" closed "$4"
    check_eq "$1: capture: $4 handshakes, $4 orderly closes" \
        "$(model '(j["events"]["opened"], j["events"]["closed"])')" "($4, $4)"
}

# attach_lab ARGS...: a new lab with servers and tcpflags attached.
attach_lab() {
    new_lab
    start_servers || return 1
    local rc=0
    srv "$TCPF" attach "$LAB_SRV_IF" "$@" >"$TMP/$LAB.attach" 2>&1 || rc=$?
    check_eq "$LAB: attach $*" "$rc" 0
    [ "$rc" -eq 0 ]
}

# ---------------------------------------------------------- the scenarios

curls() {   # FAMILY COUNT: curl the blob, COUNT times
    local i rc ok=0 url
    if [ "$1" = 4 ]; then url="http://$LAB_SRV4:$PORT/blob"
    else url="http://[$LAB_SRV6]:$PORT/blob"; fi
    for ((i = 0; i < $2; i++)); do
        rc=0
        cli curl -s -g -o /dev/null --noproxy '*' -m 5 "$url" || rc=$?
        [ "$rc" -eq 0 ] && ok=$((ok + 1))
    done
    echo "$ok"
}

s1_orderly() {
    local t=s1-curl before js n=$((N4 + N6))
    cap_start $t || return
    before=$(stats)
    check_eq "$t: curl over IPv4 ok" "$(curls 4 "$N4")" "$N4"
    check_eq "$t: curl over IPv6 ok" "$(curls 6 "$N6")" "$N6"
    cap_stop
    wait_tick "$LAB-srv"                    # a pass after the last segment
    js=$(stats)
    check_orderly "$t" "$before" "$js" "$n"
    check_eq "$t: capture: nothing sent again" "$(model 'j["phases"]["retransmit"]')" 0
    check_eq "$t: handshake_syn = SYN segments" "$(phase "$js" handshake_syn)" \
        "$(model 'j["plain"]["syn"]')"
    check_eq "$t: handshake_synack = SYN|ACK segments" "$(phase "$js" handshake_synack)" \
        "$(model 'j["plain"]["synack"]')"
    check_eq "$t: handshake_ack = connections" "$(phase "$js" handshake_ack)" "$n"
    check_eq "$t: teardown_fin1 + teardown_fin2 = FIN segments" \
        "$(json_get "$js" 'j["phases"]["teardown_fin1"] + j["phases"]["teardown_fin2"]')" \
        "$(model 'j["plain"]["fin"]')"
    check_eq "$t: teardown_fin1 = teardown_fin2 = connections" \
        "$(json_get "$js" '(j["phases"]["teardown_fin1"], j["phases"]["teardown_fin2"])')" \
        "($n, $n)"
    check_eq "$t: teardown_ack2 = connections" "$(phase "$js" teardown_ack2)" "$n"
    check_eq "$t: reset, retransmit, out_of_state = 0" \
        "$(json_get "$js" '[j["phases"][p] for p in ("reset", "retransmit", "out_of_state")]')" \
        "[0, 0, 0]"
    check_phases "$t" "$js"
    # curl closed first: the server went CLOSE_WAIT, LAST_ACK, CLOSED
    check_eq "$t: capture: curl sent every first FIN" "$(model 'j["plain"]["first_fin_local"]')" 0
    check_eq "$t: states: none (every connection closed and gone)" \
        "$(json_get "$js" 'sum(j["states"].values())')" 0
    check_eq "$t: flows lists nothing" "$(flows_ports)" "-"
    check_srcs "$t" "$js" "$LAB_CLI4" "$N4" "$LAB_CLI6" "$N6"
}

# s2_reset_one T WHO MODE: one connection, reset by WHO (client.py MODE:
# rst, the client resets; srvrst, the server does; SO_LINGER 0 both)
s2_reset_one() {
    local t=$1 who=$2 mode=$3 out rel pid port mid after
    out="$TMP/$t.$mode" rel="$TMP/$t.$mode.release"
    cli "$PY" "$TMP/client.py" "$mode" "$LAB_SRV4" "$PORT" "$rel" >"$out" 2>&1 &
    pid=$!
    wait_for 30 test -s "$out"
    port=$(head -n 1 "$out")
    # established at the server: the handshake's ACK went through XDP
    wait_for 30 eval "srv ss -Htn state established '( dport = :$port )' | grep -q ."
    check_eq "$t: $who-reset connection listed established" \
        "$(flows_ports --state established)" "$port"
    mid=$(stats)
    touch "$rel"
    wait "$pid"
    if [ "$who" = server ]; then
        check_eq "$t: server RST: the client saw the reset" "$(sed -n 2p "$out")" reset
    fi
    # the server's socket is gone: the RST went through XDP (client) or
    # the egress observer (server) first
    check_true "$t: $who RST: the server's socket goes" "still there" \
        wait_for 30 eval "! srv ss -Htan '( dport = :$port )' | grep -q ."
    after=$(stats)
    conn_delta "$t: $who RST" "$mid" "$after" reset 1
    check_eq "$t: $who RST: phase reset +1" \
        "$(($(phase "$after" reset) - $(phase "$mid" reset)))" 1
    check_eq "$t: $who RST: gone from flows" "$(flows_ports | grep -cw "$port")" 0
}

s2_resets() {
    local t=s2-reset before js
    cap_start $t || return
    before=$(stats)
    s2_reset_one $t client rst
    s2_reset_one $t server srvrst
    cap_stop
    js=$(stats)
    conn_deltas "$t" "$before" "$js" opened 2 reset 2 closed 0 refused 0
    check_eq "$t: capture: 2 RSTs, no FIN" "$(model '(j["plain"]["rst"], j["plain"]["fin"])')" "(2, 0)"
    check_phases "$t" "$js"
    check_srcs "$t" "$js" "$LAB_CLI4" 2
}

s3_refused() {
    local t=s3-refused before js
    cap_start $t || return
    before=$(stats)
    check_eq "$t: connect to a closed port refused" \
        "$(cli "$PY" "$TMP/client.py" refused "$LAB_SRV4" "$CLOSED_PORT")" refused
    cap_stop
    js=$(stats)
    conn_deltas "$t" "$before" "$js" refused 1 reset 0 opened 0
    check_eq "$t: phases handshake_syn 1, reset 1, nothing else" \
        "$(json_get "$js" '(j["phases"]["handshake_syn"], j["phases"]["reset"], sum(j["phases"].values()))')" \
        "(1, 1, 2)"
    check_phases "$t" "$js"
    check_srcs "$t" "$js" "$LAB_CLI4" 1
}

SYN_RECV_T=5      # lab 1's syn_recv timeout
TIME_WAIT_T=8     # lab 1's time_wait timeout

s4_half_open() {
    local t=s4-half-open before js last base i n t_b t_e expired=no verdict
    # the source is a lab address nobody holds: the server's SYN-ACK goes to
    # the client's MAC, whose stack (not forwarding) drops it, answering
    # nothing.  One SYN-ACK retransmission (~1 s), then the server gives up
    # (~3 s); the entry lives on until SYN_RECV_T s after that last SYN-ACK.
    srv ip neigh replace "$HALF_SRC" lladdr "$(mac_of "$LAB-cli" "$LAB_CLI_IF")" \
        dev "$LAB_SRV_IF" nud permanent
    srv sysctl -qw net.ipv4.tcp_synack_retries=1
    cli sysctl -qw net.ipv4.ip_forward=0
    cap_start $t || return
    before=$(stats)
    base=$(conn "$before" half_open_expired)
    cli "$PY" "$TMP/craft.py" syn "$LAB_CLI_IF" "$(mac_of "$LAB-cli" "$LAB_CLI_IF")" \
        "$(mac_of "$LAB-srv" "$LAB_SRV_IF")" "$HALF_SRC" "$LAB_SRV4" "$PORT" 40404 1000
    # the server holds it half-open: the SYN went through XDP; then a
    # reaper pass recounts it
    check_true "$t: the server's stack holds the half-open connection" "no SYN-RECV" \
        wait_for 30 eval "srv ss -Htan state syn-recv '( dport = :40404 )' | grep -q ."
    wait_tick "$LAB-srv"
    js=$(stats)
    check_eq "$t: after a reaper pass: half_open 1, states.syn_recv 1" \
        "$(json_get "$js" '(j["connections"]["half_open"], j["states"]["syn_recv"])')" "(1, 1)"
    check_eq "$t: flows --state syn_recv lists it" "$(flows_ports --state syn_recv)" 40404
    # wait for it to expire (the reaper counts half_open_expired), noting
    # when each read began and ended and what it saw
    : >"$TMP/$t.reads"
    for ((i = 0; i < 300; i++)); do
        t_b=$(date +%s.%N)
        n=$(conn "$(stats)" half_open_expired)
        t_e=$(date +%s.%N)
        echo "$t_b $t_e $n" >>"$TMP/$t.reads"
        if [[ $n =~ ^[0-9]+$ ]] && [ "$n" -gt "$base" ]; then
            expired=yes
            break
        fi
        sleep 0.2
    done
    echo "# $t: expired after $((i + 1)) reads"
    check_eq "$t: it expires (half_open_expired +1)" "$expired" yes
    # the gauges of the same pass may not be written yet: the next one's
    wait_tick "$LAB-srv"
    check_eq "$t: half_open back to 0 once it expired" "$(conn "$(stats)" half_open)" 0
    cap_stop
    js=$(stats)
    check_eq "$t: capture: SYN, SYN|ACK, one SYN|ACK again, nothing back" \
        "$(model '(j["plain"]["total"], j["plain"]["syn"], j["plain"]["synack"], j["plain"]["rst"])')" \
        "(3, 1, 2, 0)"
    check_eq "$t: the SYN-ACK retransmission counted as retransmit" \
        "$(phase "$js" retransmit)" 1
    check_phases "$t" "$js"
    conn_deltas "$t" "$before" "$js" half_open_expired 1 opened 0 refused 0
    check_srcs "$t: a spoofed source" "$js" "$HALF_SRC" 1
    # not before its timeout: every read that ended before the last
    # segment + SYN_RECV_T saw it live, and one that began after that
    # segment did (the capture's clock and date's are the realtime clock)
    last=$(model 'j["last"]["synack"]')
    verdict=$("$PY" - "$TMP/$t.reads" "$last" "$SYN_RECV_T" "$base" <<'PYEOF2'
import sys
reads = [l.split() for l in open(sys.argv[1]) if l.strip()]
last, tmo, base = float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
early = [r for r in reads if float(r[1]) < last + tmo and r[2] != base]
gone = [r for r in reads if r[2] != base]
if gone:
    sys.stderr.write("# s4-half-open: first seen expired %.2f-%.2f s after "
                     "its last segment\n" % (float(gone[0][0]) - last,
                                              float(gone[0][1]) - last))
live_after = [r for r in reads if float(r[0]) > last and r[2] == base]
if early:
    print("expired in a read that ended %.2f s after its last segment"
          % (float(early[0][1]) - last))
elif not live_after:
    print("no read after its last segment saw it live")
else:
    print("ok")
PYEOF2
)
    echo "# $t: seen live $(awk -v l="$last" -v b="$base" '$3 == b && $1 > l' "$TMP/$t.reads" | wc -l) times after its last segment"
    check_eq "$t: not expired before $SYN_RECV_T s after its last segment" "$verdict" ok
}

s5_ipv6() {
    local t=s5-ipv6 before js out tw
    cap_start $t || return
    before=$(stats)
    out=$(cli "$PY" "$TMP/client.py" bye "$LAB_SRV6" "$PORT" "$N5" 5000 2>&1)
    check_eq "$t: $N5 IPv6 connections, the server closing first" "$(wc -w <<<"$out")" "$N5"
    cap_end
    wait_tick "$LAB-srv"                    # a pass after the last segment
    # read at once: TIME_WAIT ends TIME_WAIT_T s after the last segment
    js=$(stats)
    tw=$(flows_ports --state time_wait)
    cap_model
    check_orderly "$t" "$before" "$js" "$N5"
    check_eq "$t: all IPv6" "$(json_get "$js" 'j["packets"]["ipv4_tcp"]')" 0
    check_eq "$t: teardown_fin1, teardown_fin2, teardown_ack2 = connections" \
        "$(json_get "$js" '(j["phases"]["teardown_fin1"], j["phases"]["teardown_fin2"], j["phases"]["teardown_ack2"])')" \
        "($N5, $N5, $N5)"
    check_phases "$t" "$js"
    # the server closed first: FIN_WAIT1, FIN_WAIT2, TIME_WAIT
    check_eq "$t: capture: the server sent every first FIN" \
        "$(model 'j["plain"]["first_fin_local"]')" "$N5"
    check_eq "$t: states: $N5 in time_wait, none elsewhere" \
        "$(json_get "$js" '(j["states"]["time_wait"], sum(j["states"].values()))')" "($N5, $N5)"
    check_eq "$t: flows --state time_wait lists them" \
        "$tw" "$(sorted_words "$out")"
    check_srcs "$t" "$js" "$LAB_CLI6" "$N5"
    S5_AFTER=$js
}

s8_syn_sources() {
    local t=s8-syn-sources js n=5 k=7
    cap_start $t || return
    js=$(stats)
    check_eq "$t: reset emptied syn_sources" "$(srcs_json "$js")" "[]"
    check_eq "$t: plain stats: no SYN sources line when empty" "$(srcs_line)" "-"
    check_eq "$t: curl over IPv4 ok" "$(curls 4 "$n")" "$n"
    js=$(stats)
    check_eq "$t: after $n curls: the client with $n" "$(srcs_json "$js")" \
        "$(srcs_want "$LAB_CLI4" "$n")"
    check_eq "$t: plain stats line after $n curls" "$(srcs_line)" \
        "SYN sources (most SYNs): $LAB_CLI4 $n"
    hping "$k"
    cap_stop
    js=$(stats)
    check_eq "$t: capture: $n + $k SYNs, all from the client" \
        "$(model '(j["plain"]["syn"], j["plain"]["syn_received"])')" "($((n + k)), $((n + k)))"
    check_srcs "$t: after $k hping3 SYNs" "$js" "$LAB_CLI4" $((n + k))
    check_eq "$t: plain stats line after $k hping3 SYNs" "$(srcs_line)" \
        "SYN sources (most SYNs): $LAB_CLI4 $((n + k))"
    check_rc "$t: reset" 0 srv "$TCPF" reset "$LAB_SRV_IF"
    check_eq "$t: reset empties syn_sources" "$(srcs_json "$(stats)")" "[]"
    check_eq "$t: plain stats: no SYN sources line after reset" "$(srcs_line)" "-"
    hping 2
    check_eq "$t: counting again after reset" "$(srcs_json "$(stats)")" \
        "$(srcs_want "$LAB_CLI4" 2)"
}

lab1() {
    attach_lab --timeout syn_recv=$SYN_RECV_T --timeout time_wait=$TIME_WAIT_T || return
    local start js
    start=$(stats)
    s1_orderly
    s2_resets
    s3_refused
    s5_ipv6
    s4_half_open
    # scenario 5's TIME_WAIT ends, quietly: waited for
    check_true "lab1: scenario 5's TIME_WAIT ends: time_wait gauge 0, not listed" \
        "$(state "$(stats)" time_wait) $(flows_ports --state time_wait)" \
        wait_for 60 eval '[ "$(state "$(stats)" time_wait) $(flows_ports --state time_wait)" = "0 -" ]'
    js=$(stats)
    conn_delta "lab1: TIME_WAIT ending" "$S5_AFTER" "$js" expired 0
    conn_delta "lab1: TIME_WAIT ending" "$S5_AFTER" "$js" closed 0
    js=$(stats)
    conn_delta "lab1: in all" "$start" "$js" evicted 0
    conn_delta "lab1: in all" "$start" "$js" half_open_evicted 0
    s8_syn_sources
}

lab2_flood() {
    attach_lab || return
    local t=s6-flood before js rel="$TMP/s6.release" pid ports sent n
    cap_start $t || return
    before=$(stats)
    cli "$PY" "$TMP/client.py" hold "$LAB_SRV4" "$PORT" "$K" "$rel" >"$TMP/$t.hold" 2>&1 &
    pid=$!
    wait_for 30 test -s "$TMP/$t.hold"
    ports=$(sorted_words "$(head -n 1 "$TMP/$t.hold")")
    check_eq "$t: $K connections held open" "$(wc -w <<<"$ports")" "$K"
    # established at the server: their handshakes' ACKs went through XDP
    wait_for 30 eval "[ \$(srv ss -Htn state established '( sport = :$PORT )' | wc -l) -ge $K ]"
    js=$(stats)
    conn_delta "$t: before the flood" "$before" "$js" opened "$K"
    before=$js
    sent=$(cli "$PY" "$TMP/craft.py" flood "$LAB_CLI_IF" "$(mac_of "$LAB-cli" "$LAB_CLI_IF")" \
        "$(mac_of "$LAB-srv" "$LAB_SRV_IF")" "$LAB_SRV4" "$PORT" "$M" 2>"$TMP/$t.craft.err")
    check_eq "$t: $M spoofed SYNs sent" "$sent" "$M"
    lab_sync                                # the flood went through XDP
    wait_tick "$LAB-srv"                    # and a pass after it
    js=$(stats)
    check_eq "$t: states.established = $K" "$(state "$js" established)" "$K"
    check_eq "$t: flows --state established lists exactly the $K" \
        "$(flows_ports --state established)" "$ports"
    conn_delta "$t: flood" "$before" "$js" opened 0
    conn_delta "$t: flood" "$before" "$js" evicted 0
    # (and half_open_expired: should the run stall past the default timeout)
    n=$("$PY" -c 'import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
d = lambda k: b["connections"][k] - a["connections"][k]
print(b["states"]["syn_recv"] + d("half_open_evicted") + d("half_open_expired"))' \
        "$before" "$js" 2>/dev/null || echo "cannot read stats")
    check_eq "$t: states.syn_recv + half_open_evicted + half_open_expired = $M" "$n" "$M"
    check_eq "$t: half_open = states.syn_recv (no syn_sent)" \
        "$(json_get "$js" '(j["connections"]["half_open"] - j["states"]["syn_recv"], j["states"]["syn_sent"])')" "(0, 0)"
    echo "# $t: syn_recv $(state "$js" syn_recv), half_open_evicted $(conn "$js" half_open_evicted)"
    touch "$rel"
    wait "$pid"
    cap_stop
    js=$(stats)
    conn_delta "$t: after closing the $K" "$before" "$js" closed "$K"
    conn_delta "$t: after closing the $K" "$before" "$js" reset 0
    check_eq "$t: capture: $M SYNs from 198.18/16, no TCP segment back to them" \
        "$(model '(j["plain"]["from_198_18"], j["plain"]["to_198_18"])')" "($M, 0)"
    check_eq "$t: capture: no frame at all toward 198.18/16 (no route: no SYN-ACK, no ICMP)" \
        "$(tshark -r "$TMP/$t.pcap" -Y 'ip.dst == 198.18.0.0/16' 2>/dev/null | wc -l)" 0
    check_eq "$t: handshake_syn = $M + $K" "$(phase "$js" handshake_syn)" "$((M + K))"
    check_phases "$t" "$js"
    check_eq "$t: no established flow left" "$(flows_ports --state established)" "-"
}

lab3_ingress_only() {
    attach_lab --ingress-only || return
    local t=s7-ingress-only before js n=3 ing syn
    cap_start $t || return
    before=$(stats)
    check_eq "$t: curl over IPv4 ok" "$(curls 4 "$n")" "$n"
    cap_stop
    js=$(stats)
    # what XDP sees: the segments toward the server
    ing=$(model 'j["plain"]["received"]')
    syn=$(model 'j["plain"]["syn_received"]')
    conn_deltas "$t" "$before" "$js" opened 0 closed 0
    check_eq "$t: handshake_syn = SYNs received" "$(phase "$js" handshake_syn)" "$syn"
    check_eq "$t: out_of_state = every other segment received" \
        "$(phase "$js" out_of_state)" "$((ing - syn))"
    check_eq "$t: sum of phases = segments received (egress not observed)" \
        "$(json_get "$js" 'sum(j["phases"].values())')" "$ing"
    check_eq "$t: no SYN-ACK, ACK or FIN phase" \
        "$(json_get "$js" 'sum(j["phases"][p] for p in ("handshake_synack", "handshake_ack", "established", "teardown_fin1", "teardown_ack1", "teardown_fin2", "teardown_ack2"))')" 0
}

# syn_count JSON: SYN segments the flag counters saw (both families)
syn_count() { json_get "$1" 'sum(f["packets"] for f in j["flags"] if f["bits"] == 2)'; }

lab4_no_flows() {
    attach_lab --no-flows || return
    local t=s9-no-flows js before n=3 k=4
    check_rc "$t: reset" 0 srv "$TCPF" reset "$LAB_SRV_IF"
    before=$(stats)
    check_eq "$t: curl over IPv4 ok" "$(curls 4 "$n")" "$n"
    hping "$k"
    js=$(stats)
    check_eq "$t: the flag counters saw the $n + $k SYNs" \
        "$(($(syn_count "$js") - $(syn_count "$before")))" $((n + k))
    check_eq "$t: --no-flows and no rules: SYNs not counted, syn_sources stays []" \
        "$(srcs_json "$js")" "[]"
    check_eq "$t: --no-flows and no rules: no SYN sources line" "$(srcs_line)" "-"
    # a live rule set: the segment path runs, and the sources are counted
    # before the rules, so the SYNs a rule drops are counted too
    check_rc "$t: rule add --syn src $LAB_CLI4/32 drop" 0 \
        srv "$TCPF" rule add "$LAB_SRV_IF" --syn src "$LAB_CLI4/32" drop
    before=$(stats)
    hping "$k"
    js=$(stats)
    check_eq "$t: with a rule: the flag counters saw $k SYNs, the rule dropped them" \
        "$(($(syn_count "$js") - $(syn_count "$before"))) $(json_get "$js" 'j["drops"]["rule"]')" "$k $k"
    check_eq "$t: with a rule: the $k SYNs it drops are counted, syn_sources = the client with $k" \
        "$(srcs_json "$js")" "$(srcs_want "$LAB_CLI4" "$k")"
    check_eq "$t: with a rule: plain stats line" "$(srcs_line)" \
        "SYN sources (most SYNs): $LAB_CLI4 $k"
    check_rc "$t: rule flush" 0 srv "$TCPF" rule flush "$LAB_SRV_IF"
    hping 2
    check_eq "$t: rules flushed: not counted again, syn_sources keeps $k" \
        "$(srcs_json "$(stats)")" "$(srcs_want "$LAB_CLI4" "$k")"
}

# ------------------------------------------------------------------- main

if [ ! -x "$TCPF" ]; then
    fail "tcpflags binary" "$TCPF missing (run make)"
    exit 1
fi
for tool in tcpdump tshark curl "$HPING"; do
    command -v "$tool" >/dev/null || fail "tool $tool" "not installed"
done
"$PY" -c 'import scapy.all' 2>/dev/null || fail "scapy" "not importable by $PY"
[ "$T_FAILED" -eq 0 ] || exit 1

T_START=$SECONDS
lab1
lab2_flood
lab3_ingress_only
lab4_no_flows
echo "# 30-flows: $((SECONDS - T_START)) s"
t_done
