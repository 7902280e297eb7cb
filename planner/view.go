package planner

import (
	"github.com/jackc/pgerrcode"
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"

	"github.com/pgfed/pgfed/catalog"
)

// Views over distributed tables live in the metadata database, where
// PostgreSQL would expand them over the empty shell tables. The planner
// expands them itself, as PostgreSQL's rewriter does: a statement naming
// such a view (found by the cheap lexical test like a table name) is
// parsed, every reference to the view in a FROM list is replaced by its
// definition as a subquery (aliased with the view's name, or the
// reference's alias, and the view's column names), nested views are
// expanded the same way, and the statement's new text is planned as if
// the client had written it. Writing through such a view (INSERT, UPDATE,
// DELETE naming it as their target) is refused with 0A000, as is reading
// a security_barrier view, whose quals PostgreSQL keeps apart from the
// statement's.

// maxViewDepth bounds the nesting of views (PostgreSQL refuses cycles; a
// bound keeps a bad definition from looping).
const maxViewDepth = 32

// ViewDef is a view of the metadata database whose definition reads a
// distributed or reference table, directly or through other views.
type ViewDef struct {
	// Relation is the view's schema-qualified name.
	Relation catalog.RelationName
	// Columns are the view's column names, in order.
	Columns []string
	// Query is the view's defining query (pg_get_viewdef), read with an
	// empty search_path so that every relation in it is
	// schema-qualified.
	Query string
	// SecurityBarrier is set for a view with the security_barrier
	// option: it is refused, not expanded.
	SecurityBarrier bool
}

// view is a ViewDef with its parsed definition.
type view struct {
	def  ViewDef
	stmt *pg.Node // nil when the definition does not parse
	err  error
}

// WithViews returns a copy of the schema that also knows the views over
// distributed tables (see ViewDef). Definitions are parsed here, once.
func (s *Schema) WithViews(views []ViewDef) *Schema {
	if s == nil {
		s = NewSchema(nil, nil)
	}
	c := *s
	c.views = make(map[catalog.RelationName]*view, len(views))
	for _, d := range views {
		d.Columns = append([]string(nil), d.Columns...)
		v := &view{def: d}
		tree, err := pg.Parse(d.Query)
		switch {
		case err != nil:
			v.err = err
		case len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetSelectStmt() == nil:
			v.err = errorf(pgerrcode.InternalError, "definition is not one SELECT")
		default:
			v.stmt = tree.Stmts[0].Stmt
		}
		c.views[d.Relation] = v
	}
	return &c
}

// lookupView resolves a possibly unqualified relation name to a view over
// distributed tables through the search path: a table of that name
// earlier in the path hides the view, as in PostgreSQL.
func (p *Planner) lookupView(schema, name string) *view {
	if len(p.schema.views) == 0 {
		return nil
	}
	if schema != "" {
		return p.schema.views[catalog.RelationName{Schema: schema, Name: name}]
	}
	for _, sp := range p.schema.SearchPath() {
		rn := catalog.RelationName{Schema: sp, Name: name}
		if v, ok := p.schema.views[rn]; ok {
			return v
		}
		if _, ok := p.cat.Table(sp, name); ok {
			return nil
		}
		if _, ok := p.schema.Table(rn); ok {
			return nil
		}
	}
	return nil
}

// expandViews replaces the references to views over distributed tables
// in a parsed statement by their definitions; it reports whether it
// replaced any. Names shadowed by a WITH query are left alone.
func (p *Planner) expandViews(stmt *pg.Node) (bool, error) {
	if len(p.schema.views) == 0 {
		return false, nil
	}
	switch stmt.GetNode().(type) {
	case *pg.Node_SelectStmt, *pg.Node_InsertStmt, *pg.Node_UpdateStmt, *pg.Node_DeleteStmt, *pg.Node_MergeStmt,
		*pg.Node_ExplainStmt, *pg.Node_CreateTableAsStmt, *pg.Node_DeclareCursorStmt, *pg.Node_CopyStmt:
	default:
		// DDL naming a view (CREATE VIEW over it, GRANT, ALTER, DROP)
		// keeps the name.
		return false, nil
	}
	e := &expander{p: p}
	for _, target := range dmlTargets(stmt) {
		if v := e.viewOf(target, nil); v != nil {
			return false, unsupported("cannot write through the view %s: it reads distributed tables", v.def.Relation.Name)
		}
	}
	e.visit(stmt, nil, 0)
	if e.err != nil {
		return false, e.err
	}
	if e.n > 0 {
		e.requalify(stmt)
		e.flatten(stmt)
	}
	return e.n > 0, nil
}

