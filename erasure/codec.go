package erasure

import (
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/klauspost/reedsolomon"
)

// Codec is the erasure code applied to one axis (row or column) of a
// square. The square package only needs systematic encoding; an
// implementation must be safe for concurrent use.
type Codec interface {
	// Encode takes an axis of 2k equally sized shards, the first k holding
	// data, and overwrites the last k with parity, in place. It must not
	// retain axis or modify the data shards.
	Encode(axis [][]byte) error
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
	e, err := reedsolomon.New(k, k, reedsolomon.WithLeopardGF(true), reedsolomon.WithWorkAllocator(&c.work))
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

// workPool keeps the Leopard encoders' scratch buffers for reuse. Unlike
// the library's default sync.Pool it is not emptied by the garbage
// collector, so a steady stream of squares allocates no scratch space. It
// holds at most as many buffer sets as were ever in use at once.
type workPool struct {
	mu   sync.Mutex
	free [][][]byte
}

// Get implements reedsolomon.WorkAllocator.
func (p *workPool) Get(n, size int) [][]byte {
	p.mu.Lock()
	for i := len(p.free) - 1; i >= 0; i-- {
		w := p.free[i]
		if len(w) == n && len(w[0]) == size {
			p.free[i] = p.free[len(p.free)-1]
			p.free[len(p.free)-1] = nil
			p.free = p.free[:len(p.free)-1]
			p.mu.Unlock()
			return w
		}
	}
	p.mu.Unlock()
	return reedsolomon.AllocAligned(n, size)
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
