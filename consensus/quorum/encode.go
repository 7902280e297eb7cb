package quorum

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// The encoding is the XDR of stellar-core's SCPQuorumSet, byte for byte:
//
//	uint32 threshold
//	uint32 n, then n validators, each uint32 key type (0 = Ed25519) + 32 key bytes
//	uint32 m, then m inner sets, each encoded the same way
//
// all integers big-endian. Keeping the key-type word makes Hash equal to the
// quorum set hash stellar-core computes for the same set.

// MaxEncodedLen bounds the input Decode accepts. A sane quorum set (at most
// MaxValidators validators, MaxDepth+1 levels) always fits.
const MaxEncodedLen = 1 << 17

const keyTypeEd25519 = 0

// ErrMalformed is the sentinel every DecodeError wraps.
var ErrMalformed = errors.New("malformed quorum set encoding")

// DecodeError says why Decode rejected its input and at which byte offset.
type DecodeError struct {
	Offset int
	Reason string
}

// Error describes the problem and its offset.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("malformed quorum set encoding at byte %d: %s", e.Offset, e.Reason)
}

// Unwrap returns ErrMalformed.
func (e *DecodeError) Unwrap() error { return ErrMalformed }

// Encode returns the canonical binary encoding of q. Encode does not
// normalize: callers that hash a quorum set to identify it normalize first.
func (q *QSet) Encode() []byte { return q.AppendEncode(nil) }

// AppendEncode appends the encoding of q to b and returns the extended slice.
func (q *QSet) AppendEncode(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, q.Threshold)
	b = binary.BigEndian.AppendUint32(b, uint32(len(q.Validators)))
	for _, v := range q.Validators {
		b = binary.BigEndian.AppendUint32(b, keyTypeEd25519)
		b = append(b, v[:]...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(q.InnerSets)))
	for i := range q.InnerSets {
		b = q.InnerSets[i].AppendEncode(b)
	}
	return b
}

// Hash returns the SHA-256 of the encoding of q (not normalized: see Normalize).
func (q *QSet) Hash() [32]byte { return sha256.Sum256(q.Encode()) }

// Decode parses an encoding produced by Encode. It rejects, with a
// *DecodeError and without panicking, input longer than MaxEncodedLen,
// truncated input, trailing bytes, key types other than Ed25519, counts that
// cannot fit in the remaining bytes, nesting deeper than MaxDepth and more
// than MaxValidators validators in total. It does not check thresholds: run
// Sane on the result. For every accepted input, Encode of the result gives
// the input back.
func Decode(b []byte) (QSet, error) {
	if len(b) > MaxEncodedLen {
		return QSet{}, &DecodeError{Offset: MaxEncodedLen, Reason: fmt.Sprintf("%d bytes, more than %d", len(b), MaxEncodedLen)}
	}
	d := decoder{b: b}
	q, err := d.qset(0)
	if err != nil {
		return QSet{}, err
	}
	if d.off != len(b) {
		return QSet{}, &DecodeError{Offset: d.off, Reason: fmt.Sprintf("%d trailing bytes", len(b)-d.off)}
	}
	return q, nil
}

type decoder struct {
	b          []byte
	off        int
	validators int
}

func (d *decoder) uint32() (uint32, error) {
	if len(d.b)-d.off < 4 {
		return 0, &DecodeError{Offset: d.off, Reason: "truncated"}
	}
	v := binary.BigEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v, nil
}

const (
	validatorLen = 4 + 32
	minQSetLen   = 12
)

func (d *decoder) qset(depth int) (QSet, error) {
	if depth > MaxDepth {
		return QSet{}, &DecodeError{Offset: d.off, Reason: fmt.Sprintf("nested deeper than %d levels", MaxDepth)}
	}
	var q QSet
	var err error
	if q.Threshold, err = d.uint32(); err != nil {
		return QSet{}, err
	}
	n, err := d.uint32()
	if err != nil {
		return QSet{}, err
	}
	if uint64(n)*validatorLen > uint64(len(d.b)-d.off) {
		return QSet{}, &DecodeError{Offset: d.off - 4, Reason: fmt.Sprintf("%d validators do not fit in the remaining bytes", n)}
	}
	d.validators += int(n)
	if d.validators > MaxValidators {
		return QSet{}, &DecodeError{Offset: d.off - 4, Reason: fmt.Sprintf("more than %d validators", MaxValidators)}
	}
	if n > 0 {
		q.Validators = make([]NodeID, n)
	}
	for i := range q.Validators {
		kt, _ := d.uint32() // the length check above guarantees the bytes
		if kt != keyTypeEd25519 {
			return QSet{}, &DecodeError{Offset: d.off - 4, Reason: fmt.Sprintf("key type %d, want %d (Ed25519)", kt, keyTypeEd25519)}
		}
		copy(q.Validators[i][:], d.b[d.off:d.off+32])
		d.off += 32
	}
	m, err := d.uint32()
	if err != nil {
		return QSet{}, err
	}
	if uint64(m)*minQSetLen > uint64(len(d.b)-d.off) {
		return QSet{}, &DecodeError{Offset: d.off - 4, Reason: fmt.Sprintf("%d inner sets do not fit in the remaining bytes", m)}
	}
	if m > 0 {
		q.InnerSets = make([]QSet, m)
	}
	for i := range q.InnerSets {
		if q.InnerSets[i], err = d.qset(depth + 1); err != nil {
			return QSet{}, err
		}
	}
	return q, nil
}
