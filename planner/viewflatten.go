package planner

import (
	"strconv"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"
)

// A view expanded as a subquery in FROM would make every statement over
// it a pull (a subquery reading a distributed table is pulled whole). As
// PostgreSQL's pull_up_subqueries does, a simple view (one SELECT with no
// grouping, aggregates, window functions, DISTINCT, ORDER BY, LIMIT,
// sublinks, set-returning or volatile functions) is merged into the
// query that reads it: its FROM items take the view's place (renamed
// <alias>__<name>, so they cannot clash), its WHERE is ANDed to the
// query's, and every reference to a view column is replaced by the
// column's expression. Output column names are kept by giving the
// query's targets explicit names. Shard pruning, co-located joins and
// pushdown then see the tables themselves.
//
// A view is merged only where that is provably the same query: its level
// is a plain SELECT with no sublinks, the view sits directly in FROM or
// under inner joins only (no USING, no NATURAL), the other FROM items
// are tables or views whose columns the schema knows (so an unqualified
// name resolves with certainty), and the view is not referenced as a
// whole row. Otherwise it stays a subquery, which is always correct.

// srfOrVolatile are functions whose calls keep a view from being merged:
// set-returning functions change the row count where they are evaluated,
// volatile ones would be evaluated once per reference.
var srfOrVolatile = map[string]bool{
	"generate_series": true, "generate_subscripts": true, "unnest": true, "regexp_matches": true,
	"regexp_split_to_table": true, "json_array_elements": true, "jsonb_array_elements": true,
	"json_array_elements_text": true, "jsonb_array_elements_text": true, "json_each": true, "jsonb_each": true,
	"json_each_text": true, "jsonb_each_text": true, "json_object_keys": true, "jsonb_object_keys": true,
	"jsonb_path_query": true, "json_populate_recordset": true, "jsonb_populate_recordset": true,
	"json_to_recordset": true, "jsonb_to_recordset": true, "string_to_table": true, "pg_options_to_table": true,
	"random": true, "nextval": true, "setval": true, "currval": true, "clock_timestamp": true,
	"gen_random_uuid": true, "setseed": true, "txid_current": true, "timeofday": true,
}

// flatten merges the simple expanded views of a statement into the
// queries reading them, innermost first.
func (e *expander) flatten(stmt *pg.Node) {
	var sels []*pg.SelectStmt
	walk(stmt, func(x proto.Message) bool {
		if s, ok := x.(*pg.SelectStmt); ok {
			sels = append(sels, s)
		}
		return true
	})
	used := usedNames(stmt)
	for i := len(sels) - 1; i >= 0; i-- {
		s := sels[i]
		for changed := true; changed; {
			changed = false
			for _, item := range viewItems(s.FromClause, e.made) {
				if e.merge(s, item, used) {
					changed = true
					break
				}
			}
		}
	}
}

// usedNames returns every relation name and alias of a statement.
func usedNames(stmt *pg.Node) map[string]bool {
	used := map[string]bool{}
	walk(stmt, func(x proto.Message) bool {
		switch v := x.(type) {
		case *pg.RangeVar:
			used[v.Relname] = true
		case *pg.Alias:
			used[v.Aliasname] = true
		case *pg.CommonTableExpr:
			used[v.Ctename] = true
		}
		return true
	})
	return used
}

// viewItems returns the FROM items (anywhere in join trees) that are
// expanded views.
func viewItems(from []*pg.Node, made map[*pg.RangeSubselect]bool) []*pg.Node {
	var out []*pg.Node
	var visit func(n *pg.Node)
	visit = func(n *pg.Node) {
		switch f := n.GetNode().(type) {
		case *pg.Node_RangeSubselect:
			if made[f.RangeSubselect] {
				out = append(out, n)
			}
		case *pg.Node_JoinExpr:
			visit(f.JoinExpr.Larg)
			visit(f.JoinExpr.Rarg)
		}
	}
	for _, n := range from {
		visit(n)
	}
	return out
}

