package erasure

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/tessera-da/tessera/nmt"
)

// ByzantineError is evidence that the square a DAH commits to is not a
// valid erasure coding: along axis Axis, index Index, the shares given
// (each a committed leaf of the orthogonal axis's tree) rebuild to an axis
// whose root differs from the DAH's root for (Axis, Index), or to an axis
// no tree can commit to.
//
// Repair returns it (wrapping ErrByzantineData). NewBadEncodingProof turns
// it into a BadEncodingProof that a light node holding only the DAH can
// verify.
type ByzantineError struct {
	// Axis and Index name the row or column that does not decode to its
	// root.
	Axis  Axis
	Index int
	// Shares has one entry per position of the axis (Width() entries):
	// the shares used as evidence, nil elsewhere. Repair gives exactly k
	// shares: those of the axis as it knew them that it could prove, chosen
	// so that decoding exactly these reproduces the fraud (see Repair).
	Shares [][]byte
	// Proofs[j] is the NMT inclusion proof of Shares[j] at position Index
	// of the orthogonal axis j (column j for a row, row j for a column),
	// against that axis's root in the DAH. The zero Proof where Shares[j]
	// is nil.
	Proofs []nmt.Proof
}

// Error describes the fraud.
func (e *ByzantineError) Error() string {
	n := 0
	for _, s := range e.Shares {
		if s != nil {
			n++
		}
	}
	return fmt.Sprintf("%v: %s %d does not decode to its root (%d shares proven against the %s roots)",
		ErrByzantineData, e.Axis, e.Index, n, 1-e.Axis)
}

// Unwrap returns ErrByzantineData.
func (e *ByzantineError) Unwrap() error { return ErrByzantineData }

// BadEncodingProofVersion is the version byte of the BadEncodingProof
// encoding.
const BadEncodingProofVersion = 1

// befpHeaderSize is version (1) ‖ axis (1) ‖ BE16 k ‖ BE16 index ‖ data
// root (bytes).
const befpHeaderSize = 1 + 1 + 2 + 2 + DataRootSize

// befpBitmapSize is the size of the presence bitmap for ODS width k
// (bytes): one bit per position of the axis.
func befpBitmapSize(k int) int { return (2*k + 7) / 8 }

// befpShareSize is the encoded size of one share with its proof for ODS
// width k: the share and log2(2k) proof nodes (bytes).
func befpShareSize(k int) int { return ShareSize + log2(2*k)*nmt.NodeSize }

// MaxBadEncodingProofSize returns the largest encoding of a
// BadEncodingProof for ODS width k, with all 2k shares present, or 0 when
// k is not a power of two in [1, MaxODSWidth] (bytes). At k = 512 it is
// 1,446,054 bytes; Repair's proofs carry k shares, about half of it.
func MaxBadEncodingProofSize(k int) int {
	if !validODSWidth(k) {
		return 0
	}
	return befpHeaderSize + befpBitmapSize(k) + 2*k*befpShareSize(k)
}

// BadEncodingProof proves to anyone holding a DAH that the square it
// commits to is not a valid erasure coding (FORMAT.md §11). It carries the
// data root, the axis and index that fail, the ODS width k, and at least k
// of that axis's shares, each with its NMT inclusion proof against the
// orthogonal root (so each share is checked against the DAH alone).
//
// A BadEncodingProof that exists is well formed (NewBadEncodingProof,
// ParseBadEncodingProof) but not verified: use Verify. It is immutable and
// safe for concurrent use.
type BadEncodingProof struct {
	axis     Axis
	index    int
	k        int
	dataRoot [DataRootSize]byte
	shares   [][]byte    // 2k entries, nil where absent
	proofs   []nmt.Proof // 2k entries
	present  int
}

