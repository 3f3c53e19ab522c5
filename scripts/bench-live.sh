#!/bin/bash
# bench-live.sh - what a spoofed SYN flood costs a receiver running tcpflags,
# against an empty XDP program on the same path, measured end to end in one
# run.  `make bench` runs it after build/bench.  Root.
#
#   scripts/bench-live.sh
#
# A lab of its own (scripts/netns.sh, namespaces tcpf-blive-PID-cli/-srv,
# removed on exit whatever happens).  build/livegen, in the -cli namespace,
# floods tcpf-cli with TCP SYNs from spoofed sources in 198.18.0.0/16 (a new
# address and port per frame, checksums fixed) to 198.19.0.9:80, an address
# on the lab's link that nobody holds: the receiver's kernel drops them at
# its route lookup (forwarding is off), so nothing answers and nothing leaves
# the two namespaces.  The frames arrive on tcpf-srv, where the receiver
# under test runs:
#   empty     build/empty.bpf.o (XDP_PASS), attached with ip link ... xdpdrv
#   tcpflags  build/tcpflags attach tcpf-srv (native mode), then detach
# The receivers take turns, in alternating order, for ROUNDS rounds.  The
# generator and the receiver's softirq work share one CPU (live frames run
# in the caller's context and the veth's NAPI runs on that CPU), so the rate
# the flood reaches is set by what a packet costs end to end.
#   rate  = frames tcpf-srv received (its rx_packets) / the generator's time
#   ratio = rate(empty) / rate(tcpflags) = ns per packet with tcpflags /
#           ns per packet with the empty program, medians over the rounds
# Last line:  budget flow_spoofed_syn ratio=R limit=2.0
#
# Before measuring, a check of the generator: SYNs to the receiver's own
# addresses (IPv4 and IPv6) must all reach TCP with no checksum errors.
#
# Environment: BENCH_LIVE_ROUNDS (5), BENCH_LIVE_SECONDS per run (0.7; the
# frame count of each receiver is calibrated to it), BENCH_LIVE_COUNT (a
# fixed frame count instead), BENCH_LIVE_IPV6=1 (flood over IPv6 instead:
# sources 2001:2:0:ff::/64, destination 2001:2:0:1::9).
set -eu
cd "$(dirname "$0")/.."
. scripts/netns.sh

LAB=tcpf-blive-$$
ROUNDS=${BENCH_LIVE_ROUNDS:-5}
SECONDS_PER_RUN=${BENCH_LIVE_SECONDS:-0.7}
FIXED_COUNT=${BENCH_LIVE_COUNT:-}
IPV6=${BENCH_LIVE_IPV6:-0}
LIMIT=2.0
MIN_COUNT=100000
MAX_COUNT=5000000

die() { echo "bench-live: $*" >&2; exit 1; }
srv() { in_ns "$LAB-srv" "$@"; }
cli() { in_ns "$LAB-cli" "$@"; }

[ "$(id -u)" -eq 0 ] || die "run as root: it makes network namespaces and loads XDP"
for f in build/tcpflags build/livegen build/empty.bpf.o; do
    [ -e "$f" ] || die "$f is missing: run make first"
done
case "$ROUNDS" in ''|*[!0-9]*|0) die "BENCH_LIVE_ROUNDS must be a positive number" ;; esac

PINS=""        # tcpflags' pin directory for this lab's namespace
ATTACHED=""    # set before attaching: a signal is handled after the command
teardown() {
    if [ -e "/run/netns/$LAB-srv" ]; then
        case "$ATTACHED" in
            tcpflags) srv "$TCPF" detach "$LAB_SRV_IF" >/dev/null 2>&1 || true ;;
            empty) ip -n "$LAB-srv" link set dev "$LAB_SRV_IF" xdpdrv off 2>/dev/null || true ;;
        esac
    fi
    lab_down "$LAB"
    # tcpflags detach removes its pins; make sure none of this lab's stay
    # (the directory is named by the namespace's cookie, never reused)
    if [ -n "$PINS" ] && [ -e "$PINS" ]; then
        echo "bench-live: warning: tcpflags left $PINS behind; removing it" >&2
        rm -rf "$PINS"
    fi
    rm -rf "$TMPD"
}
TMPD=$(mktemp -d /tmp/tcpf-blive.XXXXXX)
trap teardown EXIT
trap 'exit 130' INT TERM
# private copies: a rebuild during the run must not change what is measured
cp build/tcpflags build/livegen build/empty.bpf.o "$TMPD/"
TCPF=$TMPD/tcpflags
GEN=$TMPD/livegen
EMPTY=$TMPD/empty.bpf.o

