package share

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"runtime"
	"testing"
)

func TestVarint(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 300, 16383, 16384, worstCaseShareIndex, math.MaxUint32, math.MaxUint64} {
		enc := appendVarint(nil, v)
		if want := binary.AppendUvarint(nil, v); !bytes.Equal(enc, want) {
			t.Fatalf("appendVarint(%d) = %x, want %x", v, enc, want)
		}
		if varintSize(v) != len(enc) {
			t.Fatalf("varintSize(%d) = %d, want %d", v, varintSize(v), len(enc))
		}
		got, n, err := consumeVarint(append(enc, 0xee))
		if err != nil || got != v || n != len(enc) {
			t.Fatalf("consumeVarint(%x) = %d, %d, %v", enc, got, n, err)
		}
	}
	bad := [][]byte{
		nil,
		{0x80},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, // 10th byte > 1
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
	}
	for _, b := range bad {
		if _, _, err := consumeVarint(b); !errors.Is(err, errProto) {
			t.Errorf("consumeVarint(%x): err = %v", b, err)
		}
	}
	// Non-minimal encodings are accepted, as protobuf-go accepts them.
	if v, n, err := consumeVarint([]byte{0x81, 0x80, 0x00}); err != nil || v != 1 || n != 3 {
		t.Fatalf("non-minimal: %d %d %v", v, n, err)
	}
}

func TestConsumeTag(t *testing.T) {
	tests := []struct {
		in     []byte
		maxNum uint64
		num    int
		ok     bool
	}{
		{appendTag(nil, 1, wireBytes), maxFieldNumber, 1, true},
		{appendTag(nil, maxFieldNumber, wireVarint), maxFieldNumber, maxFieldNumber, true},
		{appendTag(nil, maxFieldNumber+1, wireVarint), maxFieldNumber, 0, false},
		{appendTag(nil, maxFieldNumber+1, wireVarint), math.MaxInt32, maxFieldNumber + 1, true},
		{appendVarint(nil, uint64(math.MaxInt32+1)<<3), math.MaxInt32, 0, false},
		{[]byte{0x00}, maxFieldNumber, 0, false},
		{[]byte{0x07}, maxFieldNumber, 0, false},
	}
	for _, tc := range tests {
		num, _, _, err := consumeTag(tc.in, tc.maxNum)
		if (err == nil) != tc.ok || (tc.ok && num != tc.num) {
			t.Errorf("consumeTag(%x) = %d, %v", tc.in, num, err)
		}
	}
}

func TestSkipGroups(t *testing.T) {
	nest := func(depth int) []byte {
		var b []byte
		for range depth {
			b = appendTag(b, 5, wireStartGroup)
		}
		for range depth {
			b = appendTag(b, 5, wireEndGroup)
		}
		return b
	}
	// protowire allows protoRecursionLimit+1 nested groups.
	for _, tc := range []struct {
		depth int
		ok    bool
	}{{1, true}, {2, true}, {protoRecursionLimit + 1, true}, {protoRecursionLimit + 2, false}} {
		b := nest(tc.depth)
		f, n, err := nextField(b)
		if (err == nil) != tc.ok {
			t.Fatalf("depth %d: err %v", tc.depth, err)
		}
		if tc.ok && (n != len(b) || f.typ != wireStartGroup) {
			t.Fatalf("depth %d: consumed %d of %d", tc.depth, n, len(b))
		}
	}
	// Fields inside a group are skipped whole; a mismatched end fails.
	g := cat(appendTag(nil, 9, wireStartGroup), field(1, wireBytes, []byte{0x0c, 0x0c}), varintField(2, 300),
		appendTag(nil, 3, wireFixed32), []byte{1, 2, 3, 4}, appendTag(nil, 4, wireFixed64), make([]byte, 8), appendTag(nil, 9, wireEndGroup))
	if _, n, err := nextField(g); err != nil || n != len(g) {
		t.Fatalf("group: %d %v", n, err)
	}
	bad := cat(appendTag(nil, 9, wireStartGroup), appendTag(nil, 8, wireEndGroup))
	if _, _, err := nextField(bad); err == nil {
		t.Fatal("mismatched end group accepted")
	}
	for _, trunc := range [][]byte{cat(appendTag(nil, 3, wireFixed32), []byte{1, 2, 3}), cat(appendTag(nil, 4, wireFixed64), make([]byte, 7))} {
		if _, _, err := nextField(trunc); err == nil {
			t.Fatalf("truncated fixed field %x accepted", trunc)
		}
	}
}

func TestConsumeLengthPrefixedBounds(t *testing.T) {
	// A huge declared length must fail without allocating.
	b := appendVarint(nil, math.MaxUint64>>1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		if _, _, err := consumeLengthPrefixed(b); err == nil {
			t.Fatal("accepted")
		}
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
		t.Fatalf("%d bytes allocated rejecting an overlong length 100 times", d)
	}
	d, n, err := consumeLengthPrefixed([]byte{3, 'a', 'b', 'c', 'd'})
	if err != nil || n != 4 || string(d) != "abc" || cap(d) != 3 {
		t.Fatalf("got %q %d %v cap %d", d, n, err, cap(d))
	}
}
