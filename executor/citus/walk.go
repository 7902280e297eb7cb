package citus

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// walk calls fn on every message of a parse tree, depth first, parents
// before children; fn returns false to skip a message's children. fn may
// change the message it is given (its fields, not its identity).
func walk(m proto.Message, fn func(protoreflect.Message) bool) {
	if m == nil {
		return
	}
	walkReflect(m.ProtoReflect(), fn)
}

func walkReflect(m protoreflect.Message, fn func(protoreflect.Message) bool) {
	if !m.IsValid() || !fn(m) {
		return
	}
	// Fields in declaration order (Range's order is unspecified), so that
	// walks are deterministic and follow the statement's text closely.
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.Message() == nil || fd.IsMap() || !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkReflect(l.Get(i).Message(), fn)
			}
			continue
		}
		walkReflect(v.Message(), fn)
	}
}

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
