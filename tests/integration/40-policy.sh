#!/bin/bash
# 40-policy.sh - rules that drop, count and rate-limit at XDP, end to end.
#
# One lab (tcpf-cli 198.19.0.1 / 2001:2:0:1::1 -> tcpf-srv 198.19.0.2 /
# 2001:2:0:1::2), a dual-stack python server in the srv namespace (HTTP on
# 8080, a paced byte stream on 8081; nothing listens elsewhere, so other
# ports answer RST), tcpflags on tcpf-srv.  Checked, in order:
#   attach --rules: a bad file attaches nothing; a good one starts with its
#     rules; re-attach (same mode, skb) keeps rules and hit counters;
#     detach removes them;
#   count: `--syn count` counts every SYN, passes it (would_drop);
#   presets: nullscan/xmas/synfin/synrst/finnoack drop nmap -sN/-sX/-sF
#     (IPv4 and IPv6) and hping3 odd segments: each rule's packets and
#     bytes equal the client-side capture's first-match count, drops.rule
#     the sum, and the server-side capture (after XDP) sees none of them,
#     while curl over IPv4 and IPv6 keeps working;
#   port ranges: 9000-9010 dropped (no answer), 8999 and 9011 refused;
#     default drop;
#   prefixes: IPv4 and IPv6 source prefixes hit only their family, prefixes
#     not holding the client never hit, named sets (`set lab ...`, @lab);
#   ratelimit 100/s burst 1 per global against hping3 at up to 500 SYN/s,
#     judged SYN by SYN on the captures' clock (both sides' taps stamp the
#     same clock; a SYN is sent before XDP sees it and XDP sees it before
#     the server's tap): no SYN passed within 10 ms of the one before it,
#     none dropped 10 ms after the last one passed; hits = sent, and
#     drops.ratelimit = sent - passed;
#   live changes: apply / rule add / rule del during one long transfer
#     (the server streams until the test lets it end), which must end with
#     the exact byte count the server sent, the new rules counting;
#   CLI errors: exit code, one `tcpflags: ` line with the key words, the
#     rule set unchanged (bad flag, port ranges, prefix length, rate 0,
#     bad file line, comments in files, unknown id, 256 rules + 1, not
#     attached, unknown interface).
# Run as root: bash tests/integration/40-policy.sh
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

HPING=/usr/sbin/hping3
IF=$LAB_SRV_IF
HTTP=8080
STREAM=8081
CHUNK=16384          # the stream: chunks of CHUNK bytes, GAP s apart, until
GAP=0.015            # $TMP/stream.release exists
PROBE_T=0.6          # connect timeout of a probe: below the 1 s SYN RTO,
                     # so one probe is exactly one SYN

t_tmp policy

# ---------------------------------------------------------------- helpers

# tf ARGS...: tcpflags in the server namespace; sets RC, OUT, ERR.
tf() { run "$LAB-srv" "$TCPF" "$@"; }
# tfc ARGS...: the same in the client namespace.
tfc() { run "$LAB-cli" "$TCPF" "$@"; }



# rl: `rule list --json` of the server's interface; on error a line of its
# own (two failed reads never compare equal).
rl() {
    srv "$TCPF" rule list "$IF" --json 2>/dev/null ||
        echo "<rule list failed $BASHPID.$RANDOM>"
}
# hits JSON TEXT: "PACKETS BYTES" of the rule written TEXT, or "absent".
hits() {
    json_get "$1" "([f\"{r['packets']} {r['bytes']}\" for r in j['rules'] if r['text'] == '''$2'''] + ['absent'])[0]"
}
# pk JSON TEXT: packets of the rule written TEXT, or "absent".
pk() {
    json_get "$1" "([r['packets'] for r in j['rules'] if r['text'] == '''$2'''] + ['absent'])[0]"
}
# drop JSON REASON: drops[REASON].
drop() { json_get "$1" "j['drops']['$2']"; }
# texts JSON: the rule texts in list order, and the default.
texts() { json_get "$1" "(j['default'], [r['text'] for r in j['rules']])"; }
# added: the id in the last run's "rule N added" line.
added() { sed -n 's/.*rule \([0-9][0-9]*\) added.*/\1/p' <<<"$OUT$ERR" | head -n 1; }

# radd NAME ARGS...: rule add on the server interface, must succeed; sets RID.
radd() {
    local name=$1
    shift
    tf rule add "$IF" "$@"
    RID=$(added)
    if [ "$RC" -eq 0 ] && [ -n "$RID" ]; then pass "$name: rule add ($*)"
    else fail "$name: rule add ($*)" "rc $RC, out '$OUT', err '$ERR'"; fi
}
# rapply NAME FILE: apply FILE on the server interface, must succeed.
rapply() {
    tf apply "$IF" "$2"
    check_eq "$1: apply $(basename "$2")" "$RC" 0
}

mac_of() { ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }

# curl_ok NAME 4|6: one HTTP request from the client; 200 expected.
curl_ok() {
    local host=$LAB_SRV4 code
    [ "$2" = 6 ] && host="[$LAB_SRV6]"
    code=$(cli curl -s -g -o /dev/null --noproxy '*' --max-time 10 \
        -w '%{http_code}' "http://$host:$HTTP/" 2>/dev/null)
    check_eq "$1: curl IPv$2 gets 200" "$code" 200
}

# probe HOST/PORT...: one connect() each, in parallel, with PROBE_T;
# prints open|refused|timeout per target.
probe() { cli "$PY" "$TMP/probe.py" "$PROBE_T" "$@"; }

