package merkle

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"

	"github.com/tessera-da/tessera/nmt/internal/pbwire"
)

// Sizes and limits.
const (
	// HashSize is the size of every hash in the tree.
	HashSize = sha256.Size // 32 bytes
	// MaxAunts bounds the aunts of a proof, as in cometbft. A tree of
	// total < 2^63 leaves needs at most 63.
	MaxAunts = 100 // hashes
	// MaxEncodedProofSize bounds the encoding ParseProof accepts.
	MaxEncodedProofSize = 2*(1+10) + (2 + HashSize) + MaxAunts*(2+HashSize) + 256 // bytes
)

const (
	leafPrefix = 0x00
	nodePrefix = 0x01
	// maxDepth bounds a tree of at most 2^63 leaves.
	maxDepth = 64
	// smallItem is the largest item hashed through a stack buffer.
	smallItem = 256 // bytes
)

// Sentinel errors; every error this package returns wraps one of them.
var (
	// ErrInvalidProof is wrapped by every verification failure and every
	// rejected proof or encoding.
	ErrInvalidProof = errors.New("merkle: invalid proof")
	// ErrRootMismatch means a well-formed proof rebuilds another root.
	ErrRootMismatch = errors.New("merkle: computed root does not match")
	// ErrInvalidIndex means an index is out of range.
	ErrInvalidIndex = errors.New("merkle: invalid index")
)

// emptyHash is SHA-256("").
const emptyHash = "\xe3\xb0\xc4\x42\x98\xfc\x1c\x14\x9a\xfb\xf4\xc8\x99\x6f\xb9\x24\x27\xae\x41\xe4\x64\x9b\x93\x4c\xa4\x95\x99\x1b\x78\x52\xb8\x55"

// EmptyHash returns SHA-256(""), the root of a tree with no items.
func EmptyHash() []byte { return []byte(emptyHash) }

// hasher hashes leaves and inner nodes without allocating per hash. Its
// zero value is ready.
type hasher struct {
	small [1 + smallItem]byte
	inner [1 + 2*HashSize]byte
}

func (h *hasher) leaf(dst *[HashSize]byte, item []byte) {
	if len(item) > smallItem {
		*dst = leafHashLarge(item)
		return
	}
	h.small[0] = leafPrefix
	n := copy(h.small[1:], item)
	*dst = sha256.Sum256(h.small[:1+n])
}

// leafHashLarge hashes a leaf without copying it; the digest it allocates is
// small next to the item.
func leafHashLarge(item []byte) (out [HashSize]byte) {
	d := sha256.New()
	d.Write([]byte{leafPrefix})
	d.Write(item)
	d.Sum(out[:0])
	return out
}

func (h *hasher) node(dst, l, r *[HashSize]byte) {
	h.inner[0] = nodePrefix
	copy(h.inner[1:], l[:])
	copy(h.inner[1+HashSize:], r[:])
	*dst = sha256.Sum256(h.inner[:])
}

// ComputeLeafHash returns SHA-256(0x00 ‖ item).
func ComputeLeafHash(item []byte) []byte {
	var h hasher
	var out [HashSize]byte
	h.leaf(&out, item)
	return out[:]
}

// ComputeInnerHash returns SHA-256(0x01 ‖ left ‖ right). Children of any
// length are accepted, as in cometbft.
func ComputeInnerHash(left, right []byte) []byte {
	b := make([]byte, 0, 1+len(left)+len(right))
	b = append(append(append(b, nodePrefix), left...), right...)
	s := sha256.Sum256(b)
	return s[:]
}

// ComputeRoot returns the root of the tree over items, in order: cometbft's
// merkle.HashFromByteSlices. Items are not retained.
func ComputeRoot(items [][]byte) []byte {
	if len(items) == 0 {
		return EmptyHash()
	}
	var (
		// stack[i] is the root of a complete subtree; sizes follow the
		// bits of the count, largest at the bottom.
		stack [maxDepth + 1][HashSize]byte
		sp    int
		h     hasher
	)
	for i, item := range items {
		h.leaf(&stack[sp], item)
		sp++
		for m := bits.TrailingZeros(uint(i + 1)); m > 0; m-- {
			h.node(&stack[sp-2], &stack[sp-2], &stack[sp-1])
			sp--
		}
	}
	for ; sp > 1; sp-- {
		h.node(&stack[sp-2], &stack[sp-2], &stack[sp-1])
	}
	out := stack[0]
	return out[:]
}

