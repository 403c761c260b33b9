//go:build !unix

package store

import "io/fs"

// diskUsage returns the apparent size of a file: on this platform the
// allocated size is not read, so badger's preallocated logs count in full.
func diskUsage(info fs.FileInfo) int64 { return info.Size() }
