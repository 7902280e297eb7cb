package dtx

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgerrcode"
)

func TestFindCycle(t *testing.T) {
	e := func(w, b int, node int32) waitEdge { return waitEdge{waiter: w, blocker: b, node: node} }
	cases := []struct {
		n     int
		edges []waitEdge
		want  int // cycle length, 0 for none
	}{
		{3, nil, 0},
		{3, []waitEdge{e(0, 1, 1), e(1, 2, 1)}, 0},
		{2, []waitEdge{e(0, 1, 1), e(1, 0, 2)}, 2},
		{4, []waitEdge{e(0, 1, 1), e(1, 2, 2), e(2, 3, 1), e(3, 1, 2)}, 3},
		{3, []waitEdge{e(2, 0, 1), e(0, 1, 1), e(1, 2, 2)}, 3},
	}
	for i, c := range cases {
		cyc := findCycle(c.n, c.edges)
		if len(cyc) != c.want {
			t.Errorf("case %d: cycle %v, want length %d", i, cyc, c.want)
			continue
		}
		for j, ed := range cyc { // consecutive edges chain and close
			if next := cyc[(j+1)%len(cyc)]; ed.blocker != next.waiter {
				t.Errorf("case %d: cycle %v does not chain", i, cyc)
			}
		}
	}
}

// TestDistributedDeadlock makes two transactions lock rows on two workers
// in opposite orders, which no worker can see as a deadlock; the detector
// must cancel exactly one (the younger) with 40P01, and the other commits.
func TestDistributedDeadlock(t *testing.T) {
	c := startCluster(t)
	c.onWorkers(t, "CREATE TABLE locks (id int PRIMARY KEY, v int NOT NULL); INSERT INTO locks VALUES (1, 0)")
	coord := c.newCoordinator(t, "dl", testLogger(t, hclog.Warn))
	ctx := testCtx(t, 30*time.Second)

	dctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		coord.DeadlockDetector(300 * time.Millisecond).Run(dctx)
	}()
	defer func() { stop(); wg.Wait() }()

	older := coord.Begin(coord.cfg.Workers.NewSession(), TxnOptions{})
	time.Sleep(time.Millisecond)
	younger := coord.Begin(coord.cfg.Workers.NewSession(), TxnOptions{})
	mustExec(t, ctx, older, 1, "UPDATE locks SET v = v + 1 WHERE id = 1")
	mustExec(t, ctx, younger, 2, "UPDATE locks SET v = v + 10 WHERE id = 1")

	errs := make([]error, 2)
	var clients sync.WaitGroup
	for i, step := range []struct {
		tx   *Txn
		node int32
		sql  string
	}{
		{older, 2, "UPDATE locks SET v = v + 1 WHERE id = 1"},
		{younger, 1, "UPDATE locks SET v = v + 10 WHERE id = 1"},
	} {
		clients.Add(1)
		go func() {
			defer clients.Done()
			_, errs[i] = step.tx.Exec(ctx, step.node, step.sql)
			step.tx.MarkWrite(step.node)
		}()
	}
	clients.Wait()

	if errs[0] != nil {
		t.Fatalf("the older transaction failed: %v", errs[0])
	}
	var de *DeadlockError
	if !errors.As(errs[1], &de) || sqlState(errs[1]) != pgerrcode.DeadlockDetected {
		t.Fatalf("the younger transaction got %v, want a deadlock error", errs[1])
	}
	if de.Victim != younger.ID() || len(de.Cycle) != 2 || !strings.Contains(errs[1].Error(), "worker 1") || !strings.Contains(errs[1].Error(), "worker 2") {
		t.Fatalf("deadlock error does not name the cycle: %v", errs[1])
	}
	t.Logf("victim got: %v", errs[1])
	if err := younger.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := older.Commit(ctx); err != nil {
		t.Fatalf("the older transaction could not commit: %v", err)
	}
	for _, w := range c.workers {
		if v := c.int64Of(t, w, "SELECT v FROM locks"); v != 1 {
			t.Fatalf("%s has v = %d, want 1 (only the older transaction)", w.Name, v)
		}
	}
}