// withViews returns the statement with its views over distributed tables
// expanded: stmt itself when it reads none, else the tree parsed again
// from its deparsed text, so that every location in it points into that
// text (router plans cut the text at them).
func (p *Planner) withViews(stmt *pg.Node) (*pg.Node, error) {
	if len(p.viewNames) == 0 {
		return stmt, nil
	}
	expanded, err := p.expandViews(stmt)
	if err != nil || !expanded {
		return stmt, err
	}
	text, err := deparse(stmt)
	if err != nil {
		return nil, err
	}
	tree, err := pg.Parse(text)
	if err != nil || len(tree.Stmts) != 1 {
		return nil, internalError("the statement with its views expanded does not parse: %v", err)
	}
	return tree.Stmts[0].Stmt, nil
}

// dmlTargets returns the target tables of a DML statement (none for
// others).
func dmlTargets(stmt *pg.Node) []*pg.RangeVar {
	switch s := stmt.GetNode().(type) {
	case *pg.Node_InsertStmt:
		return []*pg.RangeVar{s.InsertStmt.Relation}
	case *pg.Node_UpdateStmt:
		return []*pg.RangeVar{s.UpdateStmt.Relation}
	case *pg.Node_DeleteStmt:
		return []*pg.RangeVar{s.DeleteStmt.Relation}
	case *pg.Node_MergeStmt:
		return []*pg.RangeVar{s.MergeStmt.Relation}
	}
	return nil
}

// expander rewrites one statement.
type expander struct {
	p   *Planner
	n   int // views expanded
	err error
	// bare holds the views expanded under their own name (no alias), so
	// that schema-qualified column references to them can be rewritten.
	bare []catalog.RelationName
	// made holds the subqueries that are expanded views (viewflatten.go
	// merges the simple ones into the query reading them).
	made map[*pg.RangeSubselect]bool
}

// viewOf returns the view a range variable names, nil when it names
// none or a WITH query in scope shadows it.
func (e *expander) viewOf(rv *pg.RangeVar, ctes map[string]bool) *view {
	if rv == nil || (rv.Schemaname == "" && ctes[rv.Relname]) || rv.Catalogname != "" {
		return nil
	}
	return e.p.lookupView(rv.Schemaname, rv.Relname)
}

// visit walks a tree with the WITH names in scope, expanding the views
// found as FROM items.
func (e *expander) visit(m proto.Message, ctes map[string]bool, depth int) {
	walk(m, func(x proto.Message) bool {
		if e.err != nil {
			return false
		}
		switch n := x.(type) {
		case *pg.LockingClause:
			return false // FOR UPDATE OF names FROM items, not relations
		case *pg.Node:
			if rv := n.GetRangeVar(); rv != nil {
				if v := e.viewOf(rv, ctes); v != nil {
					e.expand(n, rv, v, depth)
				}
				return false
			}
		case *pg.SelectStmt:
			return e.visitWith(n, &n.WithClause, ctes, depth)
		case *pg.InsertStmt:
			return e.visitWith(n, &n.WithClause, ctes, depth)
		case *pg.UpdateStmt:
			return e.visitWith(n, &n.WithClause, ctes, depth)
		case *pg.DeleteStmt:
			return e.visitWith(n, &n.WithClause, ctes, depth)
		}
		return true
	})
}

// visitWith visits a statement with a WITH clause (*w non-nil): the
// clause's queries with the names in scope at their place, then the rest
// of the statement with the names the clause adds; it returns false (the
// walk must not descend into the statement again), or true when there is
// no WITH clause.
func (e *expander) visitWith(stmt proto.Message, w **pg.WithClause, ctes map[string]bool, depth int) bool {
	if *w == nil {
		return true
	}
	clause := *w
	*w = nil
	e.visit(stmt, e.with(clause, ctes, depth), depth)
	*w = clause
	return false
}