lab_up "$LAB"
SRV_MAC=$(ip -n "$LAB-srv" -o link show dev "$LAB_SRV_IF" |
          sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$SRV_MAC" ] || die "cannot read the MAC address of $LAB_SRV_IF"

attach() {
    local out
    ATTACHED=$1
    case "$1" in
        empty) ip -n "$LAB-srv" link set dev "$LAB_SRV_IF" xdpdrv obj "$EMPTY" sec xdp ;;
        tcpflags)
            out=$(srv "$TCPF" attach "$LAB_SRV_IF" --mode native)
            # "... (new counters in /sys/fs/bpf/tcpflags/nsID/tcpf-srv)"
            [ -n "$PINS" ] || PINS=$(echo "$out" |
                sed -n 's|.* in \(/sys/fs/bpf/tcpflags/ns[0-9][0-9]*\)/.*|\1|p')
            ;;
    esac
}

detach() {
    case "$1" in
        empty) ip -n "$LAB-srv" link set dev "$LAB_SRV_IF" xdpdrv off ;;
        tcpflags) srv "$TCPF" detach "$LAB_SRV_IF" >/dev/null ;;
    esac
    ATTACHED=""
}

# rx_packets of the receiver's veth (/proc/net is per netns; with XDP on a
# veth it counts every frame the XDP program saw)
rx_packets() { srv awk -v d="$LAB_SRV_IF:" '$1 == d { print $3 }' /proc/net/dev; }

# one SNMP counter of the receiver's namespace
snmp() { srv nstat -asz "$1" | awk -v n="$1" '$1 == n { print $2 }'; }

# gen COUNT [livegen options]: run the flood, print its elapsed seconds
gen() {
    local n=$1 out
    shift
    out=$(cli "$GEN" "$LAB_CLI_IF" "$n" --dst-mac "$SRV_MAC" "$@") ||
        die "livegen failed: $out"
    echo "$out" | sed -n 's/.* elapsed=\([0-9.]*\).*/\1/p'
}

# measure RECEIVER COUNT: one run; sets GOT (frames tcpf-srv received),
# SECS (the generator's time) and COUNTED (tcpflags' packets.total, or -).
# Not in a subshell: the exit trap must know what is attached.
measure() {
    local who=$1 n=$2 a b
    local fam=()
    [ "$IPV6" = 1 ] && fam=(--ipv6)
    attach "$who"
    a=$(rx_packets)
    SECS=$(gen "$n" "${fam[@]}")
    sleep 0.05      # let the receiver empty its ring
    b=$(rx_packets)
    COUNTED=-
    if [ "$who" = tcpflags ]; then
        COUNTED=$(srv "$TCPF" stats "$LAB_SRV_IF" --json |
                  sed -n 's/.*"packets": *{ *"total": *\([0-9]*\).*/\1/p')
        [ -n "$COUNTED" ] || COUNTED=-
    fi
    detach "$who"
    GOT=$((b - a))
}

# --- the generator's own check: every SYN reaches TCP with good checksums
attach empty
segs0=$(snmp TcpInSegs); bad0=$(( $(snmp TcpInCsumErrors) + $(snmp IpInHdrErrors) + $(snmp Ip6InHdrErrors) ))
gen 100000 --dst "$LAB_SRV4" >/dev/null
gen 100000 --ipv6 --dst "$LAB_SRV6" >/dev/null
sleep 0.05
segs=$(( $(snmp TcpInSegs) - segs0 ))
bad=$(( $(snmp TcpInCsumErrors) + $(snmp IpInHdrErrors) + $(snmp Ip6InHdrErrors) - bad0 ))
detach empty
[ "$bad" -eq 0 ] || die "generator check: $bad checksum or header errors at the receiver"
# the veth may drop a few when its ring is full; more than 1% is a problem
[ "$segs" -ge 198000 ] || die "generator check: only $segs of 200000 SYNs reached TCP"

# --- how many frames make a run of SECONDS_PER_RUN, for each receiver
declare -A N RATE RATIO LOST SENT
for who in empty tcpflags; do
    if [ -n "$FIXED_COUNT" ]; then N[$who]=$FIXED_COUNT; continue; fi
    measure "$who" 300000
    N[$who]=$(awk -v g="$GOT" -v s="$SECS" -v t="$SECONDS_PER_RUN" \
                  -v lo=$MIN_COUNT -v hi=$MAX_COUNT \
        'BEGIN { n = g / s * t; n = int(n / 100000 + 0.5) * 100000;
                 if (n < lo) n = lo; if (n > hi) n = hi; print n }')
