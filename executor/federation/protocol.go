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
// or, to read the validator's decision ledger (Client.Ledger, read-only):
//
//	C: frame(ledger: nonce[32] | u64 from slot | u32 limit)
//	S: frame(ledger page: page content (encodeLedgerPage) | signer[32] | signature[64])
//	   or frame(error: message)
//
// A validator older than the ledger query closes the connection on the
// unknown frame kind; the submit exchange is unchanged.
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
	// frameLedger asks for a page of the decision ledger, frameLedgerPage
	// answers it (signed like an outcome, over ledgerDomain).
	frameLedger     byte = 5
	frameLedgerPage byte = 6

	maxClientFrame = 1 << 20
	outcomeDomain  = "pgfed/federation/v1/outcome"
	ledgerDomain   = "pgfed/federation/v1/ledger"
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

// Bounds of the ledger query.
const (
	// MaxLedgerLimit is the most slots one ledger page lists.
	MaxLedgerLimit = 1000
	// maxLedgerScan is the most ledger slots one query reads, with
	// decisions or not (a page may end early; LedgerPage.Next goes on).
	maxLedgerScan = 10000
	// maxLedgerPageBytes bounds a page's content so that it fits a frame
	// with its signature.
	maxLedgerPageBytes = maxClientFrame - 1024
	// ledgerEntryMinSize is the smallest encoded entry: slot, outcome,
	// gid length and one byte, organization count, one organization of
	// one byte.
	ledgerEntryMinSize = 8 + 1 + 2 + 1 + 2 + 2 + 1
	// maxLedgerName bounds a gid or organization name in a page (a
	// commit.Request's are much shorter).
	maxLedgerName = 1 << 10
)

// LedgerPage is a part of one validator's decision ledger
// (commit.Ledger), signed by the validator for the client's nonce.
type LedgerPage struct {
	// Org is the validator's organization.
	Org string
	// Slot is the last slot of the validator's decision ledger.
	Slot uint64
	// Applied is the last slot whose decisions the validator carried out
	// on its organization's workers (at most Slot).
	Applied uint64
	// Digest is commit.Ledger.Digest at Slot: two validators that answer
	// the same Slot and Digest hold identical ledgers.
	Digest [32]byte
	// Decisions are the final decisions of the page's slots, in slot then
	// gid order.
	Decisions []LedgerDecision
	// Next is the first slot after the ones this page covers: ask from
	// there for the next page (Slot+1 when the page reached the end).
	Next uint64
	// Validator is the key that signed the page.
	Validator quorum.NodeID
}

// LedgerDecision is one final decision of a ledger page.
type LedgerDecision struct {
	// Slot is the ledger slot that made the decision final.
	Slot uint64
	// GID is the global transaction id.
	GID string
	// Outcome is commit.Commit or commit.Abort.
	Outcome commit.Outcome
	// Orgs are the participant organizations, sorted.
	Orgs []string
}

// appendLedgerDecision appends d's encoding:
// u64 slot | u8 outcome | u16 len gid | gid | u16 n | n × (u16 len | org).
func appendLedgerDecision(b []byte, d *LedgerDecision) []byte {
	b = binary.BigEndian.AppendUint64(b, d.Slot)
	b = append(b, byte(d.Outcome))
	b = binary.BigEndian.AppendUint16(b, uint16(len(d.GID)))
	b = append(b, d.GID...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(d.Orgs)))
	for _, o := range d.Orgs {
		b = binary.BigEndian.AppendUint16(b, uint16(len(o)))
		b = append(b, o...)
	}
	return b
}

// ledgerPageContent encodes the signed content of a page:
//
//	u64 slot | u64 applied | digest[32] | u64 next | u16 len org | org |
//	u32 n | n × decision (appendLedgerDecision)
func ledgerPageContent(p *LedgerPage) []byte {
	b := binary.BigEndian.AppendUint64(nil, p.Slot)
	b = binary.BigEndian.AppendUint64(b, p.Applied)
	b = append(b, p.Digest[:]...)
	b = binary.BigEndian.AppendUint64(b, p.Next)
	b = binary.BigEndian.AppendUint16(b, uint16(len(p.Org)))
	b = append(b, p.Org...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.Decisions)))
	for i := range p.Decisions {
		b = appendLedgerDecision(b, &p.Decisions[i])
	}
	return b
}

func ledgerSigning(network consensus.Hash, nonce []byte, content []byte) []byte {
	b := append([]byte(ledgerDomain), network[:]...)
	b = append(b, nonce...)
	return append(b, content...)
}

// encodeLedgerPage signs p for the client's nonce.
func encodeLedgerPage(network consensus.Hash, key ed25519.PrivateKey, nonce []byte, p *LedgerPage) []byte {
	content := ledgerPageContent(p)
	b := append([]byte(nil), content...)
	b = append(b, key.Public().(ed25519.PublicKey)...)
	return append(b, ed25519.Sign(key, ledgerSigning(network, nonce, content))...)
}

