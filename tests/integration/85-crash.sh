#!/bin/bash
# 85-crash.sh - crashes and concurrency (issue 13, item 4):
#   - serialisation: four processes adding 100 rules each at once leave
#     exactly the 400 rules (two interfaces of one namespace, 200 each:
#     a rule set holds at most 256), ids 1..200 each; `apply` racing
#     `rule add` ends as one of the two orders, exactly; a writer stopped
#     inside its change (TCPF_PAUSE_AT) makes the other writer wait, and
#     readers not; two attaches at once get a guard slot each; a guard
#     list change stopped after its read loses no other change;
#   - kill -9 at named points (TCPF_CRASH_AT, user/crashpoint.h) and after
#     seeded random delays of `rule add`, `apply`, `attach` (new and
#     re-attach) and `detach`: after each kill `status` explains every
#     partial state the test finds by itself (the lock's record, pins
#     without a recorded attachment, a program other than the recorded
#     one, TC hooks without XDP, a pending rule source), the rule set in
#     force is exactly the old or the new one (byte for byte, by
#     build/inforce, and by the verdicts of the attached program on
#     probe frames), and the next writer, attach or detach repairs it:
#     status clean, the saved source the one in force;
#   - the pins of a deleted namespace: listed by status as stale with what
#     they hold, removed by `prune NAME`, nothing else touched.
# SEED=N reruns the same plan of trials (the seed is printed).  Run as
# root: bash tests/integration/85-crash.sh
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

t_tmp crash
SEED=${SEED:-$(($(date +%s%N) / 1000 % 1000000))}
RANDOM=$SEED
echo "# seed $SEED (SEED=$SEED bash $0 replays this plan)"
INFORCE="$BUILD/inforce"
STARTED=$SECONDS

new_lab
NS=$LAB-srv
IF=$LAB_SRV_IF
EXTRA_NS=""         # the namespace the stale test deletes
EXTRA_COOKIE=""

# ---------------------------------------------------------------- helpers

tf() { in_ns "$NS" "$TCPF" "$@"; }
# tf_bg ARGS...: tcpflags in the background, its own pid in BG (nsenter
# execs it) and in BGS, which the exit trap kills if still there
BGS=()
tf_bg() {
    nsenter --net="/run/netns/$NS" "$TCPF" "$@" &
    BG=$!
    BGS+=("$BG")
}

ns_cookie() {
    in_ns "$1" "$PY" -c 'import socket, struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
print(struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, 71, 8))[0])'
}
COOKIE=$(ns_cookie "$NS")
PINS=/sys/fs/bpf/tcpflags/ns$COOKIE
RUN=/run/tcpflags/ns$COOKIE

# what this test made beyond its lab: the second veth pair's attachments
# and the stale test's namespace and pins
t_undo() {
    local p
    for p in "${BGS[@]}"; do kill -9 "$p" 2>/dev/null; done
    tf detach ca0 >/dev/null 2>&1
    tf detach ca1 >/dev/null 2>&1
    if [ -n "$EXTRA_NS" ]; then
        in_ns "$EXTRA_NS" "$TCPF" detach st0 >/dev/null 2>&1
        ip netns del "$EXTRA_NS" 2>/dev/null
    fi
    [ -n "$EXTRA_COOKIE" ] && "$TCPF" prune "ns$EXTRA_COOKIE" >/dev/null 2>&1
    true
}

# problems: every problem status --json names, one a line ("IF: ..." or
# "ns: ..."); "STATUS FAILED" if it did not run or parse
problems() {
    local out
    out=$(tf status --json 2>&1) || { echo "STATUS FAILED: $out"; return; }
    "$PY" -c 'import json, sys
j = json.loads(sys.argv[1])
for a in j["attachments"]:
    for p in a["problems"]:
        print(a["interface"] + ": " + p)
for p in j.get("problems", []):
    print("ns: " + p)' "$out" 2>/dev/null || echo "STATUS FAILED: $out"
}

journal() { cat "$RUN/lock" 2>/dev/null; }
# xdp_id: the id of our XDP program on IF, "" if none
xdp_id() {
    ip -n "$NS" link show dev "$IF" | awk '/prog\/xdp/ && /name tcpf_xdp/ {
        for (i = 1; i < NF; i++) if ($i == "id") print $(i + 1) }'
}
# meta_prog: the program id tcpf_meta records, "none" without its pin
meta_prog() {
    local out
    out=$(bpftool -j map dump pinned "$PINS/$IF/tcpf_meta" 2>/dev/null) || { echo none; return; }
    out=$(grep -o '"prog_id":[0-9]*' <<<"$out")
    echo "${out#*:}"
}
tc_on() { in_ns "$NS" tc filter show dev "$IF" "$1" | grep -q "tcpf_$1"; }
iface_pins() { find "$PINS/$IF" -maxdepth 1 -type f 2>/dev/null | wc -l; }
shared_pins() { find "$PINS" -maxdepth 1 -type f 2>/dev/null | wc -l; }

