package planner

import (
	"strconv"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"
)

// A condition x IN (SELECT y ...) (or x op ANY/ALL (SELECT y ...), or a
// scalar subquery (SELECT y ...)) whose subquery cannot run inside each
// shard's statement (it reads a table not co-located with the outer
// query's) would make the planner pull the outer tables to the
// coordinator, and an UPDATE or DELETE fail. When the subquery is not
// correlated and its result is small, it is cheaper to run it first and
// send its result into every shard's statement as a constant: the
// condition becomes x = ANY ('{...}'::type[]) (x op ANY/ALL (...)), the
// scalar subquery ('v'::type), which have the same three-valued answers
// over the same rows, and the rest of the statement is planned as usual
// (pushed down whole, split into partial aggregates, one statement per
// shard for a write, ...). Subqueries are shipped from WHERE, and from
// the select list and HAVING of a SELECT. The plan carries each subquery's plan in
// Shipped, its place in the SQL as a marker literal, and, for a SELECT,
// the pull plan it replaces as Fallback, which the executor runs instead
// when a subquery returns more rows than MaxShippedRowsSetting allows.

// MaxShippedRowsSetting is the setting that bounds the rows of a
// subquery result shipped to the workers as a constant array.
const MaxShippedRowsSetting = "pgfed.max_shipped_rows"

// maxShipped bounds the subqueries one statement ships.
const maxShipped = 4

// Shipped is a subquery run before the plan's tasks, whose one column of
// rows is sent to the workers as a constant array.
type Shipped struct {
	// Marker is the string literal (quotes included, unique in the
	// plan) that stands for the array in the SQL of the tasks and of the
	// combine query; the executor replaces it with the array literal
	// '{...}'::type[], type being the subquery's column type.
	Marker string
	// Plan is the subquery's plan (any kind but local).
	Plan *Plan
	// LimitSetting names the setting bounding its row count
	// (MaxShippedRowsSetting); past it the executor runs the plan's
	// Fallback instead.
	LimitSetting string
	// Scalar is set for a scalar subquery ((SELECT y ...) used as a
	// value): the marker stands for one value, ('v'::type), NULL when the
	// subquery returns no row; more than one row is PostgreSQL's error
	// 21000 (the Fallback, when there is one, reports it itself).
	Scalar bool
}

// ship plans a SELECT, UPDATE or DELETE whose uncorrelated IN (ANY, ALL)
// subqueries in WHERE are run first and shipped; ok is false when the
// statement has none or the rest of it would still need a pull (an
// UPDATE or DELETE cannot pull: it has no Fallback).
func (p *Planner) ship(sql string, stmt *pg.Node, a *analysis, prunes map[*rel]Prune, why error) (*Plan, bool, error) {
	if !shipEligible(stmt) || hasParamRefs(stmt) {
		return nil, false, nil
	}
	work := proto.Clone(stmt).(*pg.Node)
	var ships []Shipped
	ok := true
	visit := func(n *pg.Node) bool {
		sl := n.GetSubLink()
		if sl == nil || !ok {
			return ok
		}
		if len(ships) == maxShipped || !shippable(p, sl) {
			return false
		}
		text, err := deparse(sl.Subselect)
		if err != nil {
			ok = false
			return false
		}
		sub, err := p.planText(text)
		if err != nil || sub.Kind == KindLocal || sub.Kind == KindExplain || sub.Deferred {
			return false
		}
		setOwner(sub, p)
		marker := "pgfed_shipped_" + strconv.Itoa(len(ships)+1)
		name := sl.OperName
		if len(name) == 0 {
			name = []*pg.Node{strNode("=")}
		}
		kind := pg.A_Expr_Kind_AEXPR_OP_ANY
		if sl.SubLinkType == pg.SubLinkType_ALL_SUBLINK {
			kind = pg.A_Expr_Kind_AEXPR_OP_ALL
		}
		sh := Shipped{Marker: "'" + marker + "'", Plan: sub, LimitSetting: MaxShippedRowsSetting}
		if sl.SubLinkType == pg.SubLinkType_EXPR_SUBLINK {
			sh.Scalar = true
			n.Node = pg.MakeAConstStrNode(marker, -1).Node
		} else {
			n.Node = pg.MakeAExprNode(kind, name, sl.Testexpr, pg.MakeAConstStrNode(marker, -1), -1).Node
		}
		ships = append(ships, sh)
		return false
	}
	walkNodes(shipWhere(work), visit)
	if sel := work.GetSelectStmt(); sel != nil {
		for _, t := range sel.TargetList {
			// A scalar subquery as a whole target names its column
			// after the subquery's own (PostgreSQL's FigureColname):
			// keep the name once the marker takes its place.
			if rt := t.GetResTarget(); rt != nil && rt.Name == "" {
				if sl := rt.Val.GetSubLink(); sl != nil && sl.SubLinkType == pg.SubLinkType_EXPR_SUBLINK {
					if sub := sl.Subselect.GetSelectStmt(); sub != nil && len(sub.TargetList) == 1 && sub.TargetList[0].GetResTarget() != nil {
						rt.Name = colName(sub.TargetList[0].GetResTarget())
					}
				}
			}
			walkNodes(t, visit)
		}
		walkNodes(sel.HavingClause, visit)
	}
	if !ok || len(ships) == 0 {
		return nil, false, nil
	}
	text, err := deparse(work)
	if err != nil {
		return nil, false, nil
	}
	tree, err := pg.Parse(text)
	if err != nil || len(tree.Stmts) != 1 {
		return nil, false, nil
	}
	main, err := p.planStatement(text, tree.Stmts[0].Stmt)
	if err != nil || (main.Kind != KindRouter && main.Kind != KindMultiShard) || len(main.Subplans) > 0 || main.Deferred {
		return nil, false, nil
	}
	var fallback *Plan
	if stmt.GetSelectStmt() != nil {
		if fallback, err = p.recursive(sql, stmt, a, prunes, why); err != nil {
			fallback = nil // shipping is then the only way: past the limit, the limit's error
		}
	}
	main.Shipped = ships
	main.Fallback = fallback
	main.Note = "shipped subquery results; " + main.Note
	return main, true, nil
}

