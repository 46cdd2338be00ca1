// Interop peer for bulwark's signed notes and Merkle tree, built against
// Debian's golang.org/x/mod/sumdb/{note,tlog} in GOPATH mode (no network).
//
//	interop keygen NAME             prints signer key, then verifier key
//	interop sign SKEY < text        prints the signed note
//	interop verify VKEY < note      exit 0 and prints text when VKEY signed it
//	interop checkpoint VKEY ROOTHEX ORIGIN < note
//	                                verifies a signed checkpoint and that its root
//	                                equals ROOTHEX and its origin ORIGIN (tlog.ParseTree)
//	interop gen SEED TREES          prints random trees with Go's roots and proofs
//	interop check < vectors         verifies bulwark's roots and proofs with
//	                                tlog.TreeHash, CheckRecord and CheckTree
//	interop tiles DIR VKEY ORIGIN   reads a bulwark log directory through
//	                                tlog.TileHashReader: checkpoint, tree hash,
//	                                record and tree proofs for its entries
//	interop tlogproof VKEY ENTRY PROOF
//	                                checks a bulwark .tlog-proof with CheckRecord
//	interop cosigned LOGVKEY WVKEY < note
//	                                note.Open with the log's key and a cosignature/v1
//	                                verifier (type 0x04, written here): both must verify
//	interop cosign SEEDHEX NAME TIME < note
//	                                prints the note with a Go-made cosignature/v1 line
package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"path/filepath"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "interop: "+format+"\n", args...)
	os.Exit(1)
}

// hashStore holds stored hashes in Go's StoredHashIndex order.
type hashStore []tlog.Hash

func (s hashStore) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(s)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = s[x]
	}
	return out, nil
}

func buildTree(leaves [][]byte) hashStore {
	var s hashStore
	for i, d := range leaves {
		hs, err := tlog.StoredHashes(int64(i), d, s)
		if err != nil {
			die("StoredHashes: %v", err)
		}
		s = append(s, hs...)
	}
	return s
}

func hexList(hs []tlog.Hash) string {
	if len(hs) == 0 {
		return "-"
	}
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = hex.EncodeToString(h[:])
	}
	return strings.Join(parts, ",")
}

func parseHexList(s string) []tlog.Hash {
	if s == "-" {
		return nil
	}
	var out []tlog.Hash
	for _, p := range strings.Split(s, ",") {
		b, err := hex.DecodeString(p)
		if err != nil || len(b) != tlog.HashSize {
			die("bad hash %q", p)
		}
		var h tlog.Hash
		copy(h[:], b)
		out = append(out, h)
	}
	return out
}

func treeHash(s hashStore, n int64) tlog.Hash {
	h, err := tlog.TreeHash(n, s)
	if err != nil {
		die("TreeHash(%d): %v", n, err)
	}
	return h
}

// gen prints trees of random sizes with Go's roots, inclusion and consistency proofs.
func gen(seed int64, trees int) {
	rng := rand.New(rand.NewSource(seed))
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for t := 0; t < trees; t++ {
		n := 1 + rng.Intn(1100)
		if t < 4 {
			n = []int{1, 2, 256, 257}[t]
		}
		leaves := make([][]byte, n)
		fmt.Fprintf(w, "tree %d\n", n)
		for i := range leaves {
			leaves[i] = make([]byte, rng.Intn(64))
			rng.Read(leaves[i])
			fmt.Fprintf(w, "leaf %s\n", hexOrDash(leaves[i]))
		}
		s := buildTree(leaves)
		for k := 0; k < 40; k++ {
			size := int64(1 + rng.Intn(n))
			h := treeHash(s, size)
			fmt.Fprintf(w, "root %d %s\n", size, hex.EncodeToString(h[:]))
			idx := rng.Int63n(size)
			p, err := tlog.ProveRecord(size, idx, s)
			if err != nil {
				die("ProveRecord: %v", err)
			}
			fmt.Fprintf(w, "incl %d %d %s\n", idx, size, hexList(p))
			old := 1 + rng.Int63n(size)
			tp, err := tlog.ProveTree(size, old, s)
			if err != nil {
				die("ProveTree: %v", err)
			}
			fmt.Fprintf(w, "cons %d %d %s\n", old, size, hexList(tp))
		}
		fmt.Fprintf(w, "end\n")
	}
}

