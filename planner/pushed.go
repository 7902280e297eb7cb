package planner

// strategy records which planning strategy made a plan, so the algebra
// can be shown after pushdown.
type strategy uint8

const (
	stratNone   strategy = iota
	stratRouter          // the whole statement below one Collect
	stratWhole           // everything but the merge below the Collect
	stratSplit           // aggregates split at the Collect
	stratPull            // Collects stay above the (filtered) scans
	stratEmpty           // no shard
)

// Pushed returns the algebra of a statement after pushdown: the Collects
// moved up as far as the chosen plan takes them. Operators below a Collect
// run on every shard group it keeps (that is the SQL of the tasks);
// operators above it run on the coordinator (in Go for Limit and a
// merging Sort, else in the combine query).
func (p *Planner) Pushed(sql string) (*Rel, error) {
	t, err := p.Build(sql)
	if err != nil {
		return nil, err
	}
	pl, err := p.Plan(sql)
	if err != nil {
		return nil, err
	}
	switch pl.strategy {
	case stratRouter:
		return &Rel{Op: OpCollect, Detail: "one shard group", Inputs: []*Rel{strip(t)}}, nil
	case stratEmpty:
		return &Rel{Op: OpValues, Detail: "no shard (the shells answer)", Inputs: []*Rel{strip(t)}}, nil
	case stratWhole:
		return splitAbove(t, func(r *Rel) bool {
			return r.Op == OpLimit || r.Op == OpSort || r.Op == OpDistinct
		}, shardCopy), nil
	case stratSplit:
		return splitAt(t), nil
	}
	// A pull plan: each Collect stays above its scan (the filters a pull
	// takes down are in the subplans' SQL).
	return t, nil
}

// strip removes the Collects of a tree (it all runs on the shards).
func strip(r *Rel) *Rel {
	if r.Op == OpCollect && len(r.Inputs) == 1 {
		return strip(r.Inputs[0])
	}
	c := *r
	c.Inputs = make([]*Rel, len(r.Inputs))
	for i, in := range r.Inputs {
		c.Inputs[i] = strip(in)
	}
	return &c
}

// splitAbove keeps the chain of top operators satisfying coord on the
// coordinator, with per-shard copies made by copyFn, and the rest below
// one Collect.
func splitAbove(t *Rel, coord func(*Rel) bool, copyFn func(*Rel) *Rel) *Rel {
	if !coord(t) || len(t.Inputs) == 0 {
		return &Rel{Op: OpCollect, Detail: "shard groups", Inputs: []*Rel{strip(t)}}
	}
	var chain []*Rel
	r := t
	for coord(r) && len(r.Inputs) > 0 {
		chain = append(chain, r)
		r = r.Inputs[0]
	}
	below := strip(r)
	for i := len(chain) - 1; i >= 0; i-- {
		if c := copyFn(chain[i]); c != nil {
			c.Inputs = []*Rel{below}
			below = c
		}
	}
	top := &Rel{Op: OpCollect, Detail: "shard groups", Inputs: []*Rel{below}}
	for i := len(chain) - 1; i >= 0; i-- {
		c := *chain[i]
		c.Inputs = append([]*Rel{top}, chain[i].Inputs[1:]...)
		top = &c
	}
	return top
}

// shardCopy returns the per-shard copy of a coordinator operator.
func shardCopy(r *Rel) *Rel {
	c := *r
	if r.Op == OpLimit && len(r.Exprs) == 2 {
		c.Exprs = []string{r.Exprs[0] + " + " + r.Exprs[1]}
	}
	return &c
}

// splitAt splits the tree's Aggregate into a final step above the
// Collect and a partial step below.
func splitAt(t *Rel) *Rel {
	if t.Op == OpAggregate && len(t.Inputs) == 1 {
		final := *t
		final.Detail = "final"
		partial := *t
		partial.Detail = "partial"
		partial.Inputs = []*Rel{strip(t.Inputs[0])}
		final.Inputs = []*Rel{{Op: OpCollect, Detail: "shard groups", Inputs: []*Rel{&partial}}}
		return &final
	}
	c := *t
	c.Inputs = make([]*Rel, len(t.Inputs))
	for i, in := range t.Inputs {
		c.Inputs[i] = splitAt(in)
	}
	return &c
}
