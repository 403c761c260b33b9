package objects_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/objects"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

// nodeTest starts the producer of a test that runs a node (skipped with
// -short), bounded by bound, and returns the bounded context and a client.
func nodeTest(t *testing.T, bound time.Duration) (context.Context, objects.Caller) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a node; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	t.Cleanup(cancel)
	return ctx, startNet(t, ctx)
}

// startNet runs a producer on 127.0.0.1 (100 ms blocks, squares up to
// 64 wide) and returns a write-permitted client of its RPC.
func startNet(t testing.TB, ctx context.Context) objects.Caller {
	t.Helper()
	return startNetWith(t, ctx, node.LocalNetParams{ChainID: "objects-test", BlockInterval: 100 * time.Millisecond, MaxSquareWidth: 64})
}

// startNetWith runs a producer with p (in a temporary directory) until the
// test ends and returns a write-permitted client of its RPC.
func startNetWith(t testing.TB, ctx context.Context, p node.LocalNetParams) objects.Caller {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	p.Base = t.TempDir()
	ln, err := node.StartLocalNet(ctx, p)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = ln.Wait() })
	tok, _ := rpc.NewToken(ln.Secret, rpc.PermsFor(rpc.PermWrite), time.Time{})
	c, err := rpc.Dial(ctx, fmt.Sprintf("http://%s", ln.Nodes[0].Node.RPCAddr()), tok)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testData(n int, seed byte) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7) ^ seed ^ byte(i>>12)
	}
	return data
}

var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))

// noPieces reads as blobs only (a node without pieces for these pages
// would otherwise cost one piece timeout per read).
var noPieces = objects.ReadOptions{PieceTimeout: -1}

// faulty wraps a real node's Caller and lets a test rewrite results.
type faulty struct {
	objects.Caller
	calls  sync.Map // method → *atomic.Int64
	before func(method string, params []any) error
	after  func(method string, result any, params []any) error
}

func (f *faulty) count(method string) int64 {
	v, _ := f.calls.LoadOrStore(method, new(atomic.Int64))
	return v.(*atomic.Int64).Load()
}

func (f *faulty) Call(ctx context.Context, method string, result any, params ...any) error {
	v, _ := f.calls.LoadOrStore(method, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	if f.before != nil {
		if err := f.before(method, params); err != nil {
			return err
		}
	}
	if err := f.Caller.Call(ctx, method, result, params...); err != nil {
		return err
	}
	if f.after != nil {
		return f.after(method, result, params)
	}
	return nil
}

// shortReader is a file that ends (or fails) at byte cut.
type shortReader struct {
	data []byte
	cut  int64
	err  error // nil: a short read with io.EOF
}

func (r shortReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) <= r.cut {
		return copy(p, r.data[off:]), nil
	}
	if r.err != nil {
		return 0, r.err
	}
	n := 0
	if off < r.cut {
		n = copy(p, r.data[off:r.cut])
	}
	return n, fmt.Errorf("short: %w", errEOF)
}

var errEOF = errors.New("EOF")

