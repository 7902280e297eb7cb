package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/pgfed/pgfed/catalog/store"
)

func testRenameAndDrop(t *testing.T, m *metadata) {
	cs := m.database(t)
	s := open(t, cs)
	ctx := context.Background()
	setupCatalog(ctx, t, s, cs)
	// Renames go through Update (as the DDL layer will do them), which
	// bumps the version; names are read from pg_class and pg_attribute.
	err := s.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "ALTER TABLE orders RENAME TO purchases"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "ALTER TABLE purchases RENAME COLUMN id TO purchase_id")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tb, ok := snap.Table("public", "purchases")
	if _, old := snap.Table("public", "orders"); !ok || old || tb.Column != "purchase_id" || len(snap.ShardsOf(tb.Relation)) != 4 {
		t.Fatalf("after rename: %+v %v", tb, ok)
	}
	if !snap.ColocatedWith(tb.Relation, relItems) {
		t.Error("rename lost co-location")
	}
	// A table dropped behind pgfed's back is left out of the catalog, and
	// RemoveDroppedTables clears its rows.
	exec(t, cs, "DROP TABLE items")
	loaded, err := s.Load(ctx)
	if err != nil {
		t.Fatalf("Load after a drop outside pgfed: %v", err)
	}
	if _, ok := loaded.Table("public", "items"); ok || len(loaded.Tables()) != 3 {
		t.Errorf("dropped table still loaded: %v", loaded.Tables())
	}
	var n int64
	if err := s.Update(ctx, func(tx *store.Tx) (err error) { n, err = tx.RemoveDroppedTables(ctx); return err }); err != nil || n != 1 {
		t.Errorf("RemoveDroppedTables = %d, %v", n, err)
	}
	// Dropping the distribution column leaves a table that cannot be
	// routed: Load refuses rather than treat it as local.
	exec(t, cs, "ALTER TABLE purchases DROP COLUMN purchase_id")
	_, err = s.Load(ctx)
	wantState(t, err, "XX001", store.ErrColumnNotFound)
}

func testInvalidationByVersion(t *testing.T, m *metadata) {
	cs := m.database(t)
	ctx := context.Background()
	a, b := open(t, cs), open(t, cs)
	sb, err := b.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddNode(ctx, "w1", 5432, ""); err != nil {
		t.Fatal(err)
	}
	// Without Watch, b asks for the version on every call and sees the
	// change at once.
	sb2, err := b.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sb2.Version() != sb.Version()+1 || len(sb2.Nodes()) != 1 {
		t.Errorf("b did not see a's change: version %d -> %d, nodes %v", sb.Version(), sb2.Version(), sb2.Nodes())
	}
	if sb3, _ := b.Snapshot(ctx); sb3 != sb2 {
		t.Error("unchanged catalog was loaded again")
	}
	// a sees its own change without a load.
	if sa, _ := a.Snapshot(ctx); sa.Version() != sb2.Version() {
		t.Errorf("a's snapshot is at version %d", sa.Version())
	}
}

func testInvalidationByNotify(t *testing.T, m *metadata) {
	cs := m.database(t)
	ctx, cancel := context.WithCancel(context.Background())
	a, b := open(t, cs), open(t, cs)
	done := make(chan error, 1)
	go func() { done <- b.Watch(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	})
	waitFor(t, "b to listen", func() bool { return b.Watching() })
	if err := b.Watch(ctx); err != store.ErrWatching {
		t.Errorf("second Watch = %v", err)
	}
	sb, err := b.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddNode(ctx, "w1", 5432, ""); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := b.WaitVersion(wctx, sb.Version()+1); err != nil {
		t.Fatalf("WaitVersion: %v", err)
	}
	latest, err := b.Snapshot(ctx)
	if err != nil || latest.Version() != sb.Version()+1 {
		t.Fatalf("Snapshot after WaitVersion = %v, %v", latest, err)
	}
	if len(latest.Nodes()) != 1 {
		t.Errorf("b's snapshot after notification: %v", latest.Nodes())
	}
	// While watching, an unchanged catalog costs no round trip, so it
	// still answers with the database gone (well, with its pool closed).
	b.Close()
	if s, err := b.Snapshot(ctx); err != nil || s != latest {
		t.Errorf("watching Snapshot went to the database: %v, %v", s, err)
	}
}

// testWatchRecovers checks that Watch catches a change that was not
// notified within its check interval, and that when its connection is
// killed Snapshot falls back to polling until Watch is back.
func testWatchRecovers(t *testing.T, m *metadata) {
	cs := m.database(t)
	t.Cleanup(store.SetWatchCheckInterval(50 * time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	w := open(t, cs)
	done := make(chan error, 1)
	go func() { done <- w.Watch(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	waitFor(t, "w to listen", func() bool { return w.Watching() })
	s0, err := w.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A change without a notification (a restore, a hand edit).
	exec(t, cs, "INSERT INTO pgfed.organization VALUES ('quiet')", "UPDATE pgfed.version SET version = version + 1")
	waitFor(t, "the quiet check to find the change", func() bool {
		s, err := w.Snapshot(ctx)
		return err == nil && s.Version() > s0.Version()
	})
	// Kill the listening connection: w polls meanwhile, so a change made
	// while it is down is seen at once.
	exec(t, cs, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"+store.WatchApplicationName+"'")
	a := open(t, cs)
	if err := a.AddOrganization(ctx, "meanwhile"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "w to see the change", func() bool {
		s, err := w.Snapshot(ctx)
		_, ok := s.Organization("meanwhile")
		return err == nil && ok
	})
	waitFor(t, "w to listen again", func() bool { return w.Watching() })
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
