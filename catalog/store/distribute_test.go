package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/catalog/store"
)

var (
	relOrders   = catalog.RelationName{Schema: "public", Name: "orders"}
	relItems    = catalog.RelationName{Schema: "public", Name: "items"}
	relCountry  = catalog.RelationName{Schema: "public", Name: "country"}
	relAccounts = catalog.RelationName{Schema: "bank", Name: "accounts"}
)

// setupCatalog adds two organizations with two nodes each, and distributes
// orders (hash on int8, 4 shards), items (co-located with orders), country
// (reference) and bank.accounts (by organization, 2 shards each, hashed on
// an int8 domain), as four Updates: 10 catalog versions after the first.
func setupCatalog(ctx context.Context, t *testing.T, s *store.Store, cs string) {
	t.Helper()
	exec(t, cs,
		"CREATE TABLE orders (id bigint, note text)",
		"CREATE TABLE items (order_id bigint, n int)",
		"CREATE TABLE country (code text)",
		"CREATE SCHEMA bank",
		"CREATE DOMAIN money_id AS bigint",
		"CREATE TABLE bank.accounts (bank text, id money_id, balance numeric)")
	for _, org := range []string{"bank-b", "bank-a"} {
		if err := s.AddOrganization(ctx, org); err != nil {
			t.Fatal(err)
		}
	}
	for i, org := range []string{"bank-a", "bank-b", "bank-a", "bank-b"} {
		if _, err := s.AddNode(ctx, fmt.Sprintf("w%d", 4-i), 5432, org); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		tb   catalog.Table
		with *catalog.RelationName
	}{
		{catalog.Table{Relation: relOrders, Method: catalog.MethodHash, Column: "id", ColumnType: catalog.TypeInt8, ShardCount: 4}, nil},
		{catalog.Table{Relation: relItems, Method: catalog.MethodHash, Column: "order_id", ColumnType: catalog.TypeInt8, ShardCount: 4}, &relOrders},
		{catalog.Table{Relation: relCountry, Method: catalog.MethodReference, ShardCount: 1}, nil},
		{catalog.Table{Relation: relAccounts, Method: catalog.MethodOrganization, Column: "bank", ColumnType: catalog.TypeText,
			HashColumn: "id", HashColumnType: catalog.TypeInt8, ShardCount: 2}, nil},
	}
	for _, st := range steps {
		if err := s.Update(ctx, func(tx *store.Tx) error { return distribute(ctx, tx, st.tb, "", st.with) }); err != nil {
			t.Fatalf("distribute %v: %v", st.tb, err)
		}
	}
}

