package blob

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/tessera-da/tessera/share"
)

// TestCommitmentProofBinary: every fixture proof round-trips through the
// binary encoding, verifies after decoding, is smaller than its JSON, and
// every truncation or single-byte change is refused or decodes to a proof
// that no longer verifies.
func TestCommitmentProofBinary(t *testing.T) {
	for _, f := range fixtures(t) {
		root := f.dah.Hash()
		for i, p := range f.blobs {
			c, err := ComputeCommitment(p.b, share.SubtreeRootThreshold)
			if err != nil {
				t.Fatal(err)
			}
			cp, err := ProveCommitment(f.eds, f.dah, p.start, p.count)
			if err != nil {
				t.Fatal(err)
			}
			bin, err := cp.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			js, _ := json.Marshal(cp)
			if len(bin) >= len(js) {
				t.Errorf("%s blob %d: binary %d bytes, JSON %d", f.name, i, len(bin), len(js))
			}
			var back CommitmentProof
			if err := back.UnmarshalBinary(bin); err != nil {
				t.Fatalf("%s blob %d: %v", f.name, i, err)
			}
			if err := back.Verify(root, p.b.Namespace(), c); err != nil {
				t.Fatalf("%s blob %d: decoded proof: %v", f.name, i, err)
			}
			if js2, _ := json.Marshal(&back); !bytes.Equal(js, js2) {
				t.Fatalf("%s blob %d: decoded proof differs", f.name, i)
			}
			for n := range len(bin) {
				var q CommitmentProof
				if err := q.UnmarshalBinary(bin[:n]); !errors.Is(err, ErrInvalidProof) {
					t.Fatalf("%s blob %d: truncation to %d bytes: %v", f.name, i, n, err)
				}
			}
			if i > 0 {
				continue // mutations of one proof per fixture keep the test fast
			}
			for j := range bin {
				mut := bytes.Clone(bin)
				mut[j] ^= 0x01
				var q CommitmentProof
				if q.UnmarshalBinary(mut) != nil {
					continue
				}
				if q.Verify(root, p.b.Namespace(), c) == nil {
					t.Fatalf("%s blob %d: flipping byte %d still verifies", f.name, i, j)
				}
			}
		}
	}
}

func FuzzCommitmentProofBinary(f *testing.F) {
	fx := fuzzFixture(f)
	for _, p := range fx.blobs {
		cp, err := ProveCommitment(fx.eds, fx.dah, p.start, p.count)
		if err != nil {
			f.Fatal(err)
		}
		bin, _ := cp.MarshalBinary()
		f.Add(bin)
	}
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var cp CommitmentProof
		if err := cp.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("error does not wrap ErrInvalidProof: %v", err)
			}
			return
		}
		re, err := cp.MarshalBinary()
		if err != nil || !bytes.Equal(re, data) {
			t.Fatalf("accepted a non-canonical encoding: %v", err)
		}
	})
}
