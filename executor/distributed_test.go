package executor

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/executor/pgcluster"
)

// TestDistributed runs the distributed statement tests against one
// cluster (metadata database and two workers), to keep the run short.
func TestDistributed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL servers")
	}
	c := newCluster(t)
	oracle := pgcluster.StartForTest(t, pgcluster.ServerSpec{Name: "oracle"})[0]
	c.distribute(t, "CREATE TABLE orders (id bigint PRIMARY KEY, customer int, amount numeric, note text)", "orders", "id", catalog.TypeInt8, 8, "")
	c.distribute(t, "CREATE TABLE items (order_id bigint, n int, price numeric)", "items", "order_id", catalog.TypeInt8, 8, "orders")
	c.distribute(t, "CREATE TABLE customers (cid int PRIMARY KEY, name text)", "customers", "cid", catalog.TypeInt4, 4, "")
	conn := c.connect(t)
	for i := 1; i <= 40; i++ {
		mustExec(t, conn, fmt.Sprintf("INSERT INTO orders VALUES (%d, %d, %d.5, 'n%d')", i, i%7, i*10, i))
		mustExec(t, conn, fmt.Sprintf("INSERT INTO items VALUES (%d, 1, %d), (%d, 2, %d)", i, i, i, i*2))
	}
	for i := 0; i < 7; i++ {
		mustExec(t, conn, fmt.Sprintf("INSERT INTO customers VALUES (%d, 'c%d')", i, i))
	}
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *cluster)
	}{
		{"differential", func(t *testing.T, c *cluster) { testDifferential(t, c, oracle) }},
		{"router", testRouter},
		{"transactions", testTransactions},
		{"multi-shard", testMultiShard},
		{"limit-stops", testLimitStops},
		{"search-path", testSearchPath},
		{"dml", testDML},
		{"reference-writes", testReferenceWrites},
		{"insert-select", testInsertSelect},
		{"copy", testCopy},
		{"extended-session", testExtendedSession},
		{"script", testScript},
		{"deferred-begin", testDeferredBegin},
		{"pgx-batch", testDistributedBatch},
		{"citus-api", testCitusAPI},
		{"prepared-after-ddl", testPreparedAfterDDL},
		{"worker-statement-generation", testWorkerStatementGeneration},
		{"recovery-loop", testRecoveryLoop},
		{"deadlock", testDistributedDeadlock},
		{"explain", testExplain},
		{"log-remote-commands", testRemoteCommands},
		{"cancel", testCancel},
		// Last: they stop and restart a worker.
		{"reference-failover", testReferenceFailover},
		{"worker-down", testWorkerDown},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, c) })
	}
}

// testRouter checks single-shard statements and their exact tags, and
// that rows land on the worker the hash picks.
func testRouter(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	if tag := mustExec(t, conn, "INSERT INTO orders VALUES (1001, 1, 5, 'x')"); tag != "INSERT 0 1" {
		t.Errorf("insert tag %q", tag)
	}
	var note string
	if err := conn.QueryRow(ctx, "SELECT note FROM orders WHERE id = 1001").Scan(&note); err != nil || note != "x" {
		t.Fatalf("select: %q %v", note, err)
	}
	if tag := mustExec(t, conn, "UPDATE orders SET note = 'y' WHERE id = 1001"); tag != "UPDATE 1" {
		t.Errorf("update tag %q", tag)
	}
	if tag := mustExec(t, conn, "UPDATE orders SET note = 'y' WHERE id = 999999"); tag != "UPDATE 0" {
		t.Errorf("update of nothing tag %q", tag)
	}
	// The row is on exactly one worker, in the shard its hash picks.
	snap, _ := c.handler.Store().Snapshot(ctx)
	sh, _ := snap.ShardForHash(catalog.RelationName{Schema: "public", Name: "orders"}, catalog.HashInt8(1001))
	node := snap.PlacementsOf(sh.ID)[0].NodeID
	w, err := c.worker(node).Connect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(ctx)
	if err := w.QueryRow(ctx, "SELECT note FROM "+sh.Name()+" WHERE id = 1001").Scan(&note); err != nil || note != "y" {
		t.Fatalf("row not in shard %s on node %d: %q %v", sh.Name(), node, note, err)
	}
	if tag := mustExec(t, conn, "DELETE FROM orders WHERE id = 1001"); tag != "DELETE 1" {
		t.Errorf("delete tag %q", tag)
	}
	// Worker errors keep their SQLSTATE and name the worker and shard.
	_, err = conn.Exec(ctx, "INSERT INTO orders VALUES (1, 1, 1, 'dup')")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" {
		t.Fatalf("duplicate key: %v", err)
	}
	if pe.Detail == "" || !containsAll(pe.Detail, "worker", "shard") {
		t.Errorf("detail does not name the worker and shard: %q", pe.Detail)
	}
	// The session is still usable, and prepared statements (pgx's cache)
	// hit different shards.
	for i := 1; i <= 40; i++ {
		var amount string
		var id int64
		if err := conn.QueryRow(ctx, "SELECT id, amount::text FROM orders WHERE id = $1", int64(i)).Scan(&id, &amount); err != nil {
			t.Fatalf("prepared select %d: %v", i, err)
		}
		if id != int64(i) || amount != fmt.Sprintf("%d.5", i*10) {
			t.Fatalf("prepared select %d: %d %s", i, id, amount)
		}
	}
	for i := 1; i <= 10; i++ {
		tag, err := conn.Exec(ctx, "UPDATE orders SET note = $2 WHERE id = $1", int64(i), fmt.Sprintf("p%d", i))
		if err != nil || tag.String() != "UPDATE 1" {
			t.Fatalf("prepared update %d: %v %v", i, tag, err)
		}
	}
	rows := queryStrings(t, conn, "SELECT note FROM orders WHERE id = 3")
	if len(rows) != 1 || rows[0][0] != "p3" {
		t.Errorf("after prepared update: %v", rows)
	}
}

