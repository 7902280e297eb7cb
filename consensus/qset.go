package consensus

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/bits"
	"sort"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// This file holds the quorum-set helpers the core needs (sanity, normalization,
// canonical hash, leader-election weight). They are unexported stand-ins
// until package quorum exports its own; the encoding below is what QSetHash
// hashes, so every node must use the same one.

const (
	maxQSetDepth      = 4
	maxQSetValidators = 1000
)

// checkQSet is stellar-core's isQuorumSetSane: depth <= 4, 1 <= threshold <=
// entries at every level, no node listed twice, 1..1000 validators in all;
// strict (configuration time) also requires threshold > entries/2 at every
// level so that two slices of one quorum set always overlap.
func checkQSet(q *quorum.QSet, strict bool) error {
	seen := make(map[quorum.NodeID]struct{})
	if err := checkQSetLevel(q, strict, 0, seen); err != nil {
		return err
	}
	if len(seen) < 1 || len(seen) > maxQSetValidators {
		return fmt.Errorf("quorum set lists %d validators, want 1..%d", len(seen), maxQSetValidators)
	}
	return nil
}

func checkQSetLevel(q *quorum.QSet, strict bool, depth int, seen map[quorum.NodeID]struct{}) error {
	if depth > maxQSetDepth {
		return fmt.Errorf("quorum set nested deeper than %d", maxQSetDepth)
	}
	entries := uint64(q.Entries())
	t := uint64(q.Threshold)
	if t < 1 || t > entries {
		return fmt.Errorf("threshold %d not in 1..%d", t, entries)
	}
	if strict && t < entries-t+1 {
		return fmt.Errorf("threshold %d of %d is not a majority", t, entries)
	}
	for _, v := range q.Validators {
		if _, dup := seen[v]; dup {
			return fmt.Errorf("node %s listed twice", v)
		}
		seen[v] = struct{}{}
		if len(seen) > maxQSetValidators {
			return fmt.Errorf("quorum set lists more than %d validators", maxQSetValidators)
		}
	}
	for i := range q.InnerSets {
		if err := checkQSetLevel(&q.InnerSets[i], strict, depth+1, seen); err != nil {
			return err
		}
	}
	return nil
}

// normalizeQSet returns a normalized copy of q (stellar-core normalizeQSet):
// remove (if non-nil) is deleted from every validators list, lowering that
// level's threshold; inner sets {t:1, one validator} are hoisted into the
// parent; {t:1, no validators, one inner set} is replaced by the inner set;
// validators and inner sets are sorted.
func normalizeQSet(q quorum.QSet, remove *quorum.NodeID) quorum.QSet {
	out := quorum.QSet{Threshold: q.Threshold}
	for _, v := range q.Validators {
		if remove != nil && v == *remove {
			if out.Threshold > 0 {
				out.Threshold--
			}
			continue
		}
		out.Validators = append(out.Validators, v)
	}
	for _, in := range q.InnerSets {
		n := normalizeQSet(in, remove)
		if n.Threshold == 1 && len(n.Validators) == 1 && len(n.InnerSets) == 0 {
			out.Validators = append(out.Validators, n.Validators[0])
			continue
		}
		out.InnerSets = append(out.InnerSets, n)
	}
	if out.Threshold == 1 && len(out.Validators) == 0 && len(out.InnerSets) == 1 {
		return out.InnerSets[0]
	}
	sort.Slice(out.Validators, func(i, j int) bool { return out.Validators[i].Less(out.Validators[j]) })
	sort.SliceStable(out.InnerSets, func(i, j int) bool { return compareQSet(&out.InnerSets[i], &out.InnerSets[j]) < 0 })
	return out
}

// compareQSet orders normalized quorum sets: validators lexicographically,
// then inner sets recursively, then threshold.
func compareQSet(a, b *quorum.QSet) int {
	for i := 0; i < len(a.Validators) && i < len(b.Validators); i++ {
		if c := bytes.Compare(a.Validators[i][:], b.Validators[i][:]); c != 0 {
			return c
		}
	}
	if len(a.Validators) != len(b.Validators) {
		if len(a.Validators) < len(b.Validators) {
			return -1
		}
		return 1
	}
	for i := 0; i < len(a.InnerSets) && i < len(b.InnerSets); i++ {
		if c := compareQSet(&a.InnerSets[i], &b.InnerSets[i]); c != 0 {
			return c
		}
	}
	if len(a.InnerSets) != len(b.InnerSets) {
		if len(a.InnerSets) < len(b.InnerSets) {
			return -1
		}
		return 1
	}
	switch {
	case a.Threshold < b.Threshold:
		return -1
	case a.Threshold > b.Threshold:
		return 1
	}
	return 0
}

func encodeQSet(e *encoder, q *quorum.QSet) {
	e.u32(q.Threshold)
	e.u32(uint32(len(q.Validators)))
	for _, v := range q.Validators {
		e.buf = append(e.buf, v[:]...)
	}
	e.u32(uint32(len(q.InnerSets)))
	for i := range q.InnerSets {
		encodeQSet(e, &q.InnerSets[i])
	}
}

// QSetHash is the SHA-256 of the canonical encoding of q (threshold,
// validators, inner sets, each list with a 32-bit count; big-endian). Callers
// that want equivalent quorum sets to hash alike normalize first; NewNode
// normalizes the local quorum set.
func QSetHash(q quorum.QSet) Hash {
	var e encoder
	encodeQSet(&e, &q)
	return sha256.Sum256(e.buf)
}

// nodeWeight is the leader-election weight of n in q (LocalNode::getNodeWeight,
// rounded up): a direct validator weighs ceil(MAX*t/entries); a node inside
// an inner set I (first match) weighs ceil(weight_in_I*t/entries); absent 0.
func nodeWeight(n quorum.NodeID, q *quorum.QSet) uint64 {
	t := uint64(q.Threshold)
	d := uint64(q.Entries())
	if d == 0 {
		return 0
	}
	if t > d {
		t = d
	}
	for _, v := range q.Validators {
		if v == n {
			return mulDivCeil(^uint64(0), t, d)
		}
	}
	for i := range q.InnerSets {
		if w := nodeWeight(n, &q.InnerSets[i]); w > 0 {
			return mulDivCeil(w, t, d)
		}
	}
	return 0
}

// mulDivCeil returns ceil(a*b/c) for b <= c (no overflow: result <= a).
func mulDivCeil(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	q, r := bits.Div64(hi, lo, c)
	if r != 0 {
		q++
	}
	return q
}

// forAllNodes calls f for every validator of q, depth first.
func forAllNodes(q *quorum.QSet, f func(quorum.NodeID)) {
	for _, v := range q.Validators {
		f(v)
	}
	for i := range q.InnerSets {
		forAllNodes(&q.InnerSets[i], f)
	}
}
