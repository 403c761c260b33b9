package dataset

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
)

func TestNamespace(t *testing.T) {
	kinds := []Kind{DatasetPages, DatasetManifest, RunControl, TrainingProofs, CheckpointChunks, CheckpointManifest}
	scope := []byte("dataset-id")
	h := sha256.Sum256(scope)
	seen := map[string]Kind{}
	for _, k := range kinds {
		t.Run(k.String(), func(t *testing.T) {
			ns, err := Namespace(k, scope)
			if err != nil {
				t.Fatal(err)
			}
			if ns.Version() != 0 || ns.IsReserved() || ns.ValidateForBlob() != nil {
				t.Fatalf("%s: not a usable version-0 namespace", ns)
			}
			id := ns.ID()
			want := append(make([]byte, 18), byte(k))
			want = append(want, h[:ScopeSize]...)
			if !bytes.Equal(id, want) {
				t.Fatalf("ID = %x, want %x", id, want)
			}
			if got, ok := KindOf(ns); !ok || got != k {
				t.Fatalf("KindOf = %v, %v", got, ok)
			}
			if prev, dup := seen[ns.String()]; dup {
				t.Fatalf("same namespace as %s", prev)
			}
			seen[ns.String()] = k
		})
	}
	a, _ := Namespace(DatasetPages, []byte("a"))
	b, _ := Namespace(DatasetPages, []byte("b"))
	if a == b {
		t.Fatal("different scopes gave the same namespace")
	}
	for _, k := range []Kind{0, 1, 0x12, 0xff} {
		if _, err := Namespace(k, scope); !errors.Is(err, ErrInvalidNamespace) {
			t.Fatalf("kind %s: err = %v, want ErrInvalidNamespace", k, err)
		}
	}
	if _, ok := KindOf(a); !ok {
		t.Fatal("KindOf rejects a dataset namespace")
	}
}
