#!/bin/bash
# 15-privileges.sh - what each command needs, who reads the pins, and the
# exporter without privilege.
#
# One lab, tcpflags attached to tcpf-srv with a rule, real traffic.  Then:
#   unprivileged: every command run as nobody (no capability, no group)
#     exits 1 with exactly one line naming what it needs (attach, detach:
#     CAP_SYS_ADMIN, CAP_NET_ADMIN and write access; the readers read
#     access; the writers write access), and nothing changes (XDP program,
#     pins and their modes, saved rules, counters);
#   what is needed is enough, and each part of it is needed: as nobody,
#     attach with CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_DAC_OVERRIDE works;
#     without CAP_SYS_ADMIN (CAP_BPF and CAP_PERFMON instead) it is refused
#     (libxdp 1.3.1 segfaulted there); detach without write access is
#     refused (it detached and silently left the pins); as root without
#     CAP_NET_ADMIN, attach and detach are refused; rule add and del work
#     with CAP_DAC_OVERRIDE alone, stats and status with CAP_DAC_READ_SEARCH
#     alone (status says attached: no CAP_SYS_ADMIN for that);
#   modes: without a group, the pin directories 0700 and pins 0600, the
#     saved rules 0700/0600, all root's; attach --group nogroup makes them
#     0750/0640 of group nogroup, the roots above 0711, bpffs o+x; a rule
#     added, a re-attach without --group, and attaches that carry the pins
#     over to another map layout and back keep it; then nobody:nogroup
#     with no capability runs every reader (its output the same as
#     root's) and is refused the writers; --group root takes it back, and
#     so does the detach of the last interface; --group of no group is a
#     usage error;
#   the exporter unprivileged: as nobody:nogroup with the group and no
#     capability, and as nobody with CAP_DAC_READ_SEARCH alone (ambient),
#     it serves the lab's real counters (as `stats --json` has them); with
#     neither it is refused with one line.
# Run as root: bash tests/integration/15-privileges.sh
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

IF=$LAB_SRV_IF
HTTP=8080
PORT=9750
BPFFS_MODE=$(stat -c %a /sys/fs/bpf)
READ="read access to the pins (root, CAP_DAC_READ_SEARCH, or their group: see 'attach --group')"
WRITE="write access to the pins (root or CAP_DAC_OVERRIDE)"
LOAD="CAP_SYS_ADMIN, CAP_NET_ADMIN and $WRITE"

t_tmp privileges
EXP_PIDS=()
t_undo() {
    local p
    for p in "${EXP_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    # --group made bpffs searchable: as it was
    chmod "$BPFFS_MODE" /sys/fs/bpf
}

# as USER GROUP CAPS CMD...: CMD in the server namespace as USER:GROUP
# (no other group) with only the capabilities CAPS ("" or "sys_admin,net_admin",
# ambient: they survive the exec); sets RC, OUT, ERR.
as() {
    local u=$1 g=$2 caps=$3 a
    shift 3
    a=(setpriv --reuid="$u" --regid="$g" --clear-groups)
    if [ -n "$caps" ]; then
        a+=(--inh-caps="+${caps//,/,+}" --ambient-caps="+${caps//,/,+}")
    else
        a+=(--inh-caps=-all)
    fi
    run "$LAB-srv" "${a[@]}" "$@"
}

# tf ARGS...: tcpflags as root in the server namespace; sets RC, OUT, ERR.
tf() { run "$LAB-srv" "$TCPF" "$@"; }

# tcp_view: `stats --json` on stdin without the frame totals, which IPv6
# neighbour and router traffic of the fresh lab may still move, and the
# gauges, recounted every second as connections age (no command sets them)
tcp_view() {
    "$PY" -c 'import json, sys
j = json.load(sys.stdin)
del j["packets"]["total"], j["packets"]["non_tcp"], j["states"]
del j["connections"]["half_open"]
print(json.dumps(j, sort_keys=True))'
}

# state: what a refused command must leave as it was
state() {
    xdp_of "$LAB-srv" "$IF"
    find "$NSDIR" "$RUNDIR" -printf '%p %m %u:%g\n' | sort
    cat "$RUNDIR/$IF.rules"
    srv "$TCPF" stats "$IF" --json | tcp_view
    srv "$TCPF" rule list "$IF"
}

# modes DIR: the kind, mode and group of DIR and every directory and file
# under it, counted: "N KIND MODE GROUP;" (the owner is who wrote it)
modes() {
    find "$1" -printf '%y %m %g\n' | sort | uniq -c | awk '{$1=$1; print}' | tr '\n' ';'
}

