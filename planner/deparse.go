package planner

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"
)

// The node constructors below build the parse trees of fragments and
// combine queries, which are deparsed to text.

// strNode is a String node.
func strNode(s string) *pg.Node { return pg.MakeStrNode(s) }

// colNode is a column reference by (possibly qualified) name.
func colNode(names ...string) *pg.Node {
	f := make([]*pg.Node, len(names))
	for i, n := range names {
		f[i] = strNode(n)
	}
	return pg.MakeColumnRefNode(f, -1)
}

// target is a select-list entry.
func target(name string, val *pg.Node) *pg.Node {
	return &pg.Node{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Name: name, Val: val, Location: -1}}}
}

// call is a function call.
func call(name string, args ...*pg.Node) *pg.Node {
	return pg.MakeFuncCallNode([]*pg.Node{strNode(name)}, args, -1)
}

// cast is arg::typ.
func cast(arg *pg.Node, typ string) *pg.Node {
	return &pg.Node{Node: &pg.Node_TypeCast{TypeCast: &pg.TypeCast{Arg: arg,
		TypeName: &pg.TypeName{Names: []*pg.Node{strNode("pg_catalog"), strNode(typ)}, Typemod: -1, Location: -1}, Location: -1}}}
}

// intConst is an integer constant.
func intConst(v int64) *pg.Node { return pg.MakeAConstIntNode(v, -1) }

// binOp is l op r.
func binOp(op string, l, r *pg.Node) *pg.Node {
	return pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_OP, []*pg.Node{strNode(op)}, l, r, -1)
}

// andNode is the conjunction of args.
func andNode(args []*pg.Node) *pg.Node {
	if len(args) == 1 {
		return args[0]
	}
	return pg.MakeBoolExprNode(pg.BoolExprType_AND_EXPR, args, -1)
}

// tableNode is a FROM item naming a table, with an optional alias.
func tableNode(name, alias string) *pg.Node {
	rv := &pg.RangeVar{Relname: name, Inh: true, Relpersistence: "p", Location: -1}
	if alias != "" {
		rv.Alias = &pg.Alias{Aliasname: alias}
	}
	return &pg.Node{Node: &pg.Node_RangeVar{RangeVar: rv}}
}

// selectNode wraps a SelectStmt.
func selectNode(s *pg.SelectStmt) *pg.Node {
	return &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: s}}
}

// renumberParams renumbers the $n of a tree densely in order of first
// appearance and returns the mapping (new $i is old $mapping[i-1]) and a
// function restoring the old numbers. The mapping is non-nil.
func renumberParams(roots ...proto.Message) ([]int, func()) {
	mapping := []int{}
	seen := map[int32]int32{}
	type change struct {
		p   *pg.ParamRef
		old int32
	}
	var changes []change
	for _, root := range roots {
		walk(root, func(m proto.Message) bool {
			p, ok := m.(*pg.ParamRef)
			if !ok {
				return true
			}
			n, ok := seen[p.Number]
			if !ok {
				mapping = append(mapping, int(p.Number))
				n = int32(len(mapping))
				seen[p.Number] = n
			}
			changes = append(changes, change{p, p.Number})
			p.Number = n
			return true
		})
	}
	return mapping, func() {
		for _, c := range changes {
			c.p.Number = c.old
		}
	}
}

// coalesce is COALESCE(args).
func coalesce(args ...*pg.Node) *pg.Node {
	return &pg.Node{Node: &pg.Node_CoalesceExpr{CoalesceExpr: &pg.CoalesceExpr{Args: args, Location: -1}}}
}