// TestObjects runs every end-to-end case against one producer: put and
// get, ranges, resumable downloads and uploads, listing, verification,
// and the faults a node (or a forged manifest) can introduce.
func TestObjects(t *testing.T) {
	ctx, c := nodeTest(t, 3*time.Minute)

	const page = 64 << 10
	data := testData(7*page+1000, 1) // 8 pages, the last short
	ref, err := objects.Put(ctx, c, []byte("dataset/test"), bytes.NewReader(data), int64(len(data)), objects.Options{PageSize: page, Key: testKey, MediaType: "application/octet-stream",
		Dataset: &dataset.Manifest{Name: "test", Version: "1", License: "CC0-1.0", RecordFormat: "bytes"}})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("Get", func(t *testing.T) {
		got, m, err := objects.Get(ctx, c, *ref) // default options: asks for pieces first
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) || len(m.Entries) != 8 || m.Name != "test" {
			t.Fatalf("got %d bytes in %d pages", len(got), len(m.Entries))
		}
	})

	t.Run("GetRange", func(t *testing.T) {
		for _, tc := range []struct{ off, n uint64 }{
			{0, 1}, {page - 1, 2}, {page, page}, {3*page + 5, 2*page + 17}, {uint64(len(data)) - 1, 1}, {0, uint64(len(data))}, {100, 0},
		} {
			f := &faulty{Caller: c}
			got, _, err := objects.GetRangeWith(ctx, f, *ref, tc.off, tc.n, noPieces)
			if err != nil {
				t.Fatalf("[%d, +%d): %v", tc.off, tc.n, err)
			}
			if !bytes.Equal(got, data[tc.off:tc.off+tc.n]) {
				t.Fatalf("[%d, +%d): wrong bytes", tc.off, tc.n)
			}
			want := int64(0)
			if tc.n > 0 {
				want = int64((tc.off+tc.n-1)/page - tc.off/page + 1)
			}
			if got := f.count("blob.Get") - 1; got != want { // one is the manifest
				t.Fatalf("[%d, +%d): fetched %d pages, want %d", tc.off, tc.n, got, want)
			}
		}
		if _, _, err := objects.GetRange(ctx, c, *ref, uint64(len(data)), 1); !errors.Is(err, objects.ErrInvalid) {
			t.Fatalf("a range past the end: %v", err)
		}
	})

	t.Run("Verify", func(t *testing.T) {
		var last uint64
		m, err := objects.Verify(ctx, c, *ref, objects.ReadOptions{PieceTimeout: -1, Progress: func(done, total uint64) { last = done }})
		if err != nil || m.ObjectLength != uint64(len(data)) || last != uint64(len(data)) {
			t.Fatalf("verify: %v (progress %d)", err, last)
		}
		if err := objects.VerifyLocal(m, bytes.NewReader(data), int64(len(data)), nil); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("List", func(t *testing.T) {
		// A blob in the manifest namespace that is not a manifest is skipped.
		ns, _ := dataset.Namespace(dataset.DatasetManifest, []byte("dataset/test"))
		junk, _ := blob.New(ns, []byte("not a manifest"), share.ShareVersionZero, nil)
		var h uint64
		if err := c.Call(ctx, "blob.Submit", &h, []*blob.Blob{junk}, nil); err != nil {
			t.Fatal(err)
		}
		waitHeight(t, ctx, c, h)
		ls, skipped, err := objects.List(ctx, c, []byte("dataset/test"))
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) != 1 || ls[0].Ref.ID != ref.ID || ls[0].Name != "test" || ls[0].Pages != 8 || ls[0].Size != uint64(len(data)) || skipped != 1 {
			t.Fatalf("list: %+v, skipped %d", ls, skipped)
		}
		if ls, _, err := objects.List(ctx, c, []byte("nothing here")); err != nil || len(ls) != 0 {
			t.Fatalf("empty scope: %v %v", ls, err)
		}
	})

	t.Run("Faults", func(t *testing.T) {
		otherBlob := func(method string, result any) {
			b := result.(*blob.Blob)
			nb, _ := blob.New(b.Namespace(), append(bytes.Clone(b.Data()), 1), share.ShareVersionZero, nil)
			*b = *nb
		}
		isPage := func(params []any) bool { return params[1].(share.Namespace) != ref.Namespace }
		for _, tc := range []struct {
			name   string
			opts   objects.ReadOptions
			before func(method string, params []any) error
			after  func(method string, result any, params []any) error
			want   error  // nil: the read succeeds with the right bytes
			says   string // part of the error
		}{
			{name: "a failing piece store falls back to the blob", opts: objects.ReadOptions{PieceTimeout: time.Second},
				before: func(method string, _ []any) error {
					if method == "dataset.GetPiece" {
						return errFakePiece
					}
					return nil
				}},
			{name: "another blob for a page", opts: noPieces, want: objects.ErrMismatch, says: "page",
				after: func(method string, result any, params []any) error {
					if method == "blob.Get" && isPage(params) {
						otherBlob(method, result)
					}
					return nil
				}},
			{name: "another blob for the manifest", opts: noPieces, want: objects.ErrMismatch, says: "manifest",
				after: func(method string, result any, params []any) error {
					if method == "blob.Get" && !isPage(params) {
						otherBlob(method, result)
					}
					return nil
				}},
			{name: "wrong data root", opts: noPieces, want: objects.ErrMismatch, says: "commitment proof",
				after: func(method string, result any, _ []any) error {
					if method == "header.GetByHeight" {
						result.(*api.ExtendedHeader).Tessera.DataRoot[0] ^= 1
					}
					return nil
				}},
			{name: "another blob's commitment proof", opts: noPieces, want: objects.ErrMismatch, says: "commitment proof",
				after: func(method string, result any, params []any) error {
					if method == "blob.GetCommitmentProof" && isPage(params) {
						return c.Call(ctx, method, result, ref.Height, ref.Namespace, ref.Commitment)
					}
					return nil
				}},
			{name: "the node fails", opts: noPieces, want: errFakePiece, says: "page",
				before: func(method string, params []any) error {
					if method == "blob.Get" && isPage(params) {
						return errFakePiece
					}
					return nil
				}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := &faulty{Caller: c, before: tc.before, after: tc.after}
				got, _, err := objects.GetRangeWith(ctx, f, *ref, 0, uint64(len(data)), tc.opts)
				if tc.want == nil {
					if err != nil || !bytes.Equal(got, data) {
						t.Fatalf("read failed: %v", err)
					}
					return
				}
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("got %v, want %v naming %q", err, tc.want, tc.says)
				}
				if got != nil {
					t.Fatal("bytes returned with an error")
				}
			})
		}
		t.Run("wrong piece bytes", func(t *testing.T) {
			// A piece store that returns other bytes is caught (and the
			// page read from its blob instead); if the blob is wrong too,
			// the read fails naming both.
			f := &faulty{Caller: pieceLiar{c}}
			got, _, err := objects.GetRangeWith(ctx, f, *ref, 0, uint64(len(data)), objects.ReadOptions{PieceTimeout: time.Second})
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("fallback after wrong piece bytes: %v", err)
			}
			f.after = func(method string, result any, params []any) error {
				if method == "blob.Get" && isPage(params) {
					otherBlob(method, result)
				}
				return nil
			}
			_, _, err = objects.GetRangeWith(ctx, f, *ref, 0, 10, objects.ReadOptions{PieceTimeout: time.Second})
			if !errors.Is(err, objects.ErrMismatch) || !strings.Contains(err.Error(), "dataset.GetPiece") {
				t.Fatalf("wrong piece and wrong blob: %v", err)
			}
		})
		t.Run("ref names another ID", func(t *testing.T) {
			bad := *ref
			bad.ID[0] ^= 1
			if _, _, err := objects.Get(ctx, c, bad); !errors.Is(err, objects.ErrMismatch) || !strings.Contains(err.Error(), "manifest ID") {
				t.Fatalf("a manifest with another ID was accepted: %v", err)
			}
		})
	})

	t.Run("ForgedManifests", func(t *testing.T) {
		good, err := objects.FetchManifest(ctx, c, *ref)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			change func(m *dataset.Manifest)
			resign bool
			want   error
		}{
			{"bad signature", func(m *dataset.Manifest) { m.Signature[0] ^= 1 }, false, dataset.ErrInvalidSignature},
			{"changed after signing", func(m *dataset.Manifest) { m.Name = "other" }, false, dataset.ErrInvalidSignature},
			{"entry hash is not the page's", func(m *dataset.Manifest) { m.Entries[3].SHA256[0] ^= 1 }, true, dataset.ErrInvalidPage},
			{"entry length is not the page's", func(m *dataset.Manifest) {
				m.ObjectLength--
				m.Entries[7].Length--
			}, true, dataset.ErrInvalidPage},
		} {
			t.Run(tc.name, func(t *testing.T) {
				m := *good
				m.Entries = append([]dataset.PageEntry(nil), good.Entries...)
				m.Signature = bytes.Clone(good.Signature)
				tc.change(&m)
				if tc.resign {
					if err := m.Sign(testKey); err != nil {
						t.Fatal(err)
					}
				}
				fref := publishManifest(t, ctx, c, &m)
				_, _, err := objects.GetRangeWith(ctx, c, fref, 0, m.ObjectLength, noPieces)
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				if _, err := objects.Verify(ctx, c, fref, noPieces); !errors.Is(err, tc.want) {
					t.Fatalf("verify: got %v, want %v", err, tc.want)
				}
				out := filepath.Join(t.TempDir(), "out")
				if _, err := objects.Download(ctx, c, fref, out, objects.DownloadOptions{ReadOptions: noPieces}); !errors.Is(err, tc.want) {
					t.Fatalf("download: got %v, want %v", err, tc.want)
				}
				if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("a failed download left %s: %v", out, err)
				}
			})
		}
	})

	t.Run("Download", func(t *testing.T) {
		for _, tc := range []struct {
			name        string
			off, n      uint64
			failAfter   int64 // blob.Get calls (pages) the first run gets
			cancelAfter int64
		}{
			{name: "whole, node fails", failAfter: 3},
			{name: "whole, canceled", cancelAfter: 4},
			{name: "range, node fails", off: page + 100, n: 5 * page, failAfter: 2},
			{name: "range to the end, canceled", off: 3*page + 1, cancelAfter: 2},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "out.bin")
				want := data[tc.off:]
				if tc.n > 0 {
					want = data[tc.off : tc.off+tc.n]
				}
				opts := objects.DownloadOptions{ReadOptions: objects.ReadOptions{PieceTimeout: -1, Parallel: 1}, Offset: tc.off, Length: tc.n}
				dctx, dcancel := context.WithCancel(ctx)
				defer dcancel()
				f := &faulty{Caller: c}
				var pages atomic.Int64
				f.before = func(method string, params []any) error {
					if method != "blob.Get" || params[1].(share.Namespace) == ref.Namespace {
						return nil
					}
					k := pages.Add(1)
					if tc.failAfter > 0 && k > tc.failAfter {
						return errFakePiece
					}
					if tc.cancelAfter > 0 && k > tc.cancelAfter {
						dcancel()
						return context.Canceled
					}
					return nil
				}
				_, err := objects.Download(dctx, f, *ref, out, opts)
				if err == nil {
					t.Fatal("the interrupted download succeeded")
				}
				if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("an interrupted download left %s: %v", out, err)
				}
				// Damage one page the state records as verified: it is
				// fetched again.
				part, err := os.OpenFile(out+objects.PartialSuffix, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := part.WriteAt([]byte{0xff, 0xfe}, 10); err != nil {
					t.Fatal(err)
				}
				part.Close()
				g := &faulty{Caller: c}
				res, err := objects.Download(ctx, g, *ref, out, objects.DownloadOptions{ReadOptions: noPieces, Offset: tc.off, Length: tc.n})
				if err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(out)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("resumed download: %d bytes, want %d (%v)", len(got), len(want), err)
				}
				if res.Reused == 0 || res.Reused >= res.Pages || int64(res.Pages-res.Reused) != g.count("blob.Get")-1 {
					t.Fatalf("resume reused %d of %d pages and fetched %d", res.Reused, res.Pages, g.count("blob.Get")-1)
				}
				for _, s := range []string{objects.PartialSuffix, objects.StateSuffix} {
					if _, err := os.Stat(out + s); !errors.Is(err, os.ErrNotExist) {
						t.Fatalf("%s left behind: %v", s, err)
					}
				}
			})
		}
	})

	t.Run("ResumableUpload", func(t *testing.T) {
		const pg = 32 << 10
		obj := testData(6*pg+5, 9) // 7 pages
		journal := filepath.Join(t.TempDir(), "put.journal")
		scope := []byte("dataset/resume")
		opts := objects.Options{PageSize: pg, Key: testKey, Journal: journal, Parallel: 1}
		for _, tc := range []struct {
			name string
			r    shortReader
			says string
		}{
			{"short file", shortReader{data: obj, cut: 3*pg + 7}, "page 3"},
			{"read error", shortReader{data: obj, cut: 5 * pg, err: errFakePiece}, "page 5"},
		} {
			f := &faulty{Caller: c}
			_, err := objects.Put(ctx, f, scope, tc.r, int64(len(obj)), opts)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("%s: got %v, want an error naming %s", tc.name, err, tc.says)
			}
			if f.count("blob.Submit") != 0 {
				t.Fatalf("%s: a manifest was published", tc.name)
			}
		}
		// Pages 0..4 are journaled; the rerun submits pages 5 and 6 only.
		f := &faulty{Caller: c}
		r1, err := objects.Put(ctx, f, scope, bytes.NewReader(obj), int64(len(obj)), opts)
		if err != nil {
			t.Fatal(err)
		}
		if n := f.count("blob.SubmitAsync"); n != 2 {
			t.Fatalf("the resumed upload submitted %d pages, want 2", n)
		}
		got, m, err := objects.GetRangeWith(ctx, c, *r1, 0, uint64(len(obj)), noPieces)
		if err != nil || !bytes.Equal(got, obj) {
			t.Fatalf("resumed object: %v", err)
		}
		// Running again publishes nothing and gives the same ref.
		g := &faulty{Caller: c}
		r2, err := objects.Put(ctx, g, scope, bytes.NewReader(obj), int64(len(obj)), opts)
		if err != nil || r2.ID != r1.ID || r2.Height != r1.Height || g.count("blob.SubmitAsync")+g.count("blob.Submit") != 0 {
			t.Fatalf("rerun: %v, %x vs %x, %d submissions", err, r2.ID, r1.ID, g.count("blob.SubmitAsync")+g.count("blob.Submit"))
		}
		// A changed page is resubmitted; the others are kept.
		obj2 := bytes.Clone(obj)
		obj2[2*pg] ^= 1
		h := &faulty{Caller: c}
		r3, err := objects.Put(ctx, h, scope, bytes.NewReader(obj2), int64(len(obj2)), opts)
		if err != nil || h.count("blob.SubmitAsync") != 1 || r3.ID == r1.ID {
			t.Fatalf("changed page: %v, %d submissions", err, h.count("blob.SubmitAsync"))
		}
		m3, err := objects.FetchManifest(ctx, c, *r3)
		if err != nil {
			t.Fatal(err)
		}
		for i := range m.Entries {
			if (m.Entries[i] == m3.Entries[i]) != (i != 2) {
				t.Fatalf("entry %d: kept %v", i, m.Entries[i] == m3.Entries[i])
			}
		}
		// A journal of another upload is refused.
		if _, err := objects.Put(ctx, c, []byte("dataset/other"), bytes.NewReader(obj), int64(len(obj)), opts); !errors.Is(err, objects.ErrJournal) {
			t.Fatalf("another upload's journal: %v", err)
		}
	})
}

