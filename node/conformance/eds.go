package conformance

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tessera-da/tessera/erasure"
	"github.com/tessera-da/tessera/internal/vectors"
	"github.com/tessera-da/tessera/nmt"
	"github.com/tessera-da/tessera/sampling"
)

func init() {
	checkers["eds.json"] = checkEDSFile
	checkers["eds_large.json"] = checkEDSFile
}

func checkEDSFile(data []byte, r *Report) error {
	var f vectors.EDSFile
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	if len(f.Squares) == 0 {
		return fmt.Errorf("no squares")
	}
	ext, err := erasure.NewExtender(erasure.DefaultParams(), nil)
	if err != nil {
		return err
	}
	if f.MinDAH != nil {
		checkMinDAH(&f, ext, r)
	}
	if f.NilDAHHash != "" {
		checkNilDAH(&f, r)
	}
	for i := range f.Squares {
		if err := checkEDSSquare(&f.Squares[i], ext, r); err != nil {
			return err
		}
	}
	return nil
}

func checkEDSSquare(sq *vectors.EDSSquare, ext *erasure.Extender, r *Report) error {
	kase := "k=" + strconv.Itoa(sq.K)
	ods, err := sq.ODS()
	if err != nil {
		return err
	}
	h := sha256.New()
	for _, s := range ods {
		h.Write(s)
	}
	r.CheckHex(kase, "ods_sha256", h.Sum(nil), sq.ODSSHA256)

	eds, err := ext.Extend(ods)
	if !r.CheckErr(kase, "extend", err) {
		r.Skip(len(sq.EDSShares) + len(sq.EDSRowSHA256))
		return nil
	}
	w := eds.Width()
	for i, want := range sq.EDSShares {
		r.CheckHex(kase, fmt.Sprintf("eds_shares_hex[%d]", i), eds.Cell(i/w, i%w), want)
	}
	for i, want := range sq.EDSRowSHA256 {
		sum := sha256.Sum256(eds.RowBytes(i))
		r.CheckHex(kase, fmt.Sprintf("eds_row_sha256[%d]", i), sum[:], want)
	}
	checkEDSRoots(kase, sq, ext, eds, r)
	return nil
}