// merge merges the expanded view item into s when that is safe; it
// reports whether it did.
func (e *expander) merge(s *pg.SelectStmt, item *pg.Node, used map[string]bool) bool {
	rs := item.GetRangeSubselect()
	body := rs.Subquery.GetSelectStmt()
	if s.Op != pg.SetOperation_SETOP_NONE || body == nil || !simpleBody(e.p.schema, body) || rs.Alias == nil {
		return false
	}
	alias := rs.Alias.Aliasname
	// The view's columns: the alias's names, then the targets' own.
	cols := map[string]*pg.Node{}
	var order []string
	for i, t := range body.TargetList {
		rt := t.GetResTarget()
		name := colName(rt)
		if i < len(rs.Alias.Colnames) {
			name = rs.Alias.Colnames[i].GetString_().GetSval()
		}
		if _, dup := cols[name]; dup {
			return false
		}
		cols[name] = rt.Val
		order = append(order, name)
	}
	// Where the view sits, and what else is in scope at this level.
	direct := -1
	for i, n := range s.FromClause {
		if n == item {
			direct = i
		}
	}
	others, ok := e.otherColumns(s.FromClause, item)
	if !ok || (direct < 0 && len(body.FromClause) != 1) {
		return false
	}
	// The body's relations, renamed.
	renames := map[string]string{}
	for _, n := range body.FromClause {
		if !bodyAliases(n, renames) {
			return false
		}
	}
	for old := range renames {
		name := alias + "__" + old
		for k := 2; used[name]; k++ {
			name = alias + "__" + old + strconv.Itoa(k)
		}
		used[name] = true
		renames[old] = name
	}
	if !qualifyBody(body, renames) {
		return false
	}
	// Check every reference of the level before changing anything.
	outputs := map[string]bool{}
	for _, t := range s.TargetList {
		if rt := t.GetResTarget(); rt != nil {
			outputs[colName(rt)] = true
		}
	}
	refs, ok := levelRefs(s, item, alias, cols, others, outputs)
	if !ok {
		return false
	}
	// Merge: rename the body's relations, substitute, move FROM and WHERE.
	renameBody(body, renames)
	for _, t := range s.TargetList {
		rt := t.GetResTarget()
		if rt != nil && rt.Name == "" && refs.touches(rt.Val) {
			if name, ok := figure(rt.Val); ok {
				rt.Name = name
			}
		}
	}
	for _, r := range refs.subst {
		r.node.Node = clone(cols[r.col]).Node
	}
	if refs.star {
		var tl []*pg.Node
		for _, t := range s.TargetList {
			if !refs.stars[t] {
				tl = append(tl, t)
				continue
			}
			for _, c := range order {
				tl = append(tl, target(c, clone(cols[c])))
			}
		}
		s.TargetList = tl
	}
	if direct >= 0 {
		from := append([]*pg.Node(nil), s.FromClause[:direct]...)
		from = append(from, body.FromClause...)
		s.FromClause = append(from, s.FromClause[direct+1:]...)
	} else {
		item.Node = body.FromClause[0].Node
	}
	if body.WhereClause != nil {
		if s.WhereClause == nil {
			s.WhereClause = body.WhereClause
		} else {
			s.WhereClause = andNode([]*pg.Node{s.WhereClause, body.WhereClause})
		}
	}
	return true
}

// simpleBody reports whether a view's query can be merged into the query
// reading it.
func simpleBody(sc *Schema, b *pg.SelectStmt) bool {
	if b.Op != pg.SetOperation_SETOP_NONE || b.WithClause != nil || len(b.DistinctClause) > 0 ||
		len(b.GroupClause) > 0 || b.HavingClause != nil || len(b.WindowClause) > 0 || len(b.SortClause) > 0 ||
		b.LimitCount != nil || b.LimitOffset != nil || len(b.LockingClause) > 0 || b.IntoClause != nil ||
		len(b.ValuesLists) > 0 || len(b.FromClause) == 0 || len(b.TargetList) == 0 {
		return false
	}
	ok := true
	check := func(x proto.Message) bool {
		switch v := x.(type) {
		case *pg.RangeSubselect:
			return false // a nested view left as a subquery: its own scope
		case *pg.SubLink, *pg.RangeFunction, *pg.A_Star, *pg.GroupingFunc:
			ok = false
		case *pg.FuncCall:
			name := v.Funcname[len(v.Funcname)-1].GetString_().GetSval()
			if v.Over != nil || v.AggStar || v.AggDistinct || v.AggFilter != nil || len(v.AggOrder) > 0 ||
				isAggregate(sc, v) || srfOrVolatile[name] {
				ok = false
			}
		}
		return ok
	}
	for _, t := range b.TargetList {
		if t.GetResTarget() == nil {
			return false
		}
		walk(t, check)
	}
	for _, f := range b.FromClause {
		walk(f, check)
	}
	walk(b.WhereClause, check)
	return ok
}

