package executor

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
)

// TestSelectForUpdateAcrossShards: SELECT ... FOR UPDATE over several
// shards locks the rows on the workers, within the session's distributed
// transaction, until it ends.
func TestSelectForUpdateAcrossShards(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	a, b := c.connect(t), c.connect(t)
	c.distribute(t, "CREATE TABLE jobs (id bigint PRIMARY KEY, state text)", "jobs", "id", catalog.TypeInt8, 4, "")
	mustExec(t, a, "INSERT INTO jobs SELECT g, 'new' FROM generate_series(1, 20) g")

	mustExec(t, a, "BEGIN")
	if got := queryStrings(t, a, "SELECT id FROM jobs WHERE state = 'new' ORDER BY id FOR UPDATE"); len(got) != 20 || got[0][0] != "1" {
		t.Fatalf("FOR UPDATE across shards: %v", got)
	}
	// Every row is locked, on whichever worker holds it.
	for _, id := range []string{"1", "2", "3", "17"} {
		_, err := b.Exec(ctx, "SELECT id FROM jobs WHERE id = "+id+" FOR UPDATE NOWAIT")
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "55P03" {
			t.Errorf("row %s locked by the other session: %v, want 55P03", id, err)
		}
	}
	// SKIP LOCKED across shards skips them all.
	if got := queryStrings(t, b, "SELECT id FROM jobs ORDER BY id FOR UPDATE SKIP LOCKED"); len(got) != 0 {
		t.Errorf("SKIP LOCKED while locked: %v", got)
	}
	mustExec(t, a, "COMMIT")
	if got := queryStrings(t, b, "SELECT id FROM jobs WHERE id < 4 ORDER BY id FOR SHARE NOWAIT"); len(got) != 3 {
		t.Errorf("after COMMIT: %v", got)
	}
	// Shapes PostgreSQL refuses are refused with its message.
	var pe *pgconn.PgError
	if _, err := a.Exec(ctx, "SELECT count(*) FROM jobs FOR UPDATE"); !errors.As(err, &pe) || pe.Code != "0A000" {
		t.Errorf("FOR UPDATE with count(*): %v, want 0A000", err)
	}
}
