package dataset

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/nmt/merkle"
	"github.com/tessera-da/tessera/share"
)

// Sentinels of checkpoint records.
var (
	// ErrInvalidCheckpoint: a checkpoint record that is malformed, exceeds
	// a limit, is not canonical, or whose tensor index is inconsistent.
	ErrInvalidCheckpoint = errors.New("dataset: invalid checkpoint record")
	// ErrInvalidCheckpointSignature: a checkpoint or rollback record whose
	// signature is missing or does not verify under its publisher key.
	ErrInvalidCheckpointSignature = errors.New("dataset: invalid checkpoint signature")
	// ErrInvalidTensor: tensor bytes that do not match their index entry.
	ErrInvalidTensor = errors.New("dataset: tensor bytes do not match the index")
)

// Limits of a checkpoint record, checked before anything is allocated.
const (
	CheckpointVersion   = 1       // encoding version
	MaxCheckpointSize   = 8 << 20 // bytes of an encoded record
	MaxStepRanges       = 4096    // data step ranges in the lineage
	MaxCheckpointProofs = 1 << 14 // training-proof IDs in the lineage
	MaxFormatLen        = 64      // bytes of the format name
	FormatSafetensors   = "safetensors"
	maxDTypeLen         = 16 // bytes of a dtype name
)

// checkpointSigner signs checkpoint records.
var checkpointSigner = signer{record: "checkpoint", context: "tessera/dataset/checkpoint/v1\x00", sentinel: ErrInvalidCheckpointSignature}

// checkpointMagic starts every encoded checkpoint record.
var checkpointMagic = [4]byte{'T', 'S', 'C', 'K'}

// Tensor is one entry of a checkpoint's tensor index: a named tensor's
// dtype, shape, byte range [Start, End) in the checkpoint object and the
// SHA-256 of those bytes.
type Tensor struct {
	Name   string            // tensor name, 1..MaxTensorNameLen bytes of UTF-8
	DType  string            // safetensors dtype (see DTypeSize)
	Shape  []uint64          // dimensions, at most MaxTensorRank
	Start  uint64            // first byte in the object
	End    uint64            // one past the last byte in the object
	SHA256 [sha256.Size]byte // SHA-256 of the object's bytes [Start, End)
}

// AppendBinary appends the tensor's canonical encoding, the leaf of the
// tensor index tree: BE32 len ‖ name ‖ BE32 len ‖ dtype ‖ u8 rank ‖ BE64
// dims ‖ BE64 start ‖ BE64 end ‖ sha256.
func (t Tensor) AppendBinary(b []byte) []byte {
	b = appendStr(b, t.Name)
	b = appendStr(b, t.DType)
	b = append(b, byte(len(t.Shape)))
	for _, d := range t.Shape {
		b = binary.BigEndian.AppendUint64(b, d)
	}
	b = binary.BigEndian.AppendUint64(b, t.Start)
	b = binary.BigEndian.AppendUint64(b, t.End)
	return append(b, t.SHA256[:]...)
}

// VerifyTensor checks untrusted bytes of a tensor against its entry: their
// length and SHA-256. Failures wrap ErrInvalidTensor.
func VerifyTensor(t Tensor, data []byte) error {
	if uint64(len(data)) != t.End-t.Start {
		return fmt.Errorf("%w: tensor %q is %d bytes, the index says %d", ErrInvalidTensor, t.Name, len(data), t.End-t.Start)
	}
	if sha256.Sum256(data) != t.SHA256 {
		return fmt.Errorf("%w: tensor %q bytes do not match the index sha256", ErrInvalidTensor, t.Name)
	}
	return nil
}

// ComputeTensorRoot returns the RFC-6962 Merkle root (nmt/merkle) over the
// tensors' encodings, in the given order.
func ComputeTensorRoot(ts []Tensor) [32]byte {
	leaves := make([][]byte, len(ts))
	for i, t := range ts {
		leaves[i] = t.AppendBinary(nil)
	}
	return [32]byte(merkle.ComputeRoot(leaves))
}

// StepRange is an inclusive range of training steps [First, Last].
type StepRange struct {
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
}

