#!/bin/sh
# TUF interop: @tufjs/models (from the npm registry) verifies root metadata that
# `bulwark patch` created and signed, rejects it below threshold and when tampered,
# and agrees with bulwark's canonical JSON.
#   tufjs_test.sh BULWARK WORKDIR
set -eu
BW=$1 WORK=$2
SRC=$(cd "$(dirname "$0")" && pwd)
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
fail() { echo "tufjs interop FAIL: $*" >&2; exit 1; }
cp "$SRC/tufjs_check.mjs" .
printf '{"private":true,"type":"module"}\n' > package.json
npm install --no-audit --no-fund --silent @tufjs/models@5.0.2 @tufjs/canonical-json@2.0.0 >/dev/null 2>&1 \
	|| npm install --no-audit --no-fund @tufjs/models@5.0.2 @tufjs/canonical-json@2.0.0

for k in r1 r2 r3 snap ts; do "$BW" patch keygen --out $k.key > $k.pub; done
"$BW" patch root init --out root.json --root-key r1.key --root-key r2.key --root-key r3.pub --threshold 2 \
	--snapshot-key snap.pub --timestamp-key ts.pub 2>/dev/null
"$BW" patch sign --key r1.key root.json
if node tufjs_check.mjs root.json 2>/dev/null; then fail "tuf-js accepted 1 of 2 signatures"; fi
"$BW" patch sign --key r2.key root.json
node tufjs_check.mjs root.json || fail "tuf-js rejected bulwark's root signed by 2 of 3"
sed 's/"version": 1/"version": 2/' root.json > tampered.json
if node tufjs_check.mjs tampered.json 2>/dev/null; then fail "tuf-js accepted tampered metadata"; fi
# Canonical JSON: bulwark's signatures verify in tuf-js only if both canonicalize alike; check
# the bytes directly too, on a document with nested objects, escapes and non-ASCII text.
printf '{"b":[1,{"z":"x\\"y\\\\z","a":null}],"a":"\\u00e9t\\u00e9","c":true}' > doc.json
node tufjs_check.mjs --canonical doc.json > tufjs.canon
"$BW" patch canonical doc.json > bulwark.canon
cmp -s tufjs.canon bulwark.canon || fail "bulwark and tuf-js canonicalize differently"
node tufjs_check.mjs --canonical root.json > tufjs-root.canon
"$BW" patch canonical root.json > bulwark-root.canon
cmp -s tufjs-root.canon bulwark-root.canon || fail "bulwark and tuf-js canonicalize root.json differently"
# Root rotation 1 -> 2 to keys r2, r3, r4: signed by 2 of the old and 2 of the new root keys.
"$BW" patch keygen --out r4.key > r4.pub
"$BW" patch root init --out root2.json --version 2 --root-key r2.pub --root-key r3.key --root-key r4.key \
	--threshold 2 --snapshot-key snap.pub --timestamp-key ts.pub 2>/dev/null
"$BW" patch sign --key r3.key root2.json
"$BW" patch sign --key r4.key root2.json
if "$BW" patch verify-rotation root.json root2.json 2>/dev/null; then fail "bulwark accepted a rotation the old root did not sign"; fi
if node tufjs_check.mjs --rotation root.json root2.json 2>/dev/null; then fail "tuf-js accepted a rotation the old root did not sign"; fi
"$BW" patch sign --key r1.key root2.json
"$BW" patch sign --key r2.key root2.json
"$BW" patch verify-rotation root.json root2.json >/dev/null || fail "bulwark rejected a valid rotation"
node tufjs_check.mjs --rotation root.json root2.json || fail "tuf-js rejected bulwark's rotation"
# Targets (offline): a patch file signed by the targets keys (here the root keys, threshold 2).
head -c 100000 /dev/urandom > hotfix-4.2.tar
"$BW" patch add hotfix-4.2.tar --targets targets.json --version 4.2 --group default 2>/dev/null
"$BW" patch sign --key r1.key targets.json
if node tufjs_check.mjs --targets root.json targets.json hotfix-4.2.tar hotfix-4.2.tar 2>/dev/null; then
	fail "tuf-js accepted targets below threshold"; fi
"$BW" patch sign --key r2.key targets.json
"$BW" patch verify --root root.json --role targets targets.json >/dev/null || fail "bulwark rejected its targets"
node tufjs_check.mjs --targets root.json targets.json hotfix-4.2.tar hotfix-4.2.tar || fail "tuf-js rejected the targets"
printf 'x' >> hotfix-4.2.tar
if node tufjs_check.mjs --targets root.json targets.json hotfix-4.2.tar hotfix-4.2.tar 2>/dev/null; then
	fail "tuf-js accepted a file that differs from its target entry"; fi
# The online roles: snapshot (names targets v1) and timestamp (names snapshot by length and hash).
"$BW" patch snapshot --targets targets.json --out snapshot.json --version 1
"$BW" patch sign --key snap.key snapshot.json
"$BW" patch timestamp --snapshot snapshot.json --out timestamp.json --version 1
"$BW" patch sign --key ts.key timestamp.json
node tufjs_check.mjs --online root.json snapshot.json timestamp.json targets.json || fail "tuf-js rejected the online roles"
# The same JSON with one more byte: the timestamp's length and hash no longer match it.
cp snapshot.json snapshot-changed.json && printf ' ' >> snapshot-changed.json
if node tufjs_check.mjs --online root.json snapshot-changed.json timestamp.json targets.json 2>/dev/null; then
	fail "tuf-js accepted a snapshot whose bytes differ from the timestamp's hash"; fi
"$BW" patch sign --key r1.key timestamp.json   # a root key is not a timestamp key
"$BW" patch verify --root root.json --role timestamp timestamp.json >/dev/null || fail "timestamp lost its valid signature"
echo "tufjs interop: all checks passed"