# scrape_check NAME VAR: the exporter of VAR answers with tcpflags_up 1 and
# the SYN segments `stats --json` counts
scrape_check() {
    local name=$1 url=http://127.0.0.1:$PORT/metrics syn
    check_true "$name: answers" "$(cat "$TMP/$2.err")" \
        wait_for 30 srv curl -sf --noproxy '*' --max-time 2 -o "$TMP/$2.scrape" "$url"
    syn=$(json_get "$(srv "$TCPF" stats "$IF" --json)" \
        '[f["packets"] for f in j["flags"] if f["name"] == "SYN"][0]')
    check_eq "$name: tcpflags_up 1, SYN segments $syn (stats --json)" \
        "$(grep -c -e "^tcpflags_up{iface=\"$IF\"} 1\$" \
            -e "^tcpflags_segments_total{iface=\"$IF\",family=\"ipv4\",flags=\"SYN\"} $syn\$" \
            "$TMP/$2.scrape")" 2
}

# exporter_as VAR USER GROUP CAPS: the exporter on $PORT as run by as()
exporter_as() {
    local var=$1 u=$2 g=$3 caps=$4 a
    a=(setpriv --reuid="$u" --regid="$g" --clear-groups)
    if [ -n "$caps" ]; then
        a+=(--inh-caps="+${caps//,/,+}" --ambient-caps="+${caps//,/,+}")
    else
        a+=(--inh-caps=-all)
    fi
    : >"$TMP/$var.err"
    nsenter --net="/run/netns/$LAB-srv" "${a[@]}" "$TCPF" exporter --listen "127.0.0.1:$PORT" \
        >"$TMP/$var.out" 2>"$TMP/$var.err" &
    printf -v "$var" %s "$!"
    EXP_PIDS+=("$!")
}

# exporter_stop VAR: SIGTERM, exit 0
exporter_stop() {
    local rc=0
    kill -TERM "${!1}"
    wait "${!1}" || rc=$?
    check_eq "$1: exit code after SIGTERM" "$rc" 0
    EXP_PIDS=()
}

# ----------------------------------------------------------------- set-up

needs setpriv capsh curl "$TCPF"

echo "# lab, attach, a rule, traffic"
new_lab
web_server 0.0.0.0
tf attach "$IF"
check_eq "attach $IF" "$RC" 0
tf rule add "$IF" nullscan drop
check_eq "rule add" "$RC" 0
check_eq "curl http://$LAB_SRV4:$HTTP/" \
    "$(cli curl -s -o /dev/null --noproxy '*' --max-time 3 -w '%{http_code}' \
        "http://$LAB_SRV4:$HTTP/")" 200
cookie=$(srv "$PY" -c 'import socket
print(int.from_bytes(socket.socket().getsockopt(socket.SOL_SOCKET, 71, 8), "little"))')
NSDIR=/sys/fs/bpf/tcpflags/ns$cookie
RUNDIR=/run/tcpflags/ns$cookie
check_true "the pins in $NSDIR, the rules in $RUNDIR" "not there" \
    test -d "$NSDIR/$IF" -a -f "$RUNDIR/$IF.rules"
echo "xmas drop" >"$TMP/rules.txt"

# ------------------------------------------------------------ unprivileged

echo "# every command as nobody, no capability"
before=$(state)
# need|command words (IFACE for the interface)
while IFS='|' read -r need words; do
    # shellcheck disable=SC2086  # the words of the command
    set -- ${words//IFACE/$IF}
    name=$1
    case $1 in rule | guard) [ "$1" = rule ] && name="rule $2" ;; esac
    as nobody nogroup "" "$TCPF" "$@"
    case $need in
    load) want="tcpflags: $name needs $LOAD; missing CAP_SYS_ADMIN, CAP_NET_ADMIN and write access: permission denied" ;;
    loadg) want="tcpflags: $name needs CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_CHOWN and $WRITE; missing CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_CHOWN and write access: permission denied" ;;
    read) want="tcpflags: $name needs $READ: cannot read $NSDIR: permission denied" ;;
    write) want="tcpflags: $name needs $WRITE: cannot write $NSDIR: permission denied" ;;
    esac
    check_eq "nobody: $words: exit code" "$RC" 1
    check_eq "nobody: $words: the one line" "$ERR" "$want"