# cap_start NAME NS DEV in|out FILTER...: a capture into $TMP/NAME.pcap of
# FILTER, and of lab_sync's markers (nanosecond stamps, a 64 MB buffer).
declare -A CAP
cap_start() {
    local name=$1 ns=$2 dev=$3 dir=$4
    shift 4
    # nsenter execs tcpdump: $! is tcpdump itself
    nsenter --net="/run/netns/$ns" tcpdump -i "$dev" -Q "$dir" -U -n -B 65536 \
        --time-stamp-precision nano -w "$TMP/$name.pcap" "( $* ) or udp port 9" \
        2>"$TMP/$name.err" &
    CAP[$name]=$!
    wait_for 30 grep -q 'listening on' "$TMP/$name.err" ||
        fail "capture $name" "tcpdump not listening: $(cat "$TMP/$name.err")"
}
# cap_stop NAME: once the last lab_sync's marker is in it, stop it;
# $TMP/NAME.tsv gets one line per TCP segment: time,frame length,flags,
# dst port,ip version 6 or empty,src port,sequence number.
cap_stop() {
    local name=$1
    wait_mark "$TMP/$name.pcap"
    kill -INT "${CAP[$name]}" 2>/dev/null
    wait "${CAP[$name]}" 2>/dev/null
    check_eq "capture $name: tcpdump dropped nothing" \
        "$(grep -c '^0 packets dropped by kernel' "$TMP/$name.err")" 1
    tshark -r "$TMP/$name.pcap" -o ip.defragment:FALSE -o ipv6.defragment:FALSE \
        -Y 'tcp && !icmp && !icmpv6' -T fields -E separator=, \
        -e frame.time_epoch -e frame.len -e tcp.flags -e tcp.dstport \
        -e ipv6.version -e tcp.srcport -e tcp.seq_raw \
        >"$TMP/$name.tsv" 2>"$TMP/$name.tshark.err" ||
        fail "capture $name: tshark" "$(tail -n 1 "$TMP/$name.tshark.err")"
}

# report FILE: "label<TAB>got<TAB>want" lines -> PASS/FAIL lines.
report() {
    local label got want
    while IFS=$'\t' read -r label got want; do
        check_eq "$label" "$got" "$want"
    done <"$1"
}

# ------------------------------------------------------------ python parts

cat >"$TMP/server.py" <<'EOF'
# HTTP on one port, a paced byte stream on another (until the file
# RELEASE exists; then the bytes it sent go into RELEASE.sent); both
# dual-stack.
import os, socket, sys, threading, time
from functools import partial
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
http_port, stream_port, www = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
chunk, release, gap = int(sys.argv[4]), sys.argv[5], float(sys.argv[6])

class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass

class Dual(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()

def stream(conn):
    data = b"s" * chunk
    sent = 0
    try:
        while not os.path.exists(release):
            conn.sendall(data)
            sent += len(data)
            time.sleep(gap)
        with open(release + ".sent", "w") as f:
            f.write("%d\n" % sent)
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(10)
        while conn.recv(4096):
            pass
    except OSError:
        pass
    finally:
        conn.close()

def streamer():
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", stream_port))
    ls.listen(16)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=stream, args=(c,), daemon=True).start()

threading.Thread(target=streamer, daemon=True).start()
Dual(("::", http_port), partial(Quiet, directory=www)).serve_forever()
EOF

cat >"$TMP/stream.py" <<'EOF'
# Read the stream to its end over one connection: "BYTES SECONDS".
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
t0 = time.time()
s = socket.create_connection((host, port), timeout=30)
n = 0
while True:
    b = s.recv(65536)
    if not b:
        break
    n += len(b)
s.close()
print(n, round(time.time() - t0, 2))
EOF

cat >"$TMP/probe.py" <<'EOF'
# One connect() per HOST/PORT, in parallel: open, refused or timeout.
import socket, sys, threading
timeout = float(sys.argv[1])
targets = sys.argv[2:]
res = [None] * len(targets)
def one(i, t):
    host, port = t.rsplit("/", 1)
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.settimeout(timeout)
    try:
        s.connect((host, int(port)))
        res[i] = "open"
    except ConnectionRefusedError:
        res[i] = "refused"
    except (socket.timeout, TimeoutError):
        res[i] = "timeout"
    except OSError as e:
        res[i] = "error-%s" % e.errno
    finally:
        s.close()
ths = [threading.Thread(target=one, args=(i, t)) for i, t in enumerate(targets)]
for t in ths:
    t.start()
for t in ths:
    t.join()
print(" ".join(res))
EOF

# Presets against the captures: each rule's hits must be the client-side
# capture's first-match count (packets and bytes); nothing matching may
# reach the server-side capture.
cat >"$TMP/presets.py" <<'EOF'
import json, sys
after = json.loads(open(sys.argv[1]).read())
before = json.loads(open(sys.argv[2]).read())
PRESETS = [   # (rule text, predicate on the flag byte), in rule order
    ("nullscan drop", lambda b: b == 0),
    ("xmas drop", lambda b: b == 0x29),
    ("synfin drop", lambda b: b & 0x03 == 0x03),
    ("synrst drop", lambda b: b & 0x06 == 0x06),
    ("finnoack drop", lambda b: b & 0x11 == 0x01),
]
def segs(path):
    out = []
    for line in open(path):
        f = line.rstrip("\n").split(",")
        if len(f) < 5 or not f[2]:
            continue
        out.append((int(f[1]), int(f[2], 16) & 0xff, f[4] == "6"))
    return out
cli, srv = segs(sys.argv[3]), segs(sys.argv[4])
want = {t: [0, 0] for t, _ in PRESETS}
fam = {t: [0, 0] for t, _ in PRESETS}
for flen, b, v6 in cli:
    for t, p in PRESETS:
        if p(b):
            want[t][0] += 1
            want[t][1] += flen
            fam[t][v6] += 1
            break
