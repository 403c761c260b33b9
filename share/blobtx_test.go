package share

import (
	"bytes"
	"errors"
	"runtime"
	"testing"

	"github.com/tessera-da/tessera/internal/vectors"
)

func testNS(t testing.TB, b byte) Namespace {
	t.Helper()
	ns, err := NewV0Namespace(bytes.Repeat([]byte{b}, V0SubIDSize))
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func testBlob(t testing.TB, ns Namespace, n int, version uint8) *Blob {
	t.Helper()
	var signer []byte
	if version != ShareVersionZero {
		signer = bytes.Repeat([]byte{0xa5}, SignerSize)
	}
	if version == ShareVersionTwo {
		n = FibreBlobDataSize
	}
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + n)
	}
	b, err := NewBlob(ns, data, version, signer)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMarshalBlobGolden(t *testing.T) {
	var v struct {
		Blobs []struct {
			Name         string  `json:"name"`
			Namespace    string  `json:"namespace"`
			ShareVersion uint8   `json:"share_version"`
			SignerSeed   string  `json:"signer_seed"`
			DataSeed     string  `json:"data_seed"`
			DataLen      int     `json:"data_len"`
			BlobProtoHex *string `json:"blob_proto_hex"`
		} `json:"blobs"`
	}
	readVector(t, "blob_shares.json", &v)
	n := 0
	for _, vb := range v.Blobs {
		if vb.BlobProtoHex == nil {
			continue
		}
		t.Run(vb.Name, func(t *testing.T) {
			var signer []byte
			if vb.SignerSeed != "" {
				signer = vectors.Bytes(vb.SignerSeed, SignerSize)
			}
			b, err := NewBlob(mustNS(t, vb.Namespace), vectors.Bytes(vb.DataSeed, vb.DataLen), vb.ShareVersion, signer)
			if err != nil {
				t.Fatal(err)
			}
			want := mustHex(t, *vb.BlobProtoHex)
			got := MarshalBlob(b)
			if !bytes.Equal(got, want) {
				t.Fatalf("MarshalBlob\n got %x\nwant %x", got, want)
			}
			back, err := UnmarshalBlob(got)
			if err != nil || !back.Equal(b) {
				t.Fatalf("UnmarshalBlob: %v", err)
			}
		})
		n++
	}
	if n == 0 {
		t.Fatal("no blob_proto_hex vectors")
	}
}

// TestMarshalBlobTxLayout pins the BlobTx encoding byte by byte.
func TestMarshalBlobTxLayout(t *testing.T) {
	b := testBlob(t, testNS(t, 3), 2, ShareVersionZero)
	got, err := MarshalBlobTx([]byte("tx"), b)
	if err != nil {
		t.Fatal(err)
	}
	bp := MarshalBlob(b)
	want := append([]byte{0x0a, 2, 't', 'x', 0x12, byte(len(bp))}, bp...)
	want = append(want, 0x1a, 4, 'B', 'L', 'O', 'B')
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x\nwant %x", got, want)
	}
	// An empty inner tx is omitted, as proto3 omits empty bytes.
	got, err = MarshalBlobTx(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want[4:]) {
		t.Fatalf("empty tx: got %x\nwant %x", got, want[4:])
	}
	btx, isBlob, err := UnmarshalBlobTx(got)
	if err != nil || !isBlob || btx.Tx != nil || len(btx.Blobs) != 1 {
		t.Fatalf("empty tx: %+v %v %v", btx, isBlob, err)
	}
	if _, err := MarshalBlobTx([]byte("tx")); !errors.Is(err, ErrInvalidTx) {
		t.Fatalf("no blobs: %v", err)
	}
	if _, err := MarshalBlobTx([]byte("tx"), nil); !errors.Is(err, ErrInvalidTx) {
		t.Fatalf("nil blob: %v", err)
	}
}