done <<EOF
load|attach IFACE
loadg|attach IFACE --group nogroup
load|detach IFACE
read|status
read|stats IFACE
read|flows IFACE
read|top IFACE
read|exporter
read|rule list IFACE
write|rule add IFACE xmas drop
write|rule del IFACE 1
write|rule flush IFACE
write|rule default IFACE drop
write|apply IFACE $TMP/rules.txt
write|reset IFACE
read|guard IFACE
write|guard IFACE monitor --port 80
read|guard IFACE allow list
write|guard IFACE allow add 198.18.0.0/24
EOF
check_eq "nobody: nothing changed" "$(state)" "$before"
check_eq "no group: the pins' directories and pins" "$(modes "$NSDIR")" \
    "2 d 700 root;$(find "$NSDIR" -type f | wc -l) f 600 root;"
check_eq "no group: the saved rules" "$(modes "$RUNDIR")" "1 d 700 root;2 f 600 root;"

echo "# what is needed is enough, and needed"
as nobody nogroup bpf,perfmon,net_admin,dac_override "$TCPF" attach "$IF"
check_eq "attach with CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_DAC_OVERRIDE: exit code" "$RC" 1
check_eq "attach without CAP_SYS_ADMIN: the one line" "$ERR" \
    "tcpflags: attach needs $LOAD; missing CAP_SYS_ADMIN: permission denied"
as nobody nogroup sys_admin,net_admin,dac_override "$TCPF" attach "$IF" --group nogroup
check_eq "attach --group without CAP_CHOWN: the one line" "$ERR" \
    "tcpflags: attach needs CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_CHOWN and $WRITE; missing CAP_CHOWN: permission denied"
as nobody nogroup sys_admin,net_admin "$TCPF" detach "$IF"
check_eq "detach with CAP_SYS_ADMIN, CAP_NET_ADMIN, no write access: the one line" "$ERR" \
    "tcpflags: detach needs $LOAD: cannot write $NSDIR: permission denied"
check_eq "refused: nothing changed" "$(state)" "$before"
run "$LAB-srv" capsh --drop=cap_net_admin -- -c "exec $TCPF attach $IF"
check_eq "root without CAP_NET_ADMIN: attach: the one line" "$RC $ERR" \
    "1 tcpflags: attach needs $LOAD; missing CAP_NET_ADMIN: permission denied"
run "$LAB-srv" capsh --drop=cap_net_admin -- -c "exec $TCPF detach $IF"
check_eq "root without CAP_NET_ADMIN: detach: the one line" "$RC $ERR" \
    "1 tcpflags: detach needs $LOAD; missing CAP_NET_ADMIN: permission denied"
id=$(xdp_of "$LAB-srv" "$IF")
as nobody nogroup sys_admin,net_admin,dac_override "$TCPF" attach "$IF"
check_eq "attach as nobody with CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_DAC_OVERRIDE: exit code" \
    "$RC" 0
check_true "  ... a new program on $IF" "still $id" [ "$(xdp_of "$LAB-srv" "$IF")" != "$id" ]
as nobody nogroup dac_override "$TCPF" rule add "$IF" xmas drop
check_eq "rule add as nobody with CAP_DAC_OVERRIDE: exit code" "$RC" 0
as nobody nogroup dac_override "$TCPF" rule del "$IF" 2
check_eq "rule del as nobody with CAP_DAC_OVERRIDE: exit code" "$RC" 0
as nobody nogroup dac_read_search "$TCPF" stats "$IF" --json
check_eq "stats as nobody with CAP_DAC_READ_SEARCH: root's output" \
    "$RC $(tcp_view <<<"$OUT")" "0 $(srv "$TCPF" stats "$IF" --json | tcp_view)"
as nobody nogroup dac_read_search "$TCPF" status --json
check_eq "status as nobody with CAP_DAC_READ_SEARCH: attached, its program" \
    "$RC $(json_get "$OUT" '[(a["state"], a["prog_id"]) for a in j["attachments"]]')" \
    "0 [('attached', $(xdp_of "$LAB-srv" "$IF" | cut -d' ' -f2))]"

# ------------------------------------------------------------------ modes

echo "# modes, --group"
tf attach "$IF" --group nosuchgroup
check_usage "--group nosuchgroup" "no such group 'nosuchgroup'"
tf attach "$IF" --group nogroup
check_eq "attach --group nogroup: exit code" "$RC" 0
npins=$(find "$NSDIR" -type f | wc -l)
check_eq "group: the pins' directories and pins" "$(modes "$NSDIR")" \
    "2 d 750 nogroup;$npins f 640 nogroup;"
check_eq "group: the saved rules" "$(modes "$RUNDIR")" "1 d 750 nogroup;2 f 640 nogroup;"
check_eq "group: the roots above search-only" \
    "$(stat -c %a /sys/fs/bpf/tcpflags /run/tcpflags | tr '\n' ' ')" "711 711 "
