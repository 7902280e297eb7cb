package citus

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pgfed/pgfed/planner/pgtree"
)

// walk calls fn on every message of a parse tree (pgtree.Walk): depth
// first, parents before children; fn returns false to skip a message's
// children, and may change the message it is given.
func walk(m proto.Message, fn func(protoreflect.Message) bool) { pgtree.Walk(m, fn) }

// rangeVars returns every RangeVar of a tree (tables named in FROM, DDL
// targets, foreign key targets, ...).
func rangeVars(m proto.Message) []*pg.RangeVar {
	var out []*pg.RangeVar
	walk(m, func(r protoreflect.Message) bool {
		if rv, ok := r.Interface().(*pg.RangeVar); ok {
			out = append(out, rv)
		}
		return true
	})
	return out
}

// funcName returns the unqualified, lower-case name of a function call
// and its schema ("" when unqualified).
func funcName(fc *pg.FuncCall) (schema, name string) {
	parts := make([]string, 0, len(fc.Funcname))
	for _, n := range fc.Funcname {
		parts = append(parts, n.GetString_().GetSval())
	}
	switch len(parts) {
	case 1:
		return "", parts[0]
	case 2:
		return parts[0], parts[1]
	}
	return "?", ""
}

// allNodes returns every Node of a tree, depth first.
func allNodes(n *pg.Node) []*pg.Node {
	var out []*pg.Node
	walk(n, func(m protoreflect.Message) bool {
		if x, ok := m.Interface().(*pg.Node); ok {
			out = append(out, x)
		}
		return true
	})
	return out
}