rules = {r["text"]: r for r in after["rules"]}
def out(l, g, w):
    print(f"{l}\t{g}\t{w}")
for t, _ in PRESETS:
    r = rules.get(t)
    out(f"presets: '{t}' hits = client capture (packets bytes)",
        f"{r['packets']} {r['bytes']}" if r else "absent",
        f"{want[t][0]} {want[t][1]}")
    out(f"presets: client sent segments for '{t}' (IPv4, IPv6 > 0)",
        "yes" if fam[t][0] > 0 and (t in ("synfin drop", "synrst drop")
                                    or fam[t][1] > 0) else f"v4 {fam[t][0]} v6 {fam[t][1]}",
        "yes")
tot = sum(w[0] for w in want.values())
out("presets: drops.rule grew by the sum of the hits",
    after["drops"]["rule"] - before["drops"]["rule"], tot)
out("presets: drops.ratelimit, default, would_drop unchanged",
    [after["drops"][k] - before["drops"][k] for k in ("ratelimit", "default", "would_drop")],
    [0, 0, 0])
leak = sum(1 for _, b, _ in srv if any(p(b) for _, p in PRESETS))
out("presets: server-side capture (after XDP) sees none of them", leak, 0)
fa = [sum(1 for _, b, _ in x if b == 0x11) for x in (srv, cli)]
out("presets: every FIN|ACK (no rule; hping3 and curl) reaches the server",
    fa[0], fa[1] if fa[1] >= int(sys.argv[5]) else f">= {sys.argv[5]}")
EOF

# The rate limit, SYN by SYN: rate.py CLIENT_TSV SERVER_TSV COST_NS.  The
# SYNs the client sent (its capture, in sending order) and those that
# reached the server (its capture, after XDP), matched by source port and
# sequence number.  Both taps stamp one clock; a SYN is stamped by the
# client's tap before XDP sees it, and by the server's after: so a pass
# stamped less than COST after the previous pass was sent, or a drop sent
# COST after the last pass was stamped, breaks the bucket (depth one
# token, refilled by the ns) whatever the load - no tolerance needed.
cat >"$TMP/rate.py" <<'EOF'
import sys
from decimal import Decimal
def syns(path):
    out = []
    for line in open(path):
        f = line.rstrip("\n").split(",")
        if len(f) >= 7 and f[2] and int(f[2], 16) & 0xff == 0x02:
            out.append((int(Decimal(f[0]) * 10**9), (f[5], f[6])))
    return out
sent, got = syns(sys.argv[1]), syns(sys.argv[2])
cost = int(sys.argv[3])
keys = [k for _, k in sent]
at = {k: t for t, k in got}
def out(l, g, w):
    print(f"{l}\t{g}\t{w}")
out("ratelimit: the SYNs sent are told apart (port, sequence)",
    len(set(keys)) == len(keys), True)
out("ratelimit: every SYN the server got was sent",
    len([k for k in at if k not in set(keys)]), 0)
passed = [(t, k) for t, k in sent if k in at]
print(f"# sent {len(sent)} SYNs, {len(passed)} passed, "
      f"{len(sent) - len(passed)} dropped over "
      f"{(sent[-1][0] - sent[0][0]) / 1e9 if sent else 0:.3f} s")
out("ratelimit: the limiter was exercised (>= 10 passed, >= 10 dropped)",
    len(passed) >= 10 and len(sent) - len(passed) >= 10, True)
out("ratelimit: the first SYN passed (a new bucket is full)",
    bool(sent) and sent[0][1] in at, True)
# a pass too early: stamped at the server less than cost after the
# previous pass left the client
early = [k1 for (s0, k0), (s1, k1) in zip(passed, passed[1:])
         if at[k1] - s0 < cost]
out("ratelimit: no SYN passed within the cost (10 ms) of the one before",
    len(early), 0)
# a drop too many: sent cost or more after the last pass was stamped
last, late = None, 0
for t, k in sent:
    if k in at:
        last = at[k]
    elif last is not None and t - last >= cost:
        late += 1
out("ratelimit: no SYN dropped a cost (10 ms) after the last one passed",
    late, 0)
EOF

# `invalid`: hits = the client's segments conntrack calls invalid; every
# valid one reaches the server, flag byte for flag byte, and no invalid one.
cat >"$TMP/invalid.py" <<'EOF2'
import json, sys
from collections import Counter
after, before = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
VALID = {0x02, 0x22, 0x12, 0x04, 0x14, 0x11, 0x31, 0x10, 0x30}
def valid(b):
    return b & 0x37 in VALID          # PSH, ECE, CWR ignored
def segs(path):
    out = []
    for line in open(path):
        f = line.rstrip("\n").split(",")
        if len(f) >= 5 and f[2]:
            out.append((int(f[1]), int(f[2], 16) & 0xff))
    return out
cli, srv = segs(sys.argv[3]), segs(sys.argv[4])
inv = [(l, b) for l, b in cli if not valid(b)]
r = [x for x in after["rules"] if x["text"] == "invalid drop"]
def out(l, g, w):
    print(f"{l}\t{g}\t{w}")
out("invalid: hits = client's invalid segments (packets bytes)",
    f"{r[0]['packets']} {r[0]['bytes']}" if r else "absent",
    f"{len(inv)} {sum(l for l, _ in inv)}")
out("invalid: the client sent >= 4 invalid flag bytes",
    len({b for _, b in inv}) >= 4, True)
out("invalid: drops.rule grew by the hits",
    after["drops"]["rule"] - before["drops"]["rule"], len(inv))