// hexList decodes a list of hex strings, returning nil on any error.
func hexList(field string, list []string) ([][]byte, error) {
	out := make([][]byte, len(list))
	for i, s := range list {
		b, err := decodeHex(fmt.Sprintf("%s[%d]", field, i), s)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func checkMinDAH(f *vectors.EDSFile, ext *erasure.Extender, r *Report) {
	const kase = "min_dah"
	m := f.MinDAH
	tail := erasure.TailPaddingShare()
	if len(m.ODSShares) != 1 {
		r.Fail(kase, "ods_shares_hex", "%d shares, want 1", len(m.ODSShares))
	} else {
		r.CheckHex(kase, "ods_shares_hex[0]", tail, m.ODSShares[0])
	}
	eds, err := ext.Extend([][]byte{tail})
	if !r.CheckErr(kase, "extend", err) {
		r.Skip(len(m.EDSShares) + len(m.RowRoots) + len(m.ColRoots) + 1)
		return
	}
	for i, want := range m.EDSShares {
		r.CheckHex(kase, fmt.Sprintf("eds_shares_hex[%d]", i), eds.Cell(i/2, i%2), want)
	}
	d := erasure.MinDAH()
	for i, want := range m.RowRoots {
		r.CheckHex(kase, fmt.Sprintf("row_roots[%d]", i), d.Root(erasure.Row, i), want)
	}
	for i, want := range m.ColRoots {
		r.CheckHex(kase, fmt.Sprintf("col_roots[%d]", i), d.Root(erasure.Col, i), want)
	}
	r.CheckHex(kase, "hash", d.Hash(), m.Hash)
}

func checkNilDAH(f *vectors.EDSFile, r *Report) {
	var d *erasure.DAH
	r.CheckHex("nil_dah", "nil_dah_hash", d.Hash(), f.NilDAHHash)
}

func checkEDSRoots(kase string, sq *vectors.EDSSquare, ext *erasure.Extender, eds *erasure.ExtendedSquare, r *Report) {
	nSample := 4*len(sq.Samples) + 3*len(sq.Samples) // checked + skipped fields per sample
	dah, err := ext.ComputeDAH(eds)
	if !r.CheckErr(kase, "compute DAH", err) {
		r.Skip(len(sq.RowRoots) + len(sq.ColRoots) + 1 + nSample + 5*len(sq.RootProofs))
		return
	}
	for i, want := range sq.RowRoots {
		r.CheckHex(kase, fmt.Sprintf("row_roots[%d]", i), dah.Root(erasure.Row, i), want)
	}
	for i, want := range sq.ColRoots {
		r.CheckHex(kase, fmt.Sprintf("col_roots[%d]", i), dah.Root(erasure.Col, i), want)
	}
	r.CheckHex(kase, "data_root", dah.Hash(), sq.DataRoot)
	CheckEq(r, kase, "leopard_field", erasure.LeopardField(eds.ODSWidth()), sq.LeopardField)

	wantRoot, err := decodeHex("data_root", sq.DataRoot)
	if err != nil {
		r.Fail(kase, "data_root", "%v", err)
		r.Skip(nSample + 5*len(sq.RootProofs))
		return
	}
	w := eds.Width()
	for i, vs := range sq.Samples {
		sk := fmt.Sprintf("%s sample[%d] (%d,%d)/%s", kase, i, vs.Row, vs.Col, vs.ProofAxis)
		checkEDSSample(sk, vs, ext, eds, dah, wantRoot, w, r)
	}
	for i, vp := range sq.RootProofs {
		pk := fmt.Sprintf("%s root_proof[%d] %s", kase, i, vp.What)
		checkEDSRootProof(pk, vp, dah, wantRoot, w, r)
	}
}

func checkEDSSample(kase string, vs vectors.EDSSample, ext *erasure.Extender, eds *erasure.ExtendedSquare, dah *erasure.DAH, dataRoot []byte, w int, r *Report) {
	checkShwapIDs(kase, vs, r)
	r.CheckHex(kase, "proof_namespace", erasure.LeafNamespace(w/2, vs.Row, vs.Col, eds.Cell(vs.Row, vs.Col)), vs.ProofNamespace)
	var a erasure.Axis
	switch vs.ProofAxis {
	case "row":
		a = erasure.Row
	case "col":
		a = erasure.Col
	default:
		r.Fail(kase, "proof_axis", "unknown axis %q", vs.ProofAxis)
		r.Skip(4)
		return
	}
	smp, err := ext.ProveSample(eds, dah, vs.Row, vs.Col, a)
	if !r.CheckErr(kase, "prove", err) {
		r.Skip(4)
		return
	}
	r.CheckHex(kase, "share_hex", smp.Share(), vs.ShareHex)
	r.CheckHex(kase, "axis_root", smp.AxisRoot(), vs.AxisRoot)
	got, err1 := smp.Proof().MarshalBinary()
	want, err2 := vectorNMTProof(vs.Proof)
	if err1 != nil || err2 != nil {
		r.Fail(kase, "proof", "encode: %v / %v", err1, err2)
	} else {
		r.Check(kase, "proof", got, want)
	}
	err = erasure.VerifySample(dataRoot, w, vs.Row, vs.Col, smp)
	if !CheckEq(r, kase, "verified", err == nil, vs.Verified) && err != nil {
		r.Failures[len(r.Failures)-1] += fmt.Sprintf(" (%v)", err)
	}
}

// vectorNMTProof encodes a vector's proof object as nmt's protobuf, the
// form Tessera's proofs are compared in.
func vectorNMTProof(p vectors.Proof) ([]byte, error) {
	nodes, leafHash, err := decodeVectorProof("proof", p)
	if err != nil {
		return nil, err
	}
	proof, err := nmt.NewProof(p.Start, p.End, nodes, leafHash, p.IsMaxNamespaceIgnored)
	if err != nil {
		return nil, err
	}
	return proof.MarshalBinary()
}

func checkEDSRootProof(kase string, vp vectors.EDSRootProof, dah *erasure.DAH, dataRoot []byte, w int, r *Report) {
	a, idx := erasure.Row, vp.LeafIndex
	if idx >= w {
		a, idx = erasure.Col, idx-w
	}
	p, err := dah.ProveRoot(a, idx)
	if !r.CheckErr(kase, "prove", err) {
		r.Skip(5)
		return
	}
	CheckEq(r, kase, "total", p.Total(), int64(vp.Total))
	r.CheckHex(kase, "leaf", dah.Root(a, idx), vp.Leaf)
	r.CheckHex(kase, "leaf_hash", p.LeafHash(), vp.LeafHash)
	aunts, err := hexList("aunts", vp.Aunts)
	if err != nil {
		r.Fail(kase, "aunts", "%v", err)
	} else {
		r.Check(kase, "aunts", bytes.Join(p.Aunts(), nil), bytes.Join(aunts, nil))
	}
	err = erasure.VerifyRoot(dataRoot, w, a, idx, dah.Root(a, idx), p)
	if !CheckEq(r, kase, "verified", err == nil, vp.Verified) && err != nil {
		r.Failures[len(r.Failures)-1] += fmt.Sprintf(" (%v)", err)
	}
}

// checkShwapIDs recomputes a sample's shwap sample and row identifiers.
func checkShwapIDs(kase string, vs vectors.EDSSample, r *Report) {
	id, err := sampling.NewSampleID(vs.ShwapHeight, vs.Row, vs.Col)
	if !r.CheckErr(kase, "shwap_sample_id_hex", err) {
		r.Skip(1)
		return
	}
	b, _ := id.MarshalBinary()
	r.CheckHex(kase, "shwap_sample_id_hex", b, vs.ShwapSampleID)
	r.CheckHex(kase, "shwap_row_id_hex", id.RowID(), vs.ShwapRowID)
}
