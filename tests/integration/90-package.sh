#!/bin/bash
# 90-package.sh - `make install` and the .deb of scripts/deb.sh.
#
#   make install (PREFIX=/usr/local, DESTDIR): the binary, the units with
#     /usr/local/sbin/tcpflags in their Exec lines, /etc/default/tcpflags
#     and the example rules, the man pages of user/ and the files of
#     scripts/prometheus/ (each one there is installed); a second install
#     leaves an edited /etc/default/tcpflags as it was;
#   scripts/deb.sh: build/tcpflags_VERSION_ARCH.deb (VERSION of
#     scripts/version.sh, ARCH of dpkg), lintian with no E: line, built
#     again the same bytes (reproducible);
#     its files are exactly a DESTDIR install with PREFIX=/usr (man pages
#     gzipped) plus copyright, changelog.gz and README.md.gz; conffiles
#     the two of /etc; Depends is what dpkg-shlibdeps says of the packaged
#     binary (run here again), naming libbpf1, libxdp1, libmicrohttpd12
#     and libncursesw6, plus adduser, which the maintainer scripts use;
#     the packaged binary prints the package's version and attaches to a
#     lab veth; its man pages render without a warning.
# Run as root: bash tests/integration/90-package.sh (~40 s: a build)
set -u
. "$(dirname "$0")/../lib.sh"
t_tmp package
cd "$ROOT" || exit 1

# ---- make install
I="$TMP/local"
make -s install DESTDIR="$I" >/dev/null 2>&1
check_true "install: binary" "no $I/usr/local/sbin/tcpflags" [ -x "$I/usr/local/sbin/tcpflags" ]
for u in scripts/systemd/*.service; do
    n=${u##*/}
    got=$(grep -h '^Exec' "$I/usr/local/lib/systemd/system/$n" | grep -o '/[a-z/]*sbin/tcpflags' | sort -u)
    check_eq "install: $n runs PREFIX's binary" "$got" /usr/local/sbin/tcpflags
done
check_eq "install: /etc/default/tcpflags" "$(cat "$I/etc/default/tcpflags")" "$(cat scripts/tcpflags.default)"
check_eq "install: example rules" "$(cat "$I/etc/tcpflags/tcpflags.rules.example")" \
    "$(cat scripts/tcpflags.rules.example)"
for m in user/*.[58]; do
    [ -e "$m" ] || continue
    check_true "install: $m" "not installed" [ -e "$I/usr/local/share/man/man${m##*.}/${m#user/}" ]
done
for f in scripts/prometheus/*; do
    [ -e "$f" ] || continue
    check_true "install: $f" "not installed" [ -e "$I/usr/local/share/tcpflags/prometheus/${f##*/}" ]
done
echo 'TCPFLAGS_EXPORTER_LISTEN=10.0.0.5:9742' >"$I/etc/default/tcpflags"
make -s install DESTDIR="$I" >/dev/null 2>&1
check_eq "install again: /etc/default/tcpflags kept" "$(cat "$I/etc/default/tcpflags")" \
    'TCPFLAGS_EXPORTER_LISTEN=10.0.0.5:9742'

# ---- the .deb
V=$(scripts/version.sh)
ARCH=$(dpkg --print-architecture)
DEB="$ROOT/build/tcpflags_${V}_${ARCH}.deb"
rc=0
scripts/deb.sh >"$TMP/deb.out" 2>&1 || rc=$?
check_eq "deb.sh: exit code" "$rc" 0
check_true "deb.sh: $(basename "$DEB")" "$(tail -n 3 "$TMP/deb.out")" [ -f "$DEB" ]
lint=$(sed -n 's/^deb: lintian: //p' "$TMP/deb.out"; grep '^[EWIPN]: ' "$TMP/deb.out")
check_true "lintian ran" "no lintian line in: $(tail -n 3 "$TMP/deb.out")" [ -n "$lint" ]
check_eq "lintian: no error" "$(grep -c '^E: ' <<<"$lint")" 0
echo "# lintian: $lint"
# reproducible: the same tree again, the same bytes
sum1=$(sha256sum <"$DEB")
scripts/deb.sh >"$TMP/deb2.out" 2>&1 || rc=$?
check_eq "deb.sh again: exit code" "$rc" 0
check_eq "deb.sh again: the same bytes (reproducible)" "$(sha256sum <"$DEB")" "$sum1"
check_eq "control: package version arch" \
    "$(dpkg-deb -f "$DEB" Package Version Architecture | tr '\n' ' ')" \
    "Package: tcpflags Version: $V Architecture: $ARCH "

# what the package holds, against a DESTDIR install of PREFIX=/usr
U="$TMP/usr-install"
make -s install PREFIX=/usr DESTDIR="$U" >/dev/null 2>&1
want=$( (cd "$U" && find . -type f | sed -E 's#^(\./usr/share/man/.*)$#\1.gz#'
         printf '%s\n' ./usr/share/doc/tcpflags/copyright \
             ./usr/share/doc/tcpflags/changelog.gz ./usr/share/doc/tcpflags/README.md.gz) | sort)
got=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ {print $6}' | sort)
check_eq "files: a DESTDIR install and the docs" "$got" "$want"
check_eq "files: all root's" "$(dpkg-deb -c "$DEB" | awk '{print $2}' | sort -u)" root/root
mkdir -p "$TMP/ctl"
dpkg-deb -e "$DEB" "$TMP/ctl"
check_eq "conffiles" "$(cat "$TMP/ctl/conffiles")" \
    "$(printf '/etc/default/tcpflags\n/etc/tcpflags/tcpflags.rules.example')"
check_has "postinst makes the user" "$(cat "$TMP/ctl/postinst")" "adduser --system --group"
check_has "postrm purges the user" "$(cat "$TMP/ctl/postrm")" purge "deluser --system tcpflags"

# Depends: dpkg-shlibdeps of the packaged binary, plus adduser
X="$TMP/x"
dpkg-deb -x "$DEB" "$X"
mkdir -p "$TMP/sh/debian"
printf 'Source: tcpflags\n\nPackage: tcpflags\nArchitecture: any\n' >"$TMP/sh/debian/control"
shdeps=$(cd "$TMP/sh" && dpkg-shlibdeps -O "$X/usr/sbin/tcpflags" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
deps=$(dpkg-deb -f "$DEB" Depends)
check_eq "Depends: dpkg-shlibdeps' and adduser" "$deps" "$shdeps, adduser"
echo "# Depends: $deps"
check_has "Depends: the libraries" "$deps" "libbpf1 " "libxdp1 " "libmicrohttpd12 " "libncursesw6 "

# the packaged binary
check_eq "packaged binary: --version" "$("$X/usr/sbin/tcpflags" --version)" "tcpflags $V"
new_lab
run "$LAB-srv" "$X/usr/sbin/tcpflags" attach "$LAB_SRV_IF"
check_eq "packaged binary: attach" "$RC" 0
check_eq "packaged binary: native XDP" "$(xdp_of "$LAB-srv" "$LAB_SRV_IF" | cut -d' ' -f1)" native
run "$LAB-srv" "$X/usr/sbin/tcpflags" detach "$LAB_SRV_IF"
check_eq "packaged binary: detach" "$RC" 0
for m in "$X"/usr/share/man/man*/*.gz; do
    [ -e "$m" ] || continue
    w=$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
    check_eq "man ${m##*/}: renders without a warning" "$w" ""
done
t_done