// with visits the queries of a WITH clause, each with the names in scope
// at its place, and returns the names in scope after it.
func (e *expander) with(w *pg.WithClause, ctes map[string]bool, depth int) map[string]bool {
	scope := make(map[string]bool, len(ctes)+len(w.Ctes))
	for k := range ctes {
		scope[k] = true
	}
	if w.Recursive {
		for _, c := range w.Ctes {
			if cte := c.GetCommonTableExpr(); cte != nil {
				scope[cte.Ctename] = true
			}
		}
	}
	for _, c := range w.Ctes {
		cte := c.GetCommonTableExpr()
		if cte == nil {
			continue
		}
		e.visit(cte.Ctequery, scope, depth)
		// Later queries see this one: copy, since the earlier ones'
		// scope must not change under them (maps are shared).
		next := make(map[string]bool, len(scope)+1)
		for k := range scope {
			next[k] = true
		}
		next[cte.Ctename] = true
		scope = next
	}
	return scope
}

// expand replaces the FROM item n (naming view v) by v's definition.
func (e *expander) expand(n *pg.Node, rv *pg.RangeVar, v *view, depth int) {
	name := v.def.Relation.Name
	switch {
	case depth >= maxViewDepth:
		e.err = unsupported("views nested deeper than %d levels (at %s) are not supported", maxViewDepth, name)
		return
	case v.def.SecurityBarrier:
		e.err = unsupported("the security_barrier view %s reads distributed tables; pgfed cannot keep its quals apart", name)
		return
	case v.stmt == nil:
		e.err = errorf(pgerrcode.InternalError, "cannot expand the view %s over distributed tables: %v", name, v.err)
		return
	}
	body := proto.Clone(v.stmt).(*pg.Node)
	// The definition's own names resolve from scratch: it is
	// schema-qualified and sees no WITH query of the statement.
	e.visit(body, nil, depth+1)
	if e.err != nil {
		return
	}
	alias := &pg.Alias{Aliasname: name}
	if rv.Alias != nil {
		alias = proto.Clone(rv.Alias).(*pg.Alias)
	} else {
		e.bare = append(e.bare, v.def.Relation)
	}
	if len(alias.Colnames) == 0 {
		for _, c := range v.def.Columns {
			alias.Colnames = append(alias.Colnames, strNode(c))
		}
	}
	sub := &pg.RangeSubselect{Subquery: body, Alias: alias}
	n.Node = &pg.Node_RangeSubselect{RangeSubselect: sub}
	if e.made == nil {
		e.made = map[*pg.RangeSubselect]bool{}
	}
	e.made[sub] = true
	e.n++
}

// requalify rewrites column references qualified by schema and view name
// (public.v.col) to the subquery's alias (v.col): a subquery in FROM has
// no schema.
func (e *expander) requalify(stmt *pg.Node) {
	if len(e.bare) == 0 {
		return
	}
	walk(stmt, func(x proto.Message) bool {
		cr, ok := x.(*pg.ColumnRef)
		if !ok || len(cr.Fields) < 3 {
			return true
		}
		s, t := cr.Fields[len(cr.Fields)-3].GetString_(), cr.Fields[len(cr.Fields)-2].GetString_()
		if s == nil || t == nil {
			return true
		}
		for _, r := range e.bare {
			if r.Schema == s.Sval && r.Name == t.Sval {
				cr.Fields = cr.Fields[len(cr.Fields)-2:]
				break
			}
		}
		return true
	})
}

// viewNames returns the unqualified names of the schema's views, for the
// cheap lexical test.
func (s *Schema) viewNames() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.views))
	for r := range s.views {
		out = append(out, r.Name)
	}
	return out
}

// planView plans CREATE [OR REPLACE] VIEW over distributed tables: the
// view is created on the metadata database (a local plan), over the
// shells, and expanded by the planner wherever a statement reads it. A
// security_barrier view is refused: its quals must not mix with the
// statement's, which expansion cannot promise. WITH CHECK OPTION is
// accepted: writing through the view is refused anyway.
func (p *Planner) planView(sql string, v *pg.ViewStmt) (*Plan, error) {
	for _, o := range v.Options {
		d := o.GetDefElem()
		if d == nil || d.Defname != "security_barrier" {
			continue
		}
		on := true
		if d.Arg != nil {
			switch a := d.Arg.GetNode().(type) {
			case *pg.Node_String_:
				on = a.String_.Sval != "false" && a.String_.Sval != "off" && a.String_.Sval != "0"
			case *pg.Node_Boolean:
				on = a.Boolean.Boolval
			case *pg.Node_Integer:
				on = a.Integer.Ival != 0
			}
		}
		if on {
			return nil, unsupported("a security_barrier view cannot read distributed tables")
		}
	}
	pl := p.local(sql, "a view over distributed tables: created on the metadata database, expanded where it is read")
	if v.View != nil {
		pl.CreatedView = v.View.Relname
	}
	return pl, nil
}