out("invalid: server-side capture sees no invalid segment",
    sum(1 for _, b in srv if not valid(b)), 0)
cv = Counter(b for _, b in cli if valid(b))
sv = Counter(b for _, b in srv)
out("invalid: every valid segment reached the server (per flag byte)",
    sorted(sv.items()), sorted(cv.items()))
out("invalid: valid odd segments were sent (SYN|ECE|CWR, FIN|ACK|URG)",
    (cv[0xc2] >= 2, cv[0x31] >= 2), (True, True))
EOF2

# ----------------------------------------------------------------- set-up

for tool in tcpdump tshark nmap curl "$HPING"; do
    command -v "$tool" >/dev/null || fail "tool $tool" "not installed"
done
[ -x "$TCPF" ] || fail "tcpflags binary" "$TCPF missing (run make)"
[ "$T_FAILED" -eq 0 ] || exit 1

echo "# 40-policy: lab, server"
new_lab
SRV_NS="$LAB-srv"
CLI_NS="$LAB-cli"
# static neighbours: no ARP/ND to wait for
ip -n "$CLI_NS" neigh replace "$LAB_SRV4" dev "$LAB_CLI_IF" nud permanent \
    lladdr "$(mac_of "$SRV_NS" "$LAB_SRV_IF")"
ip -n "$CLI_NS" -6 neigh replace "$LAB_SRV6" dev "$LAB_CLI_IF" nud permanent \
    lladdr "$(mac_of "$SRV_NS" "$LAB_SRV_IF")"
ip -n "$SRV_NS" neigh replace "$LAB_CLI4" dev "$LAB_SRV_IF" nud permanent \
    lladdr "$(mac_of "$CLI_NS" "$LAB_CLI_IF")"
ip -n "$SRV_NS" -6 neigh replace "$LAB_CLI6" dev "$LAB_SRV_IF" nud permanent \
    lladdr "$(mac_of "$CLI_NS" "$LAB_CLI_IF")"
mkdir -p "$TMP/www"
echo hello >"$TMP/www/index.html"
srv "$PY" "$TMP/server.py" "$HTTP" "$STREAM" "$TMP/www" "$CHUNK" "$TMP/stream.release" "$GAP" \
    >"$TMP/server.log" 2>&1 &
check_true "server listening on :$HTTP and :$STREAM" "$(cat "$TMP/server.log")" \
    wait_for 10 eval "[ \$(srv ss -Hltn '( sport = :$HTTP or sport = :$STREAM )' | wc -l) -eq 2 ]"
RUNDIR="/run/tcpflags/ns$(ns_cookie "$SRV_NS")"

# ------------------------------------------------- attach --rules (task 8)

echo "# attach --rules"
printf 'nullscan drop\nxmas drop\n--syn dport 80-70 drop\n' >"$TMP/bad.rules"
tf attach "$IF" --rules "$TMP/bad.rules"
check_err "attach --rules BADFILE" 2 "tcpflags: $TMP/bad.rules:3:" "empty port range"
check_eq "attach --rules BADFILE: no XDP program" "$(xdp_of "$SRV_NS" "$IF")" none
tf rule list "$IF"
check_err "attach --rules BADFILE: rule list says not attached" 1 "not attached"
check_true "attach --rules BADFILE: no rules file in $RUNDIR" "$RUNDIR/$IF.rules exists" \
    test ! -e "$RUNDIR/$IF.rules"

cat >"$TMP/start.rules" <<'EOF'
# the rule set tcpflags starts with
default pass
--syn dport 8080 count
nullscan drop
EOF
tf attach "$IF" --rules "$TMP/start.rules"
check_eq "attach --rules FILE: exit code" "$RC" 0
check_has "attach --rules FILE: says 2 rules" "$OUT$ERR" "2 rules"
check_eq "attach --rules FILE: native tcpf_xdp" "$(xdp_of "$SRV_NS" "$IF" | cut -d' ' -f1,3)" "native tcpf_xdp"
J=$(rl)
check_eq "attach --rules FILE: rule list shows the file" "$(texts "$J")" \
    "('pass', ['--syn dport 8080 count', 'nullscan drop'])"
check_true "attach --rules FILE: rules file in $RUNDIR" "missing" test -s "$RUNDIR/$IF.rules"
curl_ok "attach --rules" 4
curl_ok "attach --rules" 6
J=$(rl)
check_eq "attach --rules: SYN count rule hit twice" "$(pk "$J" '--syn dport 8080 count')" 2
check_eq "attach --rules: would_drop 2" "$(drop "$J" would_drop)" 2
tf attach "$IF"
check_eq "re-attach: exit code" "$RC" 0
check_same "re-attach: rules and hit counters kept" "$(rl)" "$J"
curl_ok "re-attach" 4
check_eq "re-attach: the kept rule counts on (3)" "$(pk "$(rl)" '--syn dport 8080 count')" 3
J=$(rl)
tf attach "$IF" --mode skb
check_eq "re-attach --mode skb: exit code" "$RC" 0
check_same "re-attach --mode skb: rules and hit counters kept" "$(rl)" "$J"
curl_ok "skb" 6
check_eq "skb: the kept rule counts on (4)" "$(pk "$(rl)" '--syn dport 8080 count')" 4
tf detach "$IF"
check_eq "detach: exit code" "$RC" 0
tf rule list "$IF" --json
check_err "detach: rule list says not attached" 1 "not attached"
check_true "detach: rules file removed" "$RUNDIR/$IF.rules still there" \
    test ! -e "$RUNDIR/$IF.rules"