# in_force OLD NEW: 1 or 2, the one whose clean install is the set in
# force, 0 neither; "none" with no program on the hook
in_force() {
    if [ -z "$(xdp_id)" ]; then echo none; return; fi
    in_ns "$NS" "$INFORCE" "$IF" "$1" "$2" 2>&1
}
# probe PORT...: the attached program's verdicts on SYNs to the ports
probe() { in_ns "$NS" "$INFORCE" --probe "$(xdp_id)" "$@" 2>&1; }

# kill_at POINT CMD...: run CMD (tcpflags ARGS in the lab) with
# TCPF_CRASH_AT=POINT, or, POINT "rand:MS", kill -9 it after MS ms; RC
KILL_MS=""
kill_at() {
    local point=$1 pid
    shift
    RC=0
    if [[ $point == rand:* ]]; then
        KILL_MS=${point#rand:}
        tf_bg "$@" >"$TMP/k.out" 2>&1
        pid=$BG
        sleep "$(printf '%d.%03d' $((KILL_MS / 1000)) $((KILL_MS % 1000)))"
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null || RC=$?
    else
        TCPF_CRASH_AT=$point in_ns "$NS" "$TCPF" "$@" >"$TMP/k.out" 2>&1 || RC=$?
    fi
}

# Per category: trials, outcomes, failures (each failure its own line).
declare -A TRIALS OLD NEW BAD
tally() { TRIALS[$1]=$((${TRIALS[$1]:-0} + 1)); }
bad() {
    BAD[$1]=$((${BAD[$1]:-0} + 1))
    fail "crash $1 trial ${TRIALS[$1]} ($2, seed $SEED)" "$3"
}
# expect_problem CAT WHAT PROBS PATTERN: PROBS has a line matching PATTERN
expect_problem() {
    grep -qE -- "$4" <<<"$3" || bad "$1" "$2" "status does not explain it ('$4' not in: ${3:-<none>})"
}

# after_kill CAT WHAT: the status checks every kill shares: the lock's
# record (read here) named by status, the facts about the pins and the
# hook found here each explained.  Sets PROBS.
after_kill() {
    local cat=$1 what=$2 rec meta xid
    PROBS=$(problems)
    if grep -q "STATUS FAILED" <<<"$PROBS"; then
        bad "$cat" "$what" "$PROBS"
        return
    fi
    rec=$(journal)
    if [ -n "$rec" ]; then
        expect_problem "$cat" "$what" "$PROBS" "ns: the last change, pid and command '${rec%% *} tcpflags .*was killed"
    elif [ -n "$PROBS" ]; then
        bad "$cat" "$what" "no writer was killed inside its lock, yet status says: $PROBS"
    fi
    [ -d "$PINS/$IF" ] || return 0
    meta=$(meta_prog)
    xid=$(xdp_id)
    if [ "$meta" = none ] || [ "$meta" = 0 ]; then
        expect_problem "$cat" "$what" "$PROBS" "^$IF: incomplete: .* no attachment recorded"
    elif [ -n "$xid" ] && [ "$xid" != "$meta" ]; then
        expect_problem "$cat" "$what" "$PROBS" "^$IF: program $xid runs, the attachment recorded is program $meta"
    fi
    if [ -z "$xid" ] && [ "$meta" != none ] && [ "$meta" != 0 ] &&
        { tc_on egress || tc_on ingress; }; then
        expect_problem "$cat" "$what" "$PROBS" "^$IF: no XDP program, but its TC hooks are on"
    fi
}

# clean CAT WHAT: after a repair: no problem, no record, no pending source
clean() {
    local p
    p=$(problems)
    [ -z "$p" ] || bad "$1" "$2" "status after the repair: $p"
    [ -z "$(journal)" ] || bad "$1" "$2" "the lock's record stays: $(journal)"
    [ ! -e "$RUN/$IF.rules.new" ] || bad "$1" "$2" "a pending source stays"
}

# rules_file PATH PORT...: a rule set dropping those ports, as tcpflags
# saves it (ids 1.., in order)
rules_file() {
    local path=$1 i=0 p
    shift
    echo "default pass" >"$path"
    for p in "$@"; do
        i=$((i + 1))
        echo "rule $i dport $p drop" >>"$path"
    done
}

# ------------------------------------------- serialisation: concurrency

rules_file "$TMP/empty" # the set of an attachment given no rules
rules_file "$TMP/none" 9 # a set never in force: a second candidate

# a second veth pair in the same namespace: two interfaces, one lock
in_ns "$NS" ip link add ca0 type veth peer name ca1
in_ns "$NS" ip link set ca0 up
in_ns "$NS" ip link set ca1 up

# two attaches at once, the namespace's first (one flow table, one guard
# map with a slot each): before the lock both could take guard slot 0,
# and `guard` of one of them then said it was not attached
rcs=""
for i in 0 1; do (tf attach ca$i >"$TMP/att$i" 2>&1; echo $? >"$TMP/att$i.rc") & done
wait
for i in 0 1; do rcs+="$(cat "$TMP/att$i.rc") "; done
check_eq "two attaches at once: both succeed" "$rcs" "0 0 "
g0=$(tf guard ca0 --json 2>&1 | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["interface"])' 2>&1)
g1=$(tf guard ca1 --json 2>&1 | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["interface"])' 2>&1)
check_eq "two attaches at once: each has its own guard slot" "$g0 $g1" "ca0 ca1"
slots=$(bpftool -j map dump pinned "$PINS/tcpf_gconf" | "$PY" -c 'import json, sys
print(sorted(e["formatted"]["value"]["ifindex"] for e in json.load(sys.stdin) if e["formatted"]["value"]["ifindex"]))')
want=$(in_ns "$NS" "$PY" -c 'import socket; print(sorted(socket.if_nametoindex(d) for d in ("ca0", "ca1")))')
check_eq "two attaches at once: tcpf_gconf holds both interfaces" "$slots" "$want"

# four writers, 100 rule adds each, two per interface
t0=$SECONDS
for w in 1 2 3 4; do
    (
        dev=ca$((w % 2))
        for i in $(seq 0 99); do
            tf rule add "$dev" dport $((w * 1000 + i)) drop >/dev/null 2>&1 || echo "$w $i" >>"$TMP/adds.failed"
        done
    ) &
done
wait
echo "# 4 x 100 rule adds: $((SECONDS - t0)) s"
touch "$TMP/adds.failed"
check_eq "4 writers x 100 rule adds: every add succeeded" "$(wc -l <"$TMP/adds.failed")" 0
for dev in ca0 ca1; do
    # ca0: writers 2 and 4, ca1: 1 and 3
    if [ $dev = ca0 ]; then ws="2 4"; else ws="1 3"; fi
    got=$(grep '^rule ' "$RUN/$dev.rules" | awk '{ print $2 }' | sort -n | tr '\n' ' ')
    check_eq "4 writers x 100: $dev holds ids 1..200, each once" "$got" "$(seq 1 200 | tr '\n' ' ')"
    got=$(grep '^rule ' "$RUN/$dev.rules" | cut -d' ' -f3- | sort | md5sum)
    want=$(for w in $ws; do for i in $(seq 0 99); do echo "dport $((w * 1000 + i)) drop"; done; done | sort | md5sum)
    check_eq "4 writers x 100: $dev holds exactly the 200 rules added" "$got" "$want"
    check_eq "4 writers x 100: $dev's set in force is its saved source" \
        "$(in_ns "$NS" "$INFORCE" "$dev" "$RUN/$dev.rules" 2>&1)" 1
done
check_eq "4 writers x 100: 400 rules in all" \
    "$(cat "$RUN/ca0.rules" "$RUN/ca1.rules" | grep -c '^rule ')" 400

# apply racing rule add: one of the two orders, exactly
rules_file "$TMP/A" 1001 1002 1003
cp "$TMP/A" "$TMP/A+R"
echo "rule 4 dport 9999 drop" >>"$TMP/A+R"
first_apply=0 first_add=0
for round in $(seq 1 8); do
    tf apply ca0 "$TMP/empty" >/dev/null
    tf_bg apply ca0 "$TMP/A" >"$TMP/ap.out" 2>&1
    p1=$BG
    tf_bg rule add ca0 dport 9999 drop >"$TMP/ad.out" 2>&1
    p2=$BG
    wait $p1 || fail "apply racing rule add, round $round: apply" "$(cat "$TMP/ap.out")"
    wait $p2 || fail "apply racing rule add, round $round: rule add" "$(cat "$TMP/ad.out")"
    if cmp -s "$RUN/ca0.rules" "$TMP/A+R"; then
        first_apply=$((first_apply + 1))
    elif cmp -s "$RUN/ca0.rules" "$TMP/A"; then
        first_add=$((first_add + 1))
    else
        fail "apply racing rule add, round $round" "saved: $(tr '\n' ';' <"$RUN/ca0.rules")"
    fi
    r=$(in_ns "$NS" "$INFORCE" ca0 "$RUN/ca0.rules" 2>&1)
    [ "$r" = 1 ] || fail "apply racing rule add, round $round: in force" "inforce says $r"
done
check_eq "apply racing rule add: 8 rounds, each one order exactly (apply first $first_apply, add first $first_add)" \
    $((first_apply + first_add)) 8

# the same race made certain: apply stopped inside its change, holding
# the lock (TCPF_PAUSE_AT: SIGSTOP after its source is written)
tf apply ca0 "$TMP/empty" >/dev/null
TCPF_PAUSE_AT=rules:saved tf_bg apply ca0 "$TMP/A" >"$TMP/ap.out" 2>&1
p1=$BG
stopped() { [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = T ]; }
wait_for 30 stopped $p1 || fail "pause: apply stopped at rules:saved" "it did not stop"
tf_bg rule add ca0 dport 9999 drop >"$TMP/ad.out" 2>&1
p2=$BG
# the waiting writer shows in /proc/locks as blocked on the lock's inode
waiting() { grep -q -- "-> OFDLCK .*:$(stat -c %i "$RUN/lock" 2>/dev/null) " /proc/locks; }
check_true "a writer waits while another holds the lock" "rule add did not block on $RUN/lock" wait_for 30 waiting
check_true "the waiting writer has not run" "rule add finished while apply held the lock" kill -0 $p2
# readers take no lock
check_rc "status reads while a writer holds the lock" 0 \
    timeout 20 nsenter --net="/run/netns/$NS" "$TCPF" status
check_has "status names the change in progress" "$(problems)" "a change is in progress" "tcpflags apply ca0"
check_rc "rule list reads while a writer holds the lock" 0 \
    timeout 20 nsenter --net="/run/netns/$NS" "$TCPF" rule list ca0
kill -CONT $p1
wait $p1
wait $p2
check_eq "apply paused, rule add waiting: the order is apply, then add" \
    "$(cat "$RUN/ca0.rules")" "$(cat "$TMP/A+R")"

# guard lists: `deny del` stopped after its read, `deny add` must wait;
# without the lock the add went through and the del, resumed, wrote the
# list count of its stale read (0): the added prefix was not enforced
tf guard ca0 deny add 198.18.9.9 >/dev/null
TCPF_PAUSE_AT=glist:read tf_bg guard ca0 deny del 198.18.9.9 >/dev/null 2>&1
p1=$BG
wait_for 30 stopped $p1 || fail "pause: deny del stopped at glist:read" "it did not stop"
tf_bg guard ca0 deny add 198.18.1.1 >/dev/null 2>&1
p2=$BG
wait_for 30 waiting || fail "deny add waits for deny del" "it did not block"
kill -CONT $p1
wait $p1
wait $p2
check_eq "guard lists, del stopped and add racing: the list" "$(tf guard ca0 deny list)" "198.18.1.1/32"
check_eq "guard lists, del stopped and add racing: the count the data path reads" \
    "$(tf guard ca0 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["lists"]["deny"])')" 1

# the namespace's last detach removes the lock file under a writer that
# waits on it: that writer takes the new file, and a third writer waits
# for it (the old flock file, unlinked by detach, let two run at once)
tf detach ca0 >/dev/null
TCPF_PAUSE_AT=detach:hooks tf_bg detach ca1 >/dev/null 2>&1
p1=$BG
wait_for 30 stopped $p1 || fail "pause: detach stopped at detach:hooks" "it did not stop"
TCPF_PAUSE_AT=lock tf_bg rule add ca1 dport 7 drop >/dev/null 2>&1
p2=$BG
wait_for 30 waiting || fail "pause: rule add waits for detach" "it did not block"
kill -CONT $p1
wait $p1
# (tmpfs may give the new file the removed one's inode number: what
# shows the new file is held is that the third writer waits for it)
check_true "the writer that waited on the removed file takes the lock" "rule add did not stop at its lock" \
    wait_for 30 stopped $p2
tf_bg rule add ca1 dport 8 drop >/dev/null 2>&1
p3=$BG
check_true "a third writer waits for it" "it did not block on $RUN/lock" wait_for 30 waiting
check_true "the third writer has not run" "it finished while the second held the lock" kill -0 $p3
kill -CONT $p2
rcs=""
for p in $p2 $p3; do
    r=0
    wait "$p" || r=$?
    rcs+="$r "
done
check_eq "both then find nothing attached (exit 1)" "$rcs" "1 1 "
in_ns "$NS" ip link del ca0
tf attach "$IF" >/dev/null 2>&1 || fail "attach $IF" "$(tf attach "$IF" 2>&1)"

echo "# concurrency: $((SECONDS - STARTED)) s"
# ------------------------------------------- kill -9: rule add and apply

rules_file "$TMP/base" 1001 1002
tf apply "$IF" "$TMP/base" >/dev/null
check_eq "the saved source is written as this test writes candidates" "$(cat "$RUN/$IF.rules")" "$(cat "$TMP/base")"

# settle CAT WHAT CHOSEN OLD NEW: the repair (the next writer: mostly
# `rule default pass`, a change that keeps the set; every seventh an
# attach) left the one in force at the kill as the saved one
REPAIRS=0
settle() {
    local cat=$1 what=$2 chosen=$3 want
    REPAIRS=$((REPAIRS + 1))
    if [ $((REPAIRS % 7)) = 0 ]; then
        tf attach "$IF" >"$TMP/rep.out" 2>&1 || bad "$cat" "$what" "repair by attach: $(cat "$TMP/rep.out")"
    else
        tf rule default "$IF" pass >"$TMP/rep.out" 2>&1 || bad "$cat" "$what" "repair by rule default: $(cat "$TMP/rep.out")"
    fi
    clean "$cat" "$what"
    if [ "$chosen" = 1 ]; then want=$4; else want=$5; fi
    cmp -s "$RUN/$IF.rules" "$want" || bad "$cat" "$what" "saved after the repair is not the set that was in force ($chosen)"
    [ "$(in_force "$RUN/$IF.rules" "$TMP/none")" = 1 ] || bad "$cat" "$what" "the set in force after the repair is not the saved one"
}

# rules_trial CAT POINT OLD NEW PORTS OLDV NEWV CMD...: kill CMD at POINT;
# the set in force must be OLD (points before the switch), NEW (after),
# either (random); PORTS probed must give OLDV or NEWV accordingly
rules_trial() {
    local cat=$1 point=$2 old=$3 new=$4 ports=$5 oldv=$6 newv=$7 r v want what
    shift 7
    tally "$cat"
    what=$point
    kill_at "$point" "$@"
    [[ $point == rand:* ]] && what="random ${KILL_MS} ms"
    if [[ $point != rand:* ]] && [ "$RC" != 137 ]; then
        bad "$cat" "$what" "not killed (exit $RC): $(cat "$TMP/k.out")"
    fi
    after_kill "$cat" "$what"
    r=$(in_force "$old" "$new")
    case $point in
    lock | rules:saved | rules:set | apply:guard) want=1 ;;
    rules:switched) want=2 ;;
    *) want=$r ;;
    esac
    if [ "$r" != 1 ] && [ "$r" != 2 ]; then
        bad "$cat" "$what" "the set in force is neither the old nor the new one: $r"
        return
    fi
    [ "$r" = "$want" ] || bad "$cat" "$what" "in force: set $r, want $want"
    # shellcheck disable=SC2086
    v=$(probe $ports)
    if [ "$r" = 1 ]; then want=$oldv; else want=$newv; fi
    [ "$v" = "$want" ] || bad "$cat" "$what" "probe verdicts '$v', the set in force ($r) gives '$want'"
    if [ "$RC" = 0 ] && [ "$r" != 2 ]; then
        bad "$cat" "$what" "the command finished, yet the old set is in force"
    fi
    if [ -e "$RUN/$IF.rules.new" ]; then
        if [ "$r" = 2 ]; then
            expect_problem "$cat" "$what" "$PROBS" "^$IF: a rule change was interrupted: the rule set in force is the new one"
        else
            expect_problem "$cat" "$what" "$PROBS" "^$IF: a rule change was interrupted: the rule set in force is the old one"
        fi
    fi
    if [ "$r" = 1 ]; then OLD[$cat]=$((${OLD[$cat]:-0} + 1)); else NEW[$cat]=$((${NEW[$cat]:-0} + 1)); fi
    settle "$cat" "$what" "$r" "$old" "$new"
}

