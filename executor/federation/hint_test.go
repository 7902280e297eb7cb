package federation

import (
	"context"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus/commit"
)

// TestPreparedHint: the App looks at its workers as soon as it is told a
// part was prepared (App.Prepared, the gateway's hint), not only at its
// ticks. The Apps here tick once an hour, so without the hint no vote
// would be signed and nothing decided; with it, the transfer commits and
// both banks apply it.
func TestPreparedHint(t *testing.T) {
	f := newFedTick(t, 3, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b1, b2 := f.banks[0], f.banks[1]
	gid := f.newGID()
	legs := []leg{{b1, 5, -30}, {b2, 6, 30}}
	if err := f.client.Submit(ctx, f.request(gid, legs...)); err != nil {
		t.Fatalf("submit %s: %v", gid, err)
	}
	for _, l := range legs {
		// What the gateway does before it relays the PREPARE TRANSACTION:
		// wait for the validator to know the request.
		if err := l.bank.app.CheckPrepare(ctx, l.bank.worker.Name, l.part(gid).GID, 10*time.Second); err != nil {
			t.Fatalf("%s: %v", l.bank.org, err)
		}
		if err := f.prepare(ctx, gid, l); err != nil {
			t.Fatalf("prepare %s at %s: %v", gid, l.bank.org, err)
		}
		l.bank.app.Prepared(l.bank.worker.Name)
	}
	f.eventually(ctx, "COMMIT final and applied at every bank", func() bool {
		for _, b := range f.banks {
			b.app.mu.Lock()
			d, ok := b.app.ledger.Decision(gid)
			b.app.mu.Unlock()
			if !ok || d.Decision.Outcome != commit.Commit {
				return false
			}
		}
		for _, l := range legs {
			if l.bank.app.Applied() < 1 {
				return false
			}
		}
		return true
	})
	if bal, ok := f.balance(ctx, b2, 6, gid); bal != testBalance+30 || !ok {
		t.Fatalf("bank2 account 6: balance %d, transfer row %v; want %d, true", bal, ok, testBalance+30)
	}
}
