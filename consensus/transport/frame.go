package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Kind is the type of a frame, or of a local event on the inbound channel.
type Kind uint8

// Frame kinds. The transport itself uses kindHello, kindAuth and kindPing;
// the others carry the validator's messages, whose payloads the transport
// does not interpret.
const (
	// KindConnected is a local event, never sent: a peer completed the
	// handshake; the payload is the Hello it announced.
	KindConnected Kind = 1

	kindHello Kind = 2
	kindAuth  Kind = 3
	kindPing  Kind = 4

	// KindEnvelope carries one signed SCP envelope (consensus encoding).
	KindEnvelope Kind = 16
	// KindGetState asks for the ledger and SCP state of slots >= a u64.
	KindGetState Kind = 17
	// KindRecord carries one ledger record (ledger.EncodeRecord).
	KindRecord Kind = 18
	// KindGetQSet asks for the quorum set with a given hash.
	KindGetQSet Kind = 19
	// KindQSet carries a quorum set (quorum encoding).
	KindQSet Kind = 20
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindConnected:
		return "connected"
	case kindHello:
		return "hello"
	case kindAuth:
		return "auth"
	case kindPing:
		return "ping"
	case KindEnvelope:
		return "envelope"
	case KindGetState:
		return "get-state"
	case KindRecord:
		return "record"
	case KindGetQSet:
		return "get-qset"
	case KindQSet:
		return "qset"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// DefaultMaxFrameSize bounds a frame (kind and payload) unless
// Config.MaxFrameSize says otherwise: room for a ledger record whose proof
// holds a few envelopes with maximal values.
const DefaultMaxFrameSize = 16 << 20

// ErrFrameTooLarge is wrapped when a frame exceeds the maximum size, on
// either side.
var ErrFrameTooLarge = errors.New("transport: frame too large")

// ErrBadFrame is wrapped for frames that cannot be parsed.
var ErrBadFrame = errors.New("transport: bad frame")

// Frames are u32 length (big-endian, of what follows) | u8 kind | payload.

// appendFrame appends a framed message to b.
func appendFrame(b []byte, k Kind, payload []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(1+len(payload)))
	b = append(b, byte(k))
	return append(b, payload...)
}

// readFrame reads one frame, refusing (before allocating) frames larger
// than max.
func readFrame(r *bufio.Reader, max int) (Kind, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return 0, nil, fmt.Errorf("%w: empty frame", ErrBadFrame)
	}
	if uint64(n) > uint64(max) {
		return 0, nil, fmt.Errorf("%w: %d bytes exceed %d", ErrFrameTooLarge, n, max)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return Kind(body[0]), body[1:], nil
}
