package conformance

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/internal/vectors"
	"github.com/tessera-da/tessera/share"
)

func init() {
	checkers["square.json"] = checkSquare
	checkers["real_block.json"] = checkRealBlock
}

// squareTxs rebuilds square.json's transactions from their seeds, checking
// the raw tx digests and signers on the way.
func squareTxs(f *vectors.SquareFile, r *Report) ([][]byte, error) {
	txs := make([][]byte, len(f.Txs))
	for i, v := range f.Txs {
		kase := fmt.Sprintf("txs[%d]", i)
		raw := vectors.Bytes(v.TxSeed, v.TxLen)
		switch v.Kind {
		case "normal":
		case "blob_tx":
			blobs := make([]*share.Blob, len(v.Blobs))
			for j, vb := range v.Blobs {
				nsb, err := decodeHex("namespace", vb.Namespace)
				if err != nil {
					return nil, err
				}
				ns, err := share.NewNamespaceFromBytes(nsb)
				if err != nil {
					return nil, fmt.Errorf("%s: blob %d: %w", kase, j, err)
				}
				var signer []byte
				if vb.SignerSeed != "" {
					signer = vectors.Bytes(vb.SignerSeed, share.SignerSize)
					r.CheckHex(kase, fmt.Sprintf("blobs[%d].signer", j), signer, vb.Signer)
				}
				if blobs[j], err = share.NewBlob(ns, vectors.Bytes(vb.DataSeed, vb.DataLen), vb.ShareVersion, signer); err != nil {
					return nil, fmt.Errorf("%s: blob %d: %w", kase, j, err)
				}
			}
			var err error
			if raw, err = share.MarshalBlobTx(raw, blobs...); err != nil {
				return nil, fmt.Errorf("%s: %w", kase, err)
			}
		default:
			return nil, fmt.Errorf("%s: unknown kind %q", kase, v.Kind)
		}
		sum := sha256.Sum256(raw)
		r.CheckHex(kase, "raw_tx_sha256", sum[:], v.RawTxSHA256)
		if v.RawTxHex != nil {
			r.CheckHex(kase, "raw_tx_hex", raw, *v.RawTxHex)
		}
		txs[i] = raw
	}
	return txs, nil
}

// checkShares compares every share of sq with the vector's description.
func checkShares(r *Report, sq share.Square, want []vectors.Share, kinds []share.ShareKind) {
	if !CheckEq(r, "shares", "count", len(sq), len(want)) {
		return
	}
	for i, v := range want {
		kase := fmt.Sprintf("shares[%d]", i)
		if v.Index != i {
			r.Fail(kase, "index", "vector lists share %d at position %d", v.Index, i)
			continue
		}
		s := sq[i]
		r.CheckHex(kase, "namespace", s.Namespace().Bytes(), v.Namespace)
		CheckEq(r, kase, "info_byte", int(s.InfoByte()), v.InfoByte)
		if v.SequenceLen != nil {
			CheckEq(r, kase, "sequence_len", s.SequenceLen(), *v.SequenceLen)
		}
		if v.Kind != "" && kinds != nil {
			CheckEq(r, kase, "kind", kinds[i].String(), v.Kind)
		}
		sum := sha256.Sum256(s.Bytes())
		r.CheckHex(kase, "sha256", sum[:], v.SHA256)
		if v.Hex != nil {
			r.CheckHex(kase, "hex", s.Bytes(), *v.Hex)
		}
	}
}

// decodedShareIndexes reads the share indexes back out of the IndexWrappers
// in sq's PFB namespace.
func decodedShareIndexes(sq share.Square) ([][]uint32, error) {
	var pfb []share.Share
	for _, s := range sq {
		if s.Namespace() == share.PayForBlobNamespace {
			pfb = append(pfb, s)
		}
	}
	units, err := share.ParseTxs(pfb)
	if err != nil {
		return nil, err
	}
	out := make([][]uint32, len(units))
	for i, u := range units {
		w, err := share.UnmarshalIndexWrapper(u)
		if err != nil {
			return nil, err
		}
		out[i] = w.ShareIndexes
	}
	return out, nil
}

func checkPFBShareIndexes(r *Report, sq share.Square, want [][]uint32) {
	got, err := decodedShareIndexes(sq)
	if !r.CheckErr("pfb_share_indexes", "decode", err) {
		return
	}
	if !CheckEq(r, "pfb_share_indexes", "count", len(got), len(want)) {
		return
	}
	for i := range want {
		kase := fmt.Sprintf("pfb_share_indexes[%d]", i)
		if !CheckEq(r, kase, "count", len(got[i]), len(want[i])) {
			continue
		}
		for j := range want[i] {
			CheckEq(r, kase, fmt.Sprintf("[%d]", j), got[i][j], want[i][j])
		}
	}
}

