#!/bin/sh
# `make run`: the main job on the embedded default, end to end:
# create a log, append audit events, print the signed checkpoint, prove one
# event, verify the proof offline, then audit the whole log.
#   demo.sh BULWARK
set -eu
BW=$1
DEMO=${BW_DEMO_DIR:-$(mktemp -d /tmp/bulwark-demo.XXXXXX)}
LOG="$DEMO/log"
rm -rf "$LOG"
mkdir -p "$DEMO"

echo "== bulwark log init --dir $LOG --origin bulwark.demo/audit"
"$BW" log init --dir "$LOG" --origin bulwark.demo/audit > "$DEMO/vkey"
echo "verifier key: $(cat "$DEMO/vkey")"

echo
echo "== appending 1000 audit events from a pipe (printed indexes are durable)"
i=0
while [ $i -lt 1000 ]; do
	printf '{"time":"2026-11-23T10:%02d:%02dZ","actor":"vendor%d","action":"ssh.login","target":"host%d","result":"ok"}\n' \
		$((i / 60 % 60)) $((i % 60)) $((i % 7)) $((i % 13))
	i=$((i + 1))
done > "$DEMO/events"
"$BW" log append --dir "$LOG" < "$DEMO/events" > "$DEMO/indexes"
echo "acknowledged $(wc -l < "$DEMO/indexes") events, indexes $(head -1 "$DEMO/indexes")..$(tail -1 "$DEMO/indexes")"

echo
echo "== bulwark log checkpoint"
"$BW" log checkpoint --dir "$LOG"

echo
echo "== bulwark log prove --index 421 (event 421 is:)"
sed -n 422p "$DEMO/events"
sed -n 422p "$DEMO/events" | tr -d '\n' > "$DEMO/entry421"
"$BW" log prove --dir "$LOG" --index 421 > "$DEMO/421.tlog-proof"
cat "$DEMO/421.tlog-proof"

echo
echo "== bulwark log verify-proof (offline: needs only the verifier key)"
"$BW" log verify-proof --vkey "$DEMO/vkey" --entry "$DEMO/entry421" "$DEMO/421.tlog-proof"

echo
echo "== the same proof for an altered event must fail"
sed 's/ssh.login/ssh.logout/' "$DEMO/entry421" > "$DEMO/forged"
if "$BW" log verify-proof --vkey "$DEMO/vkey" --entry "$DEMO/forged" "$DEMO/421.tlog-proof"; then
	echo "forged event accepted: demo FAILED" >&2
	exit 1
fi

echo
echo "== bulwark log audit (recompute everything, prove growth from an old checkpoint)"
cp "$LOG/checkpoint" "$DEMO/trusted-checkpoint"
echo '{"actor":"admin","action":"demo.finished"}' | "$BW" log append --dir "$LOG" >/dev/null
"$BW" log audit --dir "$LOG" --vkey "$DEMO/vkey" --trusted "$DEMO/trusted-checkpoint"
echo
echo "demo files are in $DEMO"
