package share

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Namespace sizes and versions.
const (
	NamespaceVersionSize = 1                                      // bytes
	NamespaceIDSize      = 28                                     // bytes
	NamespaceSize        = NamespaceVersionSize + NamespaceIDSize // bytes
	NamespaceVersionZero = uint8(0)                               // the only version users may write blobs under
	NamespaceVersionMax  = uint8(255)                             // reserved for the secondary reserved namespaces
	V0PrefixSize         = 18                                     // bytes of zeros that begin every version-0 ID
	V0SubIDSize          = NamespaceIDSize - V0PrefixSize         // bytes a user chooses in a version-0 ID
)

// Namespace is a 29-byte Celestia namespace: a version byte followed by a
// 28-byte ID. A Namespace that exists is well formed: its version is 0 or
// 255, and a version-0 ID begins with 18 zero bytes. The zero value is the
// all-zero namespace (version 0, ID 0), which is primary reserved.
type Namespace struct {
	b [NamespaceSize]byte
}

// Reserved namespaces (FORMAT.md §1).
var (
	TxNamespace                     = primaryReserved(0x01)
	IntermediateStateRootsNamespace = primaryReserved(0x02)
	PayForBlobNamespace             = primaryReserved(0x04)
	PayForFibreNamespace            = primaryReserved(0x05)
	PrimaryReservedPaddingNamespace = primaryReserved(0xff)
	MaxPrimaryReservedNamespace     = primaryReserved(0xff)
	MinSecondaryReservedNamespace   = secondaryReserved(0x00)
	TailPaddingNamespace            = secondaryReserved(0xfe)
	ParityNamespace                 = secondaryReserved(0xff)
)

func primaryReserved(last byte) Namespace {
	var n Namespace
	n.b[NamespaceSize-1] = last
	return n
}

func secondaryReserved(last byte) Namespace {
	var n Namespace
	for i := range n.b {
		n.b[i] = 0xff
	}
	n.b[NamespaceSize-1] = last
	return n
}

// NewNamespace builds a namespace from a version and a 28-byte ID.
func NewNamespace(version uint8, id []byte) (Namespace, error) {
	if len(id) != NamespaceIDSize {
		return Namespace{}, fmt.Errorf("%w: ID is %d bytes, want %d", ErrInvalidNamespace, len(id), NamespaceIDSize)
	}
	var n Namespace
	n.b[0] = version
	copy(n.b[1:], id)
	if err := n.validate(); err != nil {
		return Namespace{}, err
	}
	return n, nil
}

// NewV0Namespace builds a version-0 namespace from a sub-ID of at most 10
// bytes, left-padded with zeros.
func NewV0Namespace(subID []byte) (Namespace, error) {
	if len(subID) > V0SubIDSize {
		return Namespace{}, fmt.Errorf("%w: version-0 sub-ID is %d bytes, at most %d allowed", ErrInvalidNamespace, len(subID), V0SubIDSize)
	}
	var n Namespace
	copy(n.b[NamespaceSize-len(subID):], subID)
	return n, nil
}

// NewNamespaceFromBytes parses a 29-byte namespace.
func NewNamespaceFromBytes(b []byte) (Namespace, error) {
	if len(b) != NamespaceSize {
		return Namespace{}, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidNamespace, len(b), NamespaceSize)
	}
	var n Namespace
	copy(n.b[:], b)
	if err := n.validate(); err != nil {
		return Namespace{}, err
	}
	return n, nil
}

func (n Namespace) validate() error {
	switch n.b[0] {
	case NamespaceVersionZero:
		for _, c := range n.b[1 : 1+V0PrefixSize] {
			if c != 0 {
				return fmt.Errorf("%w: version-0 ID %x must start with %d zero bytes", ErrInvalidNamespace, n.b[1:], V0PrefixSize)
			}
		}
		return nil
	case NamespaceVersionMax:
		return nil
	default:
		return fmt.Errorf("%w: unsupported namespace version %d", ErrInvalidNamespace, n.b[0])
	}
}

// Bytes returns a copy of the 29 namespace bytes.
func (n Namespace) Bytes() []byte { b := n.b; return b[:] }

// Array returns the namespace bytes as an array (no allocation).
func (n Namespace) Array() [NamespaceSize]byte { return n.b }

// Version returns the namespace version byte.
func (n Namespace) Version() uint8 { return n.b[0] }

// ID returns a copy of the 28-byte namespace ID.
func (n Namespace) ID() []byte { id := n.b; return id[1:] }

// String returns the namespace as lowercase hex.
func (n Namespace) String() string { return hex.EncodeToString(n.b[:]) }

// Compare orders namespaces by their 29 bytes, version first.
func (n Namespace) Compare(o Namespace) int { return bytes.Compare(n.b[:], o.b[:]) }

// IsPrimaryReserved reports whether n is version 0 and ≤ MaxPrimaryReservedNamespace.
func (n Namespace) IsPrimaryReserved() bool {
	return n.b[0] == NamespaceVersionZero && n.Compare(MaxPrimaryReservedNamespace) <= 0
}

// IsSecondaryReserved reports whether n is ≥ MinSecondaryReservedNamespace.
func (n Namespace) IsSecondaryReserved() bool { return n.Compare(MinSecondaryReservedNamespace) >= 0 }

// IsReserved reports whether n is primary or secondary reserved.
func (n Namespace) IsReserved() bool { return n.IsPrimaryReserved() || n.IsSecondaryReserved() }

// IsParity reports whether n is the parity namespace.
func (n Namespace) IsParity() bool { return n == ParityNamespace }

// IsTailPadding reports whether n is the tail padding namespace.
func (n Namespace) IsTailPadding() bool { return n == TailPaddingNamespace }

// ValidateForBlob reports whether blobs may be written under n: only
// version-0 namespaces that are not reserved.
func (n Namespace) ValidateForBlob() error {
	if n.IsParity() || n.IsTailPadding() {
		return fmt.Errorf("%w: %s: parity and tail padding namespaces are forbidden", ErrInvalidBlobNamespace, n)
	}
	if n.IsReserved() {
		return fmt.Errorf("%w: %s: reserved namespace", ErrInvalidBlobNamespace, n)
	}
	if n.b[0] != NamespaceVersionZero {
		return fmt.Errorf("%w: %s: namespace version %d is not allowed for blobs", ErrInvalidBlobNamespace, n, n.b[0])
	}
	return nil
}

// MarshalJSON encodes the namespace as base64 of its 29 bytes, as
// celestia-node does.
func (n Namespace) MarshalJSON() ([]byte, error) { return json.Marshal(n.b[:]) }

// UnmarshalJSON decodes a base64 namespace and validates it.
func (n *Namespace) UnmarshalJSON(b []byte) error {
	var raw []byte
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidNamespace, err)
	}
	v, err := NewNamespaceFromBytes(raw)
	if err != nil {
		return err
	}
	*n = v
	return nil
}
