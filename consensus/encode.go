package consensus

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Limits enforced by Decode and Statement.Check.
const (
	// MaxValueSize bounds one value, in bytes.
	MaxValueSize = 1 << 20
	// MaxNominationValues bounds each list of a NOMINATE statement.
	MaxNominationValues = 1024
	// MaxEnvelopeSize bounds an encoded envelope, in bytes.
	MaxEnvelopeSize = 8 << 20
	// MaxSignatureSize bounds an envelope's signature, in bytes.
	MaxSignatureSize = 512
)

// ErrMalformed is returned (wrapped) for statements and encodings that break
// the format or the protocol's sanity rules.
var ErrMalformed = errors.New("consensus: malformed statement")

// signingDomain separates pgfed SCP signatures from every other use of a
// validator's key.
const signingDomain = "pgfed/scp/v1"

// EnvelopeTypeSCP is the message kind bound into every signature (as
// stellar-core's ENVELOPE_TYPE_SCP).
const EnvelopeTypeSCP uint32 = 1

// SigningBytes is what a transport signs and verifies for a statement:
// the domain "pgfed/scp/v1", the network id, the message kind
// EnvelopeTypeSCP, and the canonical encoding of the statement. Binding the
// network and kind prevents replay across networks and message types.
func SigningBytes(networkID Hash, st Statement) []byte {
	var e encoder
	e.buf = append(e.buf, signingDomain...)
	e.buf = append(e.buf, networkID[:]...)
	e.u32(EnvelopeTypeSCP)
	e.statement(&st)
	return e.buf
}

// EncodeStatement returns the canonical encoding of a statement.
func EncodeStatement(st Statement) []byte {
	var e encoder
	e.statement(&st)
	return e.buf
}

// Encode returns the canonical encoding of an envelope: the statement, then
// the signature with a 32-bit length.
func (env Envelope) Encode() []byte {
	var e encoder
	e.statement(&env.Statement)
	e.bytes(env.Signature)
	return e.buf
}

