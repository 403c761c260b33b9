package dataset

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/nmt/merkle"
	"github.com/tessera-da/tessera/share"
)

// Limits of a manifest. They are checked before anything is allocated.
const (
	ManifestVersion = 1                                                                   // encoding version
	MaxManifestSize = 32 << 20                                                            // bytes of an encoded manifest
	MaxPages        = 1 << 18                                                             // page entries in one manifest
	MaxParents      = 256                                                                 // parent dataset IDs
	MaxHoldout      = MaxPages                                                            // holdout page indexes
	MaxStringLen    = 4096                                                                // bytes of each string field
	MaxPageSize     = 1 << 30                                                             // bytes of one page
	IDSize          = sha256.Size                                                         // bytes of a manifest ID
	PageEntrySize   = 8 + 8 + share.NamespaceSize + blob.CommitmentSize + 8 + sha256.Size // bytes of an encoded page entry
)

// manifestMagic starts every encoded manifest.
var manifestMagic = [4]byte{'T', 'S', 'M', 'F'}

// manifestSigner signs manifests; its context is prepended to the manifest
// ID, so a manifest signature can never be replayed as another Tessera
// signature.
var manifestSigner = signer{record: "manifest", context: "tessera/dataset/manifest/v1\x00", sentinel: ErrInvalidSignature}

// ID is a manifest's content address: SHA-256 of its canonical encoding
// without the signature (publisher key included).
type ID [IDSize]byte

// MarshalText encodes the ID as 64 hex digits (so JSON shows a string).
func (id ID) MarshalText() ([]byte, error) {
	return hex.AppendEncode(nil, id[:]), nil
}

// UnmarshalText decodes 64 hex digits.
func (id *ID) UnmarshalText(b []byte) error {
	if len(b) != 2*IDSize {
		return fmt.Errorf("%w: ID of %d hex digits, want %d", ErrInvalidParams, len(b), 2*IDSize)
	}
	if _, err := hex.Decode(id[:], b); err != nil {
		return fmt.Errorf("%w: ID: %w", ErrInvalidParams, err)
	}
	return nil
}

// PageEntry describes one page of an object: where its blob is and what its
// bytes hash to. Index is the page's position in the object.
type PageEntry struct {
	Index      uint64                    // position of the page in the object
	Height     uint64                    // block height of the page blob
	Namespace  share.Namespace           // namespace of the page blob
	Commitment [blob.CommitmentSize]byte // share commitment of the page blob
	Length     uint64                    // bytes in the page
	SHA256     [sha256.Size]byte         // SHA-256 of the page bytes
}

// AppendBinary appends the entry's canonical PageEntrySize-byte encoding:
// BE64 index ‖ BE64 height ‖ namespace ‖ commitment ‖ BE64 length ‖ sha256.
// It is the leaf of the manifest's page Merkle tree.
func (e PageEntry) AppendBinary(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, e.Index)
	b = binary.BigEndian.AppendUint64(b, e.Height)
	b = append(b, e.Namespace.Bytes()...)
	b = append(b, e.Commitment[:]...)
	b = binary.BigEndian.AppendUint64(b, e.Length)
	return append(b, e.SHA256[:]...)
}

// ParsePageEntry decodes an entry encoded by AppendBinary.
func ParsePageEntry(b []byte) (PageEntry, error) {
	if len(b) != PageEntrySize {
		return PageEntry{}, fmt.Errorf("%w: page entry is %d bytes, want %d", ErrInvalidManifest, len(b), PageEntrySize)
	}
	var e PageEntry
	e.Index = binary.BigEndian.Uint64(b[0:])
	e.Height = binary.BigEndian.Uint64(b[8:])
	ns, err := share.NewNamespaceFromBytes(b[16 : 16+share.NamespaceSize])
	if err != nil {
		return PageEntry{}, fmt.Errorf("%w: page entry namespace: %w", ErrInvalidManifest, err)
	}
	e.Namespace = ns
	o := 16 + share.NamespaceSize
	copy(e.Commitment[:], b[o:])
	o += blob.CommitmentSize
	e.Length = binary.BigEndian.Uint64(b[o:])
	copy(e.SHA256[:], b[o+8:])
	return e, nil
}