// bodyAliases records the names of a view body's FROM leaves (tables and
// subqueries, inside joins too); false for a shape it does not rename
// (a join with an alias, a function in FROM).
func bodyAliases(n *pg.Node, names map[string]string) bool {
	switch f := n.GetNode().(type) {
	case *pg.Node_RangeVar:
		name := f.RangeVar.Relname
		if f.RangeVar.Alias != nil {
			name = f.RangeVar.Alias.Aliasname
		}
		if _, dup := names[name]; dup {
			return false
		}
		names[name] = ""
	case *pg.Node_RangeSubselect:
		if f.RangeSubselect.Alias == nil || f.RangeSubselect.Lateral {
			return false
		}
		if _, dup := names[f.RangeSubselect.Alias.Aliasname]; dup {
			return false
		}
		names[f.RangeSubselect.Alias.Aliasname] = ""
	case *pg.Node_JoinExpr:
		j := f.JoinExpr
		if j.Alias != nil || len(j.UsingClause) > 0 || j.IsNatural {
			return false
		}
		return bodyAliases(j.Larg, names) && bodyAliases(j.Rarg, names)
	default:
		return false
	}
	return true
}

// bodyRefs visits the column references of a view body's own level (not
// inside nested subqueries).
func bodyRefs(b *pg.SelectStmt, fn func(*pg.ColumnRef)) {
	visit := func(x proto.Message) bool {
		switch v := x.(type) {
		case *pg.RangeSubselect:
			return false
		case *pg.ColumnRef:
			fn(v)
		}
		return true
	}
	for _, t := range b.TargetList {
		walk(t, visit)
	}
	for _, f := range b.FromClause {
		walk(f, visit)
	}
	walk(b.WhereClause, visit)
}

// qualifyBody checks that every column reference of the body names one of
// its relations (an unqualified one is qualified when the body reads one
// relation); false when one cannot be placed with certainty.
func qualifyBody(b *pg.SelectStmt, names map[string]string) bool {
	ok := true
	only := ""
	if len(names) == 1 {
		for k := range names {
			only = k
		}
	}
	bodyRefs(b, func(cr *pg.ColumnRef) {
		switch len(cr.Fields) {
		case 1:
			if only == "" || cr.Fields[0].GetString_() == nil {
				ok = false
				return
			}
			cr.Fields = []*pg.Node{strNode(only), cr.Fields[0]}
		case 2:
			q := cr.Fields[0].GetString_()
			if q == nil {
				ok = false
				return
			}
			if _, known := names[q.Sval]; !known {
				ok = false
			}
		default:
			ok = false
		}
	})
	return ok
}

// renameBody gives the body's relations their new names.
func renameBody(b *pg.SelectStmt, renames map[string]string) {
	bodyRefs(b, func(cr *pg.ColumnRef) {
		q := cr.Fields[0].GetString_()
		cr.Fields[0] = strNode(renames[q.Sval])
	})
	var visit func(n *pg.Node)
	visit = func(n *pg.Node) {
		switch f := n.GetNode().(type) {
		case *pg.Node_RangeVar:
			rv := f.RangeVar
			if rv.Alias == nil {
				rv.Alias = &pg.Alias{Aliasname: renames[rv.Relname]}
			} else {
				rv.Alias.Aliasname = renames[rv.Alias.Aliasname]
			}
		case *pg.Node_RangeSubselect:
			f.RangeSubselect.Alias.Aliasname = renames[f.RangeSubselect.Alias.Aliasname]
		case *pg.Node_JoinExpr:
			visit(f.JoinExpr.Larg)
			visit(f.JoinExpr.Rarg)
		}
	}
	for _, n := range b.FromClause {
		visit(n)
	}
}

// otherColumns returns the columns of the FROM leaves of a level other
// than the view item, by leaf name; false when the view is under an
// outer join, a USING or NATURAL join, or a leaf's columns are unknown.
func (e *expander) otherColumns(from []*pg.Node, item *pg.Node) (map[string][]string, bool) {
	out := map[string][]string{}
	ok := true
	var visit func(n *pg.Node)
	visit = func(n *pg.Node) {
		if n == item || !ok {
			return
		}
		switch f := n.GetNode().(type) {
		case *pg.Node_RangeVar:
			rv := f.RangeVar
			name := rv.Relname
			if rv.Alias != nil {
				name = rv.Alias.Aliasname
				if len(rv.Alias.Colnames) > 0 {
					ok = false
					return
				}
			}
			if _, dup := out[name]; dup {
				ok = false
				return
			}
			if v := e.p.lookupView(rv.Schemaname, rv.Relname); v != nil {
				out[name] = v.def.Columns
				return
			}
			_, _, def, _ := e.p.lookup(rv.Schemaname, rv.Relname)
			if def == nil {
				ok = false
				return
			}
			for _, c := range def.Columns {
				out[name] = append(out[name], c.Name)
			}
		case *pg.Node_JoinExpr:
			j := f.JoinExpr
			if j.Jointype != pg.JoinType_JOIN_INNER || len(j.UsingClause) > 0 || j.IsNatural || j.Alias != nil {
				ok = false
				return
			}
			visit(j.Larg)
			visit(j.Rarg)
		default:
			ok = false
		}
	}
	for _, n := range from {
		visit(n)
	}
	return out, ok
}

