package nmt

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"sort"
)

// This file is a deliberately naive transcription of celestiaorg/nmt's
// recursive algorithms (hasher.go HashLeaf/HashNode, nmt.go computeRoot and
// buildRangeProof, proof.go VerifyLeafHashes), used as the reference in
// differential tests. It allocates freely and favours obviousness.

func refSplit(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

func refLeaf(leaf []byte) []byte {
	ns := leaf[:NamespaceSize]
	h := sha256.Sum256(append([]byte{0}, leaf...))
	return append(append(append([]byte{}, ns...), ns...), h[:]...)
}

func refNode(l, r []byte, ignoreMax bool) ([]byte, error) {
	if bytes.Compare(r[:NamespaceSize], l[NamespaceSize:2*NamespaceSize]) < 0 {
		return nil, errors.New("unordered")
	}
	minNs := l[:NamespaceSize]
	maxNs := r[NamespaceSize : 2*NamespaceSize]
	if ignoreMax && bytes.Equal(r[:NamespaceSize], bytes.Repeat([]byte{0xff}, NamespaceSize)) {
		maxNs = l[NamespaceSize : 2*NamespaceSize]
	}
	in := append(append([]byte{1}, l...), r...)
	h := sha256.Sum256(in)
	return append(append(append([]byte{}, minNs...), maxNs...), h[:]...), nil
}

func refRootOfNodes(nodes [][]byte, ignoreMax bool) []byte {
	switch len(nodes) {
	case 0:
		return EmptyRoot()
	case 1:
		return nodes[0]
	}
	k := refSplit(len(nodes))
	l := refRootOfNodes(nodes[:k], ignoreMax)
	r := refRootOfNodes(nodes[k:], ignoreMax)
	n, err := refNode(l, r, ignoreMax)
	if err != nil {
		panic(err)
	}
	return n
}

func refRoot(leaves [][]byte, ignoreMax bool) []byte {
	var nodes [][]byte
	for _, l := range leaves {
		nodes = append(nodes, refLeaf(l))
	}
	return refRootOfNodes(nodes, ignoreMax)
}

// refProveRange is nmt's buildRangeProof.
func refProveRange(leafNodes [][]byte, start, end int, ignoreMax bool) [][]byte {
	var proof [][]byte
	var rec func(s, e int, include bool) []byte
	rec = func(s, e int, include bool) []byte {
		if s >= len(leafNodes) {
			return nil
		}
		if e-s == 1 {
			if (s < start || s >= end) && include {
				proof = append(proof, leafNodes[s])
			}
			return leafNodes[s]
		}
		newInclude := include
		if (e <= start || s >= end) && include {
			newInclude = false
		}
		k := refSplit(e - s)
		left := rec(s, s+k, newInclude)
		right := rec(s+k, e, newInclude)
		var h []byte
		if right == nil {
			h = left
		} else {
			var err error
			if h, err = refNode(left, right, ignoreMax); err != nil {
				panic(err)
			}
		}
		if include && !newInclude {
			proof = append(proof, h)
		}
		return h
	}
	full := refSplit(len(leafNodes)) * 2
	if len(leafNodes) == 1 {
		full = 1
	}
	rec(0, full, true)
	return proof
}

// refVerify is nmt's VerifyLeafHashes without the completeness check.
func refVerify(root []byte, start, end int, nodes, leafHashes [][]byte, ignoreMax bool) bool {
	if start < 0 || start >= end || len(leafHashes) != end-start {
		return false
	}
	var err error
	var rec func(s, e int) []byte
	pop := func() []byte {
		if len(nodes) == 0 {
			return nil
		}
		n := nodes[0]
		nodes = nodes[1:]
		return n
	}
	rec = func(s, e int) []byte {
		if e-s == 1 {
			if start <= s && s < end {
				l := leafHashes[0]
				leafHashes = leafHashes[1:]
				return l
			}
			return pop()
		}
		if e <= start || s >= end {
			return pop()
		}
		k := refSplit(e - s)
		left := rec(s, s+k)
		right := rec(s+k, e)
		if right == nil {
			return left
		}
		if left == nil {
			err = errors.New("missing left")
			return nil
		}
		h, e2 := refNode(left, right, ignoreMax)
		if e2 != nil {
			err = e2
		}
		return h
	}
	size := refSplit(end) * 2
	if end == 1 {
		size = 1
	}
	r := rec(0, size)
	if err != nil || r == nil {
		return false
	}
	for _, n := range nodes {
		if r, err = refNode(r, n, ignoreMax); err != nil {
			return false
		}
	}
	return bytes.Equal(r, root)
}

// randomLeaves returns n leaves of random data (distinct with overwhelming
// probability) under sorted namespaces drawn from a small pool, with the
// last parity leaves of an EDS row when parity is set.
func randomLeaves(rng *rand.Rand, n, dataLen int, parity int) [][]byte {
	pool := make([][]byte, 1+rng.IntN(5))
	for i := range pool {
		ns := make([]byte, NamespaceSize)
		ns[NamespaceSize-1] = byte(rng.IntN(8) * 16)
		ns[NamespaceSize-2] = byte(rng.IntN(3))
		pool[i] = ns
	}
	nss := make([][]byte, n)
	for i := range nss {
		if i >= n-parity {
			nss[i] = bytes.Repeat([]byte{0xff}, NamespaceSize)
		} else {
			nss[i] = pool[rng.IntN(len(pool))]
		}
	}
	sort.SliceStable(nss, func(i, j int) bool { return bytes.Compare(nss[i], nss[j]) < 0 })
	leaves := make([][]byte, n)
	for i := range leaves {
		d := make([]byte, dataLen)
		for j := range d {
			d[j] = byte(rng.Uint32())
		}
		leaves[i] = append(bytes.Clone(nss[i]), d...)
	}
	return leaves
}