// ObjectRef names the manifest blob a checkpoint's pages were published
// under (see node/objects).
type ObjectRef struct {
	ManifestID ID                        // content ID of the object manifest
	Height     uint64                    // height of the manifest blob
	Namespace  share.Namespace           // namespace of the manifest blob
	Commitment [blob.CommitmentSize]byte // share commitment of the manifest blob
	Length     uint64                    // bytes in the object
}

// Checkpoint is a signed checkpoint record (namespace kind
// CheckpointManifest, scope = the run ID): the run and step it belongs to,
// its parent, the object holding its bytes, its format, a tensor index with
// its root and its lineage (data steps consumed, training proofs built on).
// Fill the fields and Sign; parse with ParseCheckpoint and check with
// Verify. Its ID is SHA-256 of the encoding without the signature.
type Checkpoint struct {
	RunID      [32]byte    // Run.ID
	Step       uint64      // training step the checkpoint was taken at
	Parent     ID          // parent checkpoint ID; zero for none
	Object     ObjectRef   // the object manifest of the checkpoint bytes
	Format     string      // e.g. FormatSafetensors; 1..MaxFormatLen bytes of UTF-8
	TensorRoot [32]byte    // ComputeTensorRoot(Tensors)
	Tensors    []Tensor    // tensor index (only for FormatSafetensors), canonical order
	DataSteps  []StepRange // steps consumed, increasing, disjoint and not adjacent, Last ≤ Step
	Proofs     [][32]byte  // training-proof IDs built on, strictly increasing

	PublisherKey ed25519.PublicKey // set by Sign
	Signature    []byte            // set by Sign
}

// HasParent reports whether the checkpoint names a parent.
func (c *Checkpoint) HasParent() bool { return c.Parent != (ID{}) }

// Validate checks every field against the limits: the object's manifest
// namespace is the run's CheckpointManifest namespace, the format name, the
// tensor index (only for safetensors; supported dtypes, byte sizes matching
// dtype×shape, ranges inside the object, canonical order without overlap,
// unique names, root equal to ComputeTensorRoot), the step ranges and
// proof IDs ordered, and the key and signature sizes. It does not check the
// signature.
func (c *Checkpoint) Validate() error {
	want, err := Namespace(CheckpointManifest, c.RunID[:])
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidCheckpoint, err)
	}
	if c.Object.Namespace != want {
		return fmt.Errorf("%w: object manifest namespace %s is not the run's checkpoint-manifest namespace %s", ErrInvalidCheckpoint, c.Object.Namespace, want)
	}
	if c.Object.Length == 0 {
		return fmt.Errorf("%w: empty object", ErrInvalidCheckpoint)
	}
	if c.Format == "" || len(c.Format) > MaxFormatLen || !utf8.ValidString(c.Format) {
		return fmt.Errorf("%w: format is not 1..%d bytes of UTF-8", ErrInvalidCheckpoint, MaxFormatLen)
	}
	if len(c.Tensors) > 0 && c.Format != FormatSafetensors {
		return fmt.Errorf("%w: a tensor index needs format %q, have %q", ErrInvalidCheckpoint, FormatSafetensors, c.Format)
	}
	if len(c.Tensors) > MaxTensors {
		return fmt.Errorf("%w: %d tensors, max %d", ErrInvalidCheckpoint, len(c.Tensors), MaxTensors)
	}
	names := make(map[string]bool, len(c.Tensors))
	for i, t := range c.Tensors {
		if t.Name == "" || len(t.Name) > MaxTensorNameLen || !utf8.ValidString(t.Name) {
			return fmt.Errorf("%w: tensor %d: name is not 1..%d bytes of UTF-8", ErrInvalidCheckpoint, i, MaxTensorNameLen)
		}
		if names[t.Name] {
			return fmt.Errorf("%w: tensor %q appears twice", ErrInvalidCheckpoint, t.Name)
		}
		names[t.Name] = true
		size, err := tensorBytes(t.DType, t.Shape)
		if err != nil {
			return fmt.Errorf("%w: tensor %q: %w", ErrInvalidCheckpoint, t.Name, err)
		}
		if t.Start > t.End || t.End > c.Object.Length || t.End-t.Start != size {
			return fmt.Errorf("%w: tensor %q: range [%d, %d) is not %d bytes inside the %d-byte object", ErrInvalidCheckpoint, t.Name, t.Start, t.End, size, c.Object.Length)
		}
		if i > 0 {
			p := c.Tensors[i-1]
			if !tensorLess(p, t) {
				return fmt.Errorf("%w: tensors %q and %q out of order", ErrInvalidCheckpoint, p.Name, t.Name)
			}
			if t.Start < p.End {
				return fmt.Errorf("%w: tensors %q and %q overlap", ErrInvalidCheckpoint, p.Name, t.Name)
			}
		}
	}
	if ComputeTensorRoot(c.Tensors) != c.TensorRoot {
		return fmt.Errorf("%w: tensor root does not match the tensor index", ErrInvalidCheckpoint)
	}
	if len(c.DataSteps) > MaxStepRanges {
		return fmt.Errorf("%w: %d step ranges, max %d", ErrInvalidCheckpoint, len(c.DataSteps), MaxStepRanges)
	}
	for i, r := range c.DataSteps {
		if r.First > r.Last || r.Last > c.Step {
			return fmt.Errorf("%w: data steps %d: [%d, %d] is not a range ending at or before step %d", ErrInvalidCheckpoint, i, r.First, r.Last, c.Step)
		}
		if i == 0 {
			continue
		}
		if p := c.DataSteps[i-1].Last; r.First <= p || r.First-p == 1 {
			return fmt.Errorf("%w: data steps %d: [%d, %d] overlaps, touches or precedes the range before", ErrInvalidCheckpoint, i, r.First, r.Last)
		}
	}
	if len(c.Proofs) > MaxCheckpointProofs {
		return fmt.Errorf("%w: %d proof IDs, max %d", ErrInvalidCheckpoint, len(c.Proofs), MaxCheckpointProofs)
	}
	for i := 1; i < len(c.Proofs); i++ {
		if bytes.Compare(c.Proofs[i-1][:], c.Proofs[i][:]) >= 0 {
			return fmt.Errorf("%w: proof IDs %d and %d not strictly increasing", ErrInvalidCheckpoint, i-1, i)
		}
	}
	return checkSigner(ErrInvalidCheckpoint, "publisher key", c.PublisherKey, c.Signature)
}

