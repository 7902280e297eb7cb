package commit

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"github.com/pgfed/pgfed/consensus"
)

// Validity errors. Every rule here depends only on the value and the
// shared Membership: never on a database, a clock or the ledger, so every
// honest validator reaches the same verdict (SCP-NOTES, "Application-level").
var (
	// ErrEvidence: a vote in a decision does not belong to its request (other
	// gid, other request hash, an organization not taking part, or the
	// wrong kind for the outcome).
	ErrEvidence = errors.New("commit: vote does not support the decision")
	// ErrUnjustified: the votes are not enough for the outcome.
	ErrUnjustified = errors.New("commit: decision not justified")
	// ErrValue: a value breaks a value-level rule (empty, too many
	// decisions, undecodable).
	ErrValue = errors.New("commit: bad value")
)

// CheckRequest verifies a request: its form, that every participant is a
// member organization, and the coordinator's signature.
func (m *Membership) CheckRequest(r *Request) error {
	if err := r.check(); err != nil {
		return fmt.Errorf("%w: %v", ErrRequest, err)
	}
	for _, p := range r.Participants {
		if !m.Has(p.Org) {
			return fmt.Errorf("%w: gid %s: participant %q is not a member", ErrRequest, r.GID, p.Org)
		}
	}
	return r.Verify(m.network)
}

// CheckDecision verifies a decision on its own:
//
//   - the outcome is COMMIT or ABORT and the request passes CheckRequest;
//   - the votes are sorted by signer, one per signer, and each passes
//     CheckVote (its signer is a validator of the organization it names, and
//     the signature is good), names the request's gid and hash, comes from
//     a participant of the request, and has the kind of the outcome
//     (PREPARED for COMMIT, ABORT for ABORT);
//   - no organization has more votes than its threshold (the evidence
//     carries no surplus, which bounds the signatures to check);
//   - COMMIT: every participant has PREPARED votes from its threshold of
//     validators; ABORT: at least one participant has ABORT votes from its
//     threshold of validators.
//
// Whether the gid was decided before is not checked: the ledger keeps the
// first decision and ignores the others.
func (m *Membership) CheckDecision(d *Decision) error {
	if !d.Outcome.valid() {
		return fmt.Errorf("%w: gid %s: outcome %d", ErrEvidence, d.GID(), d.Outcome)
	}
	if err := m.CheckRequest(&d.Request); err != nil {
		return err
	}
	gid, hash, kind := d.GID(), d.Request.Hash(), d.Outcome.voteKind()
	if len(d.Votes) == 0 || len(d.Votes) > MaxVotes {
		return fmt.Errorf("%w: gid %s: %d votes", ErrUnjustified, gid, len(d.Votes))
	}
	count := map[string]int{}
	for i := range d.Votes {
		v := &d.Votes[i]
		if i > 0 && bytes.Compare(d.Votes[i-1].Signer[:], v.Signer[:]) >= 0 {
			return fmt.Errorf("%w: gid %s: votes not sorted by signer, or a signer twice", ErrEvidence, gid)
		}
		if v.GID != gid {
			return fmt.Errorf("%w: gid %s: vote for gid %s", ErrEvidence, gid, v.GID)
		}
		if v.Request != hash {
			return fmt.Errorf("%w: gid %s: vote of %s for another request", ErrEvidence, gid, v.Org)
		}
		if _, ok := d.Request.Participant(v.Org); !ok {
			return fmt.Errorf("%w: gid %s: vote of %s, which does not take part", ErrEvidence, gid, v.Org)
		}
		if v.Kind != kind {
			return fmt.Errorf("%w: gid %s: %s vote of %s in a %s decision", ErrEvidence, gid, v.Kind, v.Org, d.Outcome)
		}
		if err := m.CheckVote(v); err != nil {
			return err
		}
		count[v.Org]++
		if count[v.Org] > m.Threshold(v.Org) {
			return fmt.Errorf("%w: gid %s: more votes of %s than its threshold %d", ErrEvidence, gid, v.Org, m.Threshold(v.Org))
		}
	}
	switch d.Outcome {
	case Commit:
		for _, p := range d.Request.Participants {
			if count[p.Org] < m.Threshold(p.Org) {
				return fmt.Errorf("%w: gid %s: COMMIT with %d of %d PREPARED votes of %s", ErrUnjustified, gid, count[p.Org], m.Threshold(p.Org), p.Org)
			}
		}
	case Abort:
		for _, p := range d.Request.Participants {
			if count[p.Org] >= m.Threshold(p.Org) {
				return nil
			}
		}
		return fmt.Errorf("%w: gid %s: ABORT without the ABORT vote of any participant", ErrUnjustified, gid)
	}
	return nil
}

// CheckValue verifies a decoded value: one to MaxDecisions decisions, each
// passing CheckDecision (the order and uniqueness of gids are DecodeValue's).
func (m *Membership) CheckValue(v *Value) error {
	if len(v.Decisions) == 0 {
		return fmt.Errorf("%w: no decisions", ErrValue)
	}
	if len(v.Decisions) > m.maxDecisions {
		return fmt.Errorf("%w: %d decisions exceed %d", ErrValue, len(v.Decisions), m.maxDecisions)
	}
	for i := range v.Decisions {
		if err := m.CheckDecision(&v.Decisions[i]); err != nil {
			return err
		}
	}
	return nil
}

// Driver is the federated commit's consensus.Driver: Validate and Combine
// for the SCP core. Its results depend only on the Membership and the
// arguments; it remembers the values it found valid (the core validates
// the same value many times), which changes no result, only the cost. It
// is safe for concurrent use.
type Driver struct {
	m *Membership

	mu    sync.Mutex
	valid map[[32]byte]struct{} // SHA-256 of values found valid
}

// validCacheSize bounds the memo of valid values; it is emptied when full.
const validCacheSize = 1024

// NewDriver returns the Driver of a federation.
func NewDriver(m *Membership) *Driver { return &Driver{m: m, valid: map[[32]byte]struct{}{}} }

// Validate implements consensus.Driver: FullyValid when v decodes
// (DecodeValue) and passes CheckValue, Invalid otherwise. The verdict is
// the same for every slot, during nomination and after: it never looks at
// the ledger, a database or a clock. It never returns MaybeValid.
func (d *Driver) Validate(_ uint64, v consensus.Value, _ bool) consensus.ValidationLevel {
	if d.Check(v) != nil {
		return consensus.Invalid
	}
	return consensus.FullyValid
}

// Check is Validate with the reason: nil when v is valid.
func (d *Driver) Check(v consensus.Value) error {
	h := sha256.Sum256(v)
	d.mu.Lock()
	_, ok := d.valid[h]
	d.mu.Unlock()
	if ok {
		return nil
	}
	val, err := DecodeValue(v)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrValue, err)
	}
	if err := d.m.CheckValue(&val); err != nil {
		return err
	}
	d.mu.Lock()
	if len(d.valid) >= validCacheSize {
		clear(d.valid)
	}
	d.valid[h] = struct{}{}
	d.mu.Unlock()
	return nil
}
