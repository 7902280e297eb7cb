package federation

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus/commit"
)

// sameLedgers waits until every running App's commit ledger is at the same
// slot and checks that they are identical.
func (f *testFed) sameLedgers(ctx context.Context) {
	f.t.Helper()
	f.eventually(ctx, "every ledger at the same slot", func() bool {
		var last uint64
		for i, b := range f.banks {
			b.app.mu.Lock()
			s := b.app.ledger.Slot()
			b.app.mu.Unlock()
			if i > 0 && s != last {
				return false
			}
			last = s
		}
		return true
	})
	_, want := f.banks[0].app.Ledger()
	for _, b := range f.banks[1:] {
		if _, got := b.app.Ledger(); got != want {
			f.t.Fatalf("ledger of %s differs from bank1's", b.org)
		}
	}
}

// TestValidatorRestart: a validator stopped while the others decide
// catches up after its restart: it applies the ABORT decided without it to
// its prepared part, votes on the request it missed, and ends with the
// same ledger. Four organizations, so that three can decide without the
// fourth (quorum.OrgQSet: 3 of 4).
func TestValidatorRestart(t *testing.T) {
	f := newFed(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b1, b2, b3 := f.banks[0], f.banks[1], f.banks[2]

	gid1 := f.newGID()
	if o := f.commitTransfer(ctx, gid1, nil, leg{b1, 1, -10}, leg{b2, 1, 10}); o.Outcome != commit.Commit {
		t.Fatalf("%s: %v, want COMMIT", gid1, o.Outcome)
	}
	f.settled(ctx)
	f.stop(b2)

	// Decided without bank2: a COMMIT between bank1 and bank3, and an
	// ABORT of a transfer whose bank2 part is prepared.
	gid2 := f.newGID()
	if o := f.commitTransfer(ctx, gid2, nil, leg{b1, 2, -20}, leg{b3, 2, 20}); o.Outcome != commit.Commit {
		t.Fatalf("%s: %v, want COMMIT", gid2, o.Outcome)
	}
	gid3 := f.newGID()
	if o := f.commitTransfer(ctx, gid3, map[int]bool{0: true}, leg{b1, 3, -30}, leg{b2, 3, 30}); o.Outcome != commit.Abort {
		t.Fatalf("%s: %v, want ABORT", gid3, o.Outcome)
	}
	// A transfer that needs bank2's vote waits for its restart.
	gid4 := f.newGID()
	legs4 := []leg{{b2, 4, -40}, {b3, 4, 40}}
	for _, l := range legs4 {
		if err := f.prepare(ctx, gid4, l); err != nil {
			t.Fatal(err)
		}
	}
	type result struct {
		o   Outcome
		err error
	}
	res := make(chan result, 1)
	go func() {
		o, err := f.client.Commit(ctx, f.request(gid4, legs4...))
		res <- result{o, err}
	}()
	time.Sleep(2 * testTimeout * testTick)
	want := []string{gid3 + "_bank2", gid4 + "_bank2"}
	slices.Sort(want)
	if got := f.prepared(ctx, b2); !slices.Equal(got, want) {
		t.Fatalf("bank2 prepared %v while its validator is down, want the parts of %s and %s", got, gid3, gid4)
	}

	f.start(b2)
	r := <-res
	if r.err != nil || r.o.Outcome != commit.Commit {
		t.Fatalf("%s after the restart: %v, %v; want COMMIT", gid4, r.o.Outcome, r.err)
	}
	f.settled(ctx)
	f.sameLedgers(ctx)
	for _, c := range []struct {
		b       *testBank
		account int
		gid     string
		want    int64
		row     bool
	}{
		{b2, 1, gid1, testBalance + 10, true},
		{b1, 2, gid2, testBalance - 20, true},
		{b2, 3, gid3, testBalance, false},
		{b2, 4, gid4, testBalance - 40, true},
		{b3, 4, gid4, testBalance + 40, true},
	} {
		if bal, ok := f.balance(ctx, c.b, c.account, c.gid); bal != c.want || ok != c.row {
			t.Errorf("%s account %d after %s: balance %d, row %v; want %d, %v", c.b.org, c.account, c.gid, bal, ok, c.want, c.row)
		}
	}

	// A crash after COMMIT PREPARED but before the applied slot was
	// recorded: bank3 forgets what it applied and replays every action.
	// Parts no longer prepared were finished: nothing is applied twice.
	f.stop(b3)
	st, _, err := loadState(b3.dir)
	if err != nil || st.Applied == 0 {
		t.Fatalf("bank3 state: applied %d, %v", st.Applied, err)
	}
	last := st.Applied
	st.Applied = 0
	if err := saveState(b3.dir, st); err != nil {
		t.Fatal(err)
	}
	f.start(b3)
	f.eventually(ctx, "bank3 applies its ledger again", func() bool { return b3.app.Applied() >= last })
	if bal, ok := f.balance(ctx, b3, 4, gid4); bal != testBalance+40 || !ok {
		t.Errorf("bank3 account 4 after replaying its actions: balance %d, row %v; want %d, true", bal, ok, testBalance+40)
	}
	if bal, _ := f.balance(ctx, b3, 2, gid2); bal != testBalance+20 {
		t.Errorf("bank3 account 2 after replaying its actions: balance %d, want %d", bal, testBalance+20)
	}
}
