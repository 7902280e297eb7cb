package quorum

// sccs returns the strongly connected components of the dependency graph
// (edge i -> j when j is named in i's quorum set) restricted to the nodes of
// within, computed with Tarjan's algorithm. Components come out in reverse
// topological order (a component appears before those that depend on it),
// which keeps the output deterministic.
func (g *graph) sccs(within bitset) []bitset {
	n := len(g.ids)
	t := tarjan{
		g:       g,
		within:  within,
		index:   make([]int, n),
		low:     make([]int, n),
		onStack: make([]bool, n),
	}
	for i := range t.index {
		t.index[i] = -1
	}
	for i := within.next(0); i >= 0; i = within.next(i + 1) {
		if t.index[i] < 0 {
			t.visit(i)
		}
	}
	return t.out
}

type tarjan struct {
	g       *graph
	within  bitset
	next    int
	index   []int
	low     []int
	onStack []bool
	stack   []int
	out     []bitset
}

func (t *tarjan) visit(v int) {
	t.index[v] = t.next
	t.low[v] = t.next
	t.next++
	t.stack = append(t.stack, v)
	t.onStack[v] = true
	succ := t.g.succ[v]
	for w := succ.next(0); w >= 0; w = succ.next(w + 1) {
		if !t.within.has(w) {
			continue
		}
		if t.index[w] < 0 {
			t.visit(w)
			t.low[v] = min(t.low[v], t.low[w])
		} else if t.onStack[w] {
			t.low[v] = min(t.low[v], t.index[w])
		}
	}
	if t.low[v] != t.index[v] {
		return
	}
	c := newBitset(len(t.g.ids))
	for {
		w := t.stack[len(t.stack)-1]
		t.stack = t.stack[:len(t.stack)-1]
		t.onStack[w] = false
		c.set(w)
		if w == v {
			break
		}
	}
	t.out = append(t.out, c)
}
