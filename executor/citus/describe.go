package citus

import (
	"context"

	"github.com/jackc/pgerrcode"
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Describe returns the text that PostgreSQL can prepare in place of a
// query Match accepted, to describe it under the extended protocol
// (Parse, Describe) without running it: its parameters get the types they
// have in the query and its result has the columns Run sends. Each call
// of our functions becomes a NULL of its result type computed over its
// arguments cast to their parameters' types (so that $n in them are typed
// as in the call); a set-returning one in FROM becomes a subquery of no
// rows with its columns; our views are read in the pgfed schema (the
// views are created first if needed). Nothing is evaluated. It does not
// change stmt.
func Describe(ctx context.Context, env *Env, stmt *pg.RawStmt) (string, error) {
	n := proto.Clone(stmt.Stmt).(*pg.Node)
	if kind(n) != kindQuery {
		return "", errorf(pgerrcode.InternalError, "citus: only queries are described")
	}
	if readsViews(n) {
		r := &runner{env: env, log: env.logger()}
		if err := r.ensureViews(ctx); err != nil {
			return "", err
		}
	}
	var err error
	walk(n, func(m protoreflect.Message) bool {
		if err != nil {
			return false
		}
		switch x := m.Interface().(type) {
		case *pg.ResTarget:
			if fc := x.Val.GetFuncCall(); fc != nil && x.Name == "" {
				if s, ok := lookupFunc(fc); ok {
					x.Name = s.name
				}
			}
		case *pg.Node:
			if rv := x.GetRangeVar(); rv != nil {
				var sub *pg.RangeSubselect
				if sub, err = describeView(rv); err == nil && sub != nil {
					x.Node = &pg.Node_RangeSubselect{RangeSubselect: sub}
				}
				return false
			}
			if rf := x.GetRangeFunction(); rf != nil && len(rf.Functions) == 1 && !rf.Ordinality && !rf.IsRowsfrom {
				var fc *pg.FuncCall
				if items := rf.Functions[0].GetList().GetItems(); len(items) > 0 {
					fc = items[0].GetFuncCall()
				}
				if s, ok := lookupFunc(fc); ok {
					var sub *pg.RangeSubselect
					if sub, err = describeFrom(rf, s, fc); err == nil {
						x.Node = &pg.Node_RangeSubselect{RangeSubselect: sub}
					}
					return false
				}
			}
			s, ok := lookupFunc(x.GetFuncCall())
			if !ok {
				return true
			}
			if s.columns != nil {
				x.Node = srfInSelect(s, nil).Node
				return false
			}
			var args *pg.Node
			if args, err = argsSubquery(s, x.GetFuncCall()); err != nil {
				return false
			}
			x.Node = scalarOver(literal(nil, s.returns), args).Node
			return false
		}
		return true
	})
	if err != nil {
		return "", err
	}
	return deparse(n)
}

// describeView points a reference to one of our views at the pgfed
// schema, or returns the subquery that stands for citus_shards or
// citus_tables (as rewriteViews, without the sizes).
func describeView(rv *pg.RangeVar) (*pg.RangeSubselect, error) {
	v := viewFor(rv)
	switch v {
	case "":
		return nil, nil
	case "citus_shards", "citus_tables":
		sub, err := sizedView(v, nil)
		if err != nil {
			return nil, err
		}
		alias := rv.Alias
		if alias == nil {
			alias = &pg.Alias{Aliasname: v}
		}
		return &pg.RangeSubselect{Subquery: sub, Alias: alias}, nil
	}
	rv.Schemaname = "pgfed"
	return nil, nil
}

// argsSubquery is the range (SELECT e1::t1, ...) AS pgfed_args of a call's
// arguments cast to their parameters' types ("any" ones as they are); nil
// for a call without arguments.
func argsSubquery(s *funcSpec, fc *pg.FuncCall) (*pg.Node, error) {
	exprs, err := bindArgs(s, fc)
	if err != nil || len(exprs) == 0 {
		return nil, err
	}
	var targets []*pg.Node
	for i, p := range s.params {
		e := exprs[i]
		if p.typ != "any" {
			e = castTo(e, p.typ)
		}
		targets = append(targets, resTarget(e))
	}
	return &pg.Node{Node: &pg.Node_RangeSubselect{RangeSubselect: &pg.RangeSubselect{
		Subquery: selectOf(targets, nil, nil), Alias: &pg.Alias{Aliasname: "pgfed_args"}}}}, nil
}

// selectOf is SELECT targets FROM from WHERE where.
func selectOf(targets []*pg.Node, from *pg.Node, where *pg.Node) *pg.Node {
	sel := &pg.SelectStmt{TargetList: targets, WhereClause: where,
		LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT, Op: pg.SetOperation_SETOP_NONE}
	if from != nil {
		sel.FromClause = []*pg.Node{from}
	}
	return &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sel}}
}

