package planner

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"github.com/pgfed/pgfed/catalog"
)

// router plans a statement that one shard group answers whole: every
// distributed table is co-located and pinned to the same shard position
// (reference tables are everywhere), and no local table is named. The
// task is the client's own text with table names replaced by shard names.
// ok is false when the statement is not a router statement. When the pin
// comes from parameters, the plan is deferred: Bind checks that the
// values pin one shard and otherwise uses the Alternative plan.
func (p *Planner) router(sql string, stmt *pg.Node, a *analysis, prunes map[*rel]Prune) (*Plan, bool, error) {
	var sharded []*rel
	var group int32
	var count int
	var rps []Prune
	pos, deferred := -1, false
	for _, r := range a.rels {
		switch r.kind {
		case relLocal:
			return nil, false, nil
		case relReference:
			sharded = append(sharded, r)
		case relDistributed:
			pr, ok := prunes[r]
			if !ok {
				return nil, false, nil
			}
			if count == 0 {
				group, count = r.table.ColocationID, p.positionCount(r.table)
			} else if r.table.ColocationID != group {
				return nil, false, nil
			}
			sharded = append(sharded, r)
			if pr.hasParams() {
				deferred = true
				rps = append(rps, pr)
				continue
			}
			s, all, err := pr.Eval(count, nil)
			if err != nil || all || len(s) != 1 || (pos >= 0 && s[0] != pos) {
				return nil, false, err
			}
			pos = s[0]
			rps = append(rps, pr)
		}
	}
	f, err := p.fragmentOf(sql, stmt, sharded)
	if err != nil {
		return nil, false, err
	}
	f.ShardCount = count
	pl := &Plan{Kind: KindRouter, SQL: sql, Fragment: f, cat: p.cat, strategy: stratRouter}
	if count == 0 {
		pl.Note = "reference tables only"
		f.Prune = Prune{Op: PruneShards, Shards: []int{0}}
	} else {
		pl.Note = "one shard group"
		f.Prune = Prune{Op: PruneAnd, Args: rps}
		if len(rps) == 1 {
			f.Prune = rps[0]
		}
	}
	if deferred {
		pl.Deferred = true
		pl.routerPrunes = rps
		if stmt.GetInsertStmt() != nil {
			return pl, true, nil // a NULL value is refused at bind
		}
		alt, err := p.multiShard(sql, stmt, a, prunes)
		if err != nil {
			return nil, false, err
		}
		pl.Alternative = alt
		return pl, true, nil
	}
	if pos < 0 {
		pos = 0
	}
	f.Prune = Prune{Op: PruneShards, Shards: []int{pos}}
	if f.offsets != nil && count > 0 {
		for _, pr := range rps {
			if pr.lit == nil {
				pl.lits = nil
				break
			}
			pl.lits = append(pl.lits, pr.lit)
		}
	}
	pl.Tasks, err = p.tasks(f, []int{pos})
	return pl, err == nil, err
}

// multiShard plans a SELECT across shards: pushdown, else recursive
// planning.
func (p *Planner) multiShard(sql string, stmt *pg.Node, a *analysis, prunes map[*rel]Prune) (*Plan, error) {
	if stmt.GetSelectStmt() == nil {
		return p.modifyAll(sql, stmt, a, prunes)
	}
	pl, err := p.pushdown(sql, stmt, a, prunes)
	if err == nil {
		return pl, nil
	}
	if !isNotPushable(err) {
		return nil, err
	}
	return p.recursive(sql, stmt, a, prunes, err)
}

// fragmentOf cuts the statement text at its sharded table references,
// deparsing the tree when the text cannot be cut.
func (p *Planner) fragmentOf(sql string, stmt *pg.Node, sharded []*rel) (*Fragment, error) {
	if f, ok := textFragment(sql, sharded); ok {
		return f, nil
	}
	return treeFragment(stmt, sharded, sql)
}

// tasks instantiates a fragment at shard positions.
func (p *Planner) tasks(f *Fragment, positions []int) ([]Task, error) {
	out := make([]Task, 0, len(positions))
	for _, pos := range positions {
		t := Task{Position: pos, Params: f.Params}
		names := make([]string, len(f.Slots))
		var nodes []int32
		for i, s := range f.Slots {
			shards := p.shards[s.Table]
			var sh catalog.Shard
			switch {
			case len(shards) == 1:
				sh = shards[0]
			case pos >= 0 && pos < len(shards):
				sh = shards[pos]
			default:
				return nil, internalError("table %s has no shard at position %d", s.Table, pos)
			}
			names[i] = sh.QualifiedName()
			t.ShardIDs = append(t.ShardIDs, sh.ID)
			if i == 0 {
				nodes = append([]int32(nil), p.places[sh.ID]...)
			} else {
				nodes = intersectNodes(nodes, p.places[sh.ID])
			}
		}
		if len(nodes) == 0 && len(f.Slots) > 0 {
			return nil, internalError("no node holds every shard of a task at position %d", pos)
		}
		t.Nodes = nodes
		if len(nodes) > 0 {
			t.Node = nodes[0]
		}
		t.SQL = f.text(names)
		out = append(out, t)
	}
	return out, nil
}

// intersectNodes keeps the nodes of a that are in b (both sorted).
func intersectNodes(a, b []int32) []int32 {
	var out []int32
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

// positionsOf evaluates a fragment's prune at plan time; deferred is set
// when it needs parameter values.
func positionsOf(f *Fragment) (pos []int, deferred bool, err error) {
	if f.Prune.hasParams() {
		return nil, true, nil
	}
	if f.ShardCount == 0 {
		return []int{0}, false, nil
	}
	s, all, err := f.Prune.Eval(f.ShardCount, nil)
	if err != nil {
		return nil, false, err
	}
	if all {
		s = make([]int, f.ShardCount)
		for i := range s {
			s[i] = i
		}
	}
	if len(s) == 0 {
		// Provably false for every shard but other relations matter:
		// one shard answers with the right shape (an empty result, or
		// the aggregates of no rows).
		s = []int{0}
	}
	return s, false, nil
}

// positionCount returns the number of shard positions of a table (see
// Fragment.ShardCount).
func (p *Planner) positionCount(t catalog.Table) int {
	if t.Method == catalog.MethodOrganization {
		return len(p.shards[t.Relation])
	}
	return t.ShardCount
}
