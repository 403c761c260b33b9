package dataset

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/tessera-da/tessera/nmt/merkle"
	"github.com/tessera-da/tessera/share"
)

// testKey is a fixed publisher key (no global randomness in tests either).
func testKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

// testObject returns deterministic object bytes.
func testObject(n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	return data
}

// buildManifest builds a signed manifest for data as if each page had been
// published at height 100+i.
func buildManifest(t testing.TB, data []byte, pageSize uint64) (*Manifest, [][]byte) {
	t.Helper()
	pages, err := Split(data, pageSize)
	if err != nil {
		t.Fatal(err)
	}
	dsID := sha256.Sum256([]byte("test dataset"))
	ns, err := Namespace(DatasetPages, dsID[:])
	if err != nil {
		t.Fatal(err)
	}
	m := &Manifest{
		ObjectLength: uint64(len(data)),
		PageSize:     pageSize,
		MediaType:    "application/octet-stream",
		Name:         "tiny-shakespeare",
		Version:      "1.0.0",
		Parents:      []ID{sha256.Sum256([]byte("parent"))},
		Transform:    "dedupe@sha256:abcd",
		Source:       Source{URI: "hf://datasets/example/tiny", Revision: "c0ffee", SHA256: sha256.Sum256(data)},
		License:      "CC-BY-4.0",
		RecordFormat: "tokens-u32",
	}
	for i, p := range pages {
		e := PageEntry{Index: uint64(i), Height: 100 + uint64(i), Namespace: ns, Length: uint64(len(p)), SHA256: sha256.Sum256(p)}
		e.Commitment = sha256.Sum256(append([]byte("commitment"), p...))
		m.Entries = append(m.Entries, e)
	}
	if len(pages) > 1 {
		m.Holdout = []uint64{0, uint64(len(pages) - 1)}
	}
	if err := m.Sign(testKey(1)); err != nil {
		t.Fatal(err)
	}
	return m, pages
}

func TestManifestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size     int
		pageSize uint64
	}{
		{"empty", 0, 16},
		{"one page", 10, 16},
		{"exact pages", 64, 16},
		{"partial last", 70, 16},
		{"many pages", 1000, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := buildManifest(t, testObject(tc.size), tc.pageSize)
			if err := m.Verify(); err != nil {
				t.Fatal(err)
			}
			enc, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseManifest(enc)
			if err != nil {
				t.Fatal(err)
			}
			if err := got.Verify(); err != nil {
				t.Fatal(err)
			}
			enc2, err := got.MarshalBinary()
			if err != nil || !bytes.Equal(enc, enc2) {
				t.Fatalf("re-encoding differs (%v)", err)
			}
			id1, _ := m.ID()
			id2, _ := got.ID()
			body := enc[:len(enc)-1-ed25519.SignatureSize]
			if id1 != id2 || id1 != sha256.Sum256(body) {
				t.Fatal("ID is not SHA-256 of the unsigned encoding")
			}
		})
	}
}

func TestManifestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(m *Manifest)
	}{
		{"page size 0", func(m *Manifest) { m.PageSize = 0 }},
		{"page size too big", func(m *Manifest) { m.PageSize = MaxPageSize + 1 }},
		{"missing entry", func(m *Manifest) { m.Entries = m.Entries[1:] }},
		{"extra entry", func(m *Manifest) { m.Entries = append(m.Entries, m.Entries[0]) }},
		{"wrong index", func(m *Manifest) { m.Entries[1].Index = 2 }},
		{"wrong length", func(m *Manifest) { m.Entries[0].Length-- }},
		{"object length", func(m *Manifest) { m.ObjectLength++ }},
		{"reserved namespace", func(m *Manifest) { m.Entries[0].Namespace = reservedNS() }},
		{"holdout order", func(m *Manifest) { m.Holdout = []uint64{2, 1} }},
		{"holdout duplicate", func(m *Manifest) { m.Holdout = []uint64{1, 1} }},
		{"holdout range", func(m *Manifest) { m.Holdout = []uint64{uint64(len(m.Entries))} }},
		{"long string", func(m *Manifest) { m.Name = string(make([]byte, MaxStringLen+1)) }},
		{"bad utf8", func(m *Manifest) { m.License = "\xff" }},
		{"too many parents", func(m *Manifest) { m.Parents = make([]ID, MaxParents+1) }},
		{"short key", func(m *Manifest) { m.PublisherKey = m.PublisherKey[:31] }},
		{"short signature", func(m *Manifest) { m.Signature = m.Signature[:63] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := buildManifest(t, testObject(100), 16)
			tc.mutate(m)
			if err := m.Validate(); !errors.Is(err, ErrInvalidManifest) {
				t.Fatalf("Validate = %v, want ErrInvalidManifest", err)
			}
			if _, err := m.MarshalBinary(); !errors.Is(err, ErrInvalidManifest) {
				t.Fatalf("MarshalBinary = %v, want ErrInvalidManifest", err)
			}
			if err := m.Verify(); err == nil {
				t.Fatal("Verify accepted an invalid manifest")
			}
		})
	}
}