# 44 x rule add: each named point 6 times, 20 random delays (0-60 ms)
plan=()
for p in lock rules:saved rules:set rules:switched; do for _ in 1 2 3 4 5 6; do plan+=("$p"); done; done
for _ in $(seq 20); do plan+=("rand:$((RANDOM % 61))"); done
n=0
for point in "${plan[@]}"; do
    n=$((n + 1))
    port=$((3000 + n))
    cp "$RUN/$IF.rules" "$TMP/old"
    cp "$TMP/old" "$TMP/new"
    echo "rule $(($(grep -c '^rule ' "$TMP/old") + 1)) dport $port drop" >>"$TMP/new"
    rules_trial "rule add" "$point" "$TMP/old" "$TMP/new" "1001 $port" "drop pass" "drop drop" \
        rule add "$IF" dport "$port" drop
done

# 30 x apply, A and B in turn: each named point 4 times, 14 random
rules_file "$TMP/A" $(seq 1101 1120)
rules_file "$TMP/B" $(seq 2101 2120)
tf apply "$IF" "$TMP/A" >/dev/null
plan=()
for p in lock rules:saved rules:set rules:switched; do for _ in 1 2 3 4; do plan+=("$p"); done; done
for _ in $(seq 14); do plan+=("rand:$((RANDOM % 61))"); done
for point in "${plan[@]}"; do
    if cmp -s "$RUN/$IF.rules" "$TMP/A"; then o=$TMP/A nw=$TMP/B ov="drop pass" nv="pass drop"
    else o=$TMP/B nw=$TMP/A ov="pass drop" nv="drop pass"; fi
    rules_trial apply "$point" "$o" "$nw" "1101 2101" "$ov" "$nv" apply "$IF" "$nw"
