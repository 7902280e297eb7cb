package citus

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgerrcode"
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// param is one parameter of a function, as Citus declares it.
type param struct {
	name string
	// typ is the SQL type the argument is cast to; "any" keeps the
	// argument's own type (Citus's "any"), reported in arg.typ.
	typ string
	// def is the default as SQL text; "" means the argument is required.
	def string
}

// column is one output column of a set-returning function.
type column struct {
	name, typ string
}

// arg is an evaluated argument: its text value (nil for NULL) and, for
// "any" parameters, its type's OID.
type arg struct {
	val *string
	typ uint32
}

// str returns the argument's text ("" for NULL).
func (a arg) str() string {
	if a.val == nil {
		return ""
	}
	return *a.val
}

// null reports whether the argument is NULL.
func (a arg) null() bool { return a.val == nil }

// funcSpec is one function of the API.
type funcSpec struct {
	name   string
	params []param
	// returns is the SQL result type of a scalar function ("void", ...).
	returns string
	// columns are the result columns of a set-returning function (nil for
	// a scalar one).
	columns []column
	// strict functions return NULL, without running, when an argument
	// that has no default is NULL.
	strict bool
	// superuser functions refuse clients that are not superusers.
	superuser bool
	// run computes the result: one row of one value for a scalar
	// function.
	run func(ctx context.Context, r *runner, args []arg) ([][]*string, error)
}

// funcs is the API, by name.
var funcs = map[string]*funcSpec{}

// register adds functions to funcs (called from init in each file that
// defines some).
func register(specs ...*funcSpec) {
	for _, s := range specs {
		funcs[s.name] = s
	}
}

// lookupFunc returns the spec of a call to one of our functions
// (unqualified, or qualified with pg_catalog or public).
func lookupFunc(fc *pg.FuncCall) (*funcSpec, bool) {
	if fc == nil {
		return nil, false
	}
	schema, name := funcName(fc)
	if schema != "" && schema != "pg_catalog" && schema != "public" {
		return nil, false
	}
	s, ok := funcs[name]
	return s, ok
}

// one returns a one-value result.
func one(v string) [][]*string { return [][]*string{{&v}} }

// void is the result of a function returning void.
func void() [][]*string { return one("") }

// bindArgs matches a call's arguments (positional, then named) to the
// function's parameters, filling in defaults, and returns one expression
// per parameter.
func bindArgs(s *funcSpec, fc *pg.FuncCall) ([]*pg.Node, error) {
	if fc.AggStar || fc.AggDistinct || len(fc.AggOrder) > 0 || fc.AggFilter != nil || fc.Over != nil || fc.FuncVariadic {
		return nil, errorf(pgerrcode.WrongObjectType, "%s is not an aggregate or window function", s.name)
	}
	out := make([]*pg.Node, len(s.params))
	named := false
	for i, a := range fc.Args {
		if na := a.GetNamedArgExpr(); na != nil {
			named = true
			k := -1
			for j, p := range s.params {
				if p.name == na.Name {
					k = j
				}
			}
			if k < 0 || out[k] != nil {
				return nil, noSuchFunction(s, fc)
			}
			out[k] = na.Arg
			continue
		}
		if named || i >= len(s.params) {
			return nil, noSuchFunction(s, fc)
		}
		out[i] = a
	}
	for i, p := range s.params {
		if out[i] != nil {
			continue
		}
		if p.def == "" {
			return nil, noSuchFunction(s, fc)
		}
		n, err := parseExpr(p.def)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// noSuchFunction is PostgreSQL's error for a call that matches no
// signature.
func noSuchFunction(s *funcSpec, fc *pg.FuncCall) error {
	types := make([]string, len(s.params))
	for i, p := range s.params {
		types[i] = p.name + " " + p.typ
		if p.def != "" {
			types[i] += " DEFAULT " + p.def
		}
	}
	return errorf(pgerrcode.UndefinedFunction, "function %s with %d arguments does not exist", s.name, len(fc.Args)).
		withHint("The function is %s(%s).", s.name, strings.Join(types, ", "))
}

// parseExpr parses one SQL expression.
func parseExpr(sql string) (*pg.Node, error) {
	tree, err := pg.Parse("SELECT " + sql)
	if err != nil {
		return nil, errorf(pgerrcode.SyntaxError, "%v", err)
	}
	return tree.Stmts[0].Stmt.GetSelectStmt().TargetList[0].GetResTarget().Val, nil
}

// evalArgs evaluates argument expressions on the metadata connection, in
// one query: each cast to its parameter's type, "any" ones with their
// type.
func (r *runner) evalArgs(ctx context.Context, s *funcSpec, exprs []*pg.Node) ([]arg, error) {
	if len(exprs) == 0 {
		return nil, nil
	}
	var targets []*pg.Node
	for i, p := range s.params {
		e := exprs[i]
		switch p.typ {
		case "any":
			targets = append(targets,
				resTarget(castTo(pg.MakeFuncCallNode([]*pg.Node{pg.MakeStrNode("pg_typeof")}, []*pg.Node{e}, -1), "oid", "text")),
				resTarget(castTo(e, "text")))
		case "regclass":
			targets = append(targets, resTarget(castTo(e, "regclass", "oid", "text")))
		default:
			targets = append(targets, resTarget(castTo(e, p.typ, "text")))
		}
	}
	sel := &pg.SelectStmt{TargetList: targets, LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT, Op: pg.SetOperation_SETOP_NONE}
	sql, err := deparse(&pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sel}})
	if err != nil {
		return nil, err
	}
	rows, err := r.env.Meta.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	if len(rows.Values) != 1 {
		return nil, errorf(pgerrcode.InternalError, "evaluating the arguments of %s returned %d rows", s.name, len(rows.Values))
	}
	vals := rows.Values[0]
	out := make([]arg, len(s.params))
	k := 0
	for i, p := range s.params {
		if p.typ == "any" {
			t, _ := strconv.ParseUint(string(vals[k]), 10, 32)
			out[i].typ = uint32(t)
			k++
		}
		if vals[k] != nil {
			v := string(vals[k])
			out[i].val = &v
		}
		k++
	}
	return out, nil
}

