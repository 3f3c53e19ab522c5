#!/bin/bash
# 60-top.sh - `tcpflags top`, the dashboard, under tmux on a lab with real
# traffic.  tcpflags on tcpf-srv with three rules; from the client: curl
# over IPv4 and IPv6 (python http.server), nmap NULL and Xmas scans, hping3
# SYN|FIN and SYNs to a port a rule drops.  Then, quiet, top runs in a
# tmux pane (100x30, --interval 0.2) and its captured screen must show
# exactly what the command reports for the same moment (each comparison
# polls the screen until it agrees or SHOT_WAIT passes: no fixed sleep
# that a loaded machine outruns):
#   overview: the funnel's totals = the phase counters of `stats --json`,
#     its NOW column and the states panel = the gauges, half-open;
#   patterns: every pattern (IPv4 and IPv6 rows added up) and its total =
#     stats' flags, the TCP totals, conntrack validity;
#   rules: each rule's id, text, packets and bytes = `rule list --json`,
#     drops by reason;
#   sources: the SYN sources' counts = stats' syn_sources.
# Keys: s cycles the sort (a live URG stream leads by rate; by total;
# by name); p freezes the screen (PAUSED) while traffic flows, and p again
# shows it; r zeroes the on-screen totals while the kernel's stay, and the
# totals since r = the kernel's increase since r; Tab and 1-4 switch views
# (their titles); h shows help; resizes to 80x24 and 160x50 redraw (the
# screen fills the new size; more pattern rows at 160x50); q exits 0 and
# the shell's terminal is back in cooked mode (icanon, echo).  SIGTERM,
# Ctrl-C and Ctrl-\ restore it the same way.  Colour only with a colour
# terminal and no NO_COLOR; an ASCII sparkline in the C locale, blocks in
# UTF-8.  With no IFACE, an interface attached while top runs appears.
# `tcpflags reset` under four tops (one per view, two counting since r),
# captured one after the other through a SYN burst and steady traffic:
# no rate reaches 10000/s, no source's SYN rate 200/s, no total goes down
# between captures; a top that saw the reset keeps its totals, and adds
# what is counted after it.  Detaching while top runs shows GONE (detach)
# or NOT ATTACHED (--keep-maps), top keeps running, and comes back to
# "attached" (a new attachment: totals since attach, the r note gone).
# The guard's panel at 80x24 (an XDP pass program on the client side for
# the guard's XDP_TX SYN-ACKs): none while the guard is off; `cookie` and
# N curls from addresses of their own: cookies sent = validated = N, and
# every figure = `guard --json` and stats' drops; `auto`: calm, "engaged
# since" a curl (= guard --json's engaged_since), calm again; gone at off.
# 17 interfaces attached: 16 shown, the header says one is left out, and
# takes the line of one detached.
# Errors: not attached, nothing attached, unknown interface, bad
# --interval, not root, no terminal: exit code and one `tcpflags: ` line.
# Run as root: bash tests/integration/60-top.sh
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

HPING=/usr/sbin/hping3
IF=$LAB_SRV_IF
HTTP=8080
IV=0.2                          # top's refresh interval in these tests
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
SOCK=tcpf-top-$$                # a tmux server of our own
t_tmp top
t_undo() {
    tmux -L "$SOCK" kill-server >/dev/null 2>&1
    # lo and tva1-16 are attached too (several interfaces); t_cleanup
    # knows the lab's veths
    if [ -n "${LAB:-}" ]; then
        in_ns "$LAB-srv" "$TCPF" detach lo >/dev/null 2>&1
        # the veths of "more interfaces than top shows": pins outlive a netns
        for i in $(seq 1 16); do
            in_ns "$LAB-srv" "$TCPF" detach "tva$i" >/dev/null 2>&1
        done
    fi
}

# ---------------------------------------------------------------- helpers

tf() { run "$LAB-srv" "$TCPF" "$@"; }
tm() { LANG=C.UTF-8 tmux -u -L "$SOCK" "$@"; }

# top_start NAME COLS ROWS [ENV=V...] -- [TOP ARGS...]: top in a tmux pane,
# inside a shell that then prints its exit code and its terminal modes.
top_start() {
    local name=$1 cols=$2 rows=$3 envs=()
    shift 3
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    tm new-session -d -s "$name" -x "$cols" -y "$rows" \
        "env LANG=C.UTF-8 ${envs[*]} nsenter --net=/run/netns/$LAB-srv $TCPF top $*; echo TOP-EXIT-\$?; echo STTY \$(stty -a); sleep 600"
}
# shot NAME: the pane as text (into $TMP/NAME.txt too).
shot() { tm capture-pane -p -t "$1" | tee "$TMP/$1.txt"; }
# shot_has NAME ERE: the pane has a line matching ERE.
shot_has() { shot "$1" | grep -qE -- "$2"; }
# wait_shot NAME SECONDS ERE: poll the pane until a line matches ERE.
wait_shot() { wait_for "$2" shot_has "$1" "$3"; }
# modes FILE: the echo and icanon modes the shell's `stty -a` printed
# after top ("-echo" when off).
modes() {
    grep -o 'STTY .*' "$1" | tr ' ' '\n' | tr -d ';' |
        grep -xE -- '-?(icanon|echo)' | sort | tr '\n' ' ' | sed 's/ $//'
}
# top_pid NAME: the pid of tcpflags in the pane (nsenter execs it).
top_pid() { pgrep -P "$(tm list-panes -t "$1" -F '#{pane_pid}')" -x tcpflags; }
# key NAME KEYS...: type into the pane.
key() { local n=$1; shift; tm send-keys -t "$n" "$@"; }
# settle: a few refreshes of top (only where nothing must change)
# fits80 NAME FILE: FILE (a capture of an 80x24 pane) has 24 lines, none
# longer than 80 characters.
fits80() {
    check_eq "$1: 24 lines" "$(wc -l <"$2")" 24
    check_eq "$1: no line longer than 80" "$("$PY" -c 'import sys
print(sum(len(l.rstrip("\n")) > 80 for l in open(sys.argv[1], encoding="utf-8")))' "$2")" 0
}
settle() { sleep "$(awk "BEGIN { print 3 * $IV }")"; }

