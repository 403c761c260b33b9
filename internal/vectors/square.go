package vectors

// SquareFile is the schema of square.json (hex strings): the transactions
// to build from seeds, the square they make and what is derived from it.
type SquareFile struct {
	MaxSquareSize   int                   `json:"max_square_size"`
	Threshold       int                   `json:"subtree_root_threshold"`
	Txs             []SquareTx            `json:"txs"`
	SquareSize      int                   `json:"square_size"`
	Shares          []Share               `json:"shares"`
	SquareSHA256    string                `json:"square_sha256"`
	TailPaddingHex  string                `json:"tail_padding_share_hex"`
	PFBShareIndexes [][]uint32            `json:"pfb_share_indexes"`
	Blobs           []SquareBlob          `json:"blobs"`
	RowRoots        []string              `json:"row_roots"`
	ColRoots        []string              `json:"col_roots"`
	DataRoot        string                `json:"data_root"`
	NamespaceData   []SquareNamespaceData `json:"namespace_data"`
}

// SquareTx is one transaction of a SquareFile: Bytes(TxSeed, TxLen), and
// for Kind "blob_tx" that wrapped in a BlobTx with Blobs.
type SquareTx struct {
	Kind        string  `json:"kind"`
	TxSeed      string  `json:"tx_seed"`
	TxLen       int     `json:"tx_len"`
	RawTxSHA256 string  `json:"raw_tx_sha256"`
	RawTxHex    *string `json:"raw_tx_hex"`
	Blobs       []struct {
		Namespace    string `json:"namespace"`
		ShareVersion uint8  `json:"share_version"`
		DataSeed     string `json:"data_seed"`
		DataLen      int    `json:"data_len"`
		SignerSeed   string `json:"signer_seed"`
		Signer       string `json:"signer"`
	} `json:"blobs"`
}

// Share describes one share of a square in square.json and
// real_block.json. Nil pointers are values the file leaves out.
type Share struct {
	Index       int     `json:"index"`
	Namespace   string  `json:"namespace"`
	InfoByte    int     `json:"info_byte"`
	SequenceLen *uint32 `json:"sequence_len"`
	Kind        string  `json:"kind"`
	SHA256      string  `json:"sha256"`
	Hex         *string `json:"hex"`
}

// SquareBlob is where one blob of a SquareFile sits and its commitment.
type SquareBlob struct {
	TxIndex       int    `json:"tx_index"`
	BlobIndex     int    `json:"blob_index"`
	Namespace     string `json:"namespace"`
	ShareStart    int    `json:"share_start"`
	ShareEnd      int    `json:"share_end_exclusive"`
	ShareCount    int    `json:"share_count"`
	SubtreeWidth  int    `json:"subtree_width"`
	PFBShareIndex uint32 `json:"pfb_share_index"`
	Commitment    string `json:"commitment"`
}

// SquareNamespaceData is the rows of a SquareFile holding one namespace,
// each with its row namespace-data proof.
type SquareNamespaceData struct {
	Namespace string `json:"namespace"`
	Rows      []struct {
		Row      int   `json:"row"`
		From     int   `json:"from"`
		Count    int   `json:"count"`
		Proof    Proof `json:"proof"`
		Verified bool  `json:"verified"`
	} `json:"rows"`
}

// RealBlockFile is the schema of real_block.json: a block's transactions
// (base64) and the square they make.
type RealBlockFile struct {
	MaxSquareSize   int        `json:"max_square_size_used"`
	OnchainDataHash string     `json:"onchain_data_hash"`
	TxsBase64       []string   `json:"txs_base64"`
	TxIsBlobTx      []bool     `json:"tx_is_blob_tx"`
	SquareSize      int        `json:"square_size"`
	Shares          []Share    `json:"shares"`
	PFBShareIndexes [][]uint32 `json:"pfb_share_indexes"`
	RowRoots        []string   `json:"row_roots"`
	ColRoots        []string   `json:"col_roots"`
	ComputedRoot    string     `json:"computed_data_root"`
}
