#!/bin/sh
# Runs every libFuzzer target for SECONDS each, starting from its seed
# corpus (fuzz/corpus/<name>); new inputs go to BUILD/corpus/<name>.
#   fuzz.sh BUILD SECONDS
set -eu
BUILD=$1 SECONDS_EACH=${2:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
status=0
mkdir -p "$BUILD/fuzz-logs"
for src in "$ROOT"/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c | sed 's/^fuzz_//')
	bin="$BUILD/fuzz_$name"
	log="$BUILD/fuzz-logs/$name.log"
	mkdir -p "$BUILD/corpus/$name" "$BUILD/crashes/$name"
	echo "== fuzz_$name for ${SECONDS_EACH}s"
	if ! "$bin" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
		-artifact_prefix="$BUILD/crashes/$name/" \
		"$BUILD/corpus/$name" "$ROOT/fuzz/corpus/$name" 2>"$log"; then
		echo "fuzz_$name FAILED; see $log and $BUILD/crashes/$name/" >&2
		tail -30 "$log" >&2
		status=1
	else
		grep -E "stat::number_of_executed_units|cov:" "$log" | tail -2
	fi
done
exit $status
