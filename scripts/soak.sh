#!/bin/bash
# soak.sh - tcpflags under a long load, watched: `make soak` (root; not in
# the test run, it takes SOAK_SECS and more).
#
#   scripts/soak.sh
#
# A lab of its own (scripts/netns.sh, namespaces tcpf-soak-PID-cli/-srv,
# removed on exit whatever happens), tcpflags attached to tcpf-srv with the
# egress observer:
#   server   tcpf-srv 198.19.0.2 / 2001:2:0:1::2: scripts/httpd.py on 8080
#            (tcp_syncookies=1), with routes to the flood's sources through
#            the client side, so its kernel answers the flood as it would on
#            the Internet; in its namespace `tcpflags top` (in a pseudo-
#            terminal), `tcpflags stats --watch 1 --json` and `tcpflags
#            exporter` run all along
#   client   tcpf-cli 198.19.0.1 and .10-.13 (2001:2:0:1::1, ::10-::13):
#            build/livegen's spoofed SYN flood (198.18.0.0/16 and
#            2001:2:0:ff::/64, IPv4 and IPv6 2 s each in turn) at
#            SOAK_RATE frames/s; real requests (python sockets and curl,
#            both families); held connections, closed every way (FIN
#            first, RST, after a request the server closes); odd flag
#            bytes from a raw socket (NULL, Xmas, SYN|FIN, ...).  Its veth
#            runs build/floodsink.bpf.o, which drops what answers the
#            flood (and makes veth deliver the guard's XDP_TX replies).
# scripts/soak.py drives it: a seeded random change every second (rule
# add/del, apply of a generated file, flush, the guard's mode, its lists),
# then stats --json and a scrape, compared with the last ones; a quiet
# point every SOAK_QUIET s; the process sizes every SOAK_RSS_EVERY s.  It
# prints the figures at the end and exits 1 on any violation (see soak.py
# for what is checked and how).
#
# Environment: SOAK_SECS (600), SOAK_SEED (1), SOAK_RATE (20000 frames/s),
# SOAK_QUIET (60 s), SOAK_RSS_EVERY (60 s), SOAK_RSS_BOUND_KB (512).
set -eu
cd "$(dirname "$0")/.."
. scripts/netns.sh

LAB=tcpf-soak-$$
PY=/usr/bin/python3

die() { echo "soak: $*" >&2; exit 1; }
srv() { in_ns "$LAB-srv" "$@"; }
cli() { in_ns "$LAB-cli" "$@"; }

[ "$(id -u)" -eq 0 ] || die "run as root: it makes network namespaces and loads XDP"
for f in build/tcpflags build/livegen build/floodsink.bpf.o; do
    [ -e "$f" ] || die "$f is missing: run make soak"
done
for v in SOAK_SECS SOAK_SEED SOAK_RATE SOAK_QUIET SOAK_RSS_EVERY SOAK_RSS_BOUND_KB; do
    case "${!v:-1}" in ''|*[!0-9]*) die "$v must be a whole number" ;; esac
done

teardown() {
    if [ -e "/run/netns/$LAB-srv" ]; then
        srv "$TMPD/tcpflags" detach "$LAB_SRV_IF" >/dev/null 2>&1 || true
    fi
    # what runs in the lab is the soak's: its server, readers, clients
    local ns
    for ns in "$LAB-srv" "$LAB-cli"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    done
    lab_down "$LAB"
    rm -rf "$TMPD"
}
TMPD=$(mktemp -d /tmp/tcpf-soak.XXXXXX)
trap teardown EXIT
trap 'exit 130' INT TERM
# private copies: a rebuild during the run must not change what is soaked
cp build/tcpflags build/livegen build/floodsink.bpf.o scripts/httpd.py \
   scripts/soak.py "$TMPD/"

flood_lab_up "$LAB" "$TMPD/floodsink.bpf.o"
[ -n "$SRV_MAC" ] || die "cannot read the MAC address of $LAB_SRV_IF"
for i in 10 11 12 13; do
    cli ip addr add "198.19.0.$i/24" dev "$LAB_CLI_IF"
    cli ip addr add "2001:2:0:1::$i/64" dev "$LAB_CLI_IF" nodad
done
srv "$TMPD/tcpflags" attach "$LAB_SRV_IF" --mode native >/dev/null

export LAB TMPD SRV_MAC
SRV_IF=$LAB_SRV_IF CLI_IF=$LAB_CLI_IF "$PY" "$TMPD/soak.py"