// NewBadEncodingProof validates the evidence of a ByzantineError for the
// square committed to by d and copies it into a BadEncodingProof. It checks
// shapes only: d's width, the axis and index, one share slot per position,
// at least k shares of ShareSize bytes, and for each a single-leaf proof at
// position Index with log2(Width()) nodes and IgnoreMaxNamespace. Errors wrap
// ErrInvalidProof (and ErrWrongCoordinate for coordinates).
func NewBadEncodingProof(d *DAH, e *ByzantineError) (*BadEncodingProof, error) {
	if e == nil {
		return nil, fmt.Errorf("%w: nil evidence", ErrInvalidProof)
	}
	w := d.Width()
	if w == 0 {
		return nil, fmt.Errorf("%w: nil or empty DAH", ErrInvalidDAH)
	}
	if len(e.Shares) != w || len(e.Proofs) != w {
		return nil, fmt.Errorf("%w: %d shares and %d proofs for width %d", ErrInvalidProof, len(e.Shares), len(e.Proofs), w)
	}
	p := &BadEncodingProof{axis: e.Axis, index: e.Index, k: w / 2, shares: make([][]byte, w), proofs: make([]nmt.Proof, w)}
	copy(p.dataRoot[:], d.Hash())
	if err := p.checkHeader(); err != nil {
		return nil, err
	}
	for j, s := range e.Shares {
		if s == nil {
			continue
		}
		if err := p.checkShare(j, s, e.Proofs[j]); err != nil {
			return nil, err
		}
		p.shares[j] = bytes.Clone(s)
		p.proofs[j] = e.Proofs[j]
		p.present++
	}
	if p.present < p.k {
		return nil, fmt.Errorf("%w: %d shares, need at least k = %d", ErrInvalidProof, p.present, p.k)
	}
	return p, nil
}

// checkHeader checks the axis and index against k.
func (p *BadEncodingProof) checkHeader() error {
	if p.axis > Col || uint(p.index) >= uint(2*p.k) {
		return fmt.Errorf("%w: %w: %s %d of width %d", ErrInvalidProof, ErrWrongCoordinate, p.axis, p.index, 2*p.k)
	}
	return nil
}

// checkShare checks the shape of share j and its proof.
func (p *BadEncodingProof) checkShare(j int, s []byte, pr nmt.Proof) error {
	if len(s) != ShareSize {
		return fmt.Errorf("%w: share %d has %d bytes, want %d", ErrInvalidProof, j, len(s), ShareSize)
	}
	if pr.Start() != p.index || pr.End() != p.index+1 || pr.IsAbsence() || !pr.IsMaxNamespaceIgnored() || pr.NumNodes() != log2(2*p.k) {
		return fmt.Errorf("%w: proof of share %d covers [%d, %d) with %d nodes, want [%d, %d) with %d nodes and IgnoreMaxNamespace",
			ErrInvalidProof, j, pr.Start(), pr.End(), pr.NumNodes(), p.index, p.index+1, log2(2*p.k))
	}
	return nil
}

// Axis returns the axis of the row or column the proof is about.
func (p *BadEncodingProof) Axis() Axis { return p.axis }

// Index returns the index of the row or column the proof is about.
func (p *BadEncodingProof) Index() int { return p.index }

// ODSWidth returns k, the width of the original data square.
func (p *BadEncodingProof) ODSWidth() int { return p.k }

// DataRoot returns a copy of the data root the proof is for.
func (p *BadEncodingProof) DataRoot() []byte { return bytes.Clone(p.dataRoot[:]) }

// Evidence returns the proof's shares and proofs as a ByzantineError
// (copies).
func (p *BadEncodingProof) Evidence() *ByzantineError {
	e := &ByzantineError{Axis: p.axis, Index: p.index, Shares: make([][]byte, len(p.shares)), Proofs: make([]nmt.Proof, len(p.proofs))}
	for j, s := range p.shares {
		e.Shares[j] = bytes.Clone(s)
	}
	copy(e.Proofs, p.proofs)
	return e
}

// Size returns the size of the proof's encoding (bytes).
func (p *BadEncodingProof) Size() int {
	if p == nil || !validODSWidth(p.k) {
		return 0
	}
	return befpHeaderSize + befpBitmapSize(p.k) + p.present*befpShareSize(p.k)
}

