#!/bin/bash
# 58-prom-names.sh - scripts/prometheus/ against a live exporter.
#
# The alerting rules and the dashboard name metrics and label values the
# exporter must emit; this scrapes one on a lab with real traffic so that
# none can rot unnoticed.  One lab, tcpflags on tcpf-srv with two rules
# (nullscan drop, --syn dport 9 count) and the guard in auto mode on port
# 8080 (so the guard's families are there), an HTTP server on 8080; curl
# over IPv4 and IPv6, SYNs to port 9 and a NULL scan segment from hping3.
# Then:
#   the scrape passes promtool check metrics;
#   every tcpflags_* metric the rules and the dashboard query is in the
#     scrape, and every label value they match on (flags="SYN",
#     event="opened", reason=~"rule|ratelimit|default", mode="auto", ...)
#     has a series (scripts/prometheus/check.py names);
#   the dashboard: valid JSON, the host selector, every per-host query
#     filtered by it, every fleet query summed over the hosts
#     (check.py dashboard);
#   promtool check rules, promtool test rules (each alert fired by one
#     series, not by others) and promtool check config on the example.
# Run as root: bash tests/integration/58-prom-names.sh
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

HPING=/usr/sbin/hping3
IF=$LAB_SRV_IF
PROM=$ROOT/scripts/prometheus
PORT=9110            # the exporter, on the srv namespace's loopback
HTTP=8080

t_tmp promnames
EXP=""
t_undo() { [ -n "$EXP" ] && kill "$EXP" 2>/dev/null; }

tf() { run "$LAB-srv" "$TCPF" "$@"; }

# promtool_check NAME CMD...: promtool CMD passes
promtool_check() {
    local name=$1 rc=0 out
    shift
    out=$(cd "$PROM" && promtool "$@" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then pass "$name"; else fail "$name" "exit $rc: $out"; fi
}

# python_checks CHECK.PY ARGS...: its PASS/FAIL lines, counted here
python_checks() {
    local line name
    while IFS= read -r line; do
        case $line in
        "PASS "*) pass "${line#PASS }" ;;
        "FAIL "*) name=${line#FAIL }; fail "${name%%: *}" "${name#*: }" ;;
        *) fail "check.py" "unexpected line: $line" ;;
        esac
    done < <("$PY" "$PROM/check.py" "$@" 2>&1)
}

new_lab
srv "$PY" "$ROOT/scripts/httpd.py" "$HTTP" prom >"$TMP/http.log" 2>&1 &
check_true "http server listening on :$HTTP" "$(cat "$TMP/http.log")" \
    wait_for 10 eval "srv ss -Hltn 'sport = :$HTTP' | grep -q LISTEN"
wait_for 5 cli ping -6 -c 1 -W 1 "$LAB_SRV6"

tf attach "$IF"
check_eq "attach $IF" "$RC" 0
for r in "nullscan drop" "--syn dport 9 count"; do
    # shellcheck disable=SC2086  # r holds the rule's words
    tf rule add "$IF" $r
    check_eq "rule add $r" "$RC" 0
done
tf guard "$IF" auto --port "$HTTP"
check_eq "guard $IF auto --port $HTTP" "$RC" 0

# real traffic: handshakes (SYN, opened), a count rule's hits, a drop
for a in "$LAB_SRV4" "[$LAB_SRV6]"; do
    check_rc "curl http://$a:$HTTP/" 0 \
        cli curl -sg --noproxy '*' --max-time 5 -o /dev/null "http://$a:$HTTP/"
done
cli "$HPING" -q -S -p 9 -c 3 -i u10000 "$LAB_SRV4" >/dev/null 2>&1
cli "$HPING" -q -p 22 -c 2 -i u10000 "$LAB_SRV4" >/dev/null 2>&1

nsenter --net="/run/netns/$LAB-srv" "$TCPF" exporter --listen "127.0.0.1:$PORT" \
    >"$TMP/exporter.out" 2>"$TMP/exporter.err" &
EXP=$!
check_true "exporter answers /healthz" "$(cat "$TMP/exporter.err")" \
    wait_for 10 srv curl -sf --noproxy '*' --max-time 2 "http://127.0.0.1:$PORT/healthz"
srv curl -sf --noproxy '*' --max-time 5 "http://127.0.0.1:$PORT/metrics" >"$TMP/metrics"
check_true "scrape has tcpflags_segments_total" "$(head -c 300 "$TMP/metrics")" \
    grep -q '^tcpflags_segments_total{' "$TMP/metrics"
rc=0
out=$(promtool check metrics <"$TMP/metrics" 2>&1) || rc=$?
check_eq "promtool check metrics on the scrape" "$rc:$out" "0:"
# the traffic made what the rules key on non-zero (not only present)
check_true "SYNs counted" "$(grep 'flags="SYN"' "$TMP/metrics")" \
    grep -Eq '^tcpflags_segments_total\{.*flags="SYN"\} [1-9]' "$TMP/metrics"
check_true "handshakes counted (opened)" "$(grep 'event="opened"' "$TMP/metrics")" \
    grep -Eq '^tcpflags_connection_events_total\{.*event="opened"\} [1-9]' "$TMP/metrics"
check_true "rule drop counted" "$(grep 'tcpflags_drops_total' "$TMP/metrics")" \
    grep -Eq '^tcpflags_drops_total\{.*reason="rule"\} [1-9]' "$TMP/metrics"

python_checks names "$PROM/tcpflags.rules.yml" "$PROM/dashboard.json" "$TMP/metrics"
python_checks dashboard "$PROM/dashboard.json"

# a name the exporter does not emit is caught (the check can fail)
sed 's/tcpflags_guard_engaged/tcpflags_guard_engagd/' "$PROM/tcpflags.rules.yml" >"$TMP/rotten.yml"
rc=0
out=$("$PY" "$PROM/check.py" names "$TMP/rotten.yml" "$PROM/dashboard.json" "$TMP/metrics") || rc=$?
check_eq "a rotten metric name fails check.py" \
    "$rc:$(grep -c '^FAIL emitted tcpflags_guard_engagd: not in the scrape; used by \[.rule TcpflagsGuardEngaged.\]$' <<<"$out")" "1:1"
sed 's/event="opened"/event="openned"/' "$PROM/tcpflags.rules.yml" >"$TMP/rotten.yml"
rc=0
out=$("$PY" "$PROM/check.py" names "$TMP/rotten.yml" "$PROM/dashboard.json" "$TMP/metrics") || rc=$?
check_eq "a rotten label value fails check.py" \
    "$rc:$(grep -c '^FAIL emitted tcpflags_connection_events_total{event="openned"}' <<<"$out")" "1:1"

promtool_check "promtool check rules" check rules tcpflags.rules.yml
promtool_check "promtool test rules" test rules tcpflags.rules.test.yml
promtool_check "promtool check config (example)" check config prometheus.yml

kill "$EXP"
rc=0
wait "$EXP" || rc=$?
EXP=""
check_eq "exporter exits 0 on SIGTERM" "$rc" 0
t_done