// Source says where a dataset's bytes came from.
type Source struct {
	URI      string            // e.g. hf://datasets/org/name
	Revision string            // e.g. a commit hash
	SHA256   [sha256.Size]byte // SHA-256 of the source bytes, or zero if unknown
}

// Manifest describes a large object (a dataset or a checkpoint) stored as
// page blobs. Fill the fields, then Sign; a parsed manifest is checked with
// Validate and its signature with Verify. All strings must be valid UTF-8
// of at most MaxStringLen bytes.
type Manifest struct {
	ObjectLength uint64      // bytes in the object
	PageSize     uint64      // bytes in every page but the last, 1..MaxPageSize
	MediaType    string      // e.g. application/octet-stream
	Entries      []PageEntry // one per page, Entries[i].Index == i

	// Dataset fields (empty for other objects).
	Name         string   // human name; not an identity
	Version      string   // publisher's version label
	Parents      []ID     // manifests this dataset was derived from
	Transform    string   // how the parents became this dataset (e.g. a code hash)
	Source       Source   // where the bytes came from
	License      string   // SPDX expression
	RecordFormat string   // e.g. tokens-u32, webdataset-tar, jsonl
	Holdout      []uint64 // strictly increasing page indexes held out for evaluation

	PublisherKey ed25519.PublicKey // set by Sign
	Signature    []byte            // set by Sign
}

// Validate checks every field against the limits and the page arithmetic:
// one entry per page, Entries[i].Index == i, each page PageSize bytes but
// the last, lengths summing to ObjectLength, blob namespaces, and holdout
// indexes strictly increasing and in range. It does not check the signature.
func (m *Manifest) Validate() error {
	if m.PageSize == 0 || m.PageSize > MaxPageSize {
		return fmt.Errorf("%w: page size %d not in [1, %d]", ErrInvalidManifest, m.PageSize, MaxPageSize)
	}
	n, _ := Pages(m.ObjectLength, m.PageSize)
	if n > MaxPages {
		return fmt.Errorf("%w: %d pages, max %d", ErrInvalidManifest, n, MaxPages)
	}
	if uint64(len(m.Entries)) != n {
		return fmt.Errorf("%w: %d page entries for %d pages", ErrInvalidManifest, len(m.Entries), n)
	}
	for i, e := range m.Entries {
		start, end, _ := PageRange(m.ObjectLength, m.PageSize, uint64(i))
		if e.Index != uint64(i) {
			return fmt.Errorf("%w: entry %d has index %d", ErrInvalidManifest, i, e.Index)
		}
		if e.Length != end-start {
			return fmt.Errorf("%w: entry %d has length %d, want %d", ErrInvalidManifest, i, e.Length, end-start)
		}
		if err := e.Namespace.ValidateForBlob(); err != nil {
			return fmt.Errorf("%w: entry %d: %w", ErrInvalidManifest, i, err)
		}
	}
	for _, s := range []struct{ name, v string }{
		{"media type", m.MediaType}, {"name", m.Name}, {"version", m.Version},
		{"transform", m.Transform}, {"source URI", m.Source.URI}, {"source revision", m.Source.Revision},
		{"license", m.License}, {"record format", m.RecordFormat},
	} {
		if len(s.v) > MaxStringLen || !utf8.ValidString(s.v) {
			return fmt.Errorf("%w: %s is not UTF-8 of at most %d bytes", ErrInvalidManifest, s.name, MaxStringLen)
		}
	}
	if len(m.Parents) > MaxParents {
		return fmt.Errorf("%w: %d parents, max %d", ErrInvalidManifest, len(m.Parents), MaxParents)
	}
	for i, h := range m.Holdout {
		if h >= n || (i > 0 && h <= m.Holdout[i-1]) {
			return fmt.Errorf("%w: holdout %d: page %d out of order or range", ErrInvalidManifest, i, h)
		}
	}
	return checkSigner(ErrInvalidManifest, "publisher key", m.PublisherKey, m.Signature)
}

