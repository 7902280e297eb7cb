package planner

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"
)

// recursive plans any SELECT the pushdown strategies do not handle (joins
// of tables that are not co-located, correlated subqueries, recursive
// CTEs, GROUPING SETS, set operations, local tables...). Each distributed
// or reference table reference becomes a subplan that pulls the rows and
// columns the statement needs (the filters of its own level that read it
// alone go down, and prune shards) into an intermediate result; the
// original statement, with each reference renamed to its intermediate
// result, then runs on the metadata database, which gives PostgreSQL's own
// answer. Each pull is bounded by MaxIntermediateRowsSetting.
func (p *Planner) recursive(sql string, stmt *pg.Node, a *analysis, prunes map[*rel]Prune, why error) (*Plan, error) {
	if stmt.GetSelectStmt() == nil {
		return nil, unsupported("this statement cannot be run shard by shard: %v", why)
	}
	if s := stmt.GetSelectStmt(); len(s.LockingClause) > 0 {
		return nil, unsupported("SELECT ... FOR UPDATE/SHARE needs every distributed table pinned to one shard")
	}
	var sharded []*rel
	for _, r := range a.rels {
		if r.sharded() {
			sharded = append(sharded, r)
		}
	}
	pl := &Plan{Kind: KindCoordinator, SQL: sql, cat: p.cat, Note: "pull: " + reason(why), strategy: stratPull}
	names := make([]string, len(sharded))
	for i, r := range sharded {
		sub, cols, err := p.pull(sql, stmt, r, prunes)
		if err != nil {
			return nil, err
		}
		names[i] = irName(i + 1)
		pl.Subplans = append(pl.Subplans, Subplan{Result: names[i], Columns: cols, Plan: sub,
			LimitSetting: MaxIntermediateRowsSetting, Why: "pull " + r.name})
		pl.Deferred = pl.Deferred || sub.Deferred
	}
	var text string
	if f, ok := textFragment(sql, sharded); ok {
		text = f.text(names)
	} else {
		f, err := treeFragment(stmt, sharded, sql)
		if err != nil {
			return nil, err
		}
		idx := map[string]string{}
		for i, r := range sharded {
			idx[r.table.Relation.String()] = names[i]
		}
		// treeFragment orders slots by text; map each back by table.
		ns := make([]string, len(f.Slots))
		used := map[int]bool{}
		for j, s := range f.Slots {
			for i, r := range sharded {
				if !used[i] && r.table.Relation == s.Table {
					ns[j], used[i] = names[i], true
					break
				}
			}
		}
		text = f.text(ns)
	}
	pl.Merge = Merge{Kind: MergeCombine, SQL: text}
	return pl, nil
}

// reason returns the cause of a not-pushable error.
func reason(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	const prefix = "not pushable: "
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):]
	}
	return s
}

// pull plans the subplan reading one table reference's needed rows.
func (p *Planner) pull(sql string, stmt *pg.Node, r *rel, prunes map[*rel]Prune) (*Plan, []string, error) {
	cols := neededColumns(stmt, r)
	w := &pg.SelectStmt{FromClause: []*pg.Node{{Node: &pg.Node_RangeVar{RangeVar: r.rv}}}}
	for _, c := range cols {
		w.TargetList = append(w.TargetList, target("", colNode(c)))
	}
	if r.level != nil && !r.nullable {
		var filters []*pg.Node
		quals := conjuncts(r.level.where, nil)
		for _, q := range r.level.innerQuals {
			quals = conjuncts(q, quals)
		}
		for _, q := range quals {
			if readsOnly(r, q) {
				filters = append(filters, q)
			}
		}
		if len(filters) > 0 {
			w.WhereClause = andNode(filters)
		}
	}
	node := selectNode(w)
	mapping, restore := renumberParams(node)
	f, err := treeFragment(node, []*rel{r}, sql)
	restore()
	if err != nil {
		return nil, nil, err
	}
	f.Params = mapping
	sub := &Plan{Kind: KindMultiShard, SQL: sql, cat: p.cat, Fragment: f, Merge: Merge{Kind: MergeConcat}}
	if r.distributed() {
		f.ShardCount = r.table.ShardCount
		f.Prune = Prune{Op: PruneAll}
		if pr, ok := prunes[r]; ok {
			f.Prune = pr
		}
	} else {
		f.Prune = Prune{Op: PruneShards, Shards: []int{0}}
		sub.Kind = KindRouter
	}
	pos, deferred, err := positionsOf(f)
	if err != nil {
		return nil, nil, err
	}
	if deferred {
		sub.Deferred = true
		return sub, cols, nil
	}
	if len(pos) == 1 {
		sub.Kind = KindRouter
	}
	sub.Tasks, err = p.tasks(f, pos)
	return sub, cols, err
}

// readsOnly reports whether a predicate reads columns of r only, has no
// subquery and calls no function (whose volatility the planner does not
// know), so it can filter r's rows before the pull.
func readsOnly(r *rel, q *pg.Node) bool {
	ok := true
	walk(q, func(m proto.Message) bool {
		switch x := m.(type) {
		case *pg.SubLink, *pg.FuncCall, *pg.SQLValueFunction:
			ok = false
		case *pg.ColumnRef:
			c, found := resolveColumn(r.level, x)
			if !found || c.rel != r {
				ok = false
			}
		}
		return ok
	})
	return ok
}

// neededColumns returns the columns of r a statement may read, in table
// order: all of them when a * or a whole-row reference may cover r, or an
// alias renames its columns.
func neededColumns(stmt *pg.Node, r *rel) []string {
	all := r.cols
	if r.rv.Alias != nil && len(r.rv.Alias.Colnames) > 0 {
		return all
	}
	need := map[string]bool{}
	whole := false
	walk(stmt, func(m proto.Message) bool {
		switch x := m.(type) {
		case *pg.ColumnRef:
			f := x.Fields
			if len(f) == 0 {
				return true
			}
			if f[len(f)-1].GetAStar() != nil {
				if len(f) == 1 || f[len(f)-2].GetString_() != nil && f[len(f)-2].GetString_().Sval == r.name {
					whole = true
				}
				return true
			}
			if s := f[len(f)-1].GetString_(); s != nil {
				need[s.Sval] = true
				if len(f) == 1 && s.Sval == r.name {
					whole = true
				}
			}
		case *pg.JoinExpr:
			if x.IsNatural {
				whole = true
			}
			for _, u := range x.UsingClause {
				if s := u.GetString_(); s != nil {
					need[s.Sval] = true
				}
			}
		}
		return !whole
	})
	if whole {
		return all
	}
	var out []string
	for _, c := range all {
		if need[c] {
			out = append(out, c)
		}
	}
	if len(out) == 0 && len(all) > 0 {
		out = all[:1]
	}
	return out
}
