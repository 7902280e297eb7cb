package planner

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pgfed/pgfed/planner/pgtree"
)

// walk visits every message of a parse tree in pre-order (pgtree.Walk).
// fn returns false to skip a message's children.
func walk(m proto.Message, fn func(proto.Message) bool) {
	pgtree.Walk(m, func(r protoreflect.Message) bool { return fn(r.Interface()) })
}

// walkNodes visits every *pg.Node of a tree in pre-order; fn returns
// false to skip the node's children.
func walkNodes(m proto.Message, fn func(*pg.Node) bool) { pgtree.WalkNodes(m, fn) }

// clone returns a deep copy of a node.
func clone(n *pg.Node) *pg.Node {
	if n == nil {
		return nil
	}
	c, _ := proto.Clone(n).(*pg.Node)
	return c
}

// cloneList deep-copies a list of nodes.
func cloneList(ns []*pg.Node) []*pg.Node {
	out := make([]*pg.Node, len(ns))
	for i, n := range ns {
		out[i] = clone(n)
	}
	return out
}

// stripLocations sets every "location" field of a tree to zero.
func stripLocations(m proto.Message) {
	walk(m, func(x proto.Message) bool {
		r := x.ProtoReflect()
		if fd := r.Descriptor().Fields().ByName("location"); fd != nil {
			r.Clear(fd)
		}
		return true
	})
}

// exprEqual reports whether two expressions are the same tree apart from
// token locations.
func exprEqual(a, b *pg.Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	return equalNoLoc(a.ProtoReflect(), b.ProtoReflect())
}

// equalNoLoc compares two messages field by field, ignoring every field
// named "location".
func equalNoLoc(a, b protoreflect.Message) bool {
	if a.Descriptor() != b.Descriptor() {
		return false
	}
	fields := a.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.Name() == "location" {
			continue
		}
		ha, hb := a.Has(fd), b.Has(fd)
		if ha != hb {
			return false
		}
		if !ha {
			continue
		}
		va, vb := a.Get(fd), b.Get(fd)
		switch {
		case fd.IsList():
			la, lb := va.List(), vb.List()
			if la.Len() != lb.Len() {
				return false
			}
			for j := 0; j < la.Len(); j++ {
				if fd.Kind() == protoreflect.MessageKind {
					if !equalNoLoc(la.Get(j).Message(), lb.Get(j).Message()) {
						return false
					}
				} else if !scalarEqual(la.Get(j), lb.Get(j)) {
					return false
				}
			}
		case fd.IsMap():
			return proto.Equal(a.Interface(), b.Interface())
		case fd.Kind() == protoreflect.MessageKind:
			if !equalNoLoc(va.Message(), vb.Message()) {
				return false
			}
		default:
			if !scalarEqual(va, vb) {
				return false
			}
		}
	}
	return true
}

// scalarEqual compares two scalar protobuf values.
func scalarEqual(a, b protoreflect.Value) bool {
	if x, ok := a.Interface().([]byte); ok {
		y, _ := b.Interface().([]byte)
		return string(x) == string(y)
	}
	return a.Interface() == b.Interface()
}

// replaceNodes rewrites a tree in place: every node for which fn returns a
// replacement is replaced (its children are not visited).
func replaceNodes(m proto.Message, fn func(*pg.Node) *pg.Node) {
	walkNodes(m, func(n *pg.Node) bool {
		if r := fn(n); r != nil {
			n.Node = r.Node
			return false
		}
		return true
	})
}
