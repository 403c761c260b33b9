package store

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// The fuzz targets feed arbitrary payloads, wrapped in a valid envelope so
// that the fuzzer reaches the payload decoders, to each decoder. A decoder
// must not panic, must fail only with ErrCorrupt, and whatever it accepts
// must encode back to the same bytes (for ODS chunks, to the same shares).

func sealed(kind byte, payload []byte) []byte {
	return seal(append(newValue(kind, len(payload)), payload...))
}

func payloadOf(t testing.TB, v []byte, kind byte) []byte {
	p, err := unseal(v, kind)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func checkDecodeErr(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("decoder error %v does not wrap ErrCorrupt", err)
	}
}

func FuzzUnseal(f *testing.F) {
	f.Add(encodeState(state{nextID: 1}), kindState)
	f.Add([]byte{}, byte(0))
	f.Add([]byte{kindUser, 0, 0, 0, 0}, kindUser)
	f.Fuzz(func(t *testing.T, v []byte, kind byte) {
		p, err := unseal(v, kind)
		checkDecodeErr(t, err)
		if err == nil && !bytes.Equal(sealed(kind, p), v) {
			t.Fatal("unseal/seal round trip differs")
		}
	})
}

func FuzzDecodeVersion(f *testing.F) {
	f.Add(payloadOf(f, encodeVersion(schemaVersion), kindVersion))
	f.Fuzz(func(t *testing.T, p []byte) {
		v := sealed(kindVersion, p)
		x, err := decodeVersion(v)
		checkDecodeErr(t, err)
		if err == nil && !bytes.Equal(encodeVersion(x), v) {
			t.Fatal("round trip differs")
		}
	})
}

func FuzzDecodeState(f *testing.F) {
	f.Add(payloadOf(f, encodeState(state{nextID: 1}), kindState))
	f.Add(payloadOf(f, encodeState(state{head: 10, nextID: 8, heights: 7}), kindState))
	f.Fuzz(func(t *testing.T, p []byte) {
		v := sealed(kindState, p)
		st, err := decodeState(v)
		checkDecodeErr(t, err)
		if err == nil && !bytes.Equal(encodeState(st), v) {
			t.Fatal("round trip differs")
		}
	})
}

func FuzzDecodeHeader(f *testing.F) {
	b := testBlock(f, nil, 4, nil, nil)
	f.Add(payloadOf(f, encodeHeader(b.Header), kindHeader))
	f.Fuzz(func(t *testing.T, p []byte) {
		v := sealed(kindHeader, p)
		h, err := decodeHeader(v)
		checkDecodeErr(t, err)
		if err == nil && !bytes.Equal(encodeHeader(h), v) {
			t.Fatal("round trip differs")
		}
	})
}

func FuzzDecodeHeight(f *testing.F) {
	f.Add(payloadOf(f, encodeHeight(42), kindHashIndex))
	f.Fuzz(func(t *testing.T, p []byte) {
		v := sealed(kindHashIndex, p)
		h, err := decodeHeight(v)
		checkDecodeErr(t, err)
		if err == nil && !bytes.Equal(encodeHeight(h), v) {
			t.Fatal("round trip differs")
		}
	})
}

func FuzzDecodeODSChunk(f *testing.F) {
	b := testBlock(f, nil, 8, []blobSpec{{ns: 7, shares: 5}, {ns: 8, shares: 20}}, nil)
	f.Add(payloadOf(f, appendODSChunk(nil, b.ODS), kindODSChunk), uint16(63))
	f.Add(payloadOf(f, appendODSChunk(nil, b.ODS[:3*ShareSize]), kindODSChunk), uint16(2))
	f.Add([]byte{0x03}, uint16(0))
	f.Fuzz(func(t *testing.T, p []byte, shares uint16) {
		n := int(shares)%ChunkShares + 1
		dst := make([]byte, n*ShareSize)
		err := decodeODSChunk(sealed(kindODSChunk, p), dst)
		checkDecodeErr(t, err)
		if err != nil {
			return
		}
		again := make([]byte, len(dst))
		enc := appendODSChunk(nil, dst)
		if len(enc) > maxODSChunkSize(n) {
			t.Fatalf("chunk of %d shares encoded in %d bytes, bound %d", n, len(enc), maxODSChunkSize(n))
		}
		if err := decodeODSChunk(enc, again); err != nil || !bytes.Equal(again, dst) {
			t.Fatalf("re-encoded chunk decodes to different shares: %v", err)
		}
	})
}

