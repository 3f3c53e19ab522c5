#!/bin/bash
# bench-top.sh - what `tcpflags top` costs: its CPU time per refresh, as a
# share of one core at the default 1 s refresh.  `make bench` runs it.  Root.
#
# A lab of its own (scripts/netns.sh, namespaces tcpf-btop-PID-cli/-srv,
# removed on exit whatever happens).  On tcpf-srv, attached (native mode,
# default table sizes), the worst case the dashboard has to draw:
#   - 256 rules (`tcpflags apply`): one `--tcp-flags ALL <byte> count`
#     rule per flag byte, so every rule has hits;
#   - every one of the 256 flag patterns non-zero in both families, and a
#     full flow table (every way of every bucket: 262144 connections, each
#     opened by a real handshake) - build/bench_top runs the frames through
#     the attached XDP and TC programs (BPF_PROG_TEST_RUN), so they land in
#     the pinned maps as traffic would.  Their SYNs fill the SYN sources;
#   - the guard on (cookie, set once the table is full): the overview
#     draws its panel, and top counts its verified sources (a 1.5 MB read
#     every 5 refreshes at the default 1 s interval).
# Then `tcpflags top --bench N` reads and draws N refreshes of each view
# (every one a full read of the snapshot and a whole-screen repaint into a
# 160x50 curses screen on /dev/null) and measures CLOCK_PROCESS_CPUTIME_ID.
#   ratio = CPU seconds per refresh of the costliest view / 1 s
# Its last line:  budget top_refresh_cpu ratio=R limit=0.05 PASS (or FAIL,
# and the script exits 1)
#
# Environment: BENCH_TOP_REFRESHES (20 per view).
set -eu
cd "$(dirname "$0")/.."
. scripts/netns.sh

LAB=tcpf-btop-$$
N=${BENCH_TOP_REFRESHES:-20}
LIMIT=0.05
IF=$LAB_SRV_IF
TCPF=build/tcpflags

die() { echo "bench-top: $*" >&2; exit 1; }
srv() { in_ns "$LAB-srv" "$@"; }
json() { python3 -c 'import json, sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

[ "$(id -u)" -eq 0 ] || die "run as root: it makes network namespaces and loads XDP"
for f in "$TCPF" build/bench_top; do
    [ -e "$f" ] || die "$f is missing: run make first"
done
TMP=$(mktemp -d /tmp/tcpf-btop.XXXXXX)
cleanup() {
    srv "$TCPF" detach "$IF" >/dev/null 2>&1 || true
    lab_down "$LAB"
    rm -rf "$TMP"
}
trap cleanup EXIT

lab_up "$LAB"
srv "$TCPF" attach "$IF" >/dev/null

# one count rule per flag byte: --tcp-flags ALL NONE, ALL FIN, ALL SYN, ...
names=(FIN SYN RST PSH ACK URG ECE CWR)
for ((b = 0; b < 256; b++)); do
    set=()
    for ((i = 0; i < 8; i++)); do
        (((b >> i) & 1)) && set+=("${names[$i]}")
    done
    list=$(IFS=,; echo "${set[*]:-NONE}")
    echo "--tcp-flags ALL $list count"
done >"$TMP/rules"
srv "$TCPF" apply "$IF" "$TMP/rules" >/dev/null

xdp=$(srv "$TCPF" status --json | json "j['attachments'][0]['prog_id']")
conns=$(srv "$TCPF" status --json | json "j['flow_table']['connections']")
# the egress observer (the guard's handoff is a TC ingress program beside it)
tc=$(srv bpftool -j net show dev "$IF" |
    json "[p['id'] for p in j[0]['tc'] if p['kind'] == 'clsact/egress'][0]")
srv build/bench_top "$xdp" "$tc" "$conns"

# the reaper recounts the gauges once a second: wait for the full table
for ((i = 0; i < 50; i++)); do
    est=$(srv "$TCPF" stats "$IF" --json | json "j['states']['established']")
    [ "$est" = "$conns" ] && break
    sleep 0.2
done
[ "$est" = "$conns" ] || die "the flow table holds $est connections, not $conns"
st=$(srv "$TCPF" stats "$IF" --json)
patterns=$(json "len(j['flags'])" <<<"$st")
rules=$(json "len(j['rules'])" <<<"$st")
hit=$(json "sum(1 for r in j['rules'] if r['packets'])" <<<"$st")
echo "top_refresh: $patterns patterns non-zero (of 256), $rules rules ($hit with hits), $est connections (full table), $N refreshes per view"
# the worst case or nothing: a figure for fewer rows would flatter top
[ "$patterns" = 256 ] || die "only $patterns of the 256 flag patterns are non-zero"
if [ "$rules" != 256 ] || [ "$hit" != 256 ]; then
    die "only $hit of $rules rules have hits (256 of 256 wanted)"
fi

srv "$TCPF" guard "$IF" cookie --port 8080 >/dev/null
srv "$TCPF" top "$IF" --bench "$N" | tee "$TMP/bench"
worst=$(sed -n 's/^worst //p' "$TMP/bench")
[ -n "$worst" ] || die "top --bench printed no figure"
# the budget's line ends in PASS or FAIL; exit 1 when it fails
awk -v w="$worst" -v l="$LIMIT" 'BEGIN {
    printf "top_refresh: %.2f ms CPU per refresh of the costliest view; at a 1 s refresh, %.2f%% of one core\n", w * 1000, w * 100
    ok = sprintf("%.4f", w) + 0 <= l
    printf "budget top_refresh_cpu ratio=%.4f limit=%.2f %s\n", w, l, ok ? "PASS" : "FAIL"
    exit !ok
}'
