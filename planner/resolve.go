package planner

import (
	"github.com/jackc/pgerrcode"
	pg "github.com/pganalyze/pg_query_go/v5"
	"github.com/pgfed/pgfed/catalog"
	"google.golang.org/protobuf/proto"
)

// relKind says what a range-table entry names.
type relKind uint8

const (
	relDistributed relKind = iota + 1 // a hash or organization table
	relReference                      // a reference table
	relLocal                          // a table of the metadata database (or unknown)
	relCTE                            // a WITH query
	relOther                          // a subquery or function in FROM
)

// rel is one entry of a FROM list (or the target of a DML statement).
type rel struct {
	id    int
	kind  relKind
	rv    *pg.RangeVar // nil for relOther
	name  string       // the name visible to column references
	table catalog.Table
	def   *TableDef
	cols  []string // known column names; nil when unknown
	level *level
	// nullable is set for a relation on the nullable side of an outer
	// join at its level.
	nullable bool
}

// distributed reports whether the relation is a hash or organization table.
func (r *rel) distributed() bool { return r.kind == relDistributed }

// sharded reports whether the relation lives on the workers.
func (r *rel) sharded() bool { return r.kind == relDistributed || r.kind == relReference }

// level is one query level (a SELECT, a DML statement) with its FROM list.
type level struct {
	parent     *level
	rels       []*rel
	where      *pg.Node
	innerQuals []*pg.Node // ON clauses of inner joins
	outerQuals []*pg.Node // ON clauses of outer joins
	sel        *pg.SelectStmt
	children   []*level
	// link is the SubLink whose subquery the level is, nil otherwise.
	link *pg.SubLink
}

// analysis is what resolve learns about a statement.
type analysis struct {
	p      *Planner
	rels   []*rel // every relation occurrence, in discovery order
	levels []*level
	byRV   map[*pg.RangeVar]*rel
	err    error
	// colRefs are the column references seen, with their level.
	colRefs []levelRef
}

// levelRef is a column reference and the level it appears at.
type levelRef struct {
	l  *level
	cr *pg.ColumnRef
}

// counts returns the numbers of distributed, reference and local
// relation occurrences.
func (a *analysis) counts() (dist, ref, local int) {
	for _, r := range a.rels {
		switch r.kind {
		case relDistributed:
			dist++
		case relReference:
			ref++
		case relLocal:
			local++
		}
	}
	return
}

// resolve analyses a statement's relations and levels. Range variables
// found anywhere the structured walk does not reach are still classified
// (with no level), so no table is ever missed.
func (p *Planner) resolve(stmt *pg.Node) (*analysis, error) {
	a := &analysis{p: p, byRV: map[*pg.RangeVar]*rel{}}
	a.stmt(stmt, nil, nil)
	walk(stmt, func(m proto.Message) bool {
		if _, ok := m.(*pg.LockingClause); ok {
			return false // FOR UPDATE OF names FROM items, not tables
		}
		if rv, ok := m.(*pg.RangeVar); ok && a.byRV[rv] == nil {
			r := a.classify(rv, nil)
			r.level = nil
		}
		return true
	})
	if a.err != nil {
		return nil, a.err
	}
	return a, a.checkColumns()
}

// checkColumns fails with undefined_column (42703) for a column reference
// qualified by a distributed or reference table that has no such column,
// as PostgreSQL would (the planner would otherwise pull or route a
// statement that can only fail).
func (a *analysis) checkColumns() error {
	for _, x := range a.colRefs {
		c, ok := resolveColumn(x.l, x.cr)
		if !ok || !c.rel.sharded() || c.rel.cols == nil || len(x.cr.Fields) < 2 {
			continue
		}
		found := false
		for _, name := range c.rel.cols {
			found = found || name == c.col
		}
		if !found {
			return undefinedColumn(c.col, c.rel)
		}
	}
	return nil
}

// stmt analyses a statement node at a new level.
func (a *analysis) stmt(n *pg.Node, parent *level, ctes map[string]bool) *level {
	switch s := n.GetNode().(type) {
	case *pg.Node_SelectStmt:
		return a.selectStmt(s.SelectStmt, parent, ctes)
	case *pg.Node_UpdateStmt:
		u := s.UpdateStmt
		ctes = a.with(u.WithClause, ctes)
		l := a.newLevel(parent)
		a.rangeVar(u.Relation, l, ctes)
		a.fromList(u.FromClause, l, ctes)
		l.where = u.WhereClause
		a.exprs(l, ctes, u.TargetList, u.WhereClause, u.ReturningList)
		return l
	case *pg.Node_DeleteStmt:
		d := s.DeleteStmt
		ctes = a.with(d.WithClause, ctes)
		l := a.newLevel(parent)
		a.rangeVar(d.Relation, l, ctes)
		a.fromList(d.UsingClause, l, ctes)
		l.where = d.WhereClause
		a.exprs(l, ctes, d.WhereClause, d.ReturningList)
		return l
	case *pg.Node_InsertStmt:
		in := s.InsertStmt
		ctes = a.with(in.WithClause, ctes)
		l := a.newLevel(parent)
		a.rangeVar(in.Relation, l, ctes)
		if in.SelectStmt != nil {
			a.stmt(in.SelectStmt, nil, ctes)
		}
		a.exprs(l, ctes, in.ReturningList)
		if in.OnConflictClause != nil {
			a.exprs(l, ctes, in.OnConflictClause.TargetList, in.OnConflictClause.WhereClause)
		}
		return l
	}
	return nil
}

