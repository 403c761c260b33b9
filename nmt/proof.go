package nmt

import (
	"bytes"
	"fmt"

	"github.com/tessera-da/tessera/nmt/internal/pbwire"
)

// Proof proves a range of leaves, or the presence or absence of a namespace,
// against a root. Its fields are unexported: a Proof comes from a Tree's
// Prove methods, from NewProof or from ParseProof, and is then well formed:
//   - 0 ≤ Start() ≤ End() ≤ MaxLeaves;
//   - Start() == End() only for the empty proof, which has no nodes and no
//     leaf hash;
//   - at most MaxProofNodes nodes, each a valid NodeSize-byte node;
//   - a leaf hash (absence proofs only) is a valid node and End() == Start()+1.
//
// A Proof is immutable and safe for concurrent use. The zero value is the
// empty proof with IgnoreMaxNamespace off.
//
// The proof does not carry the size of its tree. A verifier that knows the
// tree's width should also check Start and End against it.
type Proof struct {
	start, end int
	// nodes holds the proof nodes contiguously, NodeSize bytes each.
	nodes     []byte
	leafHash  []byte
	ignoreMax bool
}

// NewProof validates and copies the parts of a proof received from elsewhere,
// for example decoded from JSON. leafHash is empty except in absence proofs.
func NewProof(start, end int, nodes [][]byte, leafHash []byte, ignoreMaxNamespace bool) (Proof, error) {
	if err := checkProofShape(start, end, len(nodes), leafHash); err != nil {
		return Proof{}, err
	}
	p := Proof{start: start, end: end, ignoreMax: ignoreMaxNamespace}
	if len(nodes) > 0 {
		p.nodes = make([]byte, 0, len(nodes)*NodeSize)
		for i, n := range nodes {
			if err := ValidateNode(n); err != nil {
				return Proof{}, fmt.Errorf("%w: node %d: %w", ErrInvalidProof, i, err)
			}
			p.nodes = append(p.nodes, n...)
		}
	}
	if len(leafHash) > 0 {
		p.leafHash = bytes.Clone(leafHash)
	}
	return p, nil
}

// checkProofShape checks everything about a proof except the node bytes.
func checkProofShape(start, end, numNodes int, leafHash []byte) error {
	if start < 0 || end < start || end > MaxLeaves {
		return fmt.Errorf("%w: %w: [%d, %d)", ErrInvalidProof, ErrInvalidRange, start, end)
	}
	if numNodes > MaxProofNodes {
		return fmt.Errorf("%w: %d nodes, more than %d", ErrInvalidProof, numNodes, MaxProofNodes)
	}
	if start == end && (numNodes > 0 || len(leafHash) > 0) {
		return fmt.Errorf("%w: %w: empty range [%d, %d) with nodes or a leaf hash", ErrInvalidProof, ErrInvalidRange, start, end)
	}
	if len(leafHash) > 0 {
		if err := ValidateNode(leafHash); err != nil {
			return fmt.Errorf("%w: leaf hash: %w", ErrInvalidProof, err)
		}
		if end-start != 1 {
			return fmt.Errorf("%w: %w: absence proof over [%d, %d), want one leaf", ErrInvalidProof, ErrInvalidRange, start, end)
		}
	}
	return nil
}

// Start returns the index of the first leaf of the proven range.
func (p Proof) Start() int { return p.start }

// End returns the index after the last leaf of the proven range.
func (p Proof) End() int { return p.end }

// NumNodes returns the number of proof nodes.
func (p Proof) NumNodes() int { return len(p.nodes) / NodeSize }

// Nodes returns copies of the proof nodes, in proof order.
func (p Proof) Nodes() [][]byte {
	if len(p.nodes) == 0 {
		return nil
	}
	buf := bytes.Clone(p.nodes)
	out := make([][]byte, len(buf)/NodeSize)
	for i := range out {
		out[i] = buf[i*NodeSize : (i+1)*NodeSize : (i+1)*NodeSize]
	}
	return out
}

// LeafHash returns a copy of the leaf node carried by an absence proof, or
// nil.
func (p Proof) LeafHash() []byte { return bytes.Clone(p.leafHash) }

// IsMaxNamespaceIgnored reports the IgnoreMaxNamespace setting the proof
// was made with; verification hashes with it.
func (p Proof) IsMaxNamespaceIgnored() bool { return p.ignoreMax }

// IsEmpty reports whether p is the empty proof (start = end, no nodes).
func (p Proof) IsEmpty() bool { return p.start == p.end }

// IsAbsence reports whether p is an absence proof (it carries a leaf hash).
func (p Proof) IsAbsence() bool { return len(p.leafHash) > 0 }

// Equal reports whether p and q are the same proof.
func (p Proof) Equal(q Proof) bool {
	return p.start == q.start && p.end == q.end && p.ignoreMax == q.ignoreMax &&
		bytes.Equal(p.nodes, q.nodes) && bytes.Equal(p.leafHash, q.leafHash)
}

// Protobuf field numbers of nmt's pb.Proof.
const (
	fieldStart     = 1
	fieldEnd       = 2
	fieldNodes     = 3
	fieldLeafHash  = 4
	fieldIgnoreMax = 5
)

// MaxEncodedProofSize bounds the encoding ParseProof accepts.
const MaxEncodedProofSize = 2*(1+10) + // start, end
	MaxProofNodes*(1+1+NodeSize) + // nodes
	(1 + 1 + NodeSize) + // leaf_hash
	2 + // is_max_namespace_ignored
	256 // room for unknown fields // bytes

