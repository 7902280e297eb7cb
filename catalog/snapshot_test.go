package catalog

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

var (
	relOrders   = RelationName{"public", "orders"}
	relItems    = RelationName{"public", "items"}
	relCountry  = RelationName{"public", "country"}
	relAccounts = RelationName{"bank", "accounts"}
)

// testBuilder returns a valid catalog: organizations a and b, four nodes
// (two per organization, one of them inactive), co-located hash tables
// orders and items with 4 shards round-robin over the active nodes, a
// reference table country on every active node, and an organization table
// accounts with 2 shards per organization.
func testBuilder(t *testing.T) *Builder {
	t.Helper()
	b := NewBuilder(7)
	b.AddOrganization(Organization{"b"}, Organization{"a"})
	b.AddNode(
		Node{ID: 2, Host: "w2", Port: 5432, Organization: "a", Active: true},
		Node{ID: 1, Host: "w1", Port: 5432, Organization: "a", Active: true},
		Node{ID: 3, Host: "w3", Port: 5432, Organization: "b", Active: true},
		Node{ID: 4, Host: "w0", Port: 5432, Organization: "b", Active: false},
	)
	b.AddColocationGroup(
		ColocationGroup{ID: 1, Method: MethodHash, ShardCount: 4, ColumnType: TypeInt4},
		ColocationGroup{ID: 2, Method: MethodReference, ShardCount: 1},
		ColocationGroup{ID: 3, Method: MethodOrganization, ShardCount: 2, ColumnType: TypeInt8},
	)
	b.AddTable(
		Table{Relation: relOrders, OID: 100, Method: MethodHash, Column: "id", ColumnType: TypeInt4, ColocationID: 1, ShardCount: 4},
		Table{Relation: relItems, OID: 101, Method: MethodHash, Column: "order_id", ColumnType: TypeInt4, ColocationID: 1, ShardCount: 4},
		Table{Relation: relCountry, OID: 102, Method: MethodReference, ColocationID: 2, ShardCount: 1},
		Table{Relation: relAccounts, OID: 103, Method: MethodOrganization, Column: "bank", ColumnType: TypeText,
			HashColumn: "id", HashColumnType: TypeInt8, ColocationID: 3, ShardCount: 2},
	)
	id := FirstShardID
	ranges, _ := NewShardRanges(4)
	active := []Node{{ID: 1, Host: "w1", Port: 5432, Active: true}, {ID: 2, Host: "w2", Port: 5432, Active: true}, {ID: 3, Host: "w3", Port: 5432, Active: true}}
	rr, err := RoundRobin(active, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []RelationName{relOrders, relItems} {
		for i, r := range ranges {
			b.AddShard(Shard{ID: id, Table: rel, Index: i, Range: r})
			b.AddPlacement(Placement{ShardID: id, NodeID: rr[i][0]})
			id++
		}
	}
	b.AddShard(Shard{ID: id, Table: relCountry, Range: FullRange})
	b.AddPlacement(Placement{id, 1}, Placement{id, 2}, Placement{id, 3})
	id++
	two, _ := NewShardRanges(2)
	for org, nodes := range map[string][]int32{"a": {1, 2}, "b": {3, 3}} {
		for i, r := range two {
			b.AddShard(Shard{ID: id, Table: relAccounts, Index: i, Organization: org, Range: r})
			b.AddPlacement(Placement{id, nodes[i]})
			id++
		}
	}
	return b
}

func testSnapshot(t *testing.T) *Snapshot {
	t.Helper()
	s, err := testBuilder(t).Build()
	if err != nil {
		t.Fatalf("valid catalog rejected: %v", err)
	}
	return s
}

func TestSnapshotLookups(t *testing.T) {
	s := testSnapshot(t)
	if s.Version() != 7 {
		t.Errorf("Version = %d, want 7", s.Version())
	}
	if ids := nodeIDs(s.Nodes()); !slices.Equal(ids, []int32{1, 2, 3, 4}) {
		t.Errorf("Nodes ids = %v", ids)
	}
	if ids := nodeIDs(s.NodesActive()); !slices.Equal(ids, []int32{1, 2, 3}) {
		t.Errorf("NodesActive ids = %v, want 1 2 3 (inactive w0 left out)", ids)
	}
	if ids := nodeIDs(s.NodesOf("b")); !slices.Equal(ids, []int32{4, 3}) {
		t.Errorf("NodesOf(b) = %v, want 4 3 (by host)", ids)
	}
	if n, ok := s.NodeByAddr("w3", 5432); !ok || n.ID != 3 {
		t.Errorf("NodeByAddr(w3) = %v %v", n, ok)
	}
	if _, ok := s.NodeByAddr("w3", 5433); ok {
		t.Error("NodeByAddr found a node on another port")
	}
	if tb, ok := s.Table("public", "items"); !ok || tb.Column != "order_id" {
		t.Errorf("Table(public.items) = %+v %v", tb, ok)
	}
	if _, ok := s.Table("other", "items"); ok {
		t.Error("Table found a table in the wrong schema")
	}
	if tb, ok := s.TableByOID(102); !ok || tb.Relation != relCountry {
		t.Errorf("TableByOID(102) = %+v %v", tb, ok)
	}
	if !s.ColocatedWith(relOrders, relItems) || s.ColocatedWith(relOrders, relCountry) ||
		!s.ColocatedWith(relOrders, relOrders) || s.ColocatedWith(relOrders, RelationName{"public", "nope"}) {
		t.Error("ColocatedWith wrong")
	}
	if g, ok := s.DefaultColocationGroup(MethodHash, 4, TypeInt4); !ok || g.ID != 1 {
		t.Errorf("DefaultColocationGroup(hash, 4, int4) = %v %v", g, ok)
	}
	if _, ok := s.DefaultColocationGroup(MethodHash, 4, TypeInt8); ok {
		t.Error("DefaultColocationGroup matched another type")
	}
	if got := len(s.TablesIn(1)); got != 2 {
		t.Errorf("TablesIn(1) has %d tables", got)
	}
	shards := s.ShardsOf(relItems)
	if len(shards) != 4 || shards[0].ID != FirstShardID+4 || shards[3].Range.Max != math.MaxInt32 {
		t.Fatalf("ShardsOf(items) = %+v", shards)
	}
	shards[0].ID = 1 // a copy: the snapshot must not change
	if s.ShardsOf(relItems)[0].ID != FirstShardID+4 {
		t.Error("ShardsOf returned the snapshot's own slice")
	}
	if got := len(s.ShardsOf(relAccounts)); got != 4 {
		t.Errorf("ShardsOf(accounts) has %d shards, want 2 per organization", got)
	}
	if sh, ok := s.Shard(FirstShardID + 2); !ok || sh.Table != relOrders || sh.Index != 2 {
		t.Errorf("Shard(102010) = %+v %v", sh, ok)
	}
	if pl := s.PlacementsOf(FirstShardID + 8); len(pl) != 3 {
		t.Errorf("reference shard placements = %v", pl)
	}
	if got := s.PlacementCount(1); got != 2+2+1+1 {
		t.Errorf("PlacementCount(1) = %d", got)
	}
}

func nodeIDs(ns []Node) []int32 {
	var ids []int32
	for _, n := range ns {
		ids = append(ids, n.ID)
	}
	return ids
}

func TestShardForHash(t *testing.T) {
	s := testSnapshot(t)
	for _, c := range []struct {
		h    int32
		want int
	}{
		{math.MinInt32, 0}, {-1073741825, 0}, {-1073741824, 1}, {-1, 1}, {0, 2},
		{1073741823, 2}, {1073741824, 3}, {math.MaxInt32, 3},
		{HashInt4(123), ShardIndex(-205084363, 4)},
	} {
		sh, ok := s.ShardForHash(relOrders, c.h)
		if !ok || sh.Index != c.want || !sh.Range.Contains(c.h) {
			t.Errorf("ShardForHash(orders, %d) = index %d %v, want %d", c.h, sh.Index, ok, c.want)
		}
	}
	if sh, ok := s.ShardForHash(relCountry, 42); !ok || sh.ID != FirstShardID+8 {
		t.Errorf("ShardForHash(reference) = %+v %v", sh, ok)
	}
	if _, ok := s.ShardForHash(relAccounts, 0); ok {
		t.Error("ShardForHash answered for an organization table")
	}
	if _, ok := s.ShardForHash(RelationName{"public", "local"}, 0); ok {
		t.Error("ShardForHash answered for an unknown table")
	}
	sh, ok := s.ShardForOrganization(relAccounts, "b", 5)
	if !ok || sh.Organization != "b" || sh.Index != 1 {
		t.Errorf("ShardForOrganization(b, 5) = %+v %v", sh, ok)
	}
	if _, ok := s.ShardForOrganization(relAccounts, "c", 5); ok {
		t.Error("ShardForOrganization answered for an organization with no shards")
	}
	if _, ok := s.ShardForOrganization(relOrders, "a", 5); ok {
		t.Error("ShardForOrganization answered for a hash table")
	}
}

// TestShardForHashNonUniform checks the binary search used when ranges are
// not Citus's even split (after a shard split, say), against a linear scan.
func TestShardForHashNonUniform(t *testing.T) {
	b := NewBuilder(1).
		AddNode(Node{ID: 1, Host: "h", Port: 1, Active: true}).
		AddColocationGroup(ColocationGroup{ID: 1, Method: MethodHash, ShardCount: 3, ColumnType: TypeInt8}).
		AddTable(Table{Relation: relOrders, Method: MethodHash, Column: "id", ColumnType: TypeInt8, ColocationID: 1, ShardCount: 3})
	rs := []HashRange{{math.MinInt32, -10}, {-9, 100}, {101, math.MaxInt32}}
	for i, r := range rs {
		b.AddShard(Shard{ID: int64(10 + i), Table: relOrders, Index: i, Range: r}).AddPlacement(Placement{int64(10 + i), 1})
	}
	s, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []int32{math.MinInt32, -11, -10, -9, 0, 100, 101, math.MaxInt32} {
		sh, ok := s.ShardForHash(relOrders, h)
		want := slices.IndexFunc(rs, func(r HashRange) bool { return r.Contains(h) })
		if !ok || sh.Index != want {
			t.Errorf("ShardForHash(%d) = %d %v, want %d", h, sh.Index, ok, want)
		}
	}
}

func TestBuildRejects(t *testing.T) {
	cases := []struct {
		name string
		edit func(b *Builder)
		want string
	}{
		{"gap", func(b *Builder) { b.shards[1].Range.Min++ }, "belong to no shard"},
		{"overlap", func(b *Builder) { b.shards[1].Range.Min-- }, "overlaps"},
		{"short of MaxInt32", func(b *Builder) { b.shards[3].Range.Max-- }, "2147483647 belong to no shard"},
		{"missing shard", func(b *Builder) {
			b.shards = slices.Delete(b.shards, 3, 4)
			b.placements = slices.Delete(b.placements, 3, 4)
		}, "has 3 shards, not 4"},
		{"wrong index", func(b *Builder) { b.shards[0].Index = 1 }, "has index 1"},
		{"duplicate shard id", func(b *Builder) { b.shards[1].ID = b.shards[0].ID }, "listed twice"},
		{"placement on unknown node", func(b *Builder) { b.placements[0].NodeID = 99 }, "unknown node"},
		{"placement of unknown shard", func(b *Builder) { b.placements[0].ShardID = 99 }, "unknown shard"},
		{"shard without placement", func(b *Builder) { b.placements = b.placements[1:] }, "has no placement"},
		{"duplicate placement", func(b *Builder) { b.AddPlacement(b.placements[0]) }, "listed twice"},
		{"co-located ranges differ", func(b *Builder) {
			b.shards[4].Range.Max--
			b.shards[5].Range.Min--
		}, "but"},
		{"co-located placements differ", func(b *Builder) { b.placements[4].NodeID = b.placements[5].NodeID }, "different nodes"},
		{"node address twice", func(b *Builder) { b.nodes[1].Host = b.nodes[0].Host }, "same address"},
		{"node unknown organization", func(b *Builder) { b.nodes[0].Organization = "zz" }, "unknown organization"},
		{"node bad port", func(b *Builder) { b.nodes[0].Port = 70000 }, "outside 1..65535"},
		{"node id zero", func(b *Builder) { b.nodes[0].ID = 0 }, "must be positive"},
		{"table twice", func(b *Builder) { b.AddTable(b.tables[0]) }, "listed twice"},
		{"table unknown group", func(b *Builder) { b.tables[0].ColocationID = 42 }, "unknown colocation group 42"},
		{"table type differs from group", func(b *Builder) { b.tables[1].ColumnType = TypeInt8 }, "does not fit"},
		{"hash table unhashable type", func(b *Builder) { b.tables[0].ColumnType = Type(600) }, "hashable"},
		{"reference with column", func(b *Builder) { b.tables[2].Column = "x" }, "no distribution column"},
		{"shard of unknown table", func(b *Builder) { b.shards[0].Table.Name = "gone" }, "unknown table"},
		{"org shard on other org's node", func(b *Builder) {
			for i, p := range b.placements {
				if sh := b.shards[slices.IndexFunc(b.shards, func(s Shard) bool { return s.ID == p.ShardID })]; sh.Organization == "a" {
					b.placements[i].NodeID = 3
				}
			}
		}, "is not a node of organization"},
		{"org shard of unknown org", func(b *Builder) { b.shards[len(b.shards)-1].Organization = "zz" }, "unknown organization"},
		{"hash shard with org", func(b *Builder) { b.shards[0].Organization = "a" }, "has organization"},
		{"reference group with shards", func(b *Builder) { b.groups[1].ShardCount = 2 }, "reference group"},
		{"group bad shard count", func(b *Builder) { b.groups[0].ShardCount = 0 }, "shard_count must be between"},
		{"duplicate OID", func(b *Builder) { b.tables[1].OID = b.tables[0].OID }, "same OID"},
		{"organization twice", func(b *Builder) { b.AddOrganization(Organization{"a"}) }, "listed twice"},
		{"placement on secondary", func(b *Builder) { b.nodes[0].Role = NodeRoleSecondary }, "is a secondary"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := testBuilder(t)
			c.edit(b)
			_, err := b.Build()
			var ie *InvariantError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvariant) {
				t.Fatalf("Build = %v, want an *InvariantError", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Build error %q does not mention %q", err, c.want)
			}
			if ie.SQLState() != "XX000" {
				t.Errorf("SQLState = %s", ie.SQLState())
			}
		})
	}
}

