package executor

import (
	"fmt"
	"testing"
	"time"
)

// testRecoveryLoop leaves a prepared transaction with pgfed's gid and no
// commit decision on a worker, as a coordinator crash would: the
// handler's recovery loop rolls it back within a few of its rounds.
func testRecoveryLoop(t *testing.T, c *cluster) {
	ctx := testCtx(t)
	w, err := c.workers[0].Connect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(ctx)
	gid := fmt.Sprintf("pgfed_crashed_%016x1_%d", 0xfeed, c.nodes[0])
	for _, q := range []string{"BEGIN", "CREATE TABLE in_doubt (x int)", "PREPARE TRANSACTION '" + gid + "'"} {
		if _, err := w.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var n int
		if err := w.QueryRow(ctx, "SELECT count(*) FROM pg_prepared_xacts WHERE gid = $1", gid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the recovery loop left the prepared transaction in doubt")
		}
		time.Sleep(100 * time.Millisecond)
	}
	var exists bool
	if err := w.QueryRow(ctx, "SELECT to_regclass('in_doubt') IS NOT NULL").Scan(&exists); err != nil || exists {
		t.Errorf("the in-doubt transaction was committed (table exists: %v, %v)", exists, err)
	}
}
