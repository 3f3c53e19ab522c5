#!/bin/bash
# bench-guard.sh - what the SYN-flood guard buys a server under a spoofed SYN
# flood, against the ideal defence and the kernel alone, measured end to end
# in one run.  `make bench` runs it after bench-live.sh.  Root.
#
#   scripts/bench-guard.sh
#
# A lab of its own (scripts/netns.sh, namespaces tcpf-bguard-PID-cli/-srv,
# removed on exit whatever happens):
#   server   tcpf-srv 198.19.0.2 / 2001:2:0:1::2: an HTTP server on port
#            8080 (python, one socket for both families, listen backlog
#            1024; tcp_syncookies=1), with routes to the flood's sources
#            through the client side, so its kernel answers them as it
#            would on the Internet (without a route it drops the SYNs before
#            the listener and the flood looks harmless)
#   client   tcpf-cli: build/livegen floods SYNs from new sources in
#            198.18.0.0/16 (a new address and port per frame, checksums
#            right) to 198.19.0.2:8080, on CPU 0; a real client makes a
#            request every 0.1 s, a new connection each, alternating IPv4
#            and IPv6, and times it (connect, GET, the whole reply); a
#            request that does not complete in 5 s failed.  Its veth runs
#            build/floodsink.bpf.o, which drops what answers the flood
#            (SYN-ACKs to 198.18.0.0/16): nothing reaches the client's
#            kernel, and XDP_TX frames are delivered promptly.
# The receivers, on tcpf-srv:
#   ideal    build/floodsink.bpf.o: drops the flood's known source range
#            (which no defender knows): the baseline
#   cookie   tcpflags attach, guard cookie --port 8080
#   auth     tcpflags attach, guard auth --port 8080
#   kernel   build/empty.bpf.o (XDP_PASS; the veth needs a program to take
#            the generator's frames): the kernel's own SYN cookies
#   rl       tcpflags attach --rules with today's best rule,
#            `--syn dport 8080 ratelimit 100/s burst 20 per src`
# Each run starts from a fresh attach: no source is verified, and the real
# client's first connection meets the guard like any other.
#
# 1. Flat out: livegen sends as fast as the receiver takes it, about 2 s a
#    run.  absorbed = frames tcpf-srv received (its rx_packets) / the
#    generator's elapsed time: the generator, the receiver's softirq work
#    and the replies' all run on CPU 0 (the generator's), so the rate says
#    what a flood packet costs end to end.  Not the generator's CPU time,
#    as bench-live.sh takes: here much of the veth's softirq work runs in
#    ksoftirqd, which that leaves out (the CPU-time rate is printed beside
#    it, as cpu).
#      budget guard_absorb_cookie = absorbed(cookie) / absorbed(ideal), floor 0.6
#      budget guard_absorb_auth   = absorbed(auth) / absorbed(ideal), floor 0.9
#      info lines for kernel and rl in the same units
# 2. Half rate: livegen --rate at half the rate that reached the ideal per
#    second, flat out (the median of the rounds' absorbed), evenly
#    (the veth's 256-frame ring does not overflow with the ideal), 6 s a
#    run (--for: a receiver slower than the rate gets the flood flat out
#    for as long).
#      budget guard_p99 = the real client's p99 with cookie / with the
#      ideal, a ceiling of 2.0, and every real request under cookie done
# Rounds are palindromes (ideal cookie auth, the info receivers once in the
# middle, then back), ROUNDS of them; a ratio is taken within a round, a
# budget is the median of the rounds' (scripts/benchlib.sh).  A round's
# p50/p99 are over all its requests with that receiver (a failed request
# counts as 5 s); the table gives the medians over the rounds and the
# requests completed of all sent.
#
# Environment: BENCH_GUARD_ROUNDS (3), BENCH_GUARD_SECONDS (2, flat out),
# BENCH_GUARD_HALF_SECONDS (6), BENCH_GUARD_CPU (0, the generator's CPU).
set -eu
cd "$(dirname "$0")/.."
. scripts/netns.sh
. scripts/benchlib.sh

