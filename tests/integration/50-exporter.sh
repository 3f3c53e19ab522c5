#!/bin/bash
# 50-exporter.sh - `tcpflags exporter`: Prometheus /metrics, end to end.
#
# One lab (tcpf-cli 198.19.0.1 / 2001:2:0:1::1 -> tcpf-srv 198.19.0.2 /
# 2001:2:0:1::2), python's http.server (dual-stack) in the srv namespace,
# tcpflags on tcpf-srv with three rules (nullscan drop, --syn dport 9
# count, xmas drop), and on a second interface of the srv namespace named
# q"x\y (a veth, skb mode), whose name needs escaping in a label.  Real
# traffic: curl over IPv4 and IPv6, nmap -sN (IPv4, IPv6), hping3 SYNs to
# port 9 and Xmas segments.  Then, in order:
#   the exporter (no IFACE: every attached interface) answers GET
#     /metrics with the 0.0.4 content type; promtool check metrics passes
#     with no lint complaint; every family has one HELP and one TYPE;
#   values: with no traffic between them (stats before == stats after),
#     every family of the scrape equals `stats --json` (and `status
#     --json` for the mode and attach time), checked per family, for both
#     interfaces; the traffic made them non-zero;
#   counters: more traffic, then a second scrape: every _total series of
#     the first is there, none smaller, some larger;
#   read-only: `stats --json` of both interfaces is the same before and
#     after a burst of 20 scrapes (no traffic);
#   rules: a saved rule file that does not parse reads as
#     tcpflags_rules_valid 0 (and no rule series), with no warning;
#   HTTP: /nope 404, POST 405 (with Allow), HEAD 200 with the Content-Length
#     of a GET and no body; [::1]:PORT with one IFACE serves only that
#     interface; [::]:PORT serves IPv4 too even with net.ipv6.bindv6only=1;
#   errors: malformed --listen (exit 2; without it: 55-exporter-load.sh), unknown interface
#     (exit 2), not attached (exit 1), busy port (exit 1), one
#     `tcpflags: ` line each;
#   a full table: 300 more pin directories (empty, made in bpffs): 256
#     interfaces served, one warning line over several scrapes; those
#     removed go after their `up 0` scrape and free slots for the rest;
#   detach while running: the scrape still answers, tcpflags_up 0 for the
#     detached interface, the other one still served, promtool still
#     passes; the scrape after, the detached interface (its pins gone) is
#     no longer in the output, but stays (up 0) with the exporter that
#     names it; an interface deleted while running: tcpflags_up 0 while
#     its pins are there, gone once detached; re-attached: served again;
#   SIGTERM and SIGINT: exit 0.
# Run as root: bash tests/integration/50-exporter.sh
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

HPING=/usr/sbin/hping3
IF=$LAB_SRV_IF
IF2='q"x\y'          # a legal interface name with " and \ in it
PEER2=qpeer
HTTP=8080
PORT=9100            # the exporter of every interface
PORT6=9101           # the exporter of $IF only, on [::1]
BUSY=9102            # held by python's http.server
PORTW=9103           # the exporter on [::] with bindv6only=1
URL=http://127.0.0.1:$PORT/metrics
URL6="http://[::1]:$PORT6/metrics"

t_tmp exporter
EXP_PIDS=()
NSDIR=""             # the srv namespace's pin directory, once known
RULES=""             # $IF's saved rule file
t_undo() {
    local p
    for p in "${EXP_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    # the fake pin directories first: the last detach removes the
    # namespace's shared maps only when no other directory is left
    [ -n "$NSDIR" ] && rmdir "$NSDIR"/fk[0-9][0-9][0-9] 2>/dev/null
    [ -f "$TMP/rules.saved" ] && cp "$TMP/rules.saved" "$RULES"
    [ -e "/run/netns/$LAB-srv" ] &&
        srv "$TCPF" detach "$IF2" >/dev/null 2>&1
}

# tf ARGS...: tcpflags in the server namespace; sets RC, OUT, ERR.
tf() { run "$LAB-srv" "$TCPF" "$@"; }

# exporter_start VAR ARGS...: `tcpflags exporter ARGS` in the server
# namespace, in the background; its pid in VAR (nsenter execs it: $! is
# tcpflags itself), its output in $TMP/VAR.out and .err.
exporter_start() {
    local var=$1
    shift
    nsenter --net="/run/netns/$LAB-srv" "$TCPF" exporter "$@" \
        >"$TMP/$var.out" 2>"$TMP/$var.err" &
    printf -v "$var" %s "$!"
    EXP_PIDS+=("$!")
}

