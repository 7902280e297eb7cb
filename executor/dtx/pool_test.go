package dtx

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
)

// TestPools checks the worker connection pools against real servers.
func TestPools(t *testing.T) {
	c := startCluster(t)
	ctx := testCtx(t, time.Minute)
	cc, err := pgconn.ParseConfig("host=127.0.0.1 user=postgres dbname=postgres sslmode=disable connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	pools, err := NewPools(PoolConfig{ConnConfig: cc, MaxConns: 2, MaxConnsPerSession: 1, Logger: testLogger(t, hclog.Warn)}, c.nodes)
	if err != nil {
		t.Fatal(err)
	}
	defer pools.Close()

	t.Run("session limit", func(t *testing.T) {
		s := pools.NewSession()
		c1, err := s.Acquire(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Acquire(ctx, 1); sqlState(err) != pgerrcode.TooManyConnections || !errors.Is(err, ErrSessionLimit) {
			t.Fatalf("second connection of a session: %v", err)
		}
		c2, err := s.Acquire(ctx, 2) // another worker: its own limit
		if err != nil {
			t.Fatal(err)
		}
		c1.Release()
		c2.Release()
		c3, err := s.Acquire(ctx, 1) // released: allowed again, and reused
		if err != nil {
			t.Fatal(err)
		}
		if c3.PgConn() != c1.PgConn() {
			t.Errorf("an idle connection was not reused")
		}
		c3.Release()
	})

	t.Run("worker cap waits", func(t *testing.T) {
		a, _ := pools.Acquire(ctx, 1)
		b, _ := pools.Acquire(ctx, 1)
		if a == nil || b == nil {
			t.Fatal("cannot check out two connections")
		}
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		if _, err := pools.Acquire(short, 1); err == nil || sqlState(err) != pgerrcode.QueryCanceled {
			t.Fatalf("third connection over the cap: %v", err)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(50 * time.Millisecond)
			a.Release()
		}()
		d, err := pools.Acquire(ctx, 1)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		d.Release()
		b.Release()
	})

	t.Run("cancel leaves the connection usable", func(t *testing.T) {
		conn, err := pools.Acquire(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = conn.PgConn().Exec(short, "SELECT pg_sleep(30)").ReadAll()
		if err == nil || time.Since(start) > 5*time.Second {
			t.Fatalf("sleep not cancelled: %v after %v", err, time.Since(start))
		}
		if conn.PgConn().IsClosed() {
			t.Fatalf("cancelled connection closed: %v", err)
		}
		if _, err := conn.PgConn().Exec(ctx, "SELECT 1").ReadAll(); err != nil {
			t.Fatalf("connection unusable after cancel: %v", err)
		}
		conn.Release()
	})

	t.Run("reconnect after a worker restart", func(t *testing.T) {
		conn, err := pools.Acquire(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		pid := conn.PgConn().PID()
		conn.Release()
		if err := c.worker(2).StopImmediate(ctx); err != nil {
			t.Fatal(err)
		}
		// The cheap checkout check may hand out the dead idle connection
		// (nothing was read from it yet); a transaction's BEGIN then fails
		// on it and retries on a fresh one, below.
		if stale, err := pools.Acquire(ctx, 2); err == nil {
			stale.Release()
		}
		if err := c.worker(2).Start(ctx); err != nil {
			t.Fatal(err)
		}
		coord, err := New(Config{ID: "p", Workers: pools, Metadata: mustPool(t, c), Logger: testLogger(t, hclog.Warn)})
		if err != nil {
			t.Fatal(err)
		}
		tx := coord.Begin(pools.NewSession(), TxnOptions{})
		res, err := tx.Exec(ctx, 2, "SELECT pg_backend_pid()")
		if err != nil {
			t.Fatalf("transaction after the restart: %v", err)
		}
		if string(res[0].Rows[0][0]) == "" || tx.part(2).pid == pid {
			t.Fatalf("the old connection was reused")
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("set nodes", func(t *testing.T) {
		p1, _ := pools.Pool(1)
		if err := pools.SetNodes(c.nodes[:1]); err != nil {
			t.Fatal(err)
		}
		if _, err := pools.Acquire(ctx, 2); !errors.Is(err, ErrUnknownNode) || sqlState(err) != pgerrcode.UndefinedObject {
			t.Fatalf("checkout from a removed node: %v", err)
		}
		if p, _ := pools.Pool(1); p != p1 {
			t.Fatal("an unchanged node got a new pool")
		}
		moved := c.nodes[0]
		moved.Port = c.nodes[1].Port
		if err := pools.SetNodes([]catalog.Node{moved}); err != nil {
			t.Fatal(err)
		}
		if p, _ := pools.Pool(1); p == p1 || p.Node().Port != moved.Port {
			t.Fatal("a moved node kept its pool")
		}
		if _, err := p1.Acquire(ctx); !errors.Is(err, ErrClosed) {
			t.Fatalf("the old pool is not closed: %v", err)
		}
		pools.SetNodes(c.nodes)
	})
}

// mustPool returns a pool for the metadata server, closed at cleanup.
func mustPool(t *testing.T, c *cluster) *Pool {
	cc, err := pgconn.ParseConfig(c.meta.ConnString("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPool(PoolConfig{ConnConfig: cc}, catalog.Node{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
