package citus_test

import (
	"context"
	"testing"

	"github.com/pgfed/pgfed/executor/dtx"
)

// TestPreparedDecisionInCallersTransaction checks the dtx hook the Citus
// API commits through (dtx.Txn.PrepareIn): the workers stay prepared
// while the caller's metadata transaction is open; its rollback, then
// Resolve, rolls them back; its commit, then Commit (or Resolve, when
// the caller lost the answer), commits them.
func TestPreparedDecisionInCallersTransaction(t *testing.T) {
	c := newCluster(t)
	for i, end := range []string{"rollback", "commit", "resolve after commit"} {
		txn := c.env.Coord.Begin(c.env.Session, dtx.TxnOptions{})
		for _, n := range c.nodes {
			if _, err := txn.Exec(c.ctx, n, "CREATE TABLE p"+string(rune('0'+i))+" (x int)"); err != nil {
				t.Fatal(err)
			}
			txn.MarkWrite(n)
		}
		conn, err := servers[0].Connect(c.ctx, c.db)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := conn.Begin(c.ctx)
		if err != nil {
			t.Fatal(err)
		}
		p, err := txn.PrepareIn(c.ctx, func(ctx context.Context, sql string) error {
			_, err := tx.Exec(ctx, sql)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.GIDs()) != 2 {
			t.Errorf("%d gids, want 2", len(p.GIDs()))
		}
		for _, w := range servers[1:] {
			if n := c.one(w, "SELECT count(*) FROM pg_prepared_xacts"); n != "1" {
				t.Errorf("%s: %s prepared transactions, want 1", w.Name, n)
			}
		}
		table := "p" + string(rune('0'+i))
		want := "1"
		switch end {
		case "rollback":
			tx.Rollback(c.ctx)
			committed, err := p.Resolve(c.ctx)
			if err != nil || committed {
				t.Errorf("Resolve after rollback = %v, %v", committed, err)
			}
			want = "0"
		case "commit":
			if err := tx.Commit(c.ctx); err != nil {
				t.Fatal(err)
			}
			p.Commit(c.ctx)
		default:
			if err := tx.Commit(c.ctx); err != nil {
				t.Fatal(err)
			}
			committed, err := p.Resolve(c.ctx)
			if err != nil || !committed {
				t.Errorf("Resolve after commit = %v, %v", committed, err)
			}
		}
		conn.Close(c.ctx)
		for _, w := range servers[1:] {
			if n := c.one(w, "SELECT count(*) FROM pg_class WHERE relname = '"+table+"'"); n != want {
				t.Errorf("%s: %s: table exists %s, want %s", end, w.Name, n, want)
			}
		}
		c.noPrepared()
	}
}