LAB=tcpf-bguard-$$
ROUNDS=${BENCH_GUARD_ROUNDS:-3}
FLAT_SECONDS=${BENCH_GUARD_SECONDS:-2}
HALF_SECONDS=${BENCH_GUARD_HALF_SECONDS:-6}
CPU=${BENCH_GUARD_CPU:-0}
PORT=8080
PY=/usr/bin/python3
RECEIVERS="ideal cookie auth kernel rl"

die() { echo "bench-guard: $*" >&2; exit 1; }
srv() { in_ns "$LAB-srv" "$@"; }
cli() { in_ns "$LAB-cli" "$@"; }

[ "$(id -u)" -eq 0 ] || die "run as root: it makes network namespaces and loads XDP"
for f in build/tcpflags build/livegen build/empty.bpf.o build/floodsink.bpf.o; do
    [ -e "$f" ] || die "$f is missing: run make bench-progs first"
done
for v in ROUNDS FLAT_SECONDS HALF_SECONDS CPU; do
    case "${!v}" in ''|*[!0-9]*) die "$v must be a whole number" ;; esac
done
[ "$ROUNDS" -gt 0 ] || die "BENCH_GUARD_ROUNDS must be at least 1"

ATTACHED=""
SERVER=""
teardown() {
    # the server runs under nsenter: kill it by its script's path
    if [ -n "$SERVER" ]; then pkill -f "$TMPD/httpd.py" 2>/dev/null || true; fi
    if [ -e "/run/netns/$LAB-srv" ]; then
        case "$ATTACHED" in
            cookie|auth|rl) srv "$TCPF" detach "$LAB_SRV_IF" >/dev/null 2>&1 || true ;;
        esac
    fi
    lab_down "$LAB"
    rm -rf "$TMPD"
}
TMPD=$(mktemp -d /tmp/tcpf-bguard.XXXXXX)
trap teardown EXIT
trap 'exit 130' INT TERM
# private copies: a rebuild during the run must not change what is measured
cp build/tcpflags build/livegen build/empty.bpf.o build/floodsink.bpf.o \
   scripts/httpd.py "$TMPD/"
TCPF=$TMPD/tcpflags
GEN=$TMPD/livegen

# client.py SECONDS PORT: a request to PORT every 0.1 s for SECONDS, IPv4
# and IPv6 in turn; a line each: "ok MS" or "fail WHY"
cat >"$TMPD/client.py" <<'EOF'
import socket, sys, time
dur, port = float(sys.argv[1]), int(sys.argv[2])
hosts = [("198.19.0.2", socket.AF_INET), ("2001:2:0:1::2", socket.AF_INET6)]
start = time.monotonic()
i = 0
while True:
    due = start + i * 0.1
    if due - start >= dur:
        break
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    host, fam = hosts[i % 2]
    i += 1
    t0 = time.monotonic()
    try:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(5 - (time.monotonic() - t0))
        s.connect((host, port))
        s.sendall(b"GET / HTTP/1.0\r\nHost: lab\r\n\r\n")
        got = b""
        while True:
            s.settimeout(max(0.001, 5 - (time.monotonic() - t0)))
            b = s.recv(4096)
            if not b:
                break
            got += b
        s.close()
        if not got.startswith(b"HTTP/1.0 200") or not got.endswith(b"ok\n"):
            print("fail reply", flush=True)
            continue
        print("ok %.3f" % ((time.monotonic() - t0) * 1000), flush=True)
    except Exception as e:
        print("fail %s" % type(e).__name__, flush=True)
EOF

flood_lab_up "$LAB" "$TMPD/floodsink.bpf.o"
[ -n "$SRV_MAC" ] || die "cannot read the MAC address of $LAB_SRV_IF"
srv taskset -c 1 "$PY" "$TMPD/httpd.py" "$PORT" &
disown
SERVER=1
for _ in $(seq 50); do
    cli "$PY" -c 'import socket, sys; socket.create_connection(("198.19.0.2", int(sys.argv[1])), 1).close()' "$PORT" \
        2>/dev/null && break
    sleep 0.1
done
echo "--syn dport $PORT ratelimit 100/s burst 20 per src" >"$TMPD/rl.rules"

