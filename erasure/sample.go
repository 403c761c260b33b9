package erasure

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/nmt/merkle"
)

// Sample proves that one share sits at (row, col) of the extended square
// committed to by a data root, without the DAH: it carries the share, its
// single-leaf NMT inclusion proof in its row tree (or column tree), that
// axis's root, and the RFC-6962 proof of the axis root in the data root.
//
// A Sample that exists is well formed (coordinates, sizes and proof shapes
// match; see NewSample) but not verified: use VerifySample. It is immutable
// and safe for concurrent use; accessors return copies.
type Sample struct {
	row, col  int
	axis      Axis
	share     []byte
	proof     nmt.Proof
	axisRoot  []byte
	rootProof merkle.Proof
	width     int
}

// Row returns the sample's row in the extended square.
func (s *Sample) Row() int { return s.row }

// Col returns the sample's column in the extended square.
func (s *Sample) Col() int { return s.col }

// Axis returns the axis whose tree the share is proven in.
func (s *Sample) Axis() Axis { return s.axis }

// Width returns the width 2k of the extended square the sample is from.
func (s *Sample) Width() int { return s.width }

// Share returns a copy of the share.
func (s *Sample) Share() []byte { return bytes.Clone(s.share) }

// Proof returns the share's NMT inclusion proof in its axis tree.
func (s *Sample) Proof() nmt.Proof { return s.proof }

// AxisRoot returns a copy of the root of the axis the share is proven in.
func (s *Sample) AxisRoot() []byte { return bytes.Clone(s.axisRoot) }

// RootProof returns the inclusion proof of the axis root in the data root.
func (s *Sample) RootProof() merkle.Proof { return s.rootProof }

// axisPos returns the index of the sample's axis and the share's position
// along it.
func axisPos(a Axis, row, col int) (index, pos int) {
	if a == Row {
		return row, col
	}
	return col, row
}

// log2 of a power of two.
func log2(n int) int { return bits.TrailingZeros(uint(n)) }

// checkWidth checks that width is 2k for a supported k.
func checkWidth(width int) error {
	if width%2 != 0 || !validODSWidth(width/2) {
		return fmt.Errorf("%w: width %d is not 2k for a power of two k in 1..%d", ErrWrongCoordinate, width, MaxODSWidth)
	}
	return nil
}

// NewSample validates the parts of a sample from a square of the given
// width (2k) and assembles them; the slices are copied. It checks shapes
// only: coordinates in range, a ShareSize share, a RootSize axis root that
// is a valid NMT node, an NMT proof of exactly the share's position with
// log2(width) nodes and IgnoreMaxNamespace, and a root proof of the axis
// root's leaf in a tree of 2·width leaves. It does not verify anything;
// errors wrap ErrWrongCoordinate or ErrInvalidProof.
func NewSample(width, row, col int, a Axis, share []byte, proof nmt.Proof, axisRoot []byte, rootProof merkle.Proof) (*Sample, error) {
	if err := checkWidth(width); err != nil {
		return nil, err
	}
	if a > Col || uint(row) >= uint(width) || uint(col) >= uint(width) {
		return nil, fmt.Errorf("%w: (%d, %d) along %s in width %d", ErrWrongCoordinate, row, col, a, width)
	}
	if len(share) != ShareSize {
		return nil, fmt.Errorf("%w: share is %d bytes, want %d", ErrInvalidProof, len(share), ShareSize)
	}
	if err := nmt.ValidateNode(axisRoot); err != nil {
		return nil, fmt.Errorf("%w: axis root: %w", ErrInvalidProof, err)
	}
	index, pos := axisPos(a, row, col)
	if proof.Start() != pos || proof.End() != pos+1 || proof.IsAbsence() || !proof.IsMaxNamespaceIgnored() || proof.NumNodes() != log2(width) {
		return nil, fmt.Errorf("%w: NMT proof [%d, %d) with %d nodes, want [%d, %d) with %d nodes and IgnoreMaxNamespace",
			ErrInvalidProof, proof.Start(), proof.End(), proof.NumNodes(), pos, pos+1, log2(width))
	}
	leaf := int(a)*width + index
	if rootProof.Total() != int64(2*width) || rootProof.Index() != int64(leaf) {
		return nil, fmt.Errorf("%w: root proof for leaf %d of %d, want %d of %d", ErrInvalidProof, rootProof.Index(), rootProof.Total(), leaf, 2*width)
	}
	return &Sample{
		row: row, col: col, axis: a, width: width,
		share:     bytes.Clone(share),
		proof:     proof,
		axisRoot:  bytes.Clone(axisRoot),
		rootProof: rootProof,
	}, nil
}

