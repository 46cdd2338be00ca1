#!/bin/sh
# The dashboard in Debian's chromium: playwright-core and axe-core from the npm registry at the versions of
# package-lock.json (npm ci), then dashboard_test.mjs against a real server.
#   run.sh BULWARK WORKDIR
set -eu
BW=$1 WORK=$2
SRC=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$WORK"
cp "$SRC/package.json" "$SRC/package-lock.json" "$SRC/dashboard_test.mjs" "$WORK/"
cd "$WORK"
npm ci --no-audit --no-fund --silent >/dev/null 2>&1 || npm ci --no-audit --no-fund
BW_TESTS_DIR="$SRC/.." exec node dashboard_test.mjs "$BW" "$WORK/run"
