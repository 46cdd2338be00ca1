#!/bin/sh
# Runs the benchmarks from a release build, each next to its baseline.
#   bench.sh BUILD [BENCH_DIR]
# BENCH_DIR (default /tmp/bulwark-bench) must be on the disk being measured.
set -eu
BUILD=$1
DIR=${2:-${BENCH_DIR:-/tmp/bulwark-bench}}
ENTRIES=${BENCH_ENTRIES:-1000000}
RSS_ENTRIES=${BENCH_RSS_ENTRIES:-10000000}
rm -rf "$DIR" && mkdir -p "$DIR"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(df -h "$DIR" | awk 'NR==2 {print $1}')"
echo "== baseline: openssl speed (same run)"
openssl speed -seconds 2 -evp sha256 2>/dev/null | tail -1
openssl speed -seconds 2 ed25519 2>/dev/null | tail -2
echo
echo "== tlog_bench (in-memory tree, proofs, signatures)"
"$BUILD/tlog_bench"
echo
echo "== log_bench: durable appends of 200-byte entries vs raw write+fdatasync ($ENTRIES entries)"
"$BUILD/log_bench" "$DIR" "$ENTRIES"
echo
echo "== bulwark log append from a pipe ($ENTRIES lines of 200 bytes)"
awk -v n="$ENTRIES" 'BEGIN { pad = sprintf("%190s", ""); gsub(/ /, "x", pad);
	for (i = 0; i < n; i++) printf "%09d%s\n", i, pad }' > "$DIR/lines"
"$BUILD/bulwark" log init --dir "$DIR/cli" --origin bulwark.bench/cli > /dev/null
start=$(date +%s.%N)
"$BUILD/bulwark" log append --dir "$DIR/cli" < "$DIR/lines" > "$DIR/acks"
end=$(date +%s.%N)
echo "$ENTRIES $start $end $(wc -l < "$DIR/acks")" | awk '{ printf "%d entries acknowledged in %.2f s: %.0f appends/s\n", $4, $3 - $2, $1 / ($3 - $2) }'
# (nothing is deleted until the end: see log_bench.c on ext4's recently_deleted)
echo
echo "== patch: agent SHA-256 of a 1 GiB target vs openssl dgst -sha256 on the same file (page cache warm)"
head -c 1073741824 /dev/urandom > "$DIR/target.bin"
openssl dgst -sha256 "$DIR/target.bin" > /dev/null
for i in 1 2 3; do
	start=$(date +%s.%N)
	openssl dgst -sha256 "$DIR/target.bin" > /dev/null
	end=$(date +%s.%N)
	echo "$start $end" | awk '{ printf "openssl dgst -sha256: %.2f s, %.0f MB/s\n", $2 - $1, 1073741824 / ($2 - $1) / 1e6 }'
	"$BUILD/patch_bench" hash "$DIR/target.bin"
done
rm -f "$DIR/target.bin"
echo
echo "== patch: targets metadata verification"
"$BUILD/patch_bench" metadata 10000
echo
echo "== detect: Sigma engine over an event mix vs the JSON parse rate of the same events (one core)"
SIGMA=${BW_SIGMA_DIR:-$(cd "$(dirname "$0")/.." && pwd)/../shared/sigma/rules/linux}
[ -d "$SIGMA" ] || SIGMA=/work/shared/sigma/rules/linux
"$BUILD/detect_bench" "$SIGMA" 200000
echo
echo "== hostev: the agent reading auditd's log vs a plain line read of the same file (one core)"
"$BUILD/hostev_bench" "$DIR" "${BENCH_HOSTEV_LOG_EVENTS:-1000000}"
echo
echo "== witness: cosignatures verified vs raw Ed25519; add-checkpoint (durable) vs raw write+fdatasync"
"$BUILD/witness_bench" "$DIR" 2000
echo
echo "== memory: $RSS_ENTRIES durable appends through the library"
"$BUILD/log_bench" "$DIR" --rss-run "$RSS_ENTRIES"

echo "== log_bench: small commits (one audit event at a time): bytes written per entry vs the raw 202"
"$BUILD/log_bench" "$DIR" --small-commits 4096
echo "== log_bench: recovery of a 1 GiB journal (4,925,469 sequenced, unintegrated entries)"
"$BUILD/log_bench" "$DIR" --recovery 4925469
rm -rf "$DIR"
