#!/bin/bash
# 86-systemd.sh - scripts/systemd/'s units, as systemd would run them.
#
#   verify: `systemd-analyze verify` of both units (the binary's path
#     pointed at build/tcpflags) prints nothing and exits 0;
#   tcpflags@IFACE.service, on the lab's tcpf-srv (tests/unitexec.py runs
#     each Exec line: specifiers, quoting, Environment(File), $VAR), with
#     /etc/tcpflags and /etc/default/tcpflags pointed at the test's own
#     copies (the example rules file, scripts/tcpflags.default with
#     --group nogroup):
#     ExecStart attaches native with the example's rules (their texts, in
#     order) and gives the pins the group; traffic counts;
#     ExecReload applies a changed file (the new rule set exactly); a file
#     with a bad line fails with exit 2 and changes nothing;
#     ExecStop detaches (no XDP program) and keeps the pins; ExecStart
#     again: the same counters, not one lost, and the rules kept;
#     without a rules file ExecStart attaches with no --rules;
#   tcpflags-exporter.service: its ExecStart, as nobody:nogroup with no
#     capability (User=/Group= rewritten; the unit's bound set is empty),
#     serves /metrics on 127.0.0.1:9742 in the lab with tcpflags_up 1 and
#     the counters of `stats --json`.
# Run as root: bash tests/integration/86-systemd.sh
set -u
. "$(dirname "$0")/../lib.sh"
t_tmp systemd
UNITS="$ROOT/scripts/systemd"
EXEC="$PY $ROOT/tests/unitexec.py"
IF=$LAB_SRV_IF