stats_json() { srv "$TCPF" stats "$IF" --json 2>/dev/null; }
rules_json() { srv "$TCPF" rule list "$IF" --json 2>/dev/null; }
# quiet NAME: once the lab's connections have settled, what the client
# sent has been through XDP (lab_sync) and a reaper pass has begun after it
# (the gauges), save stats --json as $TMP/NAME.json and rule list --json as
# $TMP/NAME.rules: what top must come to show.  (It waited for the counters
# to stand still over 0.6 s: under load, segments still on their way.)
quiet() {
    wait_settled "$1" "$LAB-cli" "$LAB-srv"
    lab_sync
    wait_tick "$LAB-srv"
    stats_json >"$TMP/$1.json"
    rules_json >"$TMP/$1.rules"
}
# report FILE: "label<TAB>got<TAB>want" lines -> PASS/FAIL lines.
report() {
    local label got want
    while IFS=$'\t' read -r label got want; do
        check_eq "$label" "$got" "$want"
    done <"$1"
}
# check NAME MODE ARGS...: screen.py MODE ARGS, reported.
check() {
    local name=$1
    shift
    "$PY" "$TMP/screen.py" "$@" >"$TMP/check.tsv" 2>"$TMP/check.err" ||
        fail "$name: screen.py $1" "$(tail -n 3 "$TMP/check.err")"
    sed -i "s/^/$name: /" "$TMP/check.tsv"
    report "$TMP/check.tsv"
}
# agrees PANE MODE ARGS...: a fresh capture of PANE (as $TMP/PANE.txt),
# and screen.py MODE ARGS finds every got = want.
agrees() {
    local pane=$1
    shift
    shot "$pane" >/dev/null
    "$PY" "$TMP/screen.py" "$@" 2>/dev/null |
        awk -F'\t' '$2 != $3 { bad = 1 } END { exit bad || NR == 0 }'
}
# check_shot NAME PANE MODE ARGS...: poll PANE until its capture agrees
# with MODE ARGS (top refreshes; under load that takes a while), for at
# most SHOT_WAIT seconds, then report that capture.
SHOT_WAIT=30
check_shot() {
    local name=$1 pane=$2
    shift 2
    wait_for "$SHOT_WAIT" agrees "$pane" "$@"
    check "$name" "$@"
}

# ------------------------------------------------------------ the parser

cat >"$TMP/screen.py" <<'EOF'
# Read top's captured screen and compare it with the command's JSON.
# Prints "label<TAB>got<TAB>want" lines.
import json, re, sys, time

PAT = re.compile(r"^ (\S+?)\+?\s+(ipv4|ipv6)\s+(\S+)\s+(\S+)\s+(\d\S*)\s+(yes|NO)(?:\s|$)")

def lines(path):
    return open(path, encoding="utf-8").read().split("\n")

def out(label, got, want):
    print(f"{label}\t{got}\t{want}")

def patterns(path):
    """[(name, family, rate, share, total)] in screen order."""
    rows = []
    for l in lines(path):
        m = PAT.match(l)
        if m:
            rows.append((m.group(1), m.group(2), m.group(3), m.group(4),
                         int(m.group(5)), m.group(6)))
    return rows

def panels(path):
    """The overview's lines above the pattern table (funnel, states)."""
    top = []
    for l in lines(path):
        if l.startswith(" PATTERN "):
            break
        top.append(l)
    return top

def flags_of(j):
    return {f["name"]: f for f in j["flags"]}

