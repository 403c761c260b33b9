package blob

import (
	"encoding/binary"
	"fmt"

	"github.com/tessera-da/tessera/share"
)

// PayForBlobs is Tessera's pay-for-blobs record: the inner transaction of
// every blob transaction a Tessera producer puts in a square. It names, for
// each blob in order, its namespace, data size, share version and
// commitment, and the signer (empty for unsigned submissions). It carries no
// fee: a Tessera network has no accounts.
//
// Encoding (deterministic, all integers unsigned LEB128 varints):
//
//	"TPFB" ‖ version (1) ‖ len(signer) ‖ signer ‖ count ‖ count × (
//	    namespace (29 bytes) ‖ data size ‖ share version (1 byte) ‖ commitment (32 bytes))
type PayForBlobs struct {
	Signer []byte
	Blobs  []PFBEntry
}

// PFBEntry describes one blob of a PayForBlobs.
type PFBEntry struct {
	Namespace    share.Namespace
	DataSize     uint32
	ShareVersion uint8
	Commitment   [CommitmentSize]byte
}

const (
	pfbMagic        = "TPFB"
	pfbVersion      = 1
	maxPFBSignerLen = 64    // bytes
	maxPFBBlobs     = 65536 // blobs per record
	pfbEntrySize    = share.NamespaceSize + 1 + CommitmentSize
)

// NewPayForBlobs describes blobs (all with the same signer, possibly none).
func NewPayForBlobs(blobs []*Blob) (*PayForBlobs, error) {
	if len(blobs) == 0 || len(blobs) > maxPFBBlobs {
		return nil, fmt.Errorf("%w: %d blobs in one submission (1 to %d allowed)", ErrInvalidPFB, len(blobs), maxPFBBlobs)
	}
	p := &PayForBlobs{Signer: blobs[0].Signer()}
	for i, b := range blobs {
		if string(b.Signer()) != string(p.Signer) {
			return nil, fmt.Errorf("%w: blob %d has another signer than blob 0", ErrInvalidPFB, i)
		}
		e := PFBEntry{Namespace: b.Namespace(), DataSize: uint32(len(b.Data())), ShareVersion: b.ShareVersion()}
		copy(e.Commitment[:], b.Commitment())
		p.Blobs = append(p.Blobs, e)
	}
	return p, nil
}

// Marshal encodes the record.
func (p *PayForBlobs) Marshal() []byte {
	out := make([]byte, 0, len(pfbMagic)+1+binary.MaxVarintLen32*2+len(p.Signer)+len(p.Blobs)*(pfbEntrySize+binary.MaxVarintLen32))
	out = append(out, pfbMagic...)
	out = append(out, pfbVersion)
	out = binary.AppendUvarint(out, uint64(len(p.Signer)))
	out = append(out, p.Signer...)
	out = binary.AppendUvarint(out, uint64(len(p.Blobs)))
	for _, e := range p.Blobs {
		ns := e.Namespace.Array()
		out = append(out, ns[:]...)
		out = binary.AppendUvarint(out, uint64(e.DataSize))
		out = append(out, e.ShareVersion)
		out = append(out, e.Commitment[:]...)
	}
	return out
}

// UnmarshalPayForBlobs decodes a record, rejecting anything but the exact
// canonical encoding.
func UnmarshalPayForBlobs(b []byte) (*PayForBlobs, error) {
	bad := func(what string) (*PayForBlobs, error) {
		return nil, fmt.Errorf("%w: %s", ErrInvalidPFB, what)
	}
	if len(b) < len(pfbMagic)+1 || string(b[:len(pfbMagic)]) != pfbMagic {
		return bad("not a Tessera pay-for-blobs record")
	}
	if b[len(pfbMagic)] != pfbVersion {
		return bad(fmt.Sprintf("unknown version %d", b[len(pfbMagic)]))
	}
	p := b[len(pfbMagic)+1:]
	uv := func() (uint64, bool) {
		v, n := binary.Uvarint(p)
		if n <= 0 || n != len(binary.AppendUvarint(nil, v)) {
			return 0, false
		}
		p = p[n:]
		return v, true
	}
	sl, ok := uv()
	if !ok || sl > maxPFBSignerLen || sl > uint64(len(p)) {
		return bad("bad signer length")
	}
	out := &PayForBlobs{}
	if sl > 0 {
		out.Signer = append([]byte(nil), p[:sl]...)
	}
	p = p[sl:]
	count, ok := uv()
	if !ok || count == 0 || count > maxPFBBlobs || count*pfbEntrySize > uint64(len(p)) {
		return bad("bad blob count")
	}
	out.Blobs = make([]PFBEntry, 0, count)
	for range count {
		if len(p) < share.NamespaceSize {
			return bad("truncated entry")
		}
		ns, err := share.NewNamespaceFromBytes(p[:share.NamespaceSize])
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidPFB, err)
		}
		p = p[share.NamespaceSize:]
		size, ok := uv()
		if !ok || size > 1<<32-1 || len(p) < 1+CommitmentSize {
			return bad("bad entry")
		}
		e := PFBEntry{Namespace: ns, DataSize: uint32(size), ShareVersion: p[0]}
		copy(e.Commitment[:], p[1:1+CommitmentSize])
		p = p[1+CommitmentSize:]
		out.Blobs = append(out.Blobs, e)
	}
	if len(p) != 0 {
		return bad("trailing bytes")
	}
	return out, nil
}

// Matches checks that the record describes exactly blobs, in order.
func (p *PayForBlobs) Matches(blobs []*Blob) error {
	if len(blobs) != len(p.Blobs) {
		return fmt.Errorf("%w: record names %d blobs, transaction carries %d", ErrInvalidPFB, len(p.Blobs), len(blobs))
	}
	for i, b := range blobs {
		e := p.Blobs[i]
		if e.Namespace != b.Namespace() || int(e.DataSize) != len(b.Data()) || e.ShareVersion != b.ShareVersion() ||
			string(e.Commitment[:]) != string(b.Commitment()) || string(p.Signer) != string(b.Signer()) {
			return fmt.Errorf("%w: blob %d does not match its record", ErrInvalidPFB, i)
		}
	}
	return nil
}
