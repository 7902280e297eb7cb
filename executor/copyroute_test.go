package executor

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pgfed/pgfed/catalog"
)

// TestCopyRouterAgreesWithCatalog checks that COPY's router finds, for
// every hash, the shard the catalog finds: for tables whose shards split
// the hash space evenly (found by arithmetic) and one whose ranges are
// uneven (found by binary search).
func TestCopyRouterAgreesWithCatalog(t *testing.T) {
	b := catalog.NewBuilder(1)
	b.AddNode(catalog.Node{ID: 1, Host: "localhost", Port: 5432})
	id := catalog.FirstShardID
	group := int32(0)
	addTable := func(name string, ranges []catalog.HashRange) catalog.Table {
		group++
		b.AddColocationGroup(catalog.ColocationGroup{ID: group, Method: catalog.MethodHash, ShardCount: len(ranges), ColumnType: catalog.TypeInt8})
		tb := catalog.Table{Relation: catalog.RelationName{Schema: "public", Name: name}, Method: catalog.MethodHash,
			Column: "k", ColumnType: catalog.TypeInt8, ColocationID: group, ShardCount: len(ranges)}
		b.AddTable(tb)
		for i, r := range ranges {
			b.AddShard(catalog.Shard{ID: id, Table: tb.Relation, Index: i, Range: r})
			b.AddPlacement(catalog.Placement{ShardID: id, NodeID: 1})
			id++
		}
		return tb
	}
	var tables []catalog.Table
	for _, n := range []int{1, 3, 7, 32} {
		ranges, err := catalog.ShardRanges(n)
		if err != nil {
			t.Fatal(err)
		}
		tables = append(tables, addTable("even"+string(rune('a'+n%26)), ranges))
	}
	tables = append(tables, addTable("uneven", []catalog.HashRange{{Min: math.MinInt32, Max: -5}, {Min: -4, Max: 100}, {Min: 101, Max: math.MaxInt32}}))
	snap, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tb := range tables {
		r, ok := newCopyRouter(snap, tb)
		if !ok {
			t.Fatalf("%s: no router", tb.Relation)
		}
		if want := tb.Relation.Name != "uneven"; r.uniform != want {
			t.Errorf("%s: uniform %v, want %v", tb.Relation, r.uniform, want)
		}
		hashes := []int32{math.MinInt32, math.MaxInt32, -5, -4, 100, 101, 0, -1}
		for _, sh := range r.shards {
			hashes = append(hashes, sh.Range.Min, sh.Range.Max)
		}
		for range 2000 {
			hashes = append(hashes, int32(rng.Uint32()))
		}
		for _, h := range hashes {
			want, ok := snap.ShardForHash(tb.Relation, h)
			i, found := r.find(h)
			if !ok || !found || r.shards[i].ID != want.ID {
				t.Fatalf("%s: hash %d: router gives shard %d (found %v), catalog %d (found %v)", tb.Relation, h, r.shards[i].ID, found, want.ID, ok)
			}
		}
	}
	ref := catalog.Table{Relation: catalog.RelationName{Schema: "public", Name: "ref"}, Method: catalog.MethodReference}
	if _, ok := newCopyRouter(snap, ref); ok {
		t.Error("a reference table got a router")
	}
}
