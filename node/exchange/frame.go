package exchange

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
)

// A frame is uvarint(n) ‖ payload[n], where payload[0] is the message type
// and n ≥ 1. The length must be minimally encoded and at most the cap the
// reader expects for that message; both are checked before any buffer is
// sized from it.

// errProtocol reports a frame or message that breaks the wire format. A
// client wraps it with ErrBadResponse; a server resets the stream.
var errProtocol = errors.New("protocol violation")

// readLen reads a frame's length prefix and checks 1 ≤ n ≤ max.
func readLen(r io.ByteReader, max int) (int, error) {
	var x uint64
	for i := range maxVarintLen {
		b, err := r.ReadByte()
		if err != nil {
			if i > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		x |= uint64(b&0x7f) << (7 * i)
		if x > uint64(max) {
			return 0, fmt.Errorf("%w: frame length %d+ exceeds %d", errProtocol, x, max)
		}
		if b < 0x80 {
			if b == 0 && i > 0 {
				return 0, fmt.Errorf("%w: non-minimal frame length", errProtocol)
			}
			if x == 0 {
				return 0, fmt.Errorf("%w: empty frame", errProtocol)
			}
			return int(x), nil
		}
	}
	return 0, fmt.Errorf("%w: frame length prefix longer than %d bytes", errProtocol, maxVarintLen)
}

// readFrame reads one frame of type typ whose length is at most max, into
// buf when it is large enough (else into a new buffer of exactly the
// frame's length), and returns the payload after the type byte. A clean
// EOF before the frame is returned as io.EOF; one inside it as
// io.ErrUnexpectedEOF.
func readFrame(r *bufio.Reader, typ byte, max int, buf []byte) ([]byte, error) {
	n, err := readLen(r, max)
	if err != nil {
		return nil, err
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if buf[0] != typ {
		return nil, fmt.Errorf("%w: message type %#x, want %#x", errProtocol, buf[0], typ)
	}
	return buf[1:], nil
}

// readFrameInto reads a frame of type typ whose payload after the type
// byte must be exactly len(dst) bytes, straight into dst.
func readFrameInto(r *bufio.Reader, typ byte, dst []byte) error {
	n, err := readLen(r, 1+len(dst))
	if err != nil {
		return err
	}
	if n != 1+len(dst) {
		return fmt.Errorf("%w: frame of %d bytes, want %d", errProtocol, n, 1+len(dst))
	}
	t, err := r.ReadByte()
	if err == nil && t != typ {
		err = fmt.Errorf("%w: message type %#x, want %#x", errProtocol, t, typ)
	}
	if err == nil {
		_, err = io.ReadFull(r, dst)
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// beginFrame starts a frame of type typ in buf, leaving room for the
// length prefix; append the rest of the payload, then call finishFrame.
func beginFrame(buf []byte, typ byte) []byte {
	buf = append(buf[:0], make([]byte, maxVarintLen)...)
	return append(buf, typ)
}

// finishFrame writes the length prefix of a frame begun with beginFrame
// just before its payload and returns the whole frame.
func finishFrame(buf []byte) []byte {
	n := uint64(len(buf) - maxVarintLen)
	l := uvarintLen(n)
	start := maxVarintLen - l
	p := buf[start:]
	for ; n >= 0x80; n >>= 7 {
		p[0] = byte(n) | 0x80
		p = p[1:]
	}
	p[0] = byte(n)
	return buf[start:]
}

// appendFrameHeader appends the length prefix and type byte of a frame
// whose payload after the type byte is n bytes.
func appendFrameHeader(b []byte, typ byte, n int) []byte {
	v := uint64(n + 1)
	for ; v >= 0x80; v >>= 7 {
		b = append(b, byte(v)|0x80)
	}
	return append(b, byte(v), typ)
}

func uvarintLen(n uint64) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// bufPool keeps frame buffers between requests.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooled bounds the buffers kept in bufPool (bytes).
const maxPooled = 4 << 20

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// readerPool keeps the small buffered readers streams are read through.
var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

func getReader(r io.Reader) *bufio.Reader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

func putReader(br *bufio.Reader) {
	br.Reset(nil)
	readerPool.Put(br)
}
