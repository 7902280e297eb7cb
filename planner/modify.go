package planner

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"github.com/pgfed/pgfed/catalog"
)

// planModify plans INSERT, UPDATE and DELETE: routed to one shard group
// when the distribution column is pinned, else one statement per shard
// (UPDATE, DELETE) or the VALUES rows split per shard (INSERT).
func (p *Planner) planModify(sql string, stmt *pg.Node, a *analysis, prunes map[*rel]Prune) (*Plan, error) {
	for _, r := range a.rels {
		if r.kind == relLocal {
			return nil, unsupported("a statement that modifies a distributed table cannot read local table %s", r.name)
		}
	}
	if t := dmlTarget(stmt, a); t != nil && t.kind == relReference {
		return p.modifyReference(sql, stmt, a)
	}
	if err := refuseOrgMove(stmt, dmlTarget(stmt, a)); err != nil {
		return nil, err
	}
	if in := stmt.GetInsertStmt(); in != nil {
		return p.insert(sql, stmt, in, a, prunes)
	}
	pl, ok, err := p.router(sql, stmt, a, prunes)
	if err != nil {
		return nil, err
	}
	if !ok {
		if pl, err = p.modifyAll(sql, stmt, a, prunes); err != nil {
			// A second distributed table read in an IN subquery: its
			// result may go to the shards as an array (ship.go).
			if spl, shipped, _ := p.ship(sql, stmt, a, prunes, err); shipped {
				return markModify(spl), nil
			}
			return nil, err
		}
	}
	return markModify(pl), nil
}

// refuseOrgMove refuses an UPDATE (or INSERT ... ON CONFLICT DO UPDATE)
// that sets an organization table's organization or hash column to
// anything but itself: the row would stay on its old organization's
// shard. (A hash table's moving UPDATE is run by the executor.)
func refuseOrgMove(stmt *pg.Node, target *rel) error {
	if target == nil || target.table.Method != catalog.MethodOrganization {
		return nil
	}
	var set []*pg.Node
	what := "an UPDATE"
	if u := stmt.GetUpdateStmt(); u != nil {
		set = u.TargetList
	} else if in := stmt.GetInsertStmt(); in != nil && in.OnConflictClause != nil {
		set, what = in.OnConflictClause.TargetList, "ON CONFLICT DO UPDATE"
	}
	t := target.table
	for _, n := range set {
		rt := n.GetResTarget()
		if rt == nil || rt.Name != t.Column && (t.HashColumn == "" || rt.Name != t.HashColumn) {
			continue
		}
		if cr := rt.Val.GetColumnRef(); cr != nil && len(rt.Indirection) == 0 && len(cr.Fields) > 0 &&
			cr.Fields[len(cr.Fields)-1].GetString_().GetSval() == rt.Name &&
			(len(cr.Fields) == 1 || len(cr.Fields) == 2 && cr.Fields[0].GetString_().GetSval() == target.name) {
			continue // SET bank = bank
		}
		return unsupported("modifying the partition value of rows is not allowed: %s sets column %s of organization table %s, whose rows would stay on their old shard",
			what, rt.Name, target.name)
	}
	return nil
}

// markModify marks a plan (and its alternative) as writing.
func markModify(p *Plan) *Plan {
	if p == nil {
		return nil
	}
	p.Modify = true
	markModify(p.Alternative)
	return p
}