func TestManifestTooManyPages(t *testing.T) {
	m := &Manifest{ObjectLength: MaxPages + 1, PageSize: 1, PublisherKey: make([]byte, 32)}
	if err := m.Validate(); !errors.Is(err, ErrInvalidManifest) {
		t.Fatalf("Validate = %v", err)
	}
}

func TestManifestSignature(t *testing.T) {
	m, _ := buildManifest(t, testObject(100), 16)
	unsigned := *m
	unsigned.Signature = nil
	if err := unsigned.Verify(); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("unsigned: %v", err)
	}
	other := *m
	other.PublisherKey = testKey(2).Public().(ed25519.PublicKey)
	if err := other.Verify(); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("other key: %v", err)
	}
	changed := *m
	changed.Name = "other"
	if err := changed.Verify(); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("changed field: %v", err)
	}
	if err := m.Sign(ed25519.PrivateKey{1}); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("short private key: %v", err)
	}
	// An unsigned manifest still round-trips (publishers may sign elsewhere).
	enc, err := unsigned.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseManifest(enc)
	if err != nil || got.Signature != nil {
		t.Fatalf("unsigned round trip: %v", err)
	}
}

// TestManifestEveryByteMutation flips each byte of a signed manifest's
// encoding in several ways: each result fails ParseManifest or Verify.
func TestManifestEveryByteMutation(t *testing.T) {
	m, _ := buildManifest(t, testObject(50), 16)
	enc, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	checkEveryMutation(t, enc, ErrInvalidManifest, ParseManifest, (*Manifest).Verify)
}

// checkEveryMutation adds 1, 0x80 and 0xff (so also flips the low and the
// high bit) to each byte of the honest encoding enc, truncates it to every
// shorter length and appends a byte. Each result must either fail parse
// with an error wrapping sentinel, or parse into a value that reject
// refuses (returns an error for).
func checkEveryMutation[T any](t *testing.T, enc []byte, sentinel error, parse func([]byte) (T, error), reject func(T) error) {
	t.Helper()
	for i := range enc {
		for _, delta := range []byte{1, 0x80, 0xff} {
			mut := bytes.Clone(enc)
			mut[i] += delta
			got, err := parse(mut)
			if err != nil {
				if !errors.Is(err, sentinel) {
					t.Fatalf("byte %d +%d: parse error %v does not wrap %v", i, delta, err, sentinel)
				}
				continue
			}
			if err := reject(got); err == nil {
				t.Fatalf("byte %d +%d: mutated encoding parses and is accepted", i, delta)
			}
		}
	}
	for n := range enc {
		if _, err := parse(enc[:n]); !errors.Is(err, sentinel) {
			t.Fatalf("truncation to %d bytes: %v, want %v", n, err, sentinel)
		}
	}
	if _, err := parse(append(bytes.Clone(enc), 0)); !errors.Is(err, sentinel) {
		t.Fatalf("trailing byte: %v, want %v", err, sentinel)
	}
}

func TestParseManifestLimits(t *testing.T) {
	m, _ := buildManifest(t, testObject(50), 16)
	enc, _ := m.MarshalBinary()
	// Offset of the parents count: magic, version, two u64, three strings.
	off := 4 + 1 + 8 + 8
	for range 3 {
		off += 4 + int(binary.BigEndian.Uint32(enc[off:]))
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"oversized", make([]byte, MaxManifestSize+1)},
		{"huge count", func() []byte {
			b := bytes.Clone(enc)
			binary.BigEndian.PutUint32(b[off:], 0xffffffff)
			return b
		}()},
		{"huge string", func() []byte {
			b := bytes.Clone(enc)
			binary.BigEndian.PutUint32(b[4+1+8+8:], 0xffffffff)
			return b
		}()},
		{"bad version", func() []byte { b := bytes.Clone(enc); b[4] = 2; return b }()},
		{"bad magic", func() []byte { b := bytes.Clone(enc); b[0] = 'X'; return b }()},
		{"empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseManifest(tc.b); !errors.Is(err, ErrInvalidManifest) {
				t.Fatalf("err = %v, want ErrInvalidManifest", err)
			}
		})
	}
}

