package objects

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tessera-da/tessera/blob/dataset"
)

// testManifest builds a signed manifest of an object of size bytes in
// pages of pageSize (entries with made-up heights and commitments).
func testManifest(t testing.TB, data []byte, pageSize uint64) *dataset.Manifest {
	t.Helper()
	ns, err := dataset.Namespace(dataset.DatasetPages, []byte("unit"))
	if err != nil {
		t.Fatal(err)
	}
	pages, err := dataset.Split(data, pageSize)
	if err != nil {
		t.Fatal(err)
	}
	m := &dataset.Manifest{ObjectLength: uint64(len(data)), PageSize: pageSize, MediaType: "application/octet-stream"}
	for i, p := range pages {
		e := dataset.PageEntry{Index: uint64(i), Height: uint64(10 + i), Namespace: ns, Length: uint64(len(p)), SHA256: sha256.Sum256(p)}
		e.Commitment[0] = byte(i)
		m.Entries = append(m.Entries, e)
	}
	if err := m.Sign(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPageSpan(t *testing.T) {
	m := testManifest(t, make([]byte, 10), 4) // pages [0,4) [4,8) [8,10)
	for _, tc := range []struct {
		off, n, first, count uint64
		bad                  bool
	}{
		{0, 10, 0, 3, false},
		{0, 0, 0, 0, false},
		{3, 1, 0, 1, false},
		{3, 2, 0, 2, false},
		{4, 4, 1, 1, false},
		{9, 1, 2, 1, false},
		{10, 0, 0, 0, false},
		{10, 1, 0, 0, true},
		{11, 0, 0, 0, true},
		{2, ^uint64(0), 0, 0, true},
	} {
		t.Run(fmt.Sprintf("%d+%d", tc.off, tc.n), func(t *testing.T) {
			first, count, err := pageSpan(m, tc.off, tc.n)
			if tc.bad {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("accepted: %v", err)
				}
				return
			}
			if err != nil || first != tc.first || count != tc.count {
				t.Fatalf("got %d+%d (%v), want %d+%d", first, count, err, tc.first, tc.count)
			}
		})
	}
}

func testHeader(t testing.TB) journalHeader {
	pns, err := dataset.Namespace(dataset.DatasetPages, []byte("j"))
	if err != nil {
		t.Fatal(err)
	}
	mns, err := dataset.Namespace(dataset.DatasetManifest, []byte("j"))
	if err != nil {
		t.Fatal(err)
	}
	return journalHeader{Size: 10, PageSize: 4, PageNS: pns, ManifestNS: mns}
}

func testJournal(t testing.TB) []byte {
	h := testHeader(t)
	b := appendRecord(nil, tagHeader, h.encode())
	for i, l := range []uint64{4, 4, 2} {
		e := dataset.PageEntry{Index: uint64(i), Height: 7, Namespace: h.PageNS, Length: l}
		b = appendRecord(b, tagPage, e.AppendBinary(nil))
	}
	ref := make([]byte, journalRefSize)
	ref[0] = 9
	return appendRecord(b, tagManifest, ref)
}

func TestParseJournal(t *testing.T) {
	good := testJournal(t)
	s, err := parseJournal(good)
	if err != nil || len(s.pages) != 3 || s.manifest == nil || s.manifest.ID[0] != 9 || s.valid != len(good) || s.hdr != testHeader(t) {
		t.Fatalf("honest journal: %+v, %v", s, err)
	}
	// A torn tail ends the journal where the last whole record ends.
	for cut := len(good) - 1; cut > 1+journalHeaderSize+4; cut-- {
		s, err := parseJournal(good[:cut])
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if s.valid > cut || len(s.pages) > 3 {
			t.Fatalf("cut at %d: valid %d", cut, s.valid)
		}
	}
	// A flipped byte in a record ends the journal there (checksum).
	for i := 1 + journalHeaderSize + 4; i < len(good); i++ {
		b := bytes.Clone(good)
		b[i] ^= 0x40
		if s, err := parseJournal(b); err == nil && s.valid > i {
			t.Fatalf("flipped byte %d was accepted in a record", i)
		}
	}
	h := testHeader(t)
	other := dataset.PageEntry{Index: 5, Namespace: h.PageNS, Length: 4}
	wrongLen := dataset.PageEntry{Index: 2, Namespace: h.PageNS, Length: 4}
	for name, b := range map[string][]byte{
		"empty":          nil,
		"no header":      appendRecord(nil, tagPage, other.AppendBinary(nil)),
		"header torn":    good[:10],
		"bad magic":      appendRecord(nil, tagHeader, append([]byte("XXXX"), h.encode()[4:]...)),
		"page past end":  appendRecord(good[:1+journalHeaderSize+4], tagPage, other.AppendBinary(nil)),
		"wrong length":   appendRecord(good[:1+journalHeaderSize+4], tagPage, wrongLen.AppendBinary(nil)),
		"zero page size": appendRecord(nil, tagHeader, journalHeader{Size: 1, PageNS: h.PageNS, ManifestNS: h.ManifestNS}.encode()),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseJournal(b); !errors.Is(err, ErrJournal) {
				t.Fatalf("accepted: %v", err)
			}
		})
	}
}

