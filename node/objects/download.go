package objects

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"

	"github.com/tessera-da/tessera/blob/dataset"
)

// DownloadOptions configure Download.
type DownloadOptions struct {
	ReadOptions
	// Offset and Length choose the bytes [Offset, Offset+Length) of the
	// object; Length 0 means up to the end.
	Offset, Length uint64
}

// DownloadResult says what Download wrote.
type DownloadResult struct {
	Manifest *dataset.Manifest
	Bytes    uint64 // bytes written to the output file
	Pages    int    // pages the range overlaps
	Reused   int    // pages already verified in the partial file by an earlier run
}

// Suffixes of the files a download keeps next to its output until it is
// complete.
const (
	PartialSuffix = ".partial"       // the pages fetched so far
	StateSuffix   = ".partial.state" // which of them were verified
)

// stateFlushPages is how many newly verified pages a download records
// before it rewrites its state file (it also writes it when it stops).
const stateFlushPages = 16

// Download fetches the object at ref (or a byte range of it) into the file
// at path, verifying every page as GetRangeWith does. Pages are written to
// path+PartialSuffix as they are verified, and the verified ones are
// recorded in path+StateSuffix. Rerunning Download with the same ref and
// range resumes: pages recorded as verified are hashed again from the
// partial file and fetched again if they do not match. The output appears
// at path (by rename) only once every page of the range is verified; path
// never holds unverified bytes. The state files are removed on success.
func Download(ctx context.Context, c Caller, ref Ref, path string, o DownloadOptions) (*DownloadResult, error) {
	parallel, err := o.parallel()
	if err != nil {
		return nil, err
	}
	f := newReadFetcher(c, o.ReadOptions)
	m, err := f.manifest(ctx, ref)
	if err != nil {
		return nil, err
	}
	off, n := o.Offset, o.Length
	if n == 0 && off < m.ObjectLength {
		n = m.ObjectLength - off
	}
	first, count, err := pageSpan(m, off, n)
	if err != nil {
		return nil, err
	}
	if count == 0 {
		return nil, fmt.Errorf("%w: empty range at offset %d", ErrInvalid, off)
	}
	tree, err := m.PageTree()
	if err != nil {
		return nil, err
	}
	base := first * m.PageSize // object offset of the partial file's byte 0
	want := downloadState{ID: ref.ID, Offset: off, Length: n, First: first, Count: count}

	part, err := os.OpenFile(path+PartialSuffix, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	defer part.Close()
	st := want
	st.Done = make([]byte, (count+7)/8)
	if b, err := os.ReadFile(path + StateSuffix); err == nil {
		if old, err := parseDownloadState(b); err == nil && old.sameTransfer(want) {
			st.Done = old.Done
		}
	}
	res := &DownloadResult{Manifest: m, Bytes: n, Pages: int(count)}
	prog := &progress{total: n, fn: o.Progress}
	overlap := func(i uint64) uint64 {
		ps := i * m.PageSize
		return min(ps+m.Entries[i].Length, off+n) - max(ps, off)
	}
	// Pages recorded as verified are hashed again; the others are fetched.
	var (
		todo []uint64
		buf  []byte
	)
	for k := range count {
		i := first + k
		if st.done(k) {
			e := m.Entries[i]
			if buf == nil {
				buf = make([]byte, m.PageSize)
			}
			p := buf[:e.Length]
			if _, err := part.ReadAt(p, int64(i*m.PageSize-base)); err == nil && sha256.Sum256(p) == e.SHA256 {
				res.Reused++
				prog.add(overlap(i))
				continue
			}
			st.set(k, false)
		}
		todo = append(todo, i)
	}
	buf = nil

	var mu sync.Mutex
	fresh := 0
	save := func() error {
		return writeFileAtomic(path+StateSuffix, st.encode())
	}
	err = f.fetchPages(ctx, tree, todo, parallel, func(i uint64, data []byte) error {
		if _, err := part.WriteAt(data, int64(i*m.PageSize-base)); err != nil {
			return fmt.Errorf("page %d: writing %s: %w", i, path+PartialSuffix, err)
		}
		prog.add(overlap(i))
		mu.Lock()
		defer mu.Unlock()
		st.set(i-first, true)
		if fresh++; fresh%stateFlushPages == 0 {
			return save()
		}
		return nil
	})
	if err != nil {
		if serr := part.Sync(); serr == nil {
			mu.Lock()
			_ = save()
			mu.Unlock()
		}
		return nil, err
	}
	if err := part.Sync(); err != nil {
		return nil, err
	}
	if err := finish(part, path, off-base, n); err != nil {
		return nil, err
	}
	_ = os.Remove(path + StateSuffix)
	return res, nil
}

// finish moves the verified bytes [head, head+n) of the partial file to
// path: by truncating and renaming it when head is 0, else by copying
// them into a temporary file that is renamed.
func finish(part *os.File, path string, head, n uint64) error {
	if head == 0 {
		if err := part.Truncate(int64(n)); err != nil {
			return err
		}
		if err := part.Close(); err != nil {
			return err
		}
		return os.Rename(path+PartialSuffix, path)
	}
	tmp, err := os.CreateTemp(dirOf(path), ".tessera-download-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, io.NewSectionReader(part, int64(head), int64(n))); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	_ = part.Close()
	return os.Remove(path + PartialSuffix)
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if os.IsPathSeparator(path[i]) {
			return path[:i+1]
		}
	}
	return "."
}

// writeFileAtomic replaces path with b through a temporary file and a
// rename, so a reader sees the old or the new contents, never a mix.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// downloadState is the sidecar of a download:
//
//	"TSDS" ‖ u8 version ‖ manifest ID ‖ BE64 offset ‖ BE64 length ‖
//	BE64 first page ‖ BE64 page count ‖ bitmap of verified pages
//	(ceil(count/8) bytes, page first+k at bit k%8 of byte k/8) ‖
//	CRC-32C of everything before (BE32)
type downloadState struct {
	ID                           dataset.ID
	Offset, Length, First, Count uint64
	Done                         []byte
}

const (
	downloadStateVersion = 1
	downloadStateFixed   = 4 + 1 + dataset.IDSize + 4*8
)

var downloadStateMagic = [4]byte{'T', 'S', 'D', 'S'}

func (s *downloadState) done(k uint64) bool { return s.Done[k/8]&(1<<(k%8)) != 0 }

func (s *downloadState) set(k uint64, v bool) {
	if v {
		s.Done[k/8] |= 1 << (k % 8)
	} else {
		s.Done[k/8] &^= 1 << (k % 8)
	}
}

func (s *downloadState) sameTransfer(o downloadState) bool {
	return s.ID == o.ID && s.Offset == o.Offset && s.Length == o.Length && s.First == o.First && s.Count == o.Count
}

func (s *downloadState) encode() []byte {
	b := append([]byte(nil), downloadStateMagic[:]...)
	b = append(b, downloadStateVersion)
	b = append(b, s.ID[:]...)
	for _, v := range []uint64{s.Offset, s.Length, s.First, s.Count} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	b = append(b, s.Done...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// parseDownloadState decodes a download state file from untrusted bytes.
func parseDownloadState(b []byte) (downloadState, error) {
	var s downloadState
	if len(b) < downloadStateFixed+4 {
		return s, fmt.Errorf("%w: download state is %d bytes, at least %d", ErrJournal, len(b), downloadStateFixed+4)
	}
	if !bytes.Equal(b[:4], downloadStateMagic[:]) || b[4] != downloadStateVersion {
		return s, fmt.Errorf("%w: not a download state (magic %x, version %d)", ErrJournal, b[:4], b[4])
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return s, fmt.Errorf("%w: download state checksum mismatch", ErrJournal)
	}
	copy(s.ID[:], b[5:])
	o := 5 + dataset.IDSize
	s.Offset = binary.BigEndian.Uint64(b[o:])
	s.Length = binary.BigEndian.Uint64(b[o+8:])
	s.First = binary.BigEndian.Uint64(b[o+16:])
	s.Count = binary.BigEndian.Uint64(b[o+24:])
	if s.Count == 0 || s.Count > dataset.MaxPages {
		return downloadState{}, fmt.Errorf("%w: download state counts %d pages, want 1..%d", ErrJournal, s.Count, dataset.MaxPages)
	}
	if want := (s.Count + 7) / 8; uint64(len(body)-downloadStateFixed) != want {
		return downloadState{}, fmt.Errorf("%w: download state bitmap is %d bytes, want %d", ErrJournal, len(body)-downloadStateFixed, want)
	}
	s.Done = bytes.Clone(body[downloadStateFixed:])
	return s, nil
}
