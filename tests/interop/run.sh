#!/bin/sh
# Go interop: bulwark vs golang.org/x/mod/sumdb/{note,tlog} (Debian packages).
#   run.sh BULWARK TLOG_VECTORS WORKDIR
# (a) Go verifies a checkpoint note that bulwark signed (and rejects it tampered),
# (b) bulwark verifies notes Go signed, and signs with a Go-generated key,
# (c) both agree on roots and proofs of random trees, each verifying the other's,
# (d) Go's tile reader reads a log bulwark wrote and checks its proofs and tlog-proof files,
# (e) cosignatures both ways, (f) add-checkpoint requests and cosigned proofs.
set -eu
BW=$1 VEC=$2 WORK=$3
SRC=$(cd "$(dirname "$0")" && pwd)
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$WORK"

GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$WORK/gocache" GOFLAGS= \
	go build -o interop "$SRC/interop.go"

fail() { echo "interop FAIL: $*" >&2; exit 1; }

# (c) trees and proofs, both directions.
./interop gen 20261123 24 > go.vec
"$VEC" --checkpoint cp.body --origin bulwark.test/interop < go.vec > bw.vec || fail "bulwark rejected Go's vectors"
./interop check < bw.vec || fail "Go rejected bulwark's vectors"
# A corrupted bulwark proof must make Go's check fail (the check is not vacuous).
awk '/^incl / && !done && $4 != "-" { sub(/^./, ($4 ~ /^0/ ? "1" : "0"), $4); done=1 } 1' bw.vec > bad.vec
if ./interop check < bad.vec 2>/dev/null; then fail "Go accepted a corrupted proof"; fi

# (a) Go verifies a checkpoint that bulwark signed.
vkey=$("$BW" note keygen --name bulwark.test/interop --out bw.key)
"$BW" note sign --key bw.key cp.body > cp.note
root=$(sed -n 3p cp.body | base64 -d | od -An -tx1 | tr -d ' \n')
./interop checkpoint "$vkey" "$root" bulwark.test/interop < cp.note || fail "Go rejected bulwark's checkpoint"
sed '2s/^./X/' cp.note > cp.bad
if ./interop verify "$vkey" < cp.bad >/dev/null 2>&1; then fail "Go accepted a tampered checkpoint"; fi

# (b) bulwark verifies a note signed by Go, and Go verifies one bulwark signed with Go's key.
./interop keygen go.test/witness > go.keys
gskey=$(sed -n 1p go.keys) gvkey=$(sed -n 2p go.keys)
printf 'go.test/witness\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n' > text
./interop sign "$gskey" < text > go.note
"$BW" note verify --vkey "$gvkey" go.note > out.text || fail "bulwark rejected Go's note"
cmp -s out.text text || fail "bulwark returned other text"
if "$BW" note verify --vkey "$vkey" go.note >/dev/null 2>&1; then fail "bulwark accepted a note with no trusted signature"; fi
printf '%s\n' "$gskey" > go.key
"$BW" note sign --key go.key text > bw-go.note
./interop verify "$gvkey" < bw-go.note > /dev/null || fail "Go rejected bulwark's note signed with a Go key"
# Signatures are deterministic (Ed25519): both produce the same bytes.
cmp -s go.note bw-go.note || fail "bulwark and Go signed the same text differently"
# Two signers: Go verifies with either key.
"$BW" note sign --key go.key --key bw.key text > two.note
./interop verify "$gvkey" < two.note > /dev/null || fail "Go rejected a two-signature note"
./interop verify "$vkey" < two.note > /dev/null || fail "Go rejected a two-signature note (second key)"
# (e) cosignature/v1 (c2sp.org/tlog-cosignature), both ways, on the witness research's deterministic
# vector (log seed SHA-256("bulwark log test vector seed"), witness seed SHA-256("bulwark cosignature
# test vector seed"), time 1679315147): bulwark and Go make the same bytes, and each verifies the other's.
printf 'PRIVATE+KEY+example.com/behind-the-sofa+d6dafaf3+ARSjV8Y4YEnBcFq/SCkHc5MfC0tB4HoPZ1GAAw4VaBph\n' > vlog.key
printf 'PRIVATE+KEY+witness.example/w1+12a1b963+BCigkxo8ztGK0Njcs/0jhFFzb39Qah5y/64Y2NqqDf/X\n' > vw.key
vlog=example.com/behind-the-sofa+d6dafaf3+AZU2viD/T/fLVm7FunZaztjdixFRCvPoq1CwqzK0lvCc
vw=witness.example/w1+12a1b963+BLU+isP0s2cXmXdZt5cAm2QmMzdLKdIjBWnggnQpvLfw
printf 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n' > vcp.body
"$BW" note sign --key vlog.key vcp.body > vcp.note
"$BW" note cosign --key vw.key --time 1679315147 vcp.note > bw-cosigned.note
wseed=28a0931a3cced18ad0d8dcb3fd238451736f7f506a1e72ffae18d8daaa0dffd7
./interop cosign "$wseed" witness.example/w1 1679315147 < vcp.note > go-cosigned.note
cmp -s bw-cosigned.note go-cosigned.note || fail "bulwark and Go cosigned the vector differently"
grep -q '^— witness.example/w1 EqG5YwAAAABkGFDLFKfa/090tgQAvTo/v1Wr4M/1QbJ7swlwqiy61KfNnkZJrXDTLLxkZLjvMD7vMnh3AhP2jh1jnGe4frwMPkC/Ag==$' \
	bw-cosigned.note || fail "the cosignature is not the research's vector"