// DecodeEnvelope parses an envelope produced by Envelope.Encode. It rejects,
// with an error wrapping ErrMalformed and without panicking, any input that
// is truncated, oversized, has trailing bytes, is not in canonical form, or
// whose statement fails Statement.Check. The result shares no memory with b.
func DecodeEnvelope(b []byte) (Envelope, error) {
	if len(b) > MaxEnvelopeSize {
		return Envelope{}, fmt.Errorf("%w: envelope of %d bytes exceeds %d", ErrMalformed, len(b), MaxEnvelopeSize)
	}
	d := decoder{buf: b}
	st := d.statement()
	sig := d.bytes(MaxSignatureSize)
	if d.err == nil && len(d.buf) != 0 {
		d.fail("%d trailing bytes", len(d.buf))
	}
	if d.err != nil {
		return Envelope{}, d.err
	}
	if err := st.Check(); err != nil {
		return Envelope{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return Envelope{Statement: st, Signature: sig}, nil
}

// DecodeStatement parses the output of EncodeStatement, with the same
// checks as DecodeEnvelope.
func DecodeStatement(b []byte) (Statement, error) {
	if len(b) > MaxEnvelopeSize {
		return Statement{}, fmt.Errorf("%w: statement of %d bytes exceeds %d", ErrMalformed, len(b), MaxEnvelopeSize)
	}
	d := decoder{buf: b}
	st := d.statement()
	if d.err == nil && len(d.buf) != 0 {
		d.fail("%d trailing bytes", len(d.buf))
	}
	if d.err != nil {
		return Statement{}, d.err
	}
	if err := st.Check(); err != nil {
		return Statement{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return st, nil
}

type encoder struct{ buf []byte }

func (e *encoder) u8(v uint8)   { e.buf = append(e.buf, v) }
func (e *encoder) u32(v uint32) { e.buf = binary.BigEndian.AppendUint32(e.buf, v) }
func (e *encoder) u64(v uint64) { e.buf = binary.BigEndian.AppendUint64(e.buf, v) }
func (e *encoder) bytes(b []byte) {
	e.u32(uint32(len(b)))
	e.buf = append(e.buf, b...)
}
func (e *encoder) hash(h Hash) { e.buf = append(e.buf, h[:]...) }
func (e *encoder) ballot(b Ballot) {
	e.u32(b.Counter)
	e.bytes(b.Value)
}
func (e *encoder) optBallot(b *Ballot) {
	if b == nil {
		e.u8(0)
		return
	}
	e.u8(1)
	e.ballot(*b)
}
func (e *encoder) values(vs []Value) {
	e.u32(uint32(len(vs)))
	for _, v := range vs {
		e.bytes(v)
	}
}

func (e *encoder) statement(st *Statement) {
	e.buf = append(e.buf, st.NodeID[:]...)
	e.u64(st.Slot)
	e.u8(uint8(st.Type()))
	switch p := st.Pledge.(type) {
	case Nominate:
		e.hash(p.QSetHash)
		e.values(p.Votes)
		e.values(p.Accepted)
	case Prepare:
		e.hash(p.QSetHash)
		e.ballot(p.Ballot)
		e.optBallot(p.Prepared)
		e.optBallot(p.PreparedPrime)
		e.u32(p.NC)
		e.u32(p.NH)
	case Confirm:
		e.ballot(p.Ballot)
		e.u32(p.NPrepared)
		e.u32(p.NCommit)
		e.u32(p.NH)
		e.hash(p.QSetHash)
	case Externalize:
		e.ballot(p.Commit)
		e.u32(p.NH)
		e.hash(p.CommitQSetHash)
	}
}

// decoder reads the canonical encoding; the first error sticks and every
// later read returns zero values.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.buf) {
		d.fail("truncated input")
		return nil
	}
	b := d.buf[:n]
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) u8() uint8 {
	b := d.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (d *decoder) u32() uint32 {
	b := d.take(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (d *decoder) u64() uint64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (d *decoder) hash() (h Hash) {
	copy(h[:], d.take(32))
	return h
}

func (d *decoder) bytes(max int) []byte {
	n := d.u32()
	if d.err != nil {
		return nil
	}
	if n > uint32(max) {
		d.fail("field of %d bytes exceeds %d", n, max)
		return nil
	}
	b := d.take(int(n))
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func (d *decoder) value() Value {
	b := d.bytes(MaxValueSize)
	if b == nil {
		return Value{}
	}
	return b
}

func (d *decoder) ballot() Ballot {
	c := d.u32()
	return Ballot{Counter: c, Value: d.value()}
}

func (d *decoder) optBallot() *Ballot {
	switch d.u8() {
	case 0:
		return nil
	case 1:
		b := d.ballot()
		return &b
	default:
		d.fail("optional flag not 0 or 1")
		return nil
	}
}

func (d *decoder) values() []Value {
	n := d.u32()
	if n > MaxNominationValues {
		d.fail("%d nomination values exceed %d", n, MaxNominationValues)
		return nil
	}
	var vs []Value
	for i := uint32(0); i < n && d.err == nil; i++ {
		vs = append(vs, d.value())
	}
	return vs
}

func (d *decoder) statement() Statement {
	var st Statement
	copy(st.NodeID[:], d.take(32))
	st.Slot = d.u64()
	switch t := StatementType(d.u8()); t {
	case TypeNominate:
		var p Nominate
		p.QSetHash = d.hash()
		p.Votes = d.values()
		p.Accepted = d.values()
		st.Pledge = p
	case TypePrepare:
		var p Prepare
		p.QSetHash = d.hash()
		p.Ballot = d.ballot()
		p.Prepared = d.optBallot()
		p.PreparedPrime = d.optBallot()
		p.NC = d.u32()
		p.NH = d.u32()
		st.Pledge = p
	case TypeConfirm:
		var p Confirm
		p.Ballot = d.ballot()
		p.NPrepared = d.u32()
		p.NCommit = d.u32()
		p.NH = d.u32()
		p.QSetHash = d.hash()
		st.Pledge = p
	case TypeExternalize:
		var p Externalize
		p.Commit = d.ballot()
		p.NH = d.u32()
		p.CommitQSetHash = d.hash()
		st.Pledge = p
	default:
		d.fail("unknown statement type %d", t)
	}
	return st
}