// checkRoundTrip checks that the square parses back into txs, both with
// the lenient Deconstruct and the strict ParseSquare.
func checkRoundTrip(r *Report, sq share.Square, txs [][]byte, threshold int) {
	back, err := share.Deconstruct(sq)
	if r.CheckErr("deconstruct", "error", err) && CheckEq(r, "deconstruct", "tx_count", len(back), len(txs)) {
		for i := range txs {
			r.Check("deconstruct", fmt.Sprintf("txs[%d]", i), back[i], txs[i])
		}
	}
	p, err := share.ParseSquare(sq, threshold)
	if r.CheckErr("parse_square", "error", err) {
		CheckEq(r, "parse_square", "tx_count", len(p.Txs), len(txs))
	}
}

// checkDAH checks the roots of dah, the DAH of the extended square (err is
// the extension's error).
func checkDAH(r *Report, dah *erasure.DAH, err error, rows, cols []string, dataRoots ...string) {
	if !r.CheckErr("dah", "extend", err) {
		return
	}
	checkRoots(r, "row_roots", dah.RowRoots(), rows)
	checkRoots(r, "col_roots", dah.ColRoots(), cols)
	for _, h := range dataRoots {
		r.CheckHex("dah", "data_root", dah.Hash(), h)
	}
}

func checkRoots(r *Report, kase string, got [][]byte, want []string) {
	if !CheckEq(r, kase, "count", len(got), len(want)) {
		return
	}
	for i, h := range want {
		r.CheckHex(kase, fmt.Sprintf("[%d]", i), got[i], h)
	}
}

func checkSquare(data []byte, r *Report) error {
	var f vectors.SquareFile
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	if len(f.Txs) == 0 || len(f.Shares) == 0 {
		return fmt.Errorf("missing txs or shares")
	}
	txs, err := squareTxs(&f, r)
	if err != nil {
		return err
	}
	ctxs := make([]share.ClassifiedTx, len(txs))
	for i, tx := range txs {
		ctxs[i] = share.ClassifiedTx{Bytes: tx}
	}
	sq, lay, err := share.ConstructClassified(ctxs, f.MaxSquareSize, f.Threshold)
	if !r.CheckErr("square", "construct", err) {
		return nil
	}
	CheckEq(r, "square", "square_size", sq.Size(), f.SquareSize)
	CheckEq(r, "square", "layout.square_size", lay.SquareSize, f.SquareSize)
	checkShares(r, sq, f.Shares, lay.ShareKinds())
	sum := sha256.Sum256(sq.Bytes())
	r.CheckHex("square", "square_sha256", sum[:], f.SquareSHA256)
	r.CheckHex("square", "tail_padding_share_hex", share.TailPaddingShares(1)[0].Bytes(), f.TailPaddingHex)
	checkPFBShareIndexes(r, sq, f.PFBShareIndexes)

	// The layout's own record of the share indexes must agree too.
	for i, idx := range f.PFBShareIndexes {
		if i < len(lay.PFBShareIndexes) {
			CheckEq(r, fmt.Sprintf("layout.pfb_share_indexes[%d]", i), "values", fmt.Sprint(lay.PFBShareIndexes[i]), fmt.Sprint(idx))
		}
	}

	decoded, _ := decodedShareIndexes(sq)
	CheckEq(r, "blobs", "count", countPlacements(lay), len(f.Blobs))
	for i, v := range f.Blobs {
		kase := fmt.Sprintf("blobs[%d]", i)
		pfb := v.TxIndex - lay.NumTxs
		if pfb < 0 || pfb >= len(lay.BlobsByTx) || v.BlobIndex < 0 || v.BlobIndex >= len(lay.BlobsByTx[pfb]) {
			r.Fail(kase, "tx_index/blob_index", "no blob %d in tx %d", v.BlobIndex, v.TxIndex)
			continue
		}
		r.Pass() // the blob exists at (tx_index, blob_index)
		p := lay.BlobsByTx[pfb][v.BlobIndex]
		r.CheckHex(kase, "namespace", p.Namespace.Bytes(), v.Namespace)
		CheckEq(r, kase, "share_start", p.Start, v.ShareStart)
		CheckEq(r, kase, "share_end_exclusive", p.End(), v.ShareEnd)
		CheckEq(r, kase, "share_count", p.ShareCount, v.ShareCount)
		CheckEq(r, kase, "subtree_width", p.SubtreeWidth, v.SubtreeWidth)
		var idx uint32 = 1<<32 - 1
		if pfb < len(decoded) && v.BlobIndex < len(decoded[pfb]) {
			idx = decoded[pfb][v.BlobIndex]
		}
		CheckEq(r, kase, "pfb_share_index", idx, v.PFBShareIndex)
		b, _, err := share.ParseBlob(sq[p.Start:])
		if !r.CheckErr(kase, "parse_blob", err) {
			continue
		}
		c, err := blob.ComputeCommitment(b, f.Threshold)
		if r.CheckErr(kase, "commitment", err) {
			r.CheckHex(kase, "commitment", c, v.Commitment)
		}
	}
	checkRoundTrip(r, sq, txs, f.Threshold)
	eds, dah, err := extendSquare(sq)
	checkDAH(r, dah, err, f.RowRoots, f.ColRoots, f.DataRoot)
	return checkNamespaceData(r, sq, eds, dah, f.NamespaceData)
}