func TestBuildListsAllProblems(t *testing.T) {
	b := testBuilder(t)
	for i := range b.placements {
		b.placements[i].NodeID = 99
	}
	_, err := b.Build()
	var ie *InvariantError
	if !errors.As(err, &ie) || len(ie.Problems) != maxProblems || ie.More == 0 || !strings.Contains(err.Error(), "more") {
		t.Fatalf("Build = %v, want %d problems and more", err, maxProblems)
	}
}

func TestEditRoundTrip(t *testing.T) {
	s := testSnapshot(t)
	b := s.Edit().SetVersion(8)
	b.AddNode(Node{ID: 9, Host: "w9", Port: 1, Active: true})
	s2, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Nodes()) != 4 || len(s2.Nodes()) != 5 || s2.Version() != 8 {
		t.Error("Edit changed the original or lost the change")
	}
	for _, tb := range s.Tables() {
		if !slices.Equal(s.ShardsOf(tb.Relation), s2.ShardsOf(tb.Relation)) {
			t.Errorf("shards of %v differ after Edit", tb)
		}
	}
}

func TestEmptySnapshot(t *testing.T) {
	s, err := NewBuilder(0).Build()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tables()) != 0 || len(s.NodesActive()) != 0 {
		t.Error("empty snapshot not empty")
	}
	var zero Builder
	if _, err := zero.Build(); err != nil {
		t.Errorf("zero Builder: %v", err)
	}
}
