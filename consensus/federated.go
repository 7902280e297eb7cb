package consensus

import "github.com/pgfed/pgfed/consensus/quorum"

// Federated voting (whitepaper section 5, draft section "Federated voting").
// A node accepts a statement a when either
//   - the nodes that accepted a form a v-blocking set, or
//   - the nodes that voted for or accepted a form a quorum (transitively:
//     every member's own slice is inside the set, and the set contains a
//     slice of the local node);
// and confirms a when the nodes that accepted a form such a quorum
// ("ratify accept(a)").
//
// The latest statement of every node, the local one included, is the
// evidence; a statement's sender is evaluated with the quorum set the
// statement names (slot.qsetOf).

type predicate func(st *Statement) bool

// federatedAccept implements the accept rule (Slot::federatedAccept).
func (s *slot) federatedAccept(latest map[quorum.NodeID]*Envelope, voted, accepted predicate) bool {
	if s.isVBlocking(latest, accepted) {
		return true
	}
	return s.isQuorum(latest, func(st *Statement) bool { return accepted(st) || voted(st) })
}

// federatedRatify implements the confirm rule: a quorum satisfies pred
// (Slot::federatedRatify).
func (s *slot) federatedRatify(latest map[quorum.NodeID]*Envelope, pred predicate) bool {
	return s.isQuorum(latest, pred)
}

// isVBlocking reports whether the senders whose latest statement satisfies
// pred form a v-blocking set for the local node (LocalNode::isVBlocking).
func (s *slot) isVBlocking(latest map[quorum.NodeID]*Envelope, pred predicate) bool {
	set := make(quorum.Set)
	for id, env := range latest {
		if pred(&env.Statement) {
			set[id] = struct{}{}
		}
	}
	return s.n.qset.IsVBlocking(set)
}

// isQuorum reports whether the senders whose latest statement satisfies pred
// contain a quorum that includes a slice of the local node
// (LocalNode::isQuorum): the candidate set is shrunk to a fixpoint where
// every member's quorum set is satisfied by the remaining members.
func (s *slot) isQuorum(latest map[quorum.NodeID]*Envelope, pred predicate) bool {
	set := make(quorum.Set)
	for id, env := range latest {
		if pred(&env.Statement) {
			set[id] = struct{}{}
		}
	}
	return quorum.ContainsQuorum(&s.n.qset, set, func(id quorum.NodeID) *quorum.QSet {
		env := latest[id]
		if env == nil {
			return nil
		}
		return s.qsetOf(env)
	})
}
