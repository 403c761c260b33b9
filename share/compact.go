package share

import (
	"encoding/binary"
	"fmt"
)

// CompactSharesNeeded returns how many compact shares hold a stream of
// streamLen bytes (varint-delimited units).
func CompactSharesNeeded(streamLen int) int {
	if streamLen <= 0 {
		return 0
	}
	if streamLen <= FirstCompactShareContentSize {
		return 1
	}
	rest := streamLen - FirstCompactShareContentSize
	return 1 + (rest+ContinuationCompactShareContentSize-1)/ContinuationCompactShareContentSize
}

// DelimitedLen returns the length of a unit of n bytes once prefixed with
// its unsigned varint length.
func DelimitedLen(n int) int { return uvarintLen(uint64(n)) + n }

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// SplitTxs writes units (transactions, or IndexWrapper-wrapped PFBs) as one
// compact share sequence in namespace ns. Each unit is prefixed with its
// varint length; each share's reserved bytes hold the offset of the first
// unit that begins in it, or 0.
func SplitTxs(ns Namespace, units [][]byte) []Share {
	streamLen := 0
	for _, u := range units {
		streamLen += DelimitedLen(len(u))
	}
	n := CompactSharesNeeded(streamLen)
	if n == 0 {
		return nil
	}
	buf := make([]byte, n*ShareSize)
	// Lay the stream out share by share: pos is the write position in buf.
	shareStart := func(i int) int {
		base := i * ShareSize
		copy(buf[base:], ns.b[:])
		buf[base+NamespaceSize] = newInfoByte(ShareVersionZero, i == 0)
		off := NamespaceSize + ShareInfoBytes
		if i == 0 {
			binary.BigEndian.PutUint32(buf[base+off:], uint32(streamLen))
			off += SequenceLenBytes
		}
		return base + off + ShareReservedBytes
	}
	cur := 0
	pos := shareStart(0)
	end := ShareSize
	var lenBuf [binary.MaxVarintLen64]byte
	write := func(p []byte, unitStart bool) {
		for len(p) > 0 {
			if pos == end {
				cur++
				pos = shareStart(cur)
				end = (cur + 1) * ShareSize
			}
			if unitStart {
				r := cur*ShareSize + reservedOffset(cur)
				if binary.BigEndian.Uint32(buf[r:]) == 0 {
					binary.BigEndian.PutUint32(buf[r:], uint32(pos-cur*ShareSize))
				}
				unitStart = false
			}
			m := copy(buf[pos:end], p)
			pos += m
			p = p[m:]
		}
	}
	for _, u := range units {
		k := binary.PutUvarint(lenBuf[:], uint64(len(u)))
		write(lenBuf[:k], true)
		write(u, false)
	}
	out := make([]Share, n)
	for i := range out {
		out[i] = Share{data: buf[i*ShareSize : (i+1)*ShareSize : (i+1)*ShareSize]}
	}
	return out
}

// reservedOffset returns where the reserved bytes sit in compact share i.
func reservedOffset(i int) int {
	off := NamespaceSize + ShareInfoBytes
	if i == 0 {
		off += SequenceLenBytes
	}
	return off
}

// ParseTxs reads one compact share sequence back into its units. The shares
// must all be in one compact namespace, the first a sequence start, and the
// stream must hold whole varint-delimited units followed by zero fill.
func ParseTxs(shares []Share) ([][]byte, error) {
	if len(shares) == 0 {
		return nil, nil
	}
	first := shares[0]
	if !first.IsSequenceStart() || !first.IsCompact() || first.Version() != ShareVersionZero {
		return nil, fmt.Errorf("%w: first share is not the start of a compact sequence", ErrInvalidSequence)
	}
	ns := first.Namespace()
	streamLen := int(first.SequenceLen())
	n := CompactSharesNeeded(streamLen)
	if n != len(shares) {
		return nil, fmt.Errorf("%w: sequence length %d needs %d compact shares, got %d", ErrInvalidSequence, streamLen, n, len(shares))
	}
	stream := make([]byte, 0, streamLen)
	for i, s := range shares {
		if s.Namespace() != ns || (i > 0 && s.IsSequenceStart()) || s.Version() != ShareVersionZero {
			return nil, fmt.Errorf("%w: share %d does not continue the compact sequence", ErrInvalidSequence, i)
		}
		r := binary.BigEndian.Uint32(s.data[reservedOffset(i):])
		if r != 0 && (int(r) < reservedOffset(i)+ShareReservedBytes || int(r) >= ShareSize) {
			return nil, fmt.Errorf("%w: share %d reserved bytes point outside the share: %d", ErrInvalidSequence, i, r)
		}
		raw := s.RawData()
		if need := streamLen - len(stream); need < len(raw) {
			raw = raw[:need]
		}
		stream = append(stream, raw...)
	}
	var units [][]byte
	for len(stream) > 0 {
		l, k := binary.Uvarint(stream)
		if k <= 0 {
			return nil, fmt.Errorf("%w: bad unit length varint", ErrInvalidSequence)
		}
		stream = stream[k:]
		if l > uint64(len(stream)) {
			return nil, fmt.Errorf("%w: unit of %d bytes overruns the sequence (%d left)", ErrInvalidSequence, l, len(stream))
		}
		units = append(units, stream[:l:l])
		stream = stream[l:]
	}
	return units, nil
}
