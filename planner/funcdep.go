package planner

import (
	pg "github.com/pganalyze/pg_query_go/v5"
)

// PostgreSQL lets a grouped query read any column of a table whose
// primary key it groups by (the columns depend functionally on the key).
// A pulled table's intermediate result has no primary key, so the
// combine query would fail with 42803 where PostgreSQL answers. The
// planner states the dependency itself: it adds to that GROUP BY the
// table's other columns the query reads outside aggregates, which splits
// no group since they depend on the key.

// groupFunctionalDeps adds, at every level of the statement with a plain
// GROUP BY, the columns of the pulled relations (pulled) whose primary
// key that level groups by, as the level reads them outside aggregates.
// It returns whether it changed the tree and a function undoing it.
func (a *analysis) groupFunctionalDeps(pulled []*rel) (bool, func()) {
	isPulled := map[*rel]bool{}
	for _, r := range pulled {
		isPulled[r] = true
	}
	levelOf := map[*pg.ColumnRef]*level{}
	for _, x := range a.colRefs {
		levelOf[x.cr] = x.l
	}
	var undo []func()
	for _, l := range a.levels {
		s := l.sel
		if s == nil || len(s.GroupClause) == 0 || s.GroupDistinct {
			continue
		}
		grouped, ok := groupedColumns(l)
		if !ok {
			continue
		}
		var add []*pg.Node
		for _, c := range a.ungroupedReads(l, levelOf) {
			if !isPulled[c.rel] || grouped[c] || !keyGrouped(c.rel, grouped) {
				continue
			}
			grouped[c] = true
			add = append(add, colNode(c.rel.name, c.col))
		}
		if len(add) == 0 {
			continue
		}
		old := s.GroupClause
		s.GroupClause = append(append([]*pg.Node{}, old...), add...)
		undo = append(undo, func() { s.GroupClause = old })
	}
	return len(undo) > 0, func() {
		for _, u := range undo {
			u()
		}
	}
}

// groupedColumns returns the columns a level's GROUP BY names (directly
// or by output ordinal); ok is false for GROUPING SETS, ROLLUP and CUBE.
func groupedColumns(l *level) (map[colRef]bool, bool) {
	out := map[colRef]bool{}
	for _, g := range l.sel.GroupClause {
		if g.GetGroupingSet() != nil {
			return nil, false
		}
		if c := g.GetAConst(); c != nil {
			iv, ok := c.Val.(*pg.A_Const_Ival)
			if !ok || iv.Ival.Ival < 1 || int(iv.Ival.Ival) > len(l.sel.TargetList) {
				continue
			}
			g = l.sel.TargetList[iv.Ival.Ival-1].GetResTarget().GetVal()
		}
		if cr := g.GetColumnRef(); cr != nil {
			if c, ok := resolveColumn(l, cr); ok {
				out[c] = true
			}
		}
	}
	return out, true
}

// keyGrouped reports whether every column of r's primary key is grouped.
func keyGrouped(r *rel, grouped map[colRef]bool) bool {
	if r.def == nil || len(r.def.PrimaryKey) == 0 {
		return false
	}
	for _, k := range r.def.PrimaryKey {
		if !grouped[colRef{r, k}] {
			return false
		}
	}
	return true
}

// ungroupedReads returns the columns of level l's relations that its
// select list, HAVING, ORDER BY, DISTINCT and WINDOW read outside aggregate
// calls (subqueries included, resolved at their own level), in order of
// appearance.
func (a *analysis) ungroupedReads(l *level, levelOf map[*pg.ColumnRef]*level) []colRef {
	var out []colRef
	seen := map[colRef]bool{}
	s := l.sel
	nodes := append(append([]*pg.Node{}, s.TargetList...), s.HavingClause)
	nodes = append(append(nodes, s.SortClause...), s.DistinctClause...)
	nodes = append(nodes, s.WindowClause...)
	for _, n := range nodes {
		if n == nil {
			continue
		}
		walkNodes(n, func(x *pg.Node) bool {
			if f := x.GetFuncCall(); f != nil && isAggregate(a.p.schema, f) {
				return false
			}
			cr := x.GetColumnRef()
			if cr == nil {
				return true
			}
			at := levelOf[cr]
			if at == nil {
				at = l
			}
			if c, ok := resolveColumn(at, cr); ok && c.rel.level == l && !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
			return true
		})
	}
	return out
}
