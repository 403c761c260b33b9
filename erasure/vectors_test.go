package erasure

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tessera-da/tessera/internal/vectors"
)

func TestGenBytes(t *testing.T) {
	got := hex.EncodeToString(vectors.Bytes("abc", 40))
	const want = "cf2db1ac9867debdf8ce91f99f141e5544bf26ca36b3fd4f8e4035eec42cab0d46c386ebccef82ba"
	if got != want {
		t.Fatalf("vectors.Bytes(abc, 40) = %s, want %s", got, want)
	}
}

// tailPaddingShare is go-square's tail padding share.
func tailPaddingShare() []byte {
	s := make([]byte, ShareSize)
	for i := range NamespaceSize - 1 {
		s[i] = 0xff
	}
	s[NamespaceSize-1] = 0xfe
	s[NamespaceSize] = 0x01
	return s
}

// vectorODS builds the ODS of an eds.json square by its ods_construction
// rule, as k² shares in row-major order.
func vectorODS(k, group int, nsSeed, pattern string) [][]byte {
	prefix := vectors.Bytes(nsSeed, 8)
	ods := make([][]byte, k*k)
	for i := range ods {
		if k >= 2 && i == k*k-1 {
			ods[i] = tailPaddingShare()
			continue
		}
		s := make([]byte, 0, ShareSize)
		s = append(s, make([]byte, 19)...) // version 0 + 18 zero ID bytes
		s = append(s, prefix...)
		s = binary.BigEndian.AppendUint16(s, uint16(i/group))
		s = append(s, 0x01)
		s = binary.BigEndian.AppendUint32(s, 478)
		s = append(s, vectors.Bytes(strings.ReplaceAll(pattern, "<i>", strconv.Itoa(i)), 478)...)
		ods[i] = s
	}
	return ods
}

type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	*h = d
	return err
}

type vecProof struct {
	Start                 int        `json:"start"`
	End                   int        `json:"end"`
	Nodes                 []hexBytes `json:"nodes"`
	LeafHash              hexBytes   `json:"leaf_hash"`
	IsMaxNamespaceIgnored bool       `json:"is_max_namespace_ignored"`
}

type vecSample struct {
	Row            int      `json:"row"`
	Col            int      `json:"col"`
	Quadrant       string   `json:"quadrant"`
	ProofAxis      string   `json:"proof_axis"`
	Share          hexBytes `json:"share_hex"`
	ProofNamespace hexBytes `json:"proof_namespace"`
	Proof          vecProof `json:"proof"`
	AxisRoot       hexBytes `json:"axis_root"`
	Verified       bool     `json:"verified"`
}

type vecRootProof struct {
	LeafIndex int        `json:"leaf_index"`
	What      string     `json:"what"`
	Total     int        `json:"total"`
	Leaf      hexBytes   `json:"leaf"`
	LeafHash  hexBytes   `json:"leaf_hash"`
	Aunts     []hexBytes `json:"aunts"`
	Verified  bool       `json:"verified"`
}

type vecSquare struct {
	K              int            `json:"k"`
	NamespaceGroup int            `json:"namespace_group"`
	NsPrefixSeed   string         `json:"ns_prefix_seed"`
	PayloadPattern string         `json:"share_payload_seed_pattern"`
	ODSSHA256      hexBytes       `json:"ods_sha256"`
	EDSShares      []hexBytes     `json:"eds_shares_hex"`
	EDSRowSHA256   []hexBytes     `json:"eds_row_sha256"`
	RowRoots       []hexBytes     `json:"row_roots"`
	ColRoots       []hexBytes     `json:"col_roots"`
	DataRoot       hexBytes       `json:"data_root"`
	LeopardField   string         `json:"leopard_field"`
	Samples        []vecSample    `json:"samples"`
	RootProofs     []vecRootProof `json:"row_col_root_inclusion_proofs"`
}

type vecFile struct {
	NilDAHHash hexBytes `json:"nil_dah_hash"`
	MinDAH     struct {
		ODSShares []hexBytes `json:"ods_shares_hex"`
		EDSShares []hexBytes `json:"eds_shares_hex"`
		RowRoots  []hexBytes `json:"row_roots"`
		ColRoots  []hexBytes `json:"col_roots"`
		Hash      hexBytes   `json:"hash"`
	} `json:"min_dah"`
	Squares []vecSquare `json:"squares"`
}

func loadVectors(t testing.TB, name string) *vecFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	var f vecFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	if len(f.Squares) == 0 {
		t.Fatalf("%s: no squares", name)
	}
	return &f
}

func (v *vecSquare) ods() [][]byte {
	return vectorODS(v.K, v.NamespaceGroup, v.NsPrefixSeed, v.PayloadPattern)
}

// checkExtension compares s against the square's ODS hash, EDS shares and
// EDS row hashes.
func checkExtension(t *testing.T, v *vecSquare, ods [][]byte, s *ExtendedSquare) {
	t.Helper()
	h := sha256.New()
	for _, sh := range ods {
		h.Write(sh)
	}
	if got := h.Sum(nil); !bytes.Equal(got, v.ODSSHA256) {
		t.Fatalf("ods_sha256 = %x, want %x (ODS construction is wrong)", got, []byte(v.ODSSHA256))
	}
	w := s.Width()
	if w != 2*v.K {
		t.Fatalf("Width = %d, want %d", w, 2*v.K)
	}
	if len(v.EDSShares) > 0 {
		if len(v.EDSShares) != w*w {
			t.Fatalf("vector has %d EDS shares, want %d", len(v.EDSShares), w*w)
		}
		for i, want := range v.EDSShares {
			if got := s.Cell(i/w, i%w); !bytes.Equal(got, want) {
				t.Errorf("cell (%d,%d) differs", i/w, i%w)
			}
		}
	}
	if len(v.EDSRowSHA256) != w {
		t.Fatalf("vector has %d row hashes, want %d", len(v.EDSRowSHA256), w)
	}
	for r, want := range v.EDSRowSHA256 {
		if got := sha256.Sum256(s.RowBytes(r)); !bytes.Equal(got[:], want) {
			t.Errorf("eds_row_sha256[%d] = %x, want %x", r, got, []byte(want))
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
				ods := v.ods()
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
	if len(f.MinDAH.ODSShares) != 1 || !bytes.Equal(f.MinDAH.ODSShares[0], tailPaddingShare()) {
		t.Fatalf("min_dah ODS is not one tail padding share")
	}
	s, err := Extend([][]byte{tailPaddingShare()}, DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range f.MinDAH.EDSShares {
		if got := s.Cell(i/2, i%2); !bytes.Equal(got, want) {
			t.Errorf("min_dah cell %d differs", i)
		}
	}
}
