package objects

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/api"
)

// Listing describes one manifest published under a scope.
type Listing struct {
	ID        string `json:"id"` // manifest ID, hex
	Ref       Ref    `json:"ref"`
	Name      string `json:"name,omitempty"`
	Version   string `json:"version,omitempty"`
	MediaType string `json:"media_type,omitempty"`
	Size      uint64 `json:"size"`
	PageSize  uint64 `json:"page_size"`
	Pages     int    `json:"pages"`
	Publisher string `json:"publisher"` // hex ed25519 key
}

// maxListPages bounds the blob.GetRange calls of one List.
const maxListPages = 1 << 16

// List returns the dataset manifests published under scope (blobs of the
// DatasetManifest namespace of scope, oldest first) whose commitment is
// proven under their block's data root and that parse and carry a valid
// publisher signature. Blobs of the namespace that are not such manifests
// are skipped (anyone may post in any namespace); skipped says how many.
// Which publishers to trust is the caller's decision.
func List(ctx context.Context, c Caller, scope []byte) (ls []Listing, skipped int, err error) {
	ns, err := dataset.Namespace(dataset.DatasetManifest, scope)
	if err != nil {
		return nil, 0, err
	}
	var head api.ExtendedHeader
	if err := c.Call(ctx, "header.LocalHead", &head); err != nil {
		return nil, 0, fmt.Errorf("head: %w", err)
	}
	if head.Tessera == nil {
		return nil, 0, fmt.Errorf("%w: the head has no compact header", ErrMismatch)
	}
	ls = []Listing{}
	if head.Tessera.Height == 0 {
		return ls, 0, nil
	}
	f := newFetcher(c)
	cursor := ""
	for range maxListPages {
		var page api.RangePage
		if err := c.Call(ctx, "blob.GetRange", &page, ns, uint64(1), head.Tessera.Height, cursor); err != nil {
			return nil, 0, fmt.Errorf("blob.GetRange: %w", err)
		}
		for _, b := range page.Blobs {
			if b.Blob == nil || b.Blob.Namespace() != ns {
				skipped++
				continue
			}
			m, err := dataset.ParseManifest(b.Blob.Data())
			if err != nil || m.Verify() != nil {
				skipped++
				continue
			}
			if err := f.verifyIncluded(ctx, b.Height, ns, b.Blob.Commitment()); err != nil {
				if ctx.Err() != nil {
					return nil, 0, ctx.Err()
				}
				skipped++
				continue
			}
			id, _ := m.ID()
			ls = append(ls, Listing{
				ID:   hex.EncodeToString(id[:]),
				Ref:  Ref{ID: id, Height: b.Height, Namespace: ns, Commitment: b.Blob.Commitment()},
				Name: m.Name, Version: m.Version, MediaType: m.MediaType,
				Size: m.ObjectLength, PageSize: m.PageSize, Pages: len(m.Entries),
				Publisher: hex.EncodeToString(m.PublisherKey),
			})
		}
		if page.Next == "" {
			return ls, skipped, nil
		}
		cursor = page.Next
	}
	return nil, 0, fmt.Errorf("%w: more than %d result pages", ErrInvalid, maxListPages)
}

// Verify fetches the manifest at ref and every page it names, verifying
// each as GetRangeWith does, without keeping the bytes. It returns the
// verified manifest.
func Verify(ctx context.Context, c Caller, ref Ref, o ReadOptions) (*dataset.Manifest, error) {
	obj, err := Open(ctx, c, ref, o)
	if err != nil {
		return nil, err
	}
	prog := &progress{total: obj.m.ObjectLength, fn: o.Progress}
	err = obj.Pages(ctx, span(0, uint64(len(obj.m.Entries))), func(_ uint64, data []byte) error {
		prog.add(uint64(len(data)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return obj.m, nil
}

// VerifyLocal checks an object held locally (size bytes readable from r)
// against a verified manifest, page by page, without the network: its
// size, and every page's length and SHA-256. A mismatch names the first
// pages that differ.
func VerifyLocal(m *dataset.Manifest, r io.ReaderAt, size int64, progress func(done, total uint64)) error {
	if size < 0 || uint64(size) != m.ObjectLength {
		return fmt.Errorf("%w: the file is %d bytes, the manifest says %d", ErrMismatch, size, m.ObjectLength)
	}
	var (
		bad  []string
		nbad int
		buf  []byte
		done uint64
	)
	for i, e := range m.Entries {
		if buf == nil {
			buf = make([]byte, m.PageSize)
		}
		p := buf[:e.Length]
		k, err := r.ReadAt(p, int64(uint64(i)*m.PageSize))
		if k < len(p) {
			return fmt.Errorf("page %d: reading: %w", i, err)
		}
		if sha256.Sum256(p) != e.SHA256 {
			if nbad++; len(bad) < 10 {
				bad = append(bad, fmt.Sprint(i))
			}
		}
		done += e.Length
		if progress != nil {
			progress(done, m.ObjectLength)
		}
	}
	if nbad > 0 {
		more := ""
		if nbad > len(bad) {
			more = fmt.Sprintf(" and %d more", nbad-len(bad))
		}
		return fmt.Errorf("%w: %d of %d pages differ from the manifest: %s%s", ErrMismatch, nbad, len(m.Entries), strings.Join(bad, ", "), more)
	}
	return nil
}
