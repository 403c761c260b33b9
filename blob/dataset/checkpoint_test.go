package dataset

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

var testRunID = sha256.Sum256([]byte("checkpoint test run"))

// testCheckpoint returns a signed checkpoint of a safetensors file (also
// returned) whose tensors are hashed, as if its manifest were at height 7.
func testCheckpoint(t testing.TB) (*Checkpoint, []byte) {
	t.Helper()
	return checkpointFor(t, testRunID, ID(sha256.Sum256([]byte("parent"))), 12)
}

// checkpointFor is testCheckpoint for another run, parent and step (≥ 12).
func checkpointFor(t testing.TB, runID [32]byte, parent ID, step uint64) (*Checkpoint, []byte) {
	t.Helper()
	f := buildSafetensors(t, testTensors)
	h, err := ParseSafetensorsHeader(f, uint64(len(f)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range h.Tensors {
		h.Tensors[i].SHA256 = sha256.Sum256(f[h.Tensors[i].Start:h.Tensors[i].End])
	}
	ns, err := Namespace(CheckpointManifest, runID[:])
	if err != nil {
		t.Fatal(err)
	}
	c := &Checkpoint{
		RunID:      runID,
		Step:       step,
		Parent:     parent,
		Object:     ObjectRef{ManifestID: ID(sha256.Sum256([]byte("manifest"))), Height: 7, Namespace: ns, Length: uint64(len(f))},
		Format:     FormatSafetensors,
		Tensors:    h.Tensors,
		TensorRoot: ComputeTensorRoot(h.Tensors),
		DataSteps:  []StepRange{{0, 3}, {5, 5}, {7, 12}},
		Proofs:     [][32]byte{{1}, {2}, {9}},
	}
	c.Object.Commitment[0] = 0xcc
	if err := c.Sign(testKey(5)); err != nil {
		t.Fatal(err)
	}
	return c, f
}

func mustEncodeCheckpoint(t testing.TB, c *Checkpoint) []byte {
	t.Helper()
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckpointRoundTrip(t *testing.T) {
	c, f := testCheckpoint(t)
	if err := c.Verify(); err != nil {
		t.Fatal(err)
	}
	enc := mustEncodeCheckpoint(t, c)
	p, err := ParseCheckpoint(enc)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustEncodeCheckpoint(t, p), enc) {
		t.Fatal("re-encoding differs")
	}
	id1, _ := c.ID()
	id2, _ := p.ID()
	if id1 != id2 {
		t.Fatal("IDs differ")
	}
	tn, err := p.Tensor("layer0.bias")
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyTensor(tn, f[tn.Start:tn.End]); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(f[tn.Start:tn.End])
	bad[0] ^= 1
	if err := VerifyTensor(tn, bad); !errors.Is(err, ErrInvalidTensor) {
		t.Fatalf("flipped tensor byte: %v", err)
	}
	if err := VerifyTensor(tn, bad[1:]); !errors.Is(err, ErrInvalidTensor) {
		t.Fatalf("short tensor: %v", err)
	}
	if _, err := p.Tensor("nope"); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("missing tensor: %v", err)
	}
}

// TestCheckpointEveryByteMutationFails: the honest encoding verifies; any
// single flipped byte is either rejected by the parser or fails Verify.
func TestCheckpointEveryByteMutationFails(t *testing.T) {
	c, _ := testCheckpoint(t)
	enc := mustEncodeCheckpoint(t, c)
	checkEveryMutation(t, enc, ErrInvalidCheckpoint, ParseCheckpoint, (*Checkpoint).Verify)
}

func TestCheckpointFieldMutations(t *testing.T) {
	otherNS, _ := Namespace(CheckpointManifest, []byte("another run"))
	for _, tc := range []struct {
		name   string
		mutate func(c *Checkpoint)
		want   error
		says   string
	}{
		{"wrong signature", func(c *Checkpoint) { c.Signature[3] ^= 1 }, ErrInvalidCheckpointSignature, "does not verify"},
		{"other publisher", func(c *Checkpoint) { c.PublisherKey = testKey(9).Public().(ed25519.PublicKey) }, ErrInvalidCheckpointSignature, "does not verify"},
		{"step changed", func(c *Checkpoint) { c.Step++ }, ErrInvalidCheckpointSignature, "does not verify"},
		{"parent changed", func(c *Checkpoint) { c.Parent[0] ^= 1 }, ErrInvalidCheckpointSignature, "does not verify"},
		{"unsigned", func(c *Checkpoint) { c.Signature = nil }, ErrInvalidCheckpointSignature, "unsigned"},
		{"short signature", func(c *Checkpoint) { c.Signature = c.Signature[:10] }, ErrInvalidCheckpoint, "signature is 10 bytes"},
		{"tensor hash changed", func(c *Checkpoint) { c.Tensors[1].SHA256[0] ^= 1 }, ErrInvalidCheckpoint, "tensor root"},
		{"tensor root changed", func(c *Checkpoint) { c.TensorRoot[0] ^= 1 }, ErrInvalidCheckpoint, "tensor root"},
		{"tensor outside object", func(c *Checkpoint) { c.Object.Length = c.Tensors[len(c.Tensors)-1].End - 1 }, ErrInvalidCheckpoint, "inside the"},
		{"tensor size mismatch", func(c *Checkpoint) { c.Tensors[0].Shape = []uint64{8, 5} }, ErrInvalidCheckpoint, "not 80 bytes"},
		{"tensor unknown dtype", func(c *Checkpoint) { c.Tensors[0].DType = "Q4" }, ErrInvalidCheckpoint, "unknown dtype"},
		{"tensors swapped", func(c *Checkpoint) { c.Tensors[0], c.Tensors[1] = c.Tensors[1], c.Tensors[0] }, ErrInvalidCheckpoint, "out of order"},
		{"tensor name repeated", func(c *Checkpoint) { c.Tensors[1].Name = c.Tensors[0].Name }, ErrInvalidCheckpoint, "twice"},
		{"tensors overlap", func(c *Checkpoint) {
			c.Tensors[1].Start -= 4
			c.Tensors[1].End -= 4
		}, ErrInvalidCheckpoint, "overlap"},
		{"tensors without safetensors", func(c *Checkpoint) { c.Format = "pt" }, ErrInvalidCheckpoint, "needs format"},
		{"empty format", func(c *Checkpoint) { c.Format = "" }, ErrInvalidCheckpoint, "format"},
		{"other run's namespace", func(c *Checkpoint) { c.Object.Namespace = otherNS }, ErrInvalidCheckpoint, "namespace"},
		{"run changed", func(c *Checkpoint) { c.RunID[0] ^= 1 }, ErrInvalidCheckpoint, "namespace"},
		{"empty object", func(c *Checkpoint) { c.Object.Length = 0; c.Tensors = nil }, ErrInvalidCheckpoint, "empty object"},
		{"steps after the checkpoint", func(c *Checkpoint) { c.DataSteps[2].Last = 13 }, ErrInvalidCheckpoint, "ending at or before"},
		{"steps reversed", func(c *Checkpoint) { c.DataSteps[1] = StepRange{6, 5} }, ErrInvalidCheckpoint, "not a range"},
		{"steps adjacent", func(c *Checkpoint) { c.DataSteps[1] = StepRange{4, 5} }, ErrInvalidCheckpoint, "touches"},
		{"steps overlap", func(c *Checkpoint) { c.DataSteps[1] = StepRange{2, 5} }, ErrInvalidCheckpoint, "overlaps"},
		{"proofs unordered", func(c *Checkpoint) { c.Proofs[0], c.Proofs[1] = c.Proofs[1], c.Proofs[0] }, ErrInvalidCheckpoint, "strictly increasing"},
		{"proof repeated", func(c *Checkpoint) { c.Proofs[1] = c.Proofs[0] }, ErrInvalidCheckpoint, "strictly increasing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := testCheckpoint(t)
			tc.mutate(c)
			err := c.Verify()
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v, want %v saying %q", err, tc.want, tc.says)
			}
		})
	}
}