UNIT = {"k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}

def num(s):
    """top's numbers: 12.3, 1.2k, 123M; None for '-'."""
    if s == "-":
        return None
    if s[-1] in UNIT:
        return float(s[:-1]) * UNIT[s[-1]]
    return float(s)

FUNNEL = ("SYN", "SYN-ACK", "completed", "FIN (fin1)", "LAST_ACK (fin2)",
          "TIME_WAIT (ack2)", "resets", "out_of_state")
SRC = re.compile(r"^ (\S+)\s+(ipv4|ipv6)\s+(\S+)\s+(\d\S*)\s*$")

def figures(path):
    """{label: (rate, total, limit)} of every number with a rate on a
    screen: the header's rates, the funnel, the patterns, the TCP lines,
    drops and rules, sources; limit: "pkt", "bytes" or "src"."""
    fig = {}
    for l in lines(path):
        m = re.match(r"^ all (\S+) pkt/s  (\S+) B/s   TCP (\S+)/s   dropped (\S+)/s", l)
        if m:
            fig["all pkt/s"] = (m.group(1), None, "pkt")
            fig["all B/s"] = (m.group(2), None, "bytes")
            fig["TCP/s"] = (m.group(3), None, "pkt")
            fig["dropped/s"] = (m.group(4), None, "pkt")
            continue
        m = re.match(r"^ (\S+) +attached .* mode, up \S+, (\S+) pkt/s", l)
        if m:
            fig[m.group(1) + " pkt/s"] = (m.group(2), None, "pkt")
            continue
        m = PAT.match(l)
        if m:
            fig[m.group(1) + "/" + m.group(2)] = (m.group(3), m.group(5), "pkt")
            continue
        if l[1:17].strip() in FUNNEL and len(l) > 36:
            fig["funnel " + l[1:17].strip()] = (l[18:26].strip(), l[27:36].strip(), "pkt")
            continue
        m = re.match(r"^ /s: +TCP (\S+) \(ipv4 (\S+), ipv6 (\S+)\)  non-TCP (\S+)", l)
        if m:
            for k, v in zip(("TCP", "ipv4", "ipv6", "non-TCP"), m.groups()):
                fig.setdefault("line " + k, [None, None, "pkt"])[0] = v
            continue
        m = re.match(r"^ totals: TCP (\S+) \(ipv4 (\S+), ipv6 (\S+)\)  non-TCP (\S+)", l)
        if m:
            for k, v in zip(("TCP", "ipv4", "ipv6", "non-TCP"), m.groups()):
                fig.setdefault("line " + k, [None, None, "pkt"])[1] = v
            continue
        m = re.match(r"^ (rule|ratelimit|default|would_drop)\s+(\S+)\s+(\d\S*)\s*$", l)
        if m:
            fig["drops " + m.group(1)] = (m.group(2), m.group(3), "pkt")
            continue
        m = re.match(r"^ +(\d+) +(\S+) +(\d\S*) +(\d\S*)  (.*?)\s*$", l)
        if m:
            fig["rule %s" % m.group(1)] = (m.group(2), m.group(3), "pkt")
            fig["rule %s bytes" % m.group(1)] = (None, m.group(4), "pkt")
            continue
        m = SRC.match(l)
        if m:
            # SYNS is the table's count (a reset empties it): not a total
            fig["source " + m.group(1)] = (m.group(3), None, "src")
    return fig

def series(pkt, src, paths):
    """Captures taken one after the other: every rate below its bound
    (bytes: pkt * 1514, a full frame each), no total smaller than in the
    capture before."""
    bound = {"pkt": pkt, "bytes": pkt * 1514, "src": src}
    prev, high, down, rows, rated, unrated = None, [], [], True, 0, 0
    for p in paths:
        fig = figures(p)
        rows &= len(fig) > 4
        for k, (rate, total, kind) in fig.items():
            v = num(rate) if rate else None
            if rate == "-":
                unrated += 1
            if v is not None:
                rated += v > 0
                if v >= bound[kind]:
                    high.append(f"{p.rsplit('/', 1)[-1]} {k} {rate}/s")
            if prev and total is not None and k in prev and prev[k][1] is not None:
                if num(total) < num(prev[k][1]):
                    down.append(f"{p.rsplit('/', 1)[-1]} {k} {prev[k][1]} -> {total}")
        prev = fig
    out("numbers on every capture", rows, True)
    out("some rate above 0 (traffic seen)", rated > 0, True)
    out(f"every rate below {pkt:g}/s (sources {src:g}/s)", high[:5], [])
    out("no total goes down from one capture to the next", down[:5], [])
    return unrated

mode = sys.argv[1]
if mode in ("tcpkey", "counters"):
    # tcpkey: what must stand still for "quiet"; counters: the same
    # without the gauges (the reaper recounts them, traffic or not)
    j = json.load(sys.stdin)
    k = [j["flags"], j["phases"], j["packets"]["tcp"], j.get("syn_sources"),
         j["rules"], j["drops"]]
    print(json.dumps(k + ([j["states"]] if mode == "tcpkey" else [])))
elif mode == "patterns":   # SCREEN JSON [BASE_JSON]: totals (since base)
    rows = patterns(sys.argv[2])
    j = json.load(open(sys.argv[3]))
    base = json.load(open(sys.argv[4])) if len(sys.argv) > 4 else None
    fl = flags_of(j)
    bf = flags_of(base) if base else {}
    got = {}
    for name, fam, rate, share, total, valid in rows:
        got[name] = got.get(name, 0) + total
    out("pattern names on screen = stats' flags", sorted(got), sorted(fl))
    for name, f in sorted(fl.items()):
        want = f["packets"] - (bf[name]["packets"] if name in bf else 0)
        out(f"'{name}' total (IPv4 + IPv6 rows)", got.get(name, "absent"), want)
    for name, fam, rate, share, total, valid in rows:
        if name in fl:
            out(f"'{name}' {fam} valid", valid, "yes" if fl[name]["valid"] else "NO")
    tot = [l for l in lines(sys.argv[2]) if l.startswith(" totals: TCP ")]
    m = re.match(r" totals: TCP (\d+) \(ipv4 (\d+), ipv6 (\d+)\)", tot[0] if tot else "")
    p, bp = j["packets"], base["packets"] if base else {}
    out("TCP totals line (tcp ipv4 ipv6)", " ".join(m.groups()) if m else "absent",
        " ".join(str(p[k] - bp.get(k, 0)) for k in ("tcp", "ipv4_tcp", "ipv6_tcp")))
elif mode == "rates0":     # SCREEN: quiet, every pattern's rate 0.0
    rows = patterns(sys.argv[2])
    out("pattern rows shown", len(rows) > 0, True)
    out("every pattern's rate is 0.0 when quiet",
        sorted({r[2] for r in rows}), ["0.0"])
elif mode == "overview":   # SCREEN JSON
    j = json.load(open(sys.argv[3]))
    ph, st = j["phases"], j["states"]
    want = {"SYN": ph["handshake_syn"], "SYN-ACK": ph["handshake_synack"],
            "completed": ph["handshake_ack"], "FIN (fin1)": ph["teardown_fin1"],
            "LAST_ACK (fin2)": ph["teardown_fin2"],
            "TIME_WAIT (ack2)": ph["teardown_ack2"], "resets": ph["reset"],
            "out_of_state": ph["out_of_state"]}
    now = {"CLOSE_WAIT": st["close_wait"], "LAST_ACK (fin2)": st["last_ack"],
           "TIME_WAIT (ack2)": st["time_wait"]}
    left, right = {}, {}
    for l in panels(sys.argv[2]):
        lab = l[1:17].strip()
        if lab in want or lab in now or lab == "completion":
            left[lab] = (l[18:26].strip(), l[27:36].strip(), l[37:45].strip())
        m = re.match(r"^\s*(\S+)\s+(\d+)\s*$", l[46:])
        if m:
            right[m.group(1)] = int(m.group(2))
    for lab, w in want.items():
        out(f"funnel '{lab}' total = phase", left.get(lab, ("", "absent"))[1], str(w))
        out(f"funnel '{lab}' rate when quiet", left.get(lab, ("absent",))[0], "0.0")
    for lab, w in now.items():
        out(f"funnel '{lab}' NOW = gauge", left.get(lab, ("", "", "absent"))[2], str(w))
    s, a = ph["handshake_syn"], ph["handshake_ack"]
    out("funnel completion (totals)", left.get("completion", ("", "absent"))[1],
        "%.1f%%" % (100.0 * a / s) if s else "-")
    for name, w in st.items():
        out(f"state '{name}' = gauge", right.get(name, "absent"), w)
    out("half-open = connections.half_open", right.get("half-open", "absent"),
        j["connections"]["half_open"])
elif mode == "totals0":    # SCREEN: every pattern total 0 (after r)
    out("every pattern total on screen is 0",
        sorted({str(r[4]) for r in patterns(sys.argv[2])}), ["0"])
elif mode == "series":     # PKT_BOUND SRC_BOUND SCREEN...: consecutive captures
    series(float(sys.argv[2]), float(sys.argv[3]), sys.argv[4:])
elif mode == "sum":        # A B OUT: two stats --json added up, in the shape of one
    a, b = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
    fl = {}
    for f in a["flags"] + b["flags"]:
        if f["name"] in fl:
            fl[f["name"]]["packets"] += f["packets"]
        else:
            fl[f["name"]] = dict(f)
    a["flags"] = list(fl.values())
    for k in ("tcp", "ipv4_tcp", "ipv6_tcp"):
        a["packets"][k] += b["packets"][k]
    json.dump(a, open(sys.argv[4], "w"))
elif mode == "funnel0":    # SCREEN: every funnel total 0 (after r)
    tot = []
    for l in panels(sys.argv[2]):
        lab = l[1:17].strip()
        if lab in ("SYN", "SYN-ACK", "completed", "FIN (fin1)", "LAST_ACK (fin2)",
                   "TIME_WAIT (ack2)", "resets", "out_of_state"):
            tot.append(l[27:36].strip())
    out("funnel totals after r", " ".join(tot), " ".join(["0"] * 8))
elif mode == "rules":      # SCREEN RULES_JSON [BASE_RULES_JSON]
    j = json.load(open(sys.argv[3]))
    base = json.load(open(sys.argv[4])) if len(sys.argv) > 4 else None
    br = {r["id"]: r for r in base["rules"]} if base else {}
    shown, drops = {}, {}
    for l in lines(sys.argv[2]):
        m = re.match(r"^ +(\d+) +(\S+) +(\d\S*) +(\d\S*)  (.*?)\s*$", l)
        if m:
            shown[int(m.group(1))] = (m.group(5), int(m.group(3)), int(m.group(4)))
        m = re.match(r"^ (" + "|".join(j["drops"]) + r")\s+(\S+)\s+(\d+)\s*$", l)
        if m:
            drops[m.group(1)] = int(m.group(3))
    out("rule ids on screen", sorted(shown), sorted(r["id"] for r in j["rules"]))
    for r in j["rules"]:
        b = br.get(r["id"], {"packets": 0, "bytes": 0})
        out(f"rule {r['id']} (text packets bytes)", shown.get(r["id"], "absent"),
            (r["text"], r["packets"] - b["packets"], r["bytes"] - b["bytes"]))
    for k, v in j["drops"].items():
        out(f"drops {k}", drops.get(k, "absent"),
            v - (base["drops"][k] if base else 0))
elif mode == "sources":    # SCREEN JSON
    j = json.load(open(sys.argv[3]))
    shown = {}
    for l in lines(sys.argv[2]):
        m = re.match(r"^ (\S+)\s+(ipv4|ipv6)\s+(\S+)\s+(\d+)\s*$", l)
        if m:
            shown[m.group(1)] = int(m.group(4))
    out("some SYN source in stats", len(j["syn_sources"]) > 0, True)
    for s in j["syn_sources"]:
        out(f"source {s['source']} SYNs", shown.get(s["source"], "absent"), s["syns"])
elif mode == "order":      # SCREEN KEY: the pattern rows' order
    rows = patterns(sys.argv[2])
    if sys.argv[3] == "name":
        keys = [(r[0], r[1]) for r in rows]
    else:
        keys = [-r[4] for r in rows]
    out(f"patterns sorted by {sys.argv[3]}", keys == sorted(keys), True)
    print("\n".join(r[0] + " " + r[1] for r in rows), file=sys.stderr)
elif mode == "guard":      # SCREEN GUARD_JSON STATS_JSON N: the guard's panel
    g, j, n = json.load(open(sys.argv[3])), json.load(open(sys.argv[4])), sys.argv[5]
    ls = lines(sys.argv[2])
    at = [i for i, l in enumerate(ls) if l.startswith(" GUARD ")]
    out("one guard panel", len(at), 1)
    cells = {}
    # three rows of three cells: label, rate, total (verified: no rate)
    for l in ls[at[0] + 2:at[0] + 5] if at else []:
        for x, w in ((0, 25), (25, 25), (50, 30)):
            f = l[x:x + w].split()
            if f:
                cells[f[0]] = f[1:]
    c, d = g["counters"], j["drops"]
    want = {"sent": c["cookies_sent"], "validated": c["cookies_validated"],
            "failed": c["cookies_failed"], "challenges": c["auth_challenges"],
            "passes": c["auth_passes"], "guard_ack": d["guard_ack"],
            "guard_auth": d["guard_auth"], "guard_ratelimit": d["guard_ratelimit"]}
    for k, w in want.items():
        out(f"guard '{k}' (rate when quiet, total)",
            " ".join(cells.get(k, ["absent"])), f"0.0 {w}")
    out("guard 'verified' = verified_sources", " ".join(cells.get("verified", ["absent"])),
        str(g["verified_sources"]))
    out(f"guard: cookies sent = validated = {n}",
        [cells.get(k, ["", "absent"])[-1] for k in ("sent", "validated")], [n, n])
    st = g["mode"]
    hms = time.strftime("%H:%M:%S", time.localtime(g["engaged_since"])) \
        if g["engaged_since"] else ""
    if st == "auto":
        st += ", engaged since " + hms if g["engaged"] else ", calm"
    elif hms:
        st += " since " + hms
    m = re.match(r"^ GUARD (\S+): (.*?)   SYN (\S+)/s, completion (\S+)\s*$",
                 ls[at[0]] if at else "")
    out("guard title: interface, mode, since", m.groups()[:2] if m else "absent",
        (j["interface"], st))
    out("guard title when quiet: SYN/s, completion", m.groups()[2:] if m else "absent",
        ("0.0", "-"))
elif mode == "names":      # SCREEN: the pattern rows' names, in order
    print(" ".join(r[0] + "/" + r[1] for r in patterns(sys.argv[2])))
elif mode == "spark":      # SCREEN NAME CHARS: NAME's sparkline cells
    for l in lines(sys.argv[2]):
        m = PAT.match(l)
        if m and m.group(1) == sys.argv[3]:
            cells = l[m.end():].strip()
            out(f"'{sys.argv[3]}' sparkline drawn", len(cells) > 0, True)
            out(f"'{sys.argv[3]}' sparkline characters",
                all(c in sys.argv[4] for c in cells), True)
            out(f"'{sys.argv[3]}' sparkline has a peak", any(c not in " \u2581" for c in cells), True)
            break
    else:
        out(f"'{sys.argv[3]}' row", "absent", "present")
EOF

# ------------------------------------------------------------------ setup

for tool in tmux nmap curl "$HPING"; do
    command -v "$tool" >/dev/null || fail "tool $tool" "not installed (scripts/install-deps.sh)"
done
new_lab
mkdir -p "$TMP/www"
head -c 3000 /dev/urandom >"$TMP/www/page"
nsenter --net="/run/netns/$LAB-srv" "$PY" -m http.server --bind :: \
    --directory "$TMP/www" "$HTTP" >"$TMP/http.log" 2>&1 &
wait_for 30 eval "srv ss -Hltn 'sport = :$HTTP' | grep -q LISTEN" ||
    fail "http server" "not listening after 10 s"

# a session that outlives the others: a tmux server exits with its last
# session, and a new-session racing that exit can fail
tm new-session -d -s keep -x 80 -y 24 "sleep 3600"

# ----------------------------------------------------------------- errors
echo "# errors"
tf top "$IF"
check_err "not attached" 1 "$IF is not attached" "run 'tcpflags attach $IF'"
tf top
check_err "nothing attached" 1 "nothing is attached" "tcpflags attach"
tf top nosuch0
check_err "unknown interface" 2 "cannot find interface nosuch0"
for bad in 0.05 61 abc ""; do
    tf top "$IF" --interval "$bad"
    check_err "--interval '$bad'" 2 "--interval: "
done
tf top "$IF" --interval 0.05
check_eq "--interval 0.05: the message names the range" "$ERR" \
    "tcpflags: --interval: 0.05 is out of range 0.1..60"
# in a terminal, not attached: the one line, no screen
top_start err 100 30 -- "$IF"
wait_shot err 30 '^TOP-EXIT-' || fail "not attached in a terminal" "no exit"
check_eq "not attached in a terminal: exit 1" "$(grep -c '^TOP-EXIT-1$' "$TMP/err.txt")" 1
check_eq "not attached in a terminal: the one error line" \
    "$(grep -c "^tcpflags: $IF is not attached; run 'tcpflags attach $IF'$" "$TMP/err.txt")" 1
tm kill-session -t err

tf attach "$IF"
check_eq "attach" "$RC" 0
cat >"$TMP/rules" <<'EOF'
nullscan drop
xmas count
--syn dport 9 drop
EOF
tf apply "$IF" "$TMP/rules"
check_eq "apply 3 rules" "$RC" 0
RC=0
in_ns "$LAB-srv" "${NOBODY[@]}" "$TCPF" top "$IF" >"$TMP/out" 2>"$TMP/err" || RC=$?
ERR=$(cat "$TMP/err")
check_err "not root" 1 "root" "permission denied"
tf top "$IF"
check_err "stdout not a terminal" 2 "top needs a terminal" "tcpflags stats --watch"
RC=0
in_ns "$LAB-srv" "$TCPF" top "$IF" --interval 0.1 </dev/null >"$TMP/out" 2>"$TMP/err" || RC=$?
ERR=$(cat "$TMP/err")
check_err "valid options, no terminal" 2 "needs a terminal"

# ---------------------------------------------------------------- traffic
echo "# traffic"
for i in 1 2 3 4 5; do
    cli curl -s -o /dev/null --noproxy '*' --max-time 3 "http://$LAB_SRV4:$HTTP/page" ||
        fail "curl IPv4 $i" "failed"
done
for i in 1 2 3; do
    cli curl -s -g -o /dev/null --noproxy '*' --max-time 3 "http://[$LAB_SRV6]:$HTTP/page" ||
        fail "curl IPv6 $i" "failed"
done
NMAP=(timeout 20 nmap -n -Pn --send-ip -p "$HTTP,9" --max-retries 0
      --initial-rtt-timeout 50ms --max-rtt-timeout 100ms)
cli timeout 20 "$HPING" -S -F -p 20001 -c 4 -i u20000 "$LAB_SRV4" >"$TMP/hping.log" 2>&1 &
p1=$!
cli timeout 20 "$HPING" -S -p 9 -c 3 -i u20000 "$LAB_SRV4" >>"$TMP/hping.log" 2>&1 &
p2=$!
# (the curls above left the neighbour caches warm for nmap's raw sends)
cli "${NMAP[@]}" -sN "$LAB_SRV4" >"$TMP/nmap.log" 2>&1
cli "${NMAP[@]}" -6 -sX "$LAB_SRV6" >>"$TMP/nmap.log" 2>&1
wait $p1 $p2
n=$(grep -c 'Nmap done' "$TMP/nmap.log")
check_eq "nmap scans ran" "$n" 2
[ "$n" = 2 ] || cat "$TMP/nmap.log"
quiet q1

# --------------------------------------------- the screen against the JSON
echo "# screen = stats"
top_start main 100 30 -- "$IF" --interval "$IV"
wait_shot main 30 "^ $IF +attached" || fail "top starts" "$(cat "$TMP/main.txt")"
check_shot "overview" main overview "$TMP/main.txt" "$TMP/q1.json"
check_has "overview: title" "$(head -n 1 "$TMP/main.txt")" "tcpflags top - 1 OVERVIEW" "every 0.2s" "sort rate"
check_has "overview: header" "$(sed -n 2,3p "$TMP/main.txt")" "native mode" "totals since attach" "dropped 0.0/s"
key main 2
wait_shot main 30 'tcpflags top - 2 FLAG PATTERNS' || fail "2: patterns view" "no title"
check_shot "patterns" main patterns "$TMP/main.txt" "$TMP/q1.json"
check_shot "patterns" main rates0 "$TMP/main.txt"
check_has "patterns: view title" "$(cat "$TMP/main.txt")" "ALL FLAG PATTERNS:" "sorted by rate"
key main 3
wait_shot main 30 'tcpflags top - 3 RULES AND DROPS' || fail "3: rules view" "no title"
check_shot "rules" main rules "$TMP/main.txt" "$TMP/q1.rules"
check_has "rules: view title" "$(cat "$TMP/main.txt")" "RULES: 3 on $IF, default pass" "DROPS"
key main 4
wait_shot main 30 'tcpflags top - 4 TOP SOURCES' || fail "4: sources view" "no title"
check_shot "sources" main sources "$TMP/main.txt" "$TMP/q1.json"
check_has "sources: view title" "$(cat "$TMP/main.txt")" "TOP SOURCES BY SYN RATE"

# ------------------------------------------------------------------- keys
echo "# keys"
key main Tab
check_true "Tab: 4 -> 1" "no overview" wait_shot main 30 'tcpflags top - 1 OVERVIEW'
key main Tab
check_true "Tab: 1 -> 2" "no patterns view" wait_shot main 30 'tcpflags top - 2 FLAG PATTERNS'
key main Tab
check_true "Tab: 2 -> 3" "no rules view" wait_shot main 30 'tcpflags top - 3 RULES AND DROPS'
key main 1
check_true "1: overview" "no overview" wait_shot main 30 'tcpflags top - 1 OVERVIEW.*FUNNEL|^ FUNNEL'
key main h
check_true "h: help" "no help" wait_shot main 30 'tcpflags top - HELP'
check_has "help: keys and numbers" "$(cat "$TMP/main.txt")" "KEYS" "reset the on-screen baseline"
key main PageDown
check_true "help scrolls to the funnel's meaning" "no funnel text" \
    wait_shot main 30 'teardown_fin2: the second FIN'
key main h
check_true "h again: back to the overview" "not back" wait_shot main 30 'tcpflags top - 1 OVERVIEW'

# sort: a live URG stream leads by rate; then by total; then by name
key main 2
wait_shot main 30 'tcpflags top - 2 FLAG PATTERNS'
cli timeout 20 "$HPING" -U -p 20005 -c 25 -i u100000 "$LAB_SRV4" >>"$TMP/hping.log" 2>&1 &
p5=$!
wait_for 30 eval "\"$PY\" \"$TMP/screen.py\" names <(shot main) | grep -qE '^URG/ipv4( |\$)'"
first=$("$PY" "$TMP/screen.py" names "$TMP/main.txt" | cut -d' ' -f1)
check_eq "sort rate: the live URG stream comes first" "$first" "URG/ipv4"
check "sparkline (UTF-8)" spark "$TMP/main.txt" URG "$(printf ' \u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588')"
wait $p5
quiet q2
key main s
check_true "s: sort total" "no 'sort total'" wait_shot main 30 'sort total'
check_shot "sort total" main order "$TMP/main.txt" total
by_total=$("$PY" "$TMP/screen.py" names "$TMP/main.txt")
key main s
check_true "s: sort name" "no 'sort name'" wait_shot main 30 'sort name'
shot main >/dev/null
check "sort name" order "$TMP/main.txt" name
by_name=$("$PY" "$TMP/screen.py" names "$TMP/main.txt")
check_true "s changes the order" "same order: $by_name" [ "$by_total" != "$by_name" ]
key main s
check_true "s: back to sort rate" "no 'sort rate'" wait_shot main 30 'sort rate'

# p: frozen while traffic flows
key main p
check_true "p: PAUSED" "no PAUSED" wait_shot main 30 'PAUSED'
cp "$TMP/main.txt" "$TMP/paused1.txt"
for i in 1 2; do
    cli curl -s -o /dev/null --noproxy '*' --max-time 3 "http://$LAB_SRV4:$HTTP/page"
done
quiet q3
settle
shot main >/dev/null
check_true "p: the numbers froze while traffic flowed" "screen changed" \
    cmp -s "$TMP/paused1.txt" "$TMP/main.txt"
check_true "p: the kernel counted that traffic" "stats did not move" \
    [ "$("$PY" "$TMP/screen.py" counters <"$TMP/q2.json")" != \
      "$("$PY" "$TMP/screen.py" counters <"$TMP/q3.json")" ]
key main p
check_true "p again: PAUSED gone" "still PAUSED" wait_for 30 eval "! shot_has main PAUSED"
check_shot "after pause" main patterns "$TMP/main.txt" "$TMP/q3.json"

# r: on-screen totals from zero, the kernel's untouched
key main r
check_true "r: totals since r" "no 'totals since r at'" wait_shot main 30 'totals since r at'
quiet q4
check_eq "r: the kernel's counters did not change" \
    "$("$PY" "$TMP/screen.py" counters <"$TMP/q4.json")" \
    "$("$PY" "$TMP/screen.py" counters <"$TMP/q3.json")"
check_shot "r" main totals0 "$TMP/main.txt"
check_true "r: the pattern rows stay" "no rows" grep -qE '^ ACK +ipv4' "$TMP/main.txt"
key main 1
wait_shot main 30 'tcpflags top - 1 OVERVIEW'
check_shot "r" main funnel0 "$TMP/main.txt"
key main 3
wait_shot main 30 'tcpflags top - 3 RULES AND DROPS'
check_shot "r: rules" main rules "$TMP/main.txt" "$TMP/q4.rules" "$TMP/q4.rules"
# traffic after r: the screen's totals are the kernel's increase since r
for i in 1 2; do
    cli curl -s -o /dev/null --noproxy '*' --max-time 3 "http://$LAB_SRV4:$HTTP/page"
done
cli timeout 20 "$HPING" -S -p 9 -c 2 -i u20000 "$LAB_SRV4" >>"$TMP/hping.log" 2>&1
quiet q5
check_shot "since r: rules" main rules "$TMP/main.txt" "$TMP/q5.rules" "$TMP/q4.rules"
key main 2
wait_shot main 30 'tcpflags top - 2 FLAG PATTERNS'
check_shot "since r: patterns" main patterns "$TMP/main.txt" "$TMP/q5.json" "$TMP/q4.json"

# resize: 80x24, then 160x50
key main 1
wait_shot main 30 'tcpflags top - 1 OVERVIEW'
tm resize-window -t main -x 80 -y 24
check_true "resize 80x24: redrawn" "no footer at line 24" \
    wait_for 30 eval "[ \"\$(shot main | sed -n 24p | cut -c1-7)\" = ' q quit' ]"
fits80 80x24 "$TMP/main.txt"
check_has "80x24: every panel" "$(cat "$TMP/main.txt")" "tcpflags top - 1 OVERVIEW" \
    "FUNNEL" "out_of_state" "CONNECTIONS" "half-open" "PATTERN"
small=$("$PY" "$TMP/screen.py" names "$TMP/main.txt" | wc -w)
tm resize-window -t main -x 160 -y 50
check_true "resize 160x50: redrawn" "no footer at line 50" \
    wait_for 30 eval "[ \"\$(shot main | sed -n 50p | cut -c1-7)\" = ' q quit' ]"
big=$("$PY" "$TMP/screen.py" names "$TMP/main.txt" | wc -w)
seen=$("$PY" -c 'import json,sys; print(sum(1 for f in json.load(open(sys.argv[1]))["flags"]))' "$TMP/q5.json")
check_true "160x50: more pattern rows ($small at 80x24, $big now)" "no more rows" [ "$big" -gt "$small" ]
check_true "160x50: the full last-60 sparkline column" "header: $(grep PATTERN "$TMP/main.txt")" \
    grep -q 'LAST 60' "$TMP/main.txt"
check_true "160x50: at least every pattern name once ($seen)" "only $big rows" [ "$big" -ge "$seen" ]

# q: exit 0, the terminal back in cooked mode
key main q
check_true "q: top exits" "no exit line" wait_shot main 30 '^TOP-EXIT-'
check_eq "q: exit 0" "$(grep -c '^TOP-EXIT-0$' "$TMP/main.txt")" 1
# the shell prints the modes after the exit line: wait for them too (read
# at once, they were not there yet now and then)
wait_for 30 eval "tm capture-pane -p -J -t main | grep -q '^STTY '"
tm capture-pane -p -J -t main >"$TMP/stty.txt"
check_eq "q: terminal in cooked mode (stty)" "$(modes "$TMP/stty.txt")" "echo icanon"
tm kill-session -t main

# ------------------------------------------------------- signals, colour
echo "# signals"
# Ctrl-\ (SIGQUIT) too: no core, the terminal restored
for sig in TERM INT QUIT; do
    top_start "sig$sig" 100 30 -- "$IF" --interval "$IV"
    wait_shot "sig$sig" 30 "^ $IF +attached" || fail "SIG$sig: top starts" "no screen"
    pid=$(top_pid "sig$sig")
    case $sig in
    TERM) kill -TERM "$pid" ;;
    INT) key "sig$sig" C-c ;;
    QUIT) key "sig$sig" "C-\\" ;;
    esac
    check_true "SIG$sig: top exits" "no exit line" wait_shot "sig$sig" 30 '^TOP-EXIT-'
    check_eq "SIG$sig: exit 0" "$(grep -c '^TOP-EXIT-0$' "$TMP/sig$sig.txt")" 1
    wait_for 30 eval "tm capture-pane -p -J -t 'sig$sig' | grep -q '^STTY '"
    tm capture-pane -p -J -t "sig$sig" >"$TMP/stty.txt"
    check_eq "SIG$sig: terminal in cooked mode" "$(modes "$TMP/stty.txt")" "echo icanon"
    check_true "SIG$sig: process gone" "pid $pid still there" wait_for 30 eval "! kill -0 $pid"
    tm kill-session -t "sig$sig"
