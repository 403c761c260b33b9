package api

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/node/header"
)

// hexBytes JSON-encodes as upper-case hex, as cometbft's HexBytes does, and
// decodes hex of either case.
type hexBytes []byte

// MarshalJSON writes upper-case hex.
func (h hexBytes) MarshalJSON() ([]byte, error) {
	return json.Marshal(strings.ToUpper(hex.EncodeToString(h)))
}

// UnmarshalJSON reads hex.
func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("not hex: %w", err)
	}
	*h = d
	return nil
}

// ExtendedHeader is the header as the API serves it: the fields of
// celestia-node's ExtendedHeader that a Tessera chain has (a cometbft-style
// "header" with string heights and upper-case hex hashes, and the "dah"),
// plus Tessera's own compact signed header under "tessera". There is no
// "commit" or "validator_set": a Tessera header is signed by its producer.
type ExtendedHeader struct {
	Header  RawHeader      `json:"header"`
	DAH     *DAHJSON       `json:"dah,omitempty"`
	Tessera *header.Header `json:"tessera"`
}

// RawHeader mirrors the parts of a cometbft header a Tessera header has.
type RawHeader struct {
	ChainID     string    `json:"chain_id"`
	Height      string    `json:"height"`
	Time        time.Time `json:"time"`
	LastBlockID struct {
		Hash hexBytes `json:"hash"`
	} `json:"last_block_id"`
	DataHash hexBytes `json:"data_hash"`
}

// DAHJSON is the data availability header: 2k row roots and 2k column roots.
type DAHJSON struct {
	RowRoots    [][]byte `json:"row_roots"`
	ColumnRoots [][]byte `json:"column_roots"`
}

func (e *ExtendedHeader) height() uint64 {
	if e.Tessera != nil {
		return e.Tessera.Height
	}
	h, _ := strconv.ParseUint(e.Header.Height, 10, 64)
	return h
}

// extended builds the served form of h; the DAH comes from the square
// cache (recomputed from the stored square when needed) and is left out if
// the square is no longer stored.
func (s *Service) extended(h *header.Header) *ExtendedHeader {
	e := &ExtendedHeader{Tessera: h}
	e.Header.ChainID = h.ChainID
	e.Header.Height = strconv.FormatUint(h.Height, 10)
	e.Header.Time = h.Time
	if h.Height > 1 {
		e.Header.LastBlockID.Hash = h.PrevHash[:]
	}
	e.Header.DataHash = h.DataRoot[:]
	if sq, err := s.squares.Get(h.Height); err == nil {
		e.DAH = &DAHJSON{RowRoots: sq.DAH.RowRoots(), ColumnRoots: sq.DAH.ColRoots()}
	}
	return e
}

// VerifiedDAH returns the header's DAH after checking that it hashes to the
// data root in the signed compact header.
func (e *ExtendedHeader) VerifiedDAH() (*erasure.DAH, error) {
	if e.DAH == nil || e.Tessera == nil {
		return nil, fmt.Errorf("header carries no DAH or no compact header")
	}
	d, err := erasure.NewDAH(e.DAH.RowRoots, e.DAH.ColumnRoots)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(d.Hash(), e.Tessera.DataRoot[:]) {
		return nil, fmt.Errorf("the header's DAH does not hash to its data root")
	}
	return d, nil
}