// expectedCatalog is what setupCatalog must store, built in memory.
func expectedCatalog(t *testing.T, version int64) *catalog.Snapshot {
	t.Helper()
	b := catalog.NewBuilder(version)
	b.AddOrganization(catalog.Organization{Name: "bank-a"}, catalog.Organization{Name: "bank-b"})
	// Node ids follow the order of AddNode: w4 (1), w3 (2), w2 (3), w1 (4).
	b.AddNode(
		catalog.Node{ID: 1, Host: "w4", Port: 5432, Organization: "bank-a", Active: true},
		catalog.Node{ID: 2, Host: "w3", Port: 5432, Organization: "bank-b", Active: true},
		catalog.Node{ID: 3, Host: "w2", Port: 5432, Organization: "bank-a", Active: true},
		catalog.Node{ID: 4, Host: "w1", Port: 5432, Organization: "bank-b", Active: true})
	b.AddColocationGroup(
		catalog.ColocationGroup{ID: 1, Method: catalog.MethodHash, ShardCount: 4, ColumnType: catalog.TypeInt8},
		catalog.ColocationGroup{ID: 2, Method: catalog.MethodReference, ShardCount: 1},
		catalog.ColocationGroup{ID: 3, Method: catalog.MethodOrganization, ShardCount: 2, ColumnType: catalog.TypeInt8})
	b.AddTable(
		catalog.Table{Relation: relOrders, Method: catalog.MethodHash, Column: "id", ColumnType: catalog.TypeInt8, ColocationID: 1, ShardCount: 4},
		catalog.Table{Relation: relItems, Method: catalog.MethodHash, Column: "order_id", ColumnType: catalog.TypeInt8, ColocationID: 1, ShardCount: 4},
		catalog.Table{Relation: relCountry, Method: catalog.MethodReference, ColocationID: 2, ShardCount: 1},
		catalog.Table{Relation: relAccounts, Method: catalog.MethodOrganization, Column: "bank", ColumnType: catalog.TypeText,
			HashColumn: "id", HashColumnType: catalog.TypeInt8, ColocationID: 3, ShardCount: 2})
	four, _ := catalog.NewShardRanges(4)
	two, _ := catalog.NewShardRanges(2)
	id := catalog.FirstShardID
	// Round robin in (host, port) order: w1 (4), w2 (3), w3 (2), w4 (1).
	for _, rel := range []catalog.RelationName{relOrders, relItems} {
		for i, r := range four {
			b.AddShard(catalog.Shard{ID: id, Table: rel, Index: i, Range: r})
			b.AddPlacement(catalog.Placement{ShardID: id, NodeID: []int32{4, 3, 2, 1}[i]})
			id++
		}
	}
	b.AddShard(catalog.Shard{ID: id, Table: relCountry, Range: catalog.FullRange})
	for n := int32(1); n <= 4; n++ {
		b.AddPlacement(catalog.Placement{ShardID: id, NodeID: n})
	}
	id++
	// Organizations in name order; each one's nodes in (host, port) order.
	for _, o := range []struct {
		org   string
		nodes []int32
	}{{"bank-a", []int32{3, 1}}, {"bank-b", []int32{4, 2}}} {
		for i, r := range two {
			b.AddShard(catalog.Shard{ID: id, Table: relAccounts, Index: i, Organization: o.org, Range: r})
			b.AddPlacement(catalog.Placement{ShardID: id, NodeID: o.nodes[i]})
			id++
		}
	}
	s, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testDistributeAndLoad(t *testing.T, m *metadata) {
	cs := m.database(t)
	s := open(t, cs)
	ctx := context.Background()
	setupCatalog(ctx, t, s, cs)
	cached, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := expectedCatalog(t, 11)
	if got, w := dump(cached), dump(want); got != w {
		t.Errorf("catalog after setup:\n%s\nwant:\n%s", got, w)
	}
	// A second Store loads exactly the same catalog.
	loaded, err := open(t, cs).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, w := dump(loaded), dump(cached); got != w {
		t.Errorf("Load differs from the committed snapshot:\n%s\nwant:\n%s", got, w)
	}
	for _, tb := range loaded.Tables() {
		if tb.OID == 0 {
			t.Errorf("table %v loaded without its OID", tb)
		}
	}
	if sh := loaded.ShardsOf(relOrders); sh[0].ID != catalog.FirstShardID {
		t.Errorf("first shard id = %d, want %d", sh[0].ID, catalog.FirstShardID)
	}
	sh, ok := loaded.ShardForHash(relOrders, catalog.HashInt8(123))
	if !ok || sh.Index != catalog.ShardIndex(catalog.HashInt8(123), 4) {
		t.Errorf("ShardForHash = %+v", sh)
	}
	if !loaded.ColocatedWith(relOrders, relItems) || loaded.ColocatedWith(relOrders, relAccounts) {
		t.Error("co-location lost")
	}

	// Errors name their cause and leave the catalog alone.
	err = s.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.AddDistributedTable(ctx, catalog.Table{Relation: relOrders, Method: catalog.MethodHash,
			Column: "id", ColumnType: catalog.TypeInt8, ColocationID: 1})
		return err
	})
	wantState(t, err, "42710", store.ErrAlreadyDistributed)
	exec(t, cs, "CREATE TABLE t2 (a int)")
	t2 := catalog.RelationName{Schema: "public", Name: "t2"}
	for _, c := range []struct {
		tb   catalog.Table
		code string
		err  error
	}{
		{catalog.Table{Relation: catalog.RelationName{Schema: "public", Name: "nope"}, Method: catalog.MethodReference, ColocationID: 2}, "42P01", store.ErrTableNotFound},
		{catalog.Table{Relation: t2, Method: catalog.MethodHash, Column: "b", ColumnType: catalog.TypeInt4, ColocationID: 1}, "42703", store.ErrColumnNotFound},
		{catalog.Table{Relation: t2, Method: catalog.MethodHash, Column: "a", ColumnType: catalog.TypeInt8, ColocationID: 1}, "42804", store.ErrInvalidArgument},
		{catalog.Table{Relation: t2, Method: catalog.MethodHash, Column: "a", ColumnType: catalog.TypeInt4, ColocationID: 99}, "42704", store.ErrColocationGroupNotFound},
	} {
		err := s.Update(ctx, func(tx *store.Tx) error { _, err := tx.AddDistributedTable(ctx, c.tb); return err })
		wantState(t, err, c.code, c.err)
	}
	err = s.Update(ctx, func(tx *store.Tx) error {
		return tx.AddPlacements(ctx, catalog.Placement{ShardID: catalog.FirstShardID, NodeID: 99})
	})
	wantState(t, err, "42704", store.ErrNodeNotFound)
	if !strings.Contains(err.Error(), "99") {
		t.Errorf("placement error does not name the node: %v", err)
	}
	if v, _ := s.Version(ctx); v != 11 {
		t.Errorf("failed updates changed the version to %d", v)
	}

	// RemoveTable drops shards and placements, and the group once empty.
	if err := s.Update(ctx, func(tx *store.Tx) error { return tx.RemoveTable(ctx, relItems) }); err != nil {
		t.Fatal(err)
	}
	snap, _ := s.Snapshot(ctx)
	if _, ok := snap.ColocationGroup(1); !ok || len(snap.ShardsOf(relItems)) != 0 {
		t.Error("RemoveTable(items) removed the group still used by orders, or left shards")
	}
	if err := s.Update(ctx, func(tx *store.Tx) error { return tx.RemoveTable(ctx, relOrders) }); err != nil {
		t.Fatal(err)
	}
	snap, _ = s.Snapshot(ctx)
	if _, ok := snap.ColocationGroup(1); ok || snap.PlacementCount(4) != 2 {
		t.Errorf("after removing orders: group 1 kept, or node 4 holds %d placements", snap.PlacementCount(4))
	}
	err = s.Update(ctx, func(tx *store.Tx) error { return tx.RemoveTable(ctx, relOrders) })
	wantState(t, err, "42P01", store.ErrTableNotFound)
}

