#!/bin/bash
# bench-exporter.sh - what a Prometheus scrape of `tcpflags exporter` costs,
# against `tcpflags stats IFACE --json` on the same interface, measured in
# one run.  `make bench` runs it after scripts/bench-live.sh.  Root.
#
#   scripts/bench-exporter.sh
#
# A lab of its own (scripts/netns.sh, namespaces tcpf-bexp-PID-cli/-srv,
# removed on exit whatever happens).  tcpflags is attached to tcpf-srv with
# 256 rules, one `flags F count` per flag byte F (count: nothing is
# dropped), and scapy sends from tcpf-cli one TCP segment of every flag
# byte over IPv4 and one over IPv6, so all 512 flag-pattern counters and all
# 256 rules' hit counters are non-zero: the largest /metrics there can be
# (but for the rule text).  Then the exporter serves tcpf-srv on
# 127.0.0.1 in the srv namespace and ROUNDS rounds take, in turn:
#   scrape   one GET /metrics over a kept-alive connection (the way
#            Prometheus scrapes): the exporter reads every map afresh and
#            writes the text; timed from request to the body's last byte
#   stats    one run of `tcpflags stats tcpf-srv --json` (a process: its
#            start, reading the same maps, writing JSON), timed to its exit
# Prints the medians:
#   info exporter_scrape ms=M (N series, B bytes)
#   info exporter_vs_stats ratio=R (stats --json S ms)   R = M / S
# No budget: the time of a scrape is information, never asserted.
#
# Environment: BENCH_EXPORTER_ROUNDS (200).
set -eu
cd "$(dirname "$0")/.."
. scripts/netns.sh

LAB=tcpf-bexp-$$
ROUNDS=${BENCH_EXPORTER_ROUNDS:-200}
PY=/usr/bin/python3          # Debian's python, the one with scapy
PORT=9742
IF=$LAB_SRV_IF

die() { echo "bench-exporter: $*" >&2; exit 1; }
srv() { in_ns "$LAB-srv" "$@"; }
cli() { in_ns "$LAB-cli" "$@"; }

[ "$(id -u)" -eq 0 ] || die "run as root: it makes network namespaces and loads XDP"
[ -e build/tcpflags ] || die "build/tcpflags is missing: run make first"
case "$ROUNDS" in ''|*[!0-9]*|0) die "BENCH_EXPORTER_ROUNDS must be a positive number" ;; esac

EXP=""
teardown() {
    [ -z "$EXP" ] || kill "$EXP" 2>/dev/null || true
    if [ -e "/run/netns/$LAB-srv" ]; then
        srv "$TCPF" detach "$IF" >/dev/null 2>&1 || true
    fi
    lab_down "$LAB"
    rm -rf "$TMPD"
}
TMPD=$(mktemp -d /tmp/tcpf-bexp.XXXXXX)
trap teardown EXIT
trap 'exit 130' INT TERM
# a private copy: a rebuild during the run must not change what is measured
cp build/tcpflags "$TMPD/"
TCPF=$TMPD/tcpflags

lab_up "$LAB"
srv "$TCPF" attach "$IF" >/dev/null

# 256 rules: `flags F count` for every flag byte F (names, NONE for 0)
"$PY" - >"$TMPD/all.rules" <<'EOF'
names = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"]
for f in range(256):
    print("flags %s count" % (",".join(n for i, n in enumerate(names) if f >> i & 1) or "NONE"))
EOF
srv "$TCPF" apply "$IF" "$TMPD/all.rules" >/dev/null

# one segment of every flag byte, IPv4 and IPv6, to a closed port
SRV_MAC=$(ip -n "$LAB-srv" -o link show dev "$IF" |
          sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
cli "$PY" - "$LAB_CLI_IF" "$SRV_MAC" "$LAB_CLI4" "$LAB_SRV4" "$LAB_CLI6" "$LAB_SRV6" <<'EOF'
import sys
from scapy.all import Ether, IP, IPv6, TCP, sendp
dev, mac, c4, s4, c6, s6 = sys.argv[1:]
frames = [Ether(dst=mac) / ip / TCP(sport=40000 + f, dport=9, flags=f, seq=1000)
          for ip in (IP(src=c4, dst=s4), IPv6(src=c6, dst=s6)) for f in range(256)]
sendp(frames, iface=dev, verbose=False)
EOF
sleep 0.2

nsenter --net="/run/netns/$LAB-srv" "$TCPF" exporter --listen "127.0.0.1:$PORT" "$IF" >/dev/null 2>"$TMPD/exp.err" &
EXP=$!
for _ in $(seq 50); do
    srv "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" \
        2>/dev/null && break
    sleep 0.1
done

srv "$PY" - "$PORT" "$TCPF" "$IF" "$ROUNDS" <<'EOF' || die "the measurement failed: $(cat "$TMPD/exp.err")"
import http.client, statistics, subprocess, sys, time
port, tcpf, iface, rounds = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

def scrape():
    conn.request("GET", "/metrics")
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise SystemExit("GET /metrics: %d" % r.status)
    return body

def stats():
    subprocess.run([tcpf, "stats", iface, "--json"], check=True,
                   stdout=subprocess.DEVNULL)

for _ in range(5):          # warm both up
    body = scrape()
    stats()
lines = [l for l in body.decode().splitlines() if l and not l.startswith("#")]
segs = sum(1 for l in lines if l.startswith("tcpflags_segments_total{"))
hits = sum(1 for l in lines if l.startswith("tcpflags_rule_hits_total{") and not l.endswith(" 0"))
if segs != 512 or hits != 256:
    raise SystemExit("expected 512 flag patterns and 256 rules hit, got %d and %d" % (segs, hits))
ts, tj = [], []
for _ in range(rounds):
    t0 = time.perf_counter()
    scrape()
    t1 = time.perf_counter()
    stats()
    t2 = time.perf_counter()
    ts.append((t1 - t0) * 1e3)
    tj.append((t2 - t1) * 1e3)
ms, mj = statistics.median(ts), statistics.median(tj)
print()
print("Prometheus exporter: GET /metrics (kept-alive connection) against `tcpflags stats IFACE --json`")
print("(one interface, 256 rules, all 256 flag patterns of both families non-zero; "
      "median of %d interleaved rounds)" % rounds)
print()
print("%-14s %8s %15s" % ("", "ms", "min-max"))
print("%-14s %8.3f %15s" % ("scrape", ms, "%.3f-%.3f" % (min(ts), max(ts))))
print("%-14s %8.3f %15s" % ("stats --json", mj, "%.3f-%.3f" % (min(tj), max(tj))))
print("info exporter_scrape ms=%.3f (%d series, %d bytes)" % (ms, len(lines), len(body)))
print("info exporter_vs_stats ratio=%.2f (stats --json %.3f ms)" % (ms / mj, mj))
EOF
