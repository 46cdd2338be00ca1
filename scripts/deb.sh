#!/bin/sh
# The Debian packages, built from a copy of the tree (dpkg-buildpackage writes
# beside the source it builds): OUTDIR/bulwark_V_ARCH.deb, bulwark-server_V_all.deb,
# bulwark-agent_V_all.deb (and their .changes).
#   scripts/deb.sh OUTDIR
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$1
VERSION=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
SRC="$OUT/bulwark-$VERSION"
rm -rf "$SRC"
mkdir -p "$SRC"
OUT=$(cd "$OUT" && pwd)
SRC="$OUT/bulwark-$VERSION"
# the tree's files (committed or not, never what .gitignore names: build directories, data)
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$SRC")
(cd "$SRC" && dpkg-buildpackage -us -uc -b)
ls "$OUT"/*.deb
