package commit

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// ProposerConfig configures a Proposer.
type ProposerConfig struct {
	// Ledger is the validator's ledger (which names the Membership): the
	// pool drops what concerns gids final in it.
	Ledger *Ledger
	// MaxRequests bounds the requests in the pool (default 65536).
	MaxRequests int
	// MaxVotesPerSigner bounds the votes kept per validator key (default
	// 65536), so that one Byzantine validator cannot crowd out the others.
	MaxVotesPerSigner int
	// MaxVariants bounds the requests kept per gid (default 4): an
	// equivocating coordinator may sign several.
	MaxVariants int
}

// Proposer is a validator's pending pool: the requests and votes it heard
// of (from its coordinator clients, its own Participant and other
// validators' broadcasts), the decisions they justify, and the value it
// nominates. It is a pure function of what it was fed (and the ledger
// given to Propose); it is not safe for concurrent use.
type Proposer struct {
	cfg      ProposerConfig
	m        *Membership
	l        *Ledger
	reqs     map[string]map[consensus.Hash]Request // gid -> request hash -> request
	votes    map[string]map[voteKey]Vote           // gid -> votes
	nReqs    int
	bySigner map[quorum.NodeID]int
}

type voteKey struct {
	req    consensus.Hash
	signer quorum.NodeID
	kind   VoteKind
}

// NewProposer returns an empty pool.
func NewProposer(cfg ProposerConfig) (*Proposer, error) {
	if cfg.Ledger == nil {
		return nil, fmt.Errorf("commit: ProposerConfig.Ledger is required")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.MaxRequests, 65536)
	def(&cfg.MaxVotesPerSigner, 65536)
	def(&cfg.MaxVariants, 4)
	return &Proposer{cfg: cfg, m: cfg.Ledger.m, l: cfg.Ledger, reqs: map[string]map[consensus.Hash]Request{},
		votes: map[string]map[voteKey]Vote{}, bySigner: map[quorum.NodeID]int{}}, nil
}

// AddRequest adds a request (CheckRequest first). Known requests, and
// requests of final gids, are a no-op.
func (p *Proposer) AddRequest(r Request) error {
	if err := p.m.CheckRequest(&r); err != nil {
		return err
	}
	if p.l.Decided(r.GID) {
		return nil
	}
	h := r.Hash()
	vs := p.reqs[r.GID]
	if _, ok := vs[h]; ok {
		return nil
	}
	if len(vs) >= p.cfg.MaxVariants {
		return fmt.Errorf("%w: %d requests for gid %s", ErrPoolFull, len(vs), r.GID)
	}
	if p.nReqs >= p.cfg.MaxRequests {
		return fmt.Errorf("%w: %d requests", ErrPoolFull, p.nReqs)
	}
	if vs == nil {
		vs = map[consensus.Hash]Request{}
		p.reqs[r.GID] = vs
	}
	vs[h] = r.clone()
	p.nReqs++
	return nil
}

// AddVote adds a vote (CheckVote first), whether or not its request is
// known yet. Known votes, and votes of final gids, are a no-op.
func (p *Proposer) AddVote(v Vote) error {
	if err := p.m.CheckVote(&v); err != nil {
		return err
	}
	if p.l.Decided(v.GID) {
		return nil
	}
	k := voteKey{v.Request, v.Signer, v.Kind}
	vs := p.votes[v.GID]
	if _, ok := vs[k]; ok {
		return nil
	}
	if p.bySigner[v.Signer] >= p.cfg.MaxVotesPerSigner {
		return fmt.Errorf("%w: %d votes of %s", ErrPoolFull, p.bySigner[v.Signer], v.Signer)
	}
	if vs == nil {
		vs = map[voteKey]Vote{}
		p.votes[v.GID] = vs
	}
	vs[k] = v
	p.bySigner[v.Signer]++
	return nil
}

// AddValue adds the requests and votes carried by a value's decisions
// (one nominated or externalized by others), skipping what does not check.
func (p *Proposer) AddValue(v consensus.Value) {
	val, err := DecodeValue(v)
	if err != nil {
		return
	}
	for _, d := range val.Decisions {
		if p.AddRequest(d.Request) != nil {
			continue
		}
		for _, vote := range d.Votes {
			_ = p.AddVote(vote)
		}
	}
}