func countPlacements(l *share.Layout) int {
	n := len(l.FibreBlobs)
	for _, ps := range l.BlobsByTx {
		n += len(ps)
	}
	return n
}

// checkNamespaceData checks which rows each namespace is looked up in and
// where its shares sit in them. Rows are those whose root namespace range
// covers the namespace: a Q0 row root spans the first to the last namespace
// of the row's ODS half (the parity half is hidden by IgnoreMaxNamespace).
// Each row's proof is checked by checkRowNamespaceProof against eds and
// dah, sq's extension (skipped if it failed).
func checkNamespaceData(r *Report, sq share.Square, eds *erasure.ExtendedSquare, dah *erasure.DAH, nds []vectors.SquareNamespaceData) error {
	k := sq.Size()
	for _, nd := range nds {
		kase := "namespace_data/" + nd.Namespace
		nsb, err := decodeHex("namespace", nd.Namespace)
		if err != nil {
			return err
		}
		ns, err := share.NewNamespaceFromBytes(nsb)
		if err != nil {
			return fmt.Errorf("%s: %w", kase, err)
		}
		type rowHit struct{ row, from, count int }
		var hits []rowHit
		for row := 0; row < k; row++ {
			shares := sq[row*k : (row+1)*k]
			if ns.Compare(shares[0].Namespace()) < 0 || ns.Compare(shares[k-1].Namespace()) > 0 {
				continue
			}
			h := rowHit{row: row}
			for i, s := range shares {
				if s.Namespace() == ns {
					if h.count == 0 {
						h.from = i
					}
					h.count++
				}
			}
			hits = append(hits, h)
		}
		if !CheckEq(r, kase, "row_count", len(hits), len(nd.Rows)) {
			r.Skip(5 * len(nd.Rows))
			continue
		}
		for i, v := range nd.Rows {
			rk := fmt.Sprintf("%s/rows[%d]", kase, i)
			CheckEq(r, rk, "row", hits[i].row, v.Row)
			CheckEq(r, rk, "from", hits[i].from, v.From)
			CheckEq(r, rk, "count", hits[i].count, v.Count)
			if dah != nil {
				checkRowNamespaceProof(r, rk, eds, dah, v.Row, ns, v.Proof, v.Verified)
			} else {
				r.Skip(2) // proof, verified
			}
		}
	}
	return nil
}

func checkRealBlock(data []byte, r *Report) error {
	var f vectors.RealBlockFile
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	if len(f.TxsBase64) == 0 || len(f.Shares) == 0 || len(f.TxIsBlobTx) != len(f.TxsBase64) {
		return fmt.Errorf("missing txs, shares or tx_is_blob_tx")
	}
	txs := make([][]byte, len(f.TxsBase64))
	for i, s := range f.TxsBase64 {
		tx, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("txs_base64[%d]: %w", i, err)
		}
		txs[i] = tx
		_, isBlob, err := share.UnmarshalBlobTx(tx)
		CheckEq(r, fmt.Sprintf("txs[%d]", i), "tx_is_blob_tx", isBlob && err == nil, f.TxIsBlobTx[i])
	}
	ctxs := make([]share.ClassifiedTx, len(txs))
	for i, tx := range txs {
		ctxs[i] = share.ClassifiedTx{Bytes: tx}
	}
	sq, lay, err := share.ConstructClassified(ctxs, f.MaxSquareSize, share.SubtreeRootThreshold)
	if !r.CheckErr("square", "construct", err) {
		return nil
	}
	CheckEq(r, "square", "square_size", sq.Size(), f.SquareSize)
	checkShares(r, sq, f.Shares, lay.ShareKinds())
	checkPFBShareIndexes(r, sq, f.PFBShareIndexes)
	checkRoundTrip(r, sq, txs, share.SubtreeRootThreshold)
	_, dah, err := extendSquare(sq)
	checkDAH(r, dah, err, f.RowRoots, f.ColRoots, f.ComputedRoot, f.OnchainDataHash)
	return nil
}