// scalarOver is (SELECT value FROM args), or value when args is nil.
func scalarOver(value, args *pg.Node) *pg.Node {
	if args == nil {
		return value
	}
	return &pg.Node{Node: &pg.Node_SubLink{SubLink: &pg.SubLink{SubLinkType: pg.SubLinkType_EXPR_SUBLINK,
		Subselect: selectOf([]*pg.Node{resTarget(value)}, args, nil), Location: -1}}}
}

// describeFrom is what a set-returning function in FROM becomes: a
// subquery of no rows with the function's columns, under the call's
// alias (or the function's name).
func describeFrom(rf *pg.RangeFunction, s *funcSpec, fc *pg.FuncCall) (*pg.RangeSubselect, error) {
	if s.columns == nil {
		return nil, notSupported("%s does not return a set; call it in the select list", s.name)
	}
	args, err := argsSubquery(s, fc)
	if err != nil {
		return nil, err
	}
	targets := make([]*pg.Node, len(s.columns))
	for i, c := range s.columns {
		targets[i] = pg.MakeResTargetNodeWithNameAndVal(c.name, literal(nil, c.typ), -1)
	}
	no, err := parseExpr("false")
	if err != nil {
		return nil, err
	}
	alias := rf.Alias
	if alias == nil {
		alias = &pg.Alias{Aliasname: s.name}
	}
	return &pg.RangeSubselect{Lateral: rf.Lateral, Subquery: selectOf(targets, args, no), Alias: alias}, nil
}

// parseTypeName parses a type name as format_type spells it ("integer",
// "character varying(10)", "public.mood").
func parseTypeName(typ string) (*pg.TypeName, error) {
	e, err := parseExpr("NULL::" + typ)
	if err != nil {
		return nil, err
	}
	tc := e.GetTypeCast()
	if tc == nil {
		return nil, errorf(pgerrcode.InternalError, "not a type name: %s", typ)
	}
	return tc.TypeName, nil
}

// BindParams returns a copy of a statement with each parameter $n
// replaced by the literal values[n-1] (nil for NULL) cast to types[n-1]
// (a type name as format_type spells it; "" leaves the literal untyped, as a simple Query would
// have it), for Run. A parameter without a value is an error (08P01).
func BindParams(stmt *pg.RawStmt, values []*string, types []string) (*pg.RawStmt, error) {
	out := proto.Clone(stmt).(*pg.RawStmt)
	var err error
	walk(out, func(m protoreflect.Message) bool {
		if err != nil {
			return false
		}
		x, ok := m.Interface().(*pg.Node)
		if !ok {
			return true
		}
		p := x.GetParamRef()
		if p == nil {
			return true
		}
		i := int(p.Number) - 1
		if i < 0 || i >= len(values) {
			err = errorf(pgerrcode.ProtocolViolation, "there is no parameter $%d", p.Number)
			return false
		}
		var typ string
		if i < len(types) {
			typ = types[i]
		}
		switch {
		case typ != "":
			var tn *pg.TypeName
			if tn, err = parseTypeName(typ); err != nil {
				return false
			}
			var v *pg.Node
			if values[i] == nil {
				v = &pg.Node{Node: &pg.Node_AConst{AConst: &pg.A_Const{Isnull: true, Location: -1}}}
			} else {
				v = pg.MakeAConstStrNode(*values[i], -1)
			}
			x.Node = &pg.Node_TypeCast{TypeCast: &pg.TypeCast{Arg: v, TypeName: tn, Location: -1}}
		case values[i] == nil:
			x.Node = &pg.Node_AConst{AConst: &pg.A_Const{Isnull: true, Location: -1}}
		default:
			x.Node = pg.MakeAConstStrNode(*values[i], -1).Node
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