tf attach "$IF"
check_eq "attach after detach: exit code" "$RC" 0
check_eq "attach after detach: native tcpf_xdp" "$(xdp_of "$SRV_NS" "$IF" | cut -d' ' -f1,3)" "native tcpf_xdp"
J=$(rl)
check_eq "attach after detach: no rules, default pass" "$(texts "$J")" "('pass', [])"
check_eq "attach after detach: drops from zero" \
    "$(json_get "$J" 'len(j["drops"]) >= 4 and set(j["drops"].values())')" "{0}"

# ------------------------------------------------------- count (task 2)

echo "# count"
radd "count" --syn count
J0=$(rl)
for f in 4 6 4 6 4; do curl_ok "count" "$f"; done
J=$(rl)
check_eq "count: '--syn count' hit once per connection (5)" "$(pk "$J" '--syn count')" 5
check_eq "count: would_drop grew by 5" \
    "$(($(drop "$J" would_drop) - $(drop "$J0" would_drop)))" 5
check_eq "count: nothing dropped" "$(drop "$J" rule) $(drop "$J" ratelimit) $(drop "$J" default)" "0 0 0"

# ----------------------------------------------------- presets (task 1)

echo "# presets vs nmap and hping3"
tf rule flush "$IF"
check_eq "presets: flush" "$RC" 0
for r in nullscan xmas synfin synrst finnoack; do radd "presets" "$r" drop; done
rl >"$TMP/presets.before"
cap_start pcli "$CLI_NS" "$LAB_CLI_IF" out tcp
cap_start psrv "$SRV_NS" "$LAB_SRV_IF" in tcp
NMAP=(timeout 30 nmap -n -Pn --send-ip --max-retries 0 --initial-rtt-timeout 100ms
    --max-rtt-timeout 200ms)
pids=()
for s in -sN -sX -sF; do
    cli "${NMAP[@]}" "$s" -p 20001-20004,"$HTTP" "$LAB_SRV4" >>"$TMP/nmap.log" 2>&1 &
    pids+=($!)
    cli "${NMAP[@]}" -6 "$s" -p 20005-20006,"$HTTP" "$LAB_SRV6" >>"$TMP/nmap.log" 2>&1 &
    pids+=($!)
done
# each hping3 has a port of its own; FIN|ACK matches no rule (3 must pass)
for spec in "-S -F -c 5 -p 20011" "-S -R -c 4 -p 20012" "-F -c 3 -p 20013" \
    "-c 2 -p 20014" "-F -P -U -c 2 -p 20015" "-S -F -R -c 2 -p 20016" \
    "-F -A -c 3 -p 20017"; do
    # shellcheck disable=SC2086  # spec holds hping3's arguments
    cli timeout 20 "$HPING" $spec -i u20000 "$LAB_SRV4" >>"$TMP/hping.log" 2>&1 &
    pids+=($!)
done
for f in 4 6 4 6 4 6; do curl_ok "presets (during scans)" "$f"; done
wait "${pids[@]}"
check_eq "presets: 6 nmap scans ran" "$(grep -c 'Nmap done' "$TMP/nmap.log")" 6
wait_settled presets "$CLI_NS" "$SRV_NS"
lab_sync
cap_stop pcli
cap_stop psrv
rl >"$TMP/presets.after"
"$PY" "$TMP/presets.py" "$TMP/presets.after" "$TMP/presets.before" \
    "$TMP/pcli.tsv" "$TMP/psrv.tsv" 3 >"$TMP/presets.cmp" 2>"$TMP/presets.pyerr" ||
    fail "presets: compare" "$(tail -n 1 "$TMP/presets.pyerr")"
report "$TMP/presets.cmp"

echo "# invalid drop"
tf rule flush "$IF"
radd "invalid" invalid drop
rl >"$TMP/invalid.before"
cap_start icli "$CLI_NS" "$LAB_CLI_IF" out tcp
cap_start isrv "$SRV_NS" "$LAB_SRV_IF" in tcp
pids=()
for spec in "-S -F -c 2 -p 20021" "-c 2 -p 20022" "-F -P -U -c 2 -p 20023" \
    "-R -A -U -c 2 -p 20024" "-S -A -F -c 2 -p 20025" "-S -X -Y -c 2 -p 20026" \
    "-F -A -U -c 2 -p 20027" "-A -c 2 -p 20028"; do
    # shellcheck disable=SC2086  # spec holds hping3's arguments
    cli timeout 20 "$HPING" $spec -i u20000 "$LAB_SRV4" >>"$TMP/hping.log" 2>&1 &
    pids+=($!)
done
cli "${NMAP[@]}" -6 -sN -p 20029 "$LAB_SRV6" >>"$TMP/nmap.log" 2>&1 &
pids+=($!)
for f in 4 6; do curl_ok "invalid (during odd segments)" "$f"; done
wait "${pids[@]}"
wait_settled invalid "$CLI_NS" "$SRV_NS"
lab_sync
cap_stop icli
cap_stop isrv
rl >"$TMP/invalid.after"
"$PY" "$TMP/invalid.py" "$TMP/invalid.after" "$TMP/invalid.before" \
    "$TMP/icli.tsv" "$TMP/isrv.tsv" >"$TMP/invalid.cmp" 2>"$TMP/invalid.pyerr" ||
    fail "invalid: compare" "$(tail -n 1 "$TMP/invalid.pyerr")"
report "$TMP/invalid.cmp"

# -------------------------------------------------- port ranges (task 5)

