package blob

import (
	"encoding/binary"
	"fmt"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/nmt/merkle"
	"github.com/tessera-da/tessera/share"
)

// Binary encoding of a CommitmentProof, for records that embed many
// (training-data proofs): about two thirds of its JSON (TestTrainEndToEnd
// logs both sizes).
//
//	u8 version (1) ‖ namespace (29 B)
//	‖ BE16 n ‖ n × (BE16 len ‖ subtree root)
//	‖ BE16 m ‖ m × (BE32 len ‖ nmt.Proof binary)
//	‖ BE16 startRow ‖ BE16 endRow ‖ BE16 r ‖ r × (BE16 len ‖ row root ‖ BE32 len ‖ merkle.Proof binary)
//
// Decoding checks every count and length against the bytes left and the
// package limits before allocating, accepts only the canonical encoding,
// and validates the result as NewCommitmentProof does.
const commitmentProofBinaryVersion = 1

// MaxCommitmentProofBinarySize bounds an encoded commitment proof (bytes).
const MaxCommitmentProofBinarySize = 4 << 20

// AppendBinary appends cp's binary encoding to b.
func (cp *CommitmentProof) AppendBinary(b []byte) ([]byte, error) {
	if cp == nil || len(cp.subtreeRoots) == 0 {
		return nil, fmt.Errorf("%w: empty commitment proof", ErrInvalidProof)
	}
	b = append(b, commitmentProofBinaryVersion)
	b = append(b, cp.ns.Bytes()...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(cp.subtreeRoots)))
	for _, r := range cp.subtreeRoots {
		b = binary.BigEndian.AppendUint16(b, uint16(len(r)))
		b = append(b, r...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(cp.subtreeRootProofs)))
	var err error
	for _, p := range cp.subtreeRootProofs {
		at := len(b)
		b = append(b, 0, 0, 0, 0)
		if b, err = p.AppendBinary(b); err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	}
	rp := cp.rowProof
	b = binary.BigEndian.AppendUint16(b, uint16(rp.startRow))
	b = binary.BigEndian.AppendUint16(b, uint16(rp.endRow))
	b = binary.BigEndian.AppendUint16(b, uint16(len(rp.rowRoots)))
	for i, r := range rp.rowRoots {
		b = binary.BigEndian.AppendUint16(b, uint16(len(r)))
		b = append(b, r...)
		at := len(b)
		b = append(b, 0, 0, 0, 0)
		if b, err = rp.proofs[i].AppendBinary(b); err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	}
	return b, nil
}

// MarshalBinary returns cp's binary encoding.
func (cp *CommitmentProof) MarshalBinary() ([]byte, error) { return cp.AppendBinary(nil) }

// UnmarshalBinary decodes and validates a commitment proof from untrusted
// bytes (the canonical encoding only). On error cp is unchanged. Errors
// wrap ErrInvalidProof.
func (cp *CommitmentProof) UnmarshalBinary(b []byte) error {
	if len(b) > MaxCommitmentProofBinarySize {
		return fmt.Errorf("%w: %d bytes, max %d", ErrInvalidProof, len(b), MaxCommitmentProofBinarySize)
	}
	d := cpDecoder{b: b}
	if v := d.u8(); d.err == nil && v != commitmentProofBinaryVersion {
		return fmt.Errorf("%w: binary version %d", ErrInvalidProof, v)
	}
	nsb := d.take(share.NamespaceSize)
	n := d.count(MaxSubtreeRoots, 2)
	var roots [][]byte
	for range n {
		roots = append(roots, d.take(int(d.u16())))
	}
	m := d.count(erasure.MaxODSWidth, 4)
	var proofs []nmt.Proof
	for range m {
		pb := d.take(int(d.u32()))
		if d.err != nil {
			break
		}
		p, err := nmt.ParseProof(pb)
		if err != nil {
			return fmt.Errorf("%w: subtree root proof: %w", ErrInvalidProof, err)
		}
		proofs = append(proofs, p)
	}
	start, end := int(d.u16()), int(d.u16())
	r := d.count(erasure.MaxODSWidth, 6)
	var rowRoots [][]byte
	var rowProofs []merkle.Proof
	for range r {
		rowRoots = append(rowRoots, d.take(int(d.u16())))
		pb := d.take(int(d.u32()))
		if d.err != nil {
			break
		}
		p, err := merkle.ParseProof(pb)
		if err != nil {
			return fmt.Errorf("%w: row proof: %w", ErrInvalidProof, err)
		}
		rowProofs = append(rowProofs, p)
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d bytes after the commitment proof", ErrInvalidProof, len(d.b))
	}
	ns, err := share.NewNamespaceFromBytes(nsb)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	rp, err := NewRowProof(rowRoots, rowProofs, start, end)
	if err != nil {
		return err
	}
	v, err := NewCommitmentProof(roots, proofs, ns, rp)
	if err != nil {
		return err
	}
	if re, err := v.MarshalBinary(); err != nil || string(re) != string(b) {
		return fmt.Errorf("%w: not the canonical encoding", ErrInvalidProof)
	}
	*cp = *v
	return nil
}

// cpDecoder reads big-endian fields, remembering the first error.
type cpDecoder struct {
	b   []byte
	err error
}

func (d *cpDecoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = fmt.Errorf("%w: truncated (want %d bytes, %d left)", ErrInvalidProof, n, len(d.b))
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *cpDecoder) u8() uint8 {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *cpDecoder) u16() uint16 {
	if b := d.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (d *cpDecoder) u32() uint32 {
	if b := d.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// count reads a BE16 count, refusing more than max or more items than
// the bytes left could hold at minSize bytes each.
func (d *cpDecoder) count(max, minSize int) int {
	n := int(d.u16())
	if d.err == nil && (n > max || n*minSize > len(d.b)) {
		d.err = fmt.Errorf("%w: count %d (max %d, %d bytes left)", ErrInvalidProof, n, max, len(d.b))
	}
	if d.err != nil {
		return 0
	}
	return n
}