done

echo "# colour and locale"
# escape sequences of a captured pane: colour (SGR 3x) only where allowed
top_start colour 100 30 -- "$IF" --interval "$IV"
top_start nocolour 100 30 NO_COLOR=1 -- "$IF" --interval "$IV"
top_start vt100 100 30 TERM=vt100 LC_ALL=C -- "$IF" --interval "$IV"
for s in colour nocolour vt100; do
    wait_shot "$s" 30 "^ $IF +attached" || fail "$s: top starts" "no screen"
done
sgr() { tm capture-pane -p -e -t "$1" | grep -cE $'\e\\[([0-9;]*;)?3[0-7](;[0-9;]*)?m'; }
coloured() { [ "$(sgr "$1")" -gt 0 ]; }
check_true "colour terminal: colours used" "no SGR colour" wait_for 30 coloured colour
check_eq "NO_COLOR=1: no colour" "$(sgr nocolour)" 0
check_eq "TERM=vt100 (no colours): no colour" "$(sgr vt100)" 0
check_has "TERM=vt100: still every panel" "$(shot vt100)" "FUNNEL" "CONNECTIONS" "PATTERN" " q quit"
# an ASCII sparkline in the C locale: traffic while it watches
cli timeout 20 "$HPING" -U -p 20006 -c 8 -i u100000 "$LAB_SRV4" >>"$TMP/hping.log" 2>&1
check_shot "sparkline (C locale)" vt100 spark "$TMP/vt100.txt" URG ' .:-=+*#'
for s in colour nocolour vt100; do key "$s" q; done
for s in colour nocolour vt100; do
    wait_shot "$s" 30 '^TOP-EXIT-0' || fail "$s: q" "no exit 0"
    tm kill-session -t "$s"