// modifyAll fans an UPDATE or DELETE out to every shard its predicates
// keep; it may read reference tables but no other distributed table.
func (p *Planner) modifyAll(sql string, stmt *pg.Node, a *analysis, prunes map[*rel]Prune) (*Plan, error) {
	var target *rel
	var sharded []*rel
	for _, r := range a.rels {
		if !r.sharded() {
			continue
		}
		sharded = append(sharded, r)
		if r.distributed() {
			if target != nil {
				return nil, unsupported("UPDATE or DELETE reading a second distributed table (%s) must pin both to one shard group", r.name)
			}
			target = r
		}
	}
	if target == nil {
		return nil, unsupported("modifying a reference table with a multi-statement plan is not supported yet")
	}
	f, err := p.fragmentOf(sql, stmt, sharded)
	if err != nil {
		return nil, err
	}
	f.ShardCount = p.positionCount(target.table)
	f.Prune = prunes[target]
	pl := &Plan{Kind: KindMultiShard, SQL: sql, cat: p.cat, Fragment: f, Merge: Merge{Kind: MergeConcat},
		Note: "one statement per shard", Modify: true}
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

// insert routes INSERT ... VALUES by the distribution column's value of
// each row: one row is a router plan (deferred for $n); several rows are
// grouped per shard, one INSERT per shard.
func (p *Planner) insert(sql string, stmt *pg.Node, in *pg.InsertStmt, a *analysis, prunes map[*rel]Prune) (*Plan, error) {
	target := a.byRV[in.Relation]
	if target == nil {
		return nil, internalError("INSERT target not resolved")
	}
	sel := in.SelectStmt.GetSelectStmt()
	if sel != nil && len(sel.ValuesLists) == 0 && in.WithClause == nil {
		return p.insertSelect(sql, stmt, in, target, a, prunes)
	}
	if sel == nil || len(sel.ValuesLists) == 0 || in.WithClause != nil {
		return nil, unsupported("this form of INSERT into a distributed table is not supported yet")
	}
	org := target.table.Method == catalog.MethodOrganization
	k := insertColumn(in, target, target.table.Column)
	if k < 0 {
		return nil, errorf("23502", "the distribution column %s of %s must be given a value", target.table.Column, target.name)
	}
	hk := -1
	if org && target.table.HashColumn != "" {
		if hk = insertColumn(in, target, target.table.HashColumn); hk < 0 {
			return nil, errorf("23502", "the hash column %s of organization table %s must be given a value", target.table.HashColumn, target.name)
		}
	}
	rows := make([]Prune, len(sel.ValuesLists))
	deferred := false
	for i, row := range sel.ValuesLists {
		l := row.GetList()
		if l == nil || k >= len(l.Items) || hk >= len(l.Items) {
			return nil, unsupported("INSERT row without a distribution column value")
		}
		pr, err := p.rowPrune(target, l.Items[k], org)
		if err != nil {
			return nil, err
		}
		if hk >= 0 {
			v := l.Items[hk]
			if c := v.GetAConst(); c != nil && c.Isnull {
				return nil, errorf("23502", "cannot perform an INSERT with NULL in the hash column %s of organization table %s", target.table.HashColumn, target.name)
			}
			hp, ok, err := p.orgHashPrune(target, v)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, unsupported("INSERT with a computed hash column value (%s) is not supported yet", exprString(v))
			}
			pr = and(pr, hp)
		}
		deferred = deferred || pr.hasParams()
		rows[i] = pr
	}
	if len(rows) == 1 {
		prunes[target] = rows[0]
		pl, ok, err := p.router(sql, stmt, a, prunes)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, unsupported("INSERT reading other distributed tables is not supported yet")
		}
		if pl.Deferred {
			pl.rows = &insertRows{prunes: rows, table: target.table, name: target.name}
		}
		return markModify(pl), nil
	}
	if deferred {
		return p.insertDeferred(sql, stmt, target, a, rows)
	}
	groups := map[int][]*pg.Node{}
	var order []int
	for i, pr := range rows {
		pos, _, err := pr.Eval(p.positionCount(target.table), nil)
		if err != nil {
			return nil, err
		}
		if len(pos) != 1 {
			return nil, internalError("INSERT row %d of %s pinned to %d shards", i+1, target.name, len(pos))
		}
		if _, ok := groups[pos[0]]; !ok {
			order = append(order, pos[0])
		}
		groups[pos[0]] = append(groups[pos[0]], sel.ValuesLists[i])
	}
	pl := &Plan{Kind: KindMultiShard, SQL: sql, cat: p.cat, Merge: Merge{Kind: MergeConcat}, Modify: true,
		Note: "rows split per shard"}
	all := sel.ValuesLists
	defer func() { sel.ValuesLists = all }()
	for _, pos := range order {
		sel.ValuesLists = groups[pos]
		mapping, restore := renumberParams(stmt)
		f, err := treeFragment(stmt, []*rel{target}, sql)
		restore()
		if err != nil {
			return nil, err
		}
		f.Params = mapping
		f.ShardCount = p.positionCount(target.table)
		tasks, err := p.tasks(f, []int{pos})
		if err != nil {
			return nil, err
		}
		pl.Tasks = append(pl.Tasks, tasks...)
	}
	if len(pl.Tasks) == 1 {
		pl.Kind = KindRouter
	}
	return pl, nil
}

