package commit

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"sort"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// PartStatus is the state of one part on the organization's own workers,
// as its validator observed it (pg_prepared_xacts and the gateway's
// record of failed PREPAREs); the Participant does no I/O itself.
type PartStatus uint8

// The part states.
const (
	// PartMissing: not prepared (yet) on its worker.
	PartMissing PartStatus = iota
	// PartPrepared: listed in the worker's pg_prepared_xacts.
	PartPrepared
	// PartFailed: will never be prepared (PREPARE failed, the worker's
	// transaction was rolled back, the worker is not ours).
	PartFailed
)

// String names the state.
func (s PartStatus) String() string {
	switch s {
	case PartMissing:
		return "missing"
	case PartPrepared:
		return "prepared"
	case PartFailed:
		return "failed"
	}
	return fmt.Sprintf("PartStatus(%d)", uint8(s))
}

// Participant errors.
var (
	// ErrNotParticipant: the request does not name the validator's
	// organization.
	ErrNotParticipant = errors.New("commit: organization does not take part")
	// ErrConflictingRequest: another request with the same gid is already
	// known; the first one is kept and only it is ever voted on.
	ErrConflictingRequest = errors.New("commit: another request for the gid is known")
	// ErrUnknownRequest: no request is known for the gid.
	ErrUnknownRequest = errors.New("commit: unknown request")
	// ErrEquivocation: the vote would contradict one already signed.
	ErrEquivocation = errors.New("commit: refusing to sign both PREPARED and ABORT for a gid")
	// ErrDecided: the gid is already final in the ledger; no vote on it can
	// matter any more, and none is signed.
	ErrDecided = errors.New("commit: gid already decided")
	// ErrPoolFull: a bound on remembered requests or votes was reached.
	ErrPoolFull = errors.New("commit: pool full")
	// ErrState: a saved participant state does not decode or does not fit
	// the configuration.
	ErrState = errors.New("commit: bad participant state")
)

// ParticipantConfig configures a Participant.
type ParticipantConfig struct {
	// Ledger is the validator's ledger (which names the Membership). The
	// participant never learns, nor signs for, a gid final in it: so even
	// after Prune forgot a gid, it cannot sign a vote contradicting one it
	// signed before.
	Ledger *Ledger
	// Key is this validator's Ed25519 private key; its public key must be
	// one of its organization's validators in Membership.
	Key ed25519.PrivateKey
	// Timeout is how many ticks a request may wait for a missing part
	// before the organization votes ABORT (at least 1).
	Timeout uint64
	// MaxPending bounds the requests remembered (default 65536).
	MaxPending int
}

// Participant is a validator's side of its own organization: it learns
// the requests naming the organization, looks at the state of its parts
// (input data) and signs the organization's votes. It never signs both
// PREPARED and ABORT for one gid, nor votes on two requests for one gid —
// as long as its state is persisted before its votes leave the process
// (Save). It is not safe for concurrent use.
type Participant struct {
	cfg   ParticipantConfig
	m     *Membership
	id    quorum.NodeID
	org   string
	now   uint64
	txns  map[string]*txnState
	dirty bool
}

type txnState struct {
	req   Request
	hash  consensus.Hash
	seen  uint64   // tick when the request was learned
	voted VoteKind // 0: not yet
}

func (c *ParticipantConfig) validate() (quorum.NodeID, string, error) {
	var id quorum.NodeID
	if c.Ledger == nil {
		return id, "", errors.New("commit: ParticipantConfig.Ledger is required")
	}
	if len(c.Key) != ed25519.PrivateKeySize {
		return id, "", errors.New("commit: ParticipantConfig.Key is not an Ed25519 private key")
	}
	copy(id[:], c.Key.Public().(ed25519.PublicKey))
	org, ok := c.Ledger.m.OrgOf(id)
	if !ok {
		return id, "", fmt.Errorf("commit: key %s is no member's validator", id)
	}
	if c.Timeout == 0 {
		return id, "", errors.New("commit: ParticipantConfig.Timeout must be at least 1 tick")
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 65536
	}
	return id, org, nil
}

// NewParticipant returns a Participant with no state (a new validator; a
// restarted one uses RestoreParticipant).
func NewParticipant(cfg ParticipantConfig) (*Participant, error) {
	id, org, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	return &Participant{cfg: cfg, m: cfg.Ledger.m, id: id, org: org, txns: map[string]*txnState{}}, nil
}