func hexOrDash(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

// check reads bulwark's trees, roots and proofs and verifies them with Go.
func check(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var leaves [][]byte
	var s hashStore
	var nroot, nincl, ncons int
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "tree":
			leaves = nil
			s = nil
		case "leaf":
			b := []byte{}
			if f[1] != "-" {
				var err error
				if b, err = hex.DecodeString(f[1]); err != nil {
					die("bad leaf")
				}
			}
			leaves = append(leaves, b)
		case "end":
		case "root", "incl", "cons":
			if s == nil {
				s = buildTree(leaves)
			}
			switch f[0] {
			case "root":
				size, _ := strconv.ParseInt(f[1], 10, 64)
				h := treeHash(s, size)
				if hex.EncodeToString(h[:]) != f[2] {
					die("root of size %d differs: go %x bulwark %s", size, h, f[2])
				}
				nroot++
			case "incl":
				idx, _ := strconv.ParseInt(f[1], 10, 64)
				size, _ := strconv.ParseInt(f[2], 10, 64)
				p := tlog.RecordProof(parseHexList(f[3]))
				if err := tlog.CheckRecord(p, size, treeHash(s, size), idx, tlog.RecordHash(leaves[idx])); err != nil {
					die("CheckRecord(%d in %d) rejects bulwark's proof: %v", idx, size, err)
				}
				nincl++
			case "cons":
				old, _ := strconv.ParseInt(f[1], 10, 64)
				size, _ := strconv.ParseInt(f[2], 10, 64)
				p := tlog.TreeProof(parseHexList(f[3]))
				if err := tlog.CheckTree(p, size, treeHash(s, size), old, treeHash(s, old)); err != nil {
					die("CheckTree(%d -> %d) rejects bulwark's proof: %v", old, size, err)
				}
				ncons++
			}
		default:
			die("unknown line %q", f[0])
		}
	}
	if nroot == 0 || nincl == 0 || ncons == 0 {
		die("no vectors checked")
	}
	fmt.Printf("go checked %d roots, %d inclusion proofs, %d consistency proofs from bulwark\n", nroot, nincl, ncons)
}

// dirTiles reads C2SP tlog-tiles files: Go's tile path minus the "8/" height element.
// A partial tile that was superseded is served from the full tile, truncated.
type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return 8 }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		b, err := os.ReadFile(filepath.Join(d.dir, p))
		if os.IsNotExist(err) && t.W < 256 {
			full := t
			full.W = 256
			b, err = os.ReadFile(filepath.Join(d.dir, strings.Replace(full.Path(), "tile/8/", "tile/", 1)))
			if err == nil {
				b = b[:t.W*tlog.HashSize]
			}
		}
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func openCheckpoint(note64 []byte, vkey, origin string) tlog.Tree {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		die("NewVerifier: %v", err)
	}
	n, err := note.Open(note64, note.VerifierList(v))
	if err != nil {
		die("checkpoint: %v", err)
	}
	parts := strings.SplitN(n.Text, "\n", 2)
	if len(parts) != 2 || parts[0] != origin {
		die("checkpoint origin %q, want %q", parts[0], origin)
	}
	tree, err := tlog.ParseTree([]byte("go.sum database tree\n" + parts[1]))
	if err != nil {
		die("ParseTree: %v", err)
	}
	return tree
}

func readEntry(dir string, size, i int64) []byte {
	n := i / 256
	w := size - n*256
	if w > 256 {
		w = 256
	}
	t := tlog.Tile{H: 8, L: 0, N: n, W: int(w)}
	p := strings.Replace(t.Path(), "tile/8/0/", "tile/entries/", 1)
	b, err := os.ReadFile(filepath.Join(dir, p))
	if err != nil {
		die("entry bundle: %v", err)
	}
	for k := int64(0); ; k++ {
		l := int(b[0])<<8 | int(b[1])
		if k == i%256 {
			return b[2 : 2+l]
		}
		b = b[2+l:]
	}
}

func tiles(dir, vkey, origin string) {
	cp, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		die("%v", err)
	}
	tree := openCheckpoint(cp, vkey, origin)
	r := tlog.TileHashReader(tree, dirTiles{dir})
	h, err := tlog.TreeHash(tree.N, r)
	if err != nil || h != tree.Hash {
		die("TreeHash over bulwark's tiles: %v (%x vs %x)", err, h, tree.Hash)
	}
	rng := rand.New(rand.NewSource(tree.N))
	nrec, ntree := 0, 0
	for k := 0; k < 200; k++ {
		i := rng.Int63n(tree.N)
		if k < 3 {
			i = []int64{0, tree.N - 1, tree.N / 2}[k]
		}
		p, err := tlog.ProveRecord(tree.N, i, r)
		if err != nil {
			die("ProveRecord(%d): %v", i, err)
		}
		if err := tlog.CheckRecord(p, tree.N, tree.Hash, i, tlog.RecordHash(readEntry(dir, tree.N, i))); err != nil {
			die("CheckRecord(%d) against bulwark's entry: %v", i, err)
		}
		nrec++
		old := 1 + rng.Int63n(tree.N)
		tp, err := tlog.ProveTree(tree.N, old, r)
		if err != nil {
			die("ProveTree(%d): %v", old, err)
		}
		oh, err := tlog.TreeHash(old, r)
		if err != nil {
			die("TreeHash(%d): %v", old, err)
		}
		if err := tlog.CheckTree(tp, tree.N, tree.Hash, old, oh); err != nil {
			die("CheckTree(%d): %v", old, err)
		}
		ntree++
	}
	fmt.Printf("go read bulwark's tiles: size %d, %d record proofs and %d tree proofs checked\n", tree.N, nrec, ntree)
}

