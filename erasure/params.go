package erasure

import (
	"fmt"
	"runtime"
)

// Sizes and limits of the extended data square.
const (
	// ShareSize is the size of every share (bytes).
	ShareSize = 512
	// NamespaceSize is the size of a namespace, the first bytes of every
	// share (bytes).
	NamespaceSize = 29
	// MaxODSWidth is the largest supported original square width k
	// (shares per row of the original data square).
	MaxODSWidth = 512
	// MaxWorkers bounds Params.Workers (goroutines).
	MaxWorkers = 1024
)

// Params configures extension and root computation.
type Params struct {
	// Workers is the number of goroutines a call may use (goroutines).
	// 1 runs everything on the calling goroutine. All goroutines end before
	// the call returns.
	Workers int
}

// DefaultParams returns Params with Workers = runtime.GOMAXPROCS(0).
func DefaultParams() Params {
	return Params{Workers: runtime.GOMAXPROCS(0)}
}

// Validate reports whether p is usable. It wraps ErrInvalidParams.
func (p Params) Validate() error {
	if p.Workers < 1 || p.Workers > MaxWorkers {
		return fmt.Errorf("%w: Workers = %d, want 1..%d", ErrInvalidParams, p.Workers, MaxWorkers)
	}
	return nil
}

// validODSWidth reports whether k is a power of two in [1, MaxODSWidth].
func validODSWidth(k int) bool {
	return k >= 1 && k <= MaxODSWidth && k&(k-1) == 0
}

func checkODSWidth(k int) error {
	if !validODSWidth(k) {
		return fmt.Errorf("%w: ODS width %d is not a power of two in 1..%d", ErrInvalidWidth, k, MaxODSWidth)
	}
	return nil
}
