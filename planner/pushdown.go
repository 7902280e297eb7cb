package planner

import (
	"strconv"

	pg "github.com/pganalyze/pg_query_go/v5"
)

// irName names the intermediate result of number n.
func irName(n int) string { return "pgfed_ir_" + strconv.Itoa(n) }

// irCol names column i (0-based) of an intermediate result.
func irCol(i int) string { return "c" + strconv.Itoa(i+1) }

// query is a SELECT being pushed down: its top level, its distributed
// relations and what the tasks need.
type query struct {
	sql     string
	s       *pg.SelectStmt
	top     *level
	a       *analysis
	dist    []*rel
	sharded []*rel
	prune   Prune
	count   int
	outs    []outCol
}

// outCol is one output column of a SELECT.
type outCol struct {
	name string
	val  *pg.Node // nil for a column expanded from *
	rt   *pg.ResTarget
	// col is the resolved column for a plain column reference.
	col colRef
	ok  bool
}

// pushdown plans a SELECT whose distributed tables are all at its top
// level, co-located and joined on their distribution columns (reference
// tables anywhere): the FROM and WHERE go to every shard group as they
// are; the rest goes down whole when it is per-group safe, or splits into
// per-shard partial aggregates and a combine query.
func (p *Planner) pushdown(sql string, stmt *pg.Node, a *analysis, prunes map[*rel]Prune) (*Plan, error) {
	q, err := p.pushable(sql, stmt, a, prunes)
	if err != nil {
		return nil, err
	}
	s := q.s
	agg := hasAggregates(p.schema, s)
	if hasWindows(s) && !windowsOnDist(q) {
		return nil, notPushable("a window is not partitioned by the distribution column")
	}
	if agg && !groupedByDist(q) {
		return p.splitAggregate(q)
	}
	return p.wholeShard(q, agg)
}

// pushable checks the shape and gathers the query's parts.
func (p *Planner) pushable(sql string, stmt *pg.Node, a *analysis, prunes map[*rel]Prune) (*query, error) {
	s := stmt.GetSelectStmt()
	switch {
	case s == nil:
		return nil, notPushable("not a SELECT")
	case s.Op != pg.SetOperation_SETOP_NONE:
		return nil, notPushable("set operation")
	case s.WithClause != nil:
		return nil, notPushable("WITH")
	case len(s.LockingClause) > 0:
		if err := p.lockable(s); err != nil {
			return nil, err
		}
	case s.IntoClause != nil:
		return nil, notPushable("SELECT INTO")
	case hasSubLink(s.LimitCount) || hasSubLink(s.LimitOffset):
		// The shards and the combine query would both evaluate it, the
		// latter over the metadata database's empty shells.
		return nil, notPushable("subquery in LIMIT or OFFSET")
	}
	q := &query{sql: sql, s: s, a: a}
	for _, l := range a.levels {
		if l.sel == s {
			q.top = l
		}
	}
	if q.top == nil {
		return nil, notPushable("no top level")
	}
	for _, r := range a.rels {
		switch {
		case r.kind == relLocal:
			return nil, notPushable("local table %s", r.name)
		case r.kind == relDistributed && r.level != q.top && !anchored(q.top, s, r.level):
			return nil, notPushable("distributed table %s in a subquery", r.name)
		case r.level == q.top && (r.kind == relOther || r.kind == relCTE):
			return nil, notPushable("subquery or function in FROM")
		}
		if r.sharded() {
			q.sharded = append(q.sharded, r)
		}
		if r.distributed() && r.level == q.top {
			q.dist = append(q.dist, r)
		}
	}
	if len(q.dist) == 0 {
		return nil, notPushable("no distributed table")
	}
	if err := joinable(q); err != nil {
		return nil, err
	}
	q.count = p.positionCount(q.dist[0].table)
	q.prune = Prune{Op: PruneAll}
	for _, r := range q.dist {
		q.prune = and(q.prune, prunes[r])
	}
	outs, err := outputs(q)
	if err != nil {
		return nil, err
	}
	q.outs = outs
	return q, nil
}

