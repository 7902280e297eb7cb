package federation

import (
	"context"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus/commit"
)

// commitTransfer prepares the legs that prepare (skip: the ones left
// unprepared) and submits the request; it returns the decision.
func (f *testFed) commitTransfer(ctx context.Context, gid string, skip map[int]bool, legs ...leg) Outcome {
	f.t.Helper()
	for i, l := range legs {
		if skip[i] {
			continue
		}
		if err := f.prepare(ctx, gid, l); err != nil {
			f.t.Fatalf("prepare %s at %s: %v", gid, l.bank.org, err)
		}
	}
	r := f.request(gid, legs...)
	o, err := f.client.Commit(ctx, r)
	if err != nil {
		f.t.Fatalf("commit %s: %v", gid, err)
	}
	if o.GID != gid || o.Request != r.Hash() {
		f.t.Fatalf("outcome %+v is not about request %s of %s", o, r.Hash(), gid)
	}
	return o
}

// TestCommitAllPrepared: every part prepared -> COMMIT, applied on both
// banks' workers.
func TestCommitAllPrepared(t *testing.T) {
	f := newFed(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b1, b2 := f.banks[0], f.banks[1]
	gid := f.newGID()
	o := f.commitTransfer(ctx, gid, nil, leg{b1, 1, -100}, leg{b2, 2, 100})
	if o.Outcome != commit.Commit || o.Slot == 0 || !o.Applied {
		t.Fatalf("outcome %v in slot %d (applied %v), want COMMIT applied", o.Outcome, o.Slot, o.Applied)
	}
	// Commit answers once both banks applied it: the rows are visible now.
	if bal, ok := f.balance(ctx, b1, 1, gid); bal != testBalance-100 || !ok {
		t.Fatalf("bank1 account 1: balance %d, transfer row %v; want %d, true", bal, ok, testBalance-100)
	}
	if bal, ok := f.balance(ctx, b2, 2, gid); bal != testBalance+100 || !ok {
		t.Fatalf("bank2 account 2: balance %d, transfer row %v; want %d, true", bal, ok, testBalance+100)
	}
	f.settled(ctx)
}

// TestAbortMissingPart: one part never prepared -> ABORT after the
// timeout, and the other bank's prepared part rolled back.
func TestAbortMissingPart(t *testing.T) {
	f := newFed(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b1, b3 := f.banks[0], f.banks[2]
	gid := f.newGID()
	start := time.Now()
	o := f.commitTransfer(ctx, gid, map[int]bool{1: true}, leg{b1, 3, -50}, leg{b3, 4, 50})
	if o.Outcome != commit.Abort {
		t.Fatalf("outcome %v, want ABORT", o.Outcome)
	}
	if d := time.Since(start); d < testTimeout*testTick {
		t.Fatalf("ABORT after %v, before the timeout of %v", d, testTimeout*testTick)
	}
	f.settled(ctx)
	if bal, ok := f.balance(ctx, b1, 3, gid); bal != testBalance || ok {
		t.Fatalf("bank1 account 3: balance %d, transfer row %v; want %d, false", bal, ok, testBalance)
	}
}

// TestCoordinatorCrash: a coordinator that prepared one part and died
// leaves nothing prepared: (1) before submitting the request, the
// organization's validator rolls the orphan back after OrphanTimeout and
// vetoes the gid, so a late request is aborted; (2) after submitting it,
// the other organization votes ABORT after the timeout and the prepared
// part is rolled back.
func TestCoordinatorCrash(t *testing.T) {
	f := newFed(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	b1, b2 := f.banks[0], f.banks[1]

	// (1) Never submitted.
	gid := f.newGID()
	if err := f.prepare(ctx, gid, leg{b1, 5, -70}); err != nil {
		t.Fatal(err)
	}
	f.eventually(ctx, "orphan rolled back", func() bool { return len(f.prepared(ctx, b1)) == 0 })
	if bal, ok := f.balance(ctx, b1, 5, gid); bal != testBalance || ok {
		t.Fatalf("bank1 account 5: balance %d, transfer row %v; want %d, false", bal, ok, testBalance)
	}
	// The request shows up late, with bank2's part prepared: ABORT.
	if err := f.prepare(ctx, gid, leg{b2, 5, 70}); err != nil {
		t.Fatal(err)
	}
	o, err := f.client.Commit(ctx, f.request(gid, leg{b1, 5, -70}, leg{b2, 5, 70}))
	if err != nil || o.Outcome != commit.Abort {
		t.Fatalf("late request of a vetoed gid: %v, %v; want ABORT", o.Outcome, err)
	}

	// (2) Submitted, then the coordinator dies after preparing one part.
	gid2 := f.newGID()
	r := f.request(gid2, leg{b1, 6, -80}, leg{b2, 6, 80})
	if err := f.client.Submit(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := f.prepare(ctx, gid2, leg{b2, 6, 80}); err != nil {
		t.Fatal(err)
	}
	f.settled(ctx)
	if bal, ok := f.balance(ctx, b2, 6, gid2); bal != testBalance || ok {
		t.Fatalf("bank2 account 6: balance %d, transfer row %v; want %d, false", bal, ok, testBalance)
	}
	// Every validator has the ABORT.
	f.eventually(ctx, "ABORT of gid2 everywhere", func() bool {
		for _, b := range f.banks {
			b.app.mu.Lock()
			fin, ok := b.app.ledger.Decision(gid2)
			b.app.mu.Unlock()
			if !ok || fin.Decision.Outcome != commit.Abort {
				return false
			}
		}
		return true
	})
}
