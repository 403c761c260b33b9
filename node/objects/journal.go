package objects

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/share"
)

// An upload journal is a sequence of records, each
//
//	tag (1 B) ‖ payload ‖ CRC-32C of tag ‖ payload (BE32)
//
// where the first record is the header ('H': "TSUJ" ‖ u8 version ‖ BE64
// object size ‖ BE64 page size ‖ page namespace ‖ manifest namespace) and
// the others are included pages ('P': a dataset.PageEntry encoding) or the
// published manifest ('M': ID ‖ BE64 height ‖ commitment). A later page
// record for the same index replaces an earlier one. A torn or corrupt tail
// (a record cut short or failing its checksum) ends the journal; it is cut
// off before new records are appended.
const (
	journalVersion    = 1
	journalMaxSize    = 1 << 28 // bytes of a journal file
	journalHeaderSize = 4 + 1 + 8 + 8 + 2*share.NamespaceSize
	journalRefSize    = dataset.IDSize + 8 + blob.CommitmentSize
	tagHeader         = 'H'
	tagPage           = 'P'
	tagManifest       = 'M'
)

var (
	journalMagic = [4]byte{'T', 'S', 'U', 'J'}
	castagnoli   = crc32.MakeTable(crc32.Castagnoli)
)

// journalHeader says which upload a journal belongs to.
type journalHeader struct {
	Size, PageSize     uint64
	PageNS, ManifestNS share.Namespace
}

// journalState is what a journal holds.
type journalState struct {
	hdr      journalHeader
	pages    map[uint64]dataset.PageEntry
	manifest *Ref
	valid    int // bytes of well-formed records
}

