package conformance

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/tessera-da/tessera/internal/vectors"
	"github.com/tessera-da/tessera/share"
)

func init() { checkers["blob_shares.json"] = checkBlobShares }

type blobSharesFile struct {
	Threshold int `json:"subtree_root_threshold"`
	Blobs     []struct {
		Name            string   `json:"name"`
		Namespace       string   `json:"namespace"`
		ShareVersion    uint8    `json:"share_version"`
		SignerSeed      string   `json:"signer_seed"`
		Signer          string   `json:"signer"`
		DataSeed        string   `json:"data_seed"`
		DataLen         int      `json:"data_len"`
		DataSHA256      string   `json:"data_sha256"`
		DataHex         *string  `json:"data_hex"`
		NewBlobError    *string  `json:"new_blob_error"`
		ShareCount      int      `json:"share_count"`
		SparseNeeded    int      `json:"sparse_shares_needed"`
		SharesHex       []string `json:"shares_hex"`
		SharesSHA256    []string `json:"shares_sha256"`
		AllSharesSHA256 string   `json:"all_shares_sha256"`
		SubtreeWidth    int      `json:"subtree_width"`
		MMRTreeSizes    []int    `json:"mmr_tree_sizes"`
		SubtreeRoots    []string `json:"subtree_roots"`
		Commitment      string   `json:"commitment"`
		BlobProtoHex    *string  `json:"blob_proto_hex"`
	} `json:"blobs"`
	Padding []struct {
		Kind         string `json:"kind"`
		Namespace    string `json:"namespace"`
		ShareVersion uint8  `json:"share_version"`
		Hex          string `json:"hex"`
	} `json:"padding_shares"`
}

func checkBlobShares(data []byte, r *Report) error {
	var f blobSharesFile
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	if len(f.Blobs) == 0 || len(f.Padding) == 0 {
		return fmt.Errorf("missing blobs or padding_shares")
	}
	if f.Threshold <= 0 {
		return fmt.Errorf("subtree_root_threshold %d is not positive", f.Threshold)
	}
	for _, v := range f.Blobs {
		kase := "blobs/" + v.Name
		nsb, err := decodeHex("namespace", v.Namespace)
		if err != nil {
			return err
		}
		ns, err := share.NewNamespaceFromBytes(nsb)
		if !r.CheckErr(kase, "namespace", err) {
			continue
		}
		d := vectors.Bytes(v.DataSeed, v.DataLen)
		ds := sha256.Sum256(d)
		r.CheckHex(kase, "data_sha256", ds[:], v.DataSHA256)
		if v.DataHex != nil {
			r.CheckHex(kase, "data_hex", d, *v.DataHex)
		}
		var signer []byte
		if v.SignerSeed != "" {
			signer = vectors.Bytes(v.SignerSeed, share.SignerSize)
			r.CheckHex(kase, "signer", signer, v.Signer)
		}
		b, err := share.NewBlob(ns, d, v.ShareVersion, signer)
		if v.NewBlobError != nil {
			CheckEq(r, kase, "new_blob_error", err != nil, true)
			continue
		}
		if !r.CheckErr(kase, "new_blob", err) {
			continue
		}
		shares := b.ToShares()
		CheckEq(r, kase, "share_count", len(shares), v.ShareCount)
		CheckEq(r, kase, "sparse_shares_needed", share.SparseSharesNeeded(v.DataLen, len(signer) > 0), v.SparseNeeded)
		for i, h := range v.SharesHex {
			if i < len(shares) {
				r.CheckHex(kase, fmt.Sprintf("shares_hex[%d]", i), shares[i].Bytes(), h)
			} else {
				r.Fail(kase, fmt.Sprintf("shares_hex[%d]", i), "missing share")
			}
		}
		for i, h := range v.SharesSHA256 {
			if i < len(shares) {
				s := sha256.Sum256(shares[i].Bytes())
				r.CheckHex(kase, fmt.Sprintf("shares_sha256[%d]", i), s[:], h)
			} else {
				r.Fail(kase, fmt.Sprintf("shares_sha256[%d]", i), "missing share")
			}
		}
		all := sha256.Sum256(share.ToBytes(shares))
		r.CheckHex(kase, "all_shares_sha256", all[:], v.AllSharesSHA256)
		back, n, err := share.ParseBlob(shares)
		if r.CheckErr(kase, "parse_back", err) {
			CheckEq(r, kase, "parse_back", n == len(shares) && back.Equal(b), true)
		}
		checkCommitment(r, kase, b, f.Threshold, v.SubtreeWidth, v.MMRTreeSizes, v.SubtreeRoots, v.Commitment)
		if v.BlobProtoHex != nil {
			r.CheckHex(kase, "blob_proto_hex", share.MarshalBlob(b), *v.BlobProtoHex)
		}
	}
	for _, p := range f.Padding {
		kase := "padding_shares/" + p.Kind
		nsb, err := decodeHex("namespace", p.Namespace)
		if err != nil {
			return err
		}
		ns, err := share.NewNamespaceFromBytes(nsb)
		if !r.CheckErr(kase, "namespace", err) {
			continue
		}
		var got []share.Share
		switch {
		case ns == share.PrimaryReservedPaddingNamespace:
			got = share.ReservedPaddingShares(1)
		case ns == share.TailPaddingNamespace:
			got = share.TailPaddingShares(1)
		default:
			got = share.NamespacePaddingShares(ns, p.ShareVersion, 1)
		}
		if r.CheckHex(kase, "hex", got[0].Bytes(), p.Hex) {
			CheckEq(r, kase, "is_padding", got[0].IsPadding(), true)
		}
	}
	return nil
}
