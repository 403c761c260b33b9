package sampling

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestConfidence(t *testing.T) {
	// The design's anchors: 16 samples give 99 %, 32 give 99.99 %, 48 give 99.9999 %.
	for _, tt := range []struct {
		s    int
		want float64
	}{{16, 0.99}, {32, 0.9999}, {48, 0.999999}} {
		for _, k := range []int{1, 2, 32, 128, 512} {
			if c := Confidence(k, tt.s); c < tt.want {
				t.Errorf("Confidence(k=%d, s=%d) = %v, want ≥ %v", k, tt.s, c, tt.want)
			}
		}
	}
	if got := MissingProbability(1); got != 1 {
		t.Errorf("k=1: p = %v, want 1", got)
	}
	for _, tt := range []struct {
		target float64
		want   int
	}{{0.99, 17}, {0.9999, 33}} {
		s, err := SamplesFor(tt.target)
		if err != nil || s != tt.want {
			t.Errorf("SamplesFor(%v) = %d, %v; want %d", tt.target, s, err, tt.want)
		}
		if 1-math.Pow(0.75, float64(s)) < tt.target {
			t.Errorf("SamplesFor(%v) = %d does not reach the target", tt.target, s)
		}
	}
	for _, bad := range []float64{0, 1, -1, math.NaN(), 1 - 1e-300} {
		if _, err := SamplesFor(bad); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("SamplesFor(%v) accepted", bad)
		}
	}
}

// counterReader is a deterministic stand-in for crypto/rand in tests.
type counterReader struct{ n uint64 }

func (c *counterReader) Read(p []byte) (int, error) {
	for i := 0; i < len(p); {
		c.n++
		h := sha256.Sum256([]byte{byte(c.n), byte(c.n >> 8), byte(c.n >> 16)})
		i += copy(p[i:], h[:])
	}
	return len(p), nil
}

func TestChooseCoordinates(t *testing.T) {
	cs, err := ChooseCoordinates(&counterReader{}, 8, 20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[Coord]bool{}
	for _, c := range cs {
		if c.Row < 0 || c.Row >= 8 || c.Col < 0 || c.Col >= 8 || seen[c] {
			t.Fatalf("bad or repeated coordinate %v", c)
		}
		seen[c] = true
	}
	all, _ := ChooseCoordinates(&counterReader{}, 2, 10)
	if len(all) != 4 {
		t.Fatalf("asking for more than all cells gave %d", len(all))
	}
	if _, err := ChooseCoordinates(&counterReader{}, 6, 1); !errors.Is(err, ErrInvalidParams) {
		t.Fatal("non-power-of-two width accepted")
	}
	if _, err := ChooseCoordinates(bytes.NewReader(nil), 8, 1); err == nil {
		t.Fatal("an empty randomness source gave coordinates")
	}
}

func TestSampleID(t *testing.T) {
	id, err := NewSampleID(42, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := id.MarshalBinary()
	if want := []byte{0, 0, 0, 0, 0, 0, 0, 42, 0, 3, 0, 7}; !bytes.Equal(b, want) {
		t.Fatalf("encoding %x, want %x", b, want)
	}
	back, err := ParseSampleID(b)
	if err != nil || back != id {
		t.Fatalf("round trip: %v %v", back, err)
	}
	if _, err := NewSampleID(0, 1, 1); !errors.Is(err, ErrInvalidID) {
		t.Fatal("height 0 accepted")
	}
	if _, err := ParseSampleID(b[:11]); !errors.Is(err, ErrInvalidID) {
		t.Fatal("short ID accepted")
	}
}

func FuzzParseSampleID(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 42, 0, 3, 0, 7})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := ParseSampleID(b)
		if err != nil {
			return
		}
		again, _ := id.MarshalBinary()
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func ExampleSamplesFor() {
	s, _ := SamplesFor(0.99)
	fmt.Printf("%d samples: %.4f at k=128\n", s, Confidence(128, s))
	// Output: 17 samples: 0.9931 at k=128
}