// outputs lists the output columns, expanding * from the schema.
func outputs(q *query) ([]outCol, error) {
	var out []outCol
	for _, t := range q.s.TargetList {
		rt := t.GetResTarget()
		if rt == nil {
			return nil, notPushable("odd target")
		}
		if cr := rt.Val.GetColumnRef(); cr != nil && len(cr.Fields) > 0 && cr.Fields[len(cr.Fields)-1].GetAStar() != nil {
			if usingJoin(q.s.FromClause) {
				return nil, notPushable("* over a USING or NATURAL join")
			}
			var qual string
			if len(cr.Fields) == 2 {
				if s := cr.Fields[0].GetString_(); s != nil {
					qual = s.Sval
				}
			} else if len(cr.Fields) != 1 {
				return nil, notPushable("qualified *")
			}
			for _, r := range q.top.rels {
				if qual != "" && r.name != qual {
					continue
				}
				if r.cols == nil {
					return nil, notPushable("* over a relation of unknown columns")
				}
				for _, c := range r.cols {
					out = append(out, outCol{name: c, col: colRef{r, c}, ok: true})
				}
			}
			continue
		}
		oc := outCol{name: colName(rt), val: rt.Val, rt: rt}
		if cr := rt.Val.GetColumnRef(); cr != nil {
			oc.col, oc.ok = resolveColumn(q.top, cr)
		}
		out = append(out, oc)
	}
	return out, nil
}

// usingJoin reports a JOIN ... USING or NATURAL JOIN in a FROM list.
func usingJoin(from []*pg.Node) bool {
	found := false
	for _, f := range from {
		walkNodes(f, func(n *pg.Node) bool {
			if j := n.GetJoinExpr(); j != nil && (j.IsNatural || len(j.UsingClause) > 0) {
				found = true
			}
			return n.GetSubLink() == nil
		})
	}
	return found
}

// wholeShard pushes the whole SELECT to every shard group: it has no
// aggregates, or it groups by the distribution column so every group
// lives in one shard. Rows are concatenated or merge-sorted in Go when
// that is exact, else combined by SQL (DISTINCT, sort keys Go cannot
// compare, LIMIT expressions).
func (p *Planner) wholeShard(q *query, agg bool) (*Plan, error) {
	s := q.s
	keys, hidden, err := sortKeys(q)
	if err != nil {
		return nil, err
	}
	w := &pg.SelectStmt{DistinctClause: s.DistinctClause, TargetList: s.TargetList, FromClause: s.FromClause,
		WhereClause: s.WhereClause, GroupClause: s.GroupClause, HavingClause: s.HavingClause,
		WindowClause: s.WindowClause, SortClause: s.SortClause, LockingClause: s.LockingClause}
	for i, h := range hidden {
		w.TargetList = append(w.TargetList, target("worker_column_"+strconv.Itoa(i+1), h))
	}
	pushLimit := s.LimitCount != nil && s.LimitOption != pg.LimitOption_LIMIT_OPTION_WITH_TIES && !isNullConst(s.LimitCount)
	if pushLimit {
		w.LimitCount = limitPlusOffset(s.LimitCount, s.LimitOffset)
		w.LimitOption = pg.LimitOption_LIMIT_OPTION_COUNT
	}
	limit, lok := bound(s.LimitCount)
	offset, ook := bound(s.LimitOffset)
	streaming := len(s.DistinctClause) == 0 && lok && ook && s.LimitOption != pg.LimitOption_LIMIT_OPTION_WITH_TIES && goSortable(keys)
	// Order matters to the shards only for a top-N, a merge, or to pick
	// the row DISTINCT ON keeps.
	distinctOn := len(s.DistinctClause) > 0 && s.DistinctClause[0].GetNode() != nil
	if !pushLimit && (!streaming || len(keys) == 0) && !distinctOn {
		w.SortClause = nil
	}
	pl := &Plan{Kind: KindMultiShard, SQL: q.sql, cat: p.cat, strategy: stratWhole}
	if agg {
		pl.Note = "grouped by the distribution column"
	} else {
		pl.Note = "pushed down whole"
	}
	width := len(q.outs) + len(hidden)
	if streaming {
		pl.Merge = Merge{Kind: MergeConcat, Limit: limit, Offset: offset}
		if len(keys) > 0 {
			pl.Merge.Kind = MergeSort
			for _, k := range keys {
				pl.Merge.Keys = append(pl.Merge.Keys, k.key)
			}
		}
		if len(hidden) > 0 {
			pl.Merge.Output = len(q.outs)
		}
	} else {
		c := &pg.SelectStmt{FromClause: []*pg.Node{tableNode(irName(1), "")},
			LimitCount: clone(s.LimitCount), LimitOffset: clone(s.LimitOffset), LimitOption: s.LimitOption}
		for i, o := range q.outs {
			c.TargetList = append(c.TargetList, target(o.name, colNode(irCol(i))))
		}
		if err := combineDistinct(q, c); err != nil {
			return nil, err
		}
		for _, k := range keys {
			c.SortClause = append(c.SortClause, k.combine())
		}
		if err := p.setCombine(pl, c, width); err != nil {
			return nil, err
		}
	}
	return p.finish(pl, q, w)
}

