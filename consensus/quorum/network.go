package quorum

import (
	"bytes"
	"slices"
)

// Network is a federated Byzantine agreement system as seen by an analyzer:
// the quorum set of every node it knows, and optional display names.
//
// A node named in some quorum set but absent from QSets, or present with a
// nil quorum set, has an unknown quorum set; such a node, like one whose
// quorum set fails the (non-strict) sanity check, can never be part of a
// quorum, as in stellar-core's checker.
type Network struct {
	QSets map[NodeID]*QSet
	Names map[NodeID]string
}

// Nodes returns every node of the network, those with an entry in QSets and
// those only named inside quorum sets, in ascending order.
func (n *Network) Nodes() []NodeID {
	seen := make(Set)
	var add func(q *QSet)
	add = func(q *QSet) {
		for _, v := range q.Validators {
			seen[v] = struct{}{}
		}
		for i := range q.InnerSets {
			add(&q.InnerSets[i])
		}
	}
	for id, q := range n.QSets {
		seen[id] = struct{}{}
		if q != nil {
			add(q)
		}
	}
	ids := make([]NodeID, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b NodeID) int { return bytes.Compare(a[:], b[:]) })
	return ids
}

// Name returns the display name of id: Names[id] if set, else id.String().
func (n *Network) Name(id NodeID) string {
	if s, ok := n.Names[id]; ok && s != "" {
		return s
	}
	return id.String()
}

// cqset is a quorum set compiled to bitsets over node indexes. A threshold
// of 0 is never satisfied.
type cqset struct {
	threshold int
	nodes     bitset
	inner     []cqset
}

// satisfiedBy reports whether s contains a slice of q.
func (q *cqset) satisfiedBy(s bitset) bool {
	if q.threshold <= 0 {
		return false
	}
	c := q.nodes.andCount(s)
	if c >= q.threshold {
		return true
	}
	for i := range q.inner {
		if q.inner[i].satisfiedBy(s) {
			if c++; c >= q.threshold {
				return true
			}
		}
	}
	return false
}

// unreachable is the cost minExtra gives a quorum set that cannot be
// satisfied.
const unreachable = 1 << 30

// minExtra returns the fewest nodes of r that must join c for c ∪ r's chosen
// nodes to satisfy q (0 if c already does, unreachable if c ∪ r does not).
// c and r are disjoint.
func (q *cqset) minExtra(c, r bitset) int {
	if q.threshold <= 0 {
		return unreachable
	}
	need := q.threshold - q.nodes.andCount(c)
	if need <= 0 {
		return 0
	}
	ones := q.nodes.andCount(r)
	var inner []int
	for i := range q.inner {
		if x := q.inner[i].minExtra(c, r); x < unreachable {
			inner = append(inner, x)
		}
	}
	if ones+len(inner) < need {
		return unreachable
	}
	slices.Sort(inner)
	// Take the cheapest entries: inner sets already satisfied (cost 0), then
	// validators and inner sets of cost 1, then dearer inner sets.
	total, k := 0, 0
	for ; k < len(inner) && inner[k] == 0 && need > 0; k++ {
		need--
	}
	take := min(need, ones)
	total += take
	need -= take
	for ; need > 0; k++ {
		total += inner[k]
		need--
	}
	return total
}

// graph is a network compiled for analysis: node i is ids[i]. Nodes with
// the same (normalized) quorum set share one compiled copy, so a contraction
// pass evaluates each distinct quorum set once.
type graph struct {
	ids    []NodeID
	index  map[NodeID]int
	qidx   []int    // node -> index in uniq; -1 for unknown or insane quorum sets
	uniq   []cqset  // distinct quorum sets
	succ   []bitset // every node named in the quorum set of node i
	all    bitset
	insane map[NodeID]error // quorum sets ignored because they are not sane
}

func compile(n *Network) *graph {
	ids := n.Nodes()
	g := &graph{
		ids:    ids,
		index:  make(map[NodeID]int, len(ids)),
		qidx:   make([]int, len(ids)),
		succ:   make([]bitset, len(ids)),
		all:    newBitset(len(ids)),
		insane: make(map[NodeID]error),
	}
	for i, id := range ids {
		g.index[id] = i
		g.all.set(i)
	}
	seen := make(map[string]int)
	for i, id := range ids {
		g.qidx[i] = -1
		g.succ[i] = newBitset(len(ids))
		q := n.QSets[id]
		if q == nil {
			continue
		}
		if err := q.Sane(false); err != nil {
			g.insane[id] = err
			continue
		}
		norm := Normalize(q, nil) // same slices, canonical shape
		key := string(norm.Encode())
		k, ok := seen[key]
		if !ok {
			k = len(g.uniq)
			seen[key] = k
			g.uniq = append(g.uniq, g.compileQSet(&norm, nil))
		}
		g.qidx[i] = k
		g.compileQSet(q, g.succ[i])
	}
	return g
}

// compileQSet compiles q and adds its nodes to succ (if not nil).
func (g *graph) compileQSet(q *QSet, succ bitset) cqset {
	c := cqset{threshold: int(q.Threshold), nodes: newBitset(len(g.ids))}
	for _, v := range q.Validators {
		c.nodes.set(g.index[v])
		if succ != nil {
			succ.set(g.index[v])
		}
	}
	for i := range q.InnerSets {
		c.inner = append(c.inner, g.compileQSet(&q.InnerSets[i], succ))
	}
	return c
}

// nodeIDs converts a bitset to sorted node ids.
func (g *graph) nodeIDs(b bitset) []NodeID {
	r := []NodeID{}
	for i := b.next(0); i >= 0; i = b.next(i + 1) {
		r = append(r, g.ids[i])
	}
	return r
}
