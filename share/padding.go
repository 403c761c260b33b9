package share

// paddingShares returns n padding shares: ns ‖ info(version, start) ‖ BE4(0) ‖ zeros.
func paddingShares(ns Namespace, version uint8, n int) []Share {
	if n <= 0 {
		return nil
	}
	buf := make([]byte, n*ShareSize)
	out := make([]Share, n)
	for i := range out {
		s := buf[i*ShareSize : (i+1)*ShareSize : (i+1)*ShareSize]
		copy(s, ns.b[:])
		s[NamespaceSize] = newInfoByte(version, true)
		out[i] = Share{data: s}
	}
	return out
}

// NamespacePaddingShares returns n padding shares that follow a blob of
// namespace ns and share version shareVersion (go-square copies both).
func NamespacePaddingShares(ns Namespace, shareVersion uint8, n int) []Share {
	return paddingShares(ns, shareVersion, n)
}

// ReservedPaddingShares returns n primary reserved padding shares.
func ReservedPaddingShares(n int) []Share {
	return paddingShares(PrimaryReservedPaddingNamespace, ShareVersionZero, n)
}

// TailPaddingShares returns n tail padding shares.
func TailPaddingShares(n int) []Share {
	return paddingShares(TailPaddingNamespace, ShareVersionZero, n)
}
