#!/bin/bash
# deb.sh - build build/tcpflags_VERSION_ARCH.deb (`make package`).
#
# The tree (tracked and untracked files, not build/) is copied to
# build/deb/src and built there with Debian's hardening flags
# (dpkg-buildflags) and VERSION (scripts/version.sh, or VERSION=...), so
# the binary's --version is the package's; `make install PREFIX=/usr
# DESTDIR=build/deb/root` stages it; man pages and the changelog are
# compressed, the binary stripped; dpkg-shlibdeps finds the shared
# libraries' packages; dpkg-deb builds it with root as every file's owner;
# lintian checks it (its output is printed; an E: line fails the build).
# Reproducible: every file's time, the archive's and the changelog's is
# SOURCE_DATE_EPOCH (the commit's time unless given), so the same tree
# builds the same bytes.
# Conffiles: /etc/default/tcpflags and /etc/tcpflags/tcpflags.rules.example.
# The maintainer scripts create the system user and group tcpflags
# (postinst) and remove them on purge (postrm).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VERSION=${VERSION:-$(scripts/version.sh)}
ARCH=$(dpkg --print-architecture)
W="$ROOT/build/deb"
SRC="$W/src"
STAGE="$W/root"
DEB="$ROOT/build/tcpflags_${VERSION}_${ARCH}.deb"
JOBS=${JOBS:-$(nproc)}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH

rm -rf "$W" "$ROOT"/build/tcpflags_*.deb
mkdir -p "$SRC" "$STAGE/DEBIAN"
if git rev-parse --git-dir >/dev/null 2>&1; then
    git ls-files -co --exclude-standard -z | grep -zv '^build/' |
        xargs -0 cp --parents -t "$SRC"
else
    tar -C "$ROOT" --exclude=./build -cf - . | tar -C "$SRC" -xf -
fi

# build: hardened, this VERSION, the package's own paths
(
    cd "$SRC"
    export DEB_BUILD_MAINT_OPTIONS=hardening=+all
    cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
    ldflags=$(dpkg-buildflags --get LDFLAGS)
    # from the environment, CFLAGS replaces the Makefile's default and
    # keeps what it adds (the link takes CFLAGS: the LDFLAGS go there too)
    export CFLAGS="$cflags $ldflags"
    make -s -j"$JOBS" VERSION="$VERSION" build/tcpflags
    make -s VERSION="$VERSION" PREFIX=/usr DESTDIR="$STAGE" install >/dev/null
)
strip --remove-section=.comment --remove-section=.note --strip-unneeded \
    "$STAGE/usr/sbin/tcpflags"
[ -d "$STAGE/usr/share/man" ] && find "$STAGE/usr/share/man" -type f -exec gzip -9n {} +

# docs: the copyright, the changelog (a native package: changelog.gz)
DOC="$STAGE/usr/share/doc/tcpflags"
mkdir -p "$DOC"
cat >"$DOC/copyright" <<'END'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: tcpflags

Files: *
Copyright: 2025-2026 the tcpflags authors
License: GPL-2.0-only
 This program is free software; you can redistribute it and/or modify it
 under the terms of the GNU General Public License version 2 as published
 by the Free Software Foundation.
 .
 On Debian systems, the full text of the GNU General Public License
 version 2 can be found in the file `/usr/share/common-licenses/GPL-2'.
END
MAINT="tcpflags maintainers <tcpflags@example.org>"
when=$(date -R -u -d "@$SOURCE_DATE_EPOCH")
{
    printf 'tcpflags (%s) unstable; urgency=medium\n\n' "$VERSION"
    printf '  * Built from %s.\n\n' \
        "$(git rev-parse --short HEAD 2>/dev/null || echo 'a source tree')"
    printf ' -- %s  %s\n' "$MAINT" "$when"
} | gzip -9n >"$DOC/changelog.gz"
cp README.md "$DOC/README.md" && gzip -9n "$DOC/README.md"

# the runtime dependencies, as dpkg-shlibdeps finds them
mkdir -p "$W/debian"
printf 'Source: tcpflags\n\nPackage: tcpflags\nArchitecture: any\n' >"$W/debian/control"
shdeps=$(cd "$W" && dpkg-shlibdeps -O "root/usr/sbin/tcpflags" | sed -n 's/^shlibs:Depends=//p')
echo "deb: dpkg-shlibdeps: $shdeps"

# maintainer scripts
cat >"$STAGE/DEBIAN/postinst" <<'END'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    # the exporter's user; the pins' group with TCPFLAGS_ATTACH_OPTS
    if ! getent passwd tcpflags >/dev/null; then
        adduser --system --group --no-create-home --home /nonexistent \
            --gecos "tcpflags exporter" tcpflags >/dev/null
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload >/dev/null || true
    fi
fi
END
cat >"$STAGE/DEBIAN/prerm" <<'END'
#!/bin/sh
set -e
# stop the exporter and the enabled interfaces' units: they detach, the
# counters stay pinned until a reboot
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    for u in tcpflags-exporter.service /etc/systemd/system/*.wants/tcpflags@*.service; do
        [ "$u" = "${u#/}" ] || [ -e "$u" ] || continue
        deb-systemd-invoke stop "${u##*/}" >/dev/null 2>&1 || true
    done
fi
END
cat >"$STAGE/DEBIAN/postrm" <<'END'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
    if getent passwd tcpflags >/dev/null && command -v deluser >/dev/null; then
        deluser --system tcpflags >/dev/null 2>&1 || true
    fi
    if getent group tcpflags >/dev/null && command -v delgroup >/dev/null; then
        delgroup --system tcpflags >/dev/null 2>&1 || true
    fi
    rmdir /etc/tcpflags 2>/dev/null || true
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
fi
END
chmod 0755 "$STAGE/DEBIAN/postinst" "$STAGE/DEBIAN/prerm" "$STAGE/DEBIAN/postrm"
(cd "$STAGE" && find etc -type f | sed 's|^|/|' | sort) >"$STAGE/DEBIAN/conffiles"
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' |
    sort -z | xargs -0 md5sum) >"$STAGE/DEBIAN/md5sums"

size=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat >"$STAGE/DEBIAN/control" <<END
Package: tcpflags
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINT
Installed-Size: $size
Depends: $shdeps, adduser
Section: net
Priority: optional
Homepage: https://example.org/tcpflags
Description: XDP TCP flag classifier, connection tracker and SYN-flood guard
 tcpflags attaches an eBPF/XDP program to a network interface and counts
 every TCP segment by its flag byte, connection phase and state, drops or
 rate-limits by rules changed live and atomically, and guards listeners
 against spoofed SYN floods with SYN cookies answered at XDP.
 .
 It ships systemd units (tcpflags@IFACE.service,
 tcpflags-exporter.service), a terminal dashboard and a Prometheus
 exporter.
END
find "$STAGE" -type d -exec chmod 0755 {} +
find "$STAGE" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
echo "deb: $DEB"

if command -v lintian >/dev/null; then
    lint=$(lintian --tag-display-limit 0 "$DEB" 2>&1 |
        grep -v 'running with root privileges' || true)
    echo "deb: lintian: ${lint:-no complaint}"
    if grep -q '^E: ' <<<"$lint"; then
        echo "deb: lintian reports errors" >&2
        exit 1
    fi
else
    echo "deb: lintian is not installed (scripts/install-deps.sh --test)" >&2
fi