done

# apply with a guard line, killed between its guard and its rules: the
# guard is the new one, the rules the old (README: the guard line is
# applied first, and is not part of the rule set's switch)
cp "$RUN/$IF.rules" "$TMP/old"
rules_file "$TMP/C" 4101 4102 4103
{ echo "guard monitor port 80"; grep -v '^default' "$TMP/C"; } >"$TMP/G"
kill_at apply:guard apply "$IF" "$TMP/G"
check_eq "apply killed after its guard line: killed" "$RC" 137
check_eq "apply killed after its guard line: the guard is the new one" \
    "$(tf guard "$IF" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["mode"])')" monitor
check_eq "apply killed after its guard line: the rule set is the old one" "$(in_force "$TMP/old" "$TMP/C")" 1
tf guard "$IF" off >/dev/null 2>&1
clean apply "guard line"

echo "# kills of rule add and apply: $((SECONDS - STARTED)) s"
# --------------------------------- kill -9: attach, re-attach and detach

# The attachment goes through a chain: detached (D) or attached with
# rules A (A).  From D an attach --rules A is killed; from A a re-attach
# --rules B or a detach.  Each kill is repaired by an attach (with the
# killed attach's arguments; after a detach, none) or a detach, chosen
# by the seed.
tf detach "$IF" >/dev/null
FRESH=(lock attach:loaded attach:xdp attach:egress attach:rules attach:meta rand)
REATT=(lock attach:loaded attach:xdp attach:egress attach:rules attach:meta rand)
# (the last interface's detach unlinks tcpf_meta, then 20 pins: the
# interface's other 8, then the 12 shared ones; a kill after the 20th
# leaves only the namespace's empty directory and its lock, repaired
# once by a detach, once by an attach)
DET=(lock detach:xdp detach:hooks detach:meta "detach:pin:$((RANDOM % 8 + 1))"
    "detach:pin:$((RANDOM % 11 + 9))" detach:pin:20 detach:pin:20
    rand rand rand rand rand rand)
