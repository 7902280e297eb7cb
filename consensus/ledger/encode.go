package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// Record is one ledger entry: the value externalized for Slot and the
// signed envelopes that justify it.
type Record struct {
	Slot  uint64
	Value consensus.Value
	// Proof holds signed CONFIRM or EXTERNALIZE statements for Value: the
	// signers contain a quorum that accepted (or confirmed) the commit.
	Proof []consensus.Envelope
}

// ErrMalformed is wrapped by DecodeRecord's errors.
var ErrMalformed = errors.New("ledger: malformed record")

const (
	tagRecord byte = 'R'
	tagHeader byte = 'H'
	// maxProof bounds the number of envelopes in a record's proof.
	maxProof = 4096
)

// EncodeRecord returns the canonical encoding of r (the payload stored in
// ledger.log and sent to peers that catch up).
func EncodeRecord(r Record) []byte {
	b := []byte{tagRecord}
	b = binary.BigEndian.AppendUint64(b, r.Slot)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Value)))
	b = append(b, r.Value...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Proof)))
	for _, e := range r.Proof {
		enc := e.Encode()
		b = binary.BigEndian.AppendUint32(b, uint32(len(enc)))
		b = append(b, enc...)
	}
	return b
}

// DecodeRecord parses EncodeRecord's output. It never panics; errors wrap
// ErrMalformed (or consensus.ErrMalformed for a bad envelope).
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	d := rd{b: b}
	if d.u8() != tagRecord {
		return r, fmt.Errorf("%w: not a slot record", ErrMalformed)
	}
	r.Slot = d.u64()
	v := d.bytes(consensus.MaxValueSize)
	if d.err == nil {
		r.Value = consensus.Value(bytes.Clone(v))
		if r.Value == nil {
			r.Value = consensus.Value{}
		}
	}
	n := d.u32()
	if d.err == nil && n > maxProof {
		return r, fmt.Errorf("%w: slot %d: proof of %d envelopes exceeds %d", ErrMalformed, r.Slot, n, maxProof)
	}
	for i := uint32(0); i < n && d.err == nil; i++ {
		eb := d.bytes(consensus.MaxEnvelopeSize)
		if d.err != nil {
			break
		}
		env, err := consensus.DecodeEnvelope(eb)
		if err != nil {
			return r, fmt.Errorf("ledger: slot %d: proof envelope %d: %w", r.Slot, i, err)
		}
		r.Proof = append(r.Proof, env)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(d.b))
	}
	if d.err != nil {
		return Record{}, d.err
	}
	if r.Slot == 0 {
		return Record{}, fmt.Errorf("%w: slot 0", ErrMalformed)
	}
	return r, nil
}

// header identifies a log file: its kind, network and node.
type header struct {
	kind    string // 8 bytes
	network consensus.Hash
	node    quorum.NodeID
}

func (h header) encode() []byte {
	b := []byte{tagHeader}
	b = append(b, h.kind...)
	b = append(b, h.network[:]...)
	return append(b, h.node[:]...)
}

func decodeHeader(b []byte) (header, error) {
	var h header
	if len(b) != 1+8+32+32 || b[0] != tagHeader {
		return h, fmt.Errorf("%w: bad header record", ErrCorrupt)
	}
	h.kind = string(b[1:9])
	copy(h.network[:], b[9:41])
	copy(h.node[:], b[41:73])
	return h, nil
}

// rd reads big-endian fields; the first error sticks.
type rd struct {
	b   []byte
	err error
}

func (d *rd) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = fmt.Errorf("%w: truncated", ErrMalformed)
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *rd) u8() byte {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *rd) u32() uint32 {
	if b := d.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (d *rd) u64() uint64 {
	if b := d.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (d *rd) bytes(max int) []byte {
	n := d.u32()
	if d.err != nil {
		return nil
	}
	if n > uint32(max) {
		d.err = fmt.Errorf("%w: field of %d bytes exceeds %d", ErrMalformed, n, max)
		return nil
	}
	return d.take(int(n))
}
