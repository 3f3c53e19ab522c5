# shellcheck shell=bash
# netns.sh - the lab topology, shared by scripts/lab.sh and the tests.
#
#   [ns NAME-cli] tcpf-cli 198.19.0.1 2001:2:0:1::1
#          |  veth pair
#   [ns NAME-srv] tcpf-srv 198.19.0.2 2001:2:0:1::2
#
# Addresses are from the RFC 2544 benchmarking range; the namespaces have
# no other interfaces and no routes out, so nothing leaves the machine.

LAB_CLI_IF=tcpf-cli
LAB_SRV_IF=tcpf-srv
LAB_CLI4=198.19.0.1
LAB_SRV4=198.19.0.2
LAB_CLI6=2001:2:0:1::1
LAB_SRV6=2001:2:0:1::2

# lab_up NAME: create NAME-cli and NAME-srv joined by a veth pair.
lab_up() {
    local n=$1
    lab_down "$n"
    ip netns add "$n-cli"
    ip netns add "$n-srv"
    ip -n "$n-cli" link add "$LAB_CLI_IF" type veth peer name "$LAB_SRV_IF" netns "$n-srv"
    local ns addr4 addr6 dev
    for side in cli srv; do
        ns="$n-$side"
        if [ "$side" = cli ]; then dev=$LAB_CLI_IF addr4=$LAB_CLI4 addr6=$LAB_CLI6
        else dev=$LAB_SRV_IF addr4=$LAB_SRV4 addr6=$LAB_SRV6; fi
        ip -n "$ns" link set lo up
        ip -n "$ns" addr add "$addr4/24" dev "$dev"
        ip -n "$ns" addr add "$addr6/64" dev "$dev" nodad
        # offloads would merge or split segments and hide them from a count
        ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off \
            >/dev/null 2>&1 || true
        ip -n "$ns" link set "$dev" up
    done
}

# lab_down NAME: remove both namespaces (and with them the veth pair).
lab_down() {
    local n=$1
    ip netns del "$n-cli" 2>/dev/null || true
    ip netns del "$n-srv" 2>/dev/null || true
}

# flood_lab_up NAME SINK: the lab, made for a spoofed SYN flood from the
# client (scripts/soak.sh, scripts/bench-guard.sh): the server keeps SYN
# cookies and a deep backlog, routes the flood's sources (198.18.0.0/16,
# 2001:2:0:ff::/64) back to the client, where the XDP program SINK
# (build/floodsink.bpf.o) drops the replies.  Sets SRV_MAC, the server
# veth's MAC address, first; empty (and nothing more done) if it cannot
# be read.  Called plainly, so a caller's set -e holds inside.
flood_lab_up() {
    local n=$1 sink=$2
    lab_up "$n"
    SRV_MAC=$(ip -n "$n-srv" -o link show dev "$LAB_SRV_IF" |
              sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
    [ -n "$SRV_MAC" ] || return 0
    in_ns "$n-srv" sysctl -qw net.ipv4.tcp_syncookies=1 \
        net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=1024
    in_ns "$n-srv" ip route add 198.18.0.0/16 via "$LAB_CLI4"
    in_ns "$n-srv" ip -6 route add 2001:2:0:ff::/64 via "$LAB_CLI6"
    ip -n "$n-cli" link set dev "$LAB_CLI_IF" xdpdrv obj "$sink" sec xdp
}

# in_ns NS CMD...: run CMD in a namespace without hiding bpffs
# (`ip netns exec` remounts /sys, which hides /sys/fs/bpf).
in_ns() {
    local ns=$1
    shift
    nsenter --net="/run/netns/$ns" "$@"
}