func testUpdateAtomic(t *testing.T, m *metadata) {
	cs := m.database(t)
	s := open(t, cs)
	ctx := context.Background()
	setupCatalog(ctx, t, s, cs)
	before, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, cs, "CREATE TABLE t3 (k int)")
	t3 := catalog.RelationName{Schema: "public", Name: "t3"}
	tb := catalog.Table{Relation: t3, Method: catalog.MethodHash, Column: "k", ColumnType: catalog.TypeInt4, ShardCount: 8}
	boom := errors.New("boom")
	// An error returned by the function rolls everything back, changes
	// made with Exec included.
	err = s.Update(ctx, func(tx *store.Tx) error {
		if err := distribute(ctx, tx, tb, "", nil); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE pgfed.node SET isactive = false"); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update = %v, want the function's own error", err)
	}
	// A catalog that breaks an invariant is not committed: here a table
	// without shards.
	err = s.Update(ctx, func(tx *store.Tx) error {
		g, err := tx.CreateColocationGroup(ctx, catalog.ColocationGroup{Method: catalog.MethodHash, ShardCount: 8, ColumnType: catalog.TypeInt4})
		if err != nil {
			return err
		}
		tb := tb
		tb.ColocationID = g
		_, err = tx.AddDistributedTable(ctx, tb)
		return err
	})
	var ie *catalog.InvariantError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), `"public"."t3" has no shards`) {
		t.Fatalf("Update leaving a table without shards = %v", err)
	}
	// Moving a node holding an organization's shards to another
	// organization breaks an invariant, named in the error.
	err = s.SetNodeOrganization(ctx, "w2", 5432, "bank-b")
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), `is not a node of organization "bank-a"`) {
		t.Fatalf("SetNodeOrganization of a node holding bank-a's shards = %v", err)
	}
	after, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if dump(after) != dump(before) {
		t.Errorf("failed updates changed the catalog:\n%s\nwas:\n%s", dump(after), dump(before))
	}
	// Sequence values are spent, as with Citus: the next shard ids come
	// after the 13 committed and the 8 rolled back.
	if err := s.Update(ctx, func(tx *store.Tx) error { return distribute(ctx, tx, tb, "", nil) }); err != nil {
		t.Fatal(err)
	}
	snap, _ := s.Snapshot(ctx)
	if got := snap.ShardsOf(t3)[0].ID; got != catalog.FirstShardID+13+8 {
		t.Errorf("first shard of t3 = %d, want %d", got, catalog.FirstShardID+13+8)
	}
}