// AppendBinary appends the proof's encoding, version 1:
//
//	version (1 byte, 1) ‖ axis (1 byte: 0 row, 1 col) ‖ BE16 k ‖ BE16 index ‖
//	data root (32 bytes) ‖ presence bitmap (ceil(2k/8) bytes; bit j, most
//	significant first, set when share j is present; padding bits zero) ‖
//	for each present share j in ascending order: share (ShareSize bytes) ‖
//	the log2(2k) nodes of its proof (nmt.NodeSize bytes each, proof order).
//
// Each proof's range is [index, index+1) and IgnoreMaxNamespace is on, so
// neither is encoded. The layout is canonical: one proof has one encoding.
func (p *BadEncodingProof) AppendBinary(b []byte) ([]byte, error) {
	if p.Size() == 0 {
		return nil, fmt.Errorf("%w: zero or malformed BadEncodingProof", ErrInvalidProof)
	}
	b = append(b, BadEncodingProofVersion, byte(p.axis))
	b = binary.BigEndian.AppendUint16(b, uint16(p.k))
	b = binary.BigEndian.AppendUint16(b, uint16(p.index))
	b = append(b, p.dataRoot[:]...)
	bm := len(b)
	b = append(b, make([]byte, befpBitmapSize(p.k))...)
	for j, s := range p.shares {
		if s == nil {
			continue
		}
		b[bm+j/8] |= 0x80 >> (j % 8)
		b = append(b, s...)
		for _, n := range p.proofs[j].Nodes() {
			b = append(b, n...)
		}
	}
	return b, nil
}

// MarshalBinary encodes the proof; see AppendBinary.
func (p *BadEncodingProof) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, p.Size()))
}

// ParseBadEncodingProof decodes a proof from its encoding (see
// AppendBinary) and checks its shape as NewBadEncodingProof does. b is
// untrusted: its length is checked against MaxBadEncodingProofSize of the
// largest k before anything is read, and against the exact size its header
// and bitmap imply before anything is allocated. The result holds no
// reference to b. It does not verify the proof. Errors wrap
// ErrInvalidProof.
func ParseBadEncodingProof(b []byte) (*BadEncodingProof, error) {
	if len(b) > MaxBadEncodingProofSize(MaxODSWidth) {
		return nil, fmt.Errorf("%w: encoding of %d bytes exceeds %d", ErrInvalidProof, len(b), MaxBadEncodingProofSize(MaxODSWidth))
	}
	if len(b) < befpHeaderSize {
		return nil, fmt.Errorf("%w: encoding of %d bytes is shorter than the %d-byte header", ErrInvalidProof, len(b), befpHeaderSize)
	}
	if b[0] != BadEncodingProofVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrInvalidProof, b[0], BadEncodingProofVersion)
	}
	if b[1] > byte(Col) {
		return nil, fmt.Errorf("%w: axis byte %d", ErrInvalidProof, b[1])
	}
	k := int(binary.BigEndian.Uint16(b[2:]))
	if !validODSWidth(k) {
		return nil, fmt.Errorf("%w: %w: k = %d is not a power of two in 1..%d", ErrInvalidProof, ErrInvalidWidth, k, MaxODSWidth)
	}
	p := &BadEncodingProof{axis: Axis(b[1]), index: int(binary.BigEndian.Uint16(b[4:])), k: k}
	if err := p.checkHeader(); err != nil {
		return nil, err
	}
	copy(p.dataRoot[:], b[6:befpHeaderSize])
	b = b[befpHeaderSize:]
	w, bm := 2*k, befpBitmapSize(k)
	if len(b) < bm {
		return nil, fmt.Errorf("%w: truncated bitmap", ErrInvalidProof)
	}
	bitmap := b[:bm]
	present := 0
	for _, x := range bitmap {
		present += bits.OnesCount8(x)
	}
	if w%8 != 0 && bitmap[bm-1]&(0xff>>(w%8)) != 0 {
		return nil, fmt.Errorf("%w: padding bits set in the bitmap", ErrInvalidProof)
	}
	if present < k {
		return nil, fmt.Errorf("%w: %d shares, need at least k = %d", ErrInvalidProof, present, k)
	}
	b = b[bm:]
	if len(b) != present*befpShareSize(k) {
		return nil, fmt.Errorf("%w: %d bytes for %d shares, want %d", ErrInvalidProof, len(b), present, present*befpShareSize(k))
	}
	p.shares, p.proofs = make([][]byte, w), make([]nmt.Proof, w)
	shares := make([]byte, 0, present*ShareSize)
	nodes := make([][]byte, log2(w))
	for j := range w {
		if bitmap[j/8]&(0x80>>(j%8)) == 0 {
			continue
		}
		shares = append(shares, b[:ShareSize]...)
		b = b[ShareSize:]
		for n := range nodes {
			nodes[n], b = b[:nmt.NodeSize], b[nmt.NodeSize:]
		}
		pr, err := nmt.NewProof(p.index, p.index+1, nodes, nil, true)
		if err != nil {
			return nil, fmt.Errorf("%w: proof of share %d: %w", ErrInvalidProof, j, err)
		}
		off := len(shares) - ShareSize
		p.shares[j] = shares[off:len(shares):len(shares)]
		p.proofs[j] = pr
		p.present++
	}
	return p, nil
}

