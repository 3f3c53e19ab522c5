#!/bin/bash
# 20-traffic.sh - tcpflags against an independent capture, on real traffic.
#
# In one lab per attach mode (native, then skb), tcpflags watches tcpf-srv
# while tcpdump captures the same ingress.  The client namespace drives
# mixed traffic at the server: kernel TCP (curl over IPv4 and IPv6, a
# closed port), nmap scans (SYN, NULL, Xmas, FIN, ACK; IPv4 and IPv6),
# hping3 odd flag combinations, and scapy frames (IPv6 odd flags,
# 802.1Q and QinQ tagged TCP).  Then, for every flag byte value, the packet
# and byte counts of tcpflags must equal what tshark finds in the capture,
# and the patterns sent on purpose must show up with exactly the counts,
# frame lengths and validity they were sent with.
#
# Every frame in these labs is passed by tcpflags, so the capture (which
# sees frames after XDP, at the taps) must see exactly what XDP saw.
set -u
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"

HPING=/usr/sbin/hping3
HTTP_PORT=8080     # the server's listening port
CLOSED_PORT=9      # nothing listens here: the server answers RST (egress)

t_tmp traffic

# The odd segments sent on purpose, each with a flag byte nothing else in
# the lab produces:  bits count frame-length valid(conntrack) hping3-args.
# hping3 (IPv4, no tag): 14 Ethernet + 20 IP + 20 TCP (+ options, data).
# Each hping3 gets a closed port of its own: hping3 takes any segment from
# its destination port as one of its replies, and stops after -c replies,
# so instances sharing a port (or nmap's port) would cut each other short.
HPING_SENDS=(
    "3   5 54  false -S -F -p 20001"
    "6   4 54  false -S -R -p 20002"
    "233 3 54  false -F -P -U -X -Y -p 20003"
    "194 3 58  true  -S -X -Y --tcp-mss 1400 -p 20004"
    "56  3 174 true  -A -P -U -d 120 -p 20005"
    "255 2 54  false -F -S -R -P -A -U -X -Y -p 20006"
)

# scapy: IPv6 odd flags and tagged frames; prints the same table it sent.
cat >"$TMP/send.py" <<'EOF'
import sys
from scapy.all import Ether, Dot1Q, Dot1AD, IP, IPv6, TCP, Raw, sendp
iface, smac, dmac, c4, s4, c6, s6, oport, cport = sys.argv[1:10]
oport, cport = int(oport), int(cport)

def v4(): return IP(src=c4, dst=s4)
def v6(): return IPv6(src=c6, dst=s6)

# (tags, ip, flag byte, count, dport, payload, valid for conntrack)
SENDS = [
    ([], v6, 0x23, 4, oport, b"", False),          # SYN|FIN|URG
    ([], v6, 0x05, 3, cport, b"", False),          # FIN|RST
    ([], v6, 0x60, 2, oport, b"abc", False),       # URG|ECE + data
    ([0x8100], v4, 0x52, 3, oport, b"", True),     # 802.1Q SYN|ACK|ECE
    ([0x8100], v6, 0x84, 2, cport, b"", True),     # 802.1Q RST|CWR
    ([0x88a8, 0x8100], v4, 0x0b, 3, oport, b"", False),   # QinQ SYN|FIN|PSH
    ([0x88a8, 0x8100], v6, 0x30, 2, cport, b"q" * 40, True),  # QinQ ACK|URG
]
frames = []
for tags, ip, flags, count, dport, data, valid in SENDS:
    for i in range(count):
        f = Ether(src=smac, dst=dmac)
        for n, tpid in enumerate(tags):
            f = f / (Dot1AD if tpid == 0x88a8 else Dot1Q)(vlan=100 + 100 * n)
        f = f / ip() / TCP(sport=41000 + i, dport=dport, flags=flags,
                           seq=1000 + i, ack=0 if not flags & 0x10 else 7)
        if data:
            f = f / Raw(data)
        frames.append(f)
    print(flags, count, len(bytes(frames[-1])), "true" if valid else "false",
          "scapy", "+".join(hex(t) for t in tags) or "untagged",
          "IPv6" if ip is v6 else "IPv4")
