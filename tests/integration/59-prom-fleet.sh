#!/bin/bash
# 59-prom-fleet.sh - a fleet of two through a real Prometheus.
#
# One lab; tcpflags attached in both namespaces (tcpf-srv and tcpf-cli:
# two hosts), an HTTP server in each, curl both ways over IPv4 and IPv6 so
# that each host counts SYNs.  A second veth pair between the namespaces
# (198.18.255.1/30 cli, .2 srv), not attached, carries the scrapes, so
# they do not touch what is counted.  An exporter in each namespace (cli
# on 127.0.0.1, srv on 198.18.255.2), and Debian's prometheus in the cli
# namespace for this test only: on 127.0.0.1, its own TSDB in the test's
# temp dir, a 1 s scrape interval, scripts/prometheus/tcpflags.rules.yml
# loaded.  Then:
#   its HTTP API answers: both targets up (up == 1, job tcpflags);
#   the rules file is loaded (the API lists its group, 7 alerting rules);
#   a query, sum by (host) of tcpflags_segments_total{flags="SYN"},
#     returns both hosts, each equal to its own exporter's scrape (summed
#     the same way) once Prometheus has scraped after the traffic;
#   prometheus and both exporters stop on SIGTERM (exit 0).
# Run as root: bash tests/integration/59-prom-fleet.sh
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

PROM=$ROOT/scripts/prometheus
HTTP=8080
EXP_PORT=9120        # each namespace's exporter
PROM_PORT=9121       # prometheus, on the cli namespace's loopback
MG_CLI=198.18.255.1
MG_SRV=198.18.255.2

t_tmp promfleet
PIDS=()
t_undo() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
}

# bg NS NAME CMD...: CMD in namespace NS in the background (nsenter execs
# it: $! is CMD itself); its pid in PID_NAME, output in $TMP/NAME.log
bg() {
    local ns=$1 name=$2
    shift 2
    nsenter --net="/run/netns/$ns" "$@" >"$TMP/$name.log" 2>&1 &
    printf -v "PID_$name" %s "$!"
    PIDS+=("$!")
}

# stop NAME: SIGTERM, it exits 0
stop() {
    local pid rc=0
    pid=PID_$1
    kill "${!pid}"
    wait "${!pid}" || rc=$?
    check_eq "$1 exits 0 on SIGTERM" "$rc" 0
}

# api QUERY: prometheus's /api/v1/query answer (JSON)
api() {
    cli curl -sf --noproxy '*' --max-time 5 -G \
        --data-urlencode "query=$1" "http://127.0.0.1:$PROM_PORT/api/v1/query"
}

# syn_by_host: "host value" lines from prometheus, sorted
SYN_Q='sum by (host) (tcpflags_segments_total{job="tcpflags", flags="SYN"})'
syn_by_host() {
    local out
    out=$(api "$SYN_Q") || return 1
    "$PY" -c 'import json, sys
for r in sorted(json.loads(sys.argv[1])["data"]["result"], key=lambda r: r["metric"]["host"]):
    print(r["metric"]["host"], r["value"][1])' "$out"
}

# syn_of NS URL: the SYNs an exporter reports, summed the same way
syn_of() {
    in_ns "$1" curl -sf --noproxy '*' --max-time 5 "$2" |
        awk '/^tcpflags_segments_total\{.*flags="SYN"[,}]/ { n += $NF } END { print n + 0 }'
}

new_lab
srv ip link add mg-srv type veth peer name mg-cli netns "$LAB-cli"
srv ip addr add "$MG_SRV/30" dev mg-srv
srv ip link set mg-srv up
cli ip addr add "$MG_CLI/30" dev mg-cli
cli ip link set mg-cli up
wait_for 5 cli ping -c 1 -W 1 "$MG_SRV"
wait_for 5 cli ping -6 -c 1 -W 1 "$LAB_SRV6"

for ns in srv cli; do
    run "$LAB-$ns" "$TCPF" attach "$([ $ns = srv ] && echo "$LAB_SRV_IF" || echo "$LAB_CLI_IF")"
    check_eq "attach in $ns" "$RC" 0
    bg "$LAB-$ns" "http_$ns" "$PY" "$ROOT/scripts/httpd.py" "$HTTP" "$ns"
done
check_true "http servers listening" "$(cat "$TMP"/http_*.log)" \
    wait_for 10 eval "srv ss -Hltn 'sport = :$HTTP' | grep -q LISTEN &&
                      cli ss -Hltn 'sport = :$HTTP' | grep -q LISTEN"