// sameOrgLayout reports whether two co-located organization tables have
// their shards at the same positions (the same organization and index),
// so that a shard group's rows stay in it.
func (p *Planner) sameOrgLayout(a, b catalog.Table) bool {
	x, y := p.shards[a.Relation], p.shards[b.Relation]
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i].Organization != y[i].Organization || x[i].Index != y[i].Index {
			return false
		}
	}
	return true
}

// insertColumn returns the index in an INSERT's rows of the target's
// column name, or -1 when the rows do not give it.
func insertColumn(in *pg.InsertStmt, target *rel, name string) int {
	if len(in.Cols) == 0 {
		if target.def != nil {
			return target.def.column(name)
		}
		return -1
	}
	for i, c := range in.Cols {
		if rt := c.GetResTarget(); rt != nil && rt.Name == name && len(rt.Indirection) == 0 {
			return i
		}
	}
	return -1
}

// rowPrune returns the shards an INSERT row's distribution column value
// v keeps: one shard, or a parameter's (known at bind time). A NULL is
// 23502; an organization that holds no shard of the table is 23514.
func (p *Planner) rowPrune(target *rel, v *pg.Node, org bool) (Prune, error) {
	if c := v.GetAConst(); c != nil && c.Isnull {
		return Prune{}, errorf("23502", "cannot perform an INSERT with NULL in the distribution column %s of %s", target.table.Column, target.name)
	}
	pr, ok, err := p.valuePrune(target, v)
	if err != nil {
		return Prune{}, err
	}
	if !ok {
		return Prune{}, unsupported("INSERT with a computed distribution column value (%s) is not supported yet", exprString(v))
	}
	if org && pr.Op == PruneShards && len(pr.Shards) == 0 {
		// As PostgreSQL's "no partition of relation found for row".
		return Prune{}, noOrganization(exprString(v), target.name, target.table.Column)
	}
	return pr, nil
}

// noOrganization is the error of an INSERT row whose organization column
// value (quoted as SQL) names no organization holding a shard of table.
func noOrganization(value, table, column string) error {
	return errorf("23514", "no organization %s holds a shard of %s (organization column %s)", value, table, column)
}

// dmlTarget returns the relation an INSERT, UPDATE or DELETE writes.
func dmlTarget(stmt *pg.Node, a *analysis) *rel {
	var rv *pg.RangeVar
	switch s := stmt.GetNode().(type) {
	case *pg.Node_InsertStmt:
		rv = s.InsertStmt.Relation
	case *pg.Node_UpdateStmt:
		rv = s.UpdateStmt.Relation
	case *pg.Node_DeleteStmt:
		rv = s.DeleteStmt.Relation
	}
	if rv == nil {
		return nil
	}
	return a.byRV[rv]
}

