package gateway

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The allow-list (Policy) is checked on the relations a statement names:
// every RangeVar of its parse tree, and the names of DROP TABLE, VIEW,
// MATERIALIZED VIEW, SEQUENCE and FOREIGN TABLE. A name passes when
//
//   - it is in the list, once a trailing _<digits> is stripped (the
//     shard "accounts_102008" is the table "accounts"), in any schema;
//   - it names a common table expression in scope (never for the target
//     of INSERT, UPDATE, DELETE or MERGE, which is always a table);
//   - the statement only reads (SELECT without INTO, EXPLAIN or DECLARE of
//     one) and the name is in pg_catalog or information_schema, or is
//     unqualified and starts with "pg_" (the catalogs drivers read).
//
// What it does not see: relations named only inside strings (functions
// taking SQL text are denied, those taking a regclass are not: e.g.
// pg_relation_size('t')), the objects of COMMENT ON and SECURITY LABEL,
// DROP INDEX, and what existing functions or views on the worker read.

// tables checks the relations n names against the allow-list.
func (p Policy) tables(n *pg.Node) *Refusal {
	if p.allowed == nil {
		return nil
	}
	c := tableCheck{p: p, read: reads(n)}
	if d, ok := n.Node.(*pg.Node_DropStmt); ok {
		c.drop(d.DropStmt)
	}
	c.visit(n.ProtoReflect(), nil, false)
	return c.err
}

// reads reports whether a top-level statement only reads.
func reads(n *pg.Node) bool {
	switch s := n.Node.(type) {
	case *pg.Node_SelectStmt:
		return s.SelectStmt.IntoClause == nil
	case *pg.Node_ExplainStmt:
		return s.ExplainStmt.Query != nil && reads(s.ExplainStmt.Query)
	case *pg.Node_DeclareCursorStmt:
		return s.DeclareCursorStmt.Query != nil && reads(s.DeclareCursorStmt.Query)
	}
	return false
}

type tableCheck struct {
	p    Policy
	read bool
	err  *Refusal
}

// visit walks a message with the common table expressions in scope;
// target is set for the relation field of INSERT, UPDATE, DELETE, MERGE.
func (c *tableCheck) visit(r protoreflect.Message, ctes map[string]bool, target bool) {
	if c.err != nil || !r.IsValid() {
		return
	}
	if rv, ok := r.Interface().(*pg.RangeVar); ok {
		c.rangeVar(rv, ctes, target)
		return
	}
	dml := false
	switch r.Interface().(type) {
	case *pg.InsertStmt, *pg.UpdateStmt, *pg.DeleteStmt, *pg.MergeStmt:
		dml = true
	}
	fields := r.Descriptor().Fields()
	scope := ctes
	if wf := fields.ByName("with_clause"); wf != nil && wf.Kind() == protoreflect.MessageKind && r.Has(wf) {
		if w, ok := r.Get(wf).Message().Interface().(*pg.WithClause); ok {
			scope = c.with(w, ctes)
		}
	}
	r.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind || fd.Name() == "with_clause" {
			return true
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				c.visit(l.Get(i).Message(), scope, false)
			}
		case fd.IsMap():
		case dml && fd.Name() == "relation":
			c.visit(v.Message(), nil, true)
		default:
			c.visit(v.Message(), scope, false)
		}
		return true
	})
}

// with checks the bodies of a WITH clause's expressions, each seeing the
// ones before it (all of them under RECURSIVE), and returns the scope of
// the statement's body: outer ones plus all of them.
func (c *tableCheck) with(w *pg.WithClause, outer map[string]bool) map[string]bool {
	scope := make(map[string]bool, len(outer)+len(w.Ctes))
	for k := range outer {
		scope[k] = true
	}
	all := make(map[string]bool, len(scope)+len(w.Ctes))
	for k := range scope {
		all[k] = true
	}
	for _, n := range w.Ctes {
		if cte := n.GetCommonTableExpr(); cte != nil {
			all[cte.Ctename] = true
		}
	}
	for _, n := range w.Ctes {
		cte := n.GetCommonTableExpr()
		if cte == nil {
			continue
		}
		in := scope
		if w.Recursive {
			in = all
		}
		if cte.Ctequery != nil {
			c.visit(cte.Ctequery.ProtoReflect(), in, false)
		}
		scope = copyWith(scope, cte.Ctename)
	}
	return all
}

func copyWith(m map[string]bool, k string) map[string]bool {
	out := make(map[string]bool, len(m)+1)
	for x := range m {
		out[x] = true
	}
	out[k] = true
	return out
}

func (c *tableCheck) rangeVar(rv *pg.RangeVar, ctes map[string]bool, target bool) {
	name, schema := rv.Relname, rv.Schemaname
	switch {
	case schema == "" && !target && ctes[name]:
	case c.read && !target && (schema == "pg_catalog" || schema == "information_schema"):
	case c.read && !target && schema == "" && strings.HasPrefix(name, "pg_"):
	default:
		c.name(schema, name)
	}
}

// drop checks the names DROP TABLE and its kin give as strings.
func (c *tableCheck) drop(d *pg.DropStmt) {
	switch d.RemoveType {
	case pg.ObjectType_OBJECT_TABLE, pg.ObjectType_OBJECT_VIEW, pg.ObjectType_OBJECT_MATVIEW,
		pg.ObjectType_OBJECT_SEQUENCE, pg.ObjectType_OBJECT_FOREIGN_TABLE:
	default:
		return
	}
	for _, o := range d.Objects {
		items := o.GetList().GetItems()
		if len(items) == 0 {
			continue
		}
		schema := ""
		if len(items) > 1 {
			schema = items[len(items)-2].GetString_().GetSval()
		}
		c.name(schema, items[len(items)-1].GetString_().GetSval())
	}
}

func (c *tableCheck) name(schema, name string) {
	if c.err != nil || c.p.allowed[baseTable(name)] {
		return
	}
	q := name
	if schema != "" {
		q = schema + "." + name
	}
	c.err = refused("table %s is not among the tables this organization lets coordinators use", q)
}

// baseTable strips a shard's trailing _<digits>: "accounts_102008" ->
// "accounts".
func baseTable(name string) string {
	i := strings.LastIndexByte(name, '_')
	if i <= 0 || i == len(name)-1 {
		return name
	}
	for _, r := range name[i+1:] {
		if r < '0' || r > '9' {
			return name
		}
	}
	return name[:i]
}