func appendRecord(b []byte, tag byte, payload []byte) []byte {
	start := len(b)
	b = append(b, tag)
	b = append(b, payload...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

func (h journalHeader) encode() []byte {
	b := append([]byte(nil), journalMagic[:]...)
	b = append(b, journalVersion)
	b = binary.BigEndian.AppendUint64(b, h.Size)
	b = binary.BigEndian.AppendUint64(b, h.PageSize)
	b = append(b, h.PageNS.Bytes()...)
	return append(b, h.ManifestNS.Bytes()...)
}

// parseJournal decodes an upload journal from untrusted bytes. A journal
// whose header record is missing or malformed is an error; a record after
// it that is cut short or fails its checksum ends the journal (valid says
// where); a well-formed record that contradicts the header is an error.
func parseJournal(b []byte) (*journalState, error) {
	if len(b) > journalMaxSize {
		return nil, fmt.Errorf("%w: journal is %d bytes, max %d", ErrJournal, len(b), journalMaxSize)
	}
	rec := func(off, size int) ([]byte, bool) {
		if len(b)-off < 1+size+4 {
			return nil, false
		}
		r := b[off : off+1+size+4]
		if crc32.Checksum(r[:1+size], castagnoli) != binary.BigEndian.Uint32(r[1+size:]) {
			return nil, false
		}
		return r[1 : 1+size], true
	}
	if len(b) == 0 || b[0] != tagHeader {
		return nil, fmt.Errorf("%w: no journal header", ErrJournal)
	}
	p, ok := rec(0, journalHeaderSize)
	if !ok {
		return nil, fmt.Errorf("%w: journal header cut short or corrupt", ErrJournal)
	}
	if string(p[:4]) != string(journalMagic[:]) || p[4] != journalVersion {
		return nil, fmt.Errorf("%w: not an upload journal (magic %x, version %d)", ErrJournal, p[:4], p[4])
	}
	s := &journalState{pages: map[uint64]dataset.PageEntry{}}
	s.hdr.Size = binary.BigEndian.Uint64(p[5:])
	s.hdr.PageSize = binary.BigEndian.Uint64(p[13:])
	var err error
	if s.hdr.PageNS, err = share.NewNamespaceFromBytes(p[21 : 21+share.NamespaceSize]); err != nil {
		return nil, fmt.Errorf("%w: journal header: page namespace: %w", ErrJournal, err)
	}
	if s.hdr.ManifestNS, err = share.NewNamespaceFromBytes(p[21+share.NamespaceSize:]); err != nil {
		return nil, fmt.Errorf("%w: journal header: manifest namespace: %w", ErrJournal, err)
	}
	pages, err := dataset.Pages(s.hdr.Size, s.hdr.PageSize)
	if err != nil || s.hdr.Size == 0 || pages > dataset.MaxPages {
		return nil, fmt.Errorf("%w: journal header: size %d in pages of %d", ErrJournal, s.hdr.Size, s.hdr.PageSize)
	}
	off := 1 + journalHeaderSize + 4
	for off < len(b) {
		switch b[off] {
		case tagPage:
			p, ok := rec(off, dataset.PageEntrySize)
			if !ok {
				s.valid = off
				return s, nil
			}
			e, err := dataset.ParsePageEntry(p)
			if err != nil {
				return nil, fmt.Errorf("%w: record at byte %d: %w", ErrJournal, off, err)
			}
			start, end, err := dataset.PageRange(s.hdr.Size, s.hdr.PageSize, e.Index)
			if err != nil || e.Length != end-start || e.Namespace != s.hdr.PageNS {
				return nil, fmt.Errorf("%w: record at byte %d: page %d (%d bytes, namespace %s) is not a page of this upload", ErrJournal, off, e.Index, e.Length, e.Namespace)
			}
			s.pages[e.Index] = e
			off += 1 + dataset.PageEntrySize + 4
		case tagManifest:
			p, ok := rec(off, journalRefSize)
			if !ok {
				s.valid = off
				return s, nil
			}
			ref := &Ref{Namespace: s.hdr.ManifestNS}
			copy(ref.ID[:], p)
			ref.Height = binary.BigEndian.Uint64(p[dataset.IDSize:])
			ref.Commitment = append([]byte(nil), p[dataset.IDSize+8:]...)
			s.manifest = ref
			off += 1 + journalRefSize + 4
		default:
			s.valid = off
			return s, nil
		}
	}
	s.valid = off
	return s, nil
}

// journal appends records to an upload journal file.
type journal struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

// openJournal opens or creates the journal at path for the upload hdr
// describes, cuts off a torn tail, and returns what it already holds.
func openJournal(path string, hdr journalHeader) (*journal, *journalState, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("journal: %w", err)
	}
	j := &journal{f: f, path: path}
	st, err := f.Stat()
	if err != nil {
		j.close()
		return nil, nil, fmt.Errorf("journal: %w", err)
	}
	if st.Size() > journalMaxSize {
		j.close()
		return nil, nil, fmt.Errorf("%w: %s is %d bytes, max %d", ErrJournal, path, st.Size(), journalMaxSize)
	}
	var s *journalState
	if st.Size() == 0 {
		s = &journalState{hdr: hdr, pages: map[uint64]dataset.PageEntry{}}
		b := appendRecord(nil, tagHeader, hdr.encode())
		if _, err := f.Write(b); err != nil {
			j.close()
			return nil, nil, fmt.Errorf("journal %s: %w", path, err)
		}
		s.valid = len(b)
	} else {
		b := make([]byte, st.Size())
		if _, err := io.ReadFull(f, b); err != nil {
			j.close()
			return nil, nil, fmt.Errorf("journal %s: %w", path, err)
		}
		if s, err = parseJournal(b); err != nil {
			j.close()
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		if s.hdr != hdr {
			j.close()
			return nil, nil, fmt.Errorf("%w: %s is the journal of another upload (%d bytes in pages of %d, namespace %s); remove it to start over",
				ErrJournal, path, s.hdr.Size, s.hdr.PageSize, s.hdr.PageNS)
		}
	}
	if err := f.Truncate(int64(s.valid)); err != nil {
		j.close()
		return nil, nil, fmt.Errorf("journal %s: %w", path, err)
	}
	if _, err := f.Seek(int64(s.valid), io.SeekStart); err != nil {
		j.close()
		return nil, nil, fmt.Errorf("journal %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		j.close()
		return nil, nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return j, s, nil
}

func (j *journal) write(b []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(b); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return nil
}

func (j *journal) appendPage(e dataset.PageEntry) error {
	return j.write(appendRecord(nil, tagPage, e.AppendBinary(nil)))
}

func (j *journal) appendManifest(ref *Ref) error {
	p := append([]byte(nil), ref.ID[:]...)
	p = binary.BigEndian.AppendUint64(p, ref.Height)
	p = append(p, ref.Commitment...)
	return j.write(appendRecord(nil, tagManifest, p))
}

func (j *journal) close() { _ = j.f.Close() }
