package blob

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/tessera-da/tessera/share"
)

// fuzzFixture is a small square with blobs spanning one and several rows,
// one of subtree width 2.
func fuzzFixture(f *testing.F) *fixture {
	return constructFixture(f, "fuzz", 9, 64, [][]int{{700, 30}, {9000}, {35000}})
}

// FuzzVerifyNamespaceData decodes NamespaceData JSON and verifies it for
// one of the fixture's namespaces. It must never panic, and whatever
// verifies must be exactly the namespace's data (the shares the square
// holds, row by row).
func FuzzVerifyNamespaceData(f *testing.F) {
	fx := fuzzFixture(f)
	probes := probeNamespaces(f, fx)
	honest := make([]NamespaceData, len(probes))
	for i, ns := range probes {
		nd, err := ProveNamespaceData(fx.eds, fx.dah, ns)
		if err != nil {
			f.Fatal(err)
		}
		honest[i] = nd
		js, _ := json.Marshal(nd)
		f.Add(js, uint8(i))
	}
	f.Add([]byte(`[{"shares":null,"proof":{"end":1}}]`), uint8(0))
	f.Add([]byte(`[]`), uint8(len(probes)-1))
	f.Fuzz(func(t *testing.T, data []byte, idx uint8) {
		i := int(idx) % len(probes)
		var nd NamespaceData
		if err := json.Unmarshal(data, &nd); err != nil {
			return
		}
		err := nd.Verify(fx.dah, probes[i])
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("error does not wrap ErrInvalidProof: %v", err)
			}
			return
		}
		if len(nd) != len(honest[i]) {
			t.Fatalf("verified %d rows, the namespace has %d", len(nd), len(honest[i]))
		}
		for r := range nd {
			if !equalShares(nd[r].Shares(), honest[i][r].Shares()) {
				t.Fatalf("row %d: verified shares that are not the namespace's", r)
			}
		}
		again, err := json.Marshal(nd)
		if err != nil {
			t.Fatal(err)
		}
		var back NamespaceData
		if err := json.Unmarshal(again, &back); err != nil || !back.Equal(nd) {
			t.Fatalf("re-decoding failed: %v", err)
		}
	})
}

// FuzzVerifyBlobProof decodes a blob Proof and verifies it for one of the
// fixture's blobs at a fuzzed position. A proof may only verify a blob at
// the position it really has.
func FuzzVerifyBlobProof(f *testing.F) {
	fx := fuzzFixture(f)
	for i, p := range fx.blobs {
		proof, err := ProveBlob(fx.eds, p.start, p.count)
		if err != nil {
			f.Fatal(err)
		}
		js, _ := json.Marshal(proof)
		f.Add(js, uint8(i), int64(p.start))
		f.Add(js, uint8(i+1), int64(p.start+1))
	}
	f.Add([]byte(`[{"end":1}]`), uint8(0), int64(0))
	f.Fuzz(func(t *testing.T, data []byte, idx uint8, start int64) {
		p := fx.blobs[int(idx)%len(fx.blobs)]
		var proof Proof
		if err := json.Unmarshal(data, &proof); err != nil {
			return
		}
		s := int(start)
		if int64(s) != start {
			return
		}
		err := proof.Verify(fx.dah, p.b, s)
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("error does not wrap ErrInvalidProof: %v", err)
			}
			return
		}
		if s != p.start {
			t.Fatalf("blob at %d verified at %d", p.start, s)
		}
		again, _ := json.Marshal(proof)
		var back Proof
		if err := json.Unmarshal(again, &back); err != nil || !back.Equal(proof) {
			t.Fatalf("re-decoding failed: %v", err)
		}
	})
}

// FuzzVerifyCommitmentProof decodes a CommitmentProof and verifies it
// against the fixture's data root for one blob's namespace and
// commitment. Whatever verifies must place that blob's subtree roots in
// the rows the blob really occupies.
func FuzzVerifyCommitmentProof(f *testing.F) {
	fx := fuzzFixture(f)
	root := fx.dah.Hash()
	k := fx.eds.ODSWidth()
	commitments := make([]Commitment, len(fx.blobs))
	for i, p := range fx.blobs {
		cp, err := ProveCommitment(fx.eds, fx.dah, p.start, p.count)
		if err != nil {
			f.Fatal(err)
		}
		if commitments[i], err = ComputeCommitment(p.b, share.SubtreeRootThreshold); err != nil {
			f.Fatal(err)
		}
		js, _ := json.Marshal(cp)
		f.Add(js, uint8(i))
		f.Add(bytes.ReplaceAll(js, []byte(`"total":"`), []byte(`"total":"1`)), uint8(i))
	}
	f.Add([]byte(`{"subtree_roots":[],"row_proof":{}}`), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, idx uint8) {
		i := int(idx) % len(fx.blobs)
		p := fx.blobs[i]
		var cp CommitmentProof
		if err := json.Unmarshal(data, &cp); err != nil {
			return
		}
		err := cp.Verify(root, p.b.Namespace(), commitments[i])
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("error does not wrap ErrInvalidProof: %v", err)
			}
			return
		}
		rp := cp.RowProof()
		if rp.StartRow() != p.start/k || rp.EndRow() != (p.start+p.count-1)/k {
			t.Fatalf("blob in rows %d…%d verified in rows %d…%d", p.start/k, (p.start+p.count-1)/k, rp.StartRow(), rp.EndRow())
		}
		again, _ := json.Marshal(&cp)
		var back CommitmentProof
		if err := json.Unmarshal(again, &back); err != nil {
			t.Fatalf("re-decoding failed: %v", err)
		}
		if err := back.Verify(root, p.b.Namespace(), commitments[i]); err != nil {
			t.Fatalf("re-decoded proof fails: %v", err)
		}
	})
}

// FuzzParseRowNamespaceData decodes shwap's protobuf RowNamespaceData. It
// must never panic; whatever it accepts re-encodes to an encoding that
// decodes to the same value, through protobuf and through JSON.
func FuzzParseRowNamespaceData(f *testing.F) {
	fx := fuzzFixture(f)
	for _, ns := range probeNamespaces(f, fx) {
		nd, err := ProveNamespaceData(fx.eds, fx.dah, ns)
		if err != nil {
			f.Fatal(err)
		}
		for _, r := range nd {
			enc, _ := r.MarshalBinary()
			f.Add(enc)
		}
	}
	f.Add([]byte{0x12, 0x00})
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00, 0x12, 0x02, 0x10, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRowNamespaceData(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("error does not wrap ErrInvalidProof: %v", err)
			}
			return
		}
		enc, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseRowNamespaceData(enc)
		if err != nil || !back.Equal(r) {
			t.Fatalf("binary round trip: %v", err)
		}
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var j RowNamespaceData
		if err := json.Unmarshal(js, &j); err != nil || !j.Equal(r) {
			t.Fatalf("JSON round trip: %v", err)
		}
	})
}
