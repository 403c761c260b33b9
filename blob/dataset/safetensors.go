package dataset

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sort"
	"unicode/utf8"
)

// ErrInvalidSafetensors: a safetensors file whose header is malformed,
// exceeds a limit, or names tensors outside the file, overlapping, or whose
// byte ranges do not match their dtype and shape.
var ErrInvalidSafetensors = errors.New("dataset: invalid safetensors file")

// Limits of a safetensors header. The header cap is a sixth of the
// reference implementation's 100 MB: a header of 16 MiB already describes
// far more tensors than MaxTensors.
const (
	SafetensorsPrefixSize = 8        // bytes of the little-endian header length
	MaxSafetensorsHeader  = 16 << 20 // bytes of the JSON header
	MaxTensors            = 1 << 15  // tensors in one file (and one checkpoint record)
	MaxTensorRank         = 16       // dimensions of one tensor
	MaxTensorNameLen      = 1024     // bytes of a tensor name
	MaxMetadataEntries    = 1024     // entries of __metadata__
)

// safetensorsDTypeSizes maps every safetensors dtype of whole bytes to its
// element size in bytes. Sub-byte dtypes are not supported.
var safetensorsDTypeSizes = map[string]uint64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8, "C64": 8,
}

// DTypeSize returns the element size in bytes of a safetensors dtype and
// whether the dtype is supported.
func DTypeSize(dtype string) (uint64, bool) {
	n, ok := safetensorsDTypeSizes[dtype]
	return n, ok
}

// tensorBytes returns the byte size of a dtype×shape tensor, failing on an
// unknown dtype, a rank above MaxTensorRank or overflow.
func tensorBytes(dtype string, shape []uint64) (uint64, error) {
	size, ok := DTypeSize(dtype)
	if !ok {
		return 0, fmt.Errorf("unknown dtype %q", dtype)
	}
	if len(shape) > MaxTensorRank {
		return 0, fmt.Errorf("rank %d, max %d", len(shape), MaxTensorRank)
	}
	for _, d := range shape {
		hi, lo := bits.Mul64(size, d)
		if hi != 0 {
			return 0, fmt.Errorf("shape %v overflows", shape)
		}
		size = lo
	}
	return size, nil
}

// SafetensorsHeader is the parsed header of a safetensors file. Tensors
// are sorted by Start, then End, then Name; their ranges are absolute
// offsets in the file. Their SHA256 fields are zero: the header does not
// hash the bytes (see Tensor).
type SafetensorsHeader struct {
	HeaderLen uint64            // bytes of the JSON header
	DataStart uint64            // SafetensorsPrefixSize + HeaderLen
	Tensors   []Tensor          // the tensor index, without hashes
	Metadata  map[string]string // the optional __metadata__ map
}

// SafetensorsHeaderLen reads the header length from the first
// SafetensorsPrefixSize bytes of a file of fileSize bytes and checks it
// against MaxSafetensorsHeader and the file size.
func SafetensorsHeaderLen(prefix []byte, fileSize uint64) (uint64, error) {
	if len(prefix) < SafetensorsPrefixSize || fileSize < SafetensorsPrefixSize {
		return 0, fmt.Errorf("%w: shorter than the %d-byte header length", ErrInvalidSafetensors, SafetensorsPrefixSize)
	}
	n := binary.LittleEndian.Uint64(prefix)
	if n > MaxSafetensorsHeader {
		return 0, fmt.Errorf("%w: header of %d bytes, max %d", ErrInvalidSafetensors, n, MaxSafetensorsHeader)
	}
	if n > fileSize-SafetensorsPrefixSize {
		return 0, fmt.Errorf("%w: header of %d bytes in a file of %d", ErrInvalidSafetensors, n, fileSize)
	}
	return n, nil
}