echo "# port ranges, default drop"
tf rule flush "$IF"
radd "ranges" dport 9000-9010 drop
J0=$(rl)
check_eq "ranges: 9000 9005 9010 dropped (timeout), 8999 9011 refused, IPv6 9005 dropped" \
    "$(probe "$LAB_SRV4/9000" "$LAB_SRV4/9005" "$LAB_SRV4/9010" "$LAB_SRV4/8999" \
        "$LAB_SRV4/9011" "$LAB_SRV6/9005")" "timeout timeout timeout refused refused timeout"
J=$(rl)
check_eq "ranges: rule hit by the 4 SYNs in range" "$(pk "$J" 'dport 9000-9010 drop')" 4
check_eq "ranges: drops.rule +4" "$(($(drop "$J" rule) - $(drop "$J0" rule)))" 4
radd "ranges" dport 9011-9012,9020 drop
check_eq "ranges: list 9011-9012,9020 now drops 9011 and 9020, not 9013" \
    "$(probe "$LAB_SRV4/9011" "$LAB_SRV4/9020" "$LAB_SRV4/9013")" "timeout timeout refused"
check_eq "ranges: that rule hit twice" "$(pk "$(rl)" 'dport 9011-9012,9020 drop')" 2

tf rule flush "$IF"
# the default acts on arriving segments only: the server's answers pass
radd "default drop" dport "$HTTP" pass
tf rule default "$IF" drop
check_eq "default drop: rule default drop" "$RC" 0
J0=$(rl)
check_eq "default drop: rule list says default drop" "$(json_get "$J0" 'j["default"]')" drop
curl_ok "default drop: port $HTTP passed by rules" 4
check_eq "default drop: SYN to 9011 dropped" "$(probe "$LAB_SRV4/9011")" timeout
J=$(rl)
check_eq "default drop: drops.default +1" "$(($(drop "$J" default) - $(drop "$J0" default)))" 1
tf rule default "$IF" pass
check_eq "default pass again: 9011 refused" "$(probe "$LAB_SRV4/9011")" refused

# ----------------------------------------------------- prefixes (task 4)

echo "# prefixes, sets"
cat >"$TMP/prefix.rules" <<'EOF'
# prefixes: the client is 198.19.0.1 and 2001:2:0:1::1
set lab 198.19.0.1/32 2001:2:0:1::1/128
set elsewhere 198.19.0.128/25 198.19.1.0/24 198.18.0.0/16 2001:2:0:2::/64 2001:2:0:1:8000::/65
src 198.19.0.0/24 dport 9101 drop
src 2001:2:0:1::/64 dport 9102 drop
src @elsewhere dport 9103 drop
src 198.19.0.2/32,2001:2:0:1::2/128 dport 9103 drop
src @lab dport 9104 drop
dst 198.19.0.2/32,2001:2:0:1::2/128 dport 9105 count
EOF
rapply "prefixes" "$TMP/prefix.rules"
J=$(rl)
check_eq "prefixes: 6 rules listed" "$(json_get "$J" 'len(j["rules"])')" 6
S4=$LAB_SRV4 S6=$LAB_SRV6
check_eq "prefixes: v4/v6 to 9101 9102 9103 9104 9105" \
    "$(probe "$S4/9101" "$S6/9101" "$S4/9102" "$S6/9102" "$S4/9103" "$S6/9103" \
        "$S4/9104" "$S6/9104" "$S4/9105" "$S6/9105")" \
    "timeout refused refused timeout refused refused timeout timeout refused refused"
J=$(rl)
check_eq "prefixes: IPv4 /24 rule hit by the IPv4 SYN only" "$(pk "$J" 'src 198.19.0.0/24 dport 9101 drop')" 1
check_eq "prefixes: IPv6 /64 rule hit by the IPv6 SYN only" "$(pk "$J" 'src 2001:2:0:1::/64 dport 9102 drop')" 1
check_eq "prefixes: @elsewhere (not holding the client) never hit" "$(pk "$J" 'src @elsewhere dport 9103 drop')" 0
check_eq "prefixes: the server's own /32 and /128 never hit" \
    "$(pk "$J" 'src 198.19.0.2/32,2001:2:0:1::2/128 dport 9103 drop')" 0
check_eq "prefixes: @lab hit by both families" "$(pk "$J" 'src @lab dport 9104 drop')" 2
check_eq "prefixes: dst v4+v6 count rule hit by both" \
    "$(pk "$J" 'dst 198.19.0.2/32,2001:2:0:1::2/128 dport 9105 count')" 2
radd "prefixes" src 198.19.0.0/25 dport 9106 drop
radd "prefixes" src 2001:2:0:1::1/127 dport 9106 drop
check_eq "prefixes (rule add): 9106 dropped in both families" \
    "$(probe "$S4/9106" "$S6/9106")" "timeout timeout"
J=$(rl)
check_eq "prefixes (rule add): each family's rule hit once" \
    "$(pk "$J" 'src 198.19.0.0/25 dport 9106 drop') $(pk "$J" 'src 2001:2:0:1::1/127 dport 9106 drop')" "1 1"

# --------------------------------------------------- rate limit (task 3)

echo "# rate limit"
RL_PORT=9400
tf rule flush "$IF"
radd "ratelimit" --syn dport "$RL_PORT" ratelimit 100/s burst 1 per global
RLT="--syn dport $RL_PORT ratelimit 100/s burst 1 per global"
J0=$(rl)
cap_start rcli "$CLI_NS" "$LAB_CLI_IF" out tcp dst port "$RL_PORT"
cap_start rsrv "$SRV_NS" "$LAB_SRV_IF" in tcp dst port "$RL_PORT"
cli timeout 60 "$HPING" -S -p "$RL_PORT" -i u2000 -c 1500 "$LAB_SRV4" >"$TMP/hping-rl.log" 2>&1
lab_sync
cap_stop rcli
cap_stop rsrv
J=$(rl)
"$PY" "$TMP/rate.py" "$TMP/rcli.tsv" "$TMP/rsrv.tsv" 10000000 >"$TMP/rate.cmp" \
    2>"$TMP/rate.pyerr" || fail "ratelimit: compare" "$(tail -n 1 "$TMP/rate.pyerr")"
