package quorum

import (
	"math"
	"math/bits"
)

// MaxWeight is the weight of the local node in leader election (2^64-1).
const MaxWeight = math.MaxUint64

// Weight returns the leader-election weight of n for a node whose quorum set
// is q, as stellar-core's LocalNode::getNodeWeight: if n is a direct
// validator of q, ceil(MaxWeight*t/entries); otherwise, for the first inner
// set I with a non-zero weight for n, ceil(Weight(I, n)*t/entries); 0 if n
// does not appear. A threshold above the entry count (insane) caps at
// MaxWeight. Weight does not treat the local node specially: see NodeWeight.
func (q *QSet) Weight(n NodeID) uint64 {
	if q == nil {
		return 0
	}
	t := uint64(q.Threshold)
	d := uint64(q.Entries())
	if t == 0 || d == 0 {
		return 0
	}
	for _, v := range q.Validators {
		if v == n {
			return mulDivCeil(MaxWeight, t, d)
		}
	}
	for i := range q.InnerSets {
		if w := q.InnerSets[i].Weight(n); w != 0 {
			return mulDivCeil(w, t, d)
		}
	}
	return 0
}

// NodeWeight is the weight the nomination protocol uses: MaxWeight for the
// local node itself, q.Weight(n) for every other node.
func NodeWeight(q *QSet, n, local NodeID) uint64 {
	if n == local {
		return MaxWeight
	}
	return q.Weight(n)
}

// mulDivCeil returns ceil(a*b/c) computed on 128 bits, saturating at
// MaxWeight. c must not be 0.
func mulDivCeil(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return MaxWeight // the quotient does not fit in 64 bits
	}
	quo, rem := bits.Div64(hi, lo, c)
	if rem != 0 {
		if quo == MaxWeight {
			return MaxWeight
		}
		quo++
	}
	return quo
}
