package planner

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"github.com/pgfed/pgfed/catalog"
)

// The co-location rules of joins: which joins of distributed tables each
// shard group can compute on its own.

// joinable checks that the distributed tables are co-located and joined
// on their distribution columns, and that no reference table is on the
// preserved side of an outer join whose nullable side is distributed
// (each shard would add the reference rows again).
func joinable(q *query) error {
	root := map[*rel]*rel{}
	var find func(r *rel) *rel
	find = func(r *rel) *rel {
		if p, ok := root[r]; ok && p != r {
			return find(p)
		}
		return r
	}
	quals := conjuncts(q.top.where, nil)
	for _, x := range q.top.innerQuals {
		quals = conjuncts(x, quals)
	}
	for _, x := range q.top.outerQuals {
		quals = conjuncts(x, quals)
	}
	for _, c := range quals {
		if x, y, ok := distEquality(q.top, c); ok && x.level == q.top && y.level == q.top {
			root[find(x)] = find(y)
		}
	}
	first := q.dist[0]
	for _, r := range q.dist[1:] {
		if r.table.ColocationID != first.table.ColocationID {
			return notPushable("tables %s and %s are not co-located", first.name, r.name)
		}
		if find(r) != find(first) {
			return notPushable("tables %s and %s are not joined on their distribution columns", first.name, r.name)
		}
	}
	if first.table.Method == catalog.MethodOrganization && len(q.dist) > 1 {
		return notPushable("joins of organization tables")
	}
	distNullable := false
	for _, r := range q.dist {
		distNullable = distNullable || r.nullable
	}
	for _, r := range q.top.rels {
		if r.kind == relReference && distNullable {
			return notPushable("reference table %s in an outer join whose nullable side is distributed", r.name)
		}
	}
	return nil
}

// anchored reports whether a subquery level under the top level reads
// only rows co-located with the top level's row it is evaluated for, so
// it can run on each shard group as it is: it is a sublink directly under
// the top level whose distributed tables are joined on their distribution
// columns and tied to a top-level distribution column, either by a
// correlated equality in its WHERE (EXISTS, NOT EXISTS, scalar
// subqueries) or as "top.dist IN (SELECT sub.dist ...)" standing as a
// conjunct of the top WHERE (under NOT or OR its NULL semantics would
// span shards).
func anchored(top *level, s *pg.SelectStmt, l *level) bool {
	if l == nil || l.parent != top || l.link == nil || l.sel == nil || l.sel.Op != pg.SetOperation_SETOP_NONE {
		return false
	}
	for _, c := range l.children {
		for _, r := range c.rels {
			if r.distributed() {
				return false
			}
		}
	}
	var dist []*rel
	for _, r := range l.rels {
		if r.distributed() {
			dist = append(dist, r)
		}
		if r.kind == relOther || r.kind == relCTE {
			return false
		}
	}
	root := map[*rel]*rel{}
	var find func(r *rel) *rel
	find = func(r *rel) *rel {
		if p, ok := root[r]; ok && p != r {
			return find(p)
		}
		return r
	}
	quals := conjuncts(l.where, nil)
	for _, q := range l.innerQuals {
		quals = conjuncts(q, quals)
	}
	var tied *rel
	for _, q := range quals {
		x, y, ok := distEquality(l, q)
		if !ok {
			continue
		}
		switch {
		case x.level == l && y.level == l:
			root[find(x)] = find(y)
		case x.level == l && y.level == top:
			tied = x
		case y.level == l && x.level == top:
			tied = y
		}
	}
	if tied == nil {
		tied = inAnchor(top, s, l)
	}
	if tied == nil {
		return false
	}
	for _, r := range dist {
		if find(r) != find(tied) || r.table.ColocationID != tied.table.ColocationID {
			return false
		}
	}
	return true
}

// inAnchor recognises "top.dist IN (SELECT sub.dist FROM ...)" as a
// conjunct of the top WHERE and returns the subquery's relation. Unlike
// a correlated subquery, which sees only the rows of one distribution
// value, such a subquery runs over a whole shard: it qualifies only when
// its answer over every shard's rows is the union of its answers per
// shard (perValue).
func inAnchor(top *level, s *pg.SelectStmt, l *level) *rel {
	sl := l.link
	if sl.SubLinkType != pg.SubLinkType_ANY_SUBLINK || len(sl.OperName) > 1 || len(l.sel.TargetList) != 1 {
		return nil
	}
	if len(sl.OperName) == 1 {
		if op := sl.OperName[0].GetString_(); op == nil || op.Sval != "=" {
			return nil
		}
	}
	if !perValue(l.sel) {
		return nil
	}
	conj := false
	for _, c := range conjuncts(s.WhereClause, nil) {
		conj = conj || c.GetSubLink() == sl
	}
	if !conj {
		return nil
	}
	oc, ic := sl.Testexpr.GetColumnRef(), l.sel.TargetList[0].GetResTarget().GetVal().GetColumnRef()
	if oc == nil || ic == nil {
		return nil
	}
	o, ok1 := resolveColumn(top, oc)
	i, ok2 := resolveColumn(l, ic)
	if !ok1 || !ok2 || !o.distColumn() || !i.distColumn() || o.rel.level != top || i.rel.level != l ||
		o.rel.table.ColocationID != i.rel.table.ColocationID || o.rel.table.Method != catalog.MethodHash {
		return nil
	}
	return i.rel
}

// perValue reports whether a subquery's result over a set of rows is the
// union of its results over the rows of each distribution value: no LIMIT
// or OFFSET (they count rows across values) and no DISTINCT ON (it keeps
// one row of each key across values). Aggregates are fine here: the
// subquery's single output is its distribution column, so it groups by it.
func perValue(s *pg.SelectStmt) bool {
	if s.LimitCount != nil && !isNullConst(s.LimitCount) || s.LimitOffset != nil && !isNullConst(s.LimitOffset) {
		return false
	}
	return len(s.DistinctClause) == 0 || s.DistinctClause[0].GetNode() == nil
}