attach() {
    ATTACHED=$1
    case "$1" in
        ideal) ip -n "$LAB-srv" link set dev "$LAB_SRV_IF" xdpdrv obj "$TMPD/floodsink.bpf.o" sec xdp ;;
        kernel) ip -n "$LAB-srv" link set dev "$LAB_SRV_IF" xdpdrv obj "$TMPD/empty.bpf.o" sec xdp ;;
        rl) srv "$TCPF" attach "$LAB_SRV_IF" --mode native --rules "$TMPD/rl.rules" >/dev/null ;;
        cookie|auth)
            srv "$TCPF" attach "$LAB_SRV_IF" --mode native >/dev/null
            srv "$TCPF" guard "$LAB_SRV_IF" "$1" --port "$PORT" >/dev/null ;;
    esac
}

detach() {
    case "$1" in
        ideal|kernel) ip -n "$LAB-srv" link set dev "$LAB_SRV_IF" xdpdrv off ;;
        *) srv "$TCPF" detach "$LAB_SRV_IF" >/dev/null ;;
    esac
    ATTACHED=""
}

rx_packets() { srv awk -v d="$LAB_SRV_IF:" '$1 == d { print $3 }' /proc/net/dev; }

# run WHO FRAMES SECONDS [livegen options]: one flood with the real client
# beside it; sets GOT (frames tcpf-srv received), SECS (the generator's CPU
# time), WALL (its elapsed time) and appends the client's lines to
# $TMPD/req.WHO
run() {
    local who=$1 n=$2 dur=$3 a b out client
    shift 3
    attach "$who"
    sleep 0.2
    cli taskset -c 1 "$PY" "$TMPD/client.py" "$dur" "$PORT" >"$TMPD/req.now" &
    client=$!
    a=$(rx_packets)
    out=$(cli taskset -c "$CPU" "$GEN" "$LAB_CLI_IF" "$n" --dst-mac "$SRV_MAC" \
          --dst "$LAB_SRV4" --dport "$PORT" "$@") || die "livegen failed: $out"
    sleep 0.05
    b=$(rx_packets)
    wait "$client" || true
    detach "$who"
    GOT=$((b - a))
    SECS=$(echo "$out" | gen_secs cpu)
    WALL=$(echo "$out" | gen_secs wall)
    cat "$TMPD/req.now" >>"$TMPD/req.$who"
}

# reqstats FILE: "done sent p50 p99" of the client's lines (a failure as
# 5 s), percentiles by nearest rank
reqstats() {
    awk '{ print ($1 == "ok" ? $2 : 5000), ($1 == "ok") }' "$1" | sort -g |
        awk '{ v[NR] = $1; ok += $2 }
             END { if (!NR) { print "0 0 0 0"; exit }
                   i50 = int(0.5 * NR + 0.999); i99 = int(0.99 * NR + 0.999)
                   printf "%d %d %.1f %.1f\n", ok, NR, v[i50], v[i99] }'
}

# --- calibration: the frames of a flat-out run of FLAT_SECONDS, per receiver
declare -A N ABS CPUR P50 P99 REQS_DONE SENT
for who in $RECEIVERS; do
    : >"$TMPD/req.$who"
    run "$who" 500000 1
    N[$who]=$(awk -v g="$GOT" -v s="$WALL" -v t="$FLAT_SECONDS" \
        'BEGIN { n = int(g / s * t / 100000 + 0.5) * 100000; if (n < 200000) n = 200000; print n }')
    : >"$TMPD/req.$who"
done

ORDER=$(palindrome "ideal cookie auth" "kernel rl")