func FuzzDecodeBlobList(f *testing.F) {
	b := testBlock(f, nil, 8, []blobSpec{{ns: 7, shares: 5}, {ns: 8, shares: 20, tx: 1}}, nil)
	f.Add(payloadOf(f, encodeBlobList(b.Blobs), kindBlobList))
	f.Add(payloadOf(f, encodeBlobList(nil), kindBlobList))
	f.Fuzz(func(t *testing.T, p []byte) {
		v := sealed(kindBlobList, p)
		list, err := decodeBlobList(v)
		checkDecodeErr(t, err)
		if err == nil && !bytes.Equal(encodeBlobList(list), v) {
			t.Fatal("round trip differs")
		}
	})
}

func FuzzDecodeCommitmentEntry(f *testing.F) {
	b := testBlock(f, nil, 8, []blobSpec{{ns: 7, shares: 5, tx: 3, idx: 2}}, nil)
	f.Add(payloadOf(f, encodeCommitmentEntry(&b.Blobs[0]), kindCommitment))
	f.Fuzz(func(t *testing.T, p []byte) {
		v := sealed(kindCommitment, p)
		e, err := decodeCommitmentEntry(v)
		checkDecodeErr(t, err)
		if err == nil && !bytes.Equal(encodeCommitmentEntry(&e), v) {
			t.Fatal("round trip differs")
		}
	})
}

func FuzzDecodeQueued(f *testing.F) {
	q := QueuedSubmission{Enqueued: time.Unix(1_700_000_000, 5), Submission: Submission{Blobs: []byte("blobs"), Signer: []byte("signer")}}
	f.Add(payloadOf(f, encodeQueued(&q), kindQueued))
	q.Signer, q.Enqueued = nil, time.Time{}
	f.Add(payloadOf(f, encodeQueued(&q), kindQueued))
	f.Fuzz(func(t *testing.T, p []byte) {
		v := sealed(kindQueued, p)
		q, err := decodeQueued(7, 5, v)
		checkDecodeErr(t, err)
		if err == nil && (q.ID != 7 || q.Size != 5 || !bytes.Equal(encodeQueued(&q), v)) {
			t.Fatal("round trip differs")
		}
	})
}

func FuzzParseQueueKey(f *testing.F) {
	f.Add(queueKey(1, 100))
	f.Add(queueIDPrefix(1))
	f.Fuzz(func(t *testing.T, k []byte) {
		id, size, err := parseQueueKey(k)
		checkDecodeErr(t, err)
		if err == nil && !bytes.Equal(queueKey(id, size), k) {
			t.Fatal("round trip differs")
		}
	})
}

func FuzzDecodeReceipt(f *testing.F) {
	f.Add(payloadOf(f, encodeReceipt(&Receipt{State: ReceiptIncluded, Height: 3, Blobs: []BlobReceipt{{Namespace: ns(7), EDSIndex: 9}, {}}}), kindReceipt))
	f.Add(payloadOf(f, encodeReceipt(&Receipt{State: ReceiptFailed, Reason: "too big"}), kindReceipt))
	f.Fuzz(func(t *testing.T, p []byte) {
		v := sealed(kindReceipt, p)
		r, err := decodeReceipt(5, v)
		checkDecodeErr(t, err)
		if err == nil && (r.ID != 5 || !bytes.Equal(encodeReceipt(&r), v)) {
			t.Fatal("round trip differs")
		}
	})
}

func FuzzDecodePin(f *testing.F) {
	f.Add(payloadOf(f, encodePin(&Pin{Kind: PinNamespace, Namespace: ns(7), ID: "p", Created: time.Unix(5, 6)}), kindPin), "p")
	f.Add(payloadOf(f, encodePin(&Pin{Kind: PinDataset, ID: "d"}), kindPin), "")
	f.Fuzz(func(t *testing.T, p []byte, id string) {
		v := sealed(kindPin, p)
		pin, err := decodePin(id, v)
		checkDecodeErr(t, err)
		if err == nil && (pin.ID != id || !bytes.Equal(encodePin(&pin), v)) {
			t.Fatal("round trip differs")
		}
	})
}

func FuzzDecodeUser(f *testing.F) {
	f.Add([]byte("value"))
	f.Fuzz(func(t *testing.T, p []byte) {
		v := sealed(kindUser, p)
		got, err := decodeUser(v)
		if err != nil || !bytes.Equal(got, p) || !bytes.Equal(encodeUser(got), v) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