// appendBody appends the signed part of the encoding (c must be valid):
//
//	"TSCK" ‖ u8 version ‖ run ID (32 B) ‖ BE64 step ‖ parent (32 B, zero for
//	none) ‖ manifest ID (32 B) ‖ BE64 manifest height ‖ manifest namespace
//	(29 B) ‖ manifest commitment (32 B) ‖ BE64 object length ‖ str format ‖
//	tensor root (32 B) ‖ BE32 count ‖ tensors (Tensor.AppendBinary) ‖
//	BE32 count ‖ step ranges (BE64 first ‖ BE64 last) ‖ BE32 count ‖
//	proof IDs (32 B each) ‖ publisher key (32 B)
//
// where str is BE32 length ‖ UTF-8 bytes.
func (c *Checkpoint) appendBody(b []byte) []byte {
	b = appendHeader(b, checkpointMagic, CheckpointVersion)
	b = append(b, c.RunID[:]...)
	b = binary.BigEndian.AppendUint64(b, c.Step)
	b = append(b, c.Parent[:]...)
	b = append(b, c.Object.ManifestID[:]...)
	b = binary.BigEndian.AppendUint64(b, c.Object.Height)
	b = append(b, c.Object.Namespace.Bytes()...)
	b = append(b, c.Object.Commitment[:]...)
	b = binary.BigEndian.AppendUint64(b, c.Object.Length)
	b = appendStr(b, c.Format)
	b = append(b, c.TensorRoot[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(c.Tensors)))
	for _, t := range c.Tensors {
		b = t.AppendBinary(b)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(c.DataSteps)))
	for _, r := range c.DataSteps {
		b = binary.BigEndian.AppendUint64(b, r.First)
		b = binary.BigEndian.AppendUint64(b, r.Last)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(c.Proofs)))
	for _, p := range c.Proofs {
		b = append(b, p[:]...)
	}
	return append(b, c.PublisherKey...)
}

// ID returns the record's content address: SHA-256 of the encoding without
// the signature. It fails when the record is invalid.
func (c *Checkpoint) ID() (ID, error) { return recordID(c.Validate, c.appendBody) }

// id is ID as the signer takes it.
func (c *Checkpoint) id() ([32]byte, error) { return c.ID() }