// splitPoint is the largest power of two strictly below n (n ≥ 2).
func splitPoint(n int64) int64 {
	return int64(1) << (bits.Len64(uint64(n-1)) - 1)
}

// pathLen is the number of aunts on the path from index to the root of a
// tree of total leaves; the caller checks 0 ≤ index < total.
func pathLen(index, total int64) int {
	d := 0
	for total > 1 {
		k := splitPoint(total)
		if index < k {
			total = k
		} else {
			index -= k
			total -= k
		}
		d++
	}
	return d
}

// Proof proves that an item is at Index() among Total() items under a root.
// Its fields are unexported; it comes from Prove, ProveAll, NewProof or
// ParseProof and is then well formed (see the package documentation). A
// Proof is immutable and safe for concurrent use.
type Proof struct {
	total, index int64
	leafHash     [HashSize]byte
	aunts        []byte // HashSize bytes each, bottom-up
}

// NewProof validates and copies the parts of a proof received from
// elsewhere (for example decoded from JSON).
func NewProof(total, index int64, leafHash []byte, aunts [][]byte) (Proof, error) {
	if err := checkShape(total, index, len(leafHash), len(aunts)); err != nil {
		return Proof{}, err
	}
	p := Proof{total: total, index: index}
	copy(p.leafHash[:], leafHash)
	p.aunts = make([]byte, 0, len(aunts)*HashSize)
	for i, a := range aunts {
		if len(a) != HashSize {
			return Proof{}, fmt.Errorf("%w: aunt %d is %d bytes", ErrInvalidProof, i, len(a))
		}
		p.aunts = append(p.aunts, a...)
	}
	return p, nil
}

func checkShape(total, index int64, leafHashLen, numAunts int) error {
	if total < 1 || index < 0 || index >= total {
		return fmt.Errorf("%w: %w: index %d of %d", ErrInvalidProof, ErrInvalidIndex, index, total)
	}
	if leafHashLen != HashSize {
		return fmt.Errorf("%w: leaf hash is %d bytes", ErrInvalidProof, leafHashLen)
	}
	if numAunts > MaxAunts {
		return fmt.Errorf("%w: %d aunts, more than %d", ErrInvalidProof, numAunts, MaxAunts)
	}
	if want := pathLen(index, total); numAunts != want {
		return fmt.Errorf("%w: %d aunts, index %d of %d needs %d", ErrInvalidProof, numAunts, index, total, want)
	}
	return nil
}

// Total returns the number of items in the tree.
func (p Proof) Total() int64 { return p.total }

// Index returns the proven item's index.
func (p Proof) Index() int64 { return p.index }

// LeafHash returns a copy of the proven item's leaf hash.
func (p Proof) LeafHash() []byte { return bytes.Clone(p.leafHash[:]) }

// Aunts returns copies of the sibling hashes, bottom-up.
func (p Proof) Aunts() [][]byte {
	buf := bytes.Clone(p.aunts)
	out := make([][]byte, len(buf)/HashSize)
	for i := range out {
		out[i] = buf[i*HashSize : (i+1)*HashSize : (i+1)*HashSize]
	}
	return out
}

// Equal reports whether p and q are the same proof.
func (p Proof) Equal(q Proof) bool {
	return p.total == q.total && p.index == q.index && p.leafHash == q.leafHash && bytes.Equal(p.aunts, q.aunts)
}

// Verify checks that item is the leaf at Index() of the tree of Total()
// items with the given root.
func (p Proof) Verify(root, item []byte) error {
	var h hasher
	var lh [HashSize]byte
	h.leaf(&lh, item)
	if lh != p.leafHash {
		return fmt.Errorf("%w: item does not hash to the proof's leaf hash", ErrInvalidProof)
	}
	return p.VerifyLeafHash(root, lh[:])
}