// castTo wraps e in casts to each type in turn ("text[]" is an array of
// text).
func castTo(e *pg.Node, types ...string) *pg.Node {
	for _, t := range types {
		base, array := strings.CutSuffix(t, "[]")
		tn := &pg.TypeName{Names: []*pg.Node{pg.MakeStrNode(base)}, Typemod: -1, Location: -1}
		if array {
			tn.ArrayBounds = []*pg.Node{pg.MakeIntNode(-1)}
		}
		e = &pg.Node{Node: &pg.Node_TypeCast{TypeCast: &pg.TypeCast{Arg: e, TypeName: tn, Location: -1}}}
	}
	return e
}

// resTarget is a select-list entry.
func resTarget(e *pg.Node) *pg.Node { return pg.MakeResTargetNodeWithVal(e, -1) }

// literal is 'v'::typ, or NULL::typ.
func literal(v *string, typ string) *pg.Node {
	if v == nil {
		return castTo(&pg.Node{Node: &pg.Node_AConst{AConst: &pg.A_Const{Isnull: true, Location: -1}}}, typ)
	}
	return castTo(pg.MakeAConstStrNode(*v, -1), typ)
}

// call evaluates one call of our functions.
func (r *runner) call(ctx context.Context, s *funcSpec, fc *pg.FuncCall) ([][]*string, error) {
	exprs, err := bindArgs(s, fc)
	if err != nil {
		return nil, err
	}
	args, err := r.evalArgs(ctx, s, exprs)
	if err != nil {
		return nil, err
	}
	if s.strict {
		for i, p := range s.params {
			if p.def == "" && args[i].null() {
				if s.columns != nil {
					return nil, nil
				}
				return [][]*string{{nil}}, nil
			}
		}
	}
	if s.superuser {
		if err := r.checkSuperuser(ctx, s.name); err != nil {
			return nil, err
		}
	}
	r.log.Debug("function", "name", s.name)
	return s.run(ctx, r, args)
}

// rewriteCalls evaluates every call of our functions in a query, in the
// order they appear, and replaces it with its result: a literal of the
// return type (the column keeps the function's name), a VALUES list
// for a set-returning function in FROM, or unnest of an array of records
// for one in the select list.
func (r *runner) rewriteCalls(ctx context.Context, stmt *pg.Node) error {
	var err error
	walk(stmt, func(m protoreflect.Message) bool {
		if err != nil {
			return false
		}
		switch n := m.Interface().(type) {
		case *pg.ResTarget:
			// Name the column after the function, as PostgreSQL does.
			if fc := n.Val.GetFuncCall(); fc != nil && n.Name == "" {
				if s, ok := lookupFunc(fc); ok {
					n.Name = s.name
				}
			}
		case *pg.Node:
			if rf := n.GetRangeFunction(); rf != nil && len(rf.Functions) == 1 && !rf.Ordinality && !rf.IsRowsfrom {
				var fc *pg.FuncCall
				if items := rf.Functions[0].GetList().GetItems(); len(items) > 0 {
					fc = items[0].GetFuncCall()
				}
				if s, ok := lookupFunc(fc); ok {
					var sub *pg.RangeSubselect
					sub, err = r.rewriteFrom(ctx, rf, s, fc)
					if err == nil {
						n.Node = &pg.Node_RangeSubselect{RangeSubselect: sub}
					}
					return false
				}
			}
			fc := n.GetFuncCall()
			if fc == nil {
				return true
			}
			s, ok := lookupFunc(fc)
			if !ok {
				return true
			}
			var rows [][]*string
			rows, err = r.call(ctx, s, fc)
			if err != nil {
				return false
			}
			if s.columns != nil {
				n.Node = srfInSelect(s, rows).Node
				return false
			}
			n.Node = literal(rows[0][0], s.returns).Node
			return false
		}
		return true
	})
	return err
}

