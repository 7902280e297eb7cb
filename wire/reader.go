package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
)

// readBufferSize is the size of a connection's read buffer. Pipelined
// messages that arrive together sit in it, which is what lets the server see
// that Sync follows an Execute without blocking.
const readBufferSize = 16 << 10

// keepBodyBuffer is the largest body buffer a reader keeps between messages.
const keepBodyBuffer = 64 << 10

// reader frames and decodes frontend messages. It owns its read buffer so
// that it can peek at messages the client has already sent. A decoded
// message, and any slice in it, is valid until the next read.
type reader struct {
	br      *bufio.Reader
	maxSize int
	buf     []byte

	bind         pgproto3.Bind
	close        pgproto3.Close
	copyData     pgproto3.CopyData
	copyDone     pgproto3.CopyDone
	copyFail     pgproto3.CopyFail
	describe     pgproto3.Describe
	execute      pgproto3.Execute
	flush        pgproto3.Flush
	functionCall pgproto3.FunctionCall
	parse        pgproto3.Parse
	query        pgproto3.Query
	sync         pgproto3.Sync
	terminate    pgproto3.Terminate
}

// newReader returns a reader of messages from r whose bodies may be up to
// maxSize bytes.
func newReader(r io.Reader, maxSize int) *reader {
	return &reader{br: bufio.NewReaderSize(r, readBufferSize), maxSize: maxSize}
}

// protocolViolation is the FATAL 08P01 error sent for a malformed stream.
func protocolViolation(format string, args ...any) *Error {
	return &Error{Severity: "FATAL", Code: pgerrcode.ProtocolViolation, Message: fmt.Sprintf(format, args...)}
}

// body reads the next n bytes into the reader's buffer.
func (r *reader) body(n int) ([]byte, error) {
	var b []byte
	switch {
	case n <= cap(r.buf):
		b = r.buf[:n]
	case n <= keepBodyBuffer:
		r.buf = make([]byte, n, keepBodyBuffer)
		b = r.buf
	default:
		b = make([]byte, n)
	}
	if _, err := io.ReadFull(r.br, b); err != nil {
		return nil, unexpectedEOF(err)
	}
	return b, nil
}

// unexpectedEOF turns io.EOF in the middle of a message into
// io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readStartup reads a startup packet: a length that counts itself, then the
// body, whose first four bytes are a protocol version or request code.
func (r *reader) readStartup(maxLen int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r.br, hdr[:]); err != nil {
		return nil, err
	}
	n := int64(int32(binary.BigEndian.Uint32(hdr[:])))
	if n < 8 || n > int64(maxLen) {
		return nil, protocolViolation("invalid length of startup packet")
	}
	return r.body(int(n - 4))
}

// limit returns the largest body accepted for a message type, or -1 for a
// type that is not a frontend message of the normal phase.
func (r *reader) limit(typ byte) int {
	switch typ {
	case 'Q', 'P', 'B', 'F', 'd':
		return r.maxSize
	case 'X', 'C', 'D', 'E', 'H', 'S', 'c', 'f':
		return min(smallMessageLimit, r.maxSize)
	default:
		return -1
	}
}

// header reads a message's type and body length and checks them against
// limit, which returns -1 for types not allowed here.
func (r *reader) header(limit func(byte) int) (byte, int, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r.br, hdr[:1]); err != nil {
		return 0, 0, err
	}
	max := limit(hdr[0])
	if max < 0 {
		return 0, 0, protocolViolation("invalid frontend message type %d", hdr[0])
	}
	if _, err := io.ReadFull(r.br, hdr[1:]); err != nil {
		return 0, 0, unexpectedEOF(err)
	}
	n := int64(int32(binary.BigEndian.Uint32(hdr[1:])))
	if n < 4 {
		return 0, 0, protocolViolation("invalid message length")
	}
	if n-4 > int64(max) {
		return 0, 0, &Error{
			Severity: "FATAL",
			Code:     pgerrcode.ProtocolViolation,
			Message:  "invalid message length",
			Detail:   fmt.Sprintf("A message of type %q has %d bytes; the limit is %d.", hdr[0], n-4, max),
		}
	}
	return hdr[0], int(n - 4), nil
}

// receivePassword reads a PasswordMessage ('p', also used for SASL) during
// authentication and returns its body.
func (r *reader) receivePassword() ([]byte, error) {
	b, err := r.br.Peek(1)
	if err != nil {
		return nil, err
	}
	if b[0] != 'p' {
		return nil, protocolViolation("expected password response, got message type %d", b[0])
	}
	_, n, err := r.header(func(byte) int { return maxAuthTokenLength })
	if err != nil {
		return nil, err
	}
	return r.body(n)
}

// receive reads and decodes the next message of the normal phase.
func (r *reader) receive() (pgproto3.FrontendMessage, error) {
	typ, n, err := r.header(r.limit)
	if err != nil {
		return nil, err
	}
	b, err := r.body(n)
	if err != nil {
		return nil, err
	}
	var msg pgproto3.FrontendMessage
	switch typ {
	case 'Q':
		msg = &r.query
	case 'P':
		msg = &r.parse
	case 'B':
		msg = &r.bind
	case 'D':
		msg = &r.describe
	case 'E':
		msg = &r.execute
	case 'C':
		msg = &r.close
	case 'S':
		msg = &r.sync
	case 'H':
		msg = &r.flush
	case 'X':
		msg = &r.terminate
	case 'd':
		msg = &r.copyData
	case 'c':
		msg = &r.copyDone
	case 'f':
		msg = &r.copyFail
	case 'F':
		msg = &r.functionCall
	}
	if err := msg.Decode(b); err != nil {
		return nil, &Error{
			Severity: "FATAL",
			Code:     pgerrcode.ProtocolViolation,
			Message:  "invalid message format",
			Detail:   err.Error(),
		}
	}
	return msg, nil
}

// syncBuffered reports whether the next message, already received and
// buffered, is a Sync. It never blocks.
func (r *reader) syncBuffered() bool {
	if r.br.Buffered() < 5 {
		return false
	}
	b, err := r.br.Peek(5)
	return err == nil && b[0] == 'S' && binary.BigEndian.Uint32(b[1:]) == 4
}

// buffered returns how many received bytes wait in the read buffer.
func (r *reader) buffered() int { return r.br.Buffered() }
