package consensus

import (
	"fmt"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// slot is the state of one slot: its nomination and ballot protocols, which
// keep the latest statement of every node separately, and its timers.
type slot struct {
	n     *Node
	index uint64

	nomination nomination
	ballot     ballot

	// fullyValidated is cleared once a maybe-valid value is seen: the node
	// then stops emitting statements for the slot (stellar-core
	// Slot::setFullyValidated).
	fullyValidated bool
	externalized   bool // reported in Ready (at most once per slot)

	nominationTimer timer
	ballotTimer     timer
}

func newSlot(n *Node, idx uint64) *slot {
	s := &slot{n: n, index: idx, fullyValidated: true}
	s.nomination.init(s)
	s.ballot.init(s)
	return s
}

// processEnvelope dispatches a statement (the local node's own included, with
// self set) to the nomination or ballot protocol (Slot::processEnvelope).
func (s *slot) processEnvelope(env *Envelope, self bool) error {
	if env.Statement.Type() == TypeNominate {
		return s.nomination.processEnvelope(env)
	}
	return s.ballot.processEnvelope(env, self)
}

// restore sets the slot's state from one of the local node's own persisted
// envelopes (Slot::setStateFromEnvelope).
func (s *slot) restore(env *Envelope) error {
	if env.Statement.Type() == TypeNominate {
		return s.nomination.restore(env)
	}
	return s.ballot.restore(env)
}

// qsetOf returns the quorum set a statement's sender is evaluated with
// (Slot::getQuorumSetFromStatement): the singleton {sender} for EXTERNALIZE
// (the sender already checked its slices), otherwise the quorum set named by
// its hash; nil if unknown.
func (s *slot) qsetOf(env *Envelope) *quorum.QSet {
	if env.Statement.Type() == TypeExternalize {
		return &quorum.QSet{Threshold: 1, Validators: []quorum.NodeID{env.Statement.NodeID}}
	}
	return s.n.qsets[env.Statement.QSetHash()]
}

func (s *slot) logf(msg string, args ...any) {
	s.n.log.Debug(msg, append([]any{"slot", s.index}, args...)...)
}

// emit queues an own envelope for sending (and persisting).
func (s *slot) emit(env *Envelope) {
	s.n.ready.send(s.index, cloneEnvelope(*env))
}

// persist queues an own envelope that became the latest of its protocol.
func (s *slot) persist(env *Envelope) {
	s.n.ready.persist(s.index, cloneEnvelope(*env))
}

func (s *slot) newEnvelope(p Pledge) *Envelope {
	return &Envelope{Statement: Statement{NodeID: s.n.id, Slot: s.index, Pledge: p}}
}

func (s *slot) String() string { return fmt.Sprintf("slot %d", s.index) }
