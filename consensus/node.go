package consensus

import (
	"errors"
	"fmt"
	"sort"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// ValidationLevel is the application's verdict on a value.
type ValidationLevel uint8

// Validation levels, from worst to best.
const (
	// Invalid values are dropped with the statement that carries them.
	Invalid ValidationLevel = iota
	// MaybeValid values are kept, but the node stops emitting statements for
	// the slot (it cannot vouch for what it cannot check).
	MaybeValid
	// FullyValid values may be voted for.
	FullyValid
)

// String names the level.
func (l ValidationLevel) String() string {
	switch l {
	case Invalid:
		return "invalid"
	case MaybeValid:
		return "maybe-valid"
	case FullyValid:
		return "fully-valid"
	}
	return fmt.Sprintf("ValidationLevel(%d)", uint8(l))
}

// Driver is what the application supplies. Both methods must be
// deterministic and must not depend on state that can permanently differ
// between well-behaved nodes.
type Driver interface {
	// Validate judges a value for a slot; nomination is true while the value
	// is being nominated (the application may be stricter then).
	Validate(slot uint64, v Value, nomination bool) ValidationLevel
	// Combine turns the confirmed nomination candidates (sorted, at least
	// one) into the composite value the ballot protocol starts with.
	Combine(slot uint64, candidates []Value) Value
}

// NodeHasher is an optional Driver extension replacing the leader-election
// hash (tests use it to choose leaders). priority is false for the
// neighbourhood hash (compared with the node's weight) and true for the
// priority hash.
type NodeHasher interface {
	HashNode(slot uint64, prev Value, priority bool, round uint32, node quorum.NodeID) uint64
}

// ValueHasher is an optional Driver extension replacing the hash that picks
// which of a leader's values to echo.
type ValueHasher interface {
	HashValue(slot uint64, prev Value, round uint32, v Value) uint64
}

// ValueExtractor is an optional Driver extension: given a value that made it
// to accepted nomination but is not fully valid locally, return a valid
// variant to vote for instead (nil: none).
type ValueExtractor interface {
	ExtractValidValue(slot uint64, v Value) Value
}

// Config configures a Node. Timeouts are counted in ticks (Node.Tick); the
// host decides how long a tick is.
type Config struct {
	// ID is the local node's key.
	ID quorum.NodeID
	// QSet is the local quorum set; it is normalized and must be sane
	// (strictly, unless UnsafeQuorum).
	QSet quorum.QSet
	// UnsafeQuorum allows thresholds of half the entries or fewer.
	UnsafeQuorum bool
	// Driver validates and combines values. Required.
	Driver Driver
	// Logger receives the core's log lines; nil means no logging.
	Logger hclog.Logger
	// NominationTimeout and NominationTimeoutIncrement give the nomination
	// round timeout initial + (round-1)*increment ticks (default 10 and 10).
	NominationTimeout, NominationTimeoutIncrement uint64
	// BallotTimeout and BallotTimeoutIncrement give the ballot timeout for
	// counter n: initial + (n-1)*increment ticks (default 10 and 10).
	BallotTimeout, BallotTimeoutIncrement uint64
	// MaxTimeout caps both timeouts (default 18000 ticks).
	MaxTimeout uint64
	// MaxSlotsAhead bounds how far beyond the highest externalized slot a
	// peer's statement may be (default 100); farther ones get ErrSlotTooFar.
	MaxSlotsAhead uint64
}

func (c *Config) validate() error {
	if c.Driver == nil {
		return errors.New("consensus: Config.Driver is required")
	}
	if err := checkQSet(&c.QSet, !c.UnsafeQuorum); err != nil {
		return fmt.Errorf("consensus: local quorum set: %w", err)
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	def := func(v *uint64, d uint64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.NominationTimeout, 10)
	def(&c.NominationTimeoutIncrement, 10)
	def(&c.BallotTimeout, 10)
	def(&c.BallotTimeoutIncrement, 10)
	def(&c.MaxTimeout, 18000)
	def(&c.MaxSlotsAhead, 100)
	return nil
}

// Errors returned by Step, Nominate and Restore. Callers test them with
// errors.Is; ErrStale means "already known or superseded" and is harmless.
var (
	ErrUnknownQSet    = errors.New("consensus: unknown quorum set")
	ErrStale          = errors.New("consensus: statement not newer than the sender's latest")
	ErrInvalidValue   = errors.New("consensus: statement carries an invalid value")
	ErrOwnStatement   = errors.New("consensus: statement from the local node")
	ErrSlotPurged     = errors.New("consensus: slot already purged")
	ErrSlotTooFar     = errors.New("consensus: slot too far ahead")
	ErrIncompatible   = errors.New("consensus: statement disagrees with the externalized value")
	ErrAlreadyStarted = errors.New("consensus: slot already active, cannot restore")
)

// UnknownQSetError tells the host which quorum set to fetch (then AddQSet
// and Step the statement again). It wraps ErrUnknownQSet.
type UnknownQSetError struct {
	Hash Hash
	Node quorum.NodeID
}

// Error implements error.
func (e *UnknownQSetError) Error() string {
	return fmt.Sprintf("consensus: unknown quorum set %s of node %s", e.Hash, e.Node)
}

// Unwrap returns ErrUnknownQSet.
func (e *UnknownQSetError) Unwrap() error { return ErrUnknownQSet }

// Node is one validator's SCP state machine, for every slot. It does no I/O,
// starts no goroutines, reads no clock and uses no randomness; it is not
// safe for concurrent use. See the package documentation for the main loop.
type Node struct {
	id        quorum.NodeID
	qset      quorum.QSet // normalized
	qsetHash  Hash
	leaderSet quorum.QSet // normalized with the local node removed
	cfg       Config
	log       hclog.Logger

	nodeHasher  NodeHasher
	valueHasher ValueHasher
	extractor   ValueExtractor

	qsets map[Hash]*quorum.QSet
	slots map[uint64]*slot

	now             uint64 // ticks
	purgedBelow     uint64
	highestExternal uint64

	ready     pendingReady
	invariant error
}

// NewNode validates cfg and returns a node with no slots.
func NewNode(cfg Config) (*Node, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	n := &Node{
		id:    cfg.ID,
		qset:  normalizeQSet(cfg.QSet, nil),
		cfg:   cfg,
		log:   cfg.Logger.Named("scp"),
		qsets: make(map[Hash]*quorum.QSet),
		slots: make(map[uint64]*slot),
	}
	id := cfg.ID
	n.leaderSet = normalizeQSet(n.qset, &id)
	n.qsetHash = QSetHash(n.qset)
	local := n.qset
	n.qsets[n.qsetHash] = &local
	n.nodeHasher, _ = cfg.Driver.(NodeHasher)
	n.valueHasher, _ = cfg.Driver.(ValueHasher)
	n.extractor, _ = cfg.Driver.(ValueExtractor)
	if n.nodeHasher == nil {
		n.nodeHasher = defaultHasher{}
	}
	if n.valueHasher == nil {
		n.valueHasher = defaultHasher{}
	}
	return n, nil
}

// ID is the local node's key.
func (n *Node) ID() quorum.NodeID { return n.id }

// QSetHash is the hash of the local (normalized) quorum set, as carried in
// the node's statements.
func (n *Node) QSetHash() Hash { return n.qsetHash }

// AddQSet stores a peer's quorum set (checked with the non-strict sanity
// rules) and returns its hash. Statements naming that hash are accepted from
// then on. Quorum sets are kept for the node's lifetime.
func (n *Node) AddQSet(q quorum.QSet) (Hash, error) {
	if err := checkQSet(&q, false); err != nil {
		return Hash{}, fmt.Errorf("consensus: quorum set: %w", err)
	}
	h := QSetHash(q)
	if _, ok := n.qsets[h]; !ok {
		c := q.Clone()
		n.qsets[h] = &c
	}
	return h, nil
}

// Step feeds a peer's envelope (signature already verified by the host).
// It checks the statement's form, its slot window and its quorum set, and
// then runs the protocol. It returns nil when the statement was recorded,
// or an error wrapping one of ErrMalformed, ErrUnknownQSet
// (*UnknownQSetError), ErrStale, ErrInvalidValue, ErrIncompatible,
// ErrOwnStatement, ErrSlotPurged, ErrSlotTooFar. Whatever the result, the
// host then collects Ready.
func (n *Node) Step(env Envelope) error {
	st := &env.Statement
	if st.NodeID == n.id {
		return ErrOwnStatement
	}
	if err := st.Check(); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := n.checkSlot(st.Slot); err != nil {
		return err
	}
	h := st.QSetHash()
	if _, ok := n.qsets[h]; !ok {
		return &UnknownQSetError{Hash: h, Node: st.NodeID}
	}
	env = cloneEnvelope(env)
	return n.slot(st.Slot).processEnvelope(&env, false)
}

func (n *Node) checkSlot(slot uint64) error {
	if slot < n.purgedBelow {
		return fmt.Errorf("%w: slot %d < %d", ErrSlotPurged, slot, n.purgedBelow)
	}
	if slot > n.highestExternal+n.cfg.MaxSlotsAhead {
		return fmt.Errorf("%w: slot %d > %d+%d", ErrSlotTooFar, slot, n.highestExternal, n.cfg.MaxSlotsAhead)
	}
	return nil
}

// Nominate starts (or continues) nominating value for slot, prev being the
// value externalized for the previous slot (it seeds leader election). The
// host should pass a value it considers fully valid. Nominating a slot that
// already has a confirmed candidate or has externalized does nothing.
func (n *Node) Nominate(slot uint64, value, prev Value) error {
	if slot < n.purgedBelow {
		return fmt.Errorf("%w: slot %d < %d", ErrSlotPurged, slot, n.purgedBelow)
	}
	s := n.slot(slot)
	if s.ballot.phase == phaseExternalize {
		return nil
	}
	s.nomination.nominate(value.clone(), prev.clone(), false)
	return nil
}

// Tick advances the node's clock by one tick and fires the timers that
// expire: nomination rounds and ballot timeouts.
func (n *Node) Tick() {
	n.now++
	for _, idx := range n.slotIndexes() {
		s := n.slots[idx]
		if s == nil {
			continue
		}
		s.fireTimers(n.now)
	}
}

// Restore loads the node's own envelopes, as persisted from Ready.Persist,
// after a restart: at most one nomination and one ballot envelope per slot.
// It must be called before any other activity on those slots. A restored
// node never emits a statement that is not newer than what it restored.
// Restoring an EXTERNALIZE marks the slot externalized without reporting it
// again in Ready: a host that may have crashed between persisting and
// applying compares its ledger with Externalized(slot) after Restore.
func (n *Node) Restore(envs []Envelope) error {
	for _, env := range envs {
		st := &env.Statement
		if st.NodeID != n.id {
			return fmt.Errorf("consensus: restore: envelope of node %s is not ours", st.NodeID)
		}
		if err := st.Check(); err != nil {
			return fmt.Errorf("consensus: restore: %w: %v", ErrMalformed, err)
		}
		if st.Slot < n.purgedBelow {
			continue
		}
		env = cloneEnvelope(env)
		if err := n.slot(st.Slot).restore(&env); err != nil {
			return err
		}
	}
	return nil
}

// Externalized returns the value slot externalized, if it did.
func (n *Node) Externalized(slot uint64) (Value, bool) {
	s := n.slots[slot]
	if s == nil || s.ballot.phase != phaseExternalize {
		return nil, false
	}
	return s.ballot.c.Value.clone(), true
}

// LatestMessages returns the node's own latest emitted envelopes for slot
// (nomination, then ballot), for periodic rebroadcast and for answering a
// peer that is behind. It returns nothing while the slot is not fully
// validated.
func (n *Node) LatestMessages(slot uint64) []Envelope {
	s := n.slots[slot]
	if s == nil || !s.fullyValidated {
		return nil
	}
	var out []Envelope
	for _, e := range []*Envelope{s.nomination.lastEnv, s.ballot.lastEnv} {
		if e != nil {
			out = append(out, cloneEnvelope(*e))
		}
	}
	return out
}

// CurrentState returns the latest envelope recorded from every node
// (including the local one when the slot is fully validated) for slot:
// what a peer needs to catch up.
func (n *Node) CurrentState(slot uint64) []Envelope {
	s := n.slots[slot]
	if s == nil {
		return nil
	}
	var out []Envelope
	for _, m := range []map[quorum.NodeID]*Envelope{s.nomination.latest, s.ballot.latest} {
		for _, id := range sortedIDs(m) {
			if id == n.id && !s.fullyValidated {
				continue
			}
			out = append(out, cloneEnvelope(*m[id]))
		}
	}
	return out
}

// Purge forgets every slot below keepFrom; later statements for them get
// ErrSlotPurged.
func (n *Node) Purge(keepFrom uint64) {
	if keepFrom <= n.purgedBelow {
		return
	}
	n.purgedBelow = keepFrom
	for idx := range n.slots {
		if idx < keepFrom {
			delete(n.slots, idx)
		}
	}
}

// Invariant returns the first broken internal invariant the node detected
// (nil if none). A node that reports one stops emitting for the affected
// slot rather than panic; tests and monitoring should check it.
func (n *Node) Invariant() error { return n.invariant }

func (n *Node) brokenInvariant(slot uint64, msg string, args ...any) {
	err := fmt.Errorf("consensus: slot %d: broken invariant: %s", slot, fmt.Sprintf(msg, args...))
	if n.invariant == nil {
		n.invariant = err
	}
	n.log.Error("broken invariant", "slot", slot, "err", err)
}

func (n *Node) slot(idx uint64) *slot {
	s := n.slots[idx]
	if s == nil {
		s = newSlot(n, idx)
		n.slots[idx] = s
	}
	return s
}

func (n *Node) slotIndexes() []uint64 {
	out := make([]uint64, 0, len(n.slots))
	for idx := range n.slots {
		out = append(out, idx)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (n *Node) validate(slot uint64, v Value, nomination bool) ValidationLevel {
	return n.cfg.Driver.Validate(slot, v, nomination)
}

func sortedIDs(m map[quorum.NodeID]*Envelope) []quorum.NodeID {
	out := make([]quorum.NodeID, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

func cloneEnvelope(env Envelope) Envelope {
	out := Envelope{Statement: env.Statement, Signature: append([]byte(nil), env.Signature...)}
	switch p := env.Statement.Pledge.(type) {
	case Nominate:
		p.Votes = cloneValues(p.Votes)
		p.Accepted = cloneValues(p.Accepted)
		out.Statement.Pledge = p
	case Prepare:
		p.Ballot = p.Ballot.clone()
		if p.Prepared != nil {
			b := p.Prepared.clone()
			p.Prepared = &b
		}
		if p.PreparedPrime != nil {
			b := p.PreparedPrime.clone()
			p.PreparedPrime = &b
		}
		out.Statement.Pledge = p
	case Confirm:
		p.Ballot = p.Ballot.clone()
		out.Statement.Pledge = p
	case Externalize:
		p.Commit = p.Commit.clone()
		out.Statement.Pledge = p
	}
	return out
}

func cloneValues(vs []Value) []Value {
	if vs == nil {
		return nil
	}
	out := make([]Value, len(vs))
	for i, v := range vs {
		out[i] = v.clone()
	}
	return out
}
