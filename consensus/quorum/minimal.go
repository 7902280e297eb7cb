package quorum

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
)

// MaxDetailNodes is the largest network (counting every node, with or
// without a quorum set) for which FindMinimalSets runs: the splitting-set
// search is exponential in the number of nodes.
const MaxDetailNodes = 16

// ErrTooLarge is returned by FindMinimalSets for networks of more than
// MaxDetailNodes nodes.
var ErrTooLarge = errors.New("network too large for the minimal-set analysis")

// MinimalSets are the minimal node sets that matter for a network's liveness
// and safety, as fbas_analyzer defines them. Every list is sorted by size,
// then lexicographically; every set is sorted ascending.
type MinimalSets struct {
	// Quorums are the minimal quorums: no proper subset is a quorum.
	Quorums [][]NodeID
	// BlockingSets are the minimal sets that intersect every quorum: if
	// they crash, no quorum of correct nodes remains (liveness is lost).
	// With no quorum at all, the only one is the empty set.
	BlockingSets [][]NodeID
	// SplittingSets are the minimal sets S such that, after Mazières's delete
	// operation on S (its members are Byzantine: they count as present for
	// everyone's slices and are members of no quorum), two disjoint non-empty
	// quorums remain (safety is lost). If the network has two disjoint
	// quorums, the only one is the empty set. Unlike fbas_analyzer, which
	// returns none when the network has no quorum, the definition is applied
	// as is: Byzantine nodes can make quorums appear where honest ones fail.
	SplittingSets [][]NodeID
}

// FindMinimalSets computes the minimal quorums, minimal blocking sets and
// minimal splitting sets of a network of at most MaxDetailNodes nodes
// (ErrTooLarge otherwise). It stops with ctx.Err() when ctx is done.
func FindMinimalSets(ctx context.Context, n *Network) (*MinimalSets, error) {
	g := compile(n)
	if len(g.ids) > MaxDetailNodes {
		return nil, fmt.Errorf("%w: %d nodes, limit %d", ErrTooLarge, len(g.ids), MaxDetailNodes)
	}
	c := newChecker(ctx, g, nil)
	mq := c.minimalQuorums()
	mbs := c.minimalBlockingSets(mq)
	mss := minimalSplittingSets(ctx, g)
	if c.err != nil {
		return nil, fmt.Errorf("minimal-set analysis interrupted: %w", c.err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("minimal-set analysis interrupted: %w", err)
	}
	return &MinimalSets{
		Quorums:       g.sortedSets(mq),
		BlockingSets:  g.sortedSets(mbs),
		SplittingSets: g.sortedSets(mss),
	}, nil
}

// minimalQuorums enumerates every minimal quorum: each lies inside one
// strongly connected component that contains a quorum.
func (c *checker) minimalQuorums() []bitset {
	var out []bitset
	comps, _ := c.quorumComponents()
	for _, scc := range comps {
		e := enumeration{c: c, maxCommit: -1, onMinimal: func(q bitset) bool {
			out = append(out, q)
			return false
		}}
		e.run(newBitset(len(c.g.ids)), scc)
	}
	return out
}

// minimalBlockingSets searches, over the nodes of the minimal quorums (no
// other node is in a minimal hitting set of them), the sets whose removal
// leaves no quorum, including or excluding one candidate at a time; a
// branch stops when its selection blocks, or when the nodes it can no
// longer remove already contain a quorum.
func (c *checker) minimalBlockingSets(mq []bitset) []bitset {
	if len(mq) == 0 {
		return []bitset{newBitset(len(c.g.ids))}
	}
	top := newBitset(len(c.g.ids))
	for _, q := range mq {
		top = top.or(q)
	}
	cands := top.members()
	var found []bitset
	var rec func(i int, sel bitset)
	rec = func(i int, sel bitset) {
		if c.interrupted() {
			return
		}
		if c.contract(c.universe.andNot(sel)).empty() {
			found = append(found, sel.clone())
			return
		}
		if i == len(cands) {
			return
		}
		undecided := newBitset(len(c.g.ids))
		for _, k := range cands[i:] {
			undecided.set(k)
		}
		if !c.contract(c.universe.andNot(sel).andNot(undecided)).empty() {
			return
		}
		sel.set(cands[i])
		rec(i+1, sel)
		sel.clear(cands[i])
		rec(i+1, sel)
	}
	rec(0, newBitset(len(c.g.ids)))
	return keepMinimal(found)
}

// minimalSplittingSets tries node sets by increasing size, skipping
// supersets of splitting sets already found, and checks intersection of the
// network after deleting the set. Splitting is not monotone (deleting a
// node can empty one side of a split), which is why the search goes by size
// rather than pruning on supersets of non-splitting sets. It stops after a
// size at which every set contained a splitting set (then so does every
// larger set), and at n-2 (a split needs two nodes outside the set).
func minimalSplittingSets(ctx context.Context, g *graph) []bitset {
	n := len(g.ids)
	var found []bitset
	sel := newBitset(n)
	checked := 0 // sets of the current size that contain no splitting set
	var comb func(start, k int) bool
	comb = func(start, k int) bool {
		if ctx.Err() != nil {
			return false
		}
		if k == 0 {
			for _, f := range found {
				if f.subsetOf(sel) {
					return true
				}
			}
			checked++
			c := newChecker(ctx, g, sel.clone())
			if c.contract(c.universe).empty() {
				return true // no quorum at all despite sel
			}
			res, err := c.intersection()
			if err != nil {
				return false
			}
			if res.Split != nil {
				found = append(found, sel.clone())
			}
			return true
		}
		for i := start; i <= n-k; i++ {
			sel.set(i)
			ok := comb(i+1, k-1)
			sel.clear(i)
			if !ok {
				return false
			}
		}
		return true
	}
	for k := 0; k <= n-2; k++ {
		checked = 0
		if !comb(0, k) || checked == 0 {
			break
		}
	}
	return found
}

// keepMinimal drops every set that has a proper subset in the list (and
// duplicates).
func keepMinimal(sets []bitset) []bitset {
	var out []bitset
	for i, s := range sets {
		minimal := true
		for j, t := range sets {
			if i == j {
				continue
			}
			if t.subsetOf(s) && (!t.equal(s) || j < i) {
				minimal = false
				break
			}
		}
		if minimal {
			out = append(out, s)
		}
	}
	return out
}

// sortedSets converts bitsets to node-id lists sorted by size, then
// lexicographically.
func (g *graph) sortedSets(sets []bitset) [][]NodeID {
	out := make([][]NodeID, 0, len(sets))
	for _, s := range sets {
		out = append(out, g.nodeIDs(s))
	}
	slices.SortFunc(out, compareNodeLists)
	return out
}

func compareNodeLists(a, b []NodeID) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return slices.CompareFunc(a, b, func(x, y NodeID) int { return bytes.Compare(x[:], y[:]) })
}
