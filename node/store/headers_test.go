package store

import (
	"errors"
	"testing"

	"github.com/tessera-da/tessera/node/header"
)

func TestPutHeaderChain(t *testing.T) {
	s, err := OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var hs []*header.Header
	var prev *header.Header
	for range 3 {
		b := testBlock(t, prev, 1, nil, nil)
		hs = append(hs, b.Header)
		prev = b.Header
	}
	if err := s.PutHeader(hs[1]); !errors.Is(err, ErrNotChained) {
		t.Fatalf("height 2 on an empty store: %v", err)
	}
	for _, h := range hs {
		if err := s.PutHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	head, err := s.Head()
	if err != nil || head.Height != 3 || head.Hash() != hs[2].Hash() {
		t.Fatalf("head %v %v", head, err)
	}
	if got, err := s.HeaderByHash(hs[1].Hash()); err != nil || got.Height != 2 {
		t.Fatalf("by hash: %v %v", got, err)
	}
	if _, err := s.ODS(2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a header-only height has an ODS: %v", err)
	}
	if err := s.PutHeader(hs[2]); !errors.Is(err, ErrNotChained) {
		t.Fatalf("a repeated header was accepted: %v", err)
	}
}