# get URL [curl options]: the body, from the server namespace
get() {
    local url=$1
    shift
    srv curl -sg --noproxy '*' --max-time 5 "$@" "$url"
}

# stop_exporter NAME PID SIGNAL: it exits 0 on SIGNAL
stop_exporter() {
    local rc=0
    kill -"$3" "$2"
    wait "$2" || rc=$?
    check_eq "$1: exit code after SIG$3" "$rc" 0
}

# promtool_ok NAME FILE: promtool check metrics passes, says nothing
promtool_ok() {
    local rc=0 out
    out=$(promtool check metrics <"$2" 2>&1) || rc=$?
    check_eq "$1: promtool check metrics exit code" "$rc" 0
    check_eq "$1: promtool check metrics has no complaint" "$out" ""
}

# report FILE: "label<TAB>got<TAB>want" lines -> PASS/FAIL lines.
report() {
    local label got want
    while IFS=$'\t' read -r label got want; do
        check_eq "$label" "$got" "$want"
    done <"$1"
}

# ------------------------------------------------------------ python parts

cat >"$TMP/compare.py" <<'EOF'
# compare.py SCRAPE STATS_JSON STATUS_JSON IFACE [traffic]: one
# "label<TAB>got<TAB>want" line per metric family of IFACE.
import collections, json, re, sys
from datetime import datetime, timezone

def parse(text):
    helps, types, samples = collections.Counter(), collections.defaultdict(list), []
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps[line.split(" ")[2]] += 1
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name].append(typ)
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        if not m:
            raise SystemExit("unparsable line: %r" % line)
        name, lab, labels, i = m.group(1), m.group(2) or "", {}, 0
        while i < len(lab):
            eq = lab.index("=", i)
            key, j, val = lab[i:eq], eq + 2, []
            assert lab[eq + 1] == '"', line
            while lab[j] != '"':
                if lab[j] == "\\":
                    j += 1
                    val.append({"n": "\n", "\\": "\\", '"': '"'}[lab[j]])
                else:
                    val.append(lab[j])
                j += 1
            labels[key] = "".join(val)
            i = j + 2 if j + 1 < len(lab) and lab[j + 1] == "," else j + 1
        samples.append((name, labels, m.group(3)))
    return helps, types, samples

scrape, stats, status, iface = (open(sys.argv[1]).read(), json.load(open(sys.argv[2])),
                                json.load(open(sys.argv[3])), sys.argv[4])
traffic = len(sys.argv) > 5
helps, types, samples = parse(scrape)
tag = "%s: " % iface

def out(label, got, want):
    print("%s\t%s\t%s" % (tag + label, got, want))

def series(name):
    return [(l, int(v)) for n, l, v in samples if n == name and l.get("iface") == iface]

def by(name, key, fold=None):
    d = collections.Counter() if fold else {}
    for l, v in series(name):
        if fold:
            d[l[key]] += v
        else:
            d[l[key]] = v
    return dict(sorted(d.items()))

# the exposition's shape (once, not per interface)
if traffic:
    tag = ""
    names = sorted(set(n for n, _, _ in samples))
    out("format: each family has one HELP line", sorted(n for n in helps if helps[n] != 1), [])
    out("format: each family has one TYPE line",
        sorted(n for n in types if len(types[n]) != 1), [])
    out("format: every series has HELP and TYPE",
        [n for n in names if n not in helps or n not in types], [])
    out("format: counters end in _total, only counters do",
        sorted(n for n in types if (types[n][0] == "counter") != n.endswith("_total")), [])
    out("format: no series twice",
        len(samples), len(set((n, tuple(sorted(l.items()))) for n, l, _ in samples)))
    tag = "%s: " % iface

flags = {f["name"]: f for f in stats["flags"]}
out("tcpflags_segments_total (summed over families) = stats flags[].packets",
    by("tcpflags_segments_total", "flags", True), dict(sorted((k, f["packets"]) for k, f in flags.items())))
out("tcpflags_bytes_total (summed over families) = stats flags[].bytes",
    by("tcpflags_bytes_total", "flags", True), dict(sorted((k, f["bytes"]) for k, f in flags.items())))
fam = by("tcpflags_segments_total", "family", True)
out("tcpflags_segments_total by family = packets.ipv4_tcp, ipv6_tcp",
    (fam.get("ipv4", 0), fam.get("ipv6", 0)), (stats["packets"]["ipv4_tcp"], stats["packets"]["ipv6_tcp"]))
want = dict(stats["malformed"], non_tcp=stats["packets"]["non_tcp"],
            tcp_fragment=stats["packets"]["tcp_fragment"])