./interop cosigned "$vlog" "$vw" < bw-cosigned.note > /dev/null || fail "Go rejected bulwark's cosignature"
./interop verify "$vlog" < bw-cosigned.note > /dev/null || fail "Go's note.Open did not ignore the cosignature as an unknown key"
"$BW" note verify --vkey "$vw" go-cosigned.note > /dev/null || fail "bulwark rejected Go's cosignature"
./interop cosign "$wseed" witness.example/w1 1679315148 < vcp.note | sed '$s/.\{10\}==$/AAAAAAAAAA==/' > bad-cosig.note
if "$BW" note verify --vkey "$vw" bad-cosig.note > err.txt 2>&1; then fail "bulwark accepted a damaged cosignature"; fi
grep -q "invalid signature for key witness.example/w1+12a1b963" err.txt || fail "a damaged cosignature was not named"
sed 's/^20852163$/20852164/' bw-cosigned.note > moved.note
if ./interop cosigned "$vlog" "$vw" < moved.note > /dev/null 2>&1; then fail "Go accepted a cosignature over another size"; fi

# (d) Go's TileHashReader reads a log bulwark wrote (tile paths, tiles, entries, checkpoint).
"$BW" log init --dir log --origin bulwark.test/tiles > log.vkey
awk 'BEGIN { for (i = 0; i < 70000; i++) printf "{\"seq\":%d,\"action\":\"interop\"}\n", i }' \
	| "$BW" log append --dir log --batch 9000 > /dev/null
./interop tiles log "$(cat log.vkey)" bulwark.test/tiles || fail "Go rejected bulwark's tiles"
printf '{"seq":69999,"action":"interop"}' > entry69999
"$BW" log append --dir log --batch 10 < text > /dev/null   # grow past it: partials superseded
./interop tiles log "$(cat log.vkey)" bulwark.test/tiles || fail "Go rejected bulwark's tiles after growth"
"$BW" log prove --dir log --index 69999 > 69999.tlog-proof
./interop tlogproof "$(cat log.vkey)" entry69999 69999.tlog-proof || fail "Go rejected bulwark's tlog-proof"
printf '{"seq":69999,"action":"interoq"}' > forged
if ./interop tlogproof "$(cat log.vkey)" forged 69999.tlog-proof 2>/dev/null; then fail "Go accepted a forged entry"; fi

# (f) the add-checkpoint request bulwark sends a witness (log consistency: what `log witness` and the server
# send) is checked by Go's tlog.CheckTree from the checkpoint the witness holds, and a tlog-proof under a
# cosigned checkpoint still verifies in Go (note.Open ignores the cosignature as an unknown key).
"$BW" log checkpoint --dir log > old.note
"$BW" log append --dir log --batch 10 < cp.body > /dev/null
"$BW" log consistency --dir log --old "$(sed -n 2p old.note)" > request
./interop addcheckpoint "$(cat log.vkey)" old.note < request || fail "Go rejected bulwark's add-checkpoint proof"
awk 'NR == 2 && /^[A-Za-z0-9+\/]+=*$/ { $0 = (substr($0, 1, 1) == "A" ? "B" : "A") substr($0, 2) } 1' request > bad-request
cmp -s request bad-request && fail "the damaged request is unchanged"
if ./interop addcheckpoint "$(cat log.vkey)" old.note < bad-request 2>/dev/null; then
	fail "Go accepted a damaged consistency proof"
fi
"$BW" note keygen --name witness.example/w2 --out w2.key --cosigner > w2.vkey
"$BW" note cosign --key w2.key log/checkpoint > cosigned.note
cp cosigned.note log/checkpoint.cosigned
"$BW" log prove --dir log --index 69999 > cosigned.tlog-proof
grep -q "^— witness.example/w2 " cosigned.tlog-proof || fail "log prove did not use the cosigned checkpoint"
./interop tlogproof "$(cat log.vkey)" entry69999 cosigned.tlog-proof || fail "Go rejected a tlog-proof with a cosignature"
echo "interop: all checks passed"
