#!/bin/bash
# lab.sh - tcpflags on a built-in lab: no spare NIC needed.
#
#   scripts/lab.sh          build (installing what is missing), make the lab,
#                           attach, drive real TCP traffic, show the stats,
#                           remove the lab
#   scripts/lab.sh --keep   the same, but leave the lab up to explore
#   scripts/lab.sh down     remove a kept lab
#
# The lab: namespaces tcpflags-lab-cli and tcpflags-lab-srv joined by a veth
# pair (see scripts/netns.sh); a small HTTP server on the server side;
# tcpflags attached to the server's veth, counting what arrives.
set -eu
cd "$(dirname "$0")/.."
. scripts/netns.sh

LAB=tcpflags-lab
PORT=8080
TCPF=build/tcpflags
PY=/usr/bin/python3

die() { echo "lab: $*" >&2; exit 1; }
srv() { in_ns "$LAB-srv" "$@"; }
cli() { in_ns "$LAB-cli" "$@"; }

teardown() {
    if ip netns list 2>/dev/null | grep -q "^$LAB-srv"; then
        srv "$TCPF" detach "$LAB_SRV_IF" >/dev/null 2>&1 || true
        ip netns pids "$LAB-srv" | xargs -r kill 2>/dev/null || true
        ip netns pids "$LAB-cli" | xargs -r kill 2>/dev/null || true
    fi
    lab_down "$LAB"
}

[ "$(id -u)" -eq 0 ] || die "run as root: the lab makes network namespaces and loads XDP"
case "${1:-}" in
    down) teardown; echo "lab: removed"; exit 0 ;;
    --keep|"") ;;
    *) die "usage: scripts/lab.sh [--keep|down]" ;;
esac
KEEP=${1:-}

scripts/install-deps.sh
make -s all build/empty.bpf.o build/floodsink.bpf.o build/livegen

teardown
lab_up "$LAB"
[ "$KEEP" = --keep ] || trap teardown EXIT

echo "lab: namespaces $LAB-cli ($LAB_CLI4) and $LAB-srv ($LAB_SRV4), veth $LAB_CLI_IF <-> $LAB_SRV_IF"
srv "$PY" -m http.server --bind :: "$PORT" >/dev/null 2>&1 &
for _ in $(seq 50); do
    cli bash -c "exec 3<>/dev/tcp/$LAB_SRV4/$PORT" 2>/dev/null && break
    sleep 0.1
done

srv "$TCPF" attach "$LAB_SRV_IF"

echo "lab: 20 HTTP requests over IPv4, 10 over IPv6, one to a closed port"
for _ in $(seq 20); do cli curl -s -o /dev/null "http://$LAB_SRV4:$PORT/"; done
for _ in $(seq 10); do cli curl -s -o /dev/null "http://[$LAB_SRV6]:$PORT/"; done
cli curl -s -o /dev/null "http://$LAB_SRV4:9/" || true

echo "lab: one connection held open for a while"
cli "$PY" -c "import socket, time
s = socket.create_connection(('$LAB_SRV4', $PORT))
s.sendall(b'GET / HTTP/1.0\r\n')
time.sleep(30)" >/dev/null 2>&1 &

echo "lab: rules: drop NULL, Xmas and SYN|FIN scans at XDP"
for r in nullscan xmas synfin; do srv "$TCPF" rule add "$LAB_SRV_IF" "$r" drop; done

echo "lab: odd flags from hping3: 3 SYN|FIN, 3 NULL, 3 Xmas (FIN|PSH|URG)"
cli hping3 -q -c 3 -i u10000 -S -F -p "$PORT" "$LAB_SRV4" >/dev/null 2>&1 || true
cli hping3 -q -c 3 -i u10000 -p "$PORT" "$LAB_SRV4" >/dev/null 2>&1 || true
cli hping3 -q -c 3 -i u10000 -F -P -U -p "$PORT" "$LAB_SRV4" >/dev/null 2>&1 || true
# the connection gauges are recounted once a second
sleep 1.5

echo
srv "$TCPF" status
echo
srv "$TCPF" stats "$LAB_SRV_IF"
echo
srv "$TCPF" flows "$LAB_SRV_IF" --limit 8
echo

echo "lab: the SYN-flood guard: auto on port $PORT (cookie while a flood lasts)"
# the server answers the flood's sources through the client side, as it
# would on the Internet; the client drops those answers at XDP
# (floodsink), which also takes the guard's XDP_TX replies (veth delivers
# them only to a peer with an XDP program)
srv ip route add 198.18.0.0/16 via "$LAB_CLI4"
cli ip link set dev "$LAB_CLI_IF" xdpdrv obj build/floodsink.bpf.o sec xdp
srv "$TCPF" guard "$LAB_SRV_IF" auto --port "$PORT" --syn-rate 20000 \
    --calm-rate 5000 --calm 2
MAC=$(srv ip -br link show dev "$LAB_SRV_IF" | awk '{ print $3 }')
echo "lab: 2 s of spoofed SYNs from 198.18.0.0/16 (build/livegen), curl meanwhile"
cli build/livegen "$LAB_CLI_IF" 3000000 --dst-mac "$MAC" \
    --dst "$LAB_SRV4" --dport "$PORT" >/dev/null 2>&1 &
GEN=$!
sleep 1.5
cli curl -s -o /dev/null -w "lab: curl during the flood: HTTP %{http_code} in %{time_total} s\n" \
    --max-time 5 "http://$LAB_SRV4:$PORT/" || echo "lab: curl during the flood failed"
srv "$TCPF" guard "$LAB_SRV_IF"
wait "$GEN" 2>/dev/null || true
echo "lab: the flood is over; the guard disengages after 2 calm seconds"
sleep 4
srv "$TCPF" guard "$LAB_SRV_IF"
echo
if [ "$KEEP" = --keep ]; then
    echo "lab: kept. Try: nsenter --net=/run/netns/$LAB-srv $TCPF stats $LAB_SRV_IF --json"
    echo "lab:   or the dashboard: nsenter --net=/run/netns/$LAB-srv $TCPF top $LAB_SRV_IF"
    echo "lab: remove it with: scripts/lab.sh down"
else
    echo "lab: done; removing the lab (scripts/lab.sh --keep leaves it up)"
fi