// AppendBinary appends p encoded as nmt's protobuf pb.Proof {start = 1,
// end = 2, nodes = 3, leaf_hash = 4, is_max_namespace_ignored = 5}, the same
// bytes gogoproto produces (fields in order, proto3 defaults omitted).
func (p Proof) AppendBinary(b []byte) ([]byte, error) {
	if p.start != 0 {
		b = pbwire.AppendVarintField(b, fieldStart, uint64(p.start))
	}
	if p.end != 0 {
		b = pbwire.AppendVarintField(b, fieldEnd, uint64(p.end))
	}
	for i := 0; i+NodeSize <= len(p.nodes); i += NodeSize {
		b = pbwire.AppendBytesField(b, fieldNodes, p.nodes[i:i+NodeSize])
	}
	if len(p.leafHash) > 0 {
		b = pbwire.AppendBytesField(b, fieldLeafHash, p.leafHash)
	}
	if p.ignoreMax {
		b = pbwire.AppendVarintField(b, fieldIgnoreMax, 1)
	}
	return b, nil
}

// MarshalBinary encodes p as nmt's protobuf pb.Proof; see AppendBinary.
func (p Proof) MarshalBinary() ([]byte, error) {
	size := 2*11 + len(p.nodes)/NodeSize*(2+NodeSize) + 2 + len(p.leafHash) + 2
	return p.AppendBinary(make([]byte, 0, size))
}

// UnmarshalBinary replaces *p with the proof ParseProof decodes from b. On
// error *p is unchanged.
func (p *Proof) UnmarshalBinary(b []byte) error {
	q, err := ParseProof(b)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// ParseProof decodes and validates a protobuf pb.Proof. b is untrusted: its
// size is capped at MaxEncodedProofSize, every length is checked against the
// bytes present, nodes are checked one by one before they are copied, unknown
// fields are skipped, and the result is checked as NewProof checks it. A
// repeated scalar field keeps its last value, as in protobuf.
func ParseProof(b []byte) (Proof, error) {
	if len(b) > MaxEncodedProofSize {
		return Proof{}, fmt.Errorf("%w: encoding of %d bytes exceeds %d", ErrInvalidProof, len(b), MaxEncodedProofSize)
	}
	var (
		start, end uint64
		p          Proof
	)
	for len(b) > 0 {
		num, wt, rest, err := pbwire.ConsumeTag(b)
		if err != nil {
			return Proof{}, fmt.Errorf("%w: %w", ErrInvalidProof, err)
		}
		b = rest
		want := -1
		switch num {
		case fieldStart, fieldEnd, fieldIgnoreMax:
			want = pbwire.WireVarint
		case fieldNodes, fieldLeafHash:
			want = pbwire.WireBytes
		}
		if want >= 0 && wt != want {
			return Proof{}, fmt.Errorf("%w: field %d has wire type %d, want %d", ErrInvalidProof, num, wt, want)
		}
		switch num {
		case fieldStart, fieldEnd, fieldIgnoreMax:
			v, rest, err := pbwire.ConsumeVarint(b)
			if err != nil {
				return Proof{}, fmt.Errorf("%w: field %d: %w", ErrInvalidProof, num, err)
			}
			b = rest
			switch num {
			case fieldStart:
				start = v
			case fieldEnd:
				end = v
			default:
				p.ignoreMax = v != 0
			}
		case fieldNodes, fieldLeafHash:
			v, rest, err := pbwire.ConsumeBytes(b)
			if err != nil {
				return Proof{}, fmt.Errorf("%w: field %d: %w", ErrInvalidProof, num, err)
			}
			b = rest
			if num == fieldLeafHash {
				if len(v) != 0 && len(v) != NodeSize {
					return Proof{}, fmt.Errorf("%w: leaf hash: %w: %d bytes", ErrInvalidProof, ErrInvalidNodeSize, len(v))
				}
				p.leafHash = v // copied below
				continue
			}
			if len(p.nodes) >= MaxProofNodes*NodeSize {
				return Proof{}, fmt.Errorf("%w: more than %d nodes", ErrInvalidProof, MaxProofNodes)
			}
			if err := ValidateNode(v); err != nil {
				return Proof{}, fmt.Errorf("%w: node %d: %w", ErrInvalidProof, len(p.nodes)/NodeSize, err)
			}
			if p.nodes == nil {
				p.nodes = make([]byte, 0, 8*NodeSize)
			}
			p.nodes = append(p.nodes, v...)
		default:
			rest, err := pbwire.SkipField(b, wt)
			if err != nil {
				return Proof{}, fmt.Errorf("%w: field %d: %w", ErrInvalidProof, num, err)
			}
			b = rest
		}
	}
	// int64 values arrive as uint64; negative ones are huge here and fail
	// the bound like any other out-of-range value.
	if start > MaxLeaves || end > MaxLeaves {
		return Proof{}, fmt.Errorf("%w: %w: start %d, end %d (as int64: %d, %d)", ErrInvalidProof, ErrInvalidRange, start, end, int64(start), int64(end))
	}
	p.start, p.end = int(start), int(end)
	if len(p.leafHash) == 0 {
		p.leafHash = nil
	} else {
		p.leafHash = bytes.Clone(p.leafHash)
	}
	if err := checkProofShape(p.start, p.end, len(p.nodes)/NodeSize, p.leafHash); err != nil {
		return Proof{}, err
	}
	return p, nil
}