type safetensorsEntry struct {
	DType       string   `json:"dtype"`
	Shape       []uint64 `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// ParseSafetensorsHeader parses the header of a safetensors file of
// fileSize bytes from its first bytes b (at least the length prefix and the
// header; any bytes after the header are ignored). It checks the header
// length against MaxSafetensorsHeader and the file, that the header is a
// JSON object without duplicate keys, that every tensor has a supported
// dtype, a shape of at most MaxTensorRank dimensions and data offsets
// [begin, end) inside the data section whose length is dtype size × the
// product of the shape, and that no two tensors overlap. It never panics.
func ParseSafetensorsHeader(b []byte, fileSize uint64) (*SafetensorsHeader, error) {
	n, err := SafetensorsHeaderLen(b, fileSize)
	if err != nil {
		return nil, err
	}
	if uint64(len(b))-SafetensorsPrefixSize < n {
		return nil, fmt.Errorf("%w: have %d of the header's %d bytes", ErrInvalidSafetensors, len(b)-SafetensorsPrefixSize, n)
	}
	h := &SafetensorsHeader{HeaderLen: n, DataStart: SafetensorsPrefixSize + n}
	dataLen := fileSize - h.DataStart
	js := b[SafetensorsPrefixSize : SafetensorsPrefixSize+n]
	if !utf8.Valid(js) {
		return nil, fmt.Errorf("%w: header is not UTF-8", ErrInvalidSafetensors)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrInvalidSafetensors)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: header JSON: %w", ErrInvalidSafetensors, err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: header key is not a string", ErrInvalidSafetensors)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: key %q appears twice", ErrInvalidSafetensors, name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: header JSON at %q: %w", ErrInvalidSafetensors, name, err)
		}
		if name == "__metadata__" {
			if err := json.Unmarshal(raw, &h.Metadata); err != nil {
				return nil, fmt.Errorf("%w: __metadata__ is not a map of strings: %w", ErrInvalidSafetensors, err)
			}
			if len(h.Metadata) > MaxMetadataEntries {
				return nil, fmt.Errorf("%w: __metadata__ has %d entries, max %d", ErrInvalidSafetensors, len(h.Metadata), MaxMetadataEntries)
			}
			continue
		}
		if len(h.Tensors) == MaxTensors {
			return nil, fmt.Errorf("%w: more than %d tensors", ErrInvalidSafetensors, MaxTensors)
		}
		if name == "" || len(name) > MaxTensorNameLen {
			return nil, fmt.Errorf("%w: tensor name of %d bytes not in [1, %d]", ErrInvalidSafetensors, len(name), MaxTensorNameLen)
		}
		var e safetensorsEntry
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&e); err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %w", ErrInvalidSafetensors, name, err)
		}
		if e.Shape == nil || len(e.DataOffsets) != 2 {
			return nil, fmt.Errorf("%w: tensor %q needs a shape and two data offsets", ErrInvalidSafetensors, name)
		}
		size, err := tensorBytes(e.DType, e.Shape)
		if err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %w", ErrInvalidSafetensors, name, err)
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin > end || end > dataLen {
			return nil, fmt.Errorf("%w: tensor %q: offsets [%d, %d) outside the %d-byte data section", ErrInvalidSafetensors, name, begin, end, dataLen)
		}
		if end-begin != size {
			return nil, fmt.Errorf("%w: tensor %q: %d bytes at offsets [%d, %d), %s%v needs %d", ErrInvalidSafetensors, name, end-begin, begin, end, e.DType, e.Shape, size)
		}
		h.Tensors = append(h.Tensors, Tensor{Name: name, DType: e.DType, Shape: e.Shape, Start: h.DataStart + begin, End: h.DataStart + end})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: header JSON: %w", ErrInvalidSafetensors, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the header object", ErrInvalidSafetensors)
	}
	sortTensors(h.Tensors)
	for i := 1; i < len(h.Tensors); i++ {
		if p, t := h.Tensors[i-1], h.Tensors[i]; t.Start < p.End {
			return nil, fmt.Errorf("%w: tensors %q and %q overlap", ErrInvalidSafetensors, p.Name, t.Name)
		}
	}
	return h, nil
}

// sortTensors puts tensors in the canonical order: by Start, End, Name.
func sortTensors(ts []Tensor) {
	sort.Slice(ts, func(i, j int) bool { return tensorLess(ts[i], ts[j]) })
}

func tensorLess(a, b Tensor) bool {
	if a.Start != b.Start {
		return a.Start < b.Start
	}
	if a.End != b.End {
		return a.End < b.End
	}
	return a.Name < b.Name
}
