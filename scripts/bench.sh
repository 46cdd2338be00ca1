#!/bin/sh
# Runs the benchmarks from a release build, each next to its baseline.
#   bench.sh BUILD
set -eu
BUILD=$1
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== baseline: openssl speed (same run)"
openssl speed -seconds 2 -evp sha256 2>/dev/null | tail -1
openssl speed -seconds 2 ed25519 2>/dev/null | tail -2
echo "== tlog_bench"
"$BUILD/tlog_bench"
