#!/bin/sh
# Install the Debian packages tcpflags needs to build and run its lab, and
# with --test those its tests need too.
# Idempotent: when everything is present it only runs dpkg-query and exits.
set -eu

PKGS="make gcc clang llvm pkg-config libbpf-dev libxdp-dev libelf-dev zlib1g-dev
      linux-libc-dev bpftool iproute2 ethtool tcpdump tshark nmap hping3
      python3 python3-scapy curl procps util-linux nftables iptables
      libmicrohttpd-dev libncurses-dev tmux iputils-ping"
# promtool checks the exporter's output and scripts/prometheus/ (check
# rules, test rules, check config); Debian ships it in the prometheus
# package, whose server is installed with it but not started (below).
# clang-16 and clang-19 are the verifier matrix's other compilers
# (scripts/verify.sh, `make verify`).  mandoc, man-db and groff-base lint
# and render the man pages (tests/integration/06-man.sh).  dpkg-dev and
# lintian build and check the .deb (scripts/deb.sh); systemd's
# systemd-analyze verifies the units (86-systemd).  cppcheck, clang-tidy
# and shellcheck are `make lint`'s (scripts/lint.sh); libclang-rt-14-dev
# the ASan and UBSan runtimes of `make SAN=1` (clang 14's; only
# recommended by it, so not installed with it here).
if [ "${1:-}" = --test ]; then
    PKGS="$PKGS prometheus clang-16 clang-19 dpkg-dev lintian systemd"
    PKGS="$PKGS mandoc man-db groff-base"
    PKGS="$PKGS cppcheck clang-tidy shellcheck libclang-rt-14-dev"
fi

missing=""
for p in $PKGS; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# only the packages' tools are wanted: no service they bring starts here
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
