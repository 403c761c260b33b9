package node

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/header"
	"github.com/tessera-da/tessera/node/headersync"
	"github.com/tessera-da/tessera/node/store"
)

// A fraud message, as gossiped on the fraud topic, is self-contained so
// that a light node (which holds no DAH) can check it against the data root
// of its verified header alone:
//
//	version (1) ‖ height (BE64) ‖ width 2k (BE16) ‖ 2k row roots ‖ 2k column roots ‖ bad-encoding proof
//
// The roots must hash to the header's data root; the proof must then verify
// against them (erasure.BadEncodingProof.Verify).
const (
	fraudVersion    = 1
	fraudHeaderSize = 1 + 8 + 2
)

var errFraudMessage = errors.New("fraud: malformed message")

func encodeFraud(height uint64, dah *erasure.DAH, p *erasure.BadEncodingProof) ([]byte, error) {
	pb, err := p.MarshalBinary()
	if err != nil {
		return nil, err
	}
	w := dah.Width()
	out := make([]byte, 0, fraudHeaderSize+2*w*erasure.RootSize+len(pb))
	out = append(out, fraudVersion)
	out = binary.BigEndian.AppendUint64(out, height)
	out = binary.BigEndian.AppendUint16(out, uint16(w))
	for _, r := range dah.RowRoots() {
		out = append(out, r...)
	}
	for _, r := range dah.ColRoots() {
		out = append(out, r...)
	}
	return append(out, pb...), nil
}

// decodeFraud parses a fraud message; it checks sizes before allocating.
func decodeFraud(b []byte) (height uint64, dah *erasure.DAH, p *erasure.BadEncodingProof, err error) {
	if len(b) < fraudHeaderSize || b[0] != fraudVersion {
		return 0, nil, nil, fmt.Errorf("%w: unknown version or too short", errFraudMessage)
	}
	height = binary.BigEndian.Uint64(b[1:])
	w := int(binary.BigEndian.Uint16(b[9:]))
	if height == 0 || w < 2 || w&(w-1) != 0 || w/2 > erasure.MaxODSWidth {
		return 0, nil, nil, fmt.Errorf("%w: height %d, width %d", errFraudMessage, height, w)
	}
	rootsLen := 2 * w * erasure.RootSize
	rest := b[fraudHeaderSize:]
	if len(rest) < rootsLen || len(rest)-rootsLen > erasure.MaxBadEncodingProofSize(w/2) {
		return 0, nil, nil, fmt.Errorf("%w: %d bytes for width %d", errFraudMessage, len(b), w)
	}
	roots := make([][]byte, 2*w)
	for i := range roots {
		roots[i] = rest[i*erasure.RootSize : (i+1)*erasure.RootSize]
	}
	if dah, err = erasure.NewDAH(roots[:w], roots[w:]); err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %w", errFraudMessage, err)
	}
	if p, err = erasure.ParseBadEncodingProof(rest[rootsLen:]); err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %w", errFraudMessage, err)
	}
	return height, dah, p, nil
}

// verifyFraud checks a fraud message against the verified header at its
// height. A message about a height the node has not synced yet is ignored
// (not relayed), not rejected.
func (n *Node) verifyFraud(data []byte) (uint64, error) {
	height, dah, p, err := decodeFraud(data)
	if err != nil {
		return 0, err
	}
	h, err := n.st.HeaderByHeight(height)
	if errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("%w: height %d not synced yet", headersync.ErrIgnore, height)
	} else if err != nil {
		return 0, err
	}
	if !bytes.Equal(dah.Hash(), h.DataRoot[:]) || dah.Width() != 2*int(h.SquareWidth) {
		return 0, fmt.Errorf("%w: its roots do not match the header at height %d", errFraudMessage, height)
	}
	if err := p.Verify(dah); err != nil {
		return 0, err
	}
	return height, nil
}

// recordFraud stores a verified fraud proof and stops treating the block
// (and, on light nodes, the chain after it) as available.
func (n *Node) recordFraud(height uint64, data []byte) {
	if _, err := n.st.GetRecord(fraudBucket, heightKey(height)); err == nil {
		return // known already
	}
	if err := n.st.PutRecord(fraudBucket, heightKey(height), data); err != nil {
		n.log.Error("storing a fraud proof", "height", height, "err", err)
	}
	n.log.Warn("bad encoding proven: the block is not available", "height", height)
	n.markFraud(height)
}

func (n *Node) markFraud(height uint64) {
	n.mu.Lock()
	if n.fraudFrom == 0 || height < n.fraudFrom {
		n.fraudFrom = height
	}
	nw := n.net
	n.mu.Unlock()
	n.svc.SetFraud(height)
	if nw != nil && nw.das != nil {
		nw.das.MarkFraud(height)
	}
}

// loadFraud re-applies stored fraud proofs after a restart.
func (n *Node) loadFraud() error {
	return n.st.ScanRecords(fraudBucket, nil, func(key, _ []byte) error {
		if len(key) != 8 {
			return fmt.Errorf("fraud record key %x", key)
		}
		n.markFraud(binary.BigEndian.Uint64(key))
		return nil
	})
}

func heightKey(h uint64) []byte { return binary.BigEndian.AppendUint64(nil, h) }

// proveBadEncoding fetches every row of the block at h from peers (each
// verified against its root and that root's proof to the data root),
// assembles the committed square and, if it is not a valid extension,
// returns the fraud message proving it.
func (nw *network) proveBadEncoding(ctx context.Context, h *header.Header) ([]byte, error) {
	w := 2 * int(h.SquareWidth)
	cells := make([][]byte, w*w)
	for r := range w {
		var got [][]byte
		var last error = errors.New("no peers")
		for _, p := range nw.peers() {
			shares, err := nw.client.Row(ctx, p, h, r)
			if err == nil && len(shares) == w {
				got = shares
				break
			}
			last = err
		}
		if got == nil {
			return nil, fmt.Errorf("row %d: %w", r, last)
		}
		copy(cells[r*w:], got)
	}
	eds, err := erasure.SquareFromCells(cells)
	if err != nil {
		return nil, err
	}
	dah, err := erasure.ComputeDAH(eds, erasure.DefaultParams())
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(dah.Hash(), h.DataRoot[:]) {
		return nil, fmt.Errorf("the rows served do not commit to the header's data root")
	}
	_, err = erasure.Repair(cells, dah, erasure.DefaultParams())
	var be *erasure.ByzantineError
	if !errors.As(err, &be) {
		return nil, fmt.Errorf("no bad encoding found (repair: %v)", err)
	}
	p, err := erasure.NewBadEncodingProof(dah, be)
	if err != nil {
		return nil, err
	}
	return encodeFraud(h.Height, dah, p)
}