func TestProveVerifyPage(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 8, 13} {
		t.Run(fmt.Sprintf("%d pages", n), func(t *testing.T) {
			m, pages := buildManifest(t, testObject(n*16-3), 16)
			root, err := m.ComputePageRoot()
			if err != nil {
				t.Fatal(err)
			}
			if root.Pages != uint64(n) {
				t.Fatalf("root.Pages = %d", root.Pages)
			}
			for i := range pages {
				e, proof, err := m.ProvePage(uint64(i))
				if err != nil {
					t.Fatal(err)
				}
				if err := VerifyPage(root, e, proof, pages[i]); err != nil {
					t.Fatalf("page %d: %v", i, err)
				}
				// Another page's bytes, entry or proof never pass.
				j := (i + 1) % n
				if j != i {
					e2, proof2, _ := m.ProvePage(uint64(j))
					for _, bad := range []struct {
						e PageEntry
						p merkle.Proof
						b []byte
					}{{e, proof, pages[j]}, {e2, proof, pages[i]}, {e, proof2, pages[i]}, {e2, proof, pages[j]}, {e, proof2, pages[j]}} {
						if err := VerifyPage(root, bad.e, bad.p, bad.b); !errors.Is(err, ErrInvalidPage) {
							t.Fatalf("page %d/%d swap: %v", i, j, err)
						}
					}
				}
			}
			if _, _, err := m.ProvePage(uint64(n)); !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("ProvePage past the end: %v", err)
			}
		})
	}
}

// TestVerifyPageEveryMutation mutates every byte of the page, of the
// entry's encoding and of the proof's encoding, and the root: each fails.
func TestVerifyPageEveryMutation(t *testing.T) {
	m, pages := buildManifest(t, testObject(7*16), 16)
	root, _ := m.ComputePageRoot()
	const i = 5
	e, proof, err := m.ProvePage(i)
	if err != nil {
		t.Fatal(err)
	}
	page := pages[i]
	if err := VerifyPage(root, e, proof, page); err != nil {
		t.Fatal(err)
	}
	for k := range page {
		p := bytes.Clone(page)
		p[k] ^= 1
		if VerifyPage(root, e, proof, p) == nil {
			t.Fatalf("page byte %d", k)
		}
	}
	if VerifyPage(root, e, proof, page[:len(page)-1]) == nil || VerifyPage(root, e, proof, append(bytes.Clone(page), 0)) == nil {
		t.Fatal("page length change verifies")
	}
	eb := e.AppendBinary(nil)
	for k := range eb {
		b := bytes.Clone(eb)
		b[k] ^= 1
		e2, err := ParsePageEntry(b)
		if err != nil {
			continue
		}
		if VerifyPage(root, e2, proof, page) == nil {
			t.Fatalf("entry byte %d", k)
		}
	}
	pb, err := proof.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for k := range pb {
		for _, delta := range []byte{1, 0x80, 0xff} {
			b := bytes.Clone(pb)
			b[k] += delta
			p2, err := merkle.ParseProof(b)
			if err != nil {
				continue
			}
			if VerifyPage(root, e, p2, page) == nil {
				t.Fatalf("proof byte %d +%d verifies", k, delta)
			}
		}
	}
	// Semantic mutations of the proof: every total and index nearby.
	for total := int64(1); total < 20; total++ {
		for index := int64(0); index < total; index++ {
			if total == proof.Total() && index == proof.Index() {
				continue
			}
			p2, err := merkle.NewProof(total, index, proof.LeafHash(), proof.Aunts())
			if err != nil {
				continue
			}
			if VerifyPage(root, e, p2, page) == nil {
				t.Fatalf("proof with total %d index %d verifies", total, index)
			}
		}
	}
	for k := range root.Hash {
		r := root
		r.Hash[k] ^= 1
		if VerifyPage(r, e, proof, page) == nil {
			t.Fatalf("root byte %d", k)
		}
	}
	r := root
	r.Pages++
	if VerifyPage(r, e, proof, page) == nil {
		t.Fatal("root page count")
	}
}

// reservedNS is the zero namespace, which is primary reserved.
func reservedNS() share.Namespace { return share.Namespace{} }

// TestIDJSON: an ID is a 64-hex-digit JSON string, and nothing else
// decodes into one.
func TestIDJSON(t *testing.T) {
	var id ID
	for i := range id {
		id[i] = byte(i)
	}
	b, err := json.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"`; string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	var back ID
	if err := json.Unmarshal(b, &back); err != nil || back != id {
		t.Fatalf("round trip: %x, %v", back, err)
	}
	for _, bad := range []string{`"00"`, `"zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"`, `[0,1]`, `""`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}
