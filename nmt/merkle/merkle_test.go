package merkle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// refRoot is cometbft's recursive HashFromByteSlices, transcribed naively.
func refRoot(items [][]byte) []byte {
	switch len(items) {
	case 0:
		s := sha256.Sum256(nil)
		return s[:]
	case 1:
		s := sha256.Sum256(append([]byte{0}, items[0]...))
		return s[:]
	}
	k := 1
	for k*2 < len(items) {
		k *= 2
	}
	l, r := refRoot(items[:k]), refRoot(items[k:])
	s := sha256.Sum256(append(append([]byte{1}, l...), r...))
	return s[:]
}

// refAunts is cometbft's trailsFromByteSlices path for one index, bottom-up.
func refAunts(items [][]byte, index int) [][]byte {
	if len(items) <= 1 {
		return nil
	}
	k := 1
	for k*2 < len(items) {
		k *= 2
	}
	if index < k {
		return append(refAunts(items[:k], index), refRoot(items[k:]))
	}
	return append(refAunts(items[k:], index-k), refRoot(items[:k]))
}

func randomItems(rng *rand.Rand, n int) [][]byte {
	items := make([][]byte, n)
	for i := range items {
		items[i] = make([]byte, rng.IntN(300))
		for j := range items[i] {
			items[i][j] = byte(rng.Uint32())
		}
	}
	return items
}

func TestDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 70; n++ {
		items := randomItems(rng, n)
		want := refRoot(items)
		if got := ComputeRoot(items); !bytes.Equal(got, want) {
			t.Fatalf("n=%d: ComputeRoot = %x, want %x", n, got, want)
		}
		root, proofs := ProveAll(items)
		if !bytes.Equal(root, want) || len(proofs) != n {
			t.Fatalf("n=%d: ProveAll root %x, %d proofs", n, root, len(proofs))
		}
		for i, p := range proofs {
			aunts := p.Aunts()
			wantAunts := refAunts(items, i)
			if len(aunts) != len(wantAunts) {
				t.Fatalf("n=%d i=%d: %d aunts, want %d", n, i, len(aunts), len(wantAunts))
			}
			for j := range aunts {
				if !bytes.Equal(aunts[j], wantAunts[j]) {
					t.Fatalf("n=%d i=%d: aunt %d differs", n, i, j)
				}
			}
			if err := p.Verify(root, items[i]); err != nil {
				t.Fatalf("n=%d i=%d: %v", n, i, err)
			}
			r2, single, err := Prove(items, i)
			if err != nil || !bytes.Equal(r2, root) || !single.Equal(p) {
				t.Fatalf("n=%d i=%d: Prove differs from ProveAll: %v", n, i, err)
			}
		}
	}
	if !bytes.Equal(EmptyHash(), refRoot(nil)) || !bytes.Equal(ComputeLeafHash([]byte("x")), refRoot([][]byte{[]byte("x")})) {
		t.Fatal("EmptyHash or ComputeLeafHash")
	}
	l, r := ComputeLeafHash([]byte("a")), ComputeLeafHash([]byte("b"))
	if !bytes.Equal(ComputeInnerHash(l, r), refRoot([][]byte{[]byte("a"), []byte("b")})) {
		t.Fatal("ComputeInnerHash")
	}
}

