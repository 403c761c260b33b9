package share

import (
	"bytes"
	"errors"
	"testing"
)

func TestNewNamespaceFromBytes(t *testing.T) {
	v0 := append(make([]byte, 19), bytes.Repeat([]byte{7}, 10)...)
	bad0 := bytes.Clone(v0)
	bad0[5] = 1
	v255 := bytes.Repeat([]byte{0xff}, NamespaceSize)
	v1 := bytes.Clone(v0)
	v1[0] = 1
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"v0", v0, true},
		{"v255", v255, true},
		{"v0 nonzero prefix", bad0, false},
		{"version 1", v1, false},
		{"short", v0[:28], false},
		{"long", append(bytes.Clone(v0), 0), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns, err := NewNamespaceFromBytes(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidNamespace) {
					t.Fatalf("error %v does not wrap ErrInvalidNamespace", err)
				}
				return
			}
			if !bytes.Equal(ns.Bytes(), tt.in) {
				t.Fatalf("Bytes() = %x, want %x", ns.Bytes(), tt.in)
			}
		})
	}
}

func TestNamespaceOrderingAndReserved(t *testing.T) {
	order := []Namespace{TxNamespace, IntermediateStateRootsNamespace, PayForBlobNamespace, PayForFibreNamespace, PrimaryReservedPaddingNamespace, mustV0(t, []byte{1, 0}), mustV0(t, bytes.Repeat([]byte{0xff}, 10)), MinSecondaryReservedNamespace, TailPaddingNamespace, ParityNamespace}
	for i := 1; i < len(order); i++ {
		if order[i-1].Compare(order[i]) >= 0 {
			t.Errorf("%s should sort before %s", order[i-1], order[i])
		}
	}
	for _, ns := range []Namespace{TxNamespace, PayForBlobNamespace, PrimaryReservedPaddingNamespace, TailPaddingNamespace, ParityNamespace, {}} {
		if !ns.IsReserved() || ns.ValidateForBlob() == nil {
			t.Errorf("%s must be reserved and refused for blobs", ns)
		}
	}
	if err := mustV0(t, []byte{1, 0}).ValidateForBlob(); err != nil {
		t.Errorf("first user namespace refused: %v", err)
	}
	if _, err := NewV0Namespace(make([]byte, 11)); !errors.Is(err, ErrInvalidNamespace) {
		t.Errorf("11-byte sub-ID accepted: %v", err)
	}
}

func mustV0(t testing.TB, id []byte) Namespace {
	t.Helper()
	ns, err := NewV0Namespace(id)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}