check_eq "group: bpffs searchable by others" "$(( 0$(stat -c %a /sys/fs/bpf) & 01 ))" 1
tf rule add "$IF" --syn dport 9 count
tf attach "$IF"
check_eq "a rule added, a re-attach without --group: the group kept" \
    "$(modes "$NSDIR")$(modes "$RUNDIR")" \
    "2 d 750 nogroup;$npins f 640 nogroup;1 d 750 nogroup;2 f 640 nogroup;"

# an upgrade: the pins carried over are new files, with the group's modes
NEW=$BUILD/layout-test/tcpflags
if [ -x "$NEW" ]; then
    run "$LAB-srv" "$NEW" attach "$IF"
    check_eq "attach of another map layout (the pins carried over): exit code" "$RC" 0
    check_eq "  ... the group kept" "$(modes "$NSDIR")" \
        "2 d 750 nogroup;$npins f 640 nogroup;"
    tf attach "$IF"
    check_eq "and back to this layout: exit code, the group kept" "$RC $(modes "$NSDIR")" \
        "0 2 d 750 nogroup;$npins f 640 nogroup;"
else
    fail "layout-test build" "$NEW missing (make test-progs builds it)"
fi

echo "# nobody:nogroup, no capability"
for words in "status" "status --json" "rule list $IF" "guard $IF allow list"; do
    # shellcheck disable=SC2086  # the words of the command
    as nobody nogroup "" "$TCPF" $words
    # shellcheck disable=SC2086
    check_eq "nobody:nogroup: $words: root's output" "$RC $OUT" "0 $(srv "$TCPF" $words)"
done
as nobody nogroup "" "$TCPF" stats "$IF" --json
check_eq "nobody:nogroup: stats --json: root's output" \
    "$RC $(tcp_view <<<"$OUT")" "0 $(srv "$TCPF" stats "$IF" --json | tcp_view)"
as nobody nogroup "" "$TCPF" guard "$IF" --json
check_eq "nobody:nogroup: guard --json: its mode" "$RC $(json_get "$OUT" 'j["mode"]')" "0 off"
as nobody nogroup "" "$TCPF" flows "$IF"
check_eq "nobody:nogroup: flows: exit code, the header" "$RC $(head -c 6 <<<"$OUT")" "0 CLIENT"
as nobody nogroup "" "$TCPF" top "$IF"
check_err "nobody:nogroup: top passes the check (then needs a terminal)" 2 "top needs a terminal"
as nobody nogroup "" "$TCPF" rule add "$IF" xmas drop
check_eq "nobody:nogroup: rule add: the one line" "$RC $ERR" \
    "1 tcpflags: rule add needs $WRITE: cannot write $NSDIR: permission denied"

echo "# the exporter unprivileged"
exporter_as EXPG nobody nogroup ""
scrape_check "exporter as nobody:nogroup, no capability" EXPG
check_eq "  ... its capabilities" "$(awk '/^CapEff:/ {print $2}' "/proc/$EXPG/status")" \
    0000000000000000
exporter_stop EXPG

tf attach "$IF" --group root
check_eq "attach --group root: exit code" "$RC" 0
check_eq "--group root: root's alone again" "$(modes "$NSDIR")$(modes "$RUNDIR")" \
    "2 d 700 root;$npins f 600 root;1 d 700 root;2 f 600 root;"
as nobody nogroup "" "$TCPF" stats "$IF"
check_eq "--group root: nobody:nogroup refused again" "$RC" 1

exporter_as EXPC nobody nogroup dac_read_search
scrape_check "exporter as nobody with CAP_DAC_READ_SEARCH alone" EXPC
check_eq "  ... its capabilities: CAP_DAC_READ_SEARCH" \
    "$(awk '/^CapEff:/ {print $2}' "/proc/$EXPC/status")" 0000000000000004
exporter_stop EXPC
as nobody nogroup "" "$TCPF" exporter --listen "127.0.0.1:$PORT"
check_eq "exporter as nobody with neither: the one line" "$RC $ERR" \
    "1 tcpflags: exporter needs $READ: cannot read $NSDIR: permission denied"

tf attach "$IF" --group nogroup
tf detach "$IF"
check_eq "detached with a group: the pins gone, the roots root's alone again" \
    "$RC $(test -e "$NSDIR" && echo there) $(stat -c %a /sys/fs/bpf/tcpflags /run/tcpflags | tr '\n' ' ')" \
    "0  700 700 "
t_done