// VerifyLeafHash is Verify for a leaf hash (SHA-256(0x00 ‖ item)) instead
// of the item.
func (p Proof) VerifyLeafHash(root, leafHash []byte) error {
	if len(root) != HashSize {
		return fmt.Errorf("%w: root is %d bytes", ErrInvalidProof, len(root))
	}
	if !bytes.Equal(leafHash, p.leafHash[:]) {
		return fmt.Errorf("%w: leaf hash differs from the proof's", ErrInvalidProof)
	}
	// The zero Proof and any Proof built by a constructor pass this.
	if err := checkShape(p.total, p.index, HashSize, len(p.aunts)/HashSize); err != nil {
		return err
	}
	got := p.computeRoot()
	if !bytes.Equal(got[:], root) {
		return fmt.Errorf("%w: %w", ErrInvalidProof, ErrRootMismatch)
	}
	return nil
}

// computeRoot folds the aunts into the leaf hash. The shape is checked.
func (p Proof) computeRoot() [HashSize]byte {
	// Walk down from the root recording which side the path takes.
	var right [maxDepth]bool
	d := 0
	for index, total := p.index, p.total; total > 1; d++ {
		k := splitPoint(total)
		if index < k {
			total = k
		} else {
			right[d] = true
			index -= k
			total -= k
		}
	}
	var h hasher
	cur := p.leafHash
	for i := 0; i < d; i++ {
		var aunt [HashSize]byte
		copy(aunt[:], p.aunts[i*HashSize:])
		if right[d-1-i] {
			h.node(&cur, &aunt, &cur)
		} else {
			h.node(&cur, &cur, &aunt)
		}
	}
	return cur
}

// Prove returns the root of the tree over items and the proof of
// items[index].
func Prove(items [][]byte, index int) (root []byte, proof Proof, err error) {
	if index < 0 || index >= len(items) {
		return nil, Proof{}, fmt.Errorf("%w: index %d of %d", ErrInvalidIndex, index, len(items))
	}
	levels := buildLevels(items)
	return levels.root(), levels.prove(index), nil
}

// ProveAll returns the root of the tree over items and the proof of every
// item (cometbft's merkle.ProofsFromByteSlices). It hashes each node once.
func ProveAll(items [][]byte) (root []byte, proofs []Proof) {
	if len(items) == 0 {
		return EmptyHash(), nil
	}
	levels := buildLevels(items)
	proofs = make([]Proof, len(items))
	for i := range proofs {
		proofs[i] = levels.prove(i)
	}
	return levels.root(), proofs
}

// levels holds every node of a tree, level by level; a level with an odd
// count carries its last node up, which gives the RFC-6962 shape.
type levels struct {
	n     int
	nodes [][][HashSize]byte
}

func buildLevels(items [][]byte) levels {
	var h hasher
	lv := levels{n: len(items)}
	cur := make([][HashSize]byte, len(items))
	for i, it := range items {
		h.leaf(&cur[i], it)
	}
	lv.nodes = append(lv.nodes, cur)
	for len(cur) > 1 {
		next := make([][HashSize]byte, (len(cur)+1)/2)
		for i := 0; i+1 < len(cur); i += 2 {
			h.node(&next[i/2], &cur[i], &cur[i+1])
		}
		if len(cur)%2 == 1 {
			next[len(next)-1] = cur[len(cur)-1]
		}
		lv.nodes = append(lv.nodes, next)
		cur = next
	}
	return lv
}

func (lv levels) root() []byte {
	r := lv.nodes[len(lv.nodes)-1][0]
	return r[:]
}

func (lv levels) prove(index int) Proof {
	p := Proof{total: int64(lv.n), index: int64(index), leafHash: lv.nodes[0][index]}
	p.aunts = make([]byte, 0, (len(lv.nodes)-1)*HashSize)
	for h, i := 0, index; h < len(lv.nodes)-1; h, i = h+1, i/2 {
		if sib := i ^ 1; sib < len(lv.nodes[h]) {
			p.aunts = append(p.aunts, lv.nodes[h][sib][:]...)
		}
	}
	return p
}

