package vectors

// Proof is the NMT proof object of the vector files (hex strings).
type Proof struct {
	Start                 int      `json:"start"`
	End                   int      `json:"end"`
	Nodes                 []string `json:"nodes"`
	LeafHash              string   `json:"leaf_hash"`
	IsMaxNamespaceIgnored bool     `json:"is_max_namespace_ignored"`
}

// NMTFile is the schema of nmt.json. Pointer fields are required values a
// checker must tell apart from absent ones.
type NMTFile struct {
	EmptyRoot *string `json:"empty_root"`
	Hasher    struct {
		IgnoreMaxNamespace bool `json:"ignore_max_namespace"`
		NamespaceSize      int  `json:"namespace_size"`
		NodeSize           int  `json:"node_size"`
	} `json:"hasher"`
	Trees []NMTTree `json:"trees"`
}

// NMTTree is one tree of nmt.json.
type NMTTree struct {
	Name   string `json:"name"`
	Leaves []struct {
		Kind      string `json:"kind"`
		Namespace string `json:"namespace"`
		ShareSeed string `json:"share_seed"`
		ShareHex  string `json:"share_hex"`
	} `json:"leaves"`
	LeafHashes         []string `json:"leaf_hashes"`
	Root               string   `json:"root"`
	RootMin            string   `json:"root_min_namespace"`
	RootMax            string   `json:"root_max_namespace"`
	RootIgnoreMaxFalse string   `json:"root_if_ignore_max_namespace_false"`
	RangeProofs        []struct {
		Start    int   `json:"start"`
		End      int   `json:"end"`
		Proof    Proof `json:"proof"`
		Verified *bool `json:"verified"`
	} `json:"range_proofs"`
	NamespaceProofs []struct {
		Namespace string `json:"namespace"`
		Kind      string `json:"kind"`
		Proof     Proof  `json:"proof"`
		Result    *bool  `json:"verify_namespace_result"`
	} `json:"namespace_proofs"`
}