# ---- systemd-analyze verify (the commands must exist: point them at ours)
mkdir -p "$TMP/units" "$TMP/etc/tcpflags"
for u in "$UNITS"/*.service; do
    sed "s|/usr/sbin/tcpflags|$TCPF|g" "$u" >"$TMP/units/$(basename "$u")"
done
cp "$TMP/units/tcpflags@.service" "$TMP/units/tcpflags@lo.service"
out=$(cd "$TMP/units" && systemd-analyze verify --man=no \
    ./tcpflags@lo.service ./tcpflags-exporter.service 2>&1)
rc=$?
check_eq "verify: exit code" "$rc" 0
check_eq "verify: no complaint" "$out" ""

# ---- tcpflags@.service in the lab
new_lab
sed 's/--group tcpflags/--group nogroup/' "$ROOT/scripts/tcpflags.default" >"$TMP/default"
cp "$ROOT/scripts/tcpflags.rules.example" "$TMP/etc/tcpflags/$IF.rules"
SUBS=("/usr/sbin/tcpflags=$TCPF" "/etc/default/tcpflags=$TMP/default"
      "/etc/tcpflags/=$TMP/etc/tcpflags/")
# unit KEY: run the template's KEY lines for $IF in the server namespace
unit() { run "$LAB-srv" $EXEC "$UNITS/tcpflags@.service" "$1" "$IF" "${SUBS[@]}"; }
# rule_texts: the rule texts of `rule list --json`, one a line
rule_texts() {
    srv "$TCPF" rule list "$IF" --json |
        "$PY" -c 'import json,sys; [print(r["text"]) for r in json.load(sys.stdin)["rules"]]'
}
# want_rules FILE: the rule lines of a rules file (no comment, set or default)
want_rules() { grep -v '^[[:space:]]*\(#\|$\|default \|set \)' "$1"; }
# total: the TCP segments counted (the link's own ARP and ND frames come
# when they like, so they are left out); syns N: N refused connects, one
# SYN each (the RST answers at once)
total() { json_get "$(srv "$TCPF" stats "$IF" --json)" "j['packets']['tcp']"; }
syns() {
    local i
    for i in $(seq "$1"); do
        cli timeout 5 bash -c "exec 3<>/dev/tcp/$LAB_SRV4/9" 2>/dev/null || true
    done
}
pins="/sys/fs/bpf/tcpflags/ns$(srv "$PY" -c 'import socket
s = socket.socket(); print(int.from_bytes(s.getsockopt(socket.SOL_SOCKET, 71, 8), "little"))')"

unit ExecStart
check_eq "start: exit code" "$RC" 0
check_has "start: attached line" "$OUT$ERR" "attached to $IF in native mode"
check_eq "start: native XDP" "$(xdp_of "$LAB-srv" "$IF" | cut -d' ' -f1)" native
check_eq "start: the example's rules" "$(rule_texts)" "$(want_rules "$ROOT/scripts/tcpflags.rules.example")"
check_eq "start: pins' group (--group from /etc/default)" \
    "$(stat -c %G "$pins/$IF")" nogroup
syns 5
check_true "start: counts" "total is $(total)" [ "$(total)" -ge 5 ]

printf 'default pass\nnullscan drop\n--syn dport 9 count\n' >"$TMP/etc/tcpflags/$IF.rules"
unit ExecReload
check_eq "reload: exit code" "$RC" 0
check_eq "reload: the new rule set" "$(rule_texts)" "$(printf 'nullscan drop\n--syn dport 9 count')"
before=$(rule_texts)
echo 'nullscan explode' >>"$TMP/etc/tcpflags/$IF.rules"
unit ExecReload
check_eq "reload bad file: exit code" "$RC" 2
check_has "reload bad file: names the line" "$ERR" "$IF.rules:4"
check_eq "reload bad file: rules unchanged" "$(rule_texts)" "$before"
sed -i '$d' "$TMP/etc/tcpflags/$IF.rules"

syns 3
counted=$(total)
unit ExecStop
check_eq "stop: exit code" "$RC" 0
check_eq "stop: no XDP program" "$(xdp_of "$LAB-srv" "$IF")" none
check_true "stop: the pins stay" "no $pins/$IF/tcpf_stats" [ -e "$pins/$IF/tcpf_stats" ]
unit ExecStart
check_eq "restart: exit code" "$RC" 0
check_eq "restart: not one count lost" "$(total)" "$counted"
check_eq "restart: the rules" "$(rule_texts)" "$before"
syns 2
check_eq "restart: counts on" "$(total)" "$((counted + 2))"

unit ExecStop
rm "$TMP/etc/tcpflags/$IF.rules"
unit ExecStart
check_eq "start without a rules file: exit code" "$RC" 0
check_eq "start without a rules file: attached" \
    "$(xdp_of "$LAB-srv" "$IF" | cut -d' ' -f1)" native
check_eq "start without a rules file: counters kept" "$(total)" "$((counted + 2))"

# ---- tcpflags-exporter.service, as nobody:nogroup without capability
sed -e 's/^User=tcpflags/User=nobody/' -e 's/^Group=tcpflags/Group=nogroup/' \
    "$UNITS/tcpflags-exporter.service" >"$TMP/exporter.service"
srv $EXEC "$TMP/exporter.service" ExecStart x "${SUBS[@]}" >"$TMP/exp.out" 2>&1 &
EXP=$!
EXP_PID=
t_undo() {
    [ -n "$EXP_PID" ] && kill "$EXP_PID" 2>/dev/null
    wait "$EXP" 2>/dev/null
}
scrape() { srv curl -sf --max-time 5 "http://127.0.0.1:9742$1"; }
if wait_for 20 scrape /healthz; then
    pass "exporter: serves on 127.0.0.1:9742 (loopback by default)"
else
    fail "exporter: serves on 127.0.0.1:9742 (loopback by default)" "$(cat "$TMP/exp.out")"
fi
# the exporter: the one listening (nsenter, python and setpriv each exec
# the next, under the subshell of &)
EXP_PID=$(srv ss -ltnpH 'sport = :9742' | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
check_eq "exporter: runs as nobody, no capability" \
    "$(ps -o user=,comm= -p "$EXP_PID") $(grep CapEff "/proc/$EXP_PID/status" | cut -f2)" \
    "nobody   tcpflags 0000000000000000"
# a scrape between two equal readings of stats: a frame of the link's
# own (ARP, neighbour discovery) may arrive at any moment
non_tcp() { json_get "$(srv "$TCPF" stats "$IF" --json)" "j['packets']['non_tcp']"; }
for _ in $(seq 20); do
    nontcp=$(non_tcp)
    metrics=$(scrape /metrics)
    [ "$(non_tcp)" = "$nontcp" ] && break
done
check_has "exporter: tcpflags_up 1" "$metrics" "tcpflags_up{iface=\"$IF\"} 1"
check_has "exporter: the non-TCP frames stats counts" "$metrics" \
    "tcpflags_frames_total{iface=\"$IF\",kind=\"non_tcp\"} $nontcp"
t_undo
t_done