// rewriteFrom evaluates a set-returning function in FROM and returns
// the subquery of its rows that replaces it, under the call's alias (or
// the function's name).
func (r *runner) rewriteFrom(ctx context.Context, rf *pg.RangeFunction, s *funcSpec, fc *pg.FuncCall) (*pg.RangeSubselect, error) {
	if s.columns == nil {
		return nil, notSupported("%s does not return a set; call it in the select list", s.name)
	}
	if len(rf.Coldeflist) > 0 {
		return nil, errorf(pgerrcode.SyntaxError, "a column definition list is only allowed for functions returning \"record\"")
	}
	rows, err := r.call(ctx, s, fc)
	if err != nil {
		return nil, err
	}
	sub, err := valuesQuery(s, rows)
	if err != nil {
		return nil, err
	}
	alias := rf.Alias
	if alias == nil {
		alias = &pg.Alias{Aliasname: s.name}
	}
	return &pg.RangeSubselect{Lateral: rf.Lateral, Subquery: sub, Alias: alias}, nil
}

// valuesQuery is SELECT * FROM (VALUES ...) AS v(columns), with every
// value cast to its column's type; for no rows a SELECT of typed NULLs
// WHERE false.
func valuesQuery(s *funcSpec, rows [][]*string) (*pg.Node, error) {
	var b strings.Builder
	names := make([]string, len(s.columns))
	for i, c := range s.columns {
		names[i] = quoteIdent(c.name)
	}
	if len(rows) == 0 {
		b.WriteString("SELECT ")
		for i, c := range s.columns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("NULL::" + c.typ + " AS " + names[i])
		}
		b.WriteString(" WHERE false")
	} else {
		b.WriteString("SELECT * FROM (VALUES ")
		for i, row := range rows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for j, c := range s.columns {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(sqlLiteral(row[j]) + "::" + c.typ)
			}
			b.WriteString(")")
		}
		b.WriteString(") AS v(" + strings.Join(names, ", ") + ")")
	}
	tree, err := pg.Parse(b.String())
	if err != nil {
		return nil, errorf(pgerrcode.InternalError, "build the rows of %s: %v", s.name, err)
	}
	return tree.Stmts[0].Stmt, nil
}

// srfInSelect is what a set-returning function in the select list
// becomes: unnest(ARRAY[ROW(...), ...]::record[]) (a set of records, as
// PostgreSQL returns for such a call).
func srfInSelect(s *funcSpec, rows [][]*string) *pg.Node {
	var b strings.Builder
	b.WriteString("unnest(")
	if len(rows) == 0 {
		b.WriteString("NULL::record[]")
	} else {
		b.WriteString("ARRAY[")
		for i, row := range rows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("ROW(")
			for j, c := range s.columns {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(sqlLiteral(row[j]) + "::" + c.typ)
			}
			b.WriteString(")")
		}
		b.WriteString("]")
	}
	b.WriteString(")")
	n, err := parseExpr(b.String())
	if err != nil {
		return literal(nil, "text")
	}
	return n
}

// sqlLiteral quotes a value as a SQL string literal, or NULL.
func sqlLiteral(v *string) string {
	if v == nil {
		return "NULL"
	}
	return quoteLiteral(*v)
}

// quoteLiteral quotes s as a SQL string literal (standard_conforming_strings).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteIdent quotes s as an identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// deparse turns a statement back into SQL.
func deparse(stmt *pg.Node) (string, error) {
	sql, err := pg.Deparse(&pg.ParseResult{Stmts: []*pg.RawStmt{{Stmt: stmt}}})
	if err != nil {
		return "", errorf(pgerrcode.InternalError, "deparse: %v", err)
	}
	return sql, nil
}