out("tcpflags_frames_total = packets.non_tcp, tcp_fragment, malformed{}",
    by("tcpflags_frames_total", "kind"), dict(sorted(want.items())))
out("tcpflags_phase_segments_total (summed over directions) = stats phases",
    by("tcpflags_phase_segments_total", "phase", True), dict(sorted(stats["phases"].items())))
out("tcpflags_phase_segments_total: both directions of every phase",
    len(series("tcpflags_phase_segments_total")), 2 * len(stats["phases"]))
out("tcpflags_connections = stats states", by("tcpflags_connections", "state"),
    dict(sorted(stats["states"].items())))
conns = {k: v for k, v in stats["connections"].items() if k != "half_open"}
out("tcpflags_connection_events_total = stats connections",
    by("tcpflags_connection_events_total", "event"), dict(sorted(conns.items())))
g = by("tcpflags_connections", "state")
out("tcpflags_connections syn_sent + syn_recv = connections.half_open",
    g.get("syn_sent", 0) + g.get("syn_recv", 0), stats["connections"]["half_open"])
rules = {str(r["id"]): r for r in stats["rules"]}
out("tcpflags_rule_hits_total = stats rules[].packets (with action)",
    sorted((l["rule"], l["action"], v) for l, v in series("tcpflags_rule_hits_total")),
    sorted((k, r["action"], r["packets"]) for k, r in rules.items()))
out("tcpflags_rule_bytes_total = stats rules[].bytes (with action)",
    sorted((l["rule"], l["action"], v) for l, v in series("tcpflags_rule_bytes_total")),
    sorted((k, r["action"], r["bytes"]) for k, r in rules.items()))
out("tcpflags_rule_info = stats rules[] text, action, priority",
    sorted((l["rule"], l["text"], l["action"], l["priority"], v) for l, v in series("tcpflags_rule_info")),
    sorted((k, r["text"], r["action"], str(r["priority"]), 1) for k, r in rules.items()))
out("tcpflags_drops_total = stats drops", by("tcpflags_drops_total", "reason"),
    dict(sorted(stats["drops"].items())))
st = [a for a in status["attachments"] if a["interface"] == iface][0]
out("tcpflags_attached = status mode", [(l["mode"], v) for l, v in series("tcpflags_attached")],
    [(st["mode"], 1)])
