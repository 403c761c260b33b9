package header

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

func testKey(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	return ed25519.NewKeyFromSeed(s)
}

func newChain(t testing.TB, n int, key ed25519.PrivateKey) []*Header {
	var out []*Header
	var prev Hash
	for i := 1; i <= n; i++ {
		h := &Header{ChainID: "test", Height: uint64(i), Time: time.Unix(int64(1000+i), 0).UTC(), PrevHash: prev, SquareWidth: 4}
		h.DataRoot[0] = byte(i)
		h.Sign(key)
		prev = h.Hash()
		out = append(out, h)
	}
	return out
}

func TestVerifyChain(t *testing.T) {
	key := testKey(1)
	producers := []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}
	c := newChain(t, 3, key)
	if err := c[0].Verify("test", producers, nil); err != nil {
		t.Fatal(err)
	}
	if err := c[1].Verify("test", producers, c[0]); err != nil {
		t.Fatal(err)
	}
	if err := c[2].Verify("test", producers, c[0]); !errors.Is(err, ErrNotChained) {
		t.Fatalf("skipped height accepted: %v", err)
	}
	if err := c[1].Verify("other", producers, c[0]); !errors.Is(err, ErrInvalidHeader) {
		t.Fatalf("wrong chain accepted: %v", err)
	}
	other := testKey(2)
	if err := c[1].Verify("test", []ed25519.PublicKey{other.Public().(ed25519.PublicKey)}, c[0]); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("unknown producer accepted: %v", err)
	}
	forged := *c[1]
	forged.DataRoot[5] ^= 1
	if err := forged.Verify("test", producers, c[0]); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("forged data root accepted: %v", err)
	}
}

func TestBinaryRoundTripAndMutations(t *testing.T) {
	h := newChain(t, 1, testKey(1))[0]
	b, _ := h.MarshalBinary()
	var back Header
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if back.Hash() != h.Hash() || back.ValidateBasic() != nil {
		t.Fatal("round trip changed the header")
	}
	for i := range b {
		m := append([]byte(nil), b...)
		m[i] ^= 0x01
		var x Header
		if err := x.UnmarshalBinary(m); err != nil {
			continue
		}
		if err := x.ValidateBasic(); err == nil {
			t.Fatalf("mutation of byte %d still verifies", i)
		}
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	h := newChain(f, 1, testKey(1))[0]
	b, _ := h.MarshalBinary()
	f.Add(b)
	f.Add([]byte{1, 200})
	f.Fuzz(func(t *testing.T, data []byte) {
		var x Header
		if err := x.UnmarshalBinary(data); err != nil {
			return
		}
		_ = x.ValidateBasic()
		again, _ := x.MarshalBinary()
		var y Header
		if err := y.UnmarshalBinary(again); err != nil || y.Hash() != x.Hash() {
			t.Fatalf("re-encoding is not stable")
		}
	})
}

func TestCheckChainID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"t", true},
		{"tessera-devnet_1.2", true},
		{strings.Repeat("x", MaxChainIDSize), true},
		{"", false},
		{strings.Repeat("x", MaxChainIDSize+1), false},
		{"a/b", false},
		{"a b", false},
		{"tab\t", false},
		{"del\x7f", false},
		{"é", false},
	} {
		if err := CheckChainID(tc.id); (err == nil) != tc.ok {
			t.Errorf("CheckChainID(%q): %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}
