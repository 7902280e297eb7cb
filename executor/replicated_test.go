package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestReplicatedWritesDoNotDeadlock: concurrent transactions writing the
// same rows of reference tables (pgbench's tellers and branches) must
// queue on the first placement, not lock the copies in different orders on
// different workers: no transaction may be cancelled as a deadlock victim.
func TestReplicatedWritesDoNotDeadlock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL servers")
	}
	c := newCluster(t)
	c.distribute(t, "CREATE TABLE tellers (tid int PRIMARY KEY, balance int NOT NULL)", "tellers", "", 0, 0, "")
	c.distribute(t, "CREATE TABLE branches (bid int PRIMARY KEY, balance int NOT NULL)", "branches", "", 0, 0, "")
	setup := c.connect(t)
	mustExec(t, setup, "INSERT INTO tellers VALUES (1, 0), (2, 0)")
	mustExec(t, setup, "INSERT INTO branches VALUES (1, 0)")

	const clients, txns = 6, 40
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for k := range clients {
		conn := c.connect(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range txns {
				tid := 1 + (k+i)%2
				batch := fmt.Sprintf("BEGIN; UPDATE tellers SET balance = balance + 1 WHERE tid = %d; UPDATE branches SET balance = balance + 1 WHERE bid = 1; COMMIT;", tid)
				if _, err := conn.Exec(ctx, batch); err != nil {
					errs <- fmt.Errorf("client %d, transaction %d: %w", k, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == pgerrcode.DeadlockDetected {
			t.Errorf("deadlock between reference-table copies: %v", err)
		} else {
			t.Error(err)
		}
	}
	want := fmt.Sprint(clients * txns)
	if got := joinRows(queryStrings(t, setup, "SELECT sum(balance) FROM tellers")); got != want {
		t.Errorf("tellers' total = %s, want %s", got, want)
	}
	if got := joinRows(queryStrings(t, setup, "SELECT balance FROM branches")); got != want {
		t.Errorf("branch balance = %s, want %s", got, want)
	}
}
