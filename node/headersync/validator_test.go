package headersync

import (
	"bytes"
	"errors"
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"github.com/tessera-da/tessera/node/header"
)

func newTestValidator(head *header.Header) *headerValidator {
	v := &headerValidator{chainID: testChain, producers: producers, maxAhead: 10}
	if head != nil {
		v.head.Store(head)
	}
	return v
}

func encode(t testing.TB, h *header.Header) []byte {
	b, err := h.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHeaderValidator(t *testing.T) {
	chain := makeChain(30)
	head := chain[4] // height 5
	other := testKey(9)
	tests := []struct {
		name   string
		data   []byte
		local  bool
		want   pubsub.ValidationResult
		errIs  error
		target uint64 // target afterwards (0: unchanged from 0)
	}{
		{"next header", encode(t, chain[5]), false, pubsub.ValidationAccept, nil, 6},
		{"ahead within bound", encode(t, chain[14]), false, pubsub.ValidationAccept, nil, 15},
		{"head height", encode(t, chain[4]), false, pubsub.ValidationIgnore, ErrKnown, 0},
		{"old height", encode(t, chain[1]), false, pubsub.ValidationIgnore, ErrKnown, 0},
		{"too far ahead", encode(t, chain[20]), false, pubsub.ValidationIgnore, ErrTooFarAhead, 21},
		{"local old height", encode(t, chain[1]), true, pubsub.ValidationAccept, nil, 0},
		{"bad signature", func() []byte {
			b := encode(t, chain[5])
			b[len(b)-1] ^= 1
			return b
		}(), false, pubsub.ValidationReject, header.ErrInvalidSignature, 0},
		{"forged data root", func() []byte {
			c := *chain[5]
			c.DataRoot[3] ^= 1
			return encode(t, &c)
		}(), false, pubsub.ValidationReject, header.ErrInvalidSignature, 0},
		{"wrong chain", encode(t, resign(chain[5], producerKey, func(h *header.Header) { h.ChainID = "other" })), false, pubsub.ValidationReject, header.ErrInvalidHeader, 0},
		{"unknown producer", encode(t, resign(chain[5], other, func(*header.Header) {})), false, pubsub.ValidationReject, header.ErrInvalidSignature, 0},
		{"fork at next height", encode(t, resign(chain[5], producerKey, func(h *header.Header) { h.PrevHash[0] ^= 1 })), false, pubsub.ValidationReject, header.ErrNotChained, 0},
		{"garbage", []byte("not a header"), false, pubsub.ValidationReject, header.ErrInvalidHeader, 0},
		{"empty", nil, false, pubsub.ValidationReject, header.ErrInvalidHeader, 0},
		{"oversized", bytes.Repeat([]byte{1}, 4096), false, pubsub.ValidationReject, header.ErrInvalidHeader, 0},
		{"truncated", encode(t, chain[5])[:100], false, pubsub.ValidationReject, header.ErrInvalidHeader, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newTestValidator(head)
			res, h, err := v.validate(tc.data, tc.local)
			if res != tc.want {
				t.Fatalf("result %v (%v), want %v", res, err, tc.want)
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Fatalf("error %v, want %v", err, tc.errIs)
			}
			if (res == pubsub.ValidationAccept) != (h != nil) {
				t.Fatalf("accepted=%v but header %v", res == pubsub.ValidationAccept, h)
			}
			if got := v.target.Load(); got != tc.target {
				t.Fatalf("target %d, want %d", got, tc.target)
			}
		})
	}
	// With no head yet (a fresh node from genesis), the first headers pass.
	v := newTestValidator(nil)
	if res, _, err := v.validate(encode(t, chain[0]), false); res != pubsub.ValidationAccept {
		t.Fatalf("genesis header on a fresh node: %v %v", res, err)
	}
}

// FuzzHeaderValidator feeds arbitrary bytes to the gossip validator's
// decode path: it must never panic, and whatever it accepts must be a
// well-formed header of this chain, signed by a genesis producer, that
// re-encodes to the same bytes and, at the next height, extends the head.
func FuzzHeaderValidator(f *testing.F) {
	chain := makeChain(8)
	head := chain[2]
	for _, h := range chain {
		f.Add(encode(f, h), false)
	}
	f.Add(encode(f, chain[1]), true)
	f.Add(encode(f, resign(chain[3], producerKey, func(h *header.Header) { h.ChainID = "x" })), false)
	f.Add(encode(f, resign(chain[3], testKey(7), func(*header.Header) {})), false)
	f.Add([]byte{}, false)
	f.Add([]byte{1, 255}, false)
	f.Fuzz(func(t *testing.T, data []byte, local bool) {
		v := newTestValidator(head)
		res, h, err := v.validate(data, local)
		switch res {
		case pubsub.ValidationAccept:
		case pubsub.ValidationIgnore, pubsub.ValidationReject:
			if err == nil || h != nil {
				t.Fatalf("result %v with error %v and header %v", res, err, h)
			}
			return
		default:
			t.Fatalf("unexpected result %v", res)
		}
		if h == nil || err != nil {
			t.Fatalf("accepted without a header (%v)", err)
		}
		if err := h.Verify(testChain, producers, nil); err != nil {
			t.Fatalf("accepted header does not verify: %v", err)
		}
		if !bytes.Equal(encode(t, h), data) {
			t.Fatal("accepted header re-encodes differently")
		}
		if !local && h.Height <= head.Height {
			t.Fatalf("accepted height %d at or below head %d", h.Height, head.Height)
		}
		if !local && h.Height == head.Height+1 {
			if err := h.Verify(testChain, producers, head); err != nil {
				t.Fatalf("accepted next header that does not extend the head: %v", err)
			}
		}
	})
}

// BenchmarkHeaderValidate measures the gossip validator on valid headers
// at the next height (decode, chain and producer checks, signature, hash
// chain).
func BenchmarkHeaderValidate(b *testing.B) {
	chain := makeChain(2)
	data := encode(b, chain[1])
	v := newTestValidator(chain[0])
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if res, _, err := v.validate(data, false); res != pubsub.ValidationAccept {
			b.Fatal(res, err)
		}
	}
}