grep '^#' "$TMP/rate.cmp"
grep -v '^#' "$TMP/rate.cmp" >"$TMP/rate.tsv"
report "$TMP/rate.tsv"
read -r SENT PASSED < <(sed -n 's/^# sent \([0-9]*\) SYNs, \([0-9]*\) passed.*/\1 \2/p' "$TMP/rate.cmp")
check_eq "ratelimit: rule hits = SYNs sent" "$(pk "$J" "$RLT")" "${SENT:-none}"
check_eq "ratelimit: drops.ratelimit grew by sent - passed" \
    "$(($(drop "$J" ratelimit) - $(drop "$J0" ratelimit)))" "$((${SENT:-0} - ${PASSED:-0}))"
check_eq "ratelimit: drops.rule unchanged" "$(drop "$J" rule)" "$(drop "$J0" rule)"

# ------------------------------------- live changes during a transfer (task 6)

echo "# rule changes during a transfer"
tf rule flush "$IF"
cli "$PY" "$TMP/stream.py" "$LAB_SRV4" "$STREAM" >"$TMP/stream.out" 2>"$TMP/stream.err" &
SPID=$!
check_true "live: the transfer is under way" "no connection to :$STREAM" \
    wait_for 30 eval "srv ss -Htn state established '( sport = :$STREAM )' | grep -q ."
ACKT="ingress dport $STREAM flags ACK/ACK count"
EGT="--priority -1 egress sport $STREAM count"
NODIR="sport $STREAM count"    # no direction: arriving segments only
for i in 1 2 3; do
    {
        echo "# live change $i"
        echo "nullscan drop"
        echo "--syn dport 92${i}0 drop"
        echo "$ACKT"
        echo "xmas drop"
        echo "dport 9300-9310,9400 drop"
        echo "flags FIN/FIN dport 9500 drop"
        echo "$NODIR"
    } >"$TMP/live$i.rules"
    rapply "live $i" "$TMP/live$i.rules"
    check_true "live $i: the applied ACK count rule counts the transfer" \
        "$(hits "$(rl)" "$ACKT")" wait_for 30 eval '[ "$(pk "$(rl)" "$ACKT")" -gt 0 ] 2>/dev/null'
    radd "live $i" --priority -1 egress sport "$STREAM" count
    EG=$RID
    radd "live $i" --syn dport "92${i}1" drop
    check_true "live $i: the added egress count rule counts the transfer" \
        "$(hits "$(rl)" "$EGT")" wait_for 30 eval '[ "$(pk "$(rl)" "$EGT")" -gt 0 ] 2>/dev/null'
    tf rule del "$IF" "$EG"
    check_eq "live $i: rule del $EG" "$RC" 0
    check_eq "live $i: egress rule gone" "$(pk "$(rl)" "$EGT")" absent
    check_eq "live $i: new drop rules act (92${i}0 92${i}1 dropped, 92${i}2 refused)" \
        "$(probe "$LAB_SRV4/92${i}0" "$LAB_SRV4/92${i}1" "$LAB_SRV4/92${i}2")" \
        "timeout timeout refused"
    J=$(rl)
    check_eq "live $i: their hit counters" \
        "$(pk "$J" "--syn dport 92${i}0 drop") $(pk "$J" "--syn dport 92${i}1 drop")" "1 1"
done
check_eq "live: a rule without a direction does not see the server's segments" \
    "$(pk "$(rl)" "$NODIR")" 0
check_true "live: the transfer was still running after the changes" \
    "it ended: $(cat "$TMP/stream.out" "$TMP/stream.err")" kill -0 "$SPID"
touch "$TMP/stream.release"
wait "$SPID"
check_eq "live: transfer exit code" "$?" 0
read -r GOT_BYTES SECS <"$TMP/stream.out"
echo "# live: the transfer took $SECS s"
check_eq "live: transfer got every byte the server sent" "${GOT_BYTES:-none}" \
    "$(cat "$TMP/stream.release.sent" 2>/dev/null || echo "the server wrote no count")"

# --------------------------------------------------- CLI errors (task 7)

echo "# CLI errors"
printf 'nullscan drop\nxmas drop\n--syn dport 8080 count\n' >"$TMP/base.rules"
rapply "errors" "$TMP/base.rules"
BASE=$(rl)
# bad RULE ARGS... WANT_RC WORDS: rule add that must fail, set unchanged
bad_add() {
    local name=$1 rc=$2 words=$3
    shift 3
    tf rule add "$IF" "$@"
    # shellcheck disable=SC2086  # words: one key word each
    check_err "$name" "$rc" $words
    check_same "$name: rule list unchanged" "$(rl)" "$BASE"
}
bad_add "unknown flag name" 2 "unknown BOGUS" flags SYN,BOGUS drop
bad_add "unknown flag name (--tcp-flags)" 2 "unknown FOO" --tcp-flags SYN,FOO SYN drop
bad_add "overlapping port ranges" 2 "overlapping 10-20 15-30" dport 10-20,15-30 drop
bad_add "empty port range" 2 "empty 20-10" dport 20-10 drop
bad_add "port out of range" 2 "65536" dport 65536 drop
bad_add "IPv4 prefix length out of range" 2 "prefix length /33" src 198.19.0.0/33 drop
bad_add "IPv6 prefix length out of range" 2 "prefix length /129" src 2001:2::/129 drop
bad_add "rate of zero" 2 "zero" --syn ratelimit 0/s per global
bad_add "unknown set" 2 "unknown set nosuch" src @nosuch drop
bad_add "no action" 2 "action" --syn dport 80