// tlogproof checks a c2sp.org/tlog-proof@v1 file written by bulwark.
func tlogproof(vkey, entryPath, proofPath string) {
	entry, err := os.ReadFile(entryPath)
	if err != nil {
		die("%v", err)
	}
	b, err := os.ReadFile(proofPath)
	if err != nil {
		die("%v", err)
	}
	head, cp, ok := strings.Cut(string(b), "\n\n")
	if !ok {
		die("tlog-proof: no blank line")
	}
	lines := strings.Split(head, "\n")
	if lines[0] != "c2sp.org/tlog-proof@v1" || !strings.HasPrefix(lines[1], "index ") {
		die("tlog-proof: bad header")
	}
	idx, err := strconv.ParseInt(strings.TrimPrefix(lines[1], "index "), 10, 64)
	if err != nil {
		die("tlog-proof: bad index")
	}
	var p tlog.RecordProof
	for _, l := range lines[2:] {
		raw, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(raw) != tlog.HashSize {
			die("tlog-proof: bad hash line")
		}
		var h tlog.Hash
		copy(h[:], raw)
		p = append(p, h)
	}
	v, _ := note.NewVerifier(vkey)
	tree := openCheckpoint([]byte(cp), vkey, v.Name())
	if err := tlog.CheckRecord(p, tree.N, tree.Hash, idx, tlog.RecordHash(entry)); err != nil {
		die("CheckRecord: %v", err)
	}
	fmt.Printf("go verified bulwark's tlog-proof for entry %d at size %d\n", idx, tree.N)
}

// addcheckpoint checks a tlog-witness add-checkpoint request as a witness
// would, with Go's tlog.CheckTree: "old N", the consistency proof, a blank
// line, the new checkpoint signed by vkey; the old checkpoint (a file) is the
// one the witness holds.
func addcheckpoint(vkey, oldPath string) {
	req := readStdin()
	head, cp, ok := strings.Cut(string(req), "\n\n")
	if !ok {
		die("add-checkpoint: no blank line")
	}
	lines := strings.Split(head, "\n")
	if !strings.HasPrefix(lines[0], "old ") {
		die("add-checkpoint: no old line")
	}
	old, err := strconv.ParseInt(strings.TrimPrefix(lines[0], "old "), 10, 64)
	if err != nil {
		die("add-checkpoint: bad old size")
	}
	var p tlog.TreeProof
	for _, l := range lines[1:] {
		raw, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(raw) != tlog.HashSize {
			die("add-checkpoint: bad hash line %q", l)
		}
		var h tlog.Hash
		copy(h[:], raw)
		p = append(p, h)
	}
	v, _ := note.NewVerifier(vkey)
	tree := openCheckpoint([]byte(cp), vkey, v.Name())
	ob, err := os.ReadFile(oldPath)
	if err != nil {
		die("%v", err)
	}
	oldTree := openCheckpoint(ob, vkey, v.Name())
	if oldTree.N != old {
		die("the request's old size %d is not the old checkpoint's %d", old, oldTree.N)
	}
	if err := tlog.CheckTree(p, tree.N, tree.Hash, oldTree.N, oldTree.Hash); err != nil {
		die("CheckTree: %v", err)
	}
	fmt.Printf("go verified the consistency proof from %d to %d\n", oldTree.N, tree.N)
}

// cosigVerifier checks c2sp.org/tlog-cosignature (cosignature/v1) lines; x/mod knows only type 0x01.
type cosigVerifier struct {
	name string
	hash uint32
	pk   ed25519.PublicKey
}

