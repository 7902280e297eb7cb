package federation

import (
	"bufio"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// The client protocol (coordinator -> validator), one exchange per TCP
// connection:
//
//	C: frame(submit: nonce[32] | commit.Request encoding)
//	S: frame(accepted), then
//	   frame(outcome: u8 outcome | u8 applied | u64 slot | hash[32] | u16 len gid | signer[32] | signature[64])
//	   or frame(error: message)
//
// The server answers as soon as the gid is final; a COMMIT not yet applied
// everywhere gets a second answer, with applied set, once every
// participant organization's validator reported the slot applied (kind 34
// on the validator links). Frames are u32 length | u8 kind | payload, at most maxClientFrame. The
// request is signed by its coordinator, so whoever submits it proves
// nothing and needs no authentication (validators gossip it the same way);
// the outcome is signed by the validator's key over outcomeDomain, the
// network id, the client's fresh nonce and the content, so nobody else can
// forge it or replay an old one.
const (
	frameSubmit  byte = 1
	frameOutcome byte = 2
	frameError   byte = 3
	// frameAccepted (empty) tells that the validator learned the request
	// and broadcast it; it is advisory and unsigned (Client.Submit).
	frameAccepted byte = 4

	maxClientFrame = 1 << 20
	outcomeDomain  = "pgfed/federation/v1/outcome"
)

// Outcome is the final decision of a gid, as a validator answered it.
type Outcome struct {
	// GID is the global transaction id.
	GID string
	// Outcome is commit.Commit or commit.Abort.
	Outcome commit.Outcome
	// Slot is the ledger slot that made it final.
	Slot uint64
	// Request is the hash of the decided request: a different hash than
	// the one submitted means another request for the gid was decided.
	Request consensus.Hash
	// Applied reports that every participant organization applied the
	// decision (for a COMMIT: its writes are visible on every worker). An
	// ABORT is answered without waiting for it.
	Applied bool
	// Validator is the key that signed the answer.
	Validator quorum.NodeID
}

func writeFrame(w io.Writer, kind byte, payload []byte) error {
	b := make([]byte, 0, 5+len(payload))
	b = binary.BigEndian.AppendUint32(b, uint32(1+len(payload)))
	b = append(b, kind)
	b = append(b, payload...)
	_, err := w.Write(b)
	return err
}

func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > maxClientFrame {
		return 0, nil, fmt.Errorf("federation: frame of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return body[0], body[1:], nil
}

func outcomeContent(o *Outcome) []byte {
	applied := byte(0)
	if o.Applied {
		applied = 1
	}
	b := []byte{byte(o.Outcome), applied}
	b = binary.BigEndian.AppendUint64(b, o.Slot)
	b = append(b, o.Request[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(o.GID)))
	return append(b, o.GID...)
}

func outcomeSigning(network consensus.Hash, nonce []byte, content []byte) []byte {
	b := append([]byte(outcomeDomain), network[:]...)
	b = append(b, nonce...)
	return append(b, content...)
}

// encodeOutcome signs o for the client's nonce.
func encodeOutcome(network consensus.Hash, key ed25519.PrivateKey, nonce []byte, o *Outcome) []byte {
	content := outcomeContent(o)
	b := append([]byte(nil), content...)
	b = append(b, key.Public().(ed25519.PublicKey)...)
	return append(b, ed25519.Sign(key, outcomeSigning(network, nonce, content))...)
}

// ErrBadOutcome: an answer that does not decode or whose signature fails.
var ErrBadOutcome = errors.New("federation: bad outcome")

// decodeOutcome parses and verifies an outcome answer for nonce.
func decodeOutcome(network consensus.Hash, nonce []byte, b []byte) (Outcome, error) {
	var o Outcome
	const head = 1 + 1 + 8 + 32 + 2
	if len(b) < head {
		return o, fmt.Errorf("%w: %d bytes", ErrBadOutcome, len(b))
	}
	o.Outcome = commit.Outcome(b[0])
	o.Applied = b[1] == 1
	o.Slot = binary.BigEndian.Uint64(b[2:10])
	copy(o.Request[:], b[10:42])
	n := int(binary.BigEndian.Uint16(b[42:head]))
	if len(b) != head+n+32+64 {
		return o, fmt.Errorf("%w: %d bytes", ErrBadOutcome, len(b))
	}
	o.GID = string(b[head : head+n])
	copy(o.Validator[:], b[head+n:head+n+32])
	sig := b[head+n+32:]
	if o.Outcome != commit.Commit && o.Outcome != commit.Abort || b[1] > 1 {
		return o, fmt.Errorf("%w: gid %s: outcome %d, applied %d", ErrBadOutcome, o.GID, o.Outcome, b[1])
	}
	if !ed25519.Verify(ed25519.PublicKey(o.Validator[:]), outcomeSigning(network, nonce, b[:head+n]), sig) {
		return o, fmt.Errorf("%w: gid %s: bad signature of %s", ErrBadOutcome, o.GID, o.Validator)
	}
	return o, nil
}
