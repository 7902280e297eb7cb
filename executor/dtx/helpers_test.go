package dtx

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/executor/pgcluster"
)

// decisionDDL mirrors the decision table of catalog/store's schema
// version 1, so these tests do not depend on the store package.
const decisionDDL = `CREATE SCHEMA IF NOT EXISTS pgfed;
CREATE TABLE IF NOT EXISTS pgfed.transaction (
	gid text PRIMARY KEY,
	created timestamptz NOT NULL DEFAULT now()
)`

// cluster is a metadata server and two workers.
type cluster struct {
	meta    *pgcluster.Server
	workers []*pgcluster.Server
	nodes   []catalog.Node
}

// startCluster starts a metadata server and two workers and creates the
// decision table.
func startCluster(t testing.TB) *cluster {
	t.Helper()
	servers := pgcluster.StartForTest(t,
		pgcluster.ServerSpec{Name: "metadata"},
		pgcluster.ServerSpec{Name: "worker1", Settings: pgcluster.WorkerSettings()},
		pgcluster.ServerSpec{Name: "worker2", Settings: pgcluster.WorkerSettings()},
	)
	c := &cluster{meta: servers[0], workers: servers[1:]}
	for i, w := range c.workers {
		c.nodes = append(c.nodes, catalog.Node{ID: int32(i + 1), Host: w.Host, Port: w.Port, Active: true})
	}
	c.exec(t, c.meta, decisionDDL)
	return c
}

// worker returns the server of a node id.
func (c *cluster) worker(id int32) *pgcluster.Server { return c.workers[id-1] }

// testCtx returns a context ending with the test or after d.
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// testLogger logs to the test at level.
func testLogger(t testing.TB, level hclog.Level) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "test", Level: level, Output: testWriter{t}})
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newCoordinator returns a coordinator with its own pools over the
// cluster, closed at cleanup.
func (c *cluster) newCoordinator(t testing.TB, id string, log hclog.Logger) *Coordinator {
	t.Helper()
	coord, err := newCoordinatorFor(c.meta.Port, c.nodes, id, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		coord.cfg.Workers.Close()
		coord.cfg.Metadata.Close()
	})
	return coord
}

// newCoordinatorFor builds a coordinator for a metadata port and workers
// (also used by the helper process).
func newCoordinatorFor(metaPort int, nodes []catalog.Node, id string, log hclog.Logger) (*Coordinator, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	cc, err := pgconn.ParseConfig("host=127.0.0.1 user=postgres dbname=postgres sslmode=disable connect_timeout=5")
	if err != nil {
		return nil, err
	}
	workers, err := NewPools(PoolConfig{ConnConfig: cc, Logger: log}, nodes)
	if err != nil {
		return nil, err
	}
	mc := cc.Copy()
	mc.Port = uint16(metaPort)
	meta, err := NewPool(PoolConfig{ConnConfig: mc, Logger: log}, catalog.Node{})
	if err != nil {
		return nil, err
	}
	return New(Config{ID: id, Workers: workers, Metadata: meta, Logger: log, ProbeTimeout: 100 * time.Millisecond})
}

// exec runs sql on a server, failing the test on error.
func (c *cluster) exec(t testing.TB, s *pgcluster.Server, sql string) {
	t.Helper()
	if _, err := c.query(s, sql); err != nil {
		t.Fatalf("%s on %s: %v", sql, s.Name, err)
	}
}

// query runs sql on a server (a fresh connection) and returns the first
// column of every row of the last result.
func (c *cluster) query(s *pgcluster.Server, sql string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pg, err := pgconn.Connect(ctx, s.ConnString("postgres"))
	if err != nil {
		return nil, err
	}
	defer pg.Close(ctx)
	res, err := pg.Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, err
	}
	var out []string
	if len(res) > 0 {
		for _, r := range res[len(res)-1].Rows {
			out = append(out, string(r[0]))
		}
	}
	return out, nil
}

// strs runs sql on a server and returns the first column, sorted.
func (c *cluster) strs(t testing.TB, s *pgcluster.Server, sql string) []string {
	t.Helper()
	out, err := c.query(s, sql)
	if err != nil {
		t.Fatalf("%s on %s: %v", sql, s.Name, err)
	}
	sort.Strings(out)
	return out
}

// int64Of runs sql returning one number.
func (c *cluster) int64Of(t testing.TB, s *pgcluster.Server, sql string) int64 {
	t.Helper()
	out := c.strs(t, s, sql)
	if len(out) != 1 {
		t.Fatalf("%s on %s: %d rows", sql, s.Name, len(out))
	}
	n, err := strconv.ParseInt(out[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// onWorkers runs sql on both workers.
func (c *cluster) onWorkers(t testing.TB, sql string) {
	t.Helper()
	for _, w := range c.workers {
		c.exec(t, w, sql)
	}
}

// recoverAll runs recovery rounds until no worker holds a prepared
// transaction and none is in flight, failing after d.
func (c *cluster) recoverAll(t testing.TB, coord *Coordinator, d time.Duration) Result {
	t.Helper()
	var total Result
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res, err := coord.Recover(ctx)
		cancel()
		total.Committed += res.Committed
		total.RolledBack += res.RolledBack
		total.Deleted += res.Deleted
		if err == nil && res.InFlight == 0 && res.Failed == 0 && len(res.Unreachable) == 0 && c.preparedCount(t) == 0 {
			return total
		}
		if time.Now().After(deadline) {
			t.Fatalf("recovery did not finish: last round %+v, error %v, %d prepared", res, err, c.preparedCount(t))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// preparedCount counts the prepared transactions on all workers.
func (c *cluster) preparedCount(t testing.TB) int {
	n := 0
	for _, w := range c.workers {
		n += int(c.int64Of(t, w, "SELECT count(*) FROM pg_prepared_xacts"))
	}
	return n
}

// mustExec runs sql in a transaction on a node and marks a write.
func mustExec(t testing.TB, ctx context.Context, tx *Txn, node int32, sql string) {
	t.Helper()
	if _, err := tx.Exec(ctx, node, sql); err != nil {
		t.Fatalf("%s on node %d: %v", sql, node, err)
	}
	tx.MarkWrite(node)
}

// env reads an integer environment variable.
func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}

// sprint joins values for messages.
func sprint(v ...any) string { return fmt.Sprint(v...) }
