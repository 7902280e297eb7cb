package commit

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// VoteKind is what an organization's validator says about its part of a
// transaction.
type VoteKind uint8

// The vote kinds.
const (
	// VotePrepared: every part of the organization is prepared and will
	// stay prepared until a decision for the gid is final.
	VotePrepared VoteKind = 1
	// VoteAbort: the organization vetoes the transaction (a part failed or
	// did not show up in time).
	VoteAbort VoteKind = 2
)

// String names the kind.
func (k VoteKind) String() string {
	switch k {
	case VotePrepared:
		return "PREPARED"
	case VoteAbort:
		return "ABORT"
	}
	return fmt.Sprintf("VoteKind(%d)", uint8(k))
}

func (k VoteKind) valid() bool { return k == VotePrepared || k == VoteAbort }

// Vote is one validator's signed vote for its organization on one request.
type Vote struct {
	// GID is the global transaction id.
	GID string
	// Org is the organization the signer votes for.
	Org string
	// Kind is PREPARED or ABORT.
	Kind VoteKind
	// Request is the hash of the request voted on.
	Request consensus.Hash
	// Signer is the validator's public key.
	Signer quorum.NodeID
	// Signature is the signer's signature over the content (network id
	// and message kind bound in).
	Signature [ed25519.SignatureSize]byte
}

// ErrVote is wrapped by the errors about a vote's form, signer or
// signature.
var ErrVote = errors.New("commit: bad vote")

func (e *encoder) voteContent(v *Vote) {
	e.str(v.GID)
	e.str(v.Org)
	e.u8(uint8(v.Kind))
	e.raw(v.Request[:])
	e.raw(v.Signer[:])
}

// Content returns the canonical encoding of everything but the signature.
func (v *Vote) Content() []byte {
	var e encoder
	e.voteContent(v)
	return e.buf
}

// Encode returns the canonical encoding: Content, then the signature.
func (v *Vote) Encode() []byte {
	var e encoder
	e.vote(v)
	return e.buf
}

func (e *encoder) vote(v *Vote) {
	e.voteContent(v)
	e.raw(v.Signature[:])
}

// DecodeVote parses Vote.Encode's output strictly; it does not verify the
// signature.
func DecodeVote(b []byte) (Vote, error) {
	d := decoder{buf: b}
	v := d.vote()
	d.end()
	if d.err != nil {
		return Vote{}, d.err
	}
	return v, nil
}

// voteMinSize is the smallest encoded vote.
const voteMinSize = 3 + 3 + 1 + 32 + 32 + 64

func (d *decoder) vote() Vote {
	var v Vote
	v.GID = d.str(MaxGIDLen, "vote gid", checkGID)
	v.Org = d.str(MaxNameLen, "vote organization", checkName)
	v.Kind = VoteKind(d.u8("vote kind"))
	if d.err == nil && !v.Kind.valid() {
		d.fail("vote kind %d", v.Kind)
	}
	d.fixed(v.Request[:], "vote request hash")
	d.fixed(v.Signer[:], "vote signer")
	d.fixed(v.Signature[:], "vote signature")
	return v
}

// signVote signs a vote with key. It is unexported on purpose: honest
// validators sign through Participant, which refuses to sign both kinds
// for one gid.
func signVote(network consensus.Hash, key ed25519.PrivateKey, gid, org string, kind VoteKind, req consensus.Hash) Vote {
	v := Vote{GID: gid, Org: org, Kind: kind, Request: req}
	copy(v.Signer[:], key.Public().(ed25519.PublicKey))
	copy(v.Signature[:], ed25519.Sign(key, signingBytes(network, kindVote, v.Content())))
	return v
}

// CheckVote verifies a vote on its own: its form, that its signer is a
// validator of the organization it names, and its signature. Whether the
// organization takes part in the request is checked with the request
// (CheckDecision, Proposer).
func (m *Membership) CheckVote(v *Vote) error {
	if err := checkGID(v.GID); err != nil {
		return fmt.Errorf("%w: %v", ErrVote, err)
	}
	if !v.Kind.valid() {
		return fmt.Errorf("%w: gid %s: kind %d", ErrVote, v.GID, v.Kind)
	}
	org, ok := m.OrgOf(v.Signer)
	if !ok {
		return fmt.Errorf("%w: gid %s: signer %s is no member's validator", ErrVote, v.GID, v.Signer)
	}
	if org != v.Org {
		return fmt.Errorf("%w: gid %s: signer %s votes for %s, not %s", ErrVote, v.GID, v.Signer, org, v.Org)
	}
	if !ed25519.Verify(ed25519.PublicKey(v.Signer[:]), signingBytes(m.network, kindVote, v.Content()), v.Signature[:]) {
		return fmt.Errorf("%w: gid %s: bad signature of %s (%s)", ErrVote, v.GID, v.Signer, v.Org)
	}
	return nil
}