// ProveSample builds the sample of the share at (row, col) of s, proven in
// its row tree (a = Row) or its column tree (a = Col). d must be s's DAH:
// the axis tree is rebuilt, which costs O(width) hashes, and its root is
// compared with d's (ErrDAHMismatch otherwise).
func (e *Extender) ProveSample(s *ExtendedSquare, d *DAH, row, col int, a Axis) (*Sample, error) {
	if s == nil || !validODSWidth(s.k) {
		return nil, fmt.Errorf("%w: empty or invalid square", ErrInvalidWidth)
	}
	w := s.Width()
	if d.Width() != w {
		return nil, fmt.Errorf("%w: DAH of width %d for a square of width %d", ErrDAHMismatch, d.Width(), w)
	}
	if a > Col || uint(row) >= uint(w) || uint(col) >= uint(w) {
		return nil, fmt.Errorf("%w: (%d, %d) along %s in width %d", ErrWrongCoordinate, row, col, a, w)
	}
	index, pos := axisPos(a, row, col)
	trees := e.getTrees(1, w)
	defer e.putTrees(trees)
	t := trees[0]
	if err := t.buildAxis(s, a, index); err != nil {
		return nil, err
	}
	var rootBuf [RootSize]byte
	root := t.tree.AppendRoot(rootBuf[:0])
	if !bytes.Equal(root, d.root(a, index)) {
		return nil, fmt.Errorf("%w: %s %d", ErrDAHMismatch, a, index)
	}
	proof, err := t.tree.Prove(pos)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	rootProof, err := d.ProveRoot(a, index)
	if err != nil {
		return nil, err
	}
	return &Sample{
		row: row, col: col, axis: a, width: w,
		share:     bytes.Clone(s.Cell(row, col)),
		proof:     proof,
		axisRoot:  bytes.Clone(root),
		rootProof: rootProof,
	}, nil
}

// VerifySample checks that smp proves the share at (row, col) of the
// extended square of the given width (2k) whose data root is dataRoot.
// dataRoot, width, row and col are the caller's (trusted) expectations;
// everything in smp is untrusted. It checks, in order: the coordinates
// and width against smp's; the NMT proof of the share, prefixed with its
// own namespace in Q0 and the parity namespace elsewhere, against the axis
// root; the axis root's proof against dataRoot. Errors wrap
// ErrWrongCoordinate or ErrInvalidProof (and the nmt or merkle error).
func VerifySample(dataRoot []byte, width, row, col int, smp *Sample) error {
	if err := checkWidth(width); err != nil {
		return err
	}
	if uint(row) >= uint(width) || uint(col) >= uint(width) {
		return fmt.Errorf("%w: (%d, %d) outside width %d", ErrWrongCoordinate, row, col, width)
	}
	if smp == nil {
		return fmt.Errorf("%w: nil sample", ErrInvalidProof)
	}
	if smp.width != width || smp.row != row || smp.col != col {
		return fmt.Errorf("%w: sample for (%d, %d) of width %d, want (%d, %d) of width %d",
			ErrWrongCoordinate, smp.row, smp.col, smp.width, row, col, width)
	}
	if len(dataRoot) != DataRootSize {
		return fmt.Errorf("%w: data root is %d bytes", ErrInvalidProof, len(dataRoot))
	}
	// Shapes are re-checked so that a Sample built by hand (the zero
	// value) cannot pass.
	index, pos := axisPos(smp.axis, row, col)
	p := smp.proof
	if smp.axis > Col || len(smp.share) != ShareSize || p.Start() != pos || p.End() != pos+1 ||
		p.IsAbsence() || !p.IsMaxNamespaceIgnored() || p.NumNodes() != log2(width) {
		return fmt.Errorf("%w: malformed sample", ErrInvalidProof)
	}
	ns := []byte(parityNamespace)
	if k := width / 2; row < k && col < k {
		ns = smp.share[:NamespaceSize]
	}
	if err := p.VerifyInclusionWithNamespace(smp.axisRoot, ns, smp.share); err != nil {
		return fmt.Errorf("%w: share (%d, %d) in %s %d: %w", ErrInvalidProof, row, col, smp.axis, index, err)
	}
	return VerifyRoot(dataRoot, width, smp.axis, index, smp.axisRoot, smp.rootProof)
}

