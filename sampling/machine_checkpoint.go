package sampling

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
)

// Checkpoint encoding.
const (
	checkpointVersion = 1
	// MaxCheckpointSize bounds an encoded checkpoint (bytes).
	MaxCheckpointSize = 64 << 20
)

// Checkpoint is the state a Machine needs to resume after a restart
// without sampling finished heights again.
type Checkpoint struct {
	// SampledHead: every height up to it is finished (available, failed,
	// or outside the window when it was reached).
	SampledHead uint64
	// NetworkHead is the highest height seen.
	NetworkHead uint64
	// Done lists the heights above SampledHead found available, ascending.
	Done []uint64
	// Failed maps heights found unavailable to the rounds they failed.
	Failed map[uint64]int
	// InProgress lists heights above SampledHead being sampled, ascending;
	// they are sampled again, first, after a restart.
	InProgress []uint64
	// FraudHeight is the lowest height marked fraudulent, 0 if none.
	FraudHeight uint64
}

// Validate checks the checkpoint's invariants; errors wrap
// ErrInvalidCheckpoint.
func (c *Checkpoint) Validate() error {
	bad := func(f string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidCheckpoint, fmt.Sprintf(f, args...))
	}
	if c == nil {
		return bad("nil checkpoint")
	}
	if c.SampledHead > c.NetworkHead {
		return bad("sampled head %d above network head %d", c.SampledHead, c.NetworkHead)
	}
	below := func(h uint64) bool { return c.FraudHeight == 0 || h < c.FraudHeight }
	ascending := func(name string, hs []uint64) error {
		for i, h := range hs {
			if h <= c.SampledHead || h > c.NetworkHead || !below(h) {
				return bad("%s height %d outside (%d, %d] or at/after fraud height %d", name, h, c.SampledHead, c.NetworkHead, c.FraudHeight)
			}
			if i > 0 && h <= hs[i-1] {
				return bad("%s heights not strictly ascending at %d", name, h)
			}
			if n, ok := c.Failed[h]; ok {
				return bad("%s height %d is also failed (%d rounds)", name, h, n)
			}
		}
		return nil
	}
	if err := ascending("done", c.Done); err != nil {
		return err
	}
	if err := ascending("in-progress", c.InProgress); err != nil {
		return err
	}
	for _, h := range c.InProgress {
		if _, ok := slices.BinarySearch(c.Done, h); ok {
			return bad("height %d both done and in progress", h)
		}
	}
	for h, n := range c.Failed {
		if h == 0 || h > c.NetworkHead || !below(h) {
			return bad("failed height %d outside [1, %d] or at/after fraud height %d", h, c.NetworkHead, c.FraudHeight)
		}
		if n < 1 || n > maxFailCount {
			return bad("failed height %d with %d rounds", h, n)
		}
	}
	return nil
}

// AppendBinary appends the checkpoint's canonical encoding: version 1 ‖
// uvarint SampledHead ‖ uvarint NetworkHead ‖ uvarint FraudHeight ‖
// uvarint len(Done) ‖ Done as uvarint gaps from SampledHead ‖ uvarint
// len(Failed) ‖ (uvarint gap from the previous height, from 0; uvarint
// rounds) in ascending height order ‖ uvarint len(InProgress) ‖
// InProgress as gaps from SampledHead. It fails on an invalid checkpoint.
func (c *Checkpoint) AppendBinary(b []byte) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	b = append(b, checkpointVersion)
	b = binary.AppendUvarint(b, c.SampledHead)
	b = binary.AppendUvarint(b, c.NetworkHead)
	b = binary.AppendUvarint(b, c.FraudHeight)
	gaps := func(b []byte, hs []uint64) []byte {
		b = binary.AppendUvarint(b, uint64(len(hs)))
		prev := c.SampledHead
		for _, h := range hs {
			b = binary.AppendUvarint(b, h-prev)
			prev = h
		}
		return b
	}
	b = gaps(b, c.Done)
	b = binary.AppendUvarint(b, uint64(len(c.Failed)))
	prev := uint64(0)
	for _, h := range slices.Sorted(maps.Keys(c.Failed)) {
		b = binary.AppendUvarint(b, h-prev)
		b = binary.AppendUvarint(b, uint64(c.Failed[h]))
		prev = h
	}
	return gaps(b, c.InProgress), nil
}

// MarshalBinary encodes the checkpoint; see AppendBinary.
func (c *Checkpoint) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// ParseCheckpoint decodes an encoding made by MarshalBinary. b is
// untrusted: it must be canonical (exactly what MarshalBinary gives for
// the checkpoint it decodes to), at most MaxCheckpointSize bytes, and
// describe a valid checkpoint. Errors wrap ErrInvalidCheckpoint.
func ParseCheckpoint(b []byte) (*Checkpoint, error) {
	if len(b) > MaxCheckpointSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidCheckpoint, len(b), MaxCheckpointSize)
	}
	d := decoder{b: b}
	if v := d.byte(); v != checkpointVersion || d.err != nil {
		return nil, fmt.Errorf("%w: unknown version", ErrInvalidCheckpoint)
	}
	c := &Checkpoint{SampledHead: d.uvarint(), NetworkHead: d.uvarint(), FraudHeight: d.uvarint()}
	gaps := func() []uint64 {
		n := d.count(1)
		if n == 0 {
			return nil
		}
		hs := make([]uint64, 0, n)
		h := c.SampledHead
		for range n {
			h = d.add(h, d.uvarint())
			hs = append(hs, h)
		}
		return hs
	}
	c.Done = gaps()
	if n := d.count(2); n > 0 {
		c.Failed = make(map[uint64]int, n)
		h := uint64(0)
		for range n {
			h = d.add(h, d.uvarint())
			r := d.uvarint()
			if r > maxFailCount {
				d.fail("failed rounds %d", r)
			}
			c.Failed[h] = int(r)
		}
	}
	c.InProgress = gaps()
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrInvalidCheckpoint, len(d.b))
	}
	again, err := c.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(again, b) {
		return nil, fmt.Errorf("%w: not in canonical form", ErrInvalidCheckpoint)
	}
	return c, nil
}

// decoder reads uvarints; after the first error every read returns 0.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(f string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrInvalidCheckpoint, fmt.Sprintf(f, args...))
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("truncated or overlong varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a list length whose entries take at least size bytes each,
// checked against the bytes left before anything is allocated.
func (d *decoder) count(size int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/size) {
		d.fail("list of %d entries in %d bytes", n, len(d.b))
		return 0
	}
	return int(n)
}

// add returns h+gap, failing on a zero gap or an overflow.
func (d *decoder) add(h, gap uint64) uint64 {
	if d.err != nil {
		return 0
	}
	if gap == 0 || h+gap < h {
		d.fail("height gap %d after %d", gap, h)
		return 0
	}
	return h + gap
}
