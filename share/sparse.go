package share

import (
	"encoding/binary"
	"fmt"
)

// SparseSharesNeeded returns how many shares a blob of dataLen bytes
// occupies, with or without a signer in its first share.
func SparseSharesNeeded(dataLen int, withSigner bool) int {
	if dataLen <= 0 {
		return 0
	}
	first := FirstSparseShareContentSize
	if withSigner {
		first -= SignerSize
	}
	if dataLen <= first {
		return 1
	}
	rest := dataLen - first
	return 1 + (rest+ContinuationSparseShareContentSize-1)/ContinuationSparseShareContentSize
}

// ToShares splits the blob into its sparse shares.
func (b *Blob) ToShares() []Share {
	n := b.ShareCount()
	buf := make([]byte, n*ShareSize)
	out := make([]Share, n)
	data := b.data
	for i := range n {
		s := buf[i*ShareSize : (i+1)*ShareSize : (i+1)*ShareSize]
		copy(s, b.ns.b[:])
		s[NamespaceSize] = newInfoByte(b.shareVersion, i == 0)
		off := NamespaceSize + ShareInfoBytes
		if i == 0 {
			binary.BigEndian.PutUint32(s[off:], uint32(len(b.data)))
			off += SequenceLenBytes
			if hasSigner(b.shareVersion) {
				off += copy(s[off:], b.signer)
			}
		}
		m := copy(s[off:], data)
		data = data[m:]
		out[i] = Share{data: s}
	}
	return out
}

// SplitBlobs splits blobs one after another into sparse shares, with no
// padding between them.
func SplitBlobs(blobs ...*Blob) []Share {
	var out []Share
	for _, b := range blobs {
		out = append(out, b.ToShares()...)
	}
	return out
}

// ParseBlobs reads the sparse share sequences in shares back into blobs,
// skipping padding shares. Every sequence must be complete and consistent.
func ParseBlobs(shares []Share) ([]*Blob, error) {
	var blobs []*Blob
	for i := 0; i < len(shares); {
		s := shares[i]
		if !s.IsSequenceStart() {
			return nil, fmt.Errorf("%w: share %d continues a sequence that did not start", ErrInvalidSequence, i)
		}
		if s.IsPadding() {
			i++
			continue
		}
		b, n, err := parseSparseSequence(shares[i:])
		if err != nil {
			return nil, fmt.Errorf("share %d: %w", i, err)
		}
		blobs = append(blobs, b)
		i += n
	}
	return blobs, nil
}

// ParseBlob reads one blob whose sequence starts at shares[0] and returns
// it with the number of shares it spans.
func ParseBlob(shares []Share) (*Blob, int, error) { return parseSparseSequence(shares) }

func parseSparseSequence(shares []Share) (*Blob, int, error) {
	if len(shares) == 0 {
		return nil, 0, fmt.Errorf("%w: no shares", ErrInvalidSequence)
	}
	first := shares[0]
	if !first.IsSequenceStart() {
		return nil, 0, fmt.Errorf("%w: first share is not a sequence start", ErrInvalidSequence)
	}
	if first.IsCompact() {
		return nil, 0, fmt.Errorf("%w: namespace %s holds compact shares, not blobs", ErrInvalidSequence, first.Namespace())
	}
	ns, version := first.Namespace(), first.Version()
	seqLen := int(first.SequenceLen())
	n := SparseSharesNeeded(seqLen, hasSigner(version))
	if n == 0 || n > len(shares) {
		return nil, 0, fmt.Errorf("%w: sequence length %d needs %d shares, %d available", ErrInvalidSequence, seqLen, n, len(shares))
	}
	data := make([]byte, 0, seqLen)
	for i := range n {
		s := shares[i]
		if i > 0 && (s.IsSequenceStart() || s.Namespace() != ns || s.Version() != version) {
			return nil, 0, fmt.Errorf("%w: share %d of the sequence does not continue it", ErrInvalidSequence, i)
		}
		raw := s.RawData()
		need := seqLen - len(data)
		if need < len(raw) {
			for _, c := range raw[need:] {
				if c != 0 {
					return nil, 0, fmt.Errorf("%w: non-zero bytes after the sequence end", ErrInvalidSequence)
				}
			}
			raw = raw[:need]
		}
		data = append(data, raw...)
	}
	b, err := NewBlob(ns, data, version, first.Signer())
	if err != nil {
		return nil, 0, err
	}
	return b, n, nil
}
