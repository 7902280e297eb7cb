package quorum

import (
	"bytes"
	"encoding/hex"
)

// NodeID identifies a validator: its Ed25519 public key.
type NodeID [32]byte

// String returns the first bytes of the key in hex, enough to tell nodes apart in logs.
func (n NodeID) String() string { return hex.EncodeToString(n[:4]) }

// Less orders node ids as unsigned bytes.
func (n NodeID) Less(m NodeID) bool { return bytes.Compare(n[:], m[:]) < 0 }

// Set is a set of nodes.
type Set map[NodeID]struct{}

// Has reports whether n is in the set.
func (s Set) Has(n NodeID) bool { _, ok := s[n]; return ok }

// QSet is a quorum set: Threshold of its entries (Validators and InnerSets,
// each counting as one entry) must agree for a slice.
type QSet struct {
	Threshold  uint32
	Validators []NodeID
	InnerSets  []QSet
}

// Entries is the number of entries the threshold counts over (0 for nil).
func (q *QSet) Entries() int {
	if q == nil {
		return 0
	}
	return len(q.Validators) + len(q.InnerSets)
}

// IsSlice reports whether the nodes of s satisfy q, that is, contain one of
// the slices q describes. A threshold of 0 is never satisfied (as in
// stellar-core); sanity checks reject such quorum sets anyway. A nil q is
// never satisfied.
func (q *QSet) IsSlice(s Set) bool {
	if q == nil || q.Threshold == 0 {
		return false
	}
	need := int64(q.Threshold)
	for _, v := range q.Validators {
		if s.Has(v) {
			if need--; need == 0 {
				return true
			}
		}
	}
	for i := range q.InnerSets {
		if q.InnerSets[i].IsSlice(s) {
			if need--; need == 0 {
				return true
			}
		}
	}
	return false
}

// IsVBlocking reports whether s intersects every slice of q: if every node of
// s refuses a statement, a node with quorum set q can never see a quorum for it.
// Quorum sets that fail the sanity checks (threshold 0, or above the number
// of entries) block nothing: the result is false, never a vacuous true;
// so does a nil q.
func (q *QSet) IsVBlocking(s Set) bool {
	if q == nil || q.Threshold == 0 {
		return false
	}
	need := int64(q.Entries()) - int64(q.Threshold) + 1
	if need <= 0 {
		return false
	}
	for _, v := range q.Validators {
		if s.Has(v) {
			if need--; need == 0 {
				return true
			}
		}
	}
	for i := range q.InnerSets {
		if q.InnerSets[i].IsVBlocking(s) {
			if need--; need == 0 {
				return true
			}
		}
	}
	return false
}

// ContainsQuorum reports whether, starting from the candidate nodes in s,
// the nodes that remain after repeatedly removing every node whose own
// quorum set (qsetOf; nil = unknown, and the node is removed) is not
// satisfied by the remaining nodes form a slice of local. It is the transitive
// quorum check of federated voting. A nil local is never satisfied.
func ContainsQuorum(local *QSet, s Set, qsetOf func(NodeID) *QSet) bool {
	p := make(Set, len(s))
	for n := range s {
		p[n] = struct{}{}
	}
	for {
		removed := false
		for n := range p {
			q := qsetOf(n)
			if q == nil || !q.IsSlice(p) {
				delete(p, n)
				removed = true
			}
		}
		if !removed {
			break
		}
	}
	return local.IsSlice(p)
}