// ErrBadLedgerPage: a ledger page that does not decode, breaks its own
// rules or whose signature fails.
var ErrBadLedgerPage = errors.New("federation: bad ledger page")

// pageReader reads a page's fields, remembering the first error.
type pageReader struct {
	b   []byte
	err error
}

func (r *pageReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrBadLedgerPage}, args...)...)
	}
}

func (r *pageReader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.fail("%s: %d bytes wanted, %d left", what, n, len(r.b))
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *pageReader) u16(what string) int {
	if v := r.take(2, what); v != nil {
		return int(binary.BigEndian.Uint16(v))
	}
	return 0
}

func (r *pageReader) u64(what string) uint64 {
	if v := r.take(8, what); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// name reads a u16-prefixed string of 1..maxLedgerName bytes.
func (r *pageReader) name(what string) string {
	n := r.u16(what)
	if r.err == nil && (n == 0 || n > maxLedgerName) {
		r.fail("%s of %d bytes", what, n)
	}
	return string(r.take(n, what))
}

// decodeLedgerPage parses and verifies a ledger page answered for nonce.
// Beyond the signature it checks the page's own rules: every count bounded
// by the bytes left, decisions in strictly increasing (slot, gid) order
// within (0, Slot] and before Next, valid outcomes, participant
// organizations sorted without duplicates, Applied at most Slot, nothing
// after the signature.
func decodeLedgerPage(network consensus.Hash, nonce []byte, b []byte) (LedgerPage, error) {
	var p LedgerPage
	const sigLen = 32 + ed25519.SignatureSize
	if len(b) < sigLen || len(b) > maxClientFrame {
		return p, fmt.Errorf("%w: %d bytes", ErrBadLedgerPage, len(b))
	}
	content, signer, sig := b[:len(b)-sigLen], b[len(b)-sigLen:len(b)-ed25519.SignatureSize], b[len(b)-ed25519.SignatureSize:]
	copy(p.Validator[:], signer)
	if !ed25519.Verify(ed25519.PublicKey(signer), ledgerSigning(network, nonce, content), sig) {
		return p, fmt.Errorf("%w: bad signature of %s", ErrBadLedgerPage, p.Validator)
	}
	r := pageReader{b: content}
	p.Slot = r.u64("slot")
	p.Applied = r.u64("applied")
	copy(p.Digest[:], r.take(32, "digest"))
	p.Next = r.u64("next")
	p.Org = r.name("organization")
	var n int
	if v := r.take(4, "count"); v != nil {
		c := binary.BigEndian.Uint32(v)
		if c > uint32(len(r.b)/ledgerEntryMinSize) {
			r.fail("%d decisions in %d bytes", c, len(r.b))
		}
		n = int(c)
	}
	if r.err == nil && p.Applied > p.Slot {
		r.fail("applied slot %d beyond the ledger's %d", p.Applied, p.Slot)
	}
	if r.err == nil && n > 0 {
		p.Decisions = make([]LedgerDecision, 0, n)
	}
	for i := 0; i < n && r.err == nil; i++ {
		var d LedgerDecision
		d.Slot = r.u64("decision slot")
		if o := r.take(1, "outcome"); o != nil {
			d.Outcome = commit.Outcome(o[0])
		}
		d.GID = r.name("gid")
		norgs := r.u16("organizations")
		if r.err == nil && (norgs == 0 || norgs > len(r.b)/3) {
			r.fail("gid %s: %d organizations in %d bytes", d.GID, norgs, len(r.b))
		}
		for j := 0; j < norgs && r.err == nil; j++ {
			o := r.name("organization")
			if r.err == nil && j > 0 && o <= d.Orgs[j-1] {
				r.fail("gid %s: organizations not sorted or %s twice", d.GID, o)
			}
			d.Orgs = append(d.Orgs, o)
		}
		if r.err != nil {
			break
		}
		switch {
		case d.Outcome != commit.Commit && d.Outcome != commit.Abort:
			r.fail("gid %s: outcome %d", d.GID, d.Outcome)
		case d.Slot == 0 || d.Slot > p.Slot || d.Slot >= p.Next:
			r.fail("gid %s in slot %d, ledger at %d, next %d", d.GID, d.Slot, p.Slot, p.Next)
		case i > 0 && (d.Slot < p.Decisions[i-1].Slot || d.Slot == p.Decisions[i-1].Slot && d.GID <= p.Decisions[i-1].GID):
			r.fail("decisions out of order at gid %s, slot %d", d.GID, d.Slot)
		}
		p.Decisions = append(p.Decisions, d)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d bytes after the decisions", len(r.b))
	}
	if r.err != nil {
		return LedgerPage{}, r.err
	}
	return p, nil
}

// pageSlots counts the distinct slots of a page's decisions.
func pageSlots(ds []LedgerDecision) int {
	n := 0
	for i := range ds {
		if i == 0 || ds[i].Slot != ds[i-1].Slot {
			n++
		}
	}
	return n
}