func TestBlobTxRoundTrip(t *testing.T) {
	blobs := []*Blob{
		testBlob(t, testNS(t, 1), 1, ShareVersionZero),
		testBlob(t, testNS(t, 2), 5000, ShareVersionOne),
		testBlob(t, testNS(t, 3), 36, ShareVersionTwo),
		testBlob(t, testNS(t, 1), 200, ShareVersionZero),
	}
	raw, err := MarshalBlobTx(bytes.Repeat([]byte{9}, 300), blobs...)
	if err != nil {
		t.Fatal(err)
	}
	btx, isBlob, err := UnmarshalBlobTx(raw)
	if err != nil || !isBlob {
		t.Fatalf("UnmarshalBlobTx: %v %v", isBlob, err)
	}
	if !bytes.Equal(btx.Tx, bytes.Repeat([]byte{9}, 300)) || len(btx.Blobs) != len(blobs) {
		t.Fatalf("decoded %d blobs", len(btx.Blobs))
	}
	for i := range blobs {
		if !btx.Blobs[i].Equal(blobs[i]) {
			t.Fatalf("blob %d differs", i)
		}
	}
	again, err := MarshalBlobTx(btx.Tx, btx.Blobs...)
	if err != nil || !bytes.Equal(again, raw) {
		t.Fatalf("re-marshal differs: %v", err)
	}
	if !IsBlobTx(raw) || IsBlobTx(btx.Tx) {
		t.Fatal("IsBlobTx")
	}
}

// blobTxParts builds a BlobTx by hand from encoded fields.
func field(num, typ int, payload []byte) []byte {
	b := appendTag(nil, num, typ)
	if typ == wireBytes {
		b = appendVarint(b, uint64(len(payload)))
	}
	return append(b, payload...)
}