// shipEligible reports whether a statement's subqueries may be shipped:
// a plain SELECT (not locking rows), an UPDATE or a DELETE without WITH.
func shipEligible(stmt *pg.Node) bool {
	switch s := stmt.GetNode().(type) {
	case *pg.Node_SelectStmt:
		return s.SelectStmt.Op == pg.SetOperation_SETOP_NONE && len(s.SelectStmt.LockingClause) == 0
	case *pg.Node_UpdateStmt:
		return s.UpdateStmt.WithClause == nil
	case *pg.Node_DeleteStmt:
		return s.DeleteStmt.WithClause == nil
	}
	return false
}

// shipWhere returns the WHERE clause of a SELECT, UPDATE or DELETE (nil
// for others).
func shipWhere(stmt *pg.Node) *pg.Node {
	switch s := stmt.GetNode().(type) {
	case *pg.Node_SelectStmt:
		return s.SelectStmt.WhereClause
	case *pg.Node_UpdateStmt:
		return s.UpdateStmt.WhereClause
	case *pg.Node_DeleteStmt:
		return s.DeleteStmt.WhereClause
	}
	return nil
}

// shippable reports whether a sublink is x IN (SELECT y ...), x op ANY
// (SELECT y ...), x op ALL (SELECT y ...) or a scalar (SELECT y ...)
// with a one-column subquery that refers to nothing outside itself: x op
// ANY/ALL over the array of the subquery's rows has the same three-valued
// answer, and a scalar subquery is its one value (or NULL).
func shippable(p *Planner, sl *pg.SubLink) bool {
	switch sl.SubLinkType {
	case pg.SubLinkType_ANY_SUBLINK, pg.SubLinkType_ALL_SUBLINK:
		if sl.Testexpr == nil || sl.Testexpr.GetRowExpr() != nil {
			return false
		}
	case pg.SubLinkType_EXPR_SUBLINK:
	default:
		return false
	}
	sub := sl.Subselect.GetSelectStmt()
	if sub == nil {
		return false
	}
	if sub.Op == pg.SetOperation_SETOP_NONE {
		if len(sub.TargetList) != 1 {
			return false
		}
		if cr := sub.TargetList[0].GetResTarget().GetVal().GetColumnRef(); cr != nil && cr.Fields[len(cr.Fields)-1].GetAStar() != nil {
			return false
		}
	}
	return selfContained(p, sl.Subselect)
}

// selfContained reports whether every column reference of a subquery
// resolves inside it: a qualified one names a relation of the subquery,
// an unqualified one a column of a relation of the subquery whose
// columns the schema knows (all of them must be known).
func selfContained(p *Planner, sub *pg.Node) bool {
	names := map[string]bool{}
	cols := map[string]bool{}
	known := true
	walk(sub, func(x proto.Message) bool {
		switch v := x.(type) {
		case *pg.RangeVar:
			names[v.Relname] = true
			if v.Alias != nil {
				names[v.Alias.Aliasname] = true
			}
			if view := p.lookupView(v.Schemaname, v.Relname); view != nil {
				for _, c := range view.def.Columns {
					cols[c] = true
				}
			} else if _, _, def, _ := p.lookup(v.Schemaname, v.Relname); def != nil {
				for _, c := range def.Columns {
					cols[c.Name] = true
				}
			} else {
				known = false
			}
		case *pg.Alias:
			names[v.Aliasname] = true
			for _, c := range v.Colnames {
				cols[c.GetString_().GetSval()] = true
			}
		case *pg.CommonTableExpr:
			names[v.Ctename] = true
			known = false
		case *pg.RangeFunction:
			known = false
		case *pg.ResTarget:
			if v.Name != "" {
				cols[v.Name] = true // an output name ORDER BY may use
			}
		}
		return true
	})
	ok := true
	walk(sub, func(x proto.Message) bool {
		cr, isRef := x.(*pg.ColumnRef)
		if !isRef || !ok {
			return ok
		}
		var parts []string
		for _, f := range cr.Fields {
			if s := f.GetString_(); s != nil {
				parts = append(parts, s.Sval)
			}
		}
		switch {
		case len(parts) == 0:
		case len(parts) == 1 && len(cr.Fields) == 1:
			ok = known && cols[parts[0]]
		default:
			ok = names[parts[len(cr.Fields)-2]]
		}
		return ok
	})
	return ok
}

// hasParamRefs reports whether a statement has $n parameters.
func hasParamRefs(stmt *pg.Node) bool {
	found := false
	walk(stmt, func(x proto.Message) bool {
		if _, ok := x.(*pg.ParamRef); ok {
			found = true
		}
		return !found
	})
	return found
}
