package dataset

import "bytes"

// RecordMagicSize is the length of the magic that starts every record in a
// RunControl namespace.
const RecordMagicSize = 4 // bytes

// IsRunRecord reports whether b starts with the magic of a run declaration
// ('TSRN'). Readers of a RunControl namespace hold several record types
// (declarations, rollbacks, …), each starting with its own 4-byte magic:
// they dispatch on it and skip records they do not know. A true result
// says nothing about validity: call ParseRun.
func IsRunRecord(b []byte) bool {
	return len(b) >= RecordMagicSize && bytes.Equal(b[:RecordMagicSize], runMagic[:])
}
