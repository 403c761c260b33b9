//go:build unix

package store

import (
	"io/fs"
	"syscall"
)

// diskUsage returns the bytes a file occupies on disk. Badger preallocates
// its memtable and value logs sparsely (a fresh value log is 2 GiB long),
// so the apparent size would overstate it.
func diskUsage(info fs.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return info.Size()
}