done

# ------------------------------------------------------ several interfaces
echo "# several interfaces"
# top with no IFACE, then lo of the server namespace attached too (skb
# mode): top looks the pinned interfaces up again at every refresh
top_start all 100 30 -- --interval "$IV"
check_true "no IFACE: every attached interface" "$IF not attached on screen" \
    wait_shot all 30 "^ $IF +attached"
tf attach lo --mode skb
check_eq "attach lo" "$RC" 0
check_true "no IFACE: lo, attached after top started, appears" \
    "no 'lo attached skb mode' line" wait_shot all 30 "^ lo +attached +skb mode"
srv curl -s -o /dev/null --noproxy '*' --max-time 3 "http://127.0.0.1:$HTTP/page" ||
    fail "curl on lo" "failed"
quiet q7
srv "$TCPF" stats lo --json >"$TMP/q7lo.json"
"$PY" "$TMP/screen.py" sum "$TMP/q7.json" "$TMP/q7lo.json" "$TMP/q7sum.json"
key all 2
wait_shot all 30 'tcpflags top - 2 FLAG PATTERNS'
check_shot "two interfaces add up" all patterns "$TMP/all.txt" "$TMP/q7sum.json"
key all q
check_true "no IFACE: q exits 0" "no exit 0" wait_shot all 30 '^TOP-EXIT-0'
tm kill-session -t all
tf detach lo
check_eq "detach lo" "$RC" 0