// testTransactions checks transaction blocks across workers.
func testTransactions(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 2001; i <= 2010; i++ {
		if _, err := tx.Exec(ctx, "INSERT INTO orders VALUES ($1, 0, 0, 'tx')", int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Read your writes inside the transaction.
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM orders WHERE note = 'tx'").Scan(&n); err != nil || n != 10 {
		t.Fatalf("count in transaction: %d %v", n, err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM orders WHERE note = 'tx'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("count after rollback: %d %v", n, err)
	}
	// Committed across workers (2PC).
	tx, _ = conn.Begin(ctx)
	for i := 2001; i <= 2010; i++ {
		if _, err := tx.Exec(ctx, "INSERT INTO orders VALUES ($1, 0, 0, 'tx')", int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM orders WHERE note = 'tx'").Scan(&n); err != nil || n != 10 {
		t.Fatalf("count after commit: %d %v", n, err)
	}
	// A failed statement fails the block on both sides until ROLLBACK.
	tx, _ = conn.Begin(ctx)
	if _, err := tx.Exec(ctx, "INSERT INTO orders VALUES (2001, 0, 0, 'dup')"); err == nil {
		t.Fatal("duplicate insert succeeded")
	}
	_, err = tx.Exec(ctx, "SELECT 1")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "25P02" {
		t.Fatalf("local statement after failure: %v", err)
	}
	tx.Rollback(ctx)
	// Savepoints on the workers.
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "UPDATE orders SET note = 'sp' WHERE id = 2001")
	mustExec(t, conn, "SAVEPOINT a")
	mustExec(t, conn, "UPDATE orders SET note = 'sp2' WHERE id = 2001")
	if _, err := conn.Exec(ctx, "INSERT INTO orders VALUES (2002, 0, 0, 'dup')"); err == nil {
		t.Fatal("duplicate insert succeeded")
	}
	mustExec(t, conn, "ROLLBACK TO SAVEPOINT a")
	rows := queryStrings(t, conn, "SELECT note FROM orders WHERE id = 2001")
	if len(rows) != 1 || rows[0][0] != "sp" {
		t.Fatalf("after rollback to savepoint: %v", rows)
	}
	mustExec(t, conn, "COMMIT")
	rows = queryStrings(t, conn, "SELECT note FROM orders WHERE id = 2001")
	if len(rows) != 1 || rows[0][0] != "sp" {
		t.Fatalf("after commit: %v", rows)
	}
	// Multi-shard UPDATE in a transaction, then ROLLBACK: nothing is left.
	mustExec(t, conn, "BEGIN")
	if tag := mustExec(t, conn, "UPDATE orders SET note = 'all' WHERE id > 2000"); tag != "UPDATE 10" {
		t.Errorf("multi-shard update tag %q", tag)
	}
	mustExec(t, conn, "ROLLBACK")
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM orders WHERE note = 'all'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("after rollback of a multi-shard update: %d %v", n, err)
	}
	if tag := mustExec(t, conn, "DELETE FROM orders WHERE id > 2000"); tag != "DELETE 10" {
		t.Errorf("multi-shard delete tag %q", tag)
	}
	// REPEATABLE READ reaches the workers: a block does not see rows
	// another session commits after its first read of each worker.
	other := c.connect(t)
	mustExec(t, conn, "BEGIN ISOLATION LEVEL REPEATABLE READ")
	before := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders"))
	mustExec(t, other, "INSERT INTO orders VALUES (2101, 0, 0, 'rr'), (2102, 0, 0, 'rr'), (2103, 0, 0, 'rr')")
	if after := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders")); after != before {
		t.Errorf("repeatable read: %s rows, then %s", before, after)
	}
	mustExec(t, conn, "COMMIT")
	if after := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders WHERE note = 'rr'")); after != "3" {
		t.Errorf("after the block: %s", after)
	}
	// READ ONLY too.
	mustExec(t, conn, "BEGIN READ ONLY")
	_, err = conn.Exec(ctx, "DELETE FROM orders WHERE note = 'rr'")
	if !errors.As(err, &pe) || pe.Code != "25006" {
		t.Errorf("write in a read-only block: %v", err)
	}
	mustExec(t, conn, "ROLLBACK")
	mustExec(t, conn, "DELETE FROM orders WHERE note = 'rr'")
}

// containsAll reports whether s contains every one of subs.
func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !contains(s, x) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool {
	return len(sub) == 0 || len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub))
}
