package dtx

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/executor/failpoint"
)

// setStepHook installs a test hook at the 2PC steps until cleanup.
func setStepHook(t *testing.T, h func(failpoint.Name) error) {
	stepHook.Store(&h)
	t.Cleanup(func() { stepHook.Store(nil) })
}

// insertBoth runs a 2PC transaction inserting row into crash_t on both
// workers and returns Commit's error.
func insertBoth(ctx context.Context, coord *Coordinator, row string) error {
	tx := coord.Begin(coord.cfg.Workers.NewSession(), TxnOptions{})
	for _, n := range []int32{1, 2} {
		if _, err := tx.Exec(ctx, n, fmt.Sprintf("INSERT INTO crash_t VALUES ('%s')", row)); err != nil {
			tx.Rollback(ctx)
			return err
		}
		tx.MarkWrite(n)
	}
	return tx.Commit(ctx)
}

// TestRecoveryLeavesInFlight runs recovery, from another coordinator,
// while a transaction is prepared on both workers and its coordinator has
// not decided yet: recovery must leave it alone, and the commit must go
// through. Then the same with the decision durable and nothing committed.
func TestRecoveryLeavesInFlight(t *testing.T) {
	c := startCluster(t)
	c.onWorkers(t, helperCreate)
	coord := c.newCoordinator(t, "live", testLogger(t, hclog.Warn))
	other := c.newCoordinator(t, "other", testLogger(t, hclog.Warn))
	ctx := testCtx(t, time.Minute)
	for _, point := range []failpoint.Name{failpoint.AfterPrepare, failpoint.AfterDecision} {
		var res Result
		var rerr error
		setStepHook(t, func(n failpoint.Name) error {
			if n == point {
				res, rerr = other.Recover(ctx)
			}
			return nil
		})
		if err := insertBoth(ctx, coord, string(point)); err != nil {
			t.Fatalf("%s: commit: %v", point, err)
		}
		stepHook.Store(nil)
		if rerr != nil {
			t.Fatalf("%s: recovery: %v", point, rerr)
		}
		switch point {
		case failpoint.AfterPrepare:
			if res.InFlight != 2 || res.Recovered() != 0 {
				t.Fatalf("%s: recovery did %+v, want 2 in flight", point, res)
			}
		case failpoint.AfterDecision:
			// the decision is durable: recovery may commit, never roll back.
			if res.RolledBack != 0 || res.Committed+res.InFlight != 2 {
				t.Fatalf("%s: recovery did %+v", point, res)
			}
		}
		c.checkAtomic(t, []string{string(point)})
	}
	c.recoverAll(t, other, 10*time.Second)
}

// TestWorkerCrash stops a worker at once (as a crash) at each step of 2PC,
// restarts it, recovers, and checks that the transaction is all-or-nothing
// and present if Commit succeeded.
func TestWorkerCrash(t *testing.T) {
	c := startCluster(t)
	c.onWorkers(t, helperCreate)
	coord := c.newCoordinator(t, "c1", testLogger(t, hclog.Error))
	ctx := testCtx(t, 90*time.Second)
	for _, point := range []failpoint.Name{failpoint.BeforePrepare, failpoint.AfterPrepare, failpoint.AfterDecision, failpoint.MidCommit} {
		for _, node := range []int32{1, 2} {
			t.Run(fmt.Sprintf("%s/worker%d", point, node), func(t *testing.T) {
				w := c.worker(node)
				setStepHook(t, func(n failpoint.Name) error {
					if n == point {
						if err := w.StopImmediate(ctx); err != nil {
							t.Errorf("stop: %v", err)
						}
					}
					return nil
				})
				row := strings.ReplaceAll(string(point), "2pc-", "") + fmt.Sprint(node)
				err := insertBoth(ctx, coord, row)
				stepHook.Store(nil)
				if err := w.Start(ctx); err != nil {
					t.Fatal(err)
				}
				wantOK := point != failpoint.BeforePrepare
				if (err == nil) != wantOK {
					t.Fatalf("commit: %v, want success %v", err, wantOK)
				}
				if err != nil {
					t.Logf("commit failed as it should: %v (SQLSTATE %s)", err, sqlState(err))
					if sqlState(err) != pgerrcode.ConnectionFailure {
						t.Fatalf("SQLSTATE %s, want 08006", sqlState(err))
					}
				}
				c.recoverAll(t, coord, 20*time.Second)
				var acked []string
				if err == nil {
					acked = append(acked, row)
				}
				c.checkAtomic(t, acked)
			})
		}
	}
}

