package planner

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"github.com/pgfed/pgfed/catalog"
)

// Build returns the relational algebra of a statement as the planner sees
// it before pushdown: a Collect sits directly above every scan of a
// distributed or reference table (rows gathered from every shard), so each
// operator above a Collect runs on the coordinator. Pushdown (see Pushed)
// moves Collects up.
func (p *Planner) Build(sql string) (*Rel, error) {
	tree, err := pg.Parse(sql)
	if err != nil {
		return nil, syntaxError(err)
	}
	if len(tree.Stmts) != 1 {
		return nil, unsupported("one statement at a time")
	}
	stmt := tree.Stmts[0].Stmt
	if stmt, err = p.withViews(stmt); err != nil {
		return nil, err
	}
	a, err := p.resolve(stmt)
	if err != nil {
		return nil, err
	}
	b := &builder{p: p, a: a}
	return b.stmt(stmt), nil
}

// builder builds algebra from a resolved parse tree.
type builder struct {
	p *Planner
	a *analysis
}

// stmt builds any statement (non-SELECT statements become a Project of
// their text over their relations' scans).
func (b *builder) stmt(n *pg.Node) *Rel {
	if s := n.GetSelectStmt(); s != nil {
		return b.sel(s)
	}
	r := &Rel{Op: OpProject, Exprs: []string{"(modify)"}}
	for _, x := range b.a.rels {
		if x.rv != nil && x.level != nil && x.level.parent == nil {
			r.Inputs = append(r.Inputs, b.scan(x))
		}
	}
	return r
}

// sel builds a SELECT.
func (b *builder) sel(s *pg.SelectStmt) *Rel {
	var r *Rel
	switch {
	case s.Op != pg.SetOperation_SETOP_NONE:
		op := strings.TrimPrefix(s.Op.String(), "SETOP_")
		if s.All {
			op += " ALL"
		}
		r = &Rel{Op: OpSetOp, Detail: op, Inputs: []*Rel{b.sel(s.Larg), b.sel(s.Rarg)}}
	case len(s.ValuesLists) > 0:
		r = &Rel{Op: OpValues, Detail: strconv.Itoa(len(s.ValuesLists)) + " rows"}
	default:
		r = b.from(s.FromClause)
		if s.WhereClause != nil {
			r = &Rel{Op: OpFilter, Exprs: exprList(conjuncts(s.WhereClause, nil)), Inputs: []*Rel{r}}
		}
		if hasAggregates(b.p.schema, s) {
			agg := unary(OpAggregate, r)
			for _, g := range s.GroupClause {
				agg.Keys = append(agg.Keys, exprString(g))
			}
			eachCall(func(f *pg.FuncCall) bool {
				if isAggregate(b.p.schema, f) {
					agg.Exprs = appendUnique(agg.Exprs, exprString(&pg.Node{Node: &pg.Node_FuncCall{FuncCall: f}}))
					return false
				}
				return true
			}, aggExprs(s)...)
			r = agg
			if s.HavingClause != nil {
				r = &Rel{Op: OpFilter, Detail: "having", Exprs: exprList(conjuncts(s.HavingClause, nil)), Inputs: []*Rel{r}}
			}
		}
		if hasWindows(s) {
			w := unary(OpWindow, r)
			eachCall(func(f *pg.FuncCall) bool {
				if f.Over != nil {
					w.Exprs = append(w.Exprs, exprString(&pg.Node{Node: &pg.Node_FuncCall{FuncCall: f}}))
				}
				return true
			}, s.TargetList...)
			r = w
		}
		proj := unary(OpProject, r)
		proj.Exprs = exprList(s.TargetList)
		r = proj
		if len(s.DistinctClause) > 0 {
			d := unary(OpDistinct, r)
			if s.DistinctClause[0].GetNode() != nil {
				d.Keys = exprList(s.DistinctClause)
			}
			r = d
		}
	}
	if len(s.SortClause) > 0 {
		srt := unary(OpSort, r)
		srt.Keys = exprList(s.SortClause)
		r = srt
	}
	if s.LimitCount != nil || s.LimitOffset != nil {
		l := unary(OpLimit, r)
		l.Exprs = []string{exprString(s.LimitCount), exprString(s.LimitOffset)}
		if s.LimitCount == nil {
			l.Exprs[0] = "ALL"
		}
		if s.LimitOffset == nil {
			l.Exprs = l.Exprs[:1]
		}
		r = l
	}
	if s.WithClause != nil {
		for _, c := range s.WithClause.Ctes {
			if cte := c.GetCommonTableExpr(); cte != nil {
				sub := &Rel{Op: OpSubquery, Detail: "with", Table: cte.Ctename, Inputs: []*Rel{b.stmt(cte.Ctequery)}}
				r.Inputs = append(r.Inputs, sub)
			}
		}
	}
	return r
}

