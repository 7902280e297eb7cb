package quorum

import (
	"context"
	"fmt"
)

// Status is the outcome of an intersection check.
type Status int

const (
	// Intersecting: the network has quorums and every two of them intersect.
	Intersecting Status = iota
	// Split: the network has two disjoint quorums.
	Split
	// NoQuorum: no set of nodes forms a quorum; nothing can be decided, and
	// the question of intersection does not arise. It is not "safe".
	NoQuorum
)

// String returns "intersecting", "split" or "no quorum".
func (s Status) String() string {
	switch s {
	case Intersecting:
		return "intersecting"
	case Split:
		return "split"
	case NoQuorum:
		return "no quorum"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Intersection is the result of CheckIntersection. Exactly one of
// Intersects, NoQuorum and a non-nil Split holds.
type Intersection struct {
	// Intersects is true when at least one quorum exists and every two
	// quorums share a node.
	Intersects bool
	// NoQuorum is true when the network has no quorum at all.
	NoQuorum bool
	// Split holds two disjoint minimal quorums when the network has them.
	Split *[2][]NodeID
	// QuorumComponent is the strongly connected component of the dependency
	// graph holding every minimal quorum, when exactly one component holds
	// quorums.
	QuorumComponent []NodeID
	// Steps counts the enumeration steps, for benchmarks and diagnostics.
	Steps int
}

// Status summarizes the result.
func (r *Intersection) Status() Status {
	switch {
	case r.NoQuorum:
		return NoQuorum
	case r.Split != nil:
		return Split
	}
	return Intersecting
}

// CheckIntersection decides whether every two quorums of the network
// intersect, with stellar-core's first (Lachowski-derived) algorithm: build
// the dependency graph and its strongly connected components; if quorums
// exist in two components, those are disjoint; if in none, there is no
// quorum; otherwise enumerate the minimal quorums of the one component of at
// most half its size and look for a quorum in the complement of each. The
// search is exponential in the worst case; it stops with ctx.Err() when ctx
// is done. Insane quorum sets and nodes without one take no part in quorums.
func CheckIntersection(ctx context.Context, n *Network) (*Intersection, error) {
	g := compile(n)
	c := newChecker(ctx, g, nil)
	return c.intersection()
}

// checker runs the analyses on a graph in which the helper nodes count as
// present for every quorum set but are never members of a quorum: with an
// empty helper set this is the network itself, with helper S it is the
// network after Mazières's delete operation on S (used for splitting sets).
type checker struct {
	ctx      context.Context
	g        *graph
	helper   bitset
	universe bitset // every node but the helpers
	steps    int
	err      error
	memo     []int8 // per distinct quorum set: 0 unknown, 1 satisfied, -1 not
}

func newChecker(ctx context.Context, g *graph, helper bitset) *checker {
	if helper == nil {
		helper = newBitset(len(g.ids))
	}
	return &checker{ctx: ctx, g: g, helper: helper, universe: g.all.andNot(helper), memo: make([]int8, len(g.uniq))}
}

// sat reports whether node i's quorum set is satisfied by avail, consulting
// and filling the memo (which the caller resets whenever avail changes in a
// way that matters).
func (c *checker) sat(i int, avail bitset) bool {
	k := c.g.qidx[i]
	if k < 0 {
		return false
	}
	switch c.memo[k] {
	case 1:
		return true
	case -1:
		return false
	}
	ok := c.g.uniq[k].satisfiedBy(avail)
	if ok {
		c.memo[k] = 1
	} else {
		c.memo[k] = -1
	}
	return ok
}

func (c *checker) resetMemo() { clear(c.memo) }

// interrupted counts a step and polls the context now and then.
func (c *checker) interrupted() bool {
	if c.err != nil {
		return true
	}
	c.steps++
	if c.steps&1023 == 0 {
		c.err = c.ctx.Err()
	}
	return c.err != nil
}

// contract returns the greatest quorum inside s (possibly empty): it
// repeatedly removes the members whose quorum set is not satisfied by the
// remaining members and the helpers. Within a pass a distinct quorum set is
// evaluated once: a stale "satisfied" only delays a removal to the next
// pass, and the last pass, which removes nothing, evaluates everything on
// the final set, so the fixpoint is exact.
func (c *checker) contract(s bitset) bitset {
	r := s.and(c.universe)
	avail := r.or(c.helper)
	for changed := true; changed; {
		changed = false
		c.resetMemo()
		for i := r.next(0); i >= 0; i = r.next(i + 1) {
			if !c.sat(i, avail) {
				r.clear(i)
				avail.clear(i)
				changed = true
			}
		}
	}
	return r
}

// isQuorum reports whether s is a non-empty set whose every member is
// satisfied by s and the helpers.
func (c *checker) isQuorum(s bitset) bool {
	if s.empty() {
		return false
	}
	avail := s.or(c.helper)
	c.resetMemo()
	for i := s.next(0); i >= 0; i = s.next(i + 1) {
		if !c.sat(i, avail) {
			return false
		}
	}
	return true
}

// isMinimalQuorum reports whether the quorum q has no smaller quorum inside:
// removing any single member leaves no quorum.
func (c *checker) isMinimalQuorum(q bitset) bool {
	t := q.clone()
	for i := q.next(0); i >= 0; i = q.next(i + 1) {
		t.clear(i)
		if !c.contract(t).empty() {
			return false
		}
		t.set(i)
	}
	return true
}

// shrink returns a minimal quorum inside the quorum q.
func (c *checker) shrink(q bitset) bitset {
	q = q.clone()
	for i := q.next(0); i >= 0; i = q.next(i + 1) {
		t := q.clone()
		t.clear(i)
		if t = c.contract(t); !t.empty() {
			q = t
		}
	}
	return q
}

// quorumComponents returns the strongly connected components that contain
// a quorum, and the greatest quorum inside each.
func (c *checker) quorumComponents() (comps, quorums []bitset) {
	for _, scc := range c.g.sccs(c.universe) {
		if q := c.contract(scc); !q.empty() {
			comps = append(comps, scc)
			quorums = append(quorums, q)
		}
	}
	return comps, quorums
}

func (c *checker) intersection() (*Intersection, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, fmt.Errorf("quorum intersection check interrupted before it started: %w", err)
	}
	comps, quorums := c.quorumComponents()
	res := &Intersection{}
	switch len(comps) {
	case 0:
		res.NoQuorum = true
		return res, nil
	case 1:
	default:
		res.Split = &[2][]NodeID{c.g.nodeIDs(c.shrink(quorums[0])), c.g.nodeIDs(c.shrink(quorums[1]))}
		return res, nil
	}
	scc := comps[0]
	res.QuorumComponent = c.g.nodeIDs(scc)
	var split [2]bitset
	found := false
	e := enumeration{
		c:         c,
		maxCommit: scc.count() / 2,
		onMinimal: func(q bitset) bool {
			if comp := c.contract(scc.andNot(q)); !comp.empty() {
				split = [2]bitset{q, c.shrink(comp)}
				found = true
				return true
			}
			return false
		},
	}
	e.run(newBitset(len(c.g.ids)), scc)
	res.Steps = c.steps
	if c.err != nil {
		return nil, fmt.Errorf("quorum intersection check interrupted after %d steps: %w", c.steps, c.err)
	}
	if found {
		res.Split = &[2][]NodeID{c.g.nodeIDs(split[0]), c.g.nodeIDs(split[1])}
		return res, nil
	}
	res.Intersects = true
	return res, nil
}

// enumeration visits the minimal quorums Q with committed ⊆ Q ⊆ committed ∪
// remaining, bottom-up (Lachowski; stellar-core's MinQuorumEnumerator).
type enumeration struct {
	c         *checker
	maxCommit int                 // stop once more nodes are committed; < 0: no limit
	onMinimal func(q bitset) bool // returns true to stop the enumeration
	stopped   bool
}

func (e *enumeration) run(committed, remaining bitset) {
	c := e.c
	if e.stopped || c.interrupted() {
		return
	}
	// Any split with a larger side is found from its smaller side.
	if e.maxCommit >= 0 && committed.count() > e.maxCommit {
		return
	}
	// A quorum: report it if minimal; its supersets are not minimal.
	if c.isQuorum(committed) {
		if c.isMinimalQuorum(committed) && e.onMinimal(committed.clone()) {
			e.stopped = true
		}
		return
	}
	if remaining.empty() {
		return
	}
	// Every quorum inside committed ∪ remaining lies inside its greatest
	// quorum: if that misses a committed node, nothing is left to find, and
	// otherwise the nodes outside it can be dropped.
	ext := c.contract(committed.or(remaining))
	if !committed.subsetOf(ext) {
		return
	}
	remaining = ext.andNot(committed)
	if remaining.empty() {
		return
	}
	// A minimal quorum containing committed also satisfies every committed
	// node: if one of them needs more nodes than the size limit leaves, stop.
	if e.maxCommit >= 0 && committed.count()+e.lowerBound(committed, remaining) > e.maxCommit {
		return
	}
	split := e.pick(remaining)
	without := remaining.clone()
	without.clear(split)
	e.run(committed, without)
	with := committed.clone()
	with.set(split)
	e.run(with, without)
}

// lowerBound is the largest number of nodes of remaining some committed
// node needs to be satisfied, helpers counting as present (each distinct
// quorum set evaluated once).
func (e *enumeration) lowerBound(committed, remaining bitset) int {
	c := e.c
	c.resetMemo()
	present := committed.or(c.helper)
	lb := 0
	for i := committed.next(0); i >= 0; i = committed.next(i + 1) {
		k := c.g.qidx[i]
		if k < 0 {
			return unreachable
		}
		if c.memo[k] != 0 {
			continue
		}
		c.memo[k] = 1
		lb = max(lb, c.g.uniq[k].minExtra(present, remaining))
	}
	return lb
}

// pick returns the node of remaining with the highest in-degree in the
// subgraph induced by remaining; ties go to the lowest index.
func (e *enumeration) pick(remaining bitset) int {
	best, bestDeg := -1, -1
	for j := remaining.next(0); j >= 0; j = remaining.next(j + 1) {
		deg := 0
		for i := remaining.next(0); i >= 0; i = remaining.next(i + 1) {
			if i != j && e.c.g.succ[i].has(j) {
				deg++
			}
		}
		if deg > bestDeg {
			best, bestDeg = j, deg
		}
	}
	return best
}