// newLevel starts a query level.
func (a *analysis) newLevel(parent *level) *level {
	l := &level{parent: parent}
	if parent != nil {
		parent.children = append(parent.children, l)
	}
	a.levels = append(a.levels, l)
	return l
}

// with analyses WITH queries and returns the CTE names in scope after it.
func (a *analysis) with(w *pg.WithClause, ctes map[string]bool) map[string]bool {
	if w == nil {
		return ctes
	}
	scope := map[string]bool{}
	for k := range ctes {
		scope[k] = true
	}
	for _, c := range w.Ctes {
		cte := c.GetCommonTableExpr()
		if cte == nil {
			continue
		}
		if w.Recursive {
			scope[cte.Ctename] = true
		}
		a.stmt(cte.Ctequery, nil, scope)
		scope[cte.Ctename] = true
	}
	return scope
}

// selectStmt analyses a SELECT (or set operation) at a new level.
func (a *analysis) selectStmt(s *pg.SelectStmt, parent *level, ctes map[string]bool) *level {
	if s == nil {
		return nil
	}
	ctes = a.with(s.WithClause, ctes)
	if s.Op != pg.SetOperation_SETOP_NONE {
		l := a.newLevel(parent)
		l.sel = s
		a.selectStmt(s.Larg, parent, ctes)
		a.selectStmt(s.Rarg, parent, ctes)
		a.exprs(l, ctes, s.SortClause, s.LimitCount, s.LimitOffset)
		return l
	}
	l := a.newLevel(parent)
	l.sel = s
	a.fromList(s.FromClause, l, ctes)
	l.where = s.WhereClause
	a.exprs(l, ctes, s.TargetList, s.WhereClause, s.GroupClause, s.HavingClause,
		s.WindowClause, s.SortClause, s.LimitCount, s.LimitOffset, s.DistinctClause, s.ValuesLists)
	return l
}

// fromList analyses FROM items into rels of level l.
func (a *analysis) fromList(items []*pg.Node, l *level, ctes map[string]bool) {
	for _, it := range items {
		a.fromItem(it, l, ctes, false)
	}
}

// fromItem analyses one FROM item; nullable marks the nullable side of an
// outer join.
func (a *analysis) fromItem(n *pg.Node, l *level, ctes map[string]bool, nullable bool) {
	switch f := n.GetNode().(type) {
	case *pg.Node_RangeVar:
		r := a.rangeVar(f.RangeVar, l, ctes)
		r.nullable = nullable
	case *pg.Node_JoinExpr:
		j := f.JoinExpr
		ln, rn := nullable, nullable
		switch j.Jointype {
		case pg.JoinType_JOIN_LEFT:
			rn = true
		case pg.JoinType_JOIN_RIGHT:
			ln = true
		case pg.JoinType_JOIN_FULL:
			ln, rn = true, true
		}
		a.fromItem(j.Larg, l, ctes, ln)
		a.fromItem(j.Rarg, l, ctes, rn)
		if j.Quals != nil {
			if j.Jointype == pg.JoinType_JOIN_INNER && !nullable {
				l.innerQuals = append(l.innerQuals, j.Quals)
			} else {
				l.outerQuals = append(l.outerQuals, j.Quals)
			}
		}
		a.exprs(l, ctes, j.Quals)
	case *pg.Node_RangeSubselect:
		rs := f.RangeSubselect
		var parent *level
		if rs.Lateral {
			parent = l
		}
		a.stmt(rs.Subquery, parent, ctes)
		r := &rel{id: len(a.rels), kind: relOther, level: l, nullable: nullable}
		if rs.Alias != nil {
			r.name = rs.Alias.Aliasname
		}
		a.rels = append(a.rels, r)
		l.rels = append(l.rels, r)
	case *pg.Node_RangeFunction:
		rf := f.RangeFunction
		a.exprs(l, ctes, rf.Functions)
		r := &rel{id: len(a.rels), kind: relOther, level: l, nullable: nullable}
		if rf.Alias != nil {
			r.name = rf.Alias.Aliasname
		}
		a.rels = append(a.rels, r)
		l.rels = append(l.rels, r)
	default:
		// RangeTableSample, XMLTABLE, JSON_TABLE...: their expressions
		// may hold sublinks; tables inside are caught by resolve's walk.
		r := &rel{id: len(a.rels), kind: relOther, level: l, nullable: nullable}
		a.rels = append(a.rels, r)
		l.rels = append(l.rels, r)
	}
}

