package store

import (
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/header"
)

// kindNS returns the namespace dataset.Namespace gives kind and scope.
func kindNS(t testing.TB, kind dataset.Kind, scope string) [NamespaceSize]byte {
	t.Helper()
	n, err := dataset.Namespace(kind, []byte(scope))
	if err != nil {
		t.Fatal(err)
	}
	return n.Array()
}

// blockWithNamespace is testBlock with one blob of 2 shares whose
// namespace is nsb (re-written into its shares), re-signed.
func blockWithNamespace(t testing.TB, prev *header.Header, nsb [NamespaceSize]byte) *Block {
	t.Helper()
	b := testBlock(t, prev, 4, []blobSpec{{ns: 9, shares: 2}}, nil)
	e := &b.Blobs[0]
	e.Namespace = nsb
	for i := e.ShareStart; i < e.ShareStart+e.ShareCount; i++ {
		copy(b.ODS[int(i)*ShareSize:], nsb[:])
	}
	b.Header.DataRoot = sha256.Sum256(b.ODS)
	b.Header.Sign(testKey)
	return b
}

// TestKeptForever: Prune keeps the heights holding dataset or checkpoint
// manifests without any pin, prunes heights of other training kinds and of
// plain namespaces, and keeps a pinned namespace's heights.
func TestKeptForever(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	cases := []struct {
		name string
		ns   [NamespaceSize]byte
		kept bool
	}{
		{"dataset manifest", kindNS(t, dataset.DatasetManifest, "d"), true},
		{"checkpoint manifest", kindNS(t, dataset.CheckpointManifest, "run"), true},
		{"dataset pages", kindNS(t, dataset.DatasetPages, "d"), false},
		{"checkpoint chunks", kindNS(t, dataset.CheckpointChunks, "run"), false},
		{"run control", kindNS(t, dataset.RunControl, "run"), false},
		{"plain namespace", ns(9), false},
		{"pinned pages", kindNS(t, dataset.DatasetPages, "pinned"), true},
		{"manifest kind byte at the wrong offset", func() (n [NamespaceSize]byte) {
			n = ns(9)
			n[NamespaceSize-1] = byte(dataset.DatasetManifest) // kind byte at the wrong offset
			return n
		}(), false},
	}
	if err := s.AddPin(Pin{Kind: PinDataset, Namespace: cases[6].ns, ID: "pinned"}); err != nil {
		t.Fatal(err)
	}
	var prev *header.Header
	for _, c := range cases {
		b := blockWithNamespace(t, prev, c.ns)
		mustPut(t, s, b)
		prev = b.Header
	}
	n, err := s.Prune(prev.Height + 1)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			height := uint64(i + 1)
			_, err := s.BlobsByNamespace(c.ns, height)
			switch {
			case c.kept && err != nil:
				t.Errorf("height %d pruned: %v", height, err)
			case !c.kept && !errors.Is(err, ErrPruned):
				t.Errorf("height %d kept (err %v), want pruned", height, err)
			}
			if got := KeptForever(c.ns); got != (c.kept && c.name != "pinned pages") {
				t.Errorf("KeptForever = %v", got)
			}
		})
		if !c.kept {
			want++
		}
	}
	if n != want {
		t.Errorf("pruned %d heights, want %d", n, want)
	}
}