# SYNs each way: 3 connections to srv, 2 to cli
for a in "$LAB_SRV4" "[$LAB_SRV6]" "$LAB_SRV4"; do
    check_rc "curl cli -> http://$a:$HTTP/" 0 \
        cli curl -sg --noproxy '*' --max-time 5 -o /dev/null "http://$a:$HTTP/"
done
for a in "$LAB_CLI4" "[$LAB_CLI6]"; do
    check_rc "curl srv -> http://$a:$HTTP/" 0 \
        srv curl -sg --noproxy '*' --max-time 5 -o /dev/null "http://$a:$HTTP/"
done

URL_SRV=http://$MG_SRV:$EXP_PORT/metrics
URL_CLI=http://127.0.0.1:$EXP_PORT/metrics
bg "$LAB-srv" exp_srv "$TCPF" exporter --listen "$MG_SRV:$EXP_PORT"
bg "$LAB-cli" exp_cli "$TCPF" exporter --listen "127.0.0.1:$EXP_PORT"
check_true "both exporters answer" "$(cat "$TMP"/exp_*.log)" \
    wait_for 10 eval "srv curl -sf --noproxy '*' --max-time 2 ${URL_SRV%metrics}healthz &&
                      cli curl -sf --noproxy '*' --max-time 2 ${URL_CLI%metrics}healthz"

cp "$PROM/tcpflags.rules.yml" "$TMP/"
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - tcpflags.rules.yml
scrape_configs:
  - job_name: tcpflags
    static_configs:
      - targets: ['$MG_SRV:$EXP_PORT']
        labels: {host: srv}
      - targets: ['127.0.0.1:$EXP_PORT']
        labels: {host: cli}
EOF
rc=0
out=$(promtool check config "$TMP/prometheus.yml" 2>&1) || rc=$?
check_eq "promtool check config (the test's)" "$rc" 0
mkdir "$TMP/tsdb"
bg "$LAB-cli" prometheus prometheus --config.file="$TMP/prometheus.yml" \
    --storage.tsdb.path="$TMP/tsdb" --web.listen-address="127.0.0.1:$PROM_PORT"
check_true "prometheus ready" "$(tail -5 "$TMP/prometheus.log")" \
    wait_for 60 cli curl -sf --noproxy '*' --max-time 2 "http://127.0.0.1:$PROM_PORT/-/ready"

# both targets scraped and up
ups() {
    api 'up{job="tcpflags"} == 1' | "$PY" -c 'import json, sys
print(" ".join(sorted(r["metric"]["host"] for r in json.load(sys.stdin)["data"]["result"])))'
}
ups_both() { [ "$(ups)" = "cli srv" ]; }
check_true "both targets up" "$(ups 2>&1)" wait_for 30 ups_both
rules=$(cli curl -sf --noproxy '*' --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/rules" |
    "$PY" -c 'import json, sys
g = json.load(sys.stdin)["data"]["groups"]
print(" ".join("%s:%d" % (x["name"], sum(r["type"] == "alerting" for r in x["rules"]))
               for x in g))')
check_eq "the rules file is loaded" "$rules" "tcpflags:7"

# each host's SYNs through prometheus equal its own exporter's
want_srv=$(syn_of "$LAB-srv" "$URL_SRV")
want_cli=$(syn_of "$LAB-cli" "$URL_CLI")
check_eq "srv's exporter: SYNs of the 3 connections to it" "$want_srv" 3
check_eq "cli's exporter: SYNs of the 2 connections to it" "$want_cli" 2
want=$(printf 'cli %s\nsrv %s' "$want_cli" "$want_srv")
syn_match() { [ "$(syn_by_host)" = "$want" ]; }
check_true "prometheus query: both hosts' SYN counts equal their exporters'" \
    "got '$(syn_by_host 2>&1 | tr '\n' ' ')', want '$(tr '\n' ' ' <<<"$want")'" \
    wait_for 30 syn_match
# and still, scraped again at once (quiet: the scrapes use the other link)
check_eq "srv's exporter unchanged" "$(syn_of "$LAB-srv" "$URL_SRV")" "$want_srv"
check_eq "cli's exporter unchanged" "$(syn_of "$LAB-cli" "$URL_CLI")" "$want_cli"

stop prometheus
stop exp_srv
stop exp_cli
PIDS=("$PID_http_srv" "$PID_http_cli")
t_done
