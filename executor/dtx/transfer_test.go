package dtx

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// TestTransfers is the bank test: goroutines move money between accounts
// on the two workers (2PC) and within worker 1 (1PC) for a few seconds,
// while both workers are crashed and restarted in turn and a recovery loop
// runs. In the end the total is unchanged, both sides of every transfer
// are there or neither, every acknowledged transfer is there once, and
// every balance matches the transfer log.
func TestTransfers(t *testing.T) {
	const (
		accounts = 8 // per worker
		initial  = 1000
		clients  = 4
		runFor   = 8 * time.Second
	)
	c := startCluster(t)
	c.onWorkers(t, fmt.Sprintf(`CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
		CREATE TABLE transfers (id text PRIMARY KEY, amount bigint NOT NULL);
		INSERT INTO accounts SELECT i, %d FROM generate_series(1, %d) i`, initial, accounts))
	coord := c.newCoordinator(t, "bank", testLogger(t, hclog.Error))
	ctx := testCtx(t, time.Minute)
	runCtx, stopRun := context.WithTimeout(ctx, runFor)
	defer stopRun()
	recCtx, stopRecovery := context.WithCancel(ctx)
	defer stopRecovery()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		coord.RunRecovery(recCtx, 100*time.Millisecond)
	}()
	wg.Add(1)
	go func() { // crashes worker 2, then worker 1
		defer wg.Done()
		for i, node := range []int32{2, 1} {
			select {
			case <-runCtx.Done():
				return
			case <-time.After(runFor / 4):
			}
			w := c.worker(node)
			if err := w.StopImmediate(ctx); err != nil {
				t.Errorf("stop worker %d: %v", node, err)
			}
			time.Sleep(time.Duration(100*(i+1)) * time.Millisecond)
			if err := w.Start(ctx); err != nil {
				t.Errorf("start worker %d: %v", node, err)
			}
		}
	}()

	var mu sync.Mutex
	acked := map[string]bool{}
	failed := map[string]int{} // by SQLSTATE
	var clientsWG sync.WaitGroup
	for g := range clients {
		clientsWG.Add(1)
		go func() {
			defer clientsWG.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			session := coord.cfg.Workers.NewSession()
			for i := 0; runCtx.Err() == nil; i++ {
				a, b := rng.IntN(accounts)+1, rng.IntN(accounts)+1
				amount := rng.IntN(101) - 50
				local := rng.IntN(4) == 0 && a != b
				id := fmt.Sprintf("x%d-%d", g, i)
				if local {
					id = "l" + id[1:]
				}
				err := transfer(runCtx, coord, session, id, a, b, amount, local)
				mu.Lock()
				if err == nil {
					acked[id] = true
				} else {
					failed[sqlState(err)]++
					if failed[sqlState(err)] == 1 {
						t.Logf("first failure with SQLSTATE %s: %v", sqlState(err), err)
					}
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond) // a worker is down: do not spin
				}
			}
		}()
	}
	clientsWG.Wait()
	stopRecovery()
	wg.Wait()

	c.recoverAll(t, coord, 20*time.Second)
	t.Logf("acknowledged %d transfers; failed, by SQLSTATE: %v", len(acked), failed)
	if len(acked) < 50 {
		t.Fatalf("only %d transfers went through", len(acked))
	}
	var total int64
	for _, w := range c.workers {
		total += c.int64Of(t, w, "SELECT sum(balance) FROM accounts")
	}
	if total != 2*accounts*initial {
		t.Fatalf("total %d, want %d", total, 2*accounts*initial)
	}
	x1 := c.strs(t, c.workers[0], "SELECT id FROM transfers WHERE id LIKE 'x%'")
	x2 := c.strs(t, c.workers[1], "SELECT id FROM transfers WHERE id LIKE 'x%'")
	if fmt.Sprint(x1) != fmt.Sprint(x2) {
		t.Fatalf("cross-worker transfers differ: %d on worker 1, %d on worker 2", len(x1), len(x2))
	}
	present := map[string]bool{}
	for _, id := range c.strs(t, c.workers[0], "SELECT id FROM transfers") {
		present[id] = true
	}
	for id := range acked {
		if !present[id] {
			t.Fatalf("acknowledged transfer %s lost", id)
		}
	}
	// Every balance change is in the log, exactly once.
	w1 := c.int64Of(t, c.workers[0], "SELECT sum(balance) + coalesce((SELECT sum(amount) FROM transfers WHERE id LIKE 'x%'), 0) FROM accounts")
	w2 := c.int64Of(t, c.workers[1], "SELECT sum(balance) - coalesce((SELECT sum(amount) FROM transfers), 0) FROM accounts")
	if w1 != accounts*initial || w2 != accounts*initial {
		t.Fatalf("balances do not match the transfer log: %d, %d", w1, w2)
	}
}

// transfer moves amount from account a on worker 1 to account b on worker
// 2 (or, when local, to account b on worker 1), logging the transfer on
// every worker written. Locks are taken in one global order (worker 1
// first, lower account first) so transfers never deadlock.
func transfer(ctx context.Context, coord *Coordinator, s *Session, id string, a, b, amount int, local bool) (err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	tx := coord.Begin(s, TxnOptions{})
	defer func() {
		if err != nil {
			tx.Rollback(ctx)
		}
	}()
	amt := strconv.Itoa(amount)
	if local {
		lo, hi, sign := a, b, "-"
		if b < a {
			lo, hi, sign = b, a, "+"
		}
		sql := fmt.Sprintf(`UPDATE accounts SET balance = balance %s %s WHERE id = %d;
			UPDATE accounts SET balance = balance %s %s WHERE id = %d;
			INSERT INTO transfers VALUES ('%s', 0)`, sign, amt, lo, map[string]string{"-": "+", "+": "-"}[sign], amt, hi, id)
		if _, err := tx.Exec(ctx, 1, sql); err != nil {
			return err
		}
		tx.MarkWrite(1)
		return tx.Commit(ctx)
	}
	if _, err := tx.Exec(ctx, 1, fmt.Sprintf("UPDATE accounts SET balance = balance - %s WHERE id = %d; INSERT INTO transfers VALUES ('%s', %s)", amt, a, id, amt)); err != nil {
		return err
	}
	tx.MarkWrite(1)
	if _, err := tx.Exec(ctx, 2, fmt.Sprintf("UPDATE accounts SET balance = balance + %s WHERE id = %d; INSERT INTO transfers VALUES ('%s', %s)", amt, b, id, amt)); err != nil {
		return err
	}
	tx.MarkWrite(2)
	return tx.Commit(ctx)
}
