package executor

import (
	"errors"
	"testing"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/wire"
)

// testSessionAbort: when the wire server rejects a message of a batch
// itself, the session aborts the metadata transaction as PostgreSQL would:
// an implicit transaction is rolled back at Sync, a block is left failed.
func testSessionAbort(t *testing.T, e *env) {
	ctx := testCtx(t)
	s := newSession(t, e, nil)
	query(t, s, "CREATE TABLE abort_t (x int)")
	rejected := &wire.Error{Code: pgerrcode.InvalidSQLStatementName, Message: `prepared statement "nosuchstmt" does not exist`}

	insert := func() {
		t.Helper()
		h, desc, err := s.Prepare(ctx, "", "INSERT INTO abort_t VALUES (1)", nil)
		if err != nil {
			t.Fatal(err)
		}
		p := &wire.Portal{Statement: &wire.Statement{Desc: desc, Handle: h}}
		var r recorder
		if _, err := s.Execute(ctx, p, wire.ExecuteOptions{}, &r); err != nil {
			t.Fatal(err)
		}
	}

	// Implicit transaction: INSERT, a rejected Bind, Sync -> nothing kept.
	insert()
	s.Abort(ctx, rejected)
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("sync after abort: %v", err)
	}
	if got := s.TxStatus(); got != 'I' {
		t.Fatalf("status after the aborted batch = %c, want I", got)
	}
	if out := query(t, s, "SELECT count(*) FROM abort_t"); out != "describe 1; row 0; complete SELECT 1" {
		t.Fatalf("rows after an aborted implicit transaction: %s", out)
	}

	// Transaction block: the block is left failed until ROLLBACK.
	query(t, s, "BEGIN")
	insert()
	s.Abort(ctx, rejected)
	s.Abort(ctx, rejected) // a second abort in the same batch is harmless
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("sync after abort: %v", err)
	}
	if got := s.TxStatus(); got != 'E' {
		t.Fatalf("status after an aborted batch in a block = %c, want E", got)
	}
	var r recorder
	err := s.SimpleQuery(ctx, "SELECT 1", &r)
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != pgerrcode.InFailedSQLTransaction {
		t.Fatalf("a query in the failed block: %v, want 25P02", err)
	}
	query(t, s, "ROLLBACK")
	if out := query(t, s, "SELECT count(*) FROM abort_t"); out != "describe 1; row 0; complete SELECT 1" {
		t.Fatalf("rows after a rolled back block: %s", out)
	}
}

// testSessionDeallocateThenPrepare: a statement dropped with SQL
// DEALLOCATE can be prepared again under its name, and a live name is
// refused with 42P05, as PostgreSQL decides.
func testSessionDeallocateThenPrepare(t *testing.T, e *env) {
	ctx := testCtx(t)
	s := newSession(t, e, nil)
	if _, _, err := s.Prepare(ctx, "x", "SELECT 1", nil); err != nil {
		t.Fatal(err)
	}
	_ = s.Sync(ctx)
	_, _, err := s.Prepare(ctx, "x", "SELECT 2", nil)
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != pgerrcode.DuplicatePreparedStatement {
		t.Fatalf("preparing a live name: %v, want 42P05", err)
	}
	_ = s.Sync(ctx)
	for _, drop := range []string{"DEALLOCATE x", "DEALLOCATE ALL", "DISCARD ALL"} {
		query(t, s, drop)
		if _, _, err := s.Prepare(ctx, "x", "SELECT 2", nil); err != nil {
			t.Fatalf("prepare after %s: %v", drop, err)
		}
		if err := s.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
