package consensus

import "github.com/pgfed/pgfed/consensus/quorum"

// Quorum-set helpers come from package quorum: sanity (Sane), normalization
// (Normalize), the canonical XDR-compatible encoding and its SHA-256 (Hash),
// and leader-election weights (Weight). This file adapts them.

// checkQSet is stellar-core's isQuorumSetSane (strict at configuration time).
func checkQSet(q *quorum.QSet, strict bool) error { return q.Sane(strict) }

// normalizeQSet returns a normalized copy of q, with remove (if non-nil)
// taken out of every validators list.
func normalizeQSet(q quorum.QSet, remove *quorum.NodeID) quorum.QSet {
	return quorum.Normalize(&q, remove)
}

// QSetHash is the hash statements carry for q: SHA-256 of its canonical
// encoding (the XDR of stellar-core's SCPQuorumSet). Callers that want
// equivalent quorum sets to hash alike normalize first; NewNode normalizes
// the local quorum set.
func QSetHash(q quorum.QSet) Hash { return Hash(q.Hash()) }

// nodeWeight is the leader-election weight of n in q (LocalNode::getNodeWeight).
func nodeWeight(n quorum.NodeID, q *quorum.QSet) uint64 { return q.Weight(n) }

// forAllNodes calls f for every validator of q, depth first.
func forAllNodes(q *quorum.QSet, f func(quorum.NodeID)) {
	for _, v := range q.Validators {
		f(v)
	}
	for i := range q.InnerSets {
		forAllNodes(&q.InnerSets[i], f)
	}
}
