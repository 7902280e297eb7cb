package planner

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"github.com/pgfed/pgfed/catalog"
)

// builtinAggregates are PostgreSQL 15's aggregate functions. A call of one
// of these (or of a schema-declared aggregate) makes a query an aggregate
// query; only some can be split into partial and final steps.
var builtinAggregates = map[string]bool{
	"avg": true, "bit_and": true, "bit_or": true, "bit_xor": true, "bool_and": true, "bool_or": true,
	"count": true, "every": true, "json_agg": true, "json_object_agg": true, "jsonb_agg": true,
	"jsonb_object_agg": true, "max": true, "min": true, "string_agg": true, "sum": true, "xmlagg": true,
	"array_agg": true, "corr": true, "covar_pop": true, "covar_samp": true, "regr_avgx": true,
	"regr_avgy": true, "regr_count": true, "regr_intercept": true, "regr_r2": true, "regr_slope": true,
	"regr_sxx": true, "regr_sxy": true, "regr_syy": true, "stddev": true, "stddev_pop": true,
	"stddev_samp": true, "variance": true, "var_pop": true, "var_samp": true, "percentile_cont": true,
	"percentile_disc": true, "mode": true, "rank": true, "dense_rank": true, "percent_rank": true,
	"cume_dist": true, "range_agg": true, "range_intersect_agg": true, "any_value": true,
	"json_objectagg": true, "json_arrayagg": true,
}

// funcName returns a call's unqualified lower-case name.
func funcName(f *pg.FuncCall) string {
	if len(f.Funcname) == 0 {
		return ""
	}
	if s := f.Funcname[len(f.Funcname)-1].GetString_(); s != nil {
		return strings.ToLower(s.Sval)
	}
	return ""
}

// isAggregate reports whether a call is an aggregate (not a window call).
func isAggregate(sc *Schema, f *pg.FuncCall) bool {
	if f.Over != nil {
		return false
	}
	if f.AggStar || f.AggDistinct || len(f.AggOrder) > 0 || f.AggFilter != nil || f.AggWithinGroup {
		return true
	}
	n := funcName(f)
	return builtinAggregates[n] || sc.isAggregate(n)
}

// eachCall visits the function calls of expressions, not entering
// sublinks.
func eachCall(fn func(*pg.FuncCall) bool, nodes ...*pg.Node) {
	for _, n := range nodes {
		walkNodes(n, func(x *pg.Node) bool {
			if x.GetSubLink() != nil {
				return false
			}
			if f := x.GetFuncCall(); f != nil {
				return fn(f)
			}
			return true
		})
	}
}

// aggExprs returns the expressions of a SELECT that may hold aggregates.
func aggExprs(s *pg.SelectStmt) []*pg.Node {
	out := append([]*pg.Node{}, s.TargetList...)
	out = append(out, s.HavingClause)
	return append(out, s.SortClause...)
}

// hasAggregates reports an aggregate query: GROUP BY, HAVING or an
// aggregate call.
func hasAggregates(sc *Schema, s *pg.SelectStmt) bool {
	if len(s.GroupClause) > 0 || s.HavingClause != nil {
		return true
	}
	found := false
	eachCall(func(f *pg.FuncCall) bool {
		if isAggregate(sc, f) {
			found = true
			return false
		}
		return true
	}, aggExprs(s)...)
	return found
}

// hasWindows reports a window function call.
func hasWindows(s *pg.SelectStmt) bool {
	found := len(s.WindowClause) > 0
	eachCall(func(f *pg.FuncCall) bool {
		found = found || f.Over != nil
		return true
	}, aggExprs(s)...)
	return found
}

// windowsOnDist reports whether every window is partitioned by (at least)
// a distribution column, so each partition lives in one shard.
func windowsOnDist(q *query) bool {
	ok := true
	check := func(w *pg.WindowDef) {
		if w == nil {
			return
		}
		if w.Refname != "" && len(w.PartitionClause) == 0 {
			return // inherits a named window, checked on its own
		}
		if !anyDistCol(q, w.PartitionClause) {
			ok = false
		}
	}
	for _, w := range q.s.WindowClause {
		check(w.GetWindowDef())
	}
	eachCall(func(f *pg.FuncCall) bool {
		if f.Over != nil && f.Over.Name == "" {
			check(f.Over)
		}
		return true
	}, aggExprs(q.s)...)
	return ok
}