LAST_PIN_REPAIR=(detach attach)
REPAIR_BY=
STATE=D

# gone CAT WHAT: nothing of the interface left, nor of the namespace
gone() {
    [ -z "$(xdp_id)" ] || bad "$1" "$2" "XDP still attached after detach"
    if tc_on egress || tc_on ingress; then bad "$1" "$2" "a TC hook stays after detach"; fi
    [ ! -e "$PINS" ] || bad "$1" "$2" "pins stay after detach: $(find "$PINS" | tr '\n' ' ')"
    [ ! -e "$RUN" ] || bad "$1" "$2" "$RUN stays after detach: $(find "$RUN" | tr '\n' ' ')"
    [ -z "$(problems)" ] || bad "$1" "$2" "status after the detach: $(problems)"
}

# saved: the saved source; none saved is the empty set
saved() { cat "$RUN/$IF.rules" 2>/dev/null || cat "$TMP/empty"; }

# whole CAT WHAT RULES: attached and recorded, every pin there, RULES
# saved and in force
whole() {
    local xid
    xid=$(xdp_id)
    clean "$1" "$2"
    if [ -z "$xid" ] || [ "$xid" != "$(meta_prog)" ]; then
        bad "$1" "$2" "XDP '$xid', recorded '$(meta_prog)'"
    fi
    tc_on egress || bad "$1" "$2" "no egress observer"
    if [ "$(iface_pins)" != 9 ] || [ "$(shared_pins)" != 12 ]; then
        bad "$1" "$2" "pins: $(iface_pins) + $(shared_pins), want 9 + 12"
    fi
    [ "$(saved)" = "$(cat "$3")" ] || bad "$1" "$2" "saved rules are not $3"
    [ "$(in_force "$3" "$TMP/none")" = 1 ] || bad "$1" "$2" "the rules in force are not $3"
}

