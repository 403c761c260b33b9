package erasure

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tessera-da/tessera/internal/vectors"
)

// unhex decodes a hex value of a vector file.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("vector hex %q: %v", s, err)
	}
	return b
}

// unhexList decodes a list of hex values of a vector file.
func unhexList(t testing.TB, list []string) [][]byte {
	t.Helper()
	out := make([][]byte, len(list))
	for i, s := range list {
		out[i] = unhex(t, s)
	}
	return out
}

func loadVectors(t testing.TB, name string) *vectors.EDSFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	var f vectors.EDSFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	if len(f.Squares) == 0 || f.MinDAH == nil {
		t.Fatalf("%s: no squares or no min_dah", name)
	}
	return &f
}

// vectorODS builds a square's ODS by the files' construction rule.
func vectorODS(t testing.TB, v *vectors.EDSSquare) [][]byte {
	t.Helper()
	ods, err := v.ODS()
	if err != nil {
		t.Fatal(err)
	}
	return ods
}

// checkExtension compares s against the square's ODS hash, EDS shares and
// EDS row hashes.
func checkExtension(t *testing.T, v *vectors.EDSSquare, ods [][]byte, s *ExtendedSquare) {
	t.Helper()
	h := sha256.New()
	for _, sh := range ods {
		h.Write(sh)
	}
	if got := h.Sum(nil); !bytes.Equal(got, unhex(t, v.ODSSHA256)) {
		t.Fatalf("ods_sha256 = %x, want %s (ODS construction is wrong)", got, v.ODSSHA256)
	}
	w := s.Width()
	if w != 2*v.K {
		t.Fatalf("Width = %d, want %d", w, 2*v.K)
	}
	if len(v.EDSShares) > 0 {
		if len(v.EDSShares) != w*w {
			t.Fatalf("vector has %d EDS shares, want %d", len(v.EDSShares), w*w)
		}
		for i, want := range unhexList(t, v.EDSShares) {
			if got := s.Cell(i/w, i%w); !bytes.Equal(got, want) {
				t.Errorf("cell (%d,%d) differs", i/w, i%w)
			}
		}
	}
	if len(v.EDSRowSHA256) != w {
		t.Fatalf("vector has %d row hashes, want %d", len(v.EDSRowSHA256), w)
	}
	for r, want := range unhexList(t, v.EDSRowSHA256) {
		if got := sha256.Sum256(s.RowBytes(r)); !bytes.Equal(got[:], want) {
			t.Errorf("eds_row_sha256[%d] = %x, want %x", r, got, want)
		}
	}
}

func TestExtendVectors(t *testing.T) {
	for _, file := range []string{"eds.json", "eds_large.json"} {
		f := loadVectors(t, file)
		for i := range f.Squares {
			v := &f.Squares[i]
			t.Run(file+"/k="+strconv.Itoa(v.K), func(t *testing.T) {
				if testing.Short() && v.K > 64 {
					t.Skip("large square skipped in -short mode")
				}
				ods := vectorODS(t, v)
				s, err := Extend(ods, DefaultParams())
				if err != nil {
					t.Fatal(err)
				}
				checkExtension(t, v, ods, s)
			})
		}
	}
}

func TestExtendMinDAHVector(t *testing.T) {
	f := loadVectors(t, "eds.json")
	if len(f.MinDAH.ODSShares) != 1 || !bytes.Equal(unhex(t, f.MinDAH.ODSShares[0]), vectors.TailPaddingShare()) {
		t.Fatalf("min_dah ODS is not one tail padding share")
	}
	s, err := Extend([][]byte{vectors.TailPaddingShare()}, DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range unhexList(t, f.MinDAH.EDSShares) {
		if got := s.Cell(i/2, i%2); !bytes.Equal(got, want) {
			t.Errorf("min_dah cell %d differs", i)
		}
	}
}