// anyDistCol reports whether one of the expressions is a distribution
// column of the query's distributed tables (which the joins make equal).
func anyDistCol(q *query, exprs []*pg.Node) bool {
	for _, e := range exprs {
		if cr := e.GetColumnRef(); cr != nil {
			// A column of the nullable side of an outer join is NULL for
			// the unmatched rows of every shard: its groups span shards.
			if c, ok := resolveColumn(q.top, cr); ok && c.distColumn() && c.rel.level == q.top &&
				c.rel.table.Method == catalog.MethodHash && !c.rel.nullable {
				return true
			}
		}
	}
	return false
}

// groupKeys resolves GROUP BY items to expressions (ordinals and output
// names become the select-list expression); ok is false for GROUPING
// SETS, ROLLUP and CUBE.
func groupKeys(q *query) ([]*pg.Node, bool) {
	var out []*pg.Node
	for _, g := range q.s.GroupClause {
		if g.GetGroupingSet() != nil {
			return nil, false
		}
		if c := g.GetAConst(); c != nil {
			iv, ok := c.Val.(*pg.A_Const_Ival)
			if !ok || iv.Ival.Ival < 1 || int(iv.Ival.Ival) > len(q.outs) || q.outs[iv.Ival.Ival-1].val == nil {
				return nil, false
			}
			out = append(out, q.outs[iv.Ival.Ival-1].val)
			continue
		}
		if cr := g.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
			if _, ok := resolveColumn(q.top, cr); !ok {
				if s := cr.Fields[0].GetString_(); s != nil {
					for _, o := range q.outs {
						if o.rt != nil && o.rt.Name == s.Sval {
							g = o.val
							break
						}
					}
				}
			}
		}
		out = append(out, g)
	}
	return out, true
}

// groupedByDist reports whether the GROUP BY holds a distribution column.
func groupedByDist(q *query) bool {
	keys, ok := groupKeys(q)
	return ok && !q.s.GroupDistinct && anyDistCol(q, keys)
}

// partial is one per-shard aggregate column and how the combine query
// reads it.
type partial struct {
	exprs []*pg.Node // worker expressions (one column each)
}