// rangeVar classifies a range variable and adds it to level l.
func (a *analysis) rangeVar(rv *pg.RangeVar, l *level, ctes map[string]bool) *rel {
	if rv == nil {
		return &rel{}
	}
	var r *rel
	if rv.Schemaname == "" && ctes[rv.Relname] {
		r = &rel{id: len(a.rels), kind: relCTE, rv: rv, name: rv.Relname}
		a.rels = append(a.rels, r)
		a.byRV[rv] = r
	} else {
		r = a.classify(rv, l)
	}
	if rv.Alias != nil {
		r.name = rv.Alias.Aliasname
	}
	r.level = l
	if l != nil {
		l.rels = append(l.rels, r)
	}
	return r
}

// classify looks a range variable up in the catalog and the schema.
func (a *analysis) classify(rv *pg.RangeVar, l *level) *rel {
	r := &rel{id: len(a.rels), kind: relLocal, rv: rv, name: rv.Relname, level: l}
	a.rels = append(a.rels, r)
	a.byRV[rv] = r
	name, t, def, ok := a.p.lookup(rv.Schemaname, rv.Relname)
	if def != nil {
		r.def = def
		r.cols = make([]string, len(def.Columns))
		for i, c := range def.Columns {
			r.cols[i] = c.Name
		}
	}
	if !ok {
		return r
	}
	r.table = t
	if t.Method == catalog.MethodReference {
		r.kind = relReference
	} else {
		r.kind = relDistributed
	}
	if def == nil && a.err == nil {
		a.err = errorf(pgerrcode.UndefinedTable, "relation %s is distributed but its shell table is not described", name)
	}
	return r
}

// lookup resolves a possibly unqualified relation name through the search
// path. ok reports a distributed or reference table; def is the schema's
// definition when it has one.
func (p *Planner) lookup(schema, name string) (catalog.RelationName, catalog.Table, *TableDef, bool) {
	if schema != "" {
		rn := catalog.RelationName{Schema: schema, Name: name}
		t, ok := p.cat.Table(schema, name)
		def, _ := p.schema.Table(rn)
		return rn, t, def, ok
	}
	for _, sp := range p.schema.SearchPath() {
		rn := catalog.RelationName{Schema: sp, Name: name}
		t, ok := p.cat.Table(sp, name)
		def, hasDef := p.schema.Table(rn)
		if ok || hasDef {
			return rn, t, def, ok
		}
	}
	return catalog.RelationName{Name: name}, catalog.Table{}, nil, false
}

// exprs walks expressions of level l for sublinks, analysing each
// subquery as a child level.
func (a *analysis) exprs(l *level, ctes map[string]bool, nodes ...any) {
	for _, x := range nodes {
		switch v := x.(type) {
		case *pg.Node:
			a.expr(l, ctes, v)
		case []*pg.Node:
			for _, n := range v {
				a.expr(l, ctes, n)
			}
		}
	}
}

// expr walks one expression for sublinks.
func (a *analysis) expr(l *level, ctes map[string]bool, n *pg.Node) {
	if n == nil {
		return
	}
	walkNodes(n, func(x *pg.Node) bool {
		if cr := x.GetColumnRef(); cr != nil && l != nil {
			a.colRefs = append(a.colRefs, levelRef{l, cr})
		}
		if sl := x.GetSubLink(); sl != nil {
			a.expr(l, ctes, sl.Testexpr)
			if c := a.stmt(sl.Subselect, l, ctes); c != nil {
				c.link = sl
			}
			return false
		}
		return true
	})
}

// colRef is a resolved column reference.
type colRef struct {
	rel *rel
	col string
}

// resolveColumn resolves a column reference seen at level l. ok is false
// when it cannot be resolved with certainty (unknown columns in scope,
// ambiguity, a whole-row reference).
func resolveColumn(l *level, cr *pg.ColumnRef) (colRef, bool) {
	var names []string
	for _, f := range cr.Fields {
		s := f.GetString_()
		if s == nil {
			return colRef{}, false // A_Star
		}
		names = append(names, s.Sval)
	}
	for ; l != nil; l = l.parent {
		switch len(names) {
		case 1:
			var found *rel
			unknown := false
			for _, r := range l.rels {
				if r.cols == nil {
					unknown = true
					continue
				}
				for _, c := range r.cols {
					if c == names[0] {
						if found != nil {
							return colRef{}, false
						}
						found = r
					}
				}
			}
			if found != nil && !unknown {
				return colRef{found, names[0]}, true
			}
			if unknown {
				return colRef{}, false
			}
		case 2, 3:
			q := names[len(names)-2]
			for _, r := range l.rels {
				if r.name != q {
					continue
				}
				if len(names) == 3 && (r.rv == nil || r.rv.Alias != nil || r.rv.Schemaname != names[0]) {
					continue
				}
				return colRef{r, names[len(names)-1]}, true
			}
		default:
			return colRef{}, false
		}
	}
	return colRef{}, false
}

// distColumn reports whether c is the distribution column of a
// distributed relation.
func (c colRef) distColumn() bool {
	return c.rel != nil && c.rel.distributed() && c.col == c.rel.table.Column
}
