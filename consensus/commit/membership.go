package commit

import (
	"errors"
	"fmt"
	"sort"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// Org is a member organization of the federation and the validator keys
// that vote for it.
type Org struct {
	// Name identifies the organization in requests and votes (checkName).
	Name string
	// Validators are the Ed25519 public keys of the organization's
	// validators; each may sign the organization's votes.
	Validators []quorum.NodeID
	// Threshold is how many distinct validators of the organization must
	// sign the same vote kind for the organization to have voted it
	// (0: a majority, quorum.OrgThreshold). It must be more than half of
	// the validators, so that two opposite organization votes always share
	// a validator, which an honest one never allows (see doc.go).
	Threshold int
}

// Config is the federation's membership and the limits every validator
// must share: two validators with different Configs may disagree on
// validity, which SCP cannot tolerate. It comes from the same shared
// configuration as the quorum sets.
type Config struct {
	// Network is the network id bound into every signature (the same id as
	// the SCP envelopes', validator.NetworkID of the network name).
	Network consensus.Hash
	// Orgs are the member organizations.
	Orgs []Org
	// MaxDecisions bounds the decisions of one slot (0: DefaultMaxDecisions,
	// at most MaxDecisionsLimit).
	MaxDecisions int
}

// ErrConfig is wrapped by NewMembership's errors.
var ErrConfig = errors.New("commit: bad membership config")

// Membership is a checked, immutable Config: who may vote for which
// organization. It is safe for concurrent use.
type Membership struct {
	network      consensus.Hash
	orgs         map[string]*orgInfo
	names        []string // sorted
	byKey        map[quorum.NodeID]string
	maxDecisions int
}

type orgInfo struct {
	keys      []quorum.NodeID // sorted
	threshold int
}

// NewMembership checks cfg: at least one organization, valid unique names,
// at least one validator each, no key in two organizations (nor twice in
// one), thresholds in (n/2, n], MaxDecisions in range.
func NewMembership(cfg Config) (*Membership, error) {
	if len(cfg.Orgs) == 0 {
		return nil, fmt.Errorf("%w: no organizations", ErrConfig)
	}
	m := &Membership{network: cfg.Network, orgs: map[string]*orgInfo{}, byKey: map[quorum.NodeID]string{}, maxDecisions: cfg.MaxDecisions}
	if m.maxDecisions == 0 {
		m.maxDecisions = DefaultMaxDecisions
	}
	if m.maxDecisions < 1 || m.maxDecisions > MaxDecisionsLimit {
		return nil, fmt.Errorf("%w: MaxDecisions %d not in [1, %d]", ErrConfig, cfg.MaxDecisions, MaxDecisionsLimit)
	}
	for _, o := range cfg.Orgs {
		if err := checkName(o.Name); err != nil {
			return nil, fmt.Errorf("%w: organization: %v", ErrConfig, err)
		}
		if _, dup := m.orgs[o.Name]; dup {
			return nil, fmt.Errorf("%w: organization %q listed twice", ErrConfig, o.Name)
		}
		n := len(o.Validators)
		if n == 0 || n > MaxVotes {
			return nil, fmt.Errorf("%w: organization %q has %d validators", ErrConfig, o.Name, n)
		}
		t := o.Threshold
		if t == 0 {
			t = int(quorum.OrgThreshold(n))
		}
		if 2*t <= n || t > n {
			return nil, fmt.Errorf("%w: organization %q: threshold %d of %d validators is not a majority", ErrConfig, o.Name, t, n)
		}
		info := &orgInfo{threshold: t}
		for _, k := range o.Validators {
			if other, dup := m.byKey[k]; dup {
				return nil, fmt.Errorf("%w: validator %s in %q and %q", ErrConfig, k, other, o.Name)
			}
			m.byKey[k] = o.Name
			info.keys = append(info.keys, k)
		}
		sort.Slice(info.keys, func(i, j int) bool { return info.keys[i].Less(info.keys[j]) })
		m.orgs[o.Name] = info
		m.names = append(m.names, o.Name)
	}
	sort.Strings(m.names)
	return m, nil
}

// Network is the network id bound into signatures.
func (m *Membership) Network() consensus.Hash { return m.network }

// Orgs returns the organization names, sorted.
func (m *Membership) Orgs() []string { return append([]string(nil), m.names...) }

// Has reports whether org is a member.
func (m *Membership) Has(org string) bool { _, ok := m.orgs[org]; return ok }

// OrgOf returns the organization a validator key votes for.
func (m *Membership) OrgOf(key quorum.NodeID) (string, bool) {
	o, ok := m.byKey[key]
	return o, ok
}

// Validators returns the keys of org's validators, sorted (nil for an
// unknown org).
func (m *Membership) Validators(org string) []quorum.NodeID {
	if o := m.orgs[org]; o != nil {
		return append([]quorum.NodeID(nil), o.keys...)
	}
	return nil
}

// Threshold is how many of org's validators make an organization vote (0
// for an unknown org).
func (m *Membership) Threshold(org string) int {
	if o := m.orgs[org]; o != nil {
		return o.threshold
	}
	return 0
}

// MaxDecisions is the most decisions a slot's value may carry.
func (m *Membership) MaxDecisions() int { return m.maxDecisions }
