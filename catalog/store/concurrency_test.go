package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/catalog/store"
)

// testConcurrentUpdates distributes tables from several Stores at once,
// each choosing its co-location group as colocate_with => 'default' does
// (join the existing group, else create one), while others read snapshots.
// Because Update locks the version row first, the choices are serialized:
// there is one group in the end, every table in it, and every version in
// between was a valid catalog.
func testConcurrentUpdates(t *testing.T, m *metadata) {
	cs := m.database(t)
	ctx := context.Background()
	const n = 4
	stores := make([]*store.Store, n)
	for i := range stores {
		stores[i] = open(t, cs)
	}
	for i := range 2 {
		if _, err := stores[0].AddNode(ctx, fmt.Sprintf("w%d", i), 5432, ""); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		exec(t, cs, fmt.Sprintf("CREATE TABLE c%d (id int)", i))
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, s := range stores {
		wg.Add(2)
		go func() {
			defer wg.Done()
			tb := catalog.Table{Relation: catalog.RelationName{Schema: "public", Name: fmt.Sprintf("c%d", i)},
				Method: catalog.MethodHash, Column: "id", ColumnType: catalog.TypeInt4, ShardCount: 8}
			errs[i] = s.Update(ctx, func(tx *store.Tx) error {
				snap, err := tx.Snapshot(ctx)
				if err != nil {
					return err
				}
				g, ok := snap.DefaultColocationGroup(tb.Method, tb.ShardCount, tb.ColumnType)
				if !ok {
					return distribute(ctx, tx, tb, "", nil)
				}
				with := snap.TablesIn(g.ID)[0].Relation
				return distribute(ctx, tx, tb, "", &with)
			})
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := s.Snapshot(ctx); err != nil {
					t.Errorf("Snapshot during updates: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Update %d: %v", i, err)
		}
	}
	snap, err := stores[0].Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if gs := snap.ColocationGroups(); len(gs) != 1 || len(snap.TablesIn(gs[0].ID)) != n {
		t.Errorf("after concurrent distribution: groups %v, tables %v", gs, snap.Tables())
	}
}
