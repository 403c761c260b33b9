package dataset

import (
	"bytes"
	"testing"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/nmt/merkle"
)

func FuzzParseManifest(f *testing.F) {
	for _, size := range []int{0, 10, 50, 200} {
		m, _ := buildManifest(f, testObject(size), 16)
		enc, err := m.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
		m.Signature = nil
		enc, _ = m.MarshalBinary()
		f.Add(enc)
	}
	f.Add([]byte("TSMF\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := parseCanonical(t, b, ParseManifest, ErrInvalidManifest)
		if !ok {
			return
		}
		_ = m.Verify()
		if _, err := m.ComputePageRoot(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzVerifyPage checks soundness against an honest manifest: whatever
// entry, proof and bytes an attacker sends, VerifyPage accepts only a true
// entry of the manifest with its exact page bytes.
func FuzzVerifyPage(f *testing.F) {
	m, pages := buildManifest(f, testObject(13*16-5), 16)
	root, err := m.ComputePageRoot()
	if err != nil {
		f.Fatal(err)
	}
	for i := range pages {
		e, proof, err := m.ProvePage(uint64(i))
		if err != nil {
			f.Fatal(err)
		}
		pb, _ := proof.MarshalBinary()
		f.Add(e.AppendBinary(nil), pb, pages[i])
		f.Add(e.AppendBinary(nil), pb, pages[(i+1)%len(pages)])
	}
	f.Fuzz(func(t *testing.T, entryBytes, proofBytes, page []byte) {
		e, err := ParsePageEntry(entryBytes)
		if err != nil {
			return
		}
		proof, err := merkle.ParseProof(proofBytes)
		if err != nil {
			return
		}
		if VerifyPage(root, e, proof, page) != nil {
			return
		}
		if e.Index >= uint64(len(pages)) || e != m.Entries[e.Index] || !bytes.Equal(page, pages[e.Index]) {
			t.Fatalf("accepted a forged page %d", e.Index)
		}
	})
}

func FuzzManifestJSON(f *testing.F) {
	for _, size := range []int{0, 50} {
		m, _ := buildManifest(f, testObject(size), 16)
		j, err := m.MarshalJSON()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(j)
	}
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Manifest
		if err := m.UnmarshalJSON(b); err != nil {
			return
		}
		enc, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("accepted JSON gives an invalid manifest: %v", err)
		}
		if _, err := ParseManifest(enc); err != nil {
			t.Fatalf("accepted JSON does not round-trip: %v", err)
		}
	})
}

// FuzzParseFullTrainingProof decodes full proofs (with the commitment-proof
// section): only canonical encodings parse, and only an honest proof
// passes Verify and VerifyInclusions.
func FuzzParseFullTrainingProof(f *testing.F) {
	ff := newFullFixture(f, 1)
	honest := map[string]bool{}
	for w := range ff.privs {
		p, _ := ff.proveFull(f, w)
		enc := mustMarshal(f, p)
		honest[string(enc)] = true
		f.Add(enc)
	}
	f.Add([]byte("TSTP\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := parseCanonical(t, b, ParseTrainingProof, ErrInvalidTrainingProof)
		if !ok {
			return
		}
		if ff.verifyFull(p) == nil && !honest[string(b)] {
			t.Fatal("a non-honest full proof verifies")
		}
	})
}

// FuzzVerifyInclusions attaches fuzzed commitment proofs (JSON, as
// blob.GetCommitmentProof serves them) to an honest compact proof: the
// inclusion check passes only for the page's true commitment proof.
func FuzzVerifyInclusions(f *testing.F) {
	ff := newFullFixture(f, 0)
	p, _ := ff.prove(f, 1)
	for idx := range ff.root.Pages {
		j, err := ff.cps[idx].MarshalJSON()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(j)
	}
	truth, _ := ff.cps[p.Pages[0].Entry.Index].MarshalJSON()
	roots := map[uint64][32]byte{fullHeight: ff.dataRoot}
	f.Fuzz(func(t *testing.T, b []byte) {
		cp := &blob.CommitmentProof{}
		if err := cp.UnmarshalJSON(b); err != nil {
			return
		}
		cps := []*blob.CommitmentProof{cp}
		for _, pp := range p.Pages[1:] {
			cps = append(cps, ff.cps[pp.Entry.Index])
		}
		q := *p
		if err := q.AttachInclusions(cps, roots); err != nil {
			if FailedCheck(err) == "" {
				t.Fatalf("error %v names no check", err)
			}
			return
		}
		if re, _ := cp.MarshalJSON(); !bytes.Equal(re, truth) {
			t.Fatal("a commitment proof other than the page's verifies")
		}
	})
}
