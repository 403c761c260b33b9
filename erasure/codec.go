package erasure

import (
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/klauspost/reedsolomon"
)

// Codec is the erasure code applied to one axis (row or column) of a
// square: systematic encoding for extension, and reconstruction of the data
// shards for repair and bad-encoding proofs. An implementation must be safe
// for concurrent use.
type Codec interface {
	// Encode takes an axis of 2k equally sized shards, the first k holding
	// data, and overwrites the last k with parity, in place. It must not
	// retain axis or modify the data shards.
	Encode(axis [][]byte) error
	// ReconstructData takes an axis of 2k shards of which at least k are
	// present (equally sized) and the others missing (length 0), and
	// recreates every missing data shard (the first k) from the present
	// shards. A missing data shard whose capacity is at least the shard
	// size is filled in place; otherwise a new slice is stored in axis.
	// Present shards are not modified; missing parity shards are left as
	// they are (callers re-encode). The result must be a deterministic
	// function of the present shards, also when they are not a codeword:
	// bad-encoding proofs depend on it. It fails with fewer than k present
	// shards.
	ReconstructData(axis [][]byte) error
}

// maxCodecLog bounds the per-k encoder cache: 2^maxCodecLog data shards.
const maxCodecLog = 15

// LeopardCodec is the codec Celestia uses (rsmt2d's LeoRSCodec): for k data
// shards, klauspost/reedsolomon New(k, k, WithLeopardGF(true)). It uses
// the 8-bit Leopard field while 2k ≤ 256 and the 16-bit field above.
// Encoders are created on first use per k and cached inside the value.
// The zero value is ready to use; a LeopardCodec must not be copied after
// first use.
type LeopardCodec struct {
	enc  [maxCodecLog + 1]atomic.Pointer[reedsolomon.Encoder]
	work workPool
}

// NewLeopardCodec returns an empty LeopardCodec.
func NewLeopardCodec() *LeopardCodec { return &LeopardCodec{} }

var _ Codec = (*LeopardCodec)(nil)

// encoder returns the cached encoder for k data + k parity shards.
func (c *LeopardCodec) encoder(k int) (reedsolomon.Encoder, error) {
	if k < 1 || k > 1<<maxCodecLog || k&(k-1) != 0 {
		return nil, fmt.Errorf("%w: %d data shards is not a power of two in 1..%d", ErrInvalidWidth, k, 1<<maxCodecLog)
	}
	slot := &c.enc[bits.TrailingZeros(uint(k))]
	if p := slot.Load(); p != nil {
		return *p, nil
	}
	// The inversion cache (on by default up to 64 shards) keeps one entry
	// per erasure pattern ever decoded, without bound; patterns come from
	// the network, so it is off. It does not change any result.
	e, err := reedsolomon.New(k, k, reedsolomon.WithLeopardGF(true), reedsolomon.WithWorkAllocator(&c.work),
		reedsolomon.WithInversionCache(false))
	if err != nil {
		return nil, fmt.Errorf("%w: new leopard encoder for k=%d: %v", ErrCodec, k, err)
	}
	slot.CompareAndSwap(nil, &e)
	return *slot.Load(), nil
}

// Encode implements Codec. With one data shard the parity is a copy of it
// (which is also what Leopard computes).
func (c *LeopardCodec) Encode(axis [][]byte) error {
	n := len(axis)
	if n < 2 || n%2 != 0 {
		return fmt.Errorf("%w: axis of %d shards, want an even count ≥ 2", ErrInvalidShare, n)
	}
	size := len(axis[0])
	if size == 0 || size%64 != 0 {
		return fmt.Errorf("%w: shard size %d is not a positive multiple of 64", ErrInvalidShare, size)
	}
	for i, s := range axis {
		if len(s) != size {
			return fmt.Errorf("%w: shard %d has %d bytes, want %d", ErrInvalidShare, i, len(s), size)
		}
	}
	k := n / 2
	if k == 1 {
		copy(axis[1], axis[0])
		return nil
	}
	e, err := c.encoder(k)
	if err != nil {
		return err
	}
	if err := e.Encode(axis); err != nil {
		return fmt.Errorf("%w: leopard encode k=%d: %v", ErrCodec, k, err)
	}
	return nil
}

// ReconstructData implements Codec with Leopard's erasure decoder
// (klauspost/reedsolomon ReconstructData). Shards must be a positive
// multiple of 64 bytes. With one data shard the data is a copy of the
// parity shard if it is missing.
func (c *LeopardCodec) ReconstructData(axis [][]byte) error {
	n := len(axis)
	if n < 2 || n%2 != 0 {
		return fmt.Errorf("%w: axis of %d shards, want an even count ≥ 2", ErrInvalidShare, n)
	}
	k := n / 2
	size, present, dataPresent := 0, 0, 0
	for i, s := range axis {
		if len(s) == 0 {
			continue
		}
		if size == 0 {
			size = len(s)
		}
		if len(s) != size {
			return fmt.Errorf("%w: shard %d has %d bytes, want %d", ErrInvalidShare, i, len(s), size)
		}
		present++
		if i < k {
			dataPresent++
		}
	}
	if size%64 != 0 {
		return fmt.Errorf("%w: shard size %d is not a positive multiple of 64", ErrInvalidShare, size)
	}
	if present < k {
		return fmt.Errorf("%w: %d of %d shards present, need %d", ErrInvalidShare, present, n, k)
	}
	if dataPresent == k {
		return nil
	}
	if k == 1 {
		if cap(axis[0]) < size {
			axis[0] = make([]byte, size)
		}
		axis[0] = axis[0][:size]
		copy(axis[0], axis[1])
		return nil
	}
	e, err := c.encoder(k)
	if err != nil {
		return err
	}
	if err := e.ReconstructData(axis); err != nil {
		return fmt.Errorf("%w: leopard reconstruct k=%d: %v", ErrCodec, k, err)
	}
	return nil
}

// workPool keeps the Leopard encoders' scratch buffers for reuse. Unlike
// the library's default sync.Pool it is not emptied by the garbage
// collector, so a steady stream of squares allocates no scratch space. It
// holds at most as many buffer sets as were ever in use at once.
type workPool struct {
	mu   sync.Mutex
	free [][][]byte
}

// Get implements reedsolomon.WorkAllocator. Sets are matched by count and
// capacity, not length: Leopard's decoder shortens the slices of the set
// it is given before putting it back.
func (p *workPool) Get(n, size int) [][]byte {
	p.mu.Lock()
	for i := len(p.free) - 1; i >= 0; i-- {
		w := p.free[i]
		if len(w) == n && fits(w, size) {
			p.free[i] = p.free[len(p.free)-1]
			p.free[len(p.free)-1] = nil
			p.free = p.free[:len(p.free)-1]
			p.mu.Unlock()
			for j := range w {
				w[j] = w[j][:size]
			}
			return w
		}
	}
	p.mu.Unlock()
	return reedsolomon.AllocAligned(n, size)
}

// fits reports whether every slice of w has capacity for size bytes.
func fits(w [][]byte, size int) bool {
	for _, b := range w {
		if cap(b) < size {
			return false
		}
	}
	return true
}

// Put implements reedsolomon.WorkAllocator.
func (p *workPool) Put(w [][]byte) {
	if len(w) == 0 {
		return
	}
	p.mu.Lock()
	p.free = append(p.free, w)
	p.mu.Unlock()
}
