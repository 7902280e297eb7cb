package commit

import (
	"bytes"
	"fmt"
)

// Outcome is the fate of a transaction.
type Outcome uint8

// The outcomes.
const (
	// Commit: COMMIT PREPARED every part.
	Commit Outcome = 1
	// Abort: ROLLBACK PREPARED every part.
	Abort Outcome = 2
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case Commit:
		return "COMMIT"
	case Abort:
		return "ABORT"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

func (o Outcome) valid() bool { return o == Commit || o == Abort }

// voteKind is the vote kind that justifies the outcome.
func (o Outcome) voteKind() VoteKind {
	if o == Commit {
		return VotePrepared
	}
	return VoteAbort
}

// Decision is an outcome for a request with its evidence: the signed
// request and the votes that justify the outcome (see CheckDecision).
type Decision struct {
	// Outcome is COMMIT or ABORT.
	Outcome Outcome
	// Request is the coordinator's signed request.
	Request Request
	// Votes justify the outcome, sorted by signer key, one per signer.
	Votes []Vote
}

// GID is the decided transaction's global id.
func (d *Decision) GID() string { return d.Request.GID }

// Encode returns the canonical encoding:
//
//	u8 outcome | request | u16 n | n × vote
func (d *Decision) Encode() []byte {
	var e encoder
	e.decision(d)
	return e.buf
}

func (e *encoder) decision(d *Decision) {
	e.u8(uint8(d.Outcome))
	e.request(&d.Request)
	e.u16(uint16(len(d.Votes)))
	for i := range d.Votes {
		e.vote(&d.Votes[i])
	}
}

// DecodeDecision parses Decision.Encode's output strictly; it verifies no
// signature (CheckDecision does).
func DecodeDecision(b []byte) (Decision, error) {
	dec := decoder{buf: b}
	d := dec.decision()
	dec.end()
	if dec.err != nil {
		return Decision{}, dec.err
	}
	return d, nil
}

func (dec *decoder) decision() Decision {
	var d Decision
	d.Outcome = Outcome(dec.u8("outcome"))
	if dec.err == nil && !d.Outcome.valid() {
		dec.fail("outcome %d", d.Outcome)
	}
	d.Request = dec.request()
	n := dec.count16(MaxVotes, voteMinSize, "votes")
	if dec.err == nil && n == 0 {
		dec.fail("decision for %s without votes", d.Request.GID)
	}
	for i := 0; i < n && dec.err == nil; i++ {
		v := dec.vote()
		if dec.err == nil && i > 0 && bytes.Compare(d.Votes[i-1].Signer[:], v.Signer[:]) >= 0 {
			dec.fail("votes for %s not sorted by signer, or one signer twice", d.Request.GID)
		}
		d.Votes = append(d.Votes, v)
	}
	return d
}

// clone returns a deep copy.
func (d Decision) clone() Decision {
	d.Request = d.Request.clone()
	d.Votes = append([]Vote(nil), d.Votes...)
	return d
}
