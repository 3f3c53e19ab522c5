#!/bin/sh
# version.sh - the version tcpflags and its package carry, on stdout.
# A tag vX.Y.Z gives X.Y.Z (git describe: X.Y.Z-N-gHASH becomes
# X.Y.Z+N.gHASH); no tag gives 0~gitN.HASH (N commits); a change not
# committed adds +dirty.  Every form is a Debian upstream version.  Outside
# a git tree it prints 0~dev: a build from a tarball passes VERSION=...
# to make, as scripts/deb.sh does.
cd "$(dirname "$0")/.." || exit 1
if ! git rev-parse --git-dir >/dev/null 2>&1; then
    echo 0~dev
    exit 0
fi
dirty=
git diff --quiet HEAD 2>/dev/null || dirty=+dirty
if d=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
    v=$(echo "${d#v}" | sed -E 's/-([0-9]+)-g([0-9a-f]+)$/+\1.g\2/')
else
    v="0~git$(git rev-list --count HEAD).$(git rev-parse --short HEAD)"
fi
echo "$v$dirty"