t = datetime.strptime(st["attached_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
out("tcpflags_attach_time_seconds = status attached_at",
    [v for _, v in series("tcpflags_attach_time_seconds")], [int(t.timestamp())])
out("tcpflags_up = 1", [v for _, v in series("tcpflags_up")], [1])
out("tcpflags_scrape_errors_total = 0", [v for _, v in series("tcpflags_scrape_errors_total")], [0])
if traffic:
    s = stats
    out("traffic: NULL, Xmas, SYN and IPv6 segments counted, rules hit, drops, handshakes",
        (flags.get("NULL", {}).get("packets", 0) > 0, flags.get("FIN|PSH|URG", {}).get("packets", 0) > 0,
         flags.get("SYN", {}).get("packets", 0) > 0, s["packets"]["ipv6_tcp"] > 0,
         all(r["packets"] > 0 for r in s["rules"]), s["drops"]["rule"] > 0,
         s["drops"]["would_drop"] > 0, s["phases"]["handshake_syn"] > 0,
         s["connections"]["opened"] > 0),
        (True,) * 9)
EOF

cat >"$TMP/series.py" <<'EOF'
# series.py SCRAPE NAME [LABEL=VALUE...]: the values of the series of NAME
# whose labels hold every LABEL=VALUE, one per line (label values
# unescaped: \\ \" \n).
import re, sys
want = dict(a.split("=", 1) for a in sys.argv[3:])
for line in open(sys.argv[1]).read().splitlines():
    m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
    if not m or m.group(1) != sys.argv[2]:
        continue
    labels = {k: re.sub(r'\\(.)', lambda x: {"n": "\n"}.get(x.group(1), x.group(1)), v)
              for k, v in re.findall(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"', m.group(2) or "")}
    if all(labels.get(k) == v for k, v in want.items()):
        print(m.group(3))
EOF

cat >"$TMP/rawhttp.py" <<'EOF'
# rawhttp.py HOST PORT METHOD PATH: one HTTP/1.1 request on a connection of
# its own (Connection: close), read to the end: "STATUS<TAB>Content-Length
# <TAB>bytes after the header" (curl -I would not read a body sent anyway).
import socket, sys
host, port, method, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.create_connection((host, port), 5)
s.sendall(("%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
           % (method, path, host)).encode())
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
head, _, body = data.partition(b"\r\n\r\n")
lines = head.decode().split("\r\n")
cl = [l.split(":", 1)[1].strip() for l in lines[1:] if l.lower().startswith("content-length:")]
print("%s\t%s\t%d" % (lines[0], cl[0] if cl else "-", len(body)))
EOF

cat >"$TMP/monotonic.py" <<'EOF'
# monotonic.py BEFORE AFTER: "label<TAB>got<TAB>want" lines: every _total
# series of BEFORE is in AFTER (only a flag pattern seen for the first time
# may be new), none is smaller, some are larger.
import re, sys

def totals(path):
    d = {}
    for line in open(path).read().splitlines():
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*_total)(\{.*\})? (\S+)$", line)
        if m:
            d[m.group(1) + (m.group(2) or "")] = int(m.group(3))
    return d

a, b = totals(sys.argv[1]), totals(sys.argv[2])
new = sorted(k for k in b if k not in a and not
             k.startswith(("tcpflags_segments_total{", "tcpflags_bytes_total{")))
grew = [any(k.startswith(p) and k in a and b[k] > a[k] for k in b)
        for p in ("tcpflags_segments_total", "tcpflags_rule_hits_total",
                  "tcpflags_phase_segments_total")]
print("counters: _total series in the first scrape (over 100)\t%s\tTrue" % (len(a) > 100))
print("counters: none gone in the second\t%s\t[]" % sorted(k for k in a if k not in b))
print("counters: none new but flag patterns\t%s\t[]" % new)
print("counters: none smaller\t%s\t[]" % sorted(k for k in a if k in b and b[k] < a[k]))
print("counters: traffic counted (segments, rule hits, phases grew)\t%s\t%s"
      % (grew, [True] * 3))
EOF

# val SCRAPE NAME [LABEL=VALUE...]: the values (one per line)
val() { "$PY" "$TMP/series.py" "$@"; }

# ----------------------------------------------------------------- set-up

needs nmap curl promtool "$HPING" "$TCPF"

echo "# 50-exporter: lab, server, attach, rules"
new_lab
web_server ::
wait_for 30 cli ping -6 -c 1 -W 1 "$LAB_SRV6"
tf attach "$IF"
check_eq "attach $IF" "$RC" 0
for r in "nullscan drop" "--syn dport 9 count" "--priority 5 xmas drop"; do
    # shellcheck disable=SC2086  # r holds the rule's words
    tf rule add "$IF" $r
    check_eq "rule add $r" "$RC" 0
done
# where tcpflags keeps the srv namespace's pins and rules: by its cookie
cookie=$(srv "$PY" -c 'import socket
print(int.from_bytes(socket.socket().getsockopt(socket.SOL_SOCKET, 71, 8), "little"))')
NSDIR=/sys/fs/bpf/tcpflags/ns$cookie
RULES=/run/tcpflags/ns$cookie/$IF.rules
check_true "the pins of $IF are in $NSDIR, its rules in $RULES" "not there" \
    test -d "$NSDIR/$IF" -a -f "$RULES"
srv ip link add "$IF2" type veth peer name "$PEER2"
srv ip link set "$IF2" up
srv ip link set "$PEER2" up
tf attach "$IF2" --mode skb
check_eq "attach $IF2 (skb)" "$RC" 0

echo "# traffic"
NMAP=(timeout 20 nmap -n -Pn --send-ip --max-retries 0 --initial-rtt-timeout 100ms
    --max-rtt-timeout 200ms -sN)
pids=()
cli "${NMAP[@]}" -p 9,20001,"$HTTP" "$LAB_SRV4" >>"$TMP/nmap.log" 2>&1 &
pids+=($!)
cli "${NMAP[@]}" -6 -p 9,20002,"$HTTP" "$LAB_SRV6" >>"$TMP/nmap.log" 2>&1 &
pids+=($!)
cli timeout 10 "$HPING" -S -p 9 -c 3 -i u20000 "$LAB_SRV4" >>"$TMP/hping.log" 2>&1 &
pids+=($!)
cli timeout 10 "$HPING" -F -P -U -p 20003 -c 2 -i u20000 "$LAB_SRV4" >>"$TMP/hping.log" 2>&1 &
pids+=($!)
for h in "$LAB_SRV4" "[$LAB_SRV6]" "$LAB_SRV4" "[$LAB_SRV6]"; do
    code=$(cli curl -s -g -o /dev/null --noproxy '*' --max-time 3 -w '%{http_code}' \
        "http://$h:$HTTP/")
    check_eq "curl http://$h:$HTTP/" "$code" 200
done
wait "${pids[@]}"
check_eq "2 nmap scans ran" "$(grep -c 'Nmap done' "$TMP/nmap.log")" 2

# ------------------------------------------------------------- the scrape

echo "# exporter of every attached interface on 127.0.0.1:$PORT"
exporter_start EXP --listen "127.0.0.1:$PORT"
check_true "exporter answers on $URL" "$(cat "$TMP/EXP.err")" \
    wait_for 30 get "$URL" -f -o /dev/null
check_has "exporter says where it serves" "$(cat "$TMP/EXP.out")" "$URL"
hdr=$(get "$URL" -o /dev/null -D - | tr -d '\r')
check_eq "GET /metrics: 200" "$(head -n 1 <<<"$hdr")" "HTTP/1.1 200 OK"
check_eq "GET /metrics: content type" "$(sed -n 's/^Content-Type: //Ip' <<<"$hdr")" \
    "text/plain; version=0.0.4; charset=utf-8"

# same_json A B: both files hold one JSON object, the same, not empty (two
# failed reads would leave two empty files alike)
same_json() {
    "$PY" -c 'import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
sys.exit(not a or a != b)' "$1" "$2" 2>/dev/null
}
# scrape_between: stats of both interfaces, a scrape, stats again; true
# when the two stats agree (no traffic in between, not even an IPv6
# neighbour probe)
scrape_between() {
    srv "$TCPF" stats "$IF" --json >"$TMP/stats1.json"
    srv "$TCPF" stats "$IF2" --json >"$TMP/stats2a.json"
    srv "$TCPF" status --json >"$TMP/status.json"
    get "$URL" >"$TMP/scrape.txt"
    srv "$TCPF" stats "$IF" --json >"$TMP/stats1b.json"
    srv "$TCPF" stats "$IF2" --json >"$TMP/stats2b.json"
    same_json "$TMP/stats1.json" "$TMP/stats1b.json" &&
        same_json "$TMP/stats2a.json" "$TMP/stats2b.json"
}

# gauges are recounted by the reaper: once the last connections have
# settled, and a pass has begun after that, only stray traffic moves a
# count; scrape until one scrape falls between two equal stats
wait_settled "scrape" "$LAB-cli" "$LAB-srv"
wait_tick "$LAB-srv"
if wait_for 60 scrape_between; then
    pass "stats before and after the scrape agree (no traffic between)"
else
    fail "stats before and after the scrape agree (no traffic between)" \
        "never in 60 s: $(diff "$TMP/stats1.json" "$TMP/stats1b.json" | head -n 4)"
fi
promtool_ok "scrape of both interfaces" "$TMP/scrape.txt"
"$PY" "$TMP/compare.py" "$TMP/scrape.txt" "$TMP/stats1.json" "$TMP/status.json" "$IF" \
    traffic >"$TMP/cmp1.tsv" 2>"$TMP/cmp.err" || fail "compare $IF" "$(cat "$TMP/cmp.err")"
report "$TMP/cmp1.tsv"
"$PY" "$TMP/compare.py" "$TMP/scrape.txt" "$TMP/stats2a.json" "$TMP/status.json" "$IF2" \
    >"$TMP/cmp2.tsv" 2>"$TMP/cmp.err" || fail "compare $IF2" "$(cat "$TMP/cmp.err")"
report "$TMP/cmp2.tsv"
check_has "the label of $IF2 is escaped" "$(cat "$TMP/scrape.txt")" \
    'tcpflags_up{iface="q\"x\\y"} 1'

echo "# counters only grow"
cp "$TMP/scrape.txt" "$TMP/before.txt"
for h in "$LAB_SRV4" "[$LAB_SRV6]"; do
    code=$(cli curl -s -g -o /dev/null --noproxy '*' --max-time 3 -w '%{http_code}' \
        "http://$h:$HTTP/")
    check_eq "more traffic: curl http://$h:$HTTP/" "$code" 200
done
cli timeout 10 "$HPING" -S -p 9 -c 2 -i u20000 "$LAB_SRV4" >>"$TMP/hping.log" 2>&1
get "$URL" >"$TMP/later.txt"
"$PY" "$TMP/monotonic.py" "$TMP/before.txt" "$TMP/later.txt" >"$TMP/mono.tsv" \
    2>"$TMP/cmp.err" || fail "monotonic.py" "$(cat "$TMP/cmp.err")"
report "$TMP/mono.tsv"

echo "# scrapes write no map"
burst=()
for _ in $(seq 20); do burst+=(-o /dev/null "$URL"); done
# burst_between: stats, 20 scrapes, stats: true when the stats agree
burst_between() {
    srv "$TCPF" stats "$IF" --json >"$TMP/ro1a.json"
    srv "$TCPF" stats "$IF2" --json >"$TMP/ro2a.json"
    codes=$(srv curl -sg --noproxy '*' --max-time 30 -w '%{http_code} ' "${burst[@]}")
    srv "$TCPF" stats "$IF" --json >"$TMP/ro1b.json"
    srv "$TCPF" stats "$IF2" --json >"$TMP/ro2b.json"
    same_json "$TMP/ro1a.json" "$TMP/ro1b.json" && same_json "$TMP/ro2a.json" "$TMP/ro2b.json"
}
wait_settled "read-only" "$LAB-cli" "$LAB-srv"
wait_tick "$LAB-srv"             # the gauges recounted after the traffic
codes=""
if wait_for 60 burst_between; then
    pass "stats --json of both interfaces unchanged by 20 scrapes"
else
    fail "stats --json of both interfaces unchanged by 20 scrapes" \
        "never in 60 s: $(diff "$TMP/ro1a.json" "$TMP/ro1b.json" | head -n 4)"
fi
check_eq "a burst of 20 scrapes: all 200" "$codes" "$(printf '200 %.0s' $(seq 20))"

echo "# a saved rule file that does not parse"
cp "$RULES" "$TMP/rules.saved"
echo "flags NOPE drop" >"$RULES"
get "$URL" >"$TMP/badrules.txt"
promtool_ok "scrape with a broken rule file" "$TMP/badrules.txt"
check_eq "broken rule file: tcpflags_rules_valid of $IF, $IF2" \
    "$(val "$TMP/badrules.txt" tcpflags_rules_valid iface="$IF") $(val "$TMP/badrules.txt" tcpflags_rules_valid iface="$IF2")" \
    "0 1"
check_eq "broken rule file: no rule series for $IF" \
    "$(grep -c "^tcpflags_rule_[a-z]*{iface=\"$IF\"" "$TMP/badrules.txt")" 0
check_eq "broken rule file: $IF still up" "$(val "$TMP/badrules.txt" tcpflags_up iface="$IF")" 1
cp "$TMP/rules.saved" "$RULES"
rm "$TMP/rules.saved"
get "$URL" >"$TMP/goodrules.txt"
check_eq "rule file restored: tcpflags_rules_valid, rules of $IF" \
    "$(val "$TMP/goodrules.txt" tcpflags_rules_valid iface="$IF") $(val "$TMP/goodrules.txt" tcpflags_rule_info iface="$IF" | wc -l)" \
    "1 3"
check_eq "the exporter has said nothing on stderr so far" "$(cat "$TMP/EXP.err")" ""

echo "# HTTP"
check_eq "GET /nope: 404" "$(get "http://127.0.0.1:$PORT/nope" -o /dev/null -w '%{http_code}')" 404
check_eq "GET /: 404" "$(get "http://127.0.0.1:$PORT/" -o /dev/null -w '%{http_code}')" 404
check_eq "POST /metrics: 405" "$(get "$URL" -X POST -d x=1 -o /dev/null -w '%{http_code}')" 405
check_has "POST /metrics: Allow header" "$(get "$URL" -X POST -d x=1 -o /dev/null -D -)" \
    "Allow: GET, HEAD"
check_eq "PUT /metrics: 405" "$(get "$URL" -X PUT -o /dev/null -w '%{http_code}')" 405
check_eq "HEAD /metrics: 200" "$(get "$URL" -I -o /dev/null -w '%{http_code}')" 200
# HEAD between two GETs of the same length (no counter changed its width)
raw() { srv "$PY" "$TMP/rawhttp.py" 127.0.0.1 "$PORT" "$1" /metrics; }
for _ in 1 2 3; do
    g1=$(raw GET)
    h=$(raw HEAD)
    g2=$(raw GET)
    [ "$g1" = "$g2" ] && break
done
IFS=$'\t' read -r gstatus glen gbody <<<"$g1"
IFS=$'\t' read -r hstatus hlen hbody <<<"$h"
check_eq "GET /metrics (raw): 200" "$gstatus" "HTTP/1.1 200 OK"
check_eq "GET /metrics: Content-Length = the body's length" "$glen" "$gbody"
check_eq "HEAD /metrics (raw): 200" "$hstatus" "HTTP/1.1 200 OK"
check_eq "HEAD /metrics: Content-Length = the GET body's length" "$hlen" "$gbody"
check_eq "HEAD /metrics: no body" "$hbody" 0

echo "# exporter of $IF only on [::1]:$PORT6"
exporter_start EXP6 --listen "[::1]:$PORT6" "$IF"
check_true "exporter answers on $URL6" "$(cat "$TMP/EXP6.err")" \
    wait_for 30 get "$URL6" -f -o /dev/null
get "$URL6" >"$TMP/scrape6.txt"
promtool_ok "scrape of $IF on [::1]" "$TMP/scrape6.txt"
check_eq "[::1]: the interfaces served" \
    "$(val "$TMP/scrape6.txt" tcpflags_up | tr '\n' ' ')" "1 "
check_eq "[::1]: only $IF's series" \
    "$(grep -v '^#' "$TMP/scrape6.txt" | grep -vc "{iface=\"$IF\"")" 0

echo "# [::]:$PORTW with net.ipv6.bindv6only=1"
srv sysctl -qw net.ipv6.bindv6only=1
exporter_start EXPW --listen "[::]:$PORTW" "$IF"
check_true "exporter answers on [::1]:$PORTW" "$(cat "$TMP/EXPW.err")" \
    wait_for 30 get "http://[::1]:$PORTW/metrics" -f -o /dev/null
get "http://127.0.0.1:$PORTW/metrics" -f >"$TMP/scrapew.txt"
check_eq "[::]:$PORTW with bindv6only=1 answers on 127.0.0.1" \
    "$(val "$TMP/scrapew.txt" tcpflags_up iface="$IF")" 1
srv sysctl -qw net.ipv6.bindv6only=0
stop_exporter "exporter on [::]" "$EXPW" TERM

echo "# errors"
for bad in 9100 127.0.0.1 127.0.0.1: :9100 127.0.0.1:0 127.0.0.1:65536 127.0.0.1:-1 \
    127.0.0.1:http localhost:9100 1.2.3:9100 999.0.0.1:9100 ::1:9100 '[::1]' \
    '[::1]9100' '[127.0.0.1]:9100' '[::1]:0' '[::1]:70000' '[zz::1]:9100'; do
    tf exporter --listen "$bad"
    check_usage "--listen '$bad'" "invalid --listen" "$bad"
done
tf exporter --listen "127.0.0.1:$((PORT + 10))" nosuch0
check_err "unknown interface" 2 "cannot find interface nosuch0"
tf exporter --listen "127.0.0.1:$((PORT + 10))" lo
check_err "interface not attached (lo)" 1 "lo is not attached" "run 'tcpflags attach lo'"
tf exporter --listen "127.0.0.1:$((PORT + 10))" "$IF" lo
check_err "one of two interfaces not attached" 1 "lo is not attached"
tf exporter --listen "127.0.0.1:$PORT"
check_err "busy port (another exporter)" 1 \
    "cannot listen on 127.0.0.1:$PORT: Address already in use"
srv "$PY" -m http.server --bind :: "$BUSY" >"$TMP/busy.log" 2>&1 &
wait_for 30 eval "srv ss -Hltn 'sport = :$BUSY' | grep -q LISTEN"
tf exporter --listen "0.0.0.0:$BUSY"
check_err "busy port (http.server)" 1 "cannot listen on 0.0.0.0:$BUSY: Address already in use"
tf exporter --listen "[::]:$BUSY" "$IF"
check_err "busy port, IPv6 (http.server)" 1 "cannot listen on [::]:$BUSY: Address already in use"
tf exporter --listen "198.51.100.1:$PORT"
check_err "address not on this host" 1 "cannot listen on 198.51.100.1:$PORT"

echo "# a full table: 300 more pin directories"
# empty directories where an interface's pins go: read as up 0, as an
# interface detached --keep-maps would
mkdir "$NSDIR"/fk{000..299}
get "$URL" >"$TMP/full1.txt"
get "$URL" >"$TMP/full2.txt"
promtool_ok "scrape of a full table" "$TMP/full1.txt"
check_eq "full: 256 interfaces served, $IF and $IF2 up" \
    "$(val "$TMP/full1.txt" tcpflags_up | sort | uniq -c | tr -s ' \n' ' ')" " 254 0 2 1 "
check_eq "full: fk253 served, fk254 not (sorted, first come)" \
    "$(val "$TMP/full2.txt" tcpflags_up iface=fk253)/$(val "$TMP/full2.txt" tcpflags_up iface=fk254)" "0/"
check_eq "full: one warning line over two scrapes" "$(wc -l <"$TMP/EXP.err")" 1
check_has "full: the warning" "$(cat "$TMP/EXP.err")" "tcpflags: exporter: more than 256" \
    "fk254 and others are not exported"
rmdir "$NSDIR"/fk{000..099}
get "$URL" >"$TMP/full3.txt"
check_eq "100 gone: dropped, their slots to the 46 left out" \
    "$(val "$TMP/full3.txt" tcpflags_up | wc -l) $(val "$TMP/full3.txt" tcpflags_up iface=fk099)/$(val "$TMP/full3.txt" tcpflags_up iface=fk299)" \
    "202 /0"
rmdir "$NSDIR"/fk[0-9][0-9][0-9]
get "$URL" >"$TMP/full4.txt"
check_eq "all gone: $IF and $IF2 left" \
    "$(val "$TMP/full4.txt" tcpflags_up | tr '\n' ' ')" "1 1 "
check_eq "still one warning line" "$(wc -l <"$TMP/EXP.err")" 1

echo "# detach while the exporters run"
tf detach "$IF"
check_eq "detach $IF" "$RC" 0
get "$URL" -f >"$TMP/after.txt"
check_eq "scrape after detach: 200" "$?" 0
promtool_ok "scrape after detach" "$TMP/after.txt"
check_eq "after detach: tcpflags_up of $IF" "$(val "$TMP/after.txt" tcpflags_up iface="$IF")" 0
check_eq "after detach: $IF has no other series but scrape_errors" \
    "$(grep -v '^#' "$TMP/after.txt" | grep "{iface=\"$IF\"" | cut -d'{' -f1 | sort -u | tr '\n' ' ')" \
    "tcpflags_scrape_errors_total tcpflags_up "
check_eq "after detach: $IF's scrape errors counted" \
    "$(val "$TMP/after.txt" tcpflags_scrape_errors_total iface="$IF")" 1
check_eq "after detach: tcpflags_up of $IF2" "$(val "$TMP/after.txt" tcpflags_up iface="$IF2")" 1
check_eq "after detach: $IF2 still served" \
    "$(val "$TMP/after.txt" tcpflags_attached iface="$IF2" mode=skb)" 1
get "$URL6" -f >"$TMP/after6.txt"
check_eq "[::1] scrape after detach: 200" "$?" 0
promtool_ok "[::1] scrape after detach" "$TMP/after6.txt"
check_eq "[::1] after detach: tcpflags_up of $IF" "$(val "$TMP/after6.txt" tcpflags_up)" 0
get "$URL" -f >"$TMP/after2.txt"
promtool_ok "the scrape after that" "$TMP/after2.txt"
check_eq "the scrape after: $IF (pins gone, shown down once) no longer served" \
    "$(grep -c "^[a-z_]*{iface=\"$IF\"" "$TMP/after2.txt")" 0
check_eq "the scrape after: tcpflags_up of $IF2" "$(val "$TMP/after2.txt" tcpflags_up iface="$IF2")" 1
get "$URL6" -f >"$TMP/after6b.txt"
check_eq "[::1] (names $IF) the scrape after: $IF stays, up 0, 2 scrape errors" \
    "$(val "$TMP/after6b.txt" tcpflags_up) $(val "$TMP/after6b.txt" tcpflags_scrape_errors_total)" "0 2"

srv ip link del "$IF2"
get "$URL" -f >"$TMP/gone.txt"
check_eq "scrape after $IF2 is deleted: 200" "$?" 0
promtool_ok "scrape after $IF2 is deleted" "$TMP/gone.txt"
check_eq "after $IF2 is deleted: tcpflags_up" \
    "$(val "$TMP/gone.txt" tcpflags_up | tr '\n' ' ')" "0 "
get "$URL" -f >"$TMP/gone2.txt"
check_eq "$IF2 deleted, its pins there: still up 0 the scrape after" \
    "$(val "$TMP/gone2.txt" tcpflags_up iface="$IF2")" 0
tf detach "$IF2"
check_eq "detach $IF2 once deleted (its pins): exit code" "$RC" 0
get "$URL" -f >"$TMP/gone3.txt"
promtool_ok "scrape with no interface" "$TMP/gone3.txt"
check_eq "$IF2's pins gone: no series left" "$(grep -vc '^#' "$TMP/gone3.txt")" 0

tf attach "$IF"
check_eq "attach $IF again" "$RC" 0
get "$URL" -f >"$TMP/back.txt"
check_eq "$IF attached again: up 1, scrape errors 0 (a fresh slot)" \
    "$(val "$TMP/back.txt" tcpflags_up | tr '\n' ' ')$(val "$TMP/back.txt" tcpflags_scrape_errors_total)" \
    "1 0"
check_eq "the exporter's stderr: the one warning" "$(wc -l <"$TMP/EXP.err")" 1

echo "# signals"
stop_exporter "exporter of every interface" "$EXP" TERM
stop_exporter "exporter on [::1]" "$EXP6" INT
EXP_PIDS=()
t_done
