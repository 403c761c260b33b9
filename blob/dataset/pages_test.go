package dataset

import (
	"bytes"
	"errors"
	"testing"
)

func TestPages(t *testing.T) {
	for _, tc := range []struct {
		name         string
		length, size uint64
		want         uint64
		wantErr      bool
	}{
		{"empty", 0, 10, 0, false},
		{"one byte", 1, 10, 1, false},
		{"exact", 20, 10, 2, false},
		{"partial last", 21, 10, 3, false},
		{"huge", ^uint64(0), 1 << 20, 1 << 44, false},
		{"zero page size", 5, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Pages(tc.length, tc.size)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidParams) {
					t.Fatalf("err = %v, want ErrInvalidParams", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Pages(%d, %d) = %d, %v; want %d", tc.length, tc.size, got, err, tc.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i)
	}
	for _, size := range []uint64{1, 7, 100, 999, 1000, 1001} {
		pages, err := Split(data, size)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := Pages(uint64(len(data)), size)
		if uint64(len(pages)) != n {
			t.Fatalf("size %d: %d pages, want %d", size, len(pages), n)
		}
		for i, p := range pages {
			start, end, err := PageRange(uint64(len(data)), size, uint64(i))
			if err != nil || !bytes.Equal(p, data[start:end]) {
				t.Fatalf("size %d page %d: wrong bytes (%v)", size, i, err)
			}
		}
		if got := bytes.Join(pages, nil); !bytes.Equal(got, data) {
			t.Fatalf("size %d: pages do not join back", size)
		}
	}
	if _, _, err := PageRange(10, 5, 2); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("PageRange past the end: %v", err)
	}
	if _, err := Split(data, 0); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("Split with page size 0: %v", err)
	}
}