// Requests returns the requests in the pool (of gids not final), sorted by
// gid and hash: a
// validator rebroadcasts them (with its own votes, Participant.Votes) until
// they are decided, so that a validator that missed one, or lost its pool
// in a restart, still learns it — a participant that never learns a request
// never votes on it, and nobody else can abort for it once it voted
// PREPARED.
func (p *Proposer) Requests() []Request {
	var out []Request
	for gid, vs := range p.reqs {
		if p.l.Decided(gid) {
			continue
		}
		for _, r := range vs {
			out = append(out, r.clone())
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GID != out[j].GID {
			return out[i].GID < out[j].GID
		}
		hi, hj := out[i].Hash(), out[j].Hash()
		return bytes.Compare(hi[:], hj[:]) < 0
	})
	return out
}

// Pending is the number of gids with a request or a vote in the pool.
func (p *Proposer) Pending() int {
	n := len(p.reqs)
	for gid := range p.votes {
		if p.reqs[gid] == nil {
			n++
		}
	}
	return n
}

// Justify returns the decision the pool justifies for gid, if any: for
// each known request of the gid, COMMIT when every participant has
// PREPARED votes from its threshold of validators, ABORT when a
// participant (the first by name) has ABORT votes from its threshold; the
// evidence is, per organization, the votes of the threshold validators
// with the smallest keys. Among several, the preferred one as Combine
// prefers (COMMIT, then the smaller encoding).
func (p *Proposer) Justify(gid string) (Decision, bool) {
	var best *Decision
	for _, r := range p.reqs[gid] {
		for _, o := range []Outcome{Commit, Abort} {
			d, ok := p.justify(r, o)
			if ok && (best == nil || preferred(&d, best)) {
				best = &d
			}
		}
	}
	if best == nil {
		return Decision{}, false
	}
	return *best, true
}

func (p *Proposer) justify(r Request, o Outcome) (Decision, bool) {
	h, kind := r.Hash(), o.voteKind()
	byOrg := map[string][]Vote{}
	for k, v := range p.votes[r.GID] {
		if k.req == h && k.kind == kind {
			byOrg[v.Org] = append(byOrg[v.Org], v)
		}
	}
	enough := func(org string) ([]Vote, bool) {
		vs, t := byOrg[org], p.m.Threshold(org)
		if t == 0 || len(vs) < t {
			return nil, false
		}
		sort.Slice(vs, func(i, j int) bool { return bytes.Compare(vs[i].Signer[:], vs[j].Signer[:]) < 0 })
		return vs[:t], true
	}
	d := Decision{Outcome: o, Request: r.clone()}
	for _, part := range r.Participants {
		vs, ok := enough(part.Org)
		if o == Commit && !ok {
			return Decision{}, false
		}
		if ok {
			d.Votes = append(d.Votes, vs...)
			if o == Abort {
				break
			}
		}
	}
	if len(d.Votes) == 0 {
		return Decision{}, false
	}
	sort.Slice(d.Votes, func(i, j int) bool { return bytes.Compare(d.Votes[i].Signer[:], d.Votes[j].Signer[:]) < 0 })
	return d, true
}

// Justified returns every decision the pool justifies, one per gid, sorted
// by gid, leaving out the gids final in the ledger.
func (p *Proposer) Justified() []Decision {
	gids := make([]string, 0, len(p.reqs))
	for gid := range p.reqs {
		if !p.l.Decided(gid) {
			gids = append(gids, gid)
		}
	}
	sort.Strings(gids)
	var out []Decision
	for _, gid := range gids {
		if d, ok := p.Justify(gid); ok {
			out = append(out, d)
		}
	}
	return out
}

// Propose returns the value to nominate for slot: the justified decisions
// of the gids not final in the ledger, as many as the slot takes, chosen
// as Combine chooses (priority(slot, gid)); nil when there is nothing to
// propose. It fits validator.Config.Propose.
func (p *Proposer) Propose(slot uint64) consensus.Value {
	ds := p.Justified()
	if len(ds) == 0 {
		return nil
	}
	best := make(map[string]Decision, len(ds))
	for _, d := range ds {
		best[d.GID()] = d
	}
	return combineDecisions(slot, best, p.m.maxDecisions)
}

// Prune drops the requests and votes of the gids final in the ledger
// (call it after each Ledger.Apply).
func (p *Proposer) Prune() {
	l := p.l
	for gid, vs := range p.reqs {
		if l.Decided(gid) {
			p.nReqs -= len(vs)
			delete(p.reqs, gid)
		}
	}
	for gid, vs := range p.votes {
		if l.Decided(gid) {
			for k := range vs {
				p.bySigner[k.signer]--
				if p.bySigner[k.signer] == 0 {
					delete(p.bySigner, k.signer)
				}
			}
			delete(p.votes, gid)
		}
	}
}