sendp(frames, iface=iface, verbose=False)
EOF

# Compare tcpflags' JSON with tshark's view of the capture, and with the
# table of deliberate sends; prints "label<TAB>got<TAB>want" lines.
cat >"$TMP/compare.py" <<'EOF'
import json, sys
stats = json.load(open(sys.argv[1]))
cap = {}                      # flag byte -> [packets, bytes]
fam = {"tcp": 0, "ipv4_tcp": 0, "ipv6_tcp": 0}
for line in open(sys.argv[2]):
    line = line.rstrip("\n")
    if not line:
        continue
    flen, flags, ip6ver = line.split(",")
    bits = int(flags, 16) & 0xff      # tshark adds the AE (ex-NS) bit
    c = cap.setdefault(bits, [0, 0])
    c[0] += 1
    c[1] += int(flen)
    fam["tcp"] += 1
    fam["ipv6_tcp" if ip6ver else "ipv4_tcp"] += 1
got = {f["bits"]: f for f in stats["flags"]}

def out(label, g, w):
    print(f"{label}\t{g}\t{w}")

for bits in sorted(set(cap) | set(got)):
    g = got.get(bits)
    name = g["name"] if g else "-"
    gv = f"{g['packets']} pkts {g['bytes']} B" if g else "absent"
    c = cap.get(bits)
    cv = f"{c[0]} pkts {c[1]} B" if c else "absent"
    out(f"flags 0x{bits:02x} {name}: tcpflags = capture", gv, cv)
p = stats["packets"]
out("TCP totals (tcp ipv4 ipv6): tcpflags = capture",
    f"{p['tcp']} {p['ipv4_tcp']} {p['ipv6_tcp']}",
    f"{fam['tcp']} {fam['ipv4_tcp']} {fam['ipv6_tcp']}")
out("TCP segments in the capture (enough traffic ran)",
    "yes" if fam["tcp"] >= 60 else f"only {fam['tcp']}", "yes")
out("no malformed frames, no TCP fragments",
    f"{p['malformed']} {p['tcp_fragment']}", "0 0")

# the deliberate sends: exact count, bytes, validity
for line in open(sys.argv[3]):
    w = line.split()
    bits, count, flen, valid, what = int(w[0]), int(w[1]), int(w[2]), w[3], " ".join(w[4:])
    g = got.get(bits)
    gv = f"{g['packets']} pkts {g['bytes']} B valid={str(g['valid']).lower()}" if g else "absent"
    out(f"sent 0x{bits:02x} ({what}) counted exactly", gv,
        f"{count} pkts {count * flen} B valid={valid}")
# validity of patterns that real stacks and scanners produce
for bits, valid in ((0x02, True), (0x10, True), (0x18, True), (0x11, True),
                    (0x04, True), (0x00, False), (0x01, False), (0x29, False)):
    g = got.get(bits)
    out(f"valid flag of 0x{bits:02x}", str(g["valid"]).lower() if g else "absent",
        str(valid).lower())
EOF

mkdir -p "$TMP/www"
head -c 6000 /dev/zero | tr '\0' 'x' >"$TMP/www/blob"
PAD=$(head -c 3000 /dev/zero | tr '\0' 'p')   # a request header > one MSS

mac_of() {   # NS DEV
    ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}