func TestMutationsFail(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 5, 8, 13} {
		items := randomItems(rng, n)
		root, proofs := ProveAll(items)
		for i, p := range proofs {
			mustFail := func(what string, err error) {
				t.Helper()
				if err == nil || !errors.Is(err, ErrInvalidProof) {
					t.Fatalf("n=%d i=%d: %s: %v", n, i, what, err)
				}
			}
			for a := range p.Aunts() {
				for j := 0; j < HashSize; j++ {
					aunts := p.Aunts()
					aunts[a][j] ^= 1
					q, err := NewProof(p.Total(), p.Index(), p.LeafHash(), aunts)
					if err != nil {
						t.Fatal(err)
					}
					mustFail("mutated aunt", q.Verify(root, items[i]))
				}
			}
			for j := 0; j < HashSize; j++ {
				lh := p.LeafHash()
				lh[j] ^= 1
				q, _ := NewProof(p.Total(), p.Index(), lh, p.Aunts())
				mustFail("mutated leaf hash", q.Verify(root, items[i]))
				bad := bytes.Clone(root)
				bad[j] ^= 1
				mustFail("mutated root", p.Verify(bad, items[i]))
			}
			mustFail("other item", p.Verify(root, append(bytes.Clone(items[i]), 0)))
			// Every other index with the same total. (Another total can
			// verify: see TestProofDoesNotBindTotal.)
			for total := p.Total(); total == p.Total(); total++ {
				for index := int64(0); index < total; index++ {
					if index == p.Index() {
						continue
					}
					q, err := NewProof(total, index, p.LeafHash(), p.Aunts())
					if err != nil {
						continue
					}
					if err := q.Verify(root, items[i]); err == nil {
						// Only possible if the item really sits there
						// (duplicate items); ours are distinct.
						t.Fatalf("n=%d i=%d: verified as %d of %d", n, i, index, total)
					}
				}
			}
		}
	}
}

// TestProofDoesNotBindTotal pins a property of the RFC-6962 proof format
// (cometbft's too): an aunt that is a leaf hash can stand in for an inner
// node, so the proof of item 1 of 2 also verifies as item 2 of 3. Callers
// must check Total and Index against what they expect.
func TestProofDoesNotBindTotal(t *testing.T) {
	items := [][]byte{[]byte("a"), []byte("b")}
	root, p, _ := Prove(items, 1)
	q, err := NewProof(3, 2, p.LeafHash(), p.Aunts())
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Verify(root, items[1]); err != nil {
		t.Fatalf("expected the documented ambiguity, got %v", err)
	}
}

func TestProofValidation(t *testing.T) {
	h := make([]byte, HashSize)
	tests := []struct {
		name         string
		total, index int64
		leafHash     []byte
		aunts        int
		want         error
	}{
		{"zero total", 0, 0, h, 0, ErrInvalidIndex},
		{"negative index", 4, -1, h, 2, ErrInvalidIndex},
		{"index = total", 4, 4, h, 2, ErrInvalidIndex},
		{"short leaf hash", 4, 1, h[:31], 2, ErrInvalidProof},
		{"too few aunts", 4, 1, h, 1, ErrInvalidProof},
		{"too many aunts", 1, 0, h, 1, ErrInvalidProof},
		{"beyond MaxAunts", 1 << 62, 0, h, MaxAunts + 1, ErrInvalidProof},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			aunts := make([][]byte, tc.aunts)
			for i := range aunts {
				aunts[i] = h
			}
			if _, err := NewProof(tc.total, tc.index, tc.leafHash, aunts); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := NewProof(2, 0, h, [][]byte{h[:5]}); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("short aunt: %v", err)
	}
	// The zero Proof fails cleanly.
	if err := (Proof{}).Verify(h, nil); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("zero proof: %v", err)
	}
	if err := (Proof{}).VerifyLeafHash(h[:3], h); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("short root: %v", err)
	}
	if _, _, err := Prove(nil, 0); !errors.Is(err, ErrInvalidIndex) {
		t.Fatalf("Prove on nothing: %v", err)
	}
	if r, ps := ProveAll(nil); !bytes.Equal(r, EmptyHash()) || ps != nil {
		t.Fatal("ProveAll(nil)")
	}
}

func TestEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	items := randomItems(rng, 6)
	root, proofs := ProveAll(items)
	for _, p := range proofs {
		enc, _ := p.MarshalBinary()
		q, err := ParseProof(enc)
		if err != nil || !q.Equal(p) {
			t.Fatalf("round trip: %v", err)
		}
		if err := q.Verify(root, items[p.Index()]); err != nil {
			t.Fatal(err)
		}
	}
	// Golden: total 6, index 5, leaf hash 0x11…, one aunt 0x22….
	p, err := NewProof(6, 5, bytes.Repeat([]byte{0x11}, 32), [][]byte{bytes.Repeat([]byte{0x22}, 32), bytes.Repeat([]byte{0x33}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	want := "08061005" + "1a20" + strings.Repeat("11", 32) + "2220" + strings.Repeat("22", 32) + "2220" + strings.Repeat("33", 32)
	if enc, _ := p.MarshalBinary(); hex.EncodeToString(enc) != want {
		t.Fatalf("encoding %x", enc)
	}
	h := strings.Repeat("11", 32)
	bad := []struct{ name, hex string }{
		{"empty", ""},
		{"no leaf hash", "0801"},
		{"short leaf hash", "08011a0111"},
		{"negative total", "08ffffffffffffffffff011a20" + h},
		{"index beyond", "080110011a20" + h},
		{"wrong wire type", "0d010000001a20" + h},
		{"truncated", "08011a21" + h},
		{"missing aunt", "080210011a20" + h},
		{"group", "08011a20" + h + "2b"},
	}
	for _, tc := range bad {
		b, _ := hex.DecodeString(tc.hex)
		if _, err := ParseProof(b); !errors.Is(err, ErrInvalidProof) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	b, _ := hex.DecodeString("3001" + "08011a20" + h)
	if q, err := ParseProof(b); err != nil || q.Total() != 1 {
		t.Errorf("unknown field: %v", err)
	}
	if _, err := ParseProof(make([]byte, MaxEncodedProofSize+1)); !errors.Is(err, ErrInvalidProof) {
		t.Error("oversize accepted")
	}
	var many []byte
	many = append(many, 0x08, 0x01)
	for i := 0; i <= MaxAunts; i++ {
		many = append(many, 0x22, 0x20)
		many = append(many, make([]byte, 32)...)
	}
	if _, err := ParseProof(many); !errors.Is(err, ErrInvalidProof) {
		t.Error("too many aunts accepted")
	}
}

// edsVectors reads the merkle parts of eds.json / eds_large.json.
type edsVectors struct {
	NilDAHHash string `json:"nil_dah_hash"`
	MinDAH     struct {
		RowRoots []string `json:"row_roots"`
		ColRoots []string `json:"col_roots"`
		Hash     string   `json:"hash"`
	} `json:"min_dah"`
	Squares []struct {
		K        int      `json:"k"`
		RowRoots []string `json:"row_roots"`
		ColRoots []string `json:"col_roots"`
		DataRoot string   `json:"data_root"`
		Proofs   []struct {
			LeafIndex int64    `json:"leaf_index"`
			Total     int64    `json:"total"`
			Leaf      string   `json:"leaf"`
			LeafHash  string   `json:"leaf_hash"`
			Aunts     []string `json:"aunts"`
			Verified  bool     `json:"verified"`
		} `json:"row_col_root_inclusion_proofs"`
	} `json:"squares"`
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hexList(t testing.TB, ss ...[]string) [][]byte {
	var out [][]byte
	for _, l := range ss {
		for _, s := range l {
			out = append(out, mustHex(t, s))
		}
	}
	return out
}

func TestVectors(t *testing.T) {
	proofs := 0
	for _, file := range []string{"eds.json", "eds_large.json"} {
		data, err := os.ReadFile("../../testdata/vectors/" + file)
		if err != nil {
			t.Fatal(err)
		}
		var v edsVectors
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		if v.NilDAHHash != "" && !bytes.Equal(ComputeRoot(nil), mustHex(t, v.NilDAHHash)) {
			t.Errorf("%s: nil DAH hash", file)
		}
		if v.MinDAH.Hash != "" {
			if got := ComputeRoot(hexList(t, v.MinDAH.RowRoots, v.MinDAH.ColRoots)); !bytes.Equal(got, mustHex(t, v.MinDAH.Hash)) {
				t.Errorf("%s: min DAH hash %x", file, got)
			}
		}
		for _, sq := range v.Squares {
			t.Run(fmt.Sprintf("%s/k=%d", file, sq.K), func(t *testing.T) {
				items := hexList(t, sq.RowRoots, sq.ColRoots)
				dataRoot := mustHex(t, sq.DataRoot)
				if got := ComputeRoot(items); !bytes.Equal(got, dataRoot) {
					t.Fatalf("data root %x, want %s", got, sq.DataRoot)
				}
				_, all := ProveAll(items)
				for _, pv := range sq.Proofs {
					p, err := NewProof(pv.Total, pv.LeafIndex, mustHex(t, pv.LeafHash), hexList(t, pv.Aunts))
					if err != nil {
						t.Fatalf("NewProof(vector %d): %v", pv.LeafIndex, err)
					}
					if err := p.Verify(dataRoot, mustHex(t, pv.Leaf)); (err == nil) != pv.Verified {
						t.Errorf("proof %d: %v, want verified=%v", pv.LeafIndex, err, pv.Verified)
					}
					if !all[pv.LeafIndex].Equal(p) {
						t.Errorf("ProveAll[%d] differs from the vector", pv.LeafIndex)
					}
					if !bytes.Equal(ComputeLeafHash(mustHex(t, pv.Leaf)), mustHex(t, pv.LeafHash)) {
						t.Errorf("leaf hash %d", pv.LeafIndex)
					}
					proofs++
				}
			})
		}
	}
	if proofs == 0 {
		t.Fatal("no inclusion proofs in the vectors")
	}
}

func FuzzParseProof(f *testing.F) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 2, 3, 7, 64} {
		_, ps := ProveAll(randomItems(rng, n))
		for _, p := range ps[:min(len(ps), 3)] {
			enc, _ := p.MarshalBinary()
			f.Add(enc)
		}
	}
	f.Add([]byte{0x08, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProof(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("%v does not wrap ErrInvalidProof", err)
			}
			return
		}
		q, err := NewProof(p.Total(), p.Index(), p.LeafHash(), p.Aunts())
		if err != nil || !q.Equal(p) {
			t.Fatalf("parsed proof fails NewProof: %v", err)
		}
		enc, _ := p.MarshalBinary()
		r, err := ParseProof(enc)
		if err != nil || !r.Equal(p) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzVerify checks soundness against a fixed tree of distinct items: a
// proof that verifies must be the item's true index and total.
func FuzzVerify(f *testing.F) {
	rng := rand.New(rand.NewPCG(9, 10))
	items := randomItems(rng, 11)
	root, ps := ProveAll(items)
	for i, p := range ps {
		enc, _ := p.MarshalBinary()
		f.Add(enc, uint8(i))
	}
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		p, err := ParseProof(b)
		if err != nil {
			return
		}
		item := items[int(which)%len(items)]
		if err := p.Verify(root, item); err == nil {
			// A proof does not bind the total (see TestProofDoesNotBindTotal);
			// for the true total the index must be the item's.
			if p.Total() == int64(len(items)) && p.Index() != int64(which)%int64(len(items)) {
				t.Fatalf("item %d verified as %d of %d", int(which)%len(items), p.Index(), p.Total())
			}
		} else if !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("%v does not wrap ErrInvalidProof", err)
		}
	})
}

// BenchmarkMerkleRoot is the data root over 4k NMT roots of 90 bytes
// (k = 128, 512, and 4096 items).
func BenchmarkMerkleRoot(b *testing.B) {
	for _, n := range []int{512, 2048, 4096} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			items := make([][]byte, n)
			for i := range items {
				items[i] = bytes.Repeat([]byte{byte(i)}, 90)
			}
			b.SetBytes(int64(n * 90))
			b.ReportAllocs()
			for b.Loop() {
				ComputeRoot(items)
			}
		})
	}
}

func BenchmarkMerkleProveAll(b *testing.B) {
	items := make([][]byte, 512)
	for i := range items {
		items[i] = bytes.Repeat([]byte{byte(i)}, 90)
	}
	b.ReportAllocs()
	for b.Loop() {
		ProveAll(items)
	}
}

func BenchmarkMerkleVerify(b *testing.B) {
	items := make([][]byte, 2048)
	for i := range items {
		items[i] = bytes.Repeat([]byte{byte(i)}, 90)
	}
	root, p, _ := Prove(items, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Verify(root, items[1000]); err != nil {
			b.Fatal(err)
		}
	}
}