func varintField(num int, v uint64) []byte { return appendVarint(appendTag(nil, num, wireVarint), v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestUnmarshalBlobTx(t *testing.T) {
	ns := testNS(t, 7)
	id := ns.ID()
	signer := bytes.Repeat([]byte{1}, SignerSize)
	blobV0 := cat(field(1, wireBytes, id), field(2, wireBytes, []byte("data")))
	blobV1 := cat(blobV0, varintField(3, 1), field(5, wireBytes, signer))
	typeID := field(3, wireBytes, []byte(BlobTxTypeID))
	inner := field(1, wireBytes, []byte("inner tx"))
	clean := cat(inner, field(2, wireBytes, blobV0), typeID)
	nested := cat(field(1, wireBytes, clean), field(2, wireBytes, blobV0), typeID)

	tests := []struct {
		name    string
		tx      []byte
		isBlob  bool
		wantErr error // nil: success
	}{
		{"clean", clean, true, nil},
		{"v1 blob", cat(inner, field(2, wireBytes, blobV1), typeID), true, nil},
		{"two blobs", cat(inner, field(2, wireBytes, blobV0), field(2, wireBytes, blobV1), typeID), true, nil},
		// v4.0.0 accepts duplicate singular fields (last wins) and any order.
		{"duplicate type_id", cat(clean, typeID), true, nil},
		{"type_id first", cat(typeID, inner, field(2, wireBytes, blobV0)), true, nil},
		{"blob fields reordered", cat(inner, field(2, wireBytes, cat(field(2, wireBytes, []byte("d")), field(1, wireBytes, id))), typeID), true, nil},
		{"empty signer field is no signer", cat(inner, field(2, wireBytes, cat(blobV0, field(5, wireBytes, nil))), typeID), true, nil},
		{"share version keeps low 32 bits", cat(inner, field(2, wireBytes, cat(blobV0, varintField(3, 1<<32))), typeID), true, nil},
		{"non-minimal varint length", cat([]byte{0x0a, 0x88, 0x00}, []byte("inner tx"), field(2, wireBytes, blobV0), typeID), true, nil},

		// Not a BlobTx: an ordinary tx.
		{"empty", nil, false, ErrNotBlobTx},
		{"no type id", cat(inner, field(2, wireBytes, blobV0)), false, ErrNotBlobTx},
		{"wrong type id", cat(inner, field(2, wireBytes, blobV0), field(3, wireBytes, []byte("BLOC"))), false, ErrNotBlobTx},
		{"type id overwritten", cat(clean, field(3, wireBytes, []byte("X"))), false, ErrNotBlobTx},
		{"type id not UTF-8", cat(clean, field(3, wireBytes, []byte{0xff})), false, ErrNotBlobTx},
		{"truncated", clean[:len(clean)-1], false, ErrNotBlobTx},
		{"length overruns", cat(clean, []byte{0x0a, 0x05, 1}), false, ErrNotBlobTx},
		{"varint overflow", cat(clean, []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}), false, ErrNotBlobTx},
		{"field number 0", cat(clean, []byte{0x02, 0x00}), false, ErrNotBlobTx},
		{"wire type 6", cat(clean, []byte{0x0e}), false, ErrNotBlobTx},
		{"stray end group", cat(clean, []byte{0x0c}), false, ErrNotBlobTx},
		{"unclosed group", cat(clean, []byte{0x0b}), false, ErrNotBlobTx},
		{"malformed blob", cat(inner, field(2, wireBytes, []byte{0x0a, 0x10}), typeID), false, ErrNotBlobTx},

		// Claims to be a BlobTx but is malformed.
		{"known field wrong wire type", cat(clean, []byte{0x10, 0x33}), true, ErrNonCanonicalBlobTx},
		{"unknown wrapper field", cat(clean, []byte{0x78, 0x01}), true, ErrNonCanonicalBlobTx},
		{"unknown group field", cat(clean, []byte{0x7b, 0x08, 0x01, 0x7c}), true, ErrNonCanonicalBlobTx},
		{"unknown blob field", cat(inner, field(2, wireBytes, cat(blobV0, []byte{0x78, 0x01})), typeID), true, ErrNonCanonicalBlobTx},
		{"blob field wrong wire type", cat(inner, field(2, wireBytes, cat(blobV0, field(3, wireBytes, nil))), typeID), true, ErrNonCanonicalBlobTx},
		{"nested", nested, true, ErrNestedBlobTx},
		{"no blobs", cat(inner, typeID), true, ErrInvalidTx},
		{"empty blob data", cat(inner, field(2, wireBytes, field(1, wireBytes, id)), typeID), true, ErrInvalidBlob},
		{"short namespace id", cat(inner, field(2, wireBytes, cat(field(1, wireBytes, id[1:]), field(2, wireBytes, []byte("d")))), typeID), true, ErrInvalidBlob},
		{"namespace version 256", cat(inner, field(2, wireBytes, cat(blobV0, varintField(4, 256))), typeID), true, ErrInvalidBlob},
		{"namespace version 255", cat(inner, field(2, wireBytes, cat(blobV0, varintField(4, 255))), typeID), true, ErrInvalidBlob},
		{"share version 128", cat(inner, field(2, wireBytes, cat(blobV0, varintField(3, 128))), typeID), true, ErrInvalidBlob},
		{"share version 3", cat(inner, field(2, wireBytes, cat(blobV0, varintField(3, 3))), typeID), true, ErrInvalidBlob},
		{"v1 without signer", cat(inner, field(2, wireBytes, cat(blobV0, varintField(3, 1))), typeID), true, ErrInvalidBlob},
		{"v0 with signer", cat(inner, field(2, wireBytes, cat(blobV0, field(5, wireBytes, signer))), typeID), true, ErrInvalidBlob},
		{"reserved namespace", cat(inner, field(2, wireBytes, cat(field(1, wireBytes, TxNamespace.ID()), field(2, wireBytes, []byte("d")))), typeID), true, ErrInvalidBlob},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			btx, isBlob, err := UnmarshalBlobTx(tc.tx)
			if isBlob != tc.isBlob {
				t.Fatalf("isBlobTx = %v, want %v (err %v)", isBlob, tc.isBlob, err)
			}
			if tc.wantErr == nil {
				if err != nil || btx == nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || !errors.Is(err, ErrInvalidTx) || btx != nil {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestUnmarshalBlobTxFieldValues(t *testing.T) {
	ns := testNS(t, 7)
	blob := cat(field(1, wireBytes, ns.ID()), field(2, wireBytes, []byte("old")), field(2, wireBytes, []byte("new")), varintField(3, 1<<32))
	tx := cat(field(1, wireBytes, []byte("a")), field(1, wireBytes, []byte("b")), field(2, wireBytes, blob), field(3, wireBytes, []byte(BlobTxTypeID)))
	btx, _, err := UnmarshalBlobTx(tx)
	if err != nil {
		t.Fatal(err)
	}
	if string(btx.Tx) != "b" || string(btx.Blobs[0].Data()) != "new" || btx.Blobs[0].ShareVersion() != 0 {
		t.Fatalf("last occurrence must win: %q %q v%d", btx.Tx, btx.Blobs[0].Data(), btx.Blobs[0].ShareVersion())
	}
}

func TestIndexWrapper(t *testing.T) {
	got := MarshalIndexWrapper([]byte("pfb"), 1, 300, worstCaseShareIndex)
	want := cat(field(1, wireBytes, []byte("pfb")),
		field(2, wireBytes, cat(appendVarint(nil, 1), appendVarint(nil, 300), appendVarint(nil, worstCaseShareIndex))),
		field(3, wireBytes, []byte(IndexWrapperTypeID)))
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x\nwant %x", got, want)
	}
	if n := indexWrapperSize(3, []uint32{1, 300, worstCaseShareIndex}); n != len(got) {
		t.Fatalf("indexWrapperSize = %d, want %d", n, len(got))
	}
	w, err := UnmarshalIndexWrapper(got)
	if err != nil || string(w.Tx) != "pfb" || len(w.ShareIndexes) != 3 || w.ShareIndexes[2] != worstCaseShareIndex {
		t.Fatalf("round trip: %+v %v", w, err)
	}
	if !bytes.Equal(w.Marshal(), got) {
		t.Fatal("Marshal differs")
	}
	// No share indexes: the packed field is omitted.
	if got := MarshalIndexWrapper(nil); !bytes.Equal(got, field(3, wireBytes, []byte(IndexWrapperTypeID))) {
		t.Fatalf("empty: %x", got)
	}

	typeID := field(3, wireBytes, []byte(IndexWrapperTypeID))
	tests := []struct {
		name string
		in   []byte
		want []uint32
		ok   bool
	}{
		{"unpacked", cat(varintField(2, 5), varintField(2, 6), typeID), []uint32{5, 6}, true},
		{"mixed", cat(field(2, wireBytes, []byte{1, 2}), varintField(2, 3), typeID), []uint32{1, 2, 3}, true},
		{"truncated to 32 bits", cat(varintField(2, 1<<32|7), typeID), []uint32{7}, true},
		{"unknown field ignored", cat(varintField(9, 1), typeID), nil, true},
		{"no type id", varintField(2, 5), nil, false},
		{"wrong type id", cat(varintField(2, 5), field(3, wireBytes, []byte("BLOB"))), nil, false},
		{"bad packed varint", cat(field(2, wireBytes, []byte{0x80}), typeID), nil, false},
		{"truncated", typeID[:len(typeID)-1], nil, false},
		{"invalid UTF-8 type id", field(3, wireBytes, []byte{0xc0}), nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := UnmarshalIndexWrapper(tc.in)
			if !tc.ok {
				if !errors.Is(err, ErrInvalidTx) {
					t.Fatalf("err = %v, want ErrInvalidTx", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(w.ShareIndexes) != len(tc.want) {
				t.Fatalf("indexes %v, want %v", w.ShareIndexes, tc.want)
			}
			for i := range tc.want {
				if w.ShareIndexes[i] != tc.want[i] {
					t.Fatalf("indexes %v, want %v", w.ShareIndexes, tc.want)
				}
			}
		})
	}
}

// TestUnmarshalBlobTxMemory: a tx of many empty blob fields must not make
// the decoder allocate in proportion to their number.
func TestUnmarshalBlobTxMemory(t *testing.T) {
	tx := cat(bytes.Repeat([]byte{0x12, 0x00}, 1<<20), field(3, wireBytes, []byte(BlobTxTypeID)))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, isBlob, err := UnmarshalBlobTx(tx)
	runtime.ReadMemStats(&after)
	if !isBlob || !errors.Is(err, ErrInvalidBlob) {
		t.Fatalf("isBlob %v, err %v", isBlob, err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Fatalf("%d bytes allocated decoding a %d-byte tx", d, len(tx))
	}
}