# phase flat|half: ROUNDS rounds; per round and receiver, the absorbed rate
# (ABS[kind,who,r], Mpps: frames / the generator's elapsed time), the same
# per second of the generator's CPU time (CPUR[kind,who,r]) and the
# client's p50/p99 (P50/P99[kind,who,r])
# shellcheck disable=SC2034  # ABS, CPUR, P50, P99: read by name (rounds, ratios)
phase() {
    local kind=$1 r who n dur
    local opts=()
    for ((r = 0; r < ROUNDS; r++)); do
        declare -A G=() S=() W=()
        for who in $RECEIVERS; do : >"$TMPD/req.$who"; done
        for who in $ORDER; do
            if [ "$kind" = flat ]; then n=${N[$who]} dur=$FLAT_SECONDS opts=()
            else n=$((HALF_RATE * HALF_SECONDS)) dur=$HALF_SECONDS
                 opts=(--rate "$HALF_RATE" --for "$HALF_SECONDS"); fi
            run "$who" "$n" "$dur" "${opts[@]}"
            [ "$GOT" -gt 0 ] || die "$who: the server got no frames"
            G[$who]=$(( ${G[$who]:-0} + GOT ))
            S[$who]=$(awk -v a="${S[$who]:-0}" -v b="$SECS" 'BEGIN { printf "%.6f", a + b }')
            W[$who]=$(awk -v a="${W[$who]:-0}" -v b="$WALL" 'BEGIN { printf "%.6f", a + b }')
        done
        for who in $RECEIVERS; do
            ABS[$kind,$who,$r]=$(awk -v g="${G[$who]}" -v s="${W[$who]}" 'BEGIN { printf "%.3f", g / s / 1e6 }')
            CPUR[$kind,$who,$r]=$(awk -v g="${G[$who]}" -v s="${S[$who]}" 'BEGIN { printf "%.3f", g / s / 1e6 }')
            read -r d s p50 p99 <<<"$(reqstats "$TMPD/req.$who")"
            P50[$kind,$who,$r]=$p50 P99[$kind,$who,$r]=$p99
            REQS_DONE[$kind,$who]=$(( ${REQS_DONE[$kind,$who]:-0} + d ))
            SENT[$kind,$who]=$(( ${SENT[$kind,$who]:-0} + s ))
        done
    done
}

table() {
    local kind=$1 who head="absorbed Mpps"
    [ "$kind" = half ] && head="arrived Mpps"
    printf '%-8s %13s %13s %8s %9s %8s %8s\n' receiver "$head" "min-max" "cpu Mpps" requests "p50 ms" "p99 ms"
    for who in $RECEIVERS; do
        printf '%-8s %13s %13s %8s %9s %8s %8s\n' "$who" \
            "$(rounds ABS "$kind,$who" | median)" "$(rounds ABS "$kind,$who" | minmax)" \
            "$(rounds CPUR "$kind,$who" | median)" \
            "${REQS_DONE[$kind,$who]}/${SENT[$kind,$who]}" \
            "$(rounds P50 "$kind,$who" | median)" "$(rounds P99 "$kind,$who" | median)"
    done
}

phase flat
echo
echo "Spoofed SYN flood, flat out: livegen -> veth -> server (198.18.0.0/16 -> 198.19.0.2:$PORT),"
echo "a real client's request every 0.1 s beside it; $ROUNDS rounds, medians"
echo
table flat
echo
for who in kernel rl; do
    echo "info guard_absorb_$who ratio=$(ratios ABS "flat,$who" flat,ideal | median | awk '{ printf "%.2f", $1 }')" \
         "spread=$(ratios ABS "flat,$who" flat,ideal | minmax) (absorbed with $who / with the ideal)"
done
for who in cookie auth; do
    echo "info guard_absorb_${who}_cpu ratio=$(ratios CPUR "flat,$who" flat,ideal | median | awk '{ printf "%.2f", $1 }')" \
         "(the same per second of the generator's CPU time)"
done
budget guard_absorb_cookie "$(ratios ABS flat,cookie flat,ideal)" 0.6 floor
budget guard_absorb_auth "$(ratios ABS flat,auth flat,ideal)" 0.9 floor

HALF_RATE=$(rounds ABS flat,ideal | median | awk '{ printf "%d", $1 * 1e6 / 2 }')
phase half
echo
echo "The same at half the ideal's flat-out rate ($HALF_RATE frames/s), $HALF_SECONDS s a run"
echo
table half
echo
for who in kernel rl auth; do
    echo "info guard_p99_$who ratio=$(ratios P99 "half,$who" half,ideal | median | awk '{ printf "%.2f", $1 }')" \
         "(p99 with $who / with the ideal; ${REQS_DONE[half,$who]}/${SENT[half,$who]} requests done)"
done
budget guard_p99 "$(ratios P99 half,cookie half,ideal)" 2.0 ceiling
if [ "${REQS_DONE[half,cookie]}" -ne "${SENT[half,cookie]}" ]; then
    echo "budget guard_requests_cookie done=${REQS_DONE[half,cookie]} sent=${SENT[half,cookie]} FAIL"
    FAILED=1
fi
exit "$FAILED"