done

# --- the rounds, the two receivers in alternating order
WARN=""
MATCHED=0
LOST=([empty]=0 [tcpflags]=0)
SENT=([empty]=0 [tcpflags]=0)
for ((r = 0; r < ROUNDS; r++)); do
    if ((r % 2 == 0)); then order="empty tcpflags"; else order="tcpflags empty"; fi
    for who in $order; do
        n=${N[$who]}
        measure "$who" "$n"
        [ "$GOT" -gt 0 ] || die "$who: the receiver got no frames"
        RATE[$who,$r]=$(awk -v g="$GOT" -v s="$SECS" 'BEGIN { printf "%.3f", g / s / 1e6 }')
        # GOT can exceed n by a stray IPv6 ND or MLD packet
        if ((GOT < n)); then LOST[$who]=$((LOST[$who] + n - GOT)); fi
        SENT[$who]=$((SENT[$who] + n))
        if [ "$who" = tcpflags ]; then
            # within a few: the cli side's IPv6 router solicitations and
            # MLD reports can land between the attach and the first read
            if [ "$COUNTED" != - ] && ((COUNTED - GOT <= 5 && GOT - COUNTED <= 5)); then
                MATCHED=$((MATCHED + 1))
            else
                WARN="$WARN round $((r + 1)): tcpflags counted $COUNTED packets, tcpf-srv received $GOT;"
            fi
        fi
    done
    RATIO[$r]=$(awk -v e="${RATE[empty,$r]}" -v t="${RATE[tcpflags,$r]}" 'BEGIN { printf "%.3f", e / t }')
done

# median and min-max of a list of numbers separated by blanks
median() { tr -s ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
minmax() { tr -s ' ' '\n' | grep . | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }
list() { local who=$1 out="" i; for ((i = 0; i < ROUNDS; i++)); do out="$out ${RATE[$who,$i]}"; done; echo "${out# }"; }

E_LIST=$(list empty)
T_LIST=$(list tcpflags)
R_LIST=$(for ((i = 0; i < ROUNDS; i++)); do echo -n "${RATIO[$i]} "; done)
R_LIST=${R_LIST% }
E_MED=$(echo "$E_LIST" | median)
T_MED=$(echo "$T_LIST" | median)
RATIO_MED=$(awk -v e="$E_MED" -v t="$T_MED" 'BEGIN { printf "%.2f", e / t }')

if [ "$IPV6" = 1 ]; then what="IPv6 SYNs from 2001:2:0:ff::/64 to [2001:2:0:1::9]:80"
else what="IPv4 SYNs from 198.18.0.0/16 to 198.19.0.9:80"; fi
echo
echo "Spoofed SYN flood end to end: live-frames generator -> veth -> receiver's XDP"
echo "($what; new source per frame; median of $ROUNDS rounds)"
echo
printf '%-10s %10s %8s %15s %8s %7s\n' receiver frames/run Mpps "min-max" ns/pkt lost
for who in empty tcpflags; do
    if [ "$who" = empty ]; then l=$E_LIST m=$E_MED; else l=$T_LIST m=$T_MED; fi
    printf '%-10s %10s %8.3f %15s %8.1f %6.2f%%\n' "$who" "${N[$who]}" "$m" \
        "$(echo "$l" | minmax)" "$(awk -v m="$m" 'BEGIN { print 1000 / m }')" \
        "$(awk -v l="${LOST[$who]}" -v s="${SENT[$who]}" 'BEGIN { print 100 * l / s }')"
done
echo
echo "rounds, Mpps:  empty $E_LIST"
echo "               tcpflags $T_LIST"
echo "               ratio $R_LIST (spread $(echo "$R_LIST" | minmax))"
echo "flow_spoofed_syn: $E_MED Mpps with the empty program, $T_MED Mpps with tcpflags" \
     "(absolute rates drift from run to run; the ratio is the budget)"
echo "tcpflags' packets.total matched tcpf-srv's rx_packets (within 5) in $MATCHED of $ROUNDS rounds"
if [ -n "$WARN" ]; then
    echo "bench-live: warning: tcpflags' count differs from the veth's:$WARN" >&2
fi
echo "budget flow_spoofed_syn ratio=$RATIO_MED limit=$LIMIT"