// SampleSize returns the size of a sample's binary encoding for a square of
// the given width (2k), or 0 for an unsupported width (bytes).
func SampleSize(width int) int {
	if checkWidth(width) != nil {
		return 0
	}
	return sampleHeaderSize + ShareSize + log2(width)*nmt.NodeSize + RootSize + log2(2*width)*merkle.HashSize
}

// sampleHeaderSize is axis (1) ‖ BE16 row ‖ BE16 col (bytes).
const sampleHeaderSize = 5

// AppendBinary appends the sample's encoding, whose layout is fixed by the
// width: axis (1 byte: 0 row, 1 col) ‖ BE16 row ‖ BE16 col ‖ share ‖ the
// log2(width) NMT proof nodes ‖ axis root ‖ the log2(2·width) root proof
// aunts, bottom-up. The proof range and both leaf hashes are implied.
func (s *Sample) AppendBinary(b []byte) ([]byte, error) {
	if SampleSize(s.width) == 0 {
		return nil, fmt.Errorf("%w: zero or malformed Sample", ErrInvalidProof)
	}
	b = append(b, byte(s.axis))
	b = binary.BigEndian.AppendUint16(b, uint16(s.row))
	b = binary.BigEndian.AppendUint16(b, uint16(s.col))
	b = append(b, s.share...)
	for _, n := range s.proof.Nodes() {
		b = append(b, n...)
	}
	b = append(b, s.axisRoot...)
	for _, a := range s.rootProof.Aunts() {
		b = append(b, a...)
	}
	return b, nil
}

// MarshalBinary encodes the sample; see AppendBinary.
func (s *Sample) MarshalBinary() ([]byte, error) {
	return s.AppendBinary(make([]byte, 0, SampleSize(s.width)))
}

// ParseSample decodes a sample of a square of the given width (2k) from its
// binary encoding (see AppendBinary) and checks it as NewSample does. b is
// untrusted: its length must be exactly SampleSize(width) and the result
// holds no reference to it. It does not verify the sample.
func ParseSample(b []byte, width int) (*Sample, error) {
	size := SampleSize(width)
	if size == 0 {
		return nil, checkWidth(width)
	}
	if len(b) != size {
		return nil, fmt.Errorf("%w: encoding of %d bytes, want %d for width %d", ErrInvalidProof, len(b), size, width)
	}
	if b[0] > byte(Col) {
		return nil, fmt.Errorf("%w: axis byte %d", ErrInvalidProof, b[0])
	}
	a := Axis(b[0])
	row, col := int(binary.BigEndian.Uint16(b[1:])), int(binary.BigEndian.Uint16(b[3:]))
	if uint(row) >= uint(width) || uint(col) >= uint(width) {
		return nil, fmt.Errorf("%w: (%d, %d) outside width %d", ErrWrongCoordinate, row, col, width)
	}
	b = b[sampleHeaderSize:]
	share, b := b[:ShareSize], b[ShareSize:]
	nodes := make([][]byte, log2(width))
	for i := range nodes {
		nodes[i], b = b[:nmt.NodeSize], b[nmt.NodeSize:]
	}
	axisRoot, b := b[:RootSize], b[RootSize:]
	aunts := make([][]byte, log2(2*width))
	for i := range aunts {
		aunts[i], b = b[:merkle.HashSize], b[merkle.HashSize:]
	}
	index, pos := axisPos(a, row, col)
	proof, err := nmt.NewProof(pos, pos+1, nodes, nil, true)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	rootProof, err := merkle.NewProof(int64(2*width), int64(int(a)*width+index), merkle.ComputeLeafHash(axisRoot), aunts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	return NewSample(width, row, col, a, share, proof, axisRoot, rootProof)
}
