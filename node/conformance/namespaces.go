package conformance

import (
	"encoding/json"
	"fmt"

	"github.com/tessera-da/tessera/internal/vectors"
	"github.com/tessera-da/tessera/share"
)

func init() { checkers["namespaces.json"] = checkNamespaces }

type namespacesFile struct {
	V0 []struct {
		Index        int    `json:"index"`
		IDSeed       string `json:"id_seed"`
		ID10         string `json:"id10"`
		Namespace    string `json:"namespace"`
		Version      int    `json:"version"`
		ID28         string `json:"id28"`
		IsReserved   bool   `json:"is_reserved"`
		ValidForBlob bool   `json:"valid_for_blob"`
	} `json:"v0_namespaces"`
	Reserved []struct {
		Name      string `json:"name"`
		Symbol    string `json:"go_square_symbol"`
		Namespace string `json:"namespace"`
	} `json:"reserved_namespaces"`
	Edge []struct {
		Description   string `json:"description"`
		Bytes         string `json:"namespace_bytes"`
		OK            bool   `json:"new_namespace_from_bytes_ok"`
		IsReserved    *bool  `json:"is_reserved"`
		IsPrimary     *bool  `json:"is_primary_reserved"`
		IsSecondary   *bool  `json:"is_secondary_reserved"`
		ValidForBlob  bool   `json:"valid_for_blob"`
		ValidateError string `json:"validate_for_blob_error"`
	} `json:"edge_cases"`
}

// reservedBySymbol maps go-square's names to Tessera's reserved namespaces.
var reservedBySymbol = map[string]share.Namespace{
	"TxNamespace":                     share.TxNamespace,
	"IntermediateStateRootsNamespace": share.IntermediateStateRootsNamespace,
	"PayForBlobNamespace":             share.PayForBlobNamespace,
	"PayForFibreNamespace":            share.PayForFibreNamespace,
	"PrimaryReservedPaddingNamespace": share.PrimaryReservedPaddingNamespace,
	"MaxPrimaryReservedNamespace":     share.MaxPrimaryReservedNamespace,
	"MinSecondaryReservedNamespace":   share.MinSecondaryReservedNamespace,
	"TailPaddingNamespace":            share.TailPaddingNamespace,
	"ParitySharesNamespace":           share.ParityNamespace,
}

func checkNamespaces(data []byte, r *Report) error {
	var f namespacesFile
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	if len(f.V0) == 0 || len(f.Reserved) == 0 || len(f.Edge) == 0 {
		return fmt.Errorf("missing v0_namespaces, reserved_namespaces or edge_cases")
	}
	for _, v := range f.V0 {
		kase := fmt.Sprintf("v0_namespaces[%d]", v.Index)
		id10 := vectors.Bytes(v.IDSeed, share.V0SubIDSize)
		r.CheckHex(kase, "id10", id10, v.ID10)
		ns, err := share.NewV0Namespace(id10)
		if !r.CheckErr(kase, "namespace", err) {
			continue
		}
		r.CheckHex(kase, "namespace", ns.Bytes(), v.Namespace)
		CheckEq(r, kase, "version", int(ns.Version()), v.Version)
		r.CheckHex(kase, "id28", ns.ID(), v.ID28)
		CheckEq(r, kase, "is_reserved", ns.IsReserved(), v.IsReserved)
		CheckEq(r, kase, "valid_for_blob", ns.ValidateForBlob() == nil, v.ValidForBlob)
	}
	for _, v := range f.Reserved {
		kase := "reserved_namespaces/" + v.Name
		ns, ok := reservedBySymbol[v.Symbol]
		if !ok {
			r.Fail(kase, "go_square_symbol", "unknown symbol %q", v.Symbol)
			continue
		}
		r.CheckHex(kase, "namespace", ns.Bytes(), v.Namespace)
	}
	for i, e := range f.Edge {
		kase := fmt.Sprintf("edge_cases[%d] (%s)", i, e.Description)
		b, err := decodeHex("namespace_bytes", e.Bytes)
		if err != nil {
			return err
		}
		ns, err := share.NewNamespaceFromBytes(b)
		CheckEq(r, kase, "new_namespace_from_bytes_ok", err == nil, e.OK)
		if err != nil {
			CheckEq(r, kase, "valid_for_blob", false, e.ValidForBlob)
			continue
		}
		if e.IsReserved != nil {
			CheckEq(r, kase, "is_reserved", ns.IsReserved(), *e.IsReserved)
		}
		if e.IsPrimary != nil {
			CheckEq(r, kase, "is_primary_reserved", ns.IsPrimaryReserved(), *e.IsPrimary)
		}
		if e.IsSecondary != nil {
			CheckEq(r, kase, "is_secondary_reserved", ns.IsSecondaryReserved(), *e.IsSecondary)
		}
		CheckEq(r, kase, "valid_for_blob", ns.ValidateForBlob() == nil, e.ValidForBlob)
	}
	return nil
}
