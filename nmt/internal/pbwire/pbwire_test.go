package pbwire

import (
	"errors"
	"math"
	"testing"
)

func TestVarintRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 300, 1<<32 - 1, 1 << 63, math.MaxUint64} {
		b := AppendVarint(nil, v)
		if len(b) != SizeVarint(v) {
			t.Errorf("SizeVarint(%d) = %d, encoded %d", v, SizeVarint(v), len(b))
		}
		got, rest, err := ConsumeVarint(append(b, 0xaa))
		if err != nil || got != v || len(rest) != 1 {
			t.Errorf("ConsumeVarint(%x) = %d, %x, %v", b, got, rest, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":     nil,
		"truncated": {0x80, 0x80},
		"overflow":  {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
		"too long":  {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00},
	} {
		if _, _, err := ConsumeVarint(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, _, err := ConsumeTag([]byte{0x00}); !errors.Is(err, ErrMalformed) {
		t.Error("field 0 accepted")
	}
	if _, _, _, err := ConsumeTag([]byte{0xf8, 0xff, 0xff, 0xff, 0x7f}); !errors.Is(err, ErrMalformed) {
		t.Error("field 2^32-1 accepted")
	}
	if _, _, err := ConsumeBytes([]byte{0x05, 1, 2}); !errors.Is(err, ErrMalformed) {
		t.Error("length beyond input accepted")
	}
	for _, wt := range []int{3, 4, 6, 7} {
		if _, err := SkipField([]byte{1, 2, 3, 4, 5, 6, 7, 8}, wt); !errors.Is(err, ErrMalformed) {
			t.Errorf("wire type %d skipped", wt)
		}
	}
	for wt, b := range map[int][]byte{WireFixed64: {1, 2, 3}, WireFixed32: {1}, WireBytes: {2, 1}, WireVarint: {0x80}} {
		if _, err := SkipField(b, wt); !errors.Is(err, ErrMalformed) {
			t.Errorf("truncated wire type %d skipped", wt)
		}
	}
}

func FuzzConsume(f *testing.F) {
	f.Add([]byte{0x08, 0x96, 0x01, 0x12, 0x02, 0xaa, 0xbb})
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			_, wt, rest, err := ConsumeTag(b)
			if err != nil {
				return
			}
			if len(rest) >= len(b) {
				t.Fatal("no progress")
			}
			if b, err = SkipField(rest, wt); err != nil {
				return
			}
		}
	})
}