// from builds a FROM list (a cross join of its items).
func (b *builder) from(items []*pg.Node) *Rel {
	if len(items) == 0 {
		return &Rel{Op: OpValues, Detail: "1 row"}
	}
	r := b.fromItem(items[0])
	for _, it := range items[1:] {
		r = &Rel{Op: OpJoin, Detail: "inner", Inputs: []*Rel{r, b.fromItem(it)}}
	}
	return r
}

// fromItem builds one FROM item.
func (b *builder) fromItem(n *pg.Node) *Rel {
	switch f := n.GetNode().(type) {
	case *pg.Node_RangeVar:
		if x := b.a.byRV[f.RangeVar]; x != nil {
			return b.scan(x)
		}
	case *pg.Node_JoinExpr:
		j := f.JoinExpr
		kind := strings.ToLower(strings.TrimPrefix(j.Jointype.String(), "JOIN_"))
		r := &Rel{Op: OpJoin, Detail: kind, Inputs: []*Rel{b.fromItem(j.Larg), b.fromItem(j.Rarg)}}
		if j.Quals != nil {
			r.Exprs = exprList(conjuncts(j.Quals, nil))
		}
		for _, u := range j.UsingClause {
			if s := u.GetString_(); s != nil {
				r.Exprs = append(r.Exprs, "using "+s.Sval)
			}
		}
		return r
	case *pg.Node_RangeSubselect:
		name := ""
		if f.RangeSubselect.Alias != nil {
			name = f.RangeSubselect.Alias.Aliasname
		}
		return &Rel{Op: OpSubquery, Table: name, Inputs: []*Rel{b.stmt(f.RangeSubselect.Subquery)}}
	case *pg.Node_RangeFunction:
		return &Rel{Op: OpFunction, Exprs: exprList(f.RangeFunction.Functions)}
	}
	return &Rel{Op: OpFunction, Detail: "?"}
}

// scan builds the scan of a relation, under a Collect when it is sharded.
func (b *builder) scan(x *rel) *Rel {
	name := x.rv.Relname
	if x.rv.Alias != nil {
		name += " " + x.rv.Alias.Aliasname
	}
	s := &Rel{Op: OpScan, Table: name}
	switch x.kind {
	case relDistributed:
		s.Detail = x.table.Method.String() + "(" + x.table.Column + ")/" + strconv.Itoa(x.table.ShardCount)
		return &Rel{Op: OpCollect, Detail: "all", Inputs: []*Rel{s}}
	case relReference:
		s.Detail = catalog.MethodReference.String()
		return &Rel{Op: OpCollect, Detail: "one", Inputs: []*Rel{s}}
	case relCTE:
		s.Detail = "cte"
	default:
		s.Detail = "local"
	}
	return s
}

// exprList deparses a list of expressions (select-list entries, sort
// items and list nodes included).
func exprList(ns []*pg.Node) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		switch x := n.GetNode().(type) {
		case *pg.Node_ResTarget:
			s := exprString(x.ResTarget.Val)
			if x.ResTarget.Name != "" {
				s += " AS " + x.ResTarget.Name
			}
			out = append(out, s)
		case *pg.Node_SortBy:
			s := exprString(x.SortBy.Node)
			if x.SortBy.SortbyDir == pg.SortByDir_SORTBY_DESC {
				s += " DESC"
			}
			out = append(out, s)
		case *pg.Node_List:
			out = append(out, exprList(x.List.Items)...)
		default:
			out = append(out, exprString(n))
		}
	}
	return out
}

// appendUnique appends s unless present.
func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
