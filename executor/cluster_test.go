package executor

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/catalog/store"
	"github.com/pgfed/pgfed/executor/pgcluster"
)

// cluster is a metadata server, two workers registered in the catalog, and
// a coordinator in front: a small pgfed cluster on real servers.
type cluster struct {
	env
	workers []*pgcluster.Server
	nodes   []int32
}

// newCluster starts the servers and the coordinator (both stop at the end
// of the test) and registers the workers with the catalog store.
func newCluster(t testing.TB) *cluster {
	t.Helper()
	servers := pgcluster.StartForTest(t,
		pgcluster.ServerSpec{Name: "metadata", Settings: pgcluster.WorkerSettings()},
		pgcluster.ServerSpec{Name: "worker1", Settings: pgcluster.WorkerSettings()},
		pgcluster.ServerSpec{Name: "worker2", Settings: pgcluster.WorkerSettings()})
	log := testLogger(t)
	h := startHandler(t, Config{
		Metadata:         fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", servers[0].Host, servers[0].Port),
		Logger:           log,
		RecoveryInterval: time.Second,
		DeadlockInterval: 200 * time.Millisecond,
	})
	c := &cluster{workers: servers[1:]}
	ctx := testCtx(t)
	for _, w := range c.workers {
		id, err := h.Store().AddNode(ctx, w.Host, w.Port, "")
		if err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, id)
	}
	host, port := serve(t, h, log)
	c.env = env{pg: servers[0], handler: h, host: host, port: port}
	return c
}

// runOn runs statements on a server, failing the test on error.
func runOn(t testing.TB, s *pgcluster.Server, stmts ...string) {
	t.Helper()
	ctx := testCtx(t)
	conn, err := s.Connect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %s: %v", s.Name, q, err)
		}
	}
}

// distribute creates a table (ddl is its CREATE TABLE, naming it name) on
// the metadata database and its shards on the workers, round robin, and
// records it in the catalog: hash-distributed on column of type typ with
// shardCount shards, co-located with colocateWith ("" for a new group);
// shardCount 0 makes a reference table.
func (c *cluster) distribute(t testing.TB, ddl, name, column string, typ catalog.Type, shardCount int, colocateWith string) {
	t.Helper()
	ctx := testCtx(t)
	runOn(t, c.pg, ddl)
	rel := catalog.RelationName{Schema: "public", Name: name}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		rel = catalog.RelationName{Schema: name[:i], Name: name[i+1:]}
	}
	tb := catalog.Table{Relation: rel, Method: catalog.MethodHash, Column: column, ColumnType: typ, ShardCount: shardCount}
	if shardCount == 0 {
		tb = catalog.Table{Relation: rel, Method: catalog.MethodReference, ShardCount: 1}
	}
	var placements []catalog.Placement
	err := c.handler.Store().Update(ctx, func(tx *store.Tx) error {
		snap, err := tx.Snapshot(ctx)
		if err != nil {
			return err
		}
		if colocateWith != "" {
			other, ok := snap.Table("public", colocateWith)
			if !ok {
				return fmt.Errorf("no table %s", colocateWith)
			}
			tb.ColocationID = other.ColocationID
		} else if tb.ColocationID, err = tx.CreateColocationGroup(ctx, catalog.ColocationGroup{
			Method: tb.Method, ShardCount: tb.ShardCount, ColumnType: tb.DistributionType()}); err != nil {
			return err
		}
		if _, err := tx.AddDistributedTable(ctx, tb); err != nil {
			return err
		}
		ranges, err := catalog.NewShardRanges(tb.ShardCount)
		if err != nil {
			return err
		}
		if shardCount == 0 {
			ranges = []catalog.HashRange{catalog.FullRange}
		}
		shards, err := tx.AddShards(ctx, rel, "", ranges)
		if err != nil {
			return err
		}
		placements = placements[:0]
		for i, sh := range shards {
			if shardCount == 0 {
				for _, n := range c.nodes {
					placements = append(placements, catalog.Placement{ShardID: sh.ID, NodeID: n})
				}
				continue
			}
			placements = append(placements, catalog.Placement{ShardID: sh.ID, NodeID: c.nodes[i%len(c.nodes)]})
		}
		return tx.AddPlacements(ctx, placements...)
	})
	if err != nil {
		t.Fatalf("distribute %s: %v", name, err)
	}
	snap, err := c.handler.Store().Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byNode := map[int32][]string{}
	for _, sh := range snap.ShardsOf(rel) {
		shardDDL := strings.Replace(ddl, name, sh.Name(), 1)
		if rel.Schema != "public" {
			shardDDL = "CREATE SCHEMA IF NOT EXISTS " + rel.Schema + "; " + strings.Replace(ddl, name, rel.Schema+"."+sh.Name(), 1)
		}
		for _, p := range snap.PlacementsOf(sh.ID) {
			byNode[p.NodeID] = append(byNode[p.NodeID], shardDDL)
		}
	}
	for i, n := range c.nodes {
		if len(byNode[n]) > 0 {
			runOn(t, c.workers[i], strings.Join(byNode[n], ";\n"))
		}
	}
}

// worker returns the pgcluster server of a node id.
func (c *cluster) worker(node int32) *pgcluster.Server {
	for i, n := range c.nodes {
		if n == node {
			return c.workers[i]
		}
	}
	return nil
}

// queryStrings runs a query and returns its rows as text (simple
// protocol), for comparisons.
func queryStrings(t testing.TB, conn *pgx.Conn, q string, args ...any) [][]string {
	t.Helper()
	ctx := testCtx(t)
	rows, err := conn.Query(ctx, q, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]string, len(raw))
		for i, v := range raw {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = string(v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// mustExec runs a statement through a connection and returns its tag.
func mustExec(t testing.TB, conn *pgx.Conn, q string, args ...any) string {
	t.Helper()
	tag, err := conn.Exec(testCtx(t), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return tag.String()
}