# ------------------------------------------------- tcpflags reset under top
echo "# tcpflags reset under top"
# Four tops, one per view (r pressed in the patterns and rules ones:
# totals since r), captured one after the other while traffic flows and
# `tcpflags reset` zeroes the kernel's counters twice.  First a SYN burst
# (3000 SYNs: counts far above what one interval of the steady traffic
# adds, so a count read half reset would show as thousands/s), then, while
# capturing, only the steady traffic: 20 SYN/s from hping3 (each answered
# by a RST) and a curl every 0.25 s (~12 segments each way): under 200
# segments/s a direction, phases adding both.  No rate shown may reach
# 10000/s (50 times that: whatever the refresh timing, no honest rate
# comes near), no source's SYN rate 200/s (10 times its 20/s), and no
# total on screen may go down from one capture to the next.
for v in 1 2 3 4; do
    top_start "rst$v" 100 30 -- "$IF" --interval "$IV"
done
for v in 1 2 3 4; do
    wait_shot "rst$v" 30 "^ $IF +attached" || fail "rst$v: top starts" "no screen"
    [ "$v" = 1 ] || key "rst$v" "$v"
done
for v in 2 3; do
    key "rst$v" r
    wait_shot "rst$v" 30 'totals since r at' || fail "rst$v: r" "no 'totals since r at'"