# The traffic: everything from the client namespace, toward the server.
drive_traffic() {
    local t=$1 i rc pids=() spec
    local -a curl=(curl -s -o /dev/null --noproxy '*' -m 5)

    # kernel TCP: SYN, ACK, PSH|ACK, FIN|ACK, multi-segment requests
    for i in 1 2 3; do
        rc=0; cli "${curl[@]}" "http://$LAB_SRV4:$HTTP_PORT/blob" || rc=$?
        check_eq "$t: curl IPv4 #$i" "$rc" 0
        rc=0; cli "${curl[@]}" -g "http://[$LAB_SRV6]:$HTTP_PORT/blob" || rc=$?
        check_eq "$t: curl IPv6 #$i" "$rc" 0
    done
    rc=0; cli "${curl[@]}" -H "X-Pad: $PAD" "http://$LAB_SRV4:$HTTP_PORT/" || rc=$?
    check_eq "$t: curl IPv4, request of several segments" "$rc" 0
    rc=0; cli "${curl[@]}" -H "X-Pad: $PAD" -g "http://[$LAB_SRV6]:$HTTP_PORT/" || rc=$?
    check_eq "$t: curl IPv6, request of several segments" "$rc" 0
    # closed port: our SYN in, the RST goes out (not seen)
    rc=0; cli "${curl[@]}" "http://$LAB_SRV4:$CLOSED_PORT/" || rc=$?
    check_eq "$t: curl IPv4 closed port refused" "$rc" 7
    rc=0; cli "${curl[@]}" -g "http://[$LAB_SRV6]:$CLOSED_PORT/" || rc=$?
    check_eq "$t: curl IPv6 closed port refused" "$rc" 7

    # scanners and crafted segments, in parallel (their flag bytes differ)
    (
        local s
        for s in -sS -sN -sX -sF -sA; do
            cli timeout 20 nmap -n -Pn --send-ip "$s" -p "$HTTP_PORT,$CLOSED_PORT" \
                --max-retries 1 --initial-rtt-timeout 50ms \
                --max-rtt-timeout 100ms "$LAB_SRV4" >>"$TMP/$t.nmap.log" 2>&1
        done
        cli timeout 20 nmap -6 -n -Pn --send-ip -sS -p "$HTTP_PORT,$CLOSED_PORT" \
            --max-retries 1 --initial-rtt-timeout 50ms --max-rtt-timeout 100ms \
            "$LAB_SRV6" >>"$TMP/$t.nmap.log" 2>&1
    ) &
    pids+=($!)
    for spec in "${HPING_SENDS[@]}"; do
        # shellcheck disable=SC2086  # spec holds hping3's flag arguments
        set -- $spec
        cli timeout 20 "$HPING" "${@:5}" -c "$2" -i u20000 "$LAB_SRV4" \
            >>"$TMP/$t.hping.log" 2>&1 &
        pids+=($!)
    done
    rc=0
    cli timeout 20 "$PY" "$TMP/send.py" "$LAB_CLI_IF" "$(mac_of "$LAB-cli" "$LAB_CLI_IF")" \
        "$(mac_of "$LAB-srv" "$LAB_SRV_IF")" "$LAB_CLI4" "$LAB_SRV4" \
        "$LAB_CLI6" "$LAB_SRV6" "$HTTP_PORT" "$CLOSED_PORT" \
        >"$TMP/$t.scapy" 2>"$TMP/$t.scapy.err" || rc=$?
    check_eq "$t: scapy sent its frames" "$rc $(wc -l <"$TMP/$t.scapy")" "0 7"
    wait "${pids[@]}"
    check_eq "$t: nmap scans ran" "$(grep -c 'Nmap done' "$TMP/$t.nmap.log")" 6
}