// Org is the organization the participant votes for.
func (p *Participant) Org() string { return p.org }

// Now is the participant's clock, in ticks.
func (p *Participant) Now() uint64 { return p.now }

// Tick advances the participant's clock by one tick.
func (p *Participant) Tick() { p.now++ }

// Learn records a request naming the organization (CheckRequest first);
// its timeout starts now. A request already known is a no-op; another
// request for a known gid is refused with ErrConflictingRequest, one for a
// final gid with ErrDecided.
func (p *Participant) Learn(r Request) error {
	if err := p.m.CheckRequest(&r); err != nil {
		return err
	}
	if p.cfg.Ledger.Decided(r.GID) {
		return fmt.Errorf("%w: gid %s", ErrDecided, r.GID)
	}
	if _, ok := r.Participant(p.org); !ok {
		return fmt.Errorf("%w: gid %s does not name %s", ErrNotParticipant, r.GID, p.org)
	}
	h := r.Hash()
	if t := p.txns[r.GID]; t != nil {
		if t.hash != h {
			return fmt.Errorf("%w: gid %s", ErrConflictingRequest, r.GID)
		}
		return nil
	}
	if len(p.txns) >= p.cfg.MaxPending {
		return fmt.Errorf("%w: %d requests", ErrPoolFull, len(p.txns))
	}
	p.txns[r.GID] = &txnState{req: r.clone(), hash: h, seen: p.now}
	p.dirty = true
	return nil
}

// Decide looks at every known request the organization has not voted on,
// in gid order, and signs what the state of its parts calls for:
//
//   - ABORT when a part failed;
//   - PREPARED when every part is prepared;
//   - ABORT when a part is still missing and the request has been known
//     for more than Timeout ticks;
//   - nothing yet otherwise.
//
// It returns the new votes. Save the state durably before sending them.
func (p *Participant) Decide(status func(Part) PartStatus) []Vote {
	gids := make([]string, 0, len(p.txns))
	for gid, t := range p.txns {
		if t.voted == 0 && !p.cfg.Ledger.Decided(gid) {
			gids = append(gids, gid)
		}
	}
	sort.Strings(gids)
	var out []Vote
	for _, gid := range gids {
		t := p.txns[gid]
		parts, _ := t.req.Participant(p.org)
		prepared, failed := 0, false
		for _, pt := range parts {
			switch status(pt) {
			case PartPrepared:
				prepared++
			case PartFailed:
				failed = true
			}
		}
		var kind VoteKind
		switch {
		case failed:
			kind = VoteAbort
		case prepared == len(parts):
			kind = VotePrepared
		case p.now-t.seen > p.cfg.Timeout:
			kind = VoteAbort
		default:
			continue
		}
		v, err := p.SignVote(gid, kind)
		if err == nil {
			out = append(out, v)
		}
	}
	return out
}

// SignVote is the only way this package signs a vote: it signs kind for
// the request known for gid, and refuses (ErrEquivocation) a kind other
// than one already signed for that gid, and any vote for a gid final in
// the ledger (ErrDecided). Signing the same kind again
// returns the same vote (Ed25519 signatures are deterministic), for
// rebroadcast. The refusal survives restarts as long as Save's bytes are
// persisted before a vote is sent.
func (p *Participant) SignVote(gid string, kind VoteKind) (Vote, error) {
	t := p.txns[gid]
	if t == nil {
		return Vote{}, fmt.Errorf("%w: gid %s", ErrUnknownRequest, gid)
	}
	if p.cfg.Ledger.Decided(gid) {
		return Vote{}, fmt.Errorf("%w: gid %s", ErrDecided, gid)
	}
	if !kind.valid() {
		return Vote{}, fmt.Errorf("%w: kind %d", ErrVote, kind)
	}
	if t.voted != 0 && t.voted != kind {
		return Vote{}, fmt.Errorf("%w: gid %s: %s already signed, not signing %s", ErrEquivocation, gid, t.voted, kind)
	}
	if t.voted == 0 {
		t.voted = kind
		p.dirty = true
	}
	return signVote(p.m.network, p.cfg.Key, gid, p.org, kind, t.hash), nil
}

