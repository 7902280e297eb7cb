package executor

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
)

// testDistributedDeadlock makes two sessions lock rows on two workers in
// opposite orders: the handler's deadlock detector cancels one (40P01),
// and the other goes on and commits.
func testDistributedDeadlock(t *testing.T, c *cluster) {
	ctx := testCtx(t)
	// Two ids whose shards are on different workers.
	snap, _ := c.handler.Store().Snapshot(ctx)
	rel := catalog.RelationName{Schema: "public", Name: "orders"}
	nodeOf := func(id int64) int32 {
		sh, _ := snap.ShardForHash(rel, catalog.HashInt8(id))
		return snap.PlacementsOf(sh.ID)[0].NodeID
	}
	a, b := int64(1), int64(2)
	for nodeOf(b) == nodeOf(a) {
		b++
	}
	s1, s2 := c.connect(t), c.connect(t)
	mustExec(t, s1, "BEGIN")
	mustExec(t, s2, "BEGIN")
	mustExec(t, s1, "UPDATE orders SET note = 's1' WHERE id = $1", a)
	mustExec(t, s2, "UPDATE orders SET note = 's2' WHERE id = $1", b)
	errs := make(chan error, 2)
	go func() {
		_, err := s1.Exec(ctx, "UPDATE orders SET note = 's1' WHERE id = $1", b)
		errs <- err
	}()
	time.Sleep(100 * time.Millisecond)
	go func() {
		_, err := s2.Exec(ctx, "UPDATE orders SET note = 's2' WHERE id = $1", a)
		errs <- err
	}()
	var deadlocks, ok int
	for range 2 {
		select {
		case err := <-errs:
			var pe *pgconn.PgError
			switch {
			case err == nil:
				ok++
			case errors.As(err, &pe) && pe.Code == "40P01":
				deadlocks++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the distributed deadlock was not broken")
		}
	}
	if deadlocks != 1 || ok != 1 {
		t.Fatalf("%d deadlock errors and %d successes, want one of each", deadlocks, ok)
	}
	s1.Exec(ctx, "ROLLBACK")
	s2.Exec(ctx, "ROLLBACK")
}
