package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus/commit"
)

// TestByzantineCoordinator (issue #8, "Done when"): a coordinator that
// prepares both parts of a cross-bank transfer through the gateways and
// then tries to finalize them itself, differently at the two banks
// (COMMIT PREPARED at bank1, ROLLBACK PREPARED at bank2, by the simple
// and by the extended protocol), is refused at both; the validators decide
// one outcome and both banks apply it. A second transfer, prepared at
// bank1 only, whose coordinator then tries to roll bank1's part back and
// commit it, ends aborted at both banks by the validators.
func TestByzantineCoordinator(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL servers")
	}
	f := newFed(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	b1, b2 := f.banks[0], f.banks[1]
	c1, c2 := f.through(ctx, b1), f.through(ctx, b2)

	// The finalizing statements a Byzantine coordinator may try, each
	// through both protocols.
	finalize := func(b *testBank, verb, part string) {
		t.Helper()
		c := c1
		if b == b2 {
			c = c2
		}
		sql := verb + " '" + part + "'"
		_, err := c.PgConn().Exec(ctx, sql).ReadAll()
		refusedWith(t, err, b.org, verb+" is refused")
		err = c.PgConn().ExecParams(ctx, sql, nil, nil, nil, nil).Read().Err // extended protocol
		refusedWith(t, err, b.org, verb+" is refused")
		_, err = c.PgConn().Exec(ctx, "SELECT 1; "+sql).ReadAll()
		refusedWith(t, err, b.org, verb+" is refused")
	}

	// (1) Both parts prepared; COMMIT at bank1, ROLLBACK at bank2.
	gid := f.newGID()
	legs := []leg{{b1, 1, -100}, {b2, 1, 100}}
	r := f.request(gid, legs...)
	if err := f.client.Submit(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := f.prepare(ctx, c1, gid, legs[0]); err != nil {
		t.Fatalf("bank1: %v", err)
	}
	if err := f.prepare(ctx, c2, gid, legs[1]); err != nil {
		t.Fatalf("bank2: %v", err)
	}
	finalize(b1, "COMMIT PREPARED", legs[0].part(gid).GID)
	finalize(b2, "ROLLBACK PREPARED", legs[1].part(gid).GID)
	o, err := f.client.Commit(ctx, r)
	if err != nil || o.Outcome != commit.Commit || !o.Applied {
		t.Fatalf("outcome %+v, %v; want COMMIT applied", o, err)
	}

	// (2) Only bank1's part prepared; the coordinator tries to roll it
	// back (to keep bank2's money?) and to commit it.
	gid2 := f.newGID()
	legs2 := []leg{{b1, 2, -50}, {b2, 2, 50}}
	r2 := f.request(gid2, legs2...)
	if err := f.client.Submit(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if err := f.prepare(ctx, c1, gid2, legs2[0]); err != nil {
		t.Fatalf("bank1: %v", err)
	}
	finalize(b1, "ROLLBACK PREPARED", legs2[0].part(gid2).GID)
	finalize(b1, "COMMIT PREPARED", legs2[0].part(gid2).GID)
	o2, err := f.client.Commit(ctx, r2)
	if err != nil || o2.Outcome != commit.Abort {
		t.Fatalf("outcome %+v, %v; want ABORT (bank2 never prepared)", o2, err)
	}

	// Both banks agree, nothing is left prepared, every ledger is the same.
	f.eventually(ctx, "no prepared transaction left", func() bool {
		return len(f.prepared(ctx, b1)) == 0 && len(f.prepared(ctx, b2)) == 0
	})
	for _, c := range []struct {
		b       *testBank
		account int
		gid     string
		bal     int64
		row     bool
	}{
		{b1, 1, gid, testBalance - 100, true}, {b2, 1, gid, testBalance + 100, true},
		{b1, 2, gid2, testBalance, false}, {b2, 2, gid2, testBalance, false},
	} {
		if bal, row := f.balance(ctx, c.b, c.account, c.gid); bal != c.bal || row != c.row {
			t.Errorf("%s account %d: balance %d, transfer %s row %v; want %d, %v", c.b.org, c.account, bal, c.gid, row, c.bal, c.row)
		}
	}
	f.eventually(ctx, "identical ledgers", func() bool {
		_, d0 := f.banks[0].app.Ledger()
		for _, b := range f.banks[1:] {
			if _, d := b.app.Ledger(); d != d0 {
				return false
			}
		}
		return true
	})
}
