package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/catalog/store"
	"github.com/pgfed/pgfed/executor/pgcluster"
)

// metadata is one PostgreSQL server shared by the subtests of a test; each
// subtest gets a database of its own.
type metadata struct {
	srv *pgcluster.Server
	n   int
	mu  sync.Mutex
}

func startMetadata(t *testing.T) *metadata {
	t.Helper()
	return &metadata{srv: pgcluster.StartForTest(t, pgcluster.ServerSpec{Name: "metadata"})[0]}
}

// database creates a fresh database and returns its connection string.
func (m *metadata) database(t *testing.T) string {
	t.Helper()
	m.mu.Lock()
	m.n++
	name := fmt.Sprintf("meta%d", m.n)
	m.mu.Unlock()
	ctx := context.Background()
	c, err := m.srv.Connect(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	return m.srv.ConnString(name)
}

func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "store", Level: hclog.Warn, Output: testWriter{t}})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// open opens a Store on connString and runs Init.
func open(t *testing.T, connString string) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, connString, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	if err := s.Init(ctx); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return s
}

// exec runs SQL statements directly on the metadata database.
func exec(t *testing.T, connString string, sql ...string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, q := range sql {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// sqlState is the interface errors reaching clients implement.
type sqlState interface{ SQLState() string }

func wantState(t *testing.T, err error, code string, sentinel error) {
	t.Helper()
	var se sqlState
	if !errors.As(err, &se) || se.SQLState() != code || !errors.Is(err, sentinel) {
		t.Fatalf("error %v (%T), want SQLSTATE %s wrapping %v", err, err, code, sentinel)
	}
}

func TestStore(t *testing.T) {
	m := startMetadata(t)
	t.Run("InitIdempotent", func(t *testing.T) { testInitIdempotent(t, m) })
	t.Run("InitConcurrent", func(t *testing.T) { testInitConcurrent(t, m) })
	t.Run("Nodes", func(t *testing.T) { testNodes(t, m) })
	t.Run("DistributeAndLoad", func(t *testing.T) { testDistributeAndLoad(t, m) })
	t.Run("UpdateAtomic", func(t *testing.T) { testUpdateAtomic(t, m) })
	t.Run("RenameAndDrop", func(t *testing.T) { testRenameAndDrop(t, m) })
	t.Run("InvalidationByVersion", func(t *testing.T) { testInvalidationByVersion(t, m) })
	t.Run("InvalidationByNotify", func(t *testing.T) { testInvalidationByNotify(t, m) })
	t.Run("ConcurrentUpdates", func(t *testing.T) { testConcurrentUpdates(t, m) })
	t.Run("WatchRecovers", func(t *testing.T) { testWatchRecovers(t, m) })
	t.Run("ServerRestart", func(t *testing.T) { testServerRestart(t, m) }) // last: restarts the server
}

func testInitIdempotent(t *testing.T, m *metadata) {
	cs := m.database(t)
	s := open(t, cs)
	ctx := context.Background()
	if err := s.Init(ctx); err != nil {
		t.Fatalf("second Init: %v", err)
	}
	v, err := s.Version(ctx)
	if err != nil || v != 1 {
		t.Fatalf("Version = %d, %v; want 1", v, err)
	}
	snap, err := s.Snapshot(ctx)
	if err != nil || snap.Version() != 1 || len(snap.Tables()) != 0 {
		t.Fatalf("Snapshot of a new catalog = %v, %v", snap, err)
	}
	// A database migrated by a newer pgfed is refused.
	exec(t, cs, fmt.Sprintf("UPDATE pgfed.schema_version SET version = %d", store.SchemaVersion+1))
	wantState(t, s.Init(ctx), "55000", store.ErrSchemaTooNew)
}

func testInitConcurrent(t *testing.T, m *metadata) {
	cs := m.database(t)
	ctx := context.Background()
	const n = 4
	stores := make([]*store.Store, n)
	for i := range stores {
		s, err := store.Open(ctx, cs, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		stores[i] = s
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Init(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Init %d: %v", i, err)
		}
	}
	if v, err := stores[0].Version(ctx); err != nil || v != 1 {
		t.Errorf("Version after concurrent Init = %d, %v", v, err)
	}
}

func testNodes(t *testing.T, m *metadata) {
	cs := m.database(t)
	s := open(t, cs)
	ctx := context.Background()
	wantState(t, s.AddOrganization(ctx, ""), "22023", store.ErrInvalidArgument)
	for range 2 {
		if err := s.AddOrganization(ctx, "bank-a"); err != nil {
			t.Fatal(err)
		}
	}
	id1, err := s.AddNode(ctx, "w1", 5432, "bank-a")
	if err != nil {
		t.Fatal(err)
	}
	id2, err := s.AddNode(ctx, "w1", 5432, "bank-a")
	if err != nil || id2 != id1 {
		t.Fatalf("AddNode again = %d, %v; want %d", id2, err, id1)
	}
	if id, err := s.AddNode(ctx, "w1", 5432, ""); err != nil || id != id1 {
		t.Fatalf("AddNode again without organization = %d, %v; want %d", id, err, id1)
	}
	v, _ := s.Version(ctx)
	if v != 3 { // 1 + organization + node; repeats change nothing
		t.Errorf("version after idempotent adds = %d, want 3", v)
	}
	_, err = s.AddNode(ctx, "w1", 5432, "bank-b")
	wantState(t, err, "42710", store.ErrNodeExists)
	_, err = s.AddNode(ctx, "w2", 5432, "bank-b")
	wantState(t, err, "42704", store.ErrOrganizationNotFound)
	_, err = s.AddNode(ctx, "w2", 0, "")
	wantState(t, err, "22023", store.ErrInvalidArgument)
	if _, err := s.AddNode(ctx, "w2", 5432, ""); err != nil {
		t.Fatal(err)
	}
	wantState(t, s.RemoveNode(ctx, "w9", 5432), "42704", store.ErrNodeNotFound)

	// A node holding a placement cannot be removed.
	exec(t, cs, "CREATE TABLE ref (x int)")
	err = s.Update(ctx, func(tx *store.Tx) error {
		g, err := tx.CreateColocationGroup(ctx, catalog.ColocationGroup{Method: catalog.MethodReference, ShardCount: 1})
		if err != nil {
			return err
		}
		rel := catalog.RelationName{Schema: "public", Name: "ref"}
		if _, err := tx.AddDistributedTable(ctx, catalog.Table{Relation: rel, Method: catalog.MethodReference, ColocationID: g}); err != nil {
			return err
		}
		shards, err := tx.AddShards(ctx, rel, "", []catalog.HashRange{catalog.FullRange})
		if err != nil {
			return err
		}
		return tx.AddPlacements(ctx, catalog.Placement{ShardID: shards[0].ID, NodeID: id1})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.RemoveNode(ctx, "w1", 5432)
	wantState(t, err, "2BP01", store.ErrNodeInUse)
	var nu *store.NodeInUseError
	if !errors.As(err, &nu) || nu.ShardID != catalog.FirstShardID || !strings.Contains(err.Error(), "w1:5432") {
		t.Errorf("RemoveNode refusal = %v", err)
	}
	if err := s.RemoveNode(ctx, "w2", 5432); err != nil {
		t.Fatalf("RemoveNode of an empty node: %v", err)
	}
	if err := s.SetNodeActive(ctx, "w1", 5432, false); err != nil {
		t.Fatal(err)
	}
	if err := s.AddOrganization(ctx, "bank-b"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNodeOrganization(ctx, "w1", 5432, "bank-b"); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := snap.NodeByAddr("w1", 5432)
	if !ok || n.Active || n.Organization != "bank-b" || len(snap.Nodes()) != 1 || len(snap.NodesActive()) != 0 {
		t.Errorf("nodes after changes: %+v", snap.Nodes())
	}
}

// testServerRestart checks that reads and changes work at once after the
// metadata server restarts, although every pooled connection is dead.
func testServerRestart(t *testing.T, m *metadata) {
	cs := m.database(t)
	s := open(t, cs)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range store.PoolSize { // fill the pool with idle connections
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Load(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := m.srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Version(ctx); err != nil {
		t.Errorf("Version after a restart: %v", err)
	}
	if err := m.srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddNode(ctx, "w1", 5432, ""); err != nil {
		t.Errorf("AddNode after a restart: %v", err)
	}
}