printf 'xmas drop\n--syn dport 9000 drop\n\n--syn dport 9001 drop\nflags SYN,BOGUS drop\n' \
    >"$TMP/badline.rules"
tf apply "$IF" "$TMP/badline.rules"
check_err "apply, bad line 5" 2 unknown BOGUS
check_true "apply, bad line 5: message starts 'tcpflags: FILE:5:'" "$ERR" \
    test "${ERR#"tcpflags: $TMP/badline.rules:5: "}" != "$ERR"
check_same "apply, bad line 5: rule list unchanged" "$(rl)" "$BASE"
printf 'xmas drop\n# a comment line\n--syn dport 9000 drop\n--tcp-flags SYN,BOGUS SYN drop\n' \
    >"$TMP/badcomment.rules"
tf apply "$IF" "$TMP/badcomment.rules"
check_err "apply, bad line 4 after a comment line" 2 "$TMP/badcomment.rules:4:" "BOGUS"
check_same "apply, bad line 4 after a comment line: rule list unchanged" "$(rl)" "$BASE"
printf 'nullscan drop\n# scans\nxmas drop\nsynfin drop # SYN+FIN\n\n# ports\n--syn dport 9000 drop\n' \
    >"$TMP/comments.rules"
tf apply "$IF" "$TMP/comments.rules"
check_eq "apply, comments between rules: exit code" "$RC" 0
check_eq "apply, comments between rules: every rule applied" "$(texts "$(rl)")" \
    "('pass', ['nullscan drop', 'xmas drop', 'synfin drop', '--syn dport 9000 drop'])"
rapply "errors" "$TMP/base.rules"
BASE=$(rl)
printf 'set empty { }\nsrc @empty drop\n' >"$TMP/emptyset.rules"
tf apply "$IF" "$TMP/emptyset.rules"
check_err "apply, a set of braces only" 2 "$TMP/emptyset.rules:1:" "empty prefix list"
check_same "apply, a set of braces only: rule list unchanged" "$(rl)" "$BASE"
# 4200 /32s, each in its own /16: two prefix-table nodes each, 8400 > 8192
python3 -c "
a = ['%d.%d.1.1/32' % (11 + i // 250, i % 250) for i in range(2100)]
b = ['%d.%d.1.1/32' % (31 + i // 250, i % 250) for i in range(2100)]
print('set a ' + ','.join(a)); print('set b ' + ','.join(b))
print('src @a drop'); print('dst @b count')" >"$TMP/bigsets.rules"
tf apply "$IF" "$TMP/bigsets.rules"
check_err "apply, prefixes beyond the prefix table" 2 "too many prefixes for one rule set"
check_same "apply, prefixes beyond the prefix table: rule list unchanged" "$(rl)" "$BASE"
tf apply "$IF" "$TMP/nonexistent.rules"
check_err "apply, missing file" 2 "cannot read" nonexistent.rules
check_same "apply, missing file: rule list unchanged" "$(rl)" "$BASE"

tf rule del "$IF" 77
check_err "rule del unknown id" 1 "no rule 77"
check_same "rule del unknown id: rule list unchanged" "$(rl)" "$BASE"
tf rule del "$IF" abc
check_usage "rule del bad id" "invalid rule id"
check_same "rule del bad id: rule list unchanged" "$(rl)" "$BASE"

tf rule add lo nullscan drop
check_err "rule add, interface not attached (lo)" 1 "lo is not attached"
tf rule list lo
check_err "rule list, interface not attached (lo)" 1 "lo is not attached"
tf apply lo "$TMP/base.rules"
check_err "apply, interface not attached (lo)" 1 "lo is not attached"
tf rule del lo 1
check_err "rule del, interface not attached (lo)" 1 "lo is not attached"
tf rule flush lo
check_err "rule flush, interface not attached (lo)" 1 "lo is not attached"
tfc rule list "$LAB_CLI_IF"
check_err "rule list in the client namespace (not attached)" 1 "$LAB_CLI_IF is not attached"
tf rule list nosuch0
check_err "rule list, unknown interface" 2 nosuch0
check_same "errors on other interfaces: $IF's rule list unchanged" "$(rl)" "$BASE"

for i in $(seq 1 256); do echo "--syn dport $((10000 + i)) drop"; done >"$TMP/r256.rules"
{ cat "$TMP/r256.rules"; echo "--syn dport 20000 drop"; } >"$TMP/r257.rules"
rapply "256 rules" "$TMP/r256.rules"
FULL=$(rl)
check_eq "256 rules: all listed" "$(json_get "$FULL" 'len(j["rules"])')" 256
tf rule add "$IF" nullscan drop
check_err "rule add beyond 256" 1 "too many rules"
check_same "rule add beyond 256: rule list unchanged" "$(rl)" "$FULL"
tf apply "$IF" "$TMP/r257.rules"
check_err "apply of 257 rules" 2 "$TMP/r257.rules:257:" "too many rules"
check_same "apply of 257 rules: rule list unchanged" "$(rl)" "$FULL"
check_eq "256 rules: the last one acts (10256 dropped, 10257 refused)" \
    "$(probe "$LAB_SRV4/10256" "$LAB_SRV4/10257")" "timeout refused"
check_eq "256 rules: its counter" "$(pk "$(rl)" '--syn dport 10256 drop')" 1
curl_ok "256 rules" 4

tf detach "$IF"
check_eq "detach at the end" "$RC" 0
t_done
