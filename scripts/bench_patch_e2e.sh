#!/bin/sh
# End-to-end patch transfer on loopback: publish a 1 GiB target to a fresh server (streamed
# upload over HTTPS), then `bulwark agent update` downloads, hashes, checks the log proof and
# places it; prints times, rates and the agent's peak RSS.
#   bench_patch_e2e.sh BUILD [DIR]
set -eu
BUILD=$(cd "$1" && pwd)
DIR=${2:-${BENCH_DIR:-/tmp/bulwark-bench-patch}}
BW=$BUILD/bulwark
PORT=${BENCH_PORT:-18447}
rm -rf "$DIR" && mkdir -p "$DIR" && cd "$DIR"
BULWARK_ADMIN_PASSWORD="bench password 123" "$BW" init --data data --origin bulwark.bench/patch > init.out 2>&1
SECRET=$(grep -o 'secret=[A-Z2-7]*' init.out | head -1 | cut -d= -f2)
"$BW" serve --data data --listen 127.0.0.1:$PORT 2> serve.log &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
sleep 1
export BULWARK_SERVER=https://127.0.0.1:$PORT BULWARK_CACERT=$DIR/data/tls/cert.pem
BULWARK_TOKEN=$(curl -s --cacert "$BULWARK_CACERT" "$BULWARK_SERVER/api/v1/login" -H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"bench password 123\",\"otp\":\"$(oathtool --totp -b "$SECRET")\"}" |
	sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
export BULWARK_TOKEN
echo "$BULWARK_TOKEN" > token
"$BW" patch keys --out keys > /dev/null
"$BW" patch keygen --out r1.key > /dev/null
"$BW" patch root init --out root.json --root-key r1.key --threshold 1 --snapshot-key keys/snapshot.pub \
	--timestamp-key keys/timestamp.pub 2> /dev/null
"$BW" patch sign --key r1.key root.json
head -c 1073741824 /dev/urandom > target.bin
"$BW" patch add target.bin --targets targets.json --version 1 2> /dev/null
"$BW" patch sign --key r1.key targets.json
start=$(date +%s.%N)
"$BW" patch publish --targets targets.json --root root.json target.bin > /dev/null 2>&1
end=$(date +%s.%N)
echo "$start $end" | awk '{ printf "publish (hash + streamed upload + verify + log) of 1 GiB: %.2f s, %.0f MB/s\n", $2 - $1, 1073741824 / ($2 - $1) / 1e6 }'
SHA=$(sha256sum target.bin | cut -d' ' -f1)
start=$(date +%s.%N)
curl -s --cacert "$BULWARK_CACERT" -o curl.bin "$BULWARK_SERVER/patch/targets/$SHA.target.bin"
end=$(date +%s.%N)
echo "$start $end" | awk '{ printf "baseline: curl download of the same target (no checks, no fsync): %.2f s, %.0f MB/s\n", $2 - $1, 1073741824 / ($2 - $1) / 1e6 }'
rm -f curl.bin
CODE=$("$BW" host add web1 --address 127.0.0.1 --accounts root --json | sed -n 's/.*"enrolment_code": "\([^"]*\)".*/\1/p')
"$BW" agent init --state agent --server "$BULWARK_SERVER" --cacert "$BULWARK_CACERT" --root root.json \
	--log-key keys/log.vkey --host web1 --enrol-code "$CODE" > /dev/null
start=$(date +%s.%N)
/usr/bin/time -f "%M" -o agent.rss "$BW" agent update --state agent > agent.out
end=$(date +%s.%N)
grep -q "1 installed" agent.out || { cat agent.out; exit 1; }
cmp -s target.bin agent/installed/target.bin || { echo "installed file differs" >&2; exit 1; }
echo "$start $end $(cat agent.rss)" | awk '{ printf "agent update (TUF + download + SHA-256 + log proof + fsync) of 1 GiB: %.2f s, %.0f MB/s, peak RSS %.1f MiB\n", $2 - $1, 1073741824 / ($2 - $1) / 1e6, $3 / 1024 }'