// TestHungCoordinator pauses a coordinator between PREPARE and its
// decision for longer than DecisionTimeout: the metadata database ends its
// decision transaction, so recovery (here from another coordinator) may
// roll the prepared parts back, and the paused commit must then fail
// instead of committing.
func TestHungCoordinator(t *testing.T) {
	c := startCluster(t)
	c.onWorkers(t, helperCreate)
	coord := c.newCoordinator(t, "hung", testLogger(t, hclog.Error))
	coord.cfg.DecisionTimeout = 300 * time.Millisecond
	other := c.newCoordinator(t, "other", testLogger(t, hclog.Warn))
	ctx := testCtx(t, time.Minute)
	var during Result
	setStepHook(t, func(n failpoint.Name) error {
		if n != failpoint.AfterPrepare {
			return nil
		}
		res, err := other.Recover(ctx)
		if err != nil || res.InFlight != 2 {
			t.Errorf("recovery before the timeout: %+v, %v; want 2 in flight", res, err)
		}
		time.Sleep(time.Second)
		during, err = other.Recover(ctx)
		if err != nil {
			t.Errorf("recovery after the timeout: %v", err)
		}
		return nil
	})
	err := insertBoth(ctx, coord, "hung")
	if err == nil {
		t.Fatal("a commit whose decision timed out succeeded")
	}
	t.Logf("commit failed as it should: %v (SQLSTATE %s)", err, sqlState(err))
	if sqlState(err) != pgerrcode.TransactionRollback {
		t.Fatalf("SQLSTATE %s, want 40000", sqlState(err))
	}
	if during.RolledBack != 2 {
		t.Fatalf("recovery after the decision timed out did %+v, want 2 rolled back", during)
	}
	c.recoverAll(t, other, 10*time.Second)
	if rows := c.checkAtomic(t, nil); len(rows) != 0 {
		t.Fatalf("rows %v after an aborted commit", rows)
	}
}

// TestMetadataCrash crashes the metadata database between PREPARE and the
// decision's commit: the coordinator cannot know the outcome from its
// connection, asks the restarted database, finds no decision, and rolls
// the prepared parts back itself.
func TestMetadataCrash(t *testing.T) {
	c := startCluster(t)
	c.onWorkers(t, helperCreate)
	coord := c.newCoordinator(t, "c1", testLogger(t, hclog.Error))
	ctx := testCtx(t, time.Minute)
	setStepHook(t, func(n failpoint.Name) error {
		if n == failpoint.AfterPrepare {
			if err := c.meta.StopImmediate(ctx); err != nil {
				t.Errorf("stop: %v", err)
			}
			if err := c.meta.Start(ctx); err != nil {
				t.Errorf("start: %v", err)
			}
		}
		return nil
	})
	err := insertBoth(ctx, coord, "lost")
	if sqlState(err) != pgerrcode.TransactionRollback {
		t.Fatalf("commit: %v (SQLSTATE %s), want 40000", err, sqlState(err))
	}
	t.Logf("commit failed as it should: %v", err)
	if n := c.preparedCount(t); n != 0 {
		t.Fatalf("%d prepared transactions left by the coordinator", n)
	}
	if rows := c.checkAtomic(t, nil); len(rows) != 0 {
		t.Fatalf("rows %v after an aborted commit", rows)
	}
}