func (v cosigVerifier) Name() string    { return v.name }
func (v cosigVerifier) KeyHash() uint32 { return v.hash }
func (v cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 72 {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	m := fmt.Sprintf("cosignature/v1\ntime %d\n", t) + string(msg)
	return ed25519.Verify(v.pk, []byte(m), sig[8:])
}

func cosigKeyHash(name string, pk []byte) uint32 {
	h := sha256.Sum256(append(append([]byte(name+"\n"), 0x04), pk...))
	return binary.BigEndian.Uint32(h[:4])
}

func newCosigVerifier(vkey string) cosigVerifier {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		die("cosigner key %q: want NAME+HASH+KEY", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		die("cosigner key %q: want base64 of 0x04 and 32 bytes", vkey)
	}
	v := cosigVerifier{parts[0], cosigKeyHash(parts[0], raw[1:]), ed25519.PublicKey(raw[1:])}
	if fmt.Sprintf("%08x", v.hash) != parts[1] {
		die("cosigner key %q: key hash %08x", vkey, v.hash)
	}
	return v
}

func readStdin() []byte {
	b, err := io.ReadAll(os.Stdin)
	if err != nil {
		die("read stdin: %v", err)
	}
	return b
}

func main() {
	if len(os.Args) < 2 {
		die("usage: interop keygen|sign|verify|checkpoint|gen|check ...")
	}
	switch os.Args[1] {
	case "keygen":
		skey, vkey, err := note.GenerateKey(nil, os.Args[2])
		if err != nil {
			die("GenerateKey: %v", err)
		}
		fmt.Printf("%s\n%s\n", skey, vkey)
	case "sign":
		s, err := note.NewSigner(os.Args[2])
		if err != nil {
			die("NewSigner: %v", err)
		}
		msg, err := note.Sign(&note.Note{Text: string(readStdin())}, s)
		if err != nil {
			die("Sign: %v", err)
		}
		os.Stdout.Write(msg)
	case "verify", "checkpoint":
		v, err := note.NewVerifier(os.Args[2])
		if err != nil {
			die("NewVerifier: %v", err)
		}
		n, err := note.Open(readStdin(), note.VerifierList(v))
		if err != nil {
			die("Open: %v", err)
		}
		if os.Args[1] == "checkpoint" {
			// tlog.ParseTree parses the C2SP checkpoint body but insists on
			// the sumdb origin line; check ours, then hand it the rest.
			parts := strings.SplitN(n.Text, "\n", 2)
			if len(parts) != 2 || parts[0] != os.Args[4] {
				die("checkpoint origin %q, want %q", parts[0], os.Args[4])
			}
			tree, err := tlog.ParseTree([]byte("go.sum database tree\n" + parts[1]))
			if err != nil {
				die("ParseTree: %v", err)
			}
			if hex.EncodeToString(tree.Hash[:]) != os.Args[3] {
				die("checkpoint root %x, want %s", tree.Hash, os.Args[3])
			}
			fmt.Printf("go verified checkpoint: size %d root %s\n", tree.N, hex.EncodeToString(tree.Hash[:]))
			return
		}
		fmt.Print(n.Text)
	case "gen":
		seed, _ := strconv.ParseInt(os.Args[2], 10, 64)
		trees, _ := strconv.Atoi(os.Args[3])
		gen(seed, trees)
	case "check":
		check(os.Stdin)
	case "tiles":
		tiles(os.Args[2], os.Args[3], os.Args[4])
	case "tlogproof":
		tlogproof(os.Args[2], os.Args[3], os.Args[4])
	case "cosigned":
		lv, err := note.NewVerifier(os.Args[2])
		if err != nil {
			die("NewVerifier: %v", err)
		}
		n, err := note.Open(readStdin(), note.VerifierList(lv, newCosigVerifier(os.Args[3])))
		if err != nil {
			die("Open: %v", err)
		}
		if len(n.Sigs) != 2 {
			die("%d signatures verified, want the log's and the cosignature", len(n.Sigs))
		}
		fmt.Print(n.Text)
	case "addcheckpoint":
		addcheckpoint(os.Args[2], os.Args[3])
	case "cosign":
		seed, err := hex.DecodeString(os.Args[2])
		if err != nil || len(seed) != 32 {
			die("seed: want 64 hex digits")
		}
		t, _ := strconv.ParseUint(os.Args[4], 10, 63)
		msg := readStdin()
		i := strings.LastIndex(string(msg), "\n\n")
		if i < 0 {
			die("not a signed note")
		}
		text := string(msg[:i+1])
		priv := ed25519.NewKeyFromSeed(seed)
		sig := ed25519.Sign(priv, []byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)+text))
		raw := make([]byte, 4, 76)
		binary.BigEndian.PutUint32(raw, cosigKeyHash(os.Args[3], priv.Public().(ed25519.PublicKey)))
		raw = binary.BigEndian.AppendUint64(raw, t)
		raw = append(raw, sig...)
		os.Stdout.Write(msg)
		fmt.Printf("\u2014 %s %s\n", os.Args[3], base64.StdEncoding.EncodeToString(raw))
	default:
		die("unknown command %q", os.Args[1])
	}
}
