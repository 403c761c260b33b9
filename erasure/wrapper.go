package erasure

// LeafNamespace returns the namespace Celestia's tree wrapper prefixes to
// the cell at (row, col) of an extended square with original width k: the
// cell's own first NamespaceSize bytes in the original quadrant, the
// parity namespace (29×0xff) everywhere else. Namespacing depends on the
// position, not on the content. cell must be a whole share.
func LeafNamespace(k, row, col int, cell []byte) []byte {
	if row < k && col < k && len(cell) >= NamespaceSize {
		return cell[:NamespaceSize:NamespaceSize]
	}
	return []byte(parityNamespace)
}

// LeopardField names the Galois field the Leopard codec encodes an axis of
// an original width k square in: GF(2^8) while an axis has at most 256
// shards (2k ≤ 256), GF(2^16) above, as klauspost/reedsolomon's
// WithLeopardGF chooses and as rsmt2d's squares need.
func LeopardField(k int) string {
	if 2*k <= 256 {
		return "GF(2^8)"
	}
	return "GF(2^16)"
}