// splitAggregate plans an aggregate query not grouped by the
// distribution column: the shards compute partial aggregates per group,
// the combine query finishes them, then applies HAVING, ORDER BY, LIMIT
// and DISTINCT. count(DISTINCT x) and its kind push GROUP BY x down.
func (p *Planner) splitAggregate(q *query) (*Plan, error) {
	s := q.s
	if s.GroupDistinct {
		return nil, notPushable("GROUP BY DISTINCT")
	}
	keys, ok := groupKeys(q)
	if !ok {
		return nil, notPushable("GROUPING SETS, ROLLUP or CUBE")
	}
	for _, e := range aggExprs(s) {
		bad := false
		walkNodes(e, func(n *pg.Node) bool {
			if n.GetSubLink() != nil {
				bad = true
			}
			if f := n.GetFuncCall(); f != nil && f.Over != nil {
				bad = true
			}
			return !bad
		})
		if bad {
			return nil, notPushable("subquery or window function in an aggregate query")
		}
	}
	for _, k := range keys {
		if isRow(k) {
			return nil, notPushable("GROUP BY a row value")
		}
	}
	sp := &splitter{q: q, p: p, groups: keys}
	sp.widened = sp.widensGroups()
	w := &pg.SelectStmt{FromClause: s.FromClause, WhereClause: s.WhereClause}
	sp.w = w
	for _, k := range keys {
		w.TargetList = append(w.TargetList, target(irCol(len(w.TargetList)), k))
		sp.groupBy(len(w.TargetList) - 1)
	}
	c := &pg.SelectStmt{FromClause: []*pg.Node{tableNode(irName(1), "")},
		LimitCount: clone(s.LimitCount), LimitOffset: clone(s.LimitOffset), LimitOption: s.LimitOption}
	for i := range keys {
		c.GroupClause = append(c.GroupClause, colNode(irCol(i)))
	}
	if len(keys) == 0 {
		// GROUP BY (): one row even when every final step is a subquery
		// (array_agg's concatenation) rather than an aggregate call.
		c.GroupClause = []*pg.Node{{Node: &pg.Node_GroupingSet{GroupingSet: &pg.GroupingSet{
			Kind: pg.GroupingSetKind_GROUPING_SET_EMPTY, Location: -1}}}}
	}
	for _, o := range q.outs {
		if o.val == nil {
			return nil, notPushable("* in an aggregate query")
		}
		e, err := sp.rewrite(o.val, false)
		if err != nil {
			return nil, err
		}
		c.TargetList = append(c.TargetList, target(o.name, e))
	}
	if s.HavingClause != nil {
		e, err := sp.rewrite(s.HavingClause, false)
		if err != nil {
			return nil, err
		}
		c.HavingClause = e
	}
	onlyGroups := true
	ordered := map[int]bool{} // group keys the ORDER BY sorts by
	for _, item := range s.SortClause {
		by := item.GetSortBy()
		if by == nil {
			return nil, notPushable("odd ORDER BY")
		}
		e, err := sp.rewrite(by.Node, true)
		if err != nil {
			return nil, err
		}
		src := by.Node
		if i := matchOutput(q, src); i >= 0 && q.outs[i].val != nil {
			src = q.outs[i].val
		}
		if !sp.groupOnly(src) {
			onlyGroups = false
		}
		if i := sp.groupIndex(src); i >= 0 {
			ordered[i] = true
		}
		c.SortClause = append(c.SortClause, &pg.Node{Node: &pg.Node_SortBy{SortBy: &pg.SortBy{Node: e,
			SortbyDir: by.SortbyDir, SortbyNulls: by.SortbyNulls, UseOp: cloneList(by.UseOp), Location: -1}}})
	}
	if len(s.DistinctClause) > 0 {
		if s.DistinctClause[0].GetNode() == nil {
			c.DistinctClause = []*pg.Node{{}}
		} else {
			for _, d := range s.DistinctClause {
				e, err := sp.rewrite(d, true)
				if err != nil {
					return nil, err
				}
				c.DistinctClause = append(c.DistinctClause, e)
			}
		}
	}
	// Top-N per shard is safe when the order is on group keys only and
	// covers them all (so a group is cut from a shard's list only when
	// the final list cuts it too), no
	// HAVING drops groups after the combine, and no DISTINCT key widens
	// the shards' groups.
	if s.LimitCount != nil && !isNullConst(s.LimitCount) && s.HavingClause == nil && len(s.DistinctClause) == 0 &&
		onlyGroups && len(ordered) == len(keys) && len(keys) > 0 && sp.distinctKeys == 0 && s.LimitOption != pg.LimitOption_LIMIT_OPTION_WITH_TIES {
		for _, item := range s.SortClause {
			by := item.GetSortBy()
			n, _ := sp.rewriteWorker(by.Node)
			w.SortClause = append(w.SortClause, &pg.Node{Node: &pg.Node_SortBy{SortBy: &pg.SortBy{Node: n,
				SortbyDir: by.SortbyDir, SortbyNulls: by.SortbyNulls, UseOp: by.UseOp, Location: -1}}})
		}
		w.LimitCount = limitPlusOffset(s.LimitCount, s.LimitOffset)
		w.LimitOption = pg.LimitOption_LIMIT_OPTION_COUNT
	}
	sp.padRows()
	pl := &Plan{Kind: KindMultiShard, SQL: q.sql, cat: p.cat, Note: "partial aggregates", strategy: stratSplit}
	if err := p.setCombine(pl, c, len(w.TargetList)); err != nil {
		return nil, err
	}
	return p.finish(pl, q, w)
}