// modifyReference writes a reference table: the statement goes to every
// placement of its shard (Replicated: the executor commits them together
// and returns the first task's result). It may read other reference
// tables only.
func (p *Planner) modifyReference(sql string, stmt *pg.Node, a *analysis) (*Plan, error) {
	var sharded []*rel
	for _, r := range a.rels {
		if r.distributed() {
			return nil, unsupported("a statement writing reference table %s cannot read distributed table %s", dmlTarget(stmt, a).name, r.name)
		}
		if r.sharded() {
			sharded = append(sharded, r)
		}
	}
	f, err := p.fragmentOf(sql, stmt, sharded)
	if err != nil {
		return nil, err
	}
	f.Prune = Prune{Op: PruneShards, Shards: []int{0}}
	one, err := p.tasks(f, []int{0})
	if err != nil {
		return nil, err
	}
	pl := &Plan{Kind: KindMultiShard, SQL: sql, cat: p.cat, Fragment: f, Modify: true, Replicated: true,
		Merge: Merge{Kind: MergeConcat}, Note: "every placement of the reference table"}
	for _, n := range one[0].Nodes {
		t := one[0]
		t.Node = n
		pl.Tasks = append(pl.Tasks, t)
	}
	return pl, nil
}

// insertSelect plans INSERT INTO t SELECT ... when the SELECT runs shard
// group by shard group and hands t's distribution column the
// distribution column of a co-located table: each shard group inserts its
// own rows (Citus's co-located INSERT ... SELECT). Other forms need rows
// routed through the coordinator, which the executor does not do yet.
func (p *Planner) insertSelect(sql string, stmt *pg.Node, in *pg.InsertStmt, target *rel, a *analysis, prunes map[*rel]Prune) (*Plan, error) {
	refuse := func(why string) (*Plan, error) {
		return nil, unsupported("INSERT ... SELECT into %s needs rows routed through the coordinator (not supported yet): %s", target.name, why)
	}
	if target.table.Method != catalog.MethodHash && target.table.Method != catalog.MethodOrganization {
		return refuse("the target is not distributed")
	}
	inner := *a
	inner.rels = nil
	for _, r := range a.rels {
		if r != target {
			inner.rels = append(inner.rels, r)
		}
	}
	q, err := p.pushable(sql, in.SelectStmt, &inner, prunes)
	if err != nil {
		return refuse(reason(err))
	}
	s := q.s
	switch {
	case s.LimitCount != nil || s.LimitOffset != nil:
		return refuse("LIMIT")
	case hasAggregates(p.schema, s) && !groupedByDist(q):
		return refuse("aggregates not grouped by the distribution column")
	case hasWindows(s) && !windowsOnDist(q):
		return refuse("a window not partitioned by the distribution column")
	}
	k := insertColumn(in, target, target.table.Column)
	if k < 0 || k >= len(q.outs) || !q.outs[k].ok || !q.outs[k].col.distColumn() ||
		q.outs[k].col.rel.level != q.top || q.outs[k].col.rel.nullable ||
		q.outs[k].col.rel.table.ColocationID != target.table.ColocationID {
		return refuse("the distribution column does not receive a co-located distribution column")
	}
	if t := target.table; t.Method == catalog.MethodOrganization && t.HashColumn != "" {
		// The hash column must receive the same source row's hash
		// column, so each row stays at its shard position.
		hk := insertColumn(in, target, t.HashColumn)
		src := q.outs[k].col.rel
		if hk < 0 || hk >= len(q.outs) || !q.outs[hk].ok || q.outs[hk].col.rel != src || q.outs[hk].col.col != src.table.HashColumn {
			return refuse("the hash column does not receive the co-located table's hash column")
		}
	}
	if t := target.table; t.Method == catalog.MethodOrganization && !p.sameOrgLayout(t, q.outs[k].col.rel.table) {
		return refuse("the tables' organizations hold different shards")
	}
	f, err := p.fragmentOf(sql, stmt, append([]*rel{target}, q.sharded...))
	if err != nil {
		return nil, err
	}
	f.ShardCount = p.positionCount(target.table)
	f.Prune = q.prune
	pl := &Plan{Kind: KindMultiShard, SQL: sql, cat: p.cat, Fragment: f, Modify: true,
		Merge: Merge{Kind: MergeConcat}, Note: "co-located INSERT ... SELECT"}
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