func TestCheckpointNoParentNoTensors(t *testing.T) {
	ns, _ := Namespace(CheckpointManifest, testRunID[:])
	c := &Checkpoint{RunID: testRunID, Object: ObjectRef{Namespace: ns, Height: 3, Length: 10}, Format: "pt", TensorRoot: ComputeTensorRoot(nil)}
	if err := c.Sign(testKey(1)); err != nil {
		t.Fatal(err)
	}
	if c.HasParent() {
		t.Fatal("zero parent reported")
	}
	p, err := ParseCheckpoint(mustEncodeCheckpoint(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.MarshalBinary(); err != nil {
		t.Fatal(err)
	}
	c.Signature = nil
	if _, err := c.MarshalBinary(); !errors.Is(err, ErrInvalidCheckpointSignature) {
		t.Fatalf("unsigned record encoded: %v", err)
	}
}

func TestParseCheckpointBounds(t *testing.T) {
	if _, err := ParseCheckpoint(make([]byte, MaxCheckpointSize+1)); !errors.Is(err, ErrInvalidCheckpoint) {
		t.Fatalf("oversized: %v", err)
	}
	c, _ := testCheckpoint(t)
	enc := mustEncodeCheckpoint(t, c)
	// The tensor count sits after the fixed fields, the format and the root.
	off := 4 + 1 + 32 + 8 + 32 + 32 + 8 + 29 + 32 + 8 + 4 + len(c.Format) + 32
	huge := bytes.Clone(enc)
	copy(huge[off:], []byte{0xff, 0xff, 0xff, 0xff})
	if _, err := ParseCheckpoint(huge); !errors.Is(err, ErrInvalidCheckpoint) || !strings.Contains(err.Error(), "tensors") {
		t.Fatalf("huge tensor count: %v", err)
	}
	badMagic := bytes.Clone(enc)
	badMagic[0] = 'X'
	if _, err := ParseCheckpoint(badMagic); !errors.Is(err, ErrInvalidCheckpoint) || !strings.Contains(err.Error(), "magic") {
		t.Fatalf("bad magic: %v", err)
	}
}

func BenchmarkParseVerifyCheckpoint(b *testing.B) {
	c, _ := testCheckpoint(b)
	enc := mustEncodeCheckpoint(b, c)
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		p, err := ParseCheckpoint(enc)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Verify(); err != nil {
			b.Fatal(err)
		}
	}
}

// ExampleParseSafetensorsHeader indexes a one-tensor safetensors file.
func ExampleParseSafetensorsHeader() {
	header := []byte(`{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}`)
	file := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	file = append(file, header...)
	file = append(file, make([]byte, 16)...)
	h, err := ParseSafetensorsHeader(file, uint64(len(file)))
	if err != nil {
		fmt.Println(err)
		return
	}
	t := h.Tensors[0]
	fmt.Println(t.Name, t.DType, t.Shape, t.Start, t.End)
	// Output: w F32 [2 2] 65 81
}
