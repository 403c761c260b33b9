package objects

import (
	"context"
	"fmt"
	"sync"

	"github.com/tessera-da/tessera/blob/dataset"
)

// Object is an opened object: its manifest, verified once, from which
// pages are read, each verified as GetRangeWith verifies it, in any order.
// Readers that visit pages out of order (training data loaders) open an
// object once instead of calling GetRange per page. An Object is safe for
// concurrent use.
type Object struct {
	f        *fetcher
	m        *dataset.Manifest
	tree     *dataset.PageTree
	parallel int
}

// Open reads and verifies the manifest at ref (its blob's commitment
// proof against its block's data root, its signature, its ID).
func Open(ctx context.Context, c Caller, ref Ref, o ReadOptions) (*Object, error) {
	parallel, err := o.parallel()
	if err != nil {
		return nil, err
	}
	f := newReadFetcher(c, o)
	m, err := f.manifest(ctx, ref)
	if err != nil {
		return nil, err
	}
	tree, err := m.PageTree()
	if err != nil {
		return nil, err
	}
	return &Object{f: f, m: m, tree: tree, parallel: parallel}, nil
}

// Manifest returns the verified manifest. The caller must not modify it.
func (o *Object) Manifest() *dataset.Manifest { return o.m }

// Page returns page i, verified.
func (o *Object) Page(ctx context.Context, i uint64) ([]byte, error) {
	pages, err := o.ReadPages(ctx, []uint64{i})
	if err != nil {
		return nil, err
	}
	return pages[0], nil
}

// ReadPages returns the pages idx, verified, in the order of idx, all in
// memory at once.
func (o *Object) ReadPages(ctx context.Context, idx []uint64) ([][]byte, error) {
	var mu sync.Mutex
	got := make(map[uint64][]byte, len(idx))
	err := o.Pages(ctx, idx, func(i uint64, data []byte) error {
		mu.Lock()
		got[i] = data
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	pages := make([][]byte, len(idx))
	for j, i := range idx {
		pages[j] = got[i]
	}
	return pages, nil
}

// Pages fetches the pages idx, up to the read options' Parallel at once,
// and hands each verified page to fn, concurrently and in any order. It
// stops at the first error (from a fetch or from fn) and returns it.
func (o *Object) Pages(ctx context.Context, idx []uint64, fn func(i uint64, data []byte) error) error {
	for _, i := range idx {
		if i >= uint64(len(o.m.Entries)) {
			return fmt.Errorf("%w: page %d of a %d-page object", ErrInvalid, i, len(o.m.Entries))
		}
	}
	return o.f.fetchPages(ctx, o.tree, idx, o.parallel, fn)
}
