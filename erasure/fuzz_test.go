package erasure

import (
	"bytes"
	"sync"
	"testing"

	"github.com/tessera-da/tessera/nmt/merkle"
)

var (
	fuzzOnce     sync.Once
	fuzzFixtures []*fixture // k = 1, 2, 4
)

func fuzzSquares(t testing.TB) []*fixture {
	fuzzOnce.Do(func() {
		for _, k := range []int{1, 2, 4} {
			fuzzFixtures = append(fuzzFixtures, newFixture(t, sortedODS(k, "fuzz")))
		}
	})
	return fuzzFixtures
}

// seedSamples adds the encodings of honest samples of every fixture.
func seedSamples(f *testing.F, add func(fix uint8, enc []byte, row, col uint8)) {
	for fi, fx := range fuzzSquares(f) {
		w := fx.s.Width()
		for _, rc := range sampleCoords(w) {
			for _, a := range []Axis{Row, Col} {
				smp, err := fx.e.ProveSample(fx.s, fx.d, rc[0], rc[1], a)
				if err != nil {
					f.Fatal(err)
				}
				enc, err := smp.MarshalBinary()
				if err != nil {
					f.Fatal(err)
				}
				add(uint8(fi), enc, uint8(rc[0]), uint8(rc[1]))
			}
		}
	}
}

// FuzzParseSample: decoding never panics, and whatever decodes re-encodes
// to the same bytes.
func FuzzParseSample(f *testing.F) {
	seedSamples(f, func(fix uint8, enc []byte, _, _ uint8) { f.Add(enc, fix) })
	f.Add([]byte{}, uint8(0))
	f.Add(make([]byte, SampleSize(2)), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, wsel uint8) {
		width := 2 << (wsel % 4) // 2, 4, 8, 16
		s, err := ParseSample(b, width)
		if err != nil {
			if s != nil {
				t.Fatal("non-nil sample with an error")
			}
			return
		}
		enc, err := s.MarshalBinary()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzVerifySample: a sample that verifies for (row, col) carries the share
// that is really at (row, col).
func FuzzVerifySample(f *testing.F) {
	seedSamples(f, func(fix uint8, enc []byte, row, col uint8) { f.Add(fix, enc, row, col) })
	f.Fuzz(func(t *testing.T, fix uint8, b []byte, row, col uint8) {
		fxs := fuzzSquares(t)
		fx := fxs[int(fix)%len(fxs)]
		w := fx.s.Width()
		s, err := ParseSample(b, w)
		if err != nil {
			return
		}
		if VerifySample(fx.root, w, int(row), int(col), s) != nil {
			return
		}
		if !bytes.Equal(s.Share(), fx.s.Cell(int(row), int(col))) {
			t.Fatalf("forged sample verifies at (%d, %d)", row, col)
		}
	})
}

// FuzzVerifyRoot: a root that verifies at (axis, index) is the real root.
func FuzzVerifyRoot(f *testing.F) {
	for fi, fx := range fuzzSquares(f) {
		for _, a := range []Axis{Row, Col} {
			for i := range fx.d.Width() {
				p, err := fx.d.ProveRoot(a, i)
				if err != nil {
					f.Fatal(err)
				}
				enc, err := p.MarshalBinary()
				if err != nil {
					f.Fatal(err)
				}
				f.Add(uint8(fi), uint8(a), uint8(i), fx.d.Root(a, i), enc)
			}
		}
	}
	f.Fuzz(func(t *testing.T, fix, a, i uint8, root, proof []byte) {
		fxs := fuzzSquares(t)
		fx := fxs[int(fix)%len(fxs)]
		p, err := merkle.ParseProof(proof)
		if err != nil {
			return
		}
		if VerifyRoot(fx.root, fx.d.Width(), Axis(a), int(i), root, p) != nil {
			return
		}
		if !bytes.Equal(root, fx.d.Root(Axis(a), int(i))) {
			t.Fatalf("forged root verifies at %s %d", Axis(a), i)
		}
	})
}

// FuzzNewDAH: NewDAH never panics and keeps what it accepts.
func FuzzNewDAH(f *testing.F) {
	for _, fx := range fuzzSquares(f) {
		f.Add(bytes.Join(fx.d.RowRoots(), nil), bytes.Join(fx.d.ColRoots(), nil))
	}
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, rows, cols []byte) {
		split := func(b []byte) [][]byte {
			var out [][]byte
			for len(b) >= RootSize {
				out = append(out, b[:RootSize])
				b = b[RootSize:]
			}
			if len(b) > 0 {
				out = append(out, b)
			}
			return out
		}
		d, err := NewDAH(split(rows), split(cols))
		if err != nil {
			return
		}
		if !bytes.Equal(bytes.Join(d.RowRoots(), nil), rows) || !bytes.Equal(bytes.Join(d.ColRoots(), nil), cols) {
			t.Fatal("NewDAH changed the roots")
		}
		_ = d.Hash()
	})
}