# one_round MODE: a fresh lab, tcpflags in MODE, capture, traffic, compare.
one_round() {
    local mode=$1 t=$1 pcap="$TMP/$1.pcap" http tcpd rc json spec

    new_lab
    # the server, and warm neighbour caches so no request waits on ND/ARP
    nsenter --net="/run/netns/$LAB-srv" "$PY" -m http.server --bind :: \
        --directory "$TMP/www" "$HTTP_PORT" >"$TMP/$t.http.log" 2>&1 &
    http=$!
    if ! wait_for 30 eval "srv ss -Hltn 'sport = :$HTTP_PORT' | grep -q LISTEN"; then
        fail "$t: http server listening" "not listening after 30 s"
        return
    fi
    cli ping -c 1 -W 2 "$LAB_SRV4" >/dev/null 2>&1
    wait_for 30 cli ping -6 -c 1 -W 1 "$LAB_SRV6"

    rc=0; srv "$TCPF" attach "$LAB_SRV_IF" --mode "$mode" >/dev/null 2>&1 || rc=$?
    check_eq "$t: attach --mode $mode" "$rc" 0
    [ "$rc" -eq 0 ] || return

    nsenter --net="/run/netns/$LAB-srv" tcpdump -i "$LAB_SRV_IF" -Q in -U -n -B 65536 \
        -w "$pcap" 2>"$TMP/$t.tcpdump.err" &
    tcpd=$!
    if ! wait_for 30 grep -q 'listening on' "$TMP/$t.tcpdump.err"; then
        fail "$t: tcpdump listening" "$(cat "$TMP/$t.tcpdump.err")"
        return
    fi
    check_rc "$t: reset counters" 0 srv "$TCPF" reset "$LAB_SRV_IF"

    drive_traffic "$t"

    # every answer has arrived (the lab's connections settled) and
    # markers sent after it are in the capture
    wait_settled "$t" "$LAB-cli" "$LAB-srv"
    lab_sync
    wait_mark "$pcap"
    kill -INT "$tcpd"
    wait "$tcpd"
    check_eq "$t: tcpdump dropped nothing" \
        "$(grep -c '^0 packets dropped by kernel' "$TMP/$t.tcpdump.err")" 1
    json=$(srv "$TCPF" stats "$LAB_SRV_IF" --json)
    echo "$json" >"$TMP/$t.json"
    check_eq "$t: stats report the mode" "$(json_get "$json" 'j["mode"]')" "$mode"
    kill "$http" 2>/dev/null
    wait "$http" 2>/dev/null

    # the capture as tshark dissects it: TCP segments only (no ICMP
    # errors quoting a TCP header, no reassembly of IP fragments)
    timeout 60 tshark -r "$pcap" -o ip.defragment:FALSE -o ipv6.defragment:FALSE \
        -Y 'tcp && !icmp && !icmpv6' -T fields -E separator=, \
        -e frame.len -e tcp.flags -e ipv6.version >"$TMP/$t.tshark" \
        2>"$TMP/$t.tshark.err"
    check_eq "$t: tshark read the capture" "$?" 0

    { for spec in "${HPING_SENDS[@]}"; do
        # shellcheck disable=SC2086
        set -- $spec
        echo "$1 $2 $3 $4 hping3 ${*:5}"
      done
      cat "$TMP/$t.scapy"; } >"$TMP/$t.expect"

    local label got want
    rc=0
    "$PY" "$TMP/compare.py" "$TMP/$t.json" "$TMP/$t.tshark" "$TMP/$t.expect" \
        >"$TMP/$t.compare" 2>"$TMP/$t.compare.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "$t: compare tcpflags with the capture" "$(tail -n 1 "$TMP/$t.compare.err")"
        return
    fi
    while IFS=$'\t' read -r label got want; do
        check_eq "$t: $label" "$got" "$want"
    done <"$TMP/$t.compare"
    echo "# $t: $(json_get "$json" 'j["packets"]')"
}

if [ ! -x "$TCPF" ]; then
    fail "tcpflags binary" "$TCPF missing (run make)"
    exit 1
fi
for tool in tcpdump tshark nmap curl "$HPING"; do
    command -v "$tool" >/dev/null || fail "tool $tool" "not installed"
done
"$PY" -c 'import scapy.all' 2>/dev/null || fail "scapy" "not importable by $PY"
[ "$T_FAILED" -eq 0 ] || exit 1

one_round native
one_round skb
t_done