// appendBody appends the signed part of the encoding (m must be valid):
//
//	"TSMF" ‖ u8 version ‖ BE64 object length ‖ BE64 page size ‖ str media type ‖
//	str name ‖ str version ‖ BE32 count ‖ parents (32 B each) ‖ str transform ‖
//	str source URI ‖ str source revision ‖ source sha256 (32 B) ‖ str license ‖
//	str record format ‖ BE32 count ‖ holdout (BE64 each) ‖ BE32 count ‖
//	entries (PageEntrySize B each) ‖ publisher key (32 B)
//
// where str is BE32 length ‖ UTF-8 bytes.
func (m *Manifest) appendBody(b []byte) []byte {
	b = appendHeader(b, manifestMagic, ManifestVersion)
	b = binary.BigEndian.AppendUint64(b, m.ObjectLength)
	b = binary.BigEndian.AppendUint64(b, m.PageSize)
	b = appendStr(b, m.MediaType)
	b = appendStr(b, m.Name)
	b = appendStr(b, m.Version)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Parents)))
	for _, p := range m.Parents {
		b = append(b, p[:]...)
	}
	b = appendStr(b, m.Transform)
	b = appendStr(b, m.Source.URI)
	b = appendStr(b, m.Source.Revision)
	b = append(b, m.Source.SHA256[:]...)
	b = appendStr(b, m.License)
	b = appendStr(b, m.RecordFormat)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Holdout)))
	for _, h := range m.Holdout {
		b = binary.BigEndian.AppendUint64(b, h)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Entries)))
	for _, e := range m.Entries {
		b = e.AppendBinary(b)
	}
	return append(b, m.PublisherKey...)
}

// MarshalBinary returns the canonical encoding: the body (see ID) followed
// by 0x00 when unsigned or 0x01 ‖ the 64-byte signature. It fails when the
// manifest is invalid.
func (m *Manifest) MarshalBinary() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b := m.appendBody(nil)
	if m.Signature == nil {
		return append(b, 0), nil
	}
	b = append(b, 1)
	return append(b, m.Signature...), nil
}

// ID returns the manifest's content address, SHA-256 of the encoding
// without the signature. It fails when the manifest is invalid.
func (m *Manifest) ID() (ID, error) { return recordID(m.Validate, m.appendBody) }

// id is ID as the signer takes it.
func (m *Manifest) id() ([32]byte, error) { return m.ID() }

// Sign sets the publisher key to priv's public key and signs the manifest
// ID (with a domain-separation prefix).
func (m *Manifest) Sign(priv ed25519.PrivateKey) error {
	return manifestSigner.sign(priv, &m.PublisherKey, &m.Signature, m.id)
}

// Verify checks that the manifest is valid and signed by PublisherKey.
// It does not say whether that key is one the caller trusts.
func (m *Manifest) Verify() error {
	return manifestSigner.verify(m.PublisherKey, m.Signature, m.id)
}

// ParseManifest decodes a manifest from untrusted bytes. It accepts only the
// canonical encoding (MarshalBinary of the result gives b back) of a valid
// manifest; it does not check the signature (call Verify). It never panics
// and allocates at most in proportion to len(b) ≤ MaxManifestSize.
func ParseManifest(b []byte) (*Manifest, error) {
	d := openRecord(b, MaxManifestSize, ErrInvalidManifest, manifestMagic, ManifestVersion)
	m := &Manifest{}
	m.ObjectLength = d.u64("object length")
	m.PageSize = d.u64("page size")
	m.MediaType = d.str("media type")
	m.Name = d.str("name")
	m.Version = d.str("version")
	if n := d.count(IDSize, MaxParents, "parents"); n > 0 {
		m.Parents = make([]ID, n)
		for i := range m.Parents {
			copy(m.Parents[i][:], d.take(IDSize, "parent"))
		}
	}
	m.Transform = d.str("transform")
	m.Source.URI = d.str("source URI")
	m.Source.Revision = d.str("source revision")
	copy(m.Source.SHA256[:], d.take(sha256.Size, "source sha256"))
	m.License = d.str("license")
	m.RecordFormat = d.str("record format")
	if n := d.count(8, MaxHoldout, "holdout pages"); n > 0 {
		m.Holdout = make([]uint64, n)
		for i := range m.Holdout {
			m.Holdout[i] = d.u64("holdout page")
		}
	}
	if n := d.count(PageEntrySize, MaxPages, "page entries"); n > 0 {
		m.Entries = make([]PageEntry, n)
		for i := range m.Entries {
			p := d.take(PageEntrySize, "page entry")
			if d.err != nil {
				break
			}
			e, err := ParsePageEntry(p)
			if err != nil {
				d.err = err
				break
			}
			m.Entries[i] = e
		}
	}
	m.PublisherKey = d.key("publisher key")
	if flag := d.take(1, "signature flag"); flag != nil {
		switch flag[0] {
		case 0:
		case 1:
			m.Signature = d.signature()
		default:
			d.fail("signature flag %d", flag[0])
		}
	}
	if err := d.close(m.Validate); err != nil {
		return nil, err
	}
	return m, nil
}

