package dataset

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Every record of the package has one frame: a 4-byte magic ‖ u8 version,
// the fields in a fixed order (integers big-endian, strings BE32 length ‖
// UTF-8, counts BE32 before their items), and for a signed record the
// signer's ed25519 key inside the body and the 64-byte signature after it.
// A record's ID is SHA-256 of its body (the encoding without the
// signature), and the signer signs context ‖ ID, the context separating
// each kind's signatures from every other Tessera signature. This file
// holds the frame once: appendHeader and appendStr write it, reader reads
// it, recordID hashes it and signer signs and checks it.

// appendHeader appends magic ‖ version.
func appendHeader(b []byte, magic [4]byte, version byte) []byte {
	b = append(b, magic[:]...)
	return append(b, version)
}

// appendStr appends BE32 len(s) ‖ s.
func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// recordID returns SHA-256 of a record's body once validate passes.
func recordID(validate func() error, appendBody func([]byte) []byte) ([32]byte, error) {
	if err := validate(); err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(appendBody(nil)), nil
}

// checkSigner checks the sizes of a signed record's key (named keyName in
// the failure) and of its signature, which may be nil (unsigned); failures
// wrap sentinel.
func checkSigner(sentinel error, keyName string, key ed25519.PublicKey, sig []byte) error {
	if len(key) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: %s is %d bytes", sentinel, keyName, len(key))
	}
	if sig != nil && len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: signature is %d bytes", sentinel, len(sig))
	}
	return nil
}

// signer is how one kind of record is signed: ed25519 over context ‖ ID.
// Its failures wrap sentinel and name the record.
type signer struct {
	record   string // the record's name in failures
	context  string // domain-separation prefix, ending in NUL
	sentinel error
}

// message returns context ‖ id, the bytes the key signs.
func (s signer) message(id [32]byte) []byte {
	return append([]byte(s.context), id[:]...)
}

func (s signer) unsigned() error { return fmt.Errorf("%w: %s unsigned", s.sentinel, s.record) }

// sign checks priv, sets *key to its public key and *sig to its signature
// over the record's ID, computed by id once *key is set and *sig cleared.
func (s signer) sign(priv ed25519.PrivateKey, key *ed25519.PublicKey, sig *[]byte, id func() ([32]byte, error)) error {
	if len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("%w: private key is %d bytes", s.sentinel, len(priv))
	}
	*key = priv.Public().(ed25519.PublicKey)
	*sig = nil
	h, err := id()
	if err != nil {
		return err
	}
	*sig = ed25519.Sign(priv, s.message(h))
	return nil
}

// verify checks that the record (whose ID id computes, validating it) is
// signed by key.
func (s signer) verify(key ed25519.PublicKey, sig []byte, id func() ([32]byte, error)) error {
	h, err := id()
	if err != nil {
		return err
	}
	if sig == nil {
		return s.unsigned()
	}
	if !ed25519.Verify(key, s.message(h), sig) {
		return fmt.Errorf("%w: %s %x does not verify under publisher key %x", s.sentinel, s.record, h, []byte(key))
	}
	return nil
}

// marshal returns body ‖ signature of a valid record, failing when it is
// unsigned.
func (s signer) marshal(validate func() error, appendBody func([]byte) []byte, sig []byte) ([]byte, error) {
	if err := validate(); err != nil {
		return nil, err
	}
	if sig == nil {
		return nil, s.unsigned()
	}
	return append(appendBody(nil), sig...), nil
}

// openRecord starts reading an untrusted record of at most max bytes that
// begins with magic ‖ version; failures wrap sentinel.
func openRecord(b []byte, max int, sentinel error, magic [4]byte, version byte) *reader {
	d := &reader{b: b, sentinel: sentinel}
	if len(b) > max {
		d.fail("%d bytes, max %d", len(b), max)
		return d
	}
	d.header(magic, version)
	return d
}

// reader reads the package's canonical encodings (manifests, runs,
// training proofs, checkpoints, rollbacks); every read checks the remaining
// length first, the first failure sticks, and failures wrap sentinel.
type reader struct {
	b        []byte
	err      error
	sentinel error
}

func (d *reader) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{d.sentinel}, args...)...)
	}
}

func (d *reader) take(n uint64, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("truncated %s: need %d bytes, have %d", what, n, len(d.b))
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *reader) u8(what string) uint8 {
	if p := d.take(1, what); p != nil {
		return p[0]
	}
	return 0
}

// u16 reads a BE16.
func (d *reader) u16(what string) uint16 {
	if p := d.take(2, what); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (d *reader) u32(what string) uint32 {
	if p := d.take(4, what); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (d *reader) u64(what string) uint64 {
	if p := d.take(8, what); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

func (d *reader) hash(dst *[32]byte, what string) {
	if p := d.take(32, what); p != nil {
		copy(dst[:], p)
	}
}

// count reads a BE32 count of items of at least minSize bytes each, bounded
// by max and by the bytes left, so no allocation exceeds the input.
func (d *reader) count(minSize, max uint64, what string) uint64 {
	n := uint64(d.u32(what))
	if d.err != nil {
		return 0
	}
	if n > max || n*minSize > uint64(len(d.b)) {
		d.fail("%d %s exceed the limit %d or the input", n, what, max)
		return 0
	}
	return n
}

// header checks magic and version.
func (d *reader) header(magic [4]byte, version byte) {
	if m := d.take(4, "magic"); m != nil && !bytes.Equal(m, magic[:]) {
		d.fail("bad magic %x", m)
	}
	if v := d.take(1, "version"); v != nil && v[0] != version {
		d.fail("version %d, want %d", v[0], version)
	}
}

func (d *reader) end() {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
}

// boundedStr reads a BE32-length-prefixed string of at most max bytes.
func (d *reader) boundedStr(max uint32, what string) string {
	n := d.u32(what)
	if d.err == nil && n > max {
		d.fail("%s is %d bytes, max %d", what, n, max)
	}
	return string(d.take(uint64(n), what))
}

// str reads a BE32-length-prefixed string of at most MaxStringLen bytes.
func (d *reader) str(what string) string { return d.boundedStr(MaxStringLen, what) }

// key reads an ed25519 public key.
func (d *reader) key(what string) ed25519.PublicKey {
	if k := d.take(ed25519.PublicKeySize, what); k != nil {
		return ed25519.PublicKey(bytes.Clone(k))
	}
	return nil
}

// signature reads an ed25519 signature.
func (d *reader) signature() []byte {
	if s := d.take(ed25519.SignatureSize, "signature"); s != nil {
		return bytes.Clone(s)
	}
	return nil
}

// close ends a record: no trailing bytes, then validate (the record's
// own checks) unless reading already failed.
func (d *reader) close(validate func() error) error {
	d.end()
	if d.err != nil {
		return d.err
	}
	return validate()
}
