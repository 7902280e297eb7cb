package planner

import (
	"regexp"
	"strconv"

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
		return nil, unsupported("SELECT ... FOR %s cannot lock rows it pulls to the coordinator (%v); "+
			"lock the rows of a query that runs shard by shard (co-located tables joined on their distribution columns)",
			lockStrength(s), reason(why))
	}
	pl := &Plan{Kind: KindCoordinator, SQL: sql, cat: p.cat, Note: "pull: " + reason(why), strategy: stratPull}
	next := 1
	subs, covered, restore, err := p.querySubplans(stmt, a, &next)
	defer restore()
	if err != nil {
		return nil, err
	}
	pl.Subplans = subs
	var sharded []*rel
	for _, r := range a.rels {
		if r.sharded() && !covered[r] {
			sharded = append(sharded, r)
		}
	}
	names := make([]string, len(sharded))
	for i, r := range sharded {
		sub, cols, err := p.pull(sql, stmt, r, prunes)
		if err != nil {
			return nil, err
		}
		names[i] = irName(next)
		next++
		pl.Subplans = append(pl.Subplans, Subplan{Result: names[i], Columns: cols, Plan: sub,
			LimitSetting: MaxIntermediateRowsSetting, Why: "pull " + r.name})
	}
	for _, s := range pl.Subplans {
		pl.Deferred = pl.Deferred || s.Plan.Deferred
	}
	regrouped, undo := a.groupFunctionalDeps(sharded)
	defer undo()
	f, ok := textFragment(sql, sharded)
	if !ok || len(subs) > 0 || regrouped {
		if f, err = treeFragment(stmt, sharded, sql); err != nil {
			return nil, err
		}
	}
	// Slots are in text order; names in the order of sharded.
	ns := make([]string, len(f.Slots))
	for j := range f.Slots {
		ns[j] = names[f.rels[j]]
	}
	text := f.text(ns)
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
		f.ShardCount = p.positionCount(r.table)
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

