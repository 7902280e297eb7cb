package quorum

import (
	"bytes"
	"slices"
)

// Clone returns a deep copy of q (the zero QSet for nil).
func (q *QSet) Clone() QSet {
	if q == nil {
		return QSet{}
	}
	c := QSet{Threshold: q.Threshold}
	if q.Validators != nil {
		c.Validators = slices.Clone(q.Validators)
	}
	if q.InnerSets != nil {
		c.InnerSets = make([]QSet, len(q.InnerSets))
		for i := range q.InnerSets {
			c.InnerSets[i] = q.InnerSets[i].Clone()
		}
	}
	return c
}

// Normalize returns the normal form of q as stellar-core's normalizeQSet
// computes it; q itself is not modified. If remove is not nil, that node is
// first taken out of every validator list, lowering the threshold of its level
// by one per removal (the threshold saturates at 0, which only an insane
// quorum set can reach). Then, bottom-up, an inner set {t:1, one validator,
// no inner sets} is hoisted into its parent's validators, and a set
// {t:1, no validators, exactly one inner set} is replaced by that inner set.
// Finally validators are sorted ascending and inner sets are sorted by their
// validators (lexicographically), then their inner sets (recursively), then
// their threshold. Equivalent quorum sets thus normalize to identical
// encodings and hashes.
func Normalize(q *QSet, remove *NodeID) QSet {
	n := q.Clone()
	simplify(&n, remove)
	reorder(&n)
	return n
}

func simplify(q *QSet, remove *NodeID) {
	if remove != nil {
		kept := q.Validators[:0]
		for _, v := range q.Validators {
			if v == *remove {
				if q.Threshold > 0 {
					q.Threshold--
				}
				continue
			}
			kept = append(kept, v)
		}
		q.Validators = kept
	}
	inner := q.InnerSets[:0]
	for i := range q.InnerSets {
		in := q.InnerSets[i]
		simplify(&in, remove)
		if in.Threshold == 1 && len(in.Validators) == 1 && len(in.InnerSets) == 0 {
			q.Validators = append(q.Validators, in.Validators[0])
			continue
		}
		inner = append(inner, in)
	}
	q.InnerSets = inner
	if len(q.InnerSets) == 0 {
		q.InnerSets = nil // empty lists are nil, so equal sets are DeepEqual
	}
	if len(q.Validators) == 0 {
		q.Validators = nil
	}
	if q.Threshold == 1 && len(q.Validators) == 0 && len(q.InnerSets) == 1 {
		*q = q.InnerSets[0]
	}
}

func reorder(q *QSet) {
	slices.SortFunc(q.Validators, func(a, b NodeID) int { return bytes.Compare(a[:], b[:]) })
	for i := range q.InnerSets {
		reorder(&q.InnerSets[i])
	}
	slices.SortFunc(q.InnerSets, func(a, b QSet) int { return compareQSets(&a, &b) })
}

// compareQSets is stellar-core's qSetCompareInt: validators, then inner sets,
// then threshold.
func compareQSets(a, b *QSet) int {
	if c := slices.CompareFunc(a.Validators, b.Validators, func(x, y NodeID) int { return bytes.Compare(x[:], y[:]) }); c != 0 {
		return c
	}
	if c := slices.CompareFunc(a.InnerSets, b.InnerSets, func(x, y QSet) int { return compareQSets(&x, &y) }); c != 0 {
		return c
	}
	switch {
	case a.Threshold < b.Threshold:
		return -1
	case a.Threshold > b.Threshold:
		return 1
	}
	return 0
}