// viewRefs are the references of a level to a view being merged.
type viewRefs struct {
	subst []subst
	star  bool
	stars map[*pg.Node]bool
	nodes map[*pg.Node]bool
}

// subst is one column reference to replace by the column's expression.
type subst struct {
	node *pg.Node
	col  string
}

// touches reports whether an expression holds a reference to replace.
func (r *viewRefs) touches(n *pg.Node) bool {
	found := false
	walkNodes(n, func(x *pg.Node) bool {
		found = found || r.nodes[x]
		return !found
	})
	return found
}

// levelRefs finds the references of level s to the view (alias, cols),
// given the other leaves' columns and the output column names; false when
// one makes merging unsafe (a sublink, a whole-row reference, an
// ambiguous name).
func levelRefs(s *pg.SelectStmt, item *pg.Node, alias string, cols map[string]*pg.Node,
	others map[string][]string, outputs map[string]bool) (*viewRefs, bool) {
	r := &viewRefs{stars: map[*pg.Node]bool{}, nodes: map[*pg.Node]bool{}}
	ok := true
	inOthers := func(c string) bool {
		for _, cs := range others {
			for _, x := range cs {
				if x == c {
					return true
				}
			}
		}
		return false
	}
	// Bare names in ORDER BY and DISTINCT ON match output columns first.
	exempt := map[*pg.Node]bool{}
	for _, n := range s.SortClause {
		if sb := n.GetSortBy(); sb != nil {
			if cr := sb.Node.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && outputs[cr.Fields[0].GetString_().GetSval()] {
				exempt[sb.Node] = true
			}
		}
	}
	for _, n := range s.DistinctClause {
		if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && outputs[cr.Fields[0].GetString_().GetSval()] {
			exempt[n] = true
		}
	}
	for _, t := range s.TargetList {
		rt := t.GetResTarget()
		if rt == nil {
			return nil, false
		}
		cr := rt.Val.GetColumnRef()
		if cr == nil || cr.Fields[len(cr.Fields)-1].GetAStar() == nil {
			continue
		}
		switch {
		case len(cr.Fields) == 1 && len(others) == 0:
			r.stars[t], r.star = true, true
		case len(cr.Fields) == 2 && cr.Fields[0].GetString_().GetSval() == alias:
			r.stars[t], r.star = true, true
		case len(cr.Fields) == 2 && others[cr.Fields[0].GetString_().GetSval()] != nil:
		default:
			return nil, false
		}
	}
	visit := func(x proto.Message) bool {
		if !ok {
			return false
		}
		n, isNode := x.(*pg.Node)
		if !isNode {
			switch x.(type) {
			case *pg.WithClause:
				return false // its queries cannot see the view
			case *pg.SubLink, *pg.RangeFunction, *pg.RangeSubselect:
				ok = false
			}
			return ok
		}
		if n == item || r.stars[n] || exempt[n] {
			return false
		}
		cr := n.GetColumnRef()
		if cr == nil {
			return true
		}
		var names []string
		for _, f := range cr.Fields {
			s := f.GetString_()
			if s == nil {
				if f.GetAStar() != nil && len(names) == 1 && names[0] != alias && others[names[0]] != nil {
					return false // other.* in a select list
				}
				ok = false
				return false
			}
			names = append(names, s.Sval)
		}
		switch len(names) {
		case 1:
			_, mine := cols[names[0]]
			switch {
			case mine && inOthers(names[0]):
				ok = false // ambiguous: PostgreSQL says so itself
			case mine:
				r.subst = append(r.subst, subst{n, names[0]})
				r.nodes[n] = true
			case names[0] == alias && !inOthers(names[0]):
				ok = false // a whole-row reference
			}
		case 2:
			if names[0] == alias {
				if _, mine := cols[names[1]]; !mine {
					ok = false
					return false
				}
				r.subst = append(r.subst, subst{n, names[1]})
				r.nodes[n] = true
			}
		default:
			ok = false
		}
		return false
	}
	walk(s, visit)
	return r, ok
}
