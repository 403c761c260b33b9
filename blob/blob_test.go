package blob

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/tessera-da/tessera/share"
)

func testNS(t testing.TB, b byte) share.Namespace {
	t.Helper()
	ns, err := share.NewV0Namespace([]byte{1, b})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestMerkleMountainRangeSizes(t *testing.T) {
	tests := []struct {
		total, max int
		want       []int
	}{
		{11, 1, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{11, 4, []int{4, 4, 2, 1}},
		{8, 4, []int{4, 4}},
		{3, 4, []int{2, 1}},
		{0, 4, nil},
	}
	for _, tt := range tests {
		got := MerkleMountainRangeSizes(tt.total, tt.max)
		if len(got) != len(tt.want) {
			t.Fatalf("MMR(%d,%d) = %v, want %v", tt.total, tt.max, got, tt.want)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Fatalf("MMR(%d,%d) = %v, want %v", tt.total, tt.max, got, tt.want)
			}
		}
	}
}

func TestParallelCommitmentMatchesSerial(t *testing.T) {
	data := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 300000)
	b, err := share.NewV0Blob(testNS(t, 1), data)
	if err != nil {
		t.Fatal(err)
	}
	par, err := ComputeCommitment(b, 64)
	if err != nil {
		t.Fatal(err)
	}
	// One subtree per root in a single goroutine: the serial reference.
	roots, err := ComputeSubtreeRoots(b, 64)
	if err != nil {
		t.Fatal(err)
	}
	var serial [][]byte
	shares := b.ToShares()
	off := 0
	for _, size := range MerkleMountainRangeSizes(len(shares), share.SubTreeWidth(len(shares), 64)) {
		r, err := naiveRoot(b.Namespace(), shares[off:off+size])
		if err != nil {
			t.Fatal(err)
		}
		serial = append(serial, r)
		off += size
	}
	if len(roots) != len(serial) {
		t.Fatalf("%d roots, want %d", len(roots), len(serial))
	}
	for i := range roots {
		if !bytes.Equal(roots[i], serial[i]) {
			t.Fatalf("subtree root %d differs between parallel and serial", i)
		}
	}
	if len(par) != CommitmentSize {
		t.Fatalf("commitment is %d bytes", len(par))
	}
}

func TestBlobJSON(t *testing.T) {
	b, err := New(testNS(t, 2), []byte("hello"), share.ShareVersionOne, bytes.Repeat([]byte{9}, 20))
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(b.WithIndex(7))
	if err != nil {
		t.Fatal(err)
	}
	var back Blob
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(b.Blob) || !bytes.Equal(back.Commitment(), b.Commitment()) || back.Index() != 7 {
		t.Fatalf("JSON round trip changed the blob: %s", js)
	}
	var m map[string]any
	_ = json.Unmarshal(js, &m)
	for _, k := range []string{"namespace", "data", "share_version", "commitment", "signer", "index"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, js)
		}
	}
	v0, _ := New(testNS(t, 2), []byte("x"), 0, nil)
	js0, _ := json.Marshal(v0)
	if bytes.Contains(js0, []byte("signer")) || !bytes.Contains(js0, []byte(`"index":-1`)) {
		t.Errorf("v0 JSON should omit signer and have index -1: %s", js0)
	}
	bad := []string{
		`{`,
		`{"namespace":"AAAA","data":"aGk=","share_version":0}`,
		`{"namespace":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=","data":"aGk=","share_version":0}`,
		`{"namespace":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQI=","data":"","share_version":0}`,
		`{"namespace":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQI=","data":"aGk=","share_version":1}`,
		`{"namespace":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQI=","data":"aGk=","share_version":0,"commitment":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`,
		`{"namespace":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQI=","data":"aGk=","share_version":300}`,
	}
	for _, s := range bad {
		var x Blob
		if err := json.Unmarshal([]byte(s), &x); err == nil {
			t.Errorf("accepted %s", s)
		}
	}
	good := `{"namespace":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQI=","data":"aGk=","share_version":0}`
	var g Blob
	if err := json.Unmarshal([]byte(good), &g); err != nil {
		t.Fatalf("rejected %s: %v", good, err)
	}
}

func TestPayForBlobsRoundTrip(t *testing.T) {
	b1, _ := New(testNS(t, 3), []byte("one"), 0, nil)
	b2, _ := New(testNS(t, 4), bytes.Repeat([]byte{5}, 2000), 0, nil)
	p, err := NewPayForBlobs([]*Blob{b1, b2})
	if err != nil {
		t.Fatal(err)
	}
	enc := p.Marshal()
	back, err := UnmarshalPayForBlobs(enc)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Matches([]*Blob{b1, b2}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Marshal(), enc) {
		t.Fatal("re-encoding differs")
	}
	if err := back.Matches([]*Blob{b2, b1}); !errors.Is(err, ErrInvalidPFB) {
		t.Fatalf("swapped blobs matched: %v", err)
	}
	for i := range enc {
		m := bytes.Clone(enc)
		m[i] ^= 0x80
		if q, err := UnmarshalPayForBlobs(m); err == nil && q.Matches([]*Blob{b1, b2}) == nil {
			t.Fatalf("mutation at byte %d still matches", i)
		}
	}
}

func FuzzUnmarshalPayForBlobs(f *testing.F) {
	b1, _ := New(share.Namespace{}, nil, 0, nil)
	_ = b1
	ns, _ := share.NewV0Namespace([]byte{1, 1})
	b, _ := New(ns, []byte("abc"), 0, nil)
	p, _ := NewPayForBlobs([]*Blob{b})
	f.Add(p.Marshal())
	f.Add([]byte("TPFB\x01\x00\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := UnmarshalPayForBlobs(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidPFB) {
				t.Fatalf("error does not wrap ErrInvalidPFB: %v", err)
			}
			return
		}
		if !bytes.Equal(p.Marshal(), data) {
			t.Fatalf("accepted a non-canonical encoding")
		}
	})
}

func FuzzUnmarshalBlobJSON(f *testing.F) {
	f.Add([]byte(`{"namespace":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQI=","data":"aGk=","share_version":0}`))
	f.Add([]byte(`{"namespace":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b Blob
		if err := json.Unmarshal(data, &b); err != nil {
			return
		}
		out, err := json.Marshal(&b)
		if err != nil {
			t.Fatal(err)
		}
		var again Blob
		if err := json.Unmarshal(out, &again); err != nil || !again.Equal(b.Blob) {
			t.Fatalf("re-decoding failed: %v", err)
		}
	})
}