// MarshalBinary returns the canonical encoding: the body (see ID) followed
// by the 64-byte signature. It fails when the record is invalid or unsigned.
func (c *Checkpoint) MarshalBinary() ([]byte, error) {
	return checkpointSigner.marshal(c.Validate, c.appendBody, c.Signature)
}

// Sign sets the publisher key to priv's public key and signs the record's
// ID with a domain-separation prefix.
func (c *Checkpoint) Sign(priv ed25519.PrivateKey) error {
	return checkpointSigner.sign(priv, &c.PublisherKey, &c.Signature, c.id)
}

// Verify checks that the record is valid and signed by PublisherKey. Whether
// that key is trusted is the caller's decision.
func (c *Checkpoint) Verify() error {
	return checkpointSigner.verify(c.PublisherKey, c.Signature, c.id)
}

// Tensor returns the index entry of the named tensor.
func (c *Checkpoint) Tensor(name string) (Tensor, error) {
	for _, t := range c.Tensors {
		if t.Name == name {
			return t, nil
		}
	}
	return Tensor{}, fmt.Errorf("%w: no tensor %q in the index", ErrInvalidParams, name)
}

// minTensorSize is the smallest encoded tensor: two empty strings, rank 0,
// start, end and hash.
const minTensorSize = 4 + 4 + 1 + 8 + 8 + 32

// ParseCheckpoint decodes a checkpoint record from untrusted bytes,
// accepting only the canonical encoding of a valid, signed record; it does
// not check the signature (call Verify). It never panics and checks len(b)
// ≤ MaxCheckpointSize and every count against the limits and the bytes left
// before allocating.
func ParseCheckpoint(b []byte) (*Checkpoint, error) {
	d := openRecord(b, MaxCheckpointSize, ErrInvalidCheckpoint, checkpointMagic, CheckpointVersion)
	c := &Checkpoint{}
	d.hash(&c.RunID, "run ID")
	c.Step = d.u64("step")
	d.hash((*[32]byte)(&c.Parent), "parent")
	d.hash((*[32]byte)(&c.Object.ManifestID), "manifest ID")
	c.Object.Height = d.u64("manifest height")
	if p := d.take(share.NamespaceSize, "manifest namespace"); p != nil {
		ns, err := share.NewNamespaceFromBytes(p)
		if err != nil {
			d.fail("manifest namespace: %v", err)
		}
		c.Object.Namespace = ns
	}
	if p := d.take(blob.CommitmentSize, "manifest commitment"); p != nil {
		copy(c.Object.Commitment[:], p)
	}
	c.Object.Length = d.u64("object length")
	c.Format = d.boundedStr(MaxFormatLen, "format")
	d.hash(&c.TensorRoot, "tensor root")
	if n := d.count(minTensorSize, MaxTensors, "tensors"); n > 0 {
		c.Tensors = make([]Tensor, n)
		for i := range c.Tensors {
			t := &c.Tensors[i]
			t.Name = d.boundedStr(MaxTensorNameLen, "tensor name")
			t.DType = d.boundedStr(maxDTypeLen, "tensor dtype")
			rank := d.u8("tensor rank")
			if rank > MaxTensorRank {
				d.fail("tensor rank %d, max %d", rank, MaxTensorRank)
			}
			if d.err != nil {
				break
			}
			t.Shape = make([]uint64, rank)
			for j := range t.Shape {
				t.Shape[j] = d.u64("tensor dimension")
			}
			t.Start = d.u64("tensor start")
			t.End = d.u64("tensor end")
			if p := d.take(sha256.Size, "tensor sha256"); p != nil {
				copy(t.SHA256[:], p)
			}
		}
	}
	if n := d.count(16, MaxStepRanges, "step ranges"); n > 0 {
		c.DataSteps = make([]StepRange, n)
		for i := range c.DataSteps {
			c.DataSteps[i] = StepRange{First: d.u64("first step"), Last: d.u64("last step")}
		}
	}
	if n := d.count(32, MaxCheckpointProofs, "proof IDs"); n > 0 {
		c.Proofs = make([][32]byte, n)
		for i := range c.Proofs {
			d.hash(&c.Proofs[i], "proof ID")
		}
	}
	c.PublisherKey = d.key("publisher key")
	c.Signature = d.signature()
	if err := d.close(c.Validate); err != nil {
		return nil, err
	}
	return c, nil
}
