package citus

import (
	"context"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
)

// The shell and its shards must agree on the names of indexes and
// constraints (a shard's is the shell's with the shard suffix), so
// unnamed ones are named here, before either runs, the way PostgreSQL
// would name them on the shell (ChooseIndexName, ChooseConstraintName):
// <table>_<columns>_<label>, shortened to fit, with a number added while
// the name is taken.

// nameUnnamed gives names to the unnamed indexes and constraints a
// statement creates on main.
func (r *runner) nameUnnamed(ctx context.Context, main catalog.Table, n *pg.Node) error {
	var err error
	name := func(cols []string, label string) string {
		if err != nil {
			return ""
		}
		var s string
		s, err = r.chooseName(ctx, main.Relation, strings.Join(cols, "_"), label)
		return s
	}
	switch x := n.Node.(type) {
	case *pg.Node_IndexStmt:
		ix := x.IndexStmt
		if ix.Idxname == "" {
			var cols []string
			for _, p := range ix.IndexParams {
				e := p.GetIndexElem()
				switch {
				case e.GetIndexcolname() != "":
					cols = append(cols, e.Indexcolname)
				case e.GetName() != "":
					cols = append(cols, e.Name)
				default:
					cols = append(cols, "expr")
				}
			}
			ix.Idxname = name(cols, "idx")
		}
	case *pg.Node_AlterTableStmt:
		for _, c := range x.AlterTableStmt.Cmds {
			cmd := c.GetAlterTableCmd()
			switch cmd.Subtype {
			case pg.AlterTableType_AT_AddConstraint:
				nameConstraint(cmd.GetDef().GetConstraint(), nil, name)
			case pg.AlterTableType_AT_AddColumn:
				cd := cmd.GetDef().GetColumnDef()
				for _, cn := range cd.GetConstraints() {
					nameConstraint(cn.GetConstraint(), []string{cd.Colname}, name)
				}
			}
		}
	}
	return err
}

// nameConstraint names an unnamed constraint as PostgreSQL would; cols
// are the column's own name for a column constraint.
func nameConstraint(con *pg.Constraint, cols []string, name func([]string, string) string) {
	if con == nil || con.Conname != "" {
		return
	}
	strs := func(ns []*pg.Node) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.GetString_().GetSval())
		}
		return out
	}
	switch con.Contype {
	case pg.ConstrType_CONSTR_PRIMARY:
		con.Conname = name(nil, "pkey")
	case pg.ConstrType_CONSTR_UNIQUE:
		if len(cols) == 0 {
			cols = strs(con.Keys)
		}
		con.Conname = name(cols, "key")
	case pg.ConstrType_CONSTR_EXCLUSION:
		var ex []string
		for _, e := range con.Exclusions {
			if l := e.GetList(); l != nil && len(l.Items) > 0 {
				ex = append(ex, l.Items[0].GetIndexElem().GetName())
			}
		}
		con.Conname = name(ex, "excl")
	case pg.ConstrType_CONSTR_FOREIGN:
		if len(cols) == 0 {
			cols = strs(con.FkAttrs)
		}
		con.Conname = name(cols, "fkey")
	case pg.ConstrType_CONSTR_CHECK:
		if len(cols) == 0 {
			cols = checkColumn(con.RawExpr)
		}
		con.Conname = name(cols, "check")
	}
}

// checkColumn returns the first column a CHECK expression names, which
// PostgreSQL puts in the constraint's name.
func checkColumn(e *pg.Node) []string {
	var out []string
	for _, cr := range columnRefs(e) {
		if len(cr.Fields) > 0 {
			if s := cr.Fields[len(cr.Fields)-1].GetString_(); s != nil {
				return append(out, s.Sval)
			}
		}
	}
	return out
}

// columnRefs returns the column references of an expression, in order.
func columnRefs(e *pg.Node) []*pg.ColumnRef {
	var out []*pg.ColumnRef
	for _, n := range allNodes(e) {
		if cr := n.GetColumnRef(); cr != nil {
			out = append(out, cr)
		}
	}
	return out
}

// chooseName returns <table>_<addition>_<label> shortened to
// catalog.MaxNameLength bytes (the longer part first, as makeObjectName
// does), with 1, 2, ... after the label while a relation or a constraint
// of the table has that name.
func (r *runner) chooseName(ctx context.Context, table catalog.RelationName, addition, label string) (string, error) {
	for pass := 0; ; pass++ {
		l := label
		if pass > 0 {
			l += strconv.Itoa(pass)
		}
		name := makeObjectName(table.Name, addition, l)
		rows, err := r.env.Meta.Query(ctx, "SELECT EXISTS (SELECT FROM pg_class WHERE relname = "+quoteLiteral(name)+
			" AND relnamespace = "+quoteLiteral(table.Schema)+"::regnamespace) OR EXISTS (SELECT FROM pg_constraint WHERE conname = "+
			quoteLiteral(name)+" AND connamespace = "+quoteLiteral(table.Schema)+"::regnamespace)")
		if err != nil {
			return "", err
		}
		if len(rows.Values) == 1 && string(rows.Values[0][0]) == "f" {
			return name, nil
		}
	}
}

// makeObjectName is PostgreSQL's makeObjectName: name1_name2_label,
// truncating the longer of name1 and name2 until it fits.
func makeObjectName(name1, name2, label string) string {
	overhead := len(label) + 1
	if name2 != "" {
		overhead += 1
	}
	avail := catalog.MaxNameLength - overhead
	n1, n2 := len(name1), len(name2)
	for n1+n2 > avail {
		if n1 > n2 {
			n1--
		} else {
			n2--
		}
	}
	out := name1[:clip(name1, n1)]
	if name2 != "" {
		out += "_" + name2[:clip(name2, n2)]
	}
	return out + "_" + label
}

// clip moves n back to the start of a UTF-8 character of s.
func clip(s string, n int) int {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return n
}