// Protobuf field numbers of tendermint.crypto.Proof.
const (
	fieldTotal    = 1
	fieldIndex    = 2
	fieldLeafHash = 3
	fieldAunts    = 4
)

// AppendBinary appends p encoded as cometbft's protobuf
// tendermint.crypto.Proof, fields in order and proto3 defaults omitted.
func (p Proof) AppendBinary(b []byte) ([]byte, error) {
	if p.total != 0 {
		b = pbwire.AppendVarintField(b, fieldTotal, uint64(p.total))
	}
	if p.index != 0 {
		b = pbwire.AppendVarintField(b, fieldIndex, uint64(p.index))
	}
	b = pbwire.AppendBytesField(b, fieldLeafHash, p.leafHash[:])
	for i := 0; i+HashSize <= len(p.aunts); i += HashSize {
		b = pbwire.AppendBytesField(b, fieldAunts, p.aunts[i:i+HashSize])
	}
	return b, nil
}

// MarshalBinary encodes p; see AppendBinary.
func (p Proof) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, 22+2+HashSize+len(p.aunts)/HashSize*(2+HashSize)))
}

// UnmarshalBinary replaces *p with ParseProof(b); on error *p is unchanged.
func (p *Proof) UnmarshalBinary(b []byte) error {
	q, err := ParseProof(b)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// ParseProof decodes and validates a tendermint.crypto.Proof. b is
// untrusted: its size is capped, every length is checked before use,
// unknown fields are skipped, and the result is checked as NewProof checks
// it.
func ParseProof(b []byte) (Proof, error) {
	if len(b) > MaxEncodedProofSize {
		return Proof{}, fmt.Errorf("%w: encoding of %d bytes exceeds %d", ErrInvalidProof, len(b), MaxEncodedProofSize)
	}
	var (
		p        Proof
		leafHash []byte
	)
	for len(b) > 0 {
		num, wt, rest, err := pbwire.ConsumeTag(b)
		if err != nil {
			return Proof{}, fmt.Errorf("%w: %w", ErrInvalidProof, err)
		}
		b = rest
		switch num {
		case fieldTotal, fieldIndex:
			if wt != pbwire.WireVarint {
				return Proof{}, fmt.Errorf("%w: field %d has wire type %d", ErrInvalidProof, num, wt)
			}
			v, rest, err := pbwire.ConsumeVarint(b)
			if err != nil {
				return Proof{}, fmt.Errorf("%w: field %d: %w", ErrInvalidProof, num, err)
			}
			b = rest
			if num == fieldTotal {
				p.total = int64(v)
			} else {
				p.index = int64(v)
			}
		case fieldLeafHash, fieldAunts:
			if wt != pbwire.WireBytes {
				return Proof{}, fmt.Errorf("%w: field %d has wire type %d", ErrInvalidProof, num, wt)
			}
			v, rest, err := pbwire.ConsumeBytes(b)
			if err != nil {
				return Proof{}, fmt.Errorf("%w: field %d: %w", ErrInvalidProof, num, err)
			}
			b = rest
			if len(v) != HashSize {
				return Proof{}, fmt.Errorf("%w: field %d: hash of %d bytes", ErrInvalidProof, num, len(v))
			}
			if num == fieldLeafHash {
				leafHash = v
				continue
			}
			if len(p.aunts) >= MaxAunts*HashSize {
				return Proof{}, fmt.Errorf("%w: more than %d aunts", ErrInvalidProof, MaxAunts)
			}
			p.aunts = append(p.aunts, v...)
		default:
			rest, err := pbwire.SkipField(b, wt)
			if err != nil {
				return Proof{}, fmt.Errorf("%w: field %d: %w", ErrInvalidProof, num, err)
			}
			b = rest
		}
	}
	if err := checkShape(p.total, p.index, len(leafHash), len(p.aunts)/HashSize); err != nil {
		return Proof{}, err
	}
	copy(p.leafHash[:], leafHash)
	return p, nil
}
