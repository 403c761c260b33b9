package dataset

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/tessera-da/tessera/share"
)

// MaxManifestJSONSize bounds the JSON form UnmarshalJSON accepts.
const MaxManifestJSONSize = 4 * MaxManifestSize // bytes

// hexBytes is a byte string in JSON as lower-case hex.
type hexBytes []byte

func (h hexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	if err != nil {
		return err
	}
	*h = d
	return nil
}

type pageEntryJSON struct {
	Index      uint64          `json:"index,string"`
	Height     uint64          `json:"height,string"`
	Namespace  share.Namespace `json:"namespace"`
	Commitment hexBytes        `json:"commitment"`
	Length     uint64          `json:"length,string"`
	SHA256     hexBytes        `json:"sha256"`
}

type sourceJSON struct {
	URI      string   `json:"uri,omitempty"`
	Revision string   `json:"revision,omitempty"`
	SHA256   hexBytes `json:"sha256"`
}

type manifestJSON struct {
	Version      int             `json:"manifest_version"`
	ObjectLength uint64          `json:"object_length,string"`
	PageSize     uint64          `json:"page_size,string"`
	MediaType    string          `json:"media_type"`
	Entries      []pageEntryJSON `json:"pages"`
	Name         string          `json:"name,omitempty"`
	DataVersion  string          `json:"version,omitempty"`
	Parents      []hexBytes      `json:"parents,omitempty"`
	Transform    string          `json:"transform,omitempty"`
	Source       sourceJSON      `json:"source"`
	License      string          `json:"license,omitempty"`
	RecordFormat string          `json:"record_format,omitempty"`
	Holdout      []uint64        `json:"holdout,omitempty"`
	PublisherKey hexBytes        `json:"publisher_key"`
	Signature    hexBytes        `json:"signature,omitempty"`
}

// MarshalJSON encodes a valid manifest as JSON: byte fields in hex, uint64
// fields as decimal strings. It carries the same fields as the binary
// encoding; the ID and signature are always over the binary encoding.
func (m *Manifest) MarshalJSON() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	j := manifestJSON{
		Version: ManifestVersion, ObjectLength: m.ObjectLength, PageSize: m.PageSize,
		MediaType: m.MediaType, Name: m.Name, DataVersion: m.Version, Transform: m.Transform,
		Source:  sourceJSON{URI: m.Source.URI, Revision: m.Source.Revision, SHA256: m.Source.SHA256[:]},
		License: m.License, RecordFormat: m.RecordFormat, Holdout: m.Holdout,
		PublisherKey: hexBytes(m.PublisherKey), Signature: m.Signature,
		Entries: make([]pageEntryJSON, len(m.Entries)),
	}
	for i, e := range m.Entries {
		j.Entries[i] = pageEntryJSON{e.Index, e.Height, e.Namespace, e.Commitment[:], e.Length, e.SHA256[:]}
	}
	for _, p := range m.Parents {
		j.Parents = append(j.Parents, p[:])
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes untrusted JSON written by MarshalJSON and validates
// the result (not the signature: call Verify). On error m is unchanged.
func (m *Manifest) UnmarshalJSON(b []byte) error {
	if len(b) > MaxManifestJSONSize {
		return fmt.Errorf("%w: JSON is %d bytes, max %d", ErrInvalidManifest, len(b), MaxManifestJSONSize)
	}
	var j manifestJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidManifest, err)
	}
	if j.Version != ManifestVersion {
		return fmt.Errorf("%w: manifest version %d, want %d", ErrInvalidManifest, j.Version, ManifestVersion)
	}
	fixed := func(dst []byte, src hexBytes, what string) error {
		if len(src) != len(dst) {
			return fmt.Errorf("%w: %s is %d bytes, want %d", ErrInvalidManifest, what, len(src), len(dst))
		}
		copy(dst, src)
		return nil
	}
	out := Manifest{
		ObjectLength: j.ObjectLength, PageSize: j.PageSize, MediaType: j.MediaType,
		Name: j.Name, Version: j.DataVersion, Transform: j.Transform,
		Source:  Source{URI: j.Source.URI, Revision: j.Source.Revision},
		License: j.License, RecordFormat: j.RecordFormat, Holdout: j.Holdout,
		PublisherKey: ed25519.PublicKey(j.PublisherKey),
	}
	if len(j.Signature) > 0 {
		out.Signature = j.Signature
	}
	if err := fixed(out.Source.SHA256[:], j.Source.SHA256, "source sha256"); err != nil {
		return err
	}
	if len(j.Parents) > MaxParents || len(j.Entries) > MaxPages {
		return fmt.Errorf("%w: too many parents or pages", ErrInvalidManifest)
	}
	out.Parents = make([]ID, len(j.Parents))
	for i, p := range j.Parents {
		if err := fixed(out.Parents[i][:], p, "parent"); err != nil {
			return err
		}
	}
	out.Entries = make([]PageEntry, len(j.Entries))
	for i, e := range j.Entries {
		out.Entries[i] = PageEntry{Index: e.Index, Height: e.Height, Namespace: e.Namespace, Length: e.Length}
		if err := fixed(out.Entries[i].Commitment[:], e.Commitment, "commitment"); err != nil {
			return err
		}
		if err := fixed(out.Entries[i].SHA256[:], e.SHA256, "page sha256"); err != nil {
			return err
		}
	}
	if len(out.Parents) == 0 {
		out.Parents = nil
	}
	if len(out.Entries) == 0 {
		out.Entries = nil
	}
	if err := out.Validate(); err != nil {
		return err
	}
	*m = out
	return nil
}