done
cli timeout 20 "$HPING" -S -p 20010 -c 3000 -i u200 "$LAB_SRV4" >>"$TMP/hping.log" 2>&1
# the burst over: its rates leave the screens before the captures begin
for v in 1 2 3 4; do
    wait_for 30 eval "\"$PY\" \"$TMP/screen.py\" series 10000 200 <(shot rst$v) |
        awk -F'\\t' '/below/ && \$2 != \$3 { exit 1 }'" ||
        fail "rst$v: quiet after the burst" "$(cat "$TMP/rst$v.txt")"
done
cli timeout 20 "$HPING" -S -p 20011 -c 120 -i u50000 "$LAB_SRV4" >>"$TMP/hping.log" 2>&1 &
p6=$!
(for i in $(seq 24); do
    cli curl -s -o /dev/null --noproxy '*' --max-time 3 "http://$LAB_SRV4:$HTTP/page"
    sleep 0.25
done) &
p7=$!
mkdir -p "$TMP/rst"
for n in $(seq -w 1 36); do
    for v in 1 2 3 4; do tm capture-pane -p -t "rst$v" >"$TMP/rst/$v.$n.txt"; done
    case $n in
    12 | 24) srv "$TCPF" reset "$IF" >/dev/null 2>&1 || fail "tcpflags reset" "failed" ;;
    esac
    sleep 0.1
done
wait $p6 $p7
for v in 1 2 3 4; do
    check "reset, view $v" series 10000 200 "$TMP"/rst/"$v".*.txt
done
quiet q8
# the sources view (no r): SYNS as the table has counted them since the
# reset, and after a read or two every rate a real one again
check_shot "after reset: sources" rst4 sources "$TMP/rst4.txt" "$TMP/q8.json"
for v in 1 2 3 4; do key "rst$v" q; done
for v in 1 2 3 4; do
    wait_shot "rst$v" 30 '^TOP-EXIT-0' || fail "rst$v: q" "no exit 0"
    tm kill-session -t "rst$v"
done
# Totals are exact across a reset top has seen: a top at 1 s (its reset
# interval, with "-" rates, stays on screen long enough to be seen) shows
# what stats does; after `tcpflags reset` the same, and after more traffic
# those totals plus what the kernel counted since the reset.
top_start acc 100 30 -- "$IF" --interval 1
wait_shot acc 30 "^ $IF +attached" || fail "acc: top starts" "no screen"
# rated (a second read) before the reset: its "-" is then the reset's
wait_shot acc 30 '^ all 0\.0 pkt/s' || fail "acc: rates" "no 'all 0.0 pkt/s'"
key acc 2
check_shot "before reset" acc patterns "$TMP/acc.txt" "$TMP/q8.json"
srv "$TCPF" reset "$IF" >/dev/null 2>&1 || fail "tcpflags reset" "failed"
check_true "reset: top's rates of that interval are -" "no 'all - pkt/s'" \
    wait_shot acc 30 '^ all - pkt/s'
check "reset: totals unchanged on screen" patterns "$TMP/acc.txt" "$TMP/q8.json"
for i in 1 2; do
    cli curl -s -o /dev/null --noproxy '*' --max-time 3 "http://$LAB_SRV4:$HTTP/page"
done
cli timeout 20 "$HPING" -S -p 9 -c 2 -i u20000 "$LAB_SRV4" >>"$TMP/hping.log" 2>&1
quiet q9
"$PY" "$TMP/screen.py" sum "$TMP/q8.json" "$TMP/q9.json" "$TMP/q9sum.json"
check_shot "after reset: totals = before + since the reset" acc patterns \
    "$TMP/acc.txt" "$TMP/q9sum.json"
key acc q
wait_shot acc 30 '^TOP-EXIT-0' || fail "acc: q" "no exit 0"
tm kill-session -t acc

# ------------------------------------------------------ detach while running
echo "# detach while running"
top_start watch 100 30 -- "$IF" --interval "$IV"
wait_shot watch 30 "^ $IF +attached" || fail "watch: top starts" "no screen"
pid=$(top_pid watch)
tf detach "$IF" --keep-maps
check_eq "detach --keep-maps" "$RC" 0
check_true "detach --keep-maps: NOT ATTACHED" "no NOT ATTACHED line" \
    wait_shot watch 30 "^ $IF +NOT ATTACHED +no tcpflags XDP program"
tf attach "$IF"
check_true "re-attach: attached again" "no attached line" \
    wait_shot watch 30 "^ $IF +attached"
