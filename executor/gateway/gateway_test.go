package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/consensus/commit"
)

// refusedWith fails unless err is the gateway's refusal (42501) with a
// message naming the gateway, the organization and want.
func refusedWith(t *testing.T, err error, org, want string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v, want the gateway's refusal (%s)", err, want)
	}
	if pe.Code != pgerrcode.InsufficientPrivilege || !strings.Contains(pe.Message, "pgfed gateway of organization "+org) || !strings.Contains(pe.Message, want) {
		t.Fatalf("error %s %q, want 42501 from the gateway of %s about %q", pe.Code, pe.Message, org, want)
	}
}

// TestGateway runs the gateway's integration checks against one
// federation of three banks.
func TestGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL servers")
	}
	f := newFed(t, 3)
	b1, b2 := f.banks[0], f.banks[1]

	t.Run("ordinary statements and COPY", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c := f.through(ctx, b1)
		var n int64
		if err := c.QueryRow(ctx, "SELECT sum(balance) FROM accounts WHERE id <= $1", 10).Scan(&n); err != nil || n != 10*testBalance {
			t.Fatalf("sum = %d, %v; want %d", n, err, 10*testBalance)
		}
		if _, err := c.Exec(ctx, "CREATE TABLE transfers_102008 (gid text, account int, delta bigint)"); err != nil {
			t.Fatal(err)
		}
		rows := [][]any{{"g1", 1, int64(5)}, {"g2", 2, int64(-5)}, {"g3", 3, int64(7)}}
		if k, err := c.CopyFrom(ctx, pgx.Identifier{"transfers_102008"}, []string{"gid", "account", "delta"}, pgx.CopyFromRows(rows)); err != nil || k != 3 {
			t.Fatalf("COPY FROM: %d rows, %v", k, err)
		}
		var out strings.Builder
		tag, err := c.PgConn().CopyTo(ctx, &out, "COPY (SELECT gid, delta FROM transfers_102008 ORDER BY gid) TO STDOUT")
		if err != nil || tag.RowsAffected() != 3 || out.String() != "g1\t5\ng2\t-5\ng3\t7\n" {
			t.Fatalf("COPY TO: %q, %v, %v", out.String(), tag, err)
		}
		// A transaction block commits as usual.
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM transfers_102008 WHERE gid = $1", "g2"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRow(ctx, "SELECT count(*) FROM transfers_102008").Scan(&n); err != nil || n != 2 {
			t.Fatalf("count = %d, %v; want 2", n, err)
		}
	})

	t.Run("simple query with COMMIT PREPARED", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c := f.through(ctx, b1).PgConn()
		_, err := c.Exec(ctx, "SELECT 1; COMMIT PREPARED 'pgfedx_x_1_a'; SELECT 2").ReadAll()
		refusedWith(t, err, b1.org, "COMMIT PREPARED is refused")
		if s := c.TxStatus(); s != 'I' {
			t.Fatalf("transaction status %c after a refusal outside a block, want I", s)
		}
		// Inside a transaction block the refusal aborts it, as an error does.
		if _, err := c.Exec(ctx, "BEGIN; INSERT INTO transfers VALUES ('t-simple', 1, 1)").ReadAll(); err != nil {
			t.Fatal(err)
		}
		_, err = c.Exec(ctx, "ROLLBACK PREPARED 'pgfedx_x_1_a'").ReadAll()
		refusedWith(t, err, b1.org, "ROLLBACK PREPARED is refused")
		if s := c.TxStatus(); s != 'E' {
			t.Fatalf("transaction status %c after a refusal in a block, want E", s)
		}
		_, err = c.Exec(ctx, "COMMIT PREPARED 'y'").ReadAll()
		refusedWith(t, err, b1.org, "COMMIT PREPARED is refused")
		if _, err := c.Exec(ctx, "ROLLBACK").ReadAll(); err != nil {
			t.Fatal(err)
		}
		res, err := c.Exec(ctx, "SELECT count(*) FROM transfers WHERE gid = 't-simple'").ReadAll()
		if err != nil || string(res[0].Rows[0][0]) != "0" || c.TxStatus() != 'I' {
			t.Fatalf("after ROLLBACK: %v, %v, status %c; want 0 rows, I", res, err, c.TxStatus())
		}
	})

	t.Run("extended protocol recovers at Sync", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c := f.through(ctx, b1)
		_, err := c.Prepare(ctx, "rp", "ROLLBACK PREPARED 'pgfedx_x_1_a'")
		refusedWith(t, err, b1.org, "ROLLBACK PREPARED is refused")
		var n int
		if err := c.QueryRow(ctx, "SELECT $1::int + 1", 41).Scan(&n); err != nil || n != 42 {
			t.Fatalf("after the refusal: %d, %v", n, err)
		}
		// A pipeline: statements before the refused one run, the ones
		// after it are skipped until Sync, the block is aborted.
		pc := c.PgConn()
		if _, err := pc.Exec(ctx, "BEGIN").ReadAll(); err != nil {
			t.Fatal(err)
		}
		b := &pgconn.Batch{}
		b.ExecParams("INSERT INTO transfers VALUES ('t-ext', 1, 1)", nil, nil, nil, nil)
		b.ExecParams("COMMIT PREPARED 'pgfedx_x_1_a'", nil, nil, nil, nil)
		b.ExecParams("INSERT INTO transfers VALUES ('t-ext2', 1, 1)", nil, nil, nil, nil)
		_, err = pc.ExecBatch(ctx, b).ReadAll()
		refusedWith(t, err, b1.org, "COMMIT PREPARED is refused")
		if s := pc.TxStatus(); s != 'E' {
			t.Fatalf("transaction status %c, want E", s)
		}
		if _, err := pc.Exec(ctx, "ROLLBACK").ReadAll(); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRow(ctx, "SELECT count(*) FROM transfers WHERE gid LIKE 't-ext%'").Scan(&n); err != nil || n != 0 {
			t.Fatalf("rows of the aborted block: %d, %v", n, err)
		}
	})

	t.Run("denied statements", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c := f.through(ctx, b1)
		for sql, want := range map[string]string{
			"SELECT * FROM secrets":                                    "table secrets is not among",
			"WITH s AS (SELECT * FROM secrets) SELECT * FROM s":        "table secrets",
			"DO $$BEGIN NULL; END$$":                                   "DO is refused",
			"SELECT pg_terminate_backend(pg_backend_pid())":            "pg_terminate_backend",
			"PREPARE TRANSACTION 'dtx_1_2'":                            "only federated transactions",
			"ALTER ROLE postgres SET search_path = public, pg_catalog": "ALTER DATABASE/ROLE",
		} {
			_, err := c.Exec(ctx, sql)
			refusedWith(t, err, b1.org, want)
		}
		// Catalog reads stay allowed with an allow-list (drivers need them).
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relname = 'secrets'").Scan(&n); err != nil || n != 1 {
			t.Fatalf("catalog read: %d, %v", n, err)
		}
	})

	t.Run("PREPARE TRANSACTION needs the validator", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c1, c2 := f.through(ctx, b1), f.through(ctx, b2)
		// Unknown gid: refused after the wait, the worker's transaction
		// aborted, nothing left prepared.
		gid := f.newGID()
		start := time.Now()
		err := f.prepare(ctx, c1, gid, leg{b1, 1, -10})
		refusedWith(t, err, b1.org, "no pending request")
		if d := time.Since(start); d < testWait {
			t.Fatalf("refused after %v, before the wait of %v", d, testWait)
		}
		if p := f.prepared(ctx, b1); len(p) != 0 {
			t.Fatalf("prepared after a refusal: %v", p)
		}
		// Known gid: the parts pass, each at its own bank only.
		legs := []leg{{b1, 2, -30}, {b2, 2, 30}}
		r := f.request(gid, legs...)
		if err := f.client.Submit(ctx, r); err != nil {
			t.Fatal(err)
		}
		err = f.prepare(ctx, c1, gid, leg{b2, 2, -30}) // bank2's part, at bank1
		refusedWith(t, err, b1.org, "does not list this part")
		if err := f.prepare(ctx, c1, gid, legs[0]); err != nil {
			t.Fatalf("prepare of a known part: %v", err)
		}
		if err := f.prepare(ctx, c2, gid, legs[1]); err != nil {
			t.Fatalf("prepare of a known part: %v", err)
		}
		o, err := f.client.Commit(ctx, r)
		if err != nil || o.Outcome != commit.Commit || !o.Applied {
			t.Fatalf("outcome %+v, %v; want COMMIT applied", o, err)
		}
		if bal, ok := f.balance(ctx, b1, 2, gid); bal != testBalance-30 || !ok {
			t.Fatalf("bank1: balance %d, row %v", bal, ok)
		}
		// Decided: no part of it can be prepared again.
		_, err = c2.PgConn().Exec(ctx, "BEGIN; UPDATE accounts SET balance = balance WHERE id = 3; PREPARE TRANSACTION '"+legs[1].part(gid).GID+"'").ReadAll()
		refusedWith(t, err, b2.org, "already decided")
		if _, err := c2.Exec(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("CheckPrepare", func(t *testing.T) { testCheckPrepare(t, f) })
	t.Run("the coordinator's schema two-phase commit", func(t *testing.T) { testCoordinatorSchema2PC(t, f) })
	t.Run("COPY through the extended protocol", func(t *testing.T) { testRawCopy(t, f) })

	t.Run("lexing settings pinned", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		// With standard_conforming_strings off, the worker runs the
		// statement hidden (to a reader with it on) in this text.
		hidden := "SELECT 'a\\' AS b, ' ; SELECT 1/0 ; SELECT 1 --'"
		d := f.direct(ctx, b1)
		defer d.Close(ctx)
		if _, err := d.Exec(ctx, "SET standard_conforming_strings = off"); err != nil {
			t.Fatal(err)
		}
		_, err := d.PgConn().Exec(ctx, hidden).ReadAll()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != pgerrcode.DivisionByZero {
			t.Fatalf("directly, with standard_conforming_strings off: %v; want the hidden statement run (22012)", err)
		}
		c := f.through(ctx, b1)
		if _, err := c.PgConn().Exec(ctx, hidden).ReadAll(); err != nil {
			t.Fatalf("through the gateway the text is one SELECT: %v", err)
		}
		for _, sql := range []string{"SET standard_conforming_strings = off", "SELECT set_config('standard_conforming_strings', 'off', false)",
			"SET client_encoding = 'SJIS'"} {
			_, err := c.Exec(ctx, sql)
			refusedWith(t, err, b1.org, "")
		}
		// A session whose worker reports such a setting is closed.
		if _, err := d.Exec(ctx, "CREATE DATABASE legacy"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Exec(ctx, "ALTER DATABASE legacy SET standard_conforming_strings = off"); err != nil {
			t.Fatal(err)
		}
		_, err = pgx.Connect(ctx, "postgres://postgres@"+b1.gwAddr+"/legacy?sslmode=disable")
		if !errors.As(err, &pe) || pe.Code != pgerrcode.InsufficientPrivilege || !strings.Contains(pe.Message, "standard_conforming_strings") {
			t.Fatalf("connecting to a database with standard_conforming_strings off: %v; want refused", err)
		}
	})

	t.Run("cancel request reaches the worker", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c := f.through(ctx, b1)
		errc := make(chan error, 1)
		start := time.Now()
		go func() {
			_, err := c.Exec(ctx, "SELECT pg_sleep(20)")
			errc <- err
		}()
		time.Sleep(300 * time.Millisecond)
		if err := c.PgConn().CancelRequest(ctx); err != nil {
			t.Fatal(err)
		}
		err := <-errc
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != pgerrcode.QueryCanceled {
			t.Fatalf("pg_sleep ended with %v, want 57014", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("cancelled after %v", d)
		}
		var n int
		if err := c.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
			t.Fatalf("session after the cancel: %v", err)
		}
	})
}
