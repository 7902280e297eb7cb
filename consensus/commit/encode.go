package commit

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The wire form of every message is a hand-written, big-endian binary
// encoding with one encoding per message (canonical): strings and lists
// carry their length, lists are in the one order their type prescribes,
// enums are checked, and nothing may follow the message. Decode functions
// enforce all of it, so Encode(Decode(b)) == b for every accepted b.
//
//	string    u16 length | bytes
//	key       32 bytes (Ed25519 public key)
//	signature 64 bytes (Ed25519)
//	hash      32 bytes (SHA-256)

// Limits enforced by the decoders and by Config.
const (
	// MaxGIDLen bounds a worker gid: PostgreSQL's GIDSIZE is 200 bytes with
	// the terminating NUL.
	MaxGIDLen = 199
	// MaxNameLen bounds organization and worker names.
	MaxNameLen = 64
	// MaxParticipants bounds the organizations of one request.
	MaxParticipants = 32
	// MaxParts bounds the prepared parts of one organization in a request.
	MaxParts = 256
	// MaxVotes bounds the votes carried by one decision.
	MaxVotes = 1024
	// MaxDecisionsLimit is the largest Config.MaxDecisions allowed.
	MaxDecisionsLimit = 4096
	// DefaultMaxDecisions is the default number of decisions per slot.
	DefaultMaxDecisions = 256
)

// ErrMalformed is wrapped by every decoding error: truncated, oversized,
// out of order, duplicated, badly named, or trailing input.
var ErrMalformed = errors.New("commit: malformed message")

// signingDomain separates the federated commit's signatures from every
// other use of a key (the SCP envelopes use "pgfed/scp/v1").
const signingDomain = "pgfed/commit/v1"

// Message kinds bound into signatures, so that a signed request can never
// pass for a vote or the reverse.
const (
	kindRequest uint32 = 1
	kindVote    uint32 = 2
)

// hashDomain prefixes the content hashed into a request hash.
const hashDomain = "pgfed/commit/v1/request"

// signingBytes is what is signed for a message: the domain, the network id,
// the message kind and the canonical content.
func signingBytes(network [32]byte, kind uint32, content []byte) []byte {
	b := make([]byte, 0, len(signingDomain)+32+4+len(content))
	b = append(b, signingDomain...)
	b = append(b, network[:]...)
	b = binary.BigEndian.AppendUint32(b, kind)
	return append(b, content...)
}

type encoder struct{ buf []byte }

func (e *encoder) u8(v uint8)   { e.buf = append(e.buf, v) }
func (e *encoder) u16(v uint16) { e.buf = binary.BigEndian.AppendUint16(e.buf, v) }
func (e *encoder) u32(v uint32) { e.buf = binary.BigEndian.AppendUint32(e.buf, v) }
func (e *encoder) u64(v uint64) { e.buf = binary.BigEndian.AppendUint64(e.buf, v) }
func (e *encoder) raw(b []byte) { e.buf = append(e.buf, b...) }

// str writes a string; callers only encode strings that passed the limits
// (anything longer is cut, which the decoder would then reject).
func (e *encoder) str(s string) {
	if len(s) > 0xffff {
		s = s[:0xffff]
	}
	e.u16(uint16(len(s)))
	e.buf = append(e.buf, s...)
}

// decoder reads a canonical encoding; the first error sticks and every
// later read returns zero values, so callers check err once at the end.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.buf) {
		d.fail("truncated %s", what)
		return nil
	}
	b := d.buf[:n:n]
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) u8(what string) uint8 {
	b := d.take(1, what)
	if b == nil {
		return 0
	}
	return b[0]
}

func (d *decoder) u16(what string) uint16 {
	b := d.take(2, what)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint16(b)
}

func (d *decoder) u32(what string) uint32 {
	b := d.take(4, what)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (d *decoder) u64(what string) uint64 {
	b := d.take(8, what)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// fixed copies n bytes into dst.
func (d *decoder) fixed(dst []byte, what string) {
	if b := d.take(len(dst), what); b != nil {
		copy(dst, b)
	}
}

// str reads a string of at most max bytes and checks it with valid.
func (d *decoder) str(max int, what string, valid func(string) error) string {
	n := int(d.u16(what + " length"))
	if d.err != nil {
		return ""
	}
	if n > max {
		d.fail("%s of %d bytes exceeds %d", what, n, max)
		return ""
	}
	b := d.take(n, what)
	if d.err != nil {
		return ""
	}
	s := string(b)
	if err := valid(s); err != nil {
		d.fail("%s: %v", what, err)
		return ""
	}
	return s
}

// count reads a list length of at most max, each element taking at least
// minSize bytes (so a forged count cannot make the decoder allocate more
// than the input justifies).
func (d *decoder) count16(max, minSize int, what string) int {
	n := int(d.u16(what + " count"))
	d.checkCount(n, max, minSize, what)
	if d.err != nil {
		return 0
	}
	return n
}

func (d *decoder) count32(max, minSize int, what string) int {
	n64 := uint64(d.u32(what + " count"))
	if d.err != nil {
		return 0
	}
	if n64 > uint64(max) {
		d.fail("%d %s exceed %d", n64, what, max)
		return 0
	}
	n := int(n64)
	d.checkCount(n, max, minSize, what)
	if d.err != nil {
		return 0
	}
	return n
}

func (d *decoder) checkCount(n, max, minSize int, what string) {
	if d.err != nil {
		return
	}
	if n > max {
		d.fail("%d %s exceed %d", n, what, max)
		return
	}
	if n*minSize > len(d.buf) {
		d.fail("%d %s cannot fit in %d bytes", n, what, len(d.buf))
	}
}

// end fails when bytes are left.
func (d *decoder) end() {
	if d.err == nil && len(d.buf) != 0 {
		d.fail("%d trailing bytes", len(d.buf))
	}
}

// checkGID accepts 1..MaxGIDLen bytes of ASCII letters, digits, '_', '-'
// and '.': enough for pgfed's gids (pgfed_<coordinator>_<txid>_<node>) and
// safe to quote in SQL.
func checkGID(s string) error {
	if s == "" || len(s) > MaxGIDLen {
		return fmt.Errorf("gid must have 1 to %d bytes, has %d", MaxGIDLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		if !gidByte(s[i]) {
			return fmt.Errorf("gid %q: byte 0x%02x not allowed", s, s[i])
		}
	}
	return nil
}

func gidByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// checkName accepts organization and worker names: 1..MaxNameLen bytes of
// ASCII letters, digits, '_', '-', '.', ':' (host:port).
func checkName(s string) error {
	if s == "" || len(s) > MaxNameLen {
		return fmt.Errorf("name must have 1 to %d bytes, has %d", MaxNameLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !gidByte(c) && c != ':' {
			return fmt.Errorf("name %q: byte 0x%02x not allowed", s, c)
		}
	}
	return nil
}