tf detach "$IF"
check_eq "detach" "$RC" 0
check_true "detach: GONE" "no GONE line" \
    wait_shot watch 30 "^ $IF +GONE +detached, its counters removed; waiting"
sleep 1
check_true "detached: top keeps running" "pid $pid gone" kill -0 "$pid"
key watch 3
check_true "detached: top still answers keys (view 3)" "no rules view" \
    wait_shot watch 30 'tcpflags top - 3 RULES AND DROPS'
check_true "detached: still GONE" "no GONE line" shot_has watch "^ $IF +GONE"
key watch 1
# r, then a new attachment: its totals count from it, and the note goes
key watch r
check_true "r while GONE: totals since r" "no 'totals since r at'" \
    wait_shot watch 30 'totals since r at'
tf attach "$IF"
check_true "attach again: top comes back" "no attached line" \
    wait_shot watch 30 "^ $IF +attached"
check_true "new attachment: totals since attach again" "no 'totals since attach'" \
    wait_shot watch 30 'totals since attach$'
cli curl -s -o /dev/null --noproxy '*' --max-time 3 "http://$LAB_SRV4:$HTTP/page"
quiet q6
key watch 2
wait_shot watch 30 'tcpflags top - 2 FLAG PATTERNS'
check_shot "new attachment" watch patterns "$TMP/watch.txt" "$TMP/q6.json"
key watch q
check_true "watch: q exits 0" "no exit 0" wait_shot watch 30 '^TOP-EXIT-0'
tm kill-session -t watch

# ------------------------------------------------------------- the guard
echo "# the guard's panel"
# The overview at 80x24 shows a panel for the guard when it is not off:
# none at first (off); cookie on 8080, then N connections, each from an
# address of its own (a source that completed a handshake is verified and
# sends no more SYNs to the cookies); then auto, which a curl engages
# (--syn-rate 1) and 3 calm seconds release; then off, and it is gone.
N=6
cookie_client 10 20
guard_json() { srv "$TCPF" guard "$IF" --json 2>/dev/null; }
top_start guard 80 24 -- "$IF" --interval "$IV"
wait_shot guard 30 "^ $IF +attached" || fail "guard: top starts" "no screen"
settle
check_true "guard off: no guard panel" "$(grep '^ GUARD' "$TMP/guard.txt")" \
    eval "! shot_has guard '^ GUARD '"
tf guard "$IF" cookie --port 8080
check_eq "guard cookie: exit code" "$RC" 0
check_true "guard cookie: the panel appears" "no GUARD line" \
    wait_shot guard 30 "^ GUARD $IF: cookie since "
ok=0
for i in $(seq 10 $((10 + N - 1))); do
    if [ $((i % 2)) = 0 ]; then url="http://198.19.0.2:$HTTP/page" a=198.19.0.$i
    else url="http://[2001:2:0:1::2]:$HTTP/page" a=2001:2:0:1::$i; fi
    code=$(cli curl -s -g -o /dev/null -w '%{http_code}' --noproxy '*' \
        --max-time 5 --interface "$a" "$url")
    [ "$code" = 200 ] && ok=$((ok + 1))
done
check_eq "guard cookie: $N curls (IPv4 and IPv6) through the cookies" "$ok" "$N"
quiet qg
guard_json >"$TMP/qg.guard"
check_eq "guard cookie: guard --json counts $N cookies sent and validated" \
    "$(json_get "$(cat "$TMP/qg.guard")" "(j['counters']['cookies_sent'], j['counters']['cookies_validated'])")" \
    "($N, $N)"
check_shot "guard cookie" guard guard "$TMP/guard.txt" "$TMP/qg.guard" "$TMP/qg.json" "$N"
fits80 guard "$TMP/guard.txt"
check_has "guard: the panels around it" "$(cat "$TMP/guard.txt")" "FUNNEL" "out_of_state" \
    "CONNECTIONS" "PATTERN" " q quit"
# auto: calm, engaged by a curl from a new source, calm again
tf guard "$IF" auto --port 8080 --syn-rate 1 --calm-rate 1 --calm 3
check_eq "guard auto: exit code" "$RC" 0
check_true "guard auto: calm" "no 'auto, calm'" wait_shot guard 30 "^ GUARD $IF: auto, calm "
cli curl -s -o /dev/null --noproxy '*' --max-time 5 --interface 198.19.0.20 \
    "http://198.19.0.2:$HTTP/page" || fail "guard auto: curl" "failed"
check_true "guard auto: a SYN engages it" "no 'engaged since'" \
    wait_shot guard 30 "^ GUARD $IF: auto, engaged since "
since=$(json_get "$(guard_json)" "j['engaged_since']")
check_eq "guard auto: engaged since = guard --json's engaged_since" \
    "$(grep -o 'engaged since [0-9:]*' "$TMP/guard.txt")" \
    "engaged since $(date -d "@$since" +%H:%M:%S)"
check_true "guard auto: calm again after 3 calm seconds" "still engaged" \
    wait_shot guard 30 "^ GUARD $IF: auto, calm "
tf guard "$IF" off
check_eq "guard off: exit code" "$RC" 0
check_true "guard off: the panel is gone" "$(grep '^ GUARD' "$TMP/guard.txt")" \
    wait_for 30 eval "! shot_has guard '^ GUARD '"
check_true "guard off: the patterns below the funnel again" "no PATTERN" \
    shot_has guard '^ PATTERN '
key guard q
wait_shot guard 30 '^TOP-EXIT-0' || fail "guard: q" "no exit 0"
tm kill-session -t guard

# ------------------------------------------------------- more than fits
echo "# more interfaces than top shows"
# 16 more (veth ends in the server namespace, skb mode, no observer):
# 17 attached; top with no IFACE shows 16 and says one is left out
top_start many 100 50 -- --interval "$IV"
wait_shot many 30 "^ $IF +attached" || fail "many: top starts" "no screen"
for i in $(seq 1 16); do
    if ! srv ip link add "tva$i" type veth peer name "tvb$i" ||
        ! srv ip link set "tva$i" up; then
        fail "veth tva$i" "not made"
    fi
    srv "$TCPF" attach "tva$i" --mode skb --ingress-only >/dev/null 2>&1 ||
        fail "attach tva$i" "failed"
done
check_true "17 attached: one left out, said on screen" "no 'not shown' line" \
    wait_shot many 30 '^ 1 more attached interface not shown: top shows 16'
check_eq "17 attached: 16 interface lines" \
    "$(grep -cE '^ (tva[0-9]+|'"$IF"') +attached' "$TMP/many.txt")" 16
# a GONE interface whose pins are gone gives its line to the one left out
tf detach "$IF"
check_true "one detached: the one left out takes its line" "still 'not shown'" \
    wait_for 30 eval "! shot_has many 'not shown' && shot_has many '^ tva16 +attached'"
check_eq "one detached: 16 interface lines, all attached" \
    "$(grep -cE '^ tva[0-9]+ +attached' "$TMP/many.txt")" 16
key many q
wait_shot many 30 '^TOP-EXIT-0' || fail "many: q" "no exit 0"
tm kill-session -t many

t_done
