package vectors

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Sizes of the shares eds.json and eds_large.json build.
const (
	shareSize     = 512 // bytes
	namespaceSize = 29  // bytes
	// payloadSize is the generated payload of an ODS data share: the share
	// less its namespace, info byte and BE32 sequence length.
	payloadSize = shareSize - namespaceSize - 1 - 4 // bytes
	// maxODSWidth bounds k so a bad file cannot ask for a huge square.
	maxODSWidth = 512
)

// EDSFile is the schema of eds.json and eds_large.json (hex strings).
// MinDAH is nil when the file has none.
type EDSFile struct {
	NilDAHHash string `json:"nil_dah_hash"`
	MinDAH     *struct {
		ODSShares []string `json:"ods_shares_hex"`
		EDSShares []string `json:"eds_shares_hex"`
		RowRoots  []string `json:"row_roots"`
		ColRoots  []string `json:"col_roots"`
		Hash      string   `json:"hash"`
	} `json:"min_dah"`
	Squares []EDSSquare `json:"squares"`
}

// EDSSquare is one square of an EDSFile.
type EDSSquare struct {
	K              int            `json:"k"`
	NamespaceGroup int            `json:"namespace_group"`
	NsPrefixSeed   string         `json:"ns_prefix_seed"`
	PayloadPattern string         `json:"share_payload_seed_pattern"`
	ODSSHA256      string         `json:"ods_sha256"`
	EDSShares      []string       `json:"eds_shares_hex"`
	EDSRowSHA256   []string       `json:"eds_row_sha256"`
	RowRoots       []string       `json:"row_roots"`
	ColRoots       []string       `json:"col_roots"`
	DataRoot       string         `json:"data_root"`
	LeopardField   string         `json:"leopard_field"`
	Samples        []EDSSample    `json:"samples"`
	RootProofs     []EDSRootProof `json:"row_col_root_inclusion_proofs"`
}

// EDSSample is one sample of an EDSSquare with its NMT proof.
type EDSSample struct {
	Row            int    `json:"row"`
	Col            int    `json:"col"`
	Quadrant       string `json:"quadrant"`
	ProofAxis      string `json:"proof_axis"`
	ShareHex       string `json:"share_hex"`
	ProofNamespace string `json:"proof_namespace"`
	Proof          Proof  `json:"proof"`
	AxisRoot       string `json:"axis_root"`
	Verified       bool   `json:"verified"`
	ShwapHeight    uint64 `json:"shwap_height"`
	ShwapSampleID  string `json:"shwap_sample_id_hex"`
	ShwapRowID     string `json:"shwap_row_id_hex"`
}

// EDSRootProof is the inclusion proof of one row or column root in the
// data root (LeafIndex counts rows, then columns).
type EDSRootProof struct {
	LeafIndex int      `json:"leaf_index"`
	What      string   `json:"what"`
	Total     int      `json:"total"`
	Leaf      string   `json:"leaf"`
	LeafHash  string   `json:"leaf_hash"`
	Aunts     []string `json:"aunts"`
	Verified  bool     `json:"verified"`
}

// TailPaddingShare is go-square's tail padding share, built from its
// format (namespace 0xff×28 ‖ 0xfe, info byte 0x01, BE32(0), zeros) so an
// implementation's copy can be compared against it.
func TailPaddingShare() []byte {
	s := make([]byte, shareSize)
	for i := range namespaceSize - 1 {
		s[i] = 0xff
	}
	s[namespaceSize-1] = 0xfe
	s[namespaceSize] = 0x01 // share version 0, sequence start
	return s
}

// ODS builds the square's ODS by the files' ods_construction rule, as k²
// shares in row-major order: share i has the version-0 namespace with ID
// Bytes(NsPrefixSeed, 8) ‖ BE16(i / NamespaceGroup), info byte 0x01,
// BE32(478) and Bytes(pattern with <i> replaced by i, 478); for k ≥ 2 the
// last share is tail padding.
func (sq *EDSSquare) ODS() ([][]byte, error) {
	k := sq.K
	if k < 1 || k > maxODSWidth || sq.NamespaceGroup < 1 || !strings.Contains(sq.PayloadPattern, "<i>") {
		return nil, fmt.Errorf("square k=%d: unusable inputs (group %d, pattern %q)", k, sq.NamespaceGroup, sq.PayloadPattern)
	}
	prefix := Bytes(sq.NsPrefixSeed, 8)
	ods := make([][]byte, k*k)
	for i := range ods {
		if k >= 2 && i == k*k-1 {
			ods[i] = TailPaddingShare()
			continue
		}
		s := make([]byte, 19, shareSize) // version 0, 18 zero ID bytes
		s = append(s, prefix...)
		s = binary.BigEndian.AppendUint16(s, uint16(i/sq.NamespaceGroup))
		s = append(s, 0x01)
		s = binary.BigEndian.AppendUint32(s, payloadSize)
		s = append(s, Bytes(strings.ReplaceAll(sq.PayloadPattern, "<i>", strconv.Itoa(i)), payloadSize)...)
		ods[i] = s
	}
	return ods, nil
}