# repair CAT WHAT RULES_IF_ATTACHED ATTACH_ARGS...: repair by attach or
# detach (the seed's choice), check the result, set STATE
repair() {
    local cat=$1 what=$2 want=$3
    shift 3
    local by=$REPAIR_BY
    if [ -z "$by" ]; then
        by=detach
        [ $((RANDOM % 2)) = 1 ] || by=attach
    fi
    if [ "$by" = attach ]; then
        tf attach "$IF" "$@" >"$TMP/rep.out" 2>&1 || bad "$cat" "$what" "repair by attach: $(cat "$TMP/rep.out")"
        whole "$cat" "$what" "$want"
        STATE=A
        [ "$want" = "$TMP/A" ] || tf apply "$IF" "$TMP/A" >/dev/null
    else
        # a detach with nothing attached says so (exit 1), having repaired
        tf detach "$IF" >"$TMP/rep.out" 2>&1 || grep -q "$IF is not attached" "$TMP/rep.out" ||
            bad "$cat" "$what" "repair by detach: $(cat "$TMP/rep.out")"
        gone "$cat" "$what"
        STATE=D
    fi
}

# attach_trial CAT POINT OLD NEW ARGS...: from the state of OLD's rules
attach_trial() {
    local cat=$1 point=$2 old=$3 new=$4 what r
    shift 4
    tally "$cat"
    what=$point
    if [ "$point" = rand ]; then point="rand:$((RANDOM % 1200))"; what="random ${point#rand:} ms"; fi
    kill_at "$point" attach "$IF" "$@"
    [[ $point == rand:* ]] || [ "$RC" = 137 ] || bad "$cat" "$what" "not killed (exit $RC): $(cat "$TMP/k.out")"
    after_kill "$cat" "$what"
    r=$(in_force "$old" "$new")
    case $r in
    none | 1) OLD[$cat]=$((${OLD[$cat]:-0} + 1)) ;;
    2) NEW[$cat]=$((${NEW[$cat]:-0} + 1)) ;;
    *) bad "$cat" "$what" "the set in force is neither the old nor the new one: $r" ;;
    esac
    if [[ $point == attach:rules || $point == attach:meta ]] && [ "$r" != 2 ]; then
        bad "$cat" "$what" "killed after its rules went in, yet set $r is in force"
    fi
    repair "$cat" "$what" "$new" "$@"
}

