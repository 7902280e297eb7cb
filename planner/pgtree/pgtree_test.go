package pgtree

import (
	"slices"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// TestWalk: every RangeVar is found, in the statement's order, skipping a
// subtree skips its tables, and a Node replaced by fn is walked as
// replaced.
func TestWalk(t *testing.T) {
	tree, err := pg.Parse("SELECT * FROM a JOIN b ON a.x = b.x WHERE a.y IN (SELECT y FROM c) AND EXISTS (SELECT 1 FROM d)")
	if err != nil {
		t.Fatal(err)
	}
	names := func(skipSublinks bool) []string {
		var out []string
		Walk(tree, func(m protoreflect.Message) bool {
			switch x := m.Interface().(type) {
			case *pg.RangeVar:
				out = append(out, x.Relname)
			case *pg.SubLink:
				return !skipSublinks
			}
			return true
		})
		return out
	}
	if got := names(false); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("tables %v, want a b c d", got)
	}
	if got := names(true); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("tables without sublinks %v, want a b", got)
	}
	// Replace every column reference by a constant; the walk goes on into
	// the replacement.
	consts := 0
	WalkNodes(tree, func(n *pg.Node) bool {
		if _, ok := n.Node.(*pg.Node_ColumnRef); ok {
			n.Node = pg.MakeAConstIntNode(1, -1).Node
		}
		if _, ok := n.Node.(*pg.Node_AConst); ok {
			consts++
		}
		return true
	})
	if consts < 4 {
		t.Fatalf("%d constants after the replacement, want at least 4", consts)
	}
	Walk(nil, func(protoreflect.Message) bool { t.Fatal("called on nil"); return true })
}