// combineDistinct copies DISTINCT (ON) to the combine query, in terms of
// output columns.
func combineDistinct(q *query, c *pg.SelectStmt) error {
	d := q.s.DistinctClause
	if len(d) == 0 {
		return nil
	}
	if len(d) == 1 && d[0] == nil || len(d) == 1 && d[0].GetNode() == nil {
		c.DistinctClause = []*pg.Node{{}}
		return nil
	}
	for _, e := range d {
		i := matchOutput(q, e)
		if i < 0 {
			return notPushable("DISTINCT ON an expression outside the select list")
		}
		c.DistinctClause = append(c.DistinctClause, colNode(irCol(i)))
	}
	return nil
}

// setCombine makes the plan's merge a combine query over pgfed_ir_1.
func (p *Planner) setCombine(pl *Plan, c *pg.SelectStmt, width int) error {
	node := selectNode(c)
	mapping, restore := renumberParams(node)
	text, err := deparse(node)
	restore()
	if err != nil {
		return err
	}
	cols := make([]string, width)
	for i := range cols {
		cols[i] = irCol(i)
	}
	pl.Merge = Merge{Kind: MergeCombine, Result: irName(1), Columns: cols, SQL: text, Params: mapping}
	return nil
}

// finish deparses the worker statement into the plan's fragment and
// makes the tasks (or defers them to Bind).
func (p *Planner) finish(pl *Plan, q *query, w *pg.SelectStmt) (*Plan, error) {
	node := selectNode(w)
	mapping, restore := renumberParams(node)
	f, err := treeFragment(node, q.sharded, q.sql)
	restore()
	if err != nil {
		return nil, err
	}
	f.Params = mapping
	f.Prune = q.prune
	f.ShardCount = q.count
	pl.Fragment = f
	pos, deferred, err := positionsOf(f)
	if err != nil {
		return nil, err
	}
	if deferred {
		pl.Deferred = true
		return pl, nil
	}
	pl.Tasks, err = p.tasks(f, pos)
	return pl, err
}

// isNullConst reports the NULL constant (LIMIT ALL).
func isNullConst(n *pg.Node) bool {
	c := n.GetAConst()
	return c != nil && c.Isnull
}

// bound reads a LIMIT or OFFSET as a constant or a parameter; ok is false
// for any other expression. A nil node or LIMIT ALL is no bound.
func bound(n *pg.Node) (*Bound, bool) {
	if n == nil || isNullConst(n) {
		return nil, true
	}
	if c := n.GetAConst(); c != nil {
		if iv, ok := c.Val.(*pg.A_Const_Ival); ok {
			return &Bound{Value: int64(iv.Ival.Ival)}, true
		}
		return nil, false
	}
	if pr := n.GetParamRef(); pr != nil {
		return &Bound{Param: int(pr.Number)}, true
	}
	return nil, false
}

// limitPlusOffset is the per-shard limit of LIMIT n OFFSET m: n+m.
func limitPlusOffset(limit, offset *pg.Node) *pg.Node {
	if offset == nil || isNullConst(offset) {
		return clone(limit)
	}
	l, lok := bound(limit)
	o, ook := bound(offset)
	if lok && ook && l != nil && o != nil && l.Param == 0 && o.Param == 0 {
		return intConst(l.Value + o.Value)
	}
	// Typed, so that two parameters of unknown type still add up.
	return binOp("+", cast(clone(limit), "int8"), cast(clone(offset), "int8"))
}

// hasSubLink reports a subquery anywhere in an expression.
func hasSubLink(n *pg.Node) bool {
	found := false
	if n != nil {
		walkNodes(n, func(x *pg.Node) bool {
			found = found || x.GetSubLink() != nil
			return !found
		})
	}
	return found
}