func FuzzParseJournal(f *testing.F) {
	good := testJournal(f)
	f.Add(good)
	f.Add(good[:40])
	f.Add([]byte{tagHeader})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseJournal(b)
		if err != nil {
			if !errors.Is(err, ErrJournal) {
				t.Fatalf("error does not wrap ErrJournal: %v", err)
			}
			return
		}
		if s.valid > len(b) {
			t.Fatalf("valid %d > %d", s.valid, len(b))
		}
		// The valid prefix parses to the same state.
		again, err := parseJournal(b[:s.valid])
		if err != nil || len(again.pages) != len(s.pages) || again.valid != s.valid {
			t.Fatalf("valid prefix does not parse the same: %v", err)
		}
	})
}

func testState() downloadState {
	s := downloadState{Offset: 3, Length: 100, First: 0, Count: 11, Done: make([]byte, 2)}
	s.ID[0] = 7
	s.set(0, true)
	s.set(10, true)
	return s
}

func TestDownloadState(t *testing.T) {
	s := testState()
	got, err := parseDownloadState(s.encode())
	if err != nil || !got.sameTransfer(s) || !bytes.Equal(got.Done, s.Done) || !got.done(10) || got.done(5) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	enc := s.encode()
	for i := range enc {
		b := bytes.Clone(enc)
		b[i] ^= 1
		if _, err := parseDownloadState(b); !errors.Is(err, ErrJournal) {
			t.Fatalf("flipped byte %d accepted: %v", i, err)
		}
	}
	for cut := range enc {
		if _, err := parseDownloadState(enc[:cut]); !errors.Is(err, ErrJournal) {
			t.Fatalf("cut at %d accepted: %v", cut, err)
		}
	}
}

func FuzzParseDownloadState(f *testing.F) {
	s := testState()
	f.Add(s.encode())
	f.Add([]byte("TSDS"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseDownloadState(b)
		if err != nil {
			if !errors.Is(err, ErrJournal) {
				t.Fatalf("error does not wrap ErrJournal: %v", err)
			}
			return
		}
		if uint64(len(s.Done)) != (s.Count+7)/8 {
			t.Fatalf("bitmap %d bytes for %d pages", len(s.Done), s.Count)
		}
		for k := range s.Count {
			s.done(k)
		}
		if !bytes.Equal(s.encode(), b) {
			t.Fatal("not canonical")
		}
	})
}

func TestVerifyLocal(t *testing.T) {
	data := make([]byte, 10)
	for i := range data {
		data[i] = byte(i)
	}
	m := testManifest(t, data, 4)
	if err := VerifyLocal(m, bytes.NewReader(data), 10, nil); err != nil {
		t.Fatal(err)
	}
	changed := bytes.Clone(data)
	changed[9] ^= 1
	for name, tc := range map[string]struct {
		b    []byte
		size int64
	}{
		"changed last page": {changed, 10},
		"short":             {data[:9], 9},
		"long":              {append(bytes.Clone(data), 0), 11},
		"size lies":         {data[:9], 10},
	} {
		t.Run(name, func(t *testing.T) {
			if err := VerifyLocal(m, bytes.NewReader(tc.b), tc.size, nil); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if err := VerifyLocal(m, bytes.NewReader(changed), 10, nil); !errors.Is(err, ErrMismatch) || !bytes.Contains([]byte(err.Error()), []byte("1 of 3 pages differ from the manifest: 2")) {
		t.Fatalf("error does not name page 2: %v", err)
	}
}

// TestOpenJournalTornTail: a journal whose last record was cut short (a
// crash mid-write) opens with the whole records and is appended to after
// them; a journal of another upload is refused and left as it was.
func TestOpenJournalTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	good := testJournal(t)
	torn := append(bytes.Clone(good), tagPage, 1, 2, 3)
	if err := os.WriteFile(path, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	h := testHeader(t)
	j, s, err := openJournal(path, h)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.pages) != 3 || s.manifest == nil {
		t.Fatalf("opened %d pages", len(s.pages))
	}
	e := dataset.PageEntry{Index: 1, Height: 99, Namespace: h.PageNS, Length: 4}
	if err := j.appendPage(e); err != nil {
		t.Fatal(err)
	}
	j.close()
	b, _ := os.ReadFile(path)
	s, err = parseJournal(b)
	if err != nil || s.valid != len(b) || s.pages[1].Height != 99 {
		t.Fatalf("after append: %v, valid %d of %d", err, s.valid, len(b))
	}
	other := h
	other.Size++
	if _, _, err := openJournal(path, other); !errors.Is(err, ErrJournal) {
		t.Fatalf("another upload's journal: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, b) {
		t.Fatal("a refused journal was changed")
	}
	if err := os.WriteFile(path, []byte("not a journal"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := openJournal(path, h); !errors.Is(err, ErrJournal) {
		t.Fatalf("garbage journal: %v", err)
	}
}

// FuzzVerifyLocal: VerifyLocal accepts a local file only if it is the
// object, byte for byte.
func FuzzVerifyLocal(f *testing.F) {
	data := []byte("0123456789")
	m := testManifest(f, data, 4)
	f.Add(data)
	f.Add([]byte("0123456788"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		err := VerifyLocal(m, bytes.NewReader(b), int64(len(b)), nil)
		if (err == nil) != bytes.Equal(b, data) {
			t.Fatalf("verdict %v for %q", err, b)
		}
	})
}
