// Package pgtree walks pg_query parse trees. A parse tree is a protobuf
// message, so one reflective walk covers every node type pg_query knows,
// present and future: no statement can hide a table or a call from a
// walker that looks at every message. The planner, the executor's
// statement rewrites, the Citus DDL code and the gateway's classifier all
// walk trees with it.
package pgtree

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Walk calls fn on every message of a tree, depth first, parents before
// children, fields in declaration order (so walks are deterministic and
// follow the statement's text closely); fn returns false to skip a
// message's children. fn may change the message it is given (its fields,
// not its identity): the children visited are the ones it leaves.
func Walk(m proto.Message, fn func(protoreflect.Message) bool) {
	if m == nil {
		return
	}
	WalkReflect(m.ProtoReflect(), fn)
}

// WalkReflect is Walk over a reflected message.
func WalkReflect(m protoreflect.Message, fn func(protoreflect.Message) bool) {
	if !m.IsValid() || !fn(m) {
		return
	}
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.Message() == nil || fd.IsMap() || !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		if fd.IsList() {
			l := v.List()
			for j := 0; j < l.Len(); j++ {
				WalkReflect(l.Get(j).Message(), fn)
			}
			continue
		}
		WalkReflect(v.Message(), fn)
	}
}

// WalkNodes calls fn on every *pg.Node of a tree, as Walk; fn returns
// false to skip the node's children, and may replace what a Node holds
// (its Node field).
func WalkNodes(m proto.Message, fn func(*pg.Node) bool) {
	Walk(m, func(r protoreflect.Message) bool {
		if n, ok := r.Interface().(*pg.Node); ok {
			return fn(n)
		}
		return true
	})
}
