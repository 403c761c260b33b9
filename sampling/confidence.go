package sampling

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// MaxSamples bounds the samples one height may take.
const MaxSamples = 4096 // samples

// MissingProbability returns the least probability that a uniformly random
// cell of a width-2k extended square is missing when the square cannot be
// recovered: (k+1)²/(4k²).
func MissingProbability(k int) float64 {
	kf := float64(k)
	return (kf + 1) * (kf + 1) / (4 * kf * kf)
}

// Confidence returns the probability that s successful samples of a
// width-2k square would have caught an unrecoverable square:
// 1 − (1 − (k+1)²/(4k²))^s.
func Confidence(k, s int) float64 {
	if k < 1 || s <= 0 {
		return 0
	}
	p := MissingProbability(k)
	if p >= 1 {
		return 1
	}
	return 1 - math.Pow(1-p, float64(s))
}

// SamplesFor returns the fewest samples that reach confidence target
// (0 < target < 1) for any k: it uses the bound p > 1/4, so the answer holds
// whatever the square's width.
func SamplesFor(target float64) (int, error) {
	if !(target > 0 && target < 1) {
		return 0, fmt.Errorf("%w: confidence %v is not in (0, 1)", ErrInvalidParams, target)
	}
	s := int(math.Ceil(math.Log(1-target) / math.Log(0.75)))
	if s > MaxSamples {
		return 0, fmt.Errorf("%w: confidence %v needs %d samples, at most %d", ErrInvalidParams, target, s, MaxSamples)
	}
	return max(s, 1), nil
}

// Coord is a cell of an extended square.
type Coord struct{ Row, Col int }

// ChooseCoordinates picks s distinct cells of a width×width square
// uniformly at random, reading randomness from rnd (a cryptographic source
// in production: crypto/rand.Reader). If s ≥ width², every cell is returned.
func ChooseCoordinates(rnd io.Reader, width, s int) ([]Coord, error) {
	if width < 2 || width&(width-1) != 0 || width > 1<<16 {
		return nil, fmt.Errorf("%w: width %d", ErrInvalidParams, width)
	}
	if s < 0 || s > MaxSamples {
		return nil, fmt.Errorf("%w: %d samples", ErrInvalidParams, s)
	}
	cells := uint64(width) * uint64(width)
	if uint64(s) >= cells {
		out := make([]Coord, 0, cells)
		for i := range cells {
			out = append(out, Coord{int(i / uint64(width)), int(i % uint64(width))})
		}
		return out, nil
	}
	seen := make(map[uint64]bool, s)
	out := make([]Coord, 0, s)
	var buf [8]byte
	for len(out) < s {
		if _, err := io.ReadFull(rnd, buf[:]); err != nil {
			return nil, fmt.Errorf("sampling: reading randomness: %w", err)
		}
		// cells is a power of two, so masking is uniform.
		i := binary.LittleEndian.Uint64(buf[:]) & (cells - 1)
		if seen[i] {
			continue
		}
		seen[i] = true
		out = append(out, Coord{int(i / uint64(width)), int(i % uint64(width))})
	}
	return out, nil
}