var errFakePiece = errors.New("fake node failure")

// pieceLiar answers dataset.GetPiece with bytes that are not the piece.
type pieceLiar struct{ objects.Caller }

func (p pieceLiar) Call(ctx context.Context, method string, result any, params ...any) error {
	if method == "dataset.GetPiece" {
		*result.(*[]byte) = []byte("these are not the page's bytes")
		return nil
	}
	return p.Caller.Call(ctx, method, result, params...)
}

// publishManifest submits a (possibly forged) manifest and returns its ref.
func publishManifest(t *testing.T, ctx context.Context, c objects.Caller, m *dataset.Manifest) objects.Ref {
	t.Helper()
	enc, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	id, err := m.ID()
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := dataset.Namespace(dataset.DatasetManifest, []byte("dataset/forged"))
	b, err := blob.New(ns, enc, share.ShareVersionZero, nil)
	if err != nil {
		t.Fatal(err)
	}
	var h uint64
	if err := c.Call(ctx, "blob.Submit", &h, []*blob.Blob{b}, nil); err != nil {
		t.Fatal(err)
	}
	waitHeight(t, ctx, c, h)
	return objects.Ref{ID: id, Height: h, Namespace: ns, Commitment: b.Commitment()}
}

func waitHeight(t *testing.T, ctx context.Context, c objects.Caller, h uint64) {
	t.Helper()
	var eh api.ExtendedHeader
	if err := c.Call(ctx, "header.WaitForHeight", &eh, h); err != nil {
		t.Fatal(err)
	}
}
