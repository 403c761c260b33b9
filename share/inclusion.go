package share

import "math/bits"

// SubtreeRootThreshold is Celestia's default: the most subtree roots a blob
// commitment has before subtrees grow (appconsts.SubtreeRootThreshold).
const SubtreeRootThreshold = 64

// RoundUpPowerOfTwo returns the smallest power of two ≥ n (1 for n ≤ 1).
func RoundUpPowerOfTwo(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}

// RoundDownPowerOfTwo returns the largest power of two ≤ n (0 for n ≤ 0).
func RoundDownPowerOfTwo(n int) int {
	if n <= 0 {
		return 0
	}
	return 1 << (bits.Len(uint(n)) - 1)
}

// BlobMinSquareSize returns the smallest power-of-two square width that can
// hold shareCount shares: RoundUpPow2(ceil(sqrt(shareCount))).
func BlobMinSquareSize(shareCount int) int {
	return RoundUpPowerOfTwo(ceilSqrt(shareCount))
}

// ceilSqrt returns ceil(sqrt(n)) for n ≥ 0 in integer arithmetic.
func ceilSqrt(n int) int {
	if n <= 0 {
		return 0
	}
	r := 1 << ((bits.Len(uint(n)) + 1) / 2) // r ≥ sqrt(n)
	for {
		s := (r + n/r) / 2
		if s >= r {
			break
		}
		r = s
	}
	// r = floor(sqrt(n))
	if r*r < n {
		r++
	}
	return r
}

// SubTreeWidth returns the width of the subtrees a blob of shareCount
// shares is committed by, with threshold T: min(RoundUpPow2(ceil(n/T)),
// BlobMinSquareSize(n)). A blob must start at a multiple of it. threshold
// must be positive (a programmer error otherwise: it never comes from input).
func SubTreeWidth(shareCount, threshold int) int {
	if threshold <= 0 {
		panic("share: SubTreeWidth needs a positive subtree root threshold")
	}
	s := RoundUpPowerOfTwo((shareCount + threshold - 1) / threshold)
	return min(s, BlobMinSquareSize(shareCount))
}

// NextShareIndex returns the first index ≥ cursor at which a blob of
// shareCount shares may start under the non-interactive default rules.
func NextShareIndex(cursor, shareCount, threshold int) int {
	w := SubTreeWidth(shareCount, threshold)
	return (cursor + w - 1) / w * w
}
