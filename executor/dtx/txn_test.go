package dtx

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgerrcode"
)

// TestTxn runs the commit paths against two real workers.
func TestTxn(t *testing.T) {
	c := startCluster(t)
	c.onWorkers(t, "CREATE TABLE kv (k text PRIMARY KEY, v int NOT NULL)")
	coord := c.newCoordinator(t, "c1", testLogger(t, hclog.Warn))
	pools := coord.cfg.Workers
	ctx := testCtx(t, time.Minute)
	keys := func(node int32) string {
		return strings.Join(c.strs(t, c.worker(node), "SELECT k FROM kv"), ",")
	}
	reset := func() { c.onWorkers(t, "TRUNCATE kv") }
	decisions := func() int64 { return c.int64Of(t, c.meta, "SELECT count(*) FROM pgfed.transaction") }

	t.Run("one worker commits alone", func(t *testing.T) {
		reset()
		before := decisions()
		tx := coord.Begin(pools.NewSession(), TxnOptions{})
		mustExec(t, ctx, tx, 1, "INSERT INTO kv VALUES ('a', 1)")
		if _, err := tx.Exec(ctx, 2, "SELECT count(*) FROM kv"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if got := keys(1); got != "a" {
			t.Fatalf("worker 1 has %q", got)
		}
		if d := decisions(); d != before {
			t.Fatalf("1PC wrote %d decision rows", d-before)
		}
	})

	t.Run("two workers commit with 2PC", func(t *testing.T) {
		reset()
		tx := coord.Begin(pools.NewSession(), TxnOptions{})
		mustExec(t, ctx, tx, 1, "INSERT INTO kv VALUES ('a', 1)")
		mustExec(t, ctx, tx, 2, "INSERT INTO kv VALUES ('b', 2)")
		before := decisions()
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if keys(1) != "a" || keys(2) != "b" {
			t.Fatalf("workers have %q and %q", keys(1), keys(2))
		}
		if d := decisions(); d != before+2 {
			t.Fatalf("2PC wrote %d decision rows, want 2", d-before)
		}
		if n := c.preparedCount(t); n != 0 {
			t.Fatalf("%d prepared transactions left", n)
		}
		res, err := coord.Recover(ctx)
		if err != nil || res.Recovered() != 0 || res.Deleted < 2 {
			t.Fatalf("recovery after a clean 2PC: %+v, %v", res, err)
		}
		if d := decisions(); d != 0 {
			t.Fatalf("%d decision rows left after recovery", d)
		}
	})

	t.Run("rollback", func(t *testing.T) {
		reset()
		tx := coord.Begin(pools.NewSession(), TxnOptions{})
		mustExec(t, ctx, tx, 1, "INSERT INTO kv VALUES ('a', 1)")
		mustExec(t, ctx, tx, 2, "INSERT INTO kv VALUES ('b', 2)")
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if keys(1) != "" || keys(2) != "" {
			t.Fatalf("rolled back rows visible: %q %q", keys(1), keys(2))
		}
		if err := tx.Commit(ctx); sqlState(err) != pgerrcode.InvalidTransactionState {
			t.Fatalf("commit after rollback: %v", err)
		}
	})

	t.Run("savepoints replayed on a worker joined later", func(t *testing.T) {
		reset()
		tx := coord.Begin(pools.NewSession(), TxnOptions{})
		mustExec(t, ctx, tx, 1, "INSERT INTO kv VALUES ('keep1', 1)")
		if err := tx.Savepoint(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		mustExec(t, ctx, tx, 1, "INSERT INTO kv VALUES ('drop1', 1)")
		// worker 2 joins after s1: it must get s1 too.
		mustExec(t, ctx, tx, 2, "INSERT INTO kv VALUES ('drop2', 1)")
		if err := tx.RollbackToSavepoint(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		mustExec(t, ctx, tx, 2, "INSERT INTO kv VALUES ('keep2', 1)")
		if err := tx.Savepoint(ctx, "s2"); err != nil {
			t.Fatal(err)
		}
		// a failed statement, then recover with ROLLBACK TO.
		if _, err := tx.Exec(ctx, 2, "INSERT INTO kv VALUES ('keep2', 1)"); sqlState(err) != pgerrcode.UniqueViolation {
			t.Fatalf("duplicate insert: %v", err)
		}
		// aborted until ROLLBACK TO: worker 1 refuses statements too.
		if _, err := tx.Exec(ctx, 1, "SELECT 1"); sqlState(err) != pgerrcode.InFailedSQLTransaction {
			t.Fatalf("statement in an aborted transaction: %v", err)
		}
		if err := tx.RollbackToSavepoint(ctx, "s2"); err != nil {
			t.Fatal(err)
		}
		if err := tx.ReleaseSavepoint(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		if err := tx.RollbackToSavepoint(ctx, "s2"); sqlState(err) != pgerrcode.InvalidSavepointSpecification {
			t.Fatalf("rollback to a released savepoint: %v", err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if keys(1) != "keep1" || keys(2) != "keep2" {
			t.Fatalf("workers have %q and %q", keys(1), keys(2))
		}
	})

	t.Run("read-only participant commits without 2PC", func(t *testing.T) {
		reset()
		before := decisions()
		tx := coord.Begin(pools.NewSession(), TxnOptions{Isolation: RepeatableRead})
		res, err := tx.Exec(ctx, 2, "SHOW transaction_isolation")
		if err != nil || string(res[0].Rows[0][0]) != "repeatable read" {
			t.Fatalf("isolation on worker 2: %v %v", res, err)
		}
		mustExec(t, ctx, tx, 1, "INSERT INTO kv VALUES ('a', 1)")
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if keys(1) != "a" || decisions() != before {
			t.Fatalf("worker 1 has %q; %d decision rows", keys(1), decisions()-before)
		}
	})

	t.Run("a failed statement releases the other workers at once", func(t *testing.T) {
		reset()
		tx := coord.Begin(pools.NewSession(), TxnOptions{})
		mustExec(t, ctx, tx, 2, "INSERT INTO kv VALUES ('b', 1)")
		if _, err := tx.Exec(ctx, 1, "SELECT 1/0"); sqlState(err) != pgerrcode.DivisionByZero {
			t.Fatalf("division by zero: %v", err)
		}
		// worker 2's row lock is gone before the session ends the transaction
		// (an insert of the same key would wait on it, and time out)
		if got := c.strs(t, c.worker(2), "SET lock_timeout = 2000; INSERT INTO kv VALUES ('b', 2) RETURNING k"); len(got) != 1 {
			t.Fatalf("insert of the failed transaction's key: %v", got)
		}
		if _, err := tx.Exec(ctx, 2, "SELECT 1"); sqlState(err) != pgerrcode.InFailedSQLTransaction {
			t.Fatalf("statement after the failure: %v", err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("read only transaction", func(t *testing.T) {
		tx := coord.Begin(pools.NewSession(), TxnOptions{ReadOnly: true})
		_, err := tx.Exec(ctx, 1, "INSERT INTO kv VALUES ('x', 1)")
		if sqlState(err) != pgerrcode.ReadOnlySQLTransaction {
			t.Fatalf("write in a read-only transaction: %v", err)
		}
		var e *Error
		if !errors.As(err, &e) || e.Node != 1 || !strings.Contains(err.Error(), "worker 1") {
			t.Fatalf("error does not name the worker: %v", err)
		}
		if err := tx.Commit(ctx); sqlState(err) != pgerrcode.InFailedSQLTransaction {
			t.Fatalf("commit of a failed transaction: %v", err)
		}
	})

	t.Run("a failed prepare rolls everything back", func(t *testing.T) {
		reset()
		c.onWorkers(t, "CREATE TABLE IF NOT EXISTS tmp_t (x int)")
		tx := coord.Begin(pools.NewSession(), TxnOptions{})
		mustExec(t, ctx, tx, 1, "INSERT INTO kv VALUES ('a', 1)")
		// PREPARE TRANSACTION refuses a transaction that used a temporary table.
		mustExec(t, ctx, tx, 2, "CREATE TEMP TABLE tt (x int); INSERT INTO kv VALUES ('b', 1)")
		err := tx.Commit(ctx)
		if sqlState(err) != pgerrcode.FeatureNotSupported || !strings.Contains(err.Error(), "prepare on worker 2") {
			t.Fatalf("commit: %v (%s)", err, sqlState(err))
		}
		if keys(1) != "" || keys(2) != "" || c.preparedCount(t) != 0 {
			t.Fatalf("after a failed prepare: %q %q, %d prepared", keys(1), keys(2), c.preparedCount(t))
		}
	})

	t.Run("gid", func(t *testing.T) {
		id := TxID{Epoch: 0x9f86d081884c7d65, Seq: 42}
		gid := formatGID("c-1", id, 7)
		if gid != "pgfed_c-1_9f86d081884c7d6542_7" {
			t.Fatalf("gid %s", gid)
		}
		g, ok := ParseGID(gid)
		if !ok || g.Coordinator != "c-1" || g.Node != 7 || g.String() != gid {
			t.Fatalf("ParseGID = %+v %v", g, ok)
		}
		for _, bad := range []string{"citus_1_2_3", "pgfed_a_b_c", "pgfed_a_9f86d081884c7d6542_0", "pgfed_a_b_1_2"} {
			if _, ok := ParseGID(bad); ok {
				t.Errorf("ParseGID(%q) ok", bad)
			}
		}
	})
}