// PageRoot commits to a manifest's pages: the RFC-6962 Merkle root over the
// entries' canonical encodings, and the number of pages (which the root
// alone does not bind for a proof; see nmt/merkle).
//
// Holdout carries the manifest's holdout pages, which assignment skips;
// it is not part of the root (the manifest's signature covers it).
type PageRoot struct {
	Hash    [merkle.HashSize]byte // Merkle root of the page entries
	Pages   uint64                // number of page entries
	Holdout []uint64              // strictly increasing page indexes held out (never assigned)
}

// ComputePageRoot returns the page root of a valid manifest.
func (m *Manifest) ComputePageRoot() (PageRoot, error) {
	if err := m.Validate(); err != nil {
		return PageRoot{}, err
	}
	var r PageRoot
	copy(r.Hash[:], merkle.ComputeRoot(m.leaves()))
	r.Pages = uint64(len(m.Entries))
	r.Holdout = slices.Clone(m.Holdout)
	return r, nil
}

func (m *Manifest) leaves() [][]byte {
	buf := make([]byte, 0, len(m.Entries)*PageEntrySize)
	leaves := make([][]byte, len(m.Entries))
	for i, e := range m.Entries {
		buf = e.AppendBinary(buf)
		leaves[i] = buf[i*PageEntrySize : (i+1)*PageEntrySize]
	}
	return leaves
}

// ProvePage returns page i's entry and its Merkle proof to the page root.
// It hashes every entry (O(pages)); to prove many pages, build the
// PageTree once.
func (m *Manifest) ProvePage(i uint64) (PageEntry, merkle.Proof, error) {
	t, err := m.PageTree()
	if err != nil {
		return PageEntry{}, merkle.Proof{}, err
	}
	return t.Prove(i)
}

// VerifyPage checks untrusted page bytes, their entry and the entry's proof
// against a page root the caller trusts (from a verified manifest): length
// and SHA-256 of page against the entry, the proof's index and total against
// the entry's index and the root's page count, and the entry against the
// root. Every failure wraps ErrInvalidPage and says which check failed.
func VerifyPage(root PageRoot, entry PageEntry, proof merkle.Proof, page []byte) error {
	if uint64(len(page)) != entry.Length {
		return fmt.Errorf("%w: page %d is %d bytes, entry says %d", ErrInvalidPage, entry.Index, len(page), entry.Length)
	}
	if sha256.Sum256(page) != entry.SHA256 {
		return fmt.Errorf("%w: page %d bytes do not match the entry's sha256", ErrInvalidPage, entry.Index)
	}
	if proof.Total() < 0 || uint64(proof.Total()) != root.Pages {
		return fmt.Errorf("%w: proof is for %d pages, manifest has %d", ErrInvalidPage, proof.Total(), root.Pages)
	}
	if proof.Index() < 0 || uint64(proof.Index()) != entry.Index {
		return fmt.Errorf("%w: proof is for page %d, entry says %d", ErrInvalidPage, proof.Index(), entry.Index)
	}
	if err := proof.Verify(root.Hash[:], entry.AppendBinary(nil)); err != nil {
		return fmt.Errorf("%w: entry %d not under the manifest root: %w", ErrInvalidPage, entry.Index, err)
	}
	return nil
}
