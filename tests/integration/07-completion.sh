#!/bin/bash
# 07-completion.sh - the bash completion `tcpflags completion bash` prints,
# driven the way bash drives it: a non-interactive bash sources it, checks
# `complete -p tcpflags`, sets COMP_WORDS, COMP_CWORD, COMP_LINE and
# COMP_POINT, calls the function and compares COMPREPLY exactly: commands,
# subcommands, every command's options (against `completion list`, and a
# few written out), option values, interfaces and the attached ones in a
# lab namespace, rule ids after `rule add` and `rule del`, a rule's words,
# the guard's words, and file names.  As a user that cannot run `status`,
# every interface is offered instead.
set -u
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
t_tmp completion

"$TCPF" completion bash >"$TMP/tcpflags.bash"
check_eq "completion bash exits 0" "$?" 0
check_rc "the script is bash (bash -n)" 0 bash -n "$TMP/tcpflags.bash"
"$TCPF" completion list >"$TMP/list"

# The driver: `t NAME EXPECTED WORD...` completes the last WORD (empty:
# a new word) of the line WORD... and compares COMPREPLY, in order (`ts`:
# sorted, for file names, which come in the directory's order).
cat >"$TMP/drive.sh" <<'EOF'
# shellcheck shell=bash disable=SC2034
failed=0
t() {
    local name=$1 want=$2 got
    shift 2
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _tcpflags tcpflags "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    if [ -n "${sorted-}" ]; then
        got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
        got=${got% }
    else
        got="${COMPREPLY[*]}"
    fi
    if [ "$got" = "$want" ] && [ ${#COMPREPLY[@]} -eq "$(wc -w <<<"$want")" ]; then
        echo "PASS $name"
    else
        echo "FAIL $name: got '$got' (${#COMPREPLY[@]}), want '$want'"
        failed=$((failed + 1))
    fi
}
ts() { local sorted=1; t "$@"; }
EOF

# cases SCRIPT: run the cases in SCRIPT (t lines) in a fresh bash that
# sourced the completion, with build/ first on PATH (the script runs the
# `tcpflags` of the line for status and rule ids), in the lab's server
# namespace, as root
# shellcheck disable=SC2016
RUN_CASES='. "$1" || exit 1; . "$2"; . "$3"; exit "$failed"'
cases() {
    srv env PATH="$BUILD:$PATH" bash -c "$RUN_CASES" \
        _ "$TMP/tcpflags.bash" "$TMP/drive.sh" "$1"
}

# ---- what the tables say, to compare with
cmds=$(awk -F'\t' '$1 == "command" && $2 !~ / / { printf "%s ", $2 }' "$TMP/list")
cmds=${cmds% }
opts_of() {    # the long options of a command --help would show, and --help
    awk -F'\t' -v c="$1" '$1 == "option" && $2 == c && $6 !~ /hidden/ {
        printf "%s ", $3 } END { print "--help" }' "$TMP/list"
}
words_of() {   # the rule words of these kinds, in the tool's order
    awk -F'\t' -v k=" $* " '$1 == "rule" && index(k, " " $2 " ") { printf "%s ", $3 }' \
        "$TMP/list" | sed 's/ $//'
}
states=$(awk -F'\t' '$1 == "rule" && $2 == "state" && $3 != "none" { printf "%s ", $3 }' \
         "$TMP/list")
states=${states% }

new_lab
mkdir -p "$TMP/files/sub"
touch "$TMP/files/a.rules" "$TMP/files/b.rules" "$TMP/files/other"

{
    # the registration, checked once
    # shellcheck disable=SC2016
    echo 'got=$(complete -p tcpflags); if [ "$got" = "complete -F _tcpflags tcpflags" ]; then echo "PASS complete -p tcpflags: $got"; else echo "FAIL complete -p tcpflags: $got"; failed=$((failed + 1)); fi'
    echo "t 'commands' '$cmds' tcpflags ''"
    echo "t 'commands: st' 'status stats' tcpflags st"
    echo "t 'commands after -v' 'rule reset' tcpflags -v r"
    echo "t 'global options' '-v -vv --version -h --help' tcpflags -"
    echo "t 'rule: its subcommands' 'add del list flush default' tcpflags rule ''"
    echo "t 'rule: d' 'del default' tcpflags rule d"
    echo "t 'no such command: nothing' '' tcpflags bogus ''"
    # options: every command's, as its table has them
    awk -F'\t' '$1 == "command" && $2 != "rule" { print $2 }' "$TMP/list" |
    while read -r c; do
        # shellcheck disable=SC2086
        echo "t '$c: its options' '$(opts_of "$c")' tcpflags $c --"
    done
    echo "t 'stats: options, written out' '--json --watch --help' tcpflags stats --"
    echo "t 'attach: --mode' '--mode' tcpflags attach x --mo"
    echo "t 'attach: -- after its IFACE' '--mode --ingress-only --no-flows --flows --half-open --timeout --rules --group --help' tcpflags attach x --"
    echo "t 'guard: options after the mode' '--port' tcpflags guard x cookie --po"
    echo "t 'rule add: an option before IFACE' '--help' tcpflags rule add --"
    echo "t 'top: no hidden option' '--interval --help' tcpflags top --"
    # option values
    echo "t 'attach --mode' 'native skb' tcpflags attach x --mode ''"
    echo "t 'attach -m s' 'skb' tcpflags attach x -m s"
    echo "t 'attach --mode=' 'native skb' tcpflags attach x --mode ="
    echo "t 'attach --mode=n' 'native' tcpflags attach x --mode = n"
    echo "t 'attach --flows N: nothing' '' tcpflags attach x --flows ''"
    echo "t 'attach --timeout' '$(for s in $states; do printf '%s= ' "$s"; done | sed 's/ $//')' tcpflags attach x --timeout ''"
    echo "t 'attach --timeout syn_r' 'syn_recv=' tcpflags attach x --timeout syn_r"
    echo "t 'attach --timeout syn_recv=: nothing' '' tcpflags attach x --timeout syn_recv = ''"
    echo "t 'flows --state' '$states' tcpflags flows x --state ''"
    echo "t 'flows --state fin' 'fin_wait1 fin_wait2' tcpflags flows x -s fin"
    echo "t 'guard --engage' 'cookie auth' tcpflags guard x --engage ''"
    echo "t 'attach --group: groups' 'nogroup' tcpflags attach x --group nogr"
    echo "t 'rule default: pass|drop' 'pass drop' tcpflags rule default x ''"
    echo "t 'completion: bash|list' 'bash list' tcpflags completion ''"
    echo "t 'exporter --listen: nothing' '' tcpflags exporter --listen ''"
    # files
    echo "t 'apply FILE' '$TMP/files/a.rules' tcpflags apply x $TMP/files/a"
    echo "ts 'apply FILE: every file of a directory' '$TMP/files/a.rules $TMP/files/b.rules $TMP/files/other $TMP/files/sub' tcpflags apply x $TMP/files/"
    echo "t 'apply FILE: a directory' '$TMP/files/sub' tcpflags apply x $TMP/files/s"
    echo "t 'attach --rules FILE' '$TMP/files/other' tcpflags attach x --rules $TMP/files/o"
    echo "t 'apply: no third argument' '' tcpflags apply x $TMP/files/a.rules ''"
    # the rule language
    echo "t 'rule add: the words' '$(words_of priority match action preset)' tcpflags rule add x ''"
    echo "t 'rule add: -- words' '--priority --tcp-flags --syn' tcpflags rule add x --"
    echo "t 'rule add: phase' '$(words_of phase)' tcpflags rule add x phase ''"
    echo "t 'rule add: phase list' 'reset,handshake_syn reset,handshake_synack reset,handshake_ack' tcpflags rule add x phase reset,ha"
    echo "t 'rule add: state' '$(words_of state)' tcpflags rule add x --syn state ''"
    echo "t 'rule add: --tcp-flags MASK' '$(words_of flag)' tcpflags rule add x --tcp-flags ''"
    echo "t 'rule add: --tcp-flags COMP' 'SYN,RST' tcpflags rule add x --tcp-flags SYN,RST SYN,R"
    echo "t 'rule add: after --tcp-flags MASK COMP' 'synfin synrst' tcpflags rule add x --tcp-flags SYN,ACK SYN syn"
    echo "t 'rule add: src PFX: nothing' '' tcpflags rule add x src ''"
    echo "t 'rule add: ratelimit RATE: nothing' '' tcpflags rule add x --syn ratelimit ''"
    echo "t 'rule add: after ratelimit RATE' 'burst per' tcpflags rule add x --syn ratelimit 10/s ''"
    echo "t 'rule add: after burst N' 'per' tcpflags rule add x --syn ratelimit 10/s burst 5 ''"
    echo "t 'rule add: per' 'src src/ global' tcpflags rule add x --syn ratelimit 10/s per ''"
    echo "t 'rule add: after per WHO: nothing' '' tcpflags rule add x --syn ratelimit 10/s per src ''"
    echo "t 'rule add: after drop: nothing' '' tcpflags rule add x nullscan drop ''"
    echo "t 'rule add: after a bad word: nothing' '' tcpflags rule add x bogus ''"
    # the guard's words
    echo "t 'guard: modes and lists' 'off monitor ratelimit auth cookie auto allow deny' tcpflags guard x ''"
    echo "t 'guard: a' 'auth auto allow' tcpflags guard x a"
    echo "t 'guard allow: its actions' 'add del list flush' tcpflags guard x allow ''"
    echo "t 'guard cookie: nothing more' '' tcpflags guard x cookie ''"
} >"$TMP/static.t"
cases "$TMP/static.t"

# ---- interfaces: the lab namespace's (lo and the veth), whatever
# /sys/class/net shows; attached: what `status` lists, none yet
{
    echo "t 'attach IFACE: this namespace' 'lo $LAB_SRV_IF' tcpflags attach ''"
    echo "t 'attach IFACE: t' '$LAB_SRV_IF' tcpflags attach t"
    echo "t 'attach: no second IFACE' '' tcpflags attach $LAB_SRV_IF ''"
    echo "t 'stats IFACE: none attached' '' tcpflags stats ''"
} >"$TMP/ifaces.t"
cases "$TMP/ifaces.t"

srv "$TCPF" attach "$LAB_SRV_IF" >/dev/null 2>&1
check_eq "attach $LAB_SRV_IF" "$?" 0
for r in "nullscan drop" "xmas drop" "--syn dport 80 count" "synfin drop"; do
    # shellcheck disable=SC2086
    srv "$TCPF" rule add "$LAB_SRV_IF" $r >/dev/null
done
srv "$TCPF" rule del "$LAB_SRV_IF" 2 >/dev/null
{
    for c in detach stats flows reset apply guard "rule list" "rule flush" \
             "rule del" "rule add" "rule default"; do
        echo "t '$c IFACE: the attached one' '$LAB_SRV_IF' tcpflags $c ''"
    done
    echo "t 'top IFACE...' '$LAB_SRV_IF' tcpflags top ''"
    echo "t 'top IFACE...: each once' '' tcpflags top $LAB_SRV_IF ''"
    echo "t 'exporter IFACE... after --listen' '$LAB_SRV_IF' tcpflags exporter --listen 127.0.0.1 : 9742 ''"
    echo "t 'rule del ID: ids 1 3 4 after del 2' '1 3 4' tcpflags rule del $LAB_SRV_IF ''"
    echo "t 'rule del ID: 3' '3' tcpflags rule del $LAB_SRV_IF 3"
    echo "t 'rule del ID: not another interface' '' tcpflags rule del lo ''"
    echo "t 'rule del: after ID nothing' '' tcpflags rule del $LAB_SRV_IF 1 ''"
} >"$TMP/attached.t"
cases "$TMP/attached.t"
srv "$TCPF" rule flush "$LAB_SRV_IF" >/dev/null
echo "t 'rule del ID: none after flush' '' tcpflags rule del $LAB_SRV_IF ''" >"$TMP/flushed.t"
cases "$TMP/flushed.t"

# ---- as a user who may not read the pins (root's alone: no --group),
# `status` is refused, so every interface is offered
chmod 755 "$TMP" "$TMP/files"
chmod 644 "$TMP/tcpflags.bash" "$TMP/drive.sh"
echo "t 'stats IFACE as nobody: every interface' 'lo $LAB_SRV_IF' tcpflags stats ''" >"$TMP/user.t"
chmod 644 "$TMP/user.t"
nobody() { srv setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
check_rc "status as nobody: refused" 1 nobody "$TCPF" status --json
out=$(nobody env PATH="$BUILD:$PATH" bash -c "$RUN_CASES" \
      _ "$TMP/tcpflags.bash" "$TMP/drive.sh" "$TMP/user.t" 2>&1)
echo "$out"
grep -q '^PASS ' <<<"$out" || fail "completion as nobody" "ran no case: $out"
grep -q '^FAIL ' <<<"$out" && T_FAILED=$((T_FAILED + 1))

srv "$TCPF" detach "$LAB_SRV_IF" >/dev/null
[ "$T_FAILED" -eq 0 ]