// Voted returns the kind signed for gid (0 when none).
func (p *Participant) Voted(gid string) VoteKind {
	if t := p.txns[gid]; t != nil {
		return t.voted
	}
	return 0
}

// Votes returns the votes signed for the gids not final yet, in gid
// order, for rebroadcast.
func (p *Participant) Votes() []Vote {
	var out []Vote
	for _, gid := range p.gids() {
		if t := p.txns[gid]; t.voted != 0 && !p.cfg.Ledger.Decided(gid) {
			out = append(out, signVote(p.m.network, p.cfg.Key, gid, p.org, t.voted, t.hash))
		}
	}
	return out
}

func (p *Participant) gids() []string {
	out := make([]string, 0, len(p.txns))
	for gid := range p.txns {
		out = append(out, gid)
	}
	sort.Strings(out)
	return out
}

// Prune forgets the requests whose gid is final in the ledger: no later
// vote can change a final gid (the ledger ignores later decisions), and
// Learn and SignVote refuse final gids.
func (p *Participant) Prune() {
	for gid := range p.txns {
		if p.cfg.Ledger.Decided(gid) {
			delete(p.txns, gid)
			p.dirty = true
		}
	}
}

// Unsaved reports whether the state changed since the last Save.
func (p *Participant) Unsaved() bool { return p.dirty }

// participantMagic starts a saved state.
const participantMagic = "pgfed-commit-participant-1"

// Save returns the state to persist, canonically encoded, and marks it
// saved:
//
//	magic | signer key | u64 now | u32 n | n × (request | u64 seen | u8 voted)
//
// sorted by gid. The key ties the state to the validator: restoring it
// under another key fails. The votes themselves are not stored: they are signed
// again, identically, from the recorded kind.
func (p *Participant) Save() []byte {
	var e encoder
	e.raw([]byte(participantMagic))
	e.raw(p.id[:])
	e.u64(p.now)
	e.u32(uint32(len(p.txns)))
	for _, gid := range p.gids() {
		t := p.txns[gid]
		e.request(&t.req)
		e.u64(t.seen)
		e.u8(uint8(t.voted))
	}
	p.dirty = false
	return e.buf
}

// RestoreParticipant rebuilds a Participant from Save's bytes (checking
// every request again). Bring cfg.Ledger up to the last slot the validator
// persisted (RestoreLedger, or replay of the consensus ledger) before
// restoring: the saved state no longer lists the gids Prune forgot, and
// only the ledger then keeps them from being voted on again.
func RestoreParticipant(cfg ParticipantConfig, b []byte) (*Participant, error) {
	p, err := NewParticipant(cfg)
	if err != nil {
		return nil, err
	}
	d := decoder{buf: b}
	if magic := d.take(len(participantMagic), "magic"); d.err == nil && string(magic) != participantMagic {
		d.fail("not a participant state")
	}
	var id [32]byte
	d.fixed(id[:], "signer key")
	if d.err == nil && id != p.id {
		d.fail("state of validator %x, not %s", id[:4], p.id)
	}
	p.now = d.u64("now")
	n := d.count32(p.cfg.MaxPending, 1, "requests")
	prev := ""
	for i := 0; i < n && d.err == nil; i++ {
		r := d.request()
		seen := d.u64("seen")
		voted := VoteKind(d.u8("voted"))
		if d.err != nil {
			break
		}
		switch {
		case voted != 0 && !voted.valid():
			d.fail("gid %s: vote kind %d", r.GID, voted)
		case i > 0 && r.GID <= prev:
			d.fail("requests out of order at gid %s", r.GID)
		case seen > p.now:
			d.fail("gid %s seen at tick %d after %d", r.GID, seen, p.now)
		}
		if d.err != nil {
			break
		}
		if err := p.m.CheckRequest(&r); err != nil {
			d.fail("%v", err)
			break
		}
		if _, ok := r.Participant(p.org); !ok {
			d.fail("gid %s does not name %s", r.GID, p.org)
			break
		}
		p.txns[r.GID] = &txnState{req: r, hash: r.Hash(), seen: seen, voted: voted}
		prev = r.GID
	}
	d.end()
	if d.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrState, d.err)
	}
	return p, nil
}