detach_trial() {
    local cat=detach point=$1 what r meta want
    tally "$cat"
    what=$point
    if [ "$point" = rand ]; then point="rand:$((RANDOM % 40))"; what="random ${point#rand:} ms"; fi
    kill_at "$point" detach "$IF"
    [[ $point == rand:* ]] || [ "$RC" = 137 ] || bad "$cat" "$what" "not killed (exit $RC): $(cat "$TMP/k.out")"
    after_kill "$cat" "$what"
    # the old state: attached with A in force; the new: nothing on the hook
    r=$(in_force "$TMP/A" "$TMP/none")
    case $r in
    1) OLD[$cat]=$((${OLD[$cat]:-0} + 1)) ;;
    none) NEW[$cat]=$((${NEW[$cat]:-0} + 1)) ;;
    *) bad "$cat" "$what" "with a program on the hook, its set is not A: $r" ;;
    esac
    case $point in
    lock) [ "$r" = 1 ] || bad "$cat" "$what" "killed before it began, yet $r" ;;
    detach:*) [ "$r" = none ] || bad "$cat" "$what" "killed after XDP came off, yet $r" ;;
    esac
    # an attach after a detach that unpinned tcpf_meta starts over: no
    # rules; before that, the pins and the saved A are kept
    meta=$(meta_prog)
    if [ "$meta" = none ]; then want=$TMP/empty; else want=$TMP/A; fi
    if [ "$point" = detach:pin:20 ]; then
        [ -e "$PINS" ] && [ -z "$(find "$PINS" -mindepth 1)" ] ||
            bad "$cat" "$what" "not the namespace's empty directory: $(find "$PINS" 2>&1 | tr '\n' ' ')"
        expect_problem "$cat" "$what" "$PROBS" "^ns: an empty pin directory"
        REPAIR_BY=${LAST_PIN_REPAIR[0]:-}
        LAST_PIN_REPAIR=("${LAST_PIN_REPAIR[@]:1}")
    fi
    repair "$cat" "$what" "$want"
    REPAIR_BY=
}