// Verify checks the proof against d, the DAH of the block it claims is
// badly encoded; d is trusted (its hash is in a verified header), the
// proof is not. It returns nil only when fraud is real:
//
//  1. d's data root and width equal the proof's;
//  2. every share's proof verifies against d's orthogonal root at position
//     Index (share j of row i is cell (i, j), proven in column j), with the
//     share's own namespace in Q0 and the parity namespace elsewhere;
//  3. the k or more shares are decoded with the Leopard codec, the data
//     half re-encoded, and the axis's NMT rebuilt with the Celestia wrapper
//     rule; the result's root differs from d's root for (Axis, Index), or
//     no tree can commit to it (its Q0 namespaces decrease).
//
// If d commits to a valid square, every proven share is a cell of it, so
// the decoded axis is that square's axis and its root is d's: step 3
// fails. Unlike celestia-node, a decoding failure is not taken as fraud
// (it cannot happen with Leopard and k shares); it is reported wrapping
// ErrCodec. Other failures wrap ErrInvalidProof.
//
// Verify uses a fresh LeopardCodec, whose codec allocates its work space
// (2k·32 KiB while k ≤ 128); Extender.VerifyBadEncodingProof reuses the
// Extender's codec.
func (p *BadEncodingProof) Verify(d *DAH) error {
	return p.verify(d, NewLeopardCodec())
}

// VerifyBadEncodingProof is p.Verify(d) with the Extender's codec, which
// keeps its work space between calls. Use it with the default codec: the
// proofs are defined with Leopard.
func (e *Extender) VerifyBadEncodingProof(p *BadEncodingProof, d *DAH) error {
	return p.verify(d, e.codec)
}

func (p *BadEncodingProof) verify(d *DAH, codec Codec) error {
	if p == nil || p.Size() == 0 {
		return fmt.Errorf("%w: nil or zero BadEncodingProof", ErrInvalidProof)
	}
	w := 2 * p.k
	if d.Width() != w {
		return fmt.Errorf("%w: proof for width %d, DAH of width %d", ErrInvalidProof, w, d.Width())
	}
	if !bytes.Equal(d.Hash(), p.dataRoot[:]) {
		return fmt.Errorf("%w: proof for data root %x, DAH hashes to %x", ErrInvalidProof, p.dataRoot, d.Hash())
	}
	// Shapes are re-checked so that a value built by hand cannot pass.
	if err := p.checkHeader(); err != nil {
		return err
	}
	if len(p.shares) != w || len(p.proofs) != w {
		return fmt.Errorf("%w: malformed BadEncodingProof", ErrInvalidProof)
	}
	present := 0
	parity := []byte(parityNamespace)
	for j, s := range p.shares {
		if s == nil {
			continue
		}
		if err := p.checkShare(j, s, p.proofs[j]); err != nil {
			return err
		}
		present++
		ns := parity
		if p.index < p.k && j < p.k {
			ns = s[:NamespaceSize]
		}
		if err := p.proofs[j].VerifyInclusionWithNamespace(d.root(1-p.axis, j), ns, s); err != nil {
			return fmt.Errorf("%w: share %d of %s %d in %s %d: %w", ErrInvalidProof, j, p.axis, p.index, 1-p.axis, j, err)
		}
	}
	if present < p.k {
		return fmt.Errorf("%w: %d shares, need at least k = %d", ErrInvalidProof, present, p.k)
	}
	dc := newAxisDecoder(codec, newAxisTrees(w), w)
	root, committed, err := dc.rebuild(p.index, func(j int) []byte { return p.shares[j] })
	if err != nil {
		return err
	}
	if committed && bytes.Equal(root, d.root(p.axis, p.index)) {
		return fmt.Errorf("%w: %s %d decodes to its root in the DAH: no bad encoding", ErrInvalidProof, p.axis, p.index)
	}
	return nil
}
