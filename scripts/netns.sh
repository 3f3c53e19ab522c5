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

# in_ns NS CMD...: run CMD in a namespace without hiding bpffs
# (`ip netns exec` remounts /sys, which hides /sys/fs/bpf).
in_ns() {
    local ns=$1
    shift
    nsenter --net="/run/netns/$ns" "$@"
}