rules_file "$TMP/A" 1101 1102 1103
rules_file "$TMP/B" 2101 2102 2103
fi_=0 re_=0 de_=0 guard=0
while [ $fi_ -lt ${#FRESH[@]} ] || [ $re_ -lt ${#REATT[@]} ] || [ $de_ -lt ${#DET[@]} ]; do
    guard=$((guard + 1))
    [ $guard -lt 200 ] || { fail "crash chain" "does not end"; break; }
    if [ $STATE = D ]; then
        if [ $fi_ -lt ${#FRESH[@]} ]; then
            attach_trial attach "${FRESH[$fi_]}" "$TMP/empty" "$TMP/A" --rules "$TMP/A"
            fi_=$((fi_ + 1))
        else
            tf attach "$IF" --rules "$TMP/A" >/dev/null
            STATE=A
        fi
    elif [ $re_ -lt ${#REATT[@]} ] && { [ $de_ -ge ${#DET[@]} ] || [ $((RANDOM % 2)) = 0 ]; }; then
        attach_trial re-attach "${REATT[$re_]}" "$TMP/A" "$TMP/B" --rules "$TMP/B"
        re_=$((re_ + 1))
    elif [ $de_ -lt ${#DET[@]} ]; then
        detach_trial "${DET[$de_]}"
        de_=$((de_ + 1))
    else
        tf detach "$IF" >/dev/null
        STATE=D
    fi
done
[ $STATE = D ] || tf detach "$IF" >/dev/null
gone chain end

total=0
for cat in "rule add" apply attach re-attach detach; do
    total=$((total + ${TRIALS[$cat]:-0}))
    if [ "${BAD[$cat]:-0}" = 0 ]; then
        pass "crash $cat: ${TRIALS[$cat]:-0} kills (old state ${OLD[$cat]:-0}, new ${NEW[$cat]:-0}): explained, old or new exactly, repaired"
    fi
done
check_true "at least 100 seeded kill trials ($total)" "only $total" test "$total" -ge 100

echo "# kills of attach and detach: $((SECONDS - STARTED)) s"
# ------------------------------------------- a deleted namespace's pins

EXTRA_NS="tfst$$"
ip netns add "$EXTRA_NS"
in_ns "$EXTRA_NS" ip link add st0 type veth peer name st1
in_ns "$EXTRA_NS" ip link set st0 up
in_ns "$EXTRA_NS" ip link set st1 up
EXTRA_COOKIE=$(ns_cookie "$EXTRA_NS")
in_ns "$EXTRA_NS" "$TCPF" attach st0 >/dev/null
in_ns "$EXTRA_NS" "$TCPF" rule add st0 dport 7 drop >/dev/null
tf attach "$IF" --rules "$TMP/A" >/dev/null # a live namespace's, kept
before=$(find "$PINS" /run/tcpflags/ns"$COOKIE" | sort | md5sum)
# stale_of COOKIE: its entry in the host's status (only there are the
# stale namespaces listed)
stale_of() {
    "$TCPF" status --json | "$PY" -c 'import json, sys
for s in json.load(sys.stdin).get("stale", []):
    if s["namespace"] == sys.argv[1]:
        print(s["interfaces"], s["pins"], s["saved_rules"])' "ns$1"
}
check_eq "a live namespace's pins are not stale" "$(stale_of "$EXTRA_COOKIE")" ""
ip netns del "$EXTRA_NS"
EXTRA_NS=""
listed() { [ -n "$(stale_of "$EXTRA_COOKIE")" ]; }
wait_for 30 listed
check_eq "status lists the deleted namespace's pins as stale, with what they hold" \
    "$(stale_of "$EXTRA_COOKIE")" "['st0'] 21 1"
check_has "status text names it and the command" "$("$TCPF" status)" "ns$EXTRA_COOKIE" "st0" "tcpflags prune"
check_eq "status in another namespace lists no stale one" \
    "$(tf status --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("stale", "none"))')" none
run "$NS" "$TCPF" prune "ns$COOKIE"
check_err "prune refuses a live namespace" 1 "ns$COOKIE" "live"
run "$NS" "$TCPF" prune "nsx"
check_usage "prune refuses a name that is not a namespace's" "nsx"
run "$NS" "$TCPF" prune "ns$EXTRA_COOKIE"
check_eq "prune NAME: exit 0" "$RC" 0
check_has "prune NAME says what it removed" "$OUT" "ns$EXTRA_COOKIE" "21 pins" "st0"
check_true "prune removed the stale pins" "/sys/fs/bpf/tcpflags/ns$EXTRA_COOKIE stays" \
    test ! -e "/sys/fs/bpf/tcpflags/ns$EXTRA_COOKIE"
check_true "prune removed the stale saved rules" "/run/tcpflags/ns$EXTRA_COOKIE stays" \
    test ! -e "/run/tcpflags/ns$EXTRA_COOKIE"
check_eq "prune touched nothing else (the live namespace's pins and rules)" \
    "$(find "$PINS" /run/tcpflags/ns"$COOKIE" | sort | md5sum)" "$before"
check_eq "status no longer lists it" "$(stale_of "$EXTRA_COOKIE")" ""
run "$NS" "$TCPF" prune "ns$EXTRA_COOKIE"
check_err "prune of what is gone" 1 "nothing of ns$EXTRA_COOKIE"
EXTRA_COOKIE=""
tf detach "$IF" >/dev/null
check_true "the last detach removes the namespace's lock and run directory" "$RUN stays" test ! -e "$RUN"

echo "# 85-crash: $((SECONDS - STARTED)) s"
t_done