// querySubplans plans, on their own, the WITH queries and FROM
// subqueries of the top level that read sharded tables and push down by
// themselves (router or multi-shard plans): each becomes a subplan whose
// intermediate result replaces the query in the statement tree (restore
// undoes that). The relations they read are returned as covered, so they
// are not pulled.
func (p *Planner) querySubplans(stmt *pg.Node, a *analysis, next *int) ([]Subplan, map[*rel]bool, func(), error) {
	covered := map[*rel]bool{}
	var undo []func()
	restore := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	s := stmt.GetSelectStmt()
	if s == nil || s.Op != pg.SetOperation_SETOP_NONE {
		return nil, covered, restore, nil
	}
	var subs []Subplan
	// try plans one query; ok is false when it does not qualify.
	try := func(q *pg.Node, why string, aliasCols []*pg.Node) (*pg.Node, []*pg.Node, bool, error) {
		sel := q.GetSelectStmt()
		if sel == nil {
			return nil, nil, false, nil
		}
		var inner []*rel
		walk(q, func(m proto.Message) bool {
			if rv, ok := m.(*pg.RangeVar); ok {
				if r := a.byRV[rv]; r != nil {
					inner = append(inner, r)
				}
			}
			return true
		})
		sharded := false
		for _, r := range inner {
			if r.kind == relLocal || r.kind == relCTE {
				return nil, nil, false, nil
			}
			sharded = sharded || r.sharded()
		}
		if !sharded {
			return nil, nil, false, nil
		}
		var lvl *level
		for _, l := range a.levels {
			if l.sel == sel {
				lvl = l
			}
		}
		if lvl == nil {
			return nil, nil, false, nil
		}
		outs, err := outputs(&query{s: sel, top: lvl})
		if err != nil {
			return nil, nil, false, nil
		}
		text, err := deparse(q)
		if err != nil {
			return nil, nil, false, nil
		}
		sub, err := p.planText(text)
		if err != nil || sub.Kind != KindRouter && sub.Kind != KindMultiShard {
			return nil, nil, false, nil
		}
		k := *next
		*next++
		renameIR(sub, strconv.Itoa(k))
		cols := make([]string, len(outs))
		for i := range cols {
			cols[i] = irCol(i)
		}
		if len(aliasCols) == 0 {
			for _, o := range outs {
				aliasCols = append(aliasCols, strNode(o.name))
			}
		}
		subs = append(subs, Subplan{Result: irName(k), Columns: cols, Plan: sub,
			LimitSetting: MaxIntermediateRowsSetting, Why: why})
		for _, r := range inner {
			covered[r] = true
		}
		star := &pg.SelectStmt{TargetList: []*pg.Node{target("", pg.MakeColumnRefNode([]*pg.Node{pg.MakeAStarNode()}, -1))},
			FromClause: []*pg.Node{tableNode(irName(k), "")}}
		return selectNode(star), aliasCols, true, nil
	}
	if w := s.WithClause; w != nil && !w.Recursive {
		for _, c := range w.Ctes {
			cte := c.GetCommonTableExpr()
			if cte == nil {
				continue
			}
			q, cols, ok, err := try(cte.Ctequery, "cte "+cte.Ctename, cte.Aliascolnames)
			if err != nil {
				return nil, nil, restore, err
			}
			if ok {
				oldQ, oldCols := cte.Ctequery, cte.Aliascolnames
				cte.Ctequery, cte.Aliascolnames = q, cols
				undo = append(undo, func() { cte.Ctequery, cte.Aliascolnames = oldQ, oldCols })
			}
		}
	}
	var from func(n *pg.Node) error
	from = func(n *pg.Node) error {
		switch f := n.GetNode().(type) {
		case *pg.Node_JoinExpr:
			if err := from(f.JoinExpr.Larg); err != nil {
				return err
			}
			return from(f.JoinExpr.Rarg)
		case *pg.Node_RangeSubselect:
			rs := f.RangeSubselect
			if rs.Lateral || rs.Alias == nil {
				return nil
			}
			q, cols, ok, err := try(rs.Subquery, "subquery "+rs.Alias.Aliasname, rs.Alias.Colnames)
			if err != nil || !ok {
				return err
			}
			oldQ, oldCols := rs.Subquery, rs.Alias.Colnames
			rs.Subquery, rs.Alias.Colnames = q, cols
			undo = append(undo, func() { rs.Subquery, rs.Alias.Colnames = oldQ, oldCols })
		}
		return nil
	}
	for _, f := range s.FromClause {
		if err := from(f); err != nil {
			return nil, nil, restore, err
		}
	}
	// Uncorrelated subqueries of the top level (in its select list,
	// WHERE, HAVING...) are planned on their own too; they keep their
	// output names for the select list's column names.
	var top *level
	for _, l := range a.levels {
		if l.sel == s {
			top = l
		}
	}
	for _, l := range a.levels {
		if top == nil || l.parent != top || l.link == nil || !uncorrelated(a, l) {
			continue
		}
		sl := l.link
		q, cols, ok, err := try(sl.Subselect, "subquery", nil)
		if err != nil {
			return nil, nil, restore, err
		}
		if !ok {
			continue
		}
		sel := q.GetSelectStmt()
		sel.TargetList = nil
		for i, c := range cols {
			sel.TargetList = append(sel.TargetList, target(c.GetString_().GetSval(), colNode(irCol(i))))
		}
		old := sl.Subselect
		sl.Subselect = q
		undo = append(undo, func() { sl.Subselect = old })
	}
	return subs, covered, restore, nil
}

// uncorrelated reports whether the subquery at level l (and below) reads
// no column of an outer level, as far as the planner can tell.
func uncorrelated(a *analysis, l *level) bool {
	in := map[*level]bool{}
	var mark func(x *level)
	mark = func(x *level) {
		in[x] = true
		for _, c := range x.children {
			mark(c)
		}
	}
	mark(l)
	for _, r := range a.colRefs {
		if !in[r.l] {
			continue
		}
		c, ok := resolveColumn(r.l, r.cr)
		if !ok || !in[c.rel.level] {
			return false
		}
	}
	return true
}

// irPattern matches intermediate result names.
var irPattern = regexp.MustCompile(`\bpgfed_ir_([0-9]+(?:_[0-9]+)*)\b`)

// renameIR prefixes the intermediate result names of a nested plan, so
// they do not collide with the outer plan's.
func renameIR(pl *Plan, prefix string) {
	if pl == nil {
		return
	}
	rn := func(s string) string { return irPattern.ReplaceAllString(s, "pgfed_ir_"+prefix+"_$1") }
	pl.Merge.SQL = rn(pl.Merge.SQL)
	pl.Merge.Result = rn(pl.Merge.Result)
	for i := range pl.Subplans {
		pl.Subplans[i].Result = rn(pl.Subplans[i].Result)
		renameIR(pl.Subplans[i].Plan, prefix)
	}
	renameIR(pl.Alternative, prefix)
}
