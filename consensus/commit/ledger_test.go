package commit

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pgfed/pgfed/consensus"
)

func apply(t *testing.T, l *Ledger, slot uint64, v consensus.Value) Applied {
	t.Helper()
	a, err := l.Apply(slot, v)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestLedgerFirstDecisionWins(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	r := f.request(t, "g", "bank1", "bank2")
	l := NewLedger(f.m)
	a := apply(t, l, 1, value(f.abort(r, "bank1")))
	if len(a.Final) != 1 || a.Final[0].Outcome != Abort {
		t.Fatalf("slot 1: %+v", a)
	}
	a = apply(t, l, 2, value(f.commit(r)))
	if len(a.Final) != 0 || len(a.Ignored) != 1 || a.Ignored[0].FirstSlot != 1 || a.Ignored[0].Outcome != Commit {
		t.Fatalf("slot 2: %+v", a)
	}
	fin, ok := l.Decision(r.GID)
	if !ok || fin.Slot != 1 || fin.Decision.Outcome != Abort {
		t.Fatalf("final: %+v %v", fin, ok)
	}
}

func TestLedgerAppliesSlotsInOrder(t *testing.T) {
	f := newFixture(t, 1, 1)
	l := NewLedger(f.m)
	v := value(f.commit(f.request(t, "g", "bank1", "bank2")))
	if _, err := l.Apply(2, v); !errors.Is(err, ErrSlotOrder) {
		t.Fatalf("slot 2 first: %v", err)
	}
	apply(t, l, 1, v)
	if _, err := l.Apply(1, v); !errors.Is(err, ErrSlotOrder) {
		t.Fatalf("slot 1 twice: %v", err)
	}
	if l.Slot() != 1 {
		t.Fatalf("slot %d", l.Slot())
	}
}

func TestLedgerRechecksDecisions(t *testing.T) {
	f := newFixture(t, 1, 1)
	good := f.commit(f.request(t, "a", "bank1", "bank2"))
	bad := f.commit(f.request(t, "b", "bank1", "bank2"))
	bad.Votes = bad.Votes[:1]
	l := NewLedger(f.m)
	a := apply(t, l, 1, value(good, bad))
	if len(a.Final) != 1 || len(a.Ignored) != 1 || !errors.Is(a.Ignored[0].Err, ErrUnjustified) {
		t.Fatalf("%+v", a)
	}
	a = apply(t, l, 2, consensus.Value("not a value"))
	if a.Err == nil || len(a.Final) != 0 || l.Slot() != 2 {
		t.Fatalf("undecodable value: %+v", a)
	}
}

func TestLedgerActionsPerOrganizationInSlotOrder(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	r1 := f.request(t, "g1", "bank1", "bank2")
	r2 := f.request(t, "g2", "bank2", "bank3")
	r3 := f.request(t, "g3", "bank1", "bank2", "bank3")
	l := NewLedger(f.m)
	apply(t, l, 1, value(f.commit(r2)))
	apply(t, l, 2, value(f.abort(r1, "bank1"), f.commit(r3)))
	got := l.Actions("bank2", 0)
	want := []struct {
		slot uint64
		gid  string
		o    Outcome
	}{{1, r2.GID, Commit}, {2, r1.GID, Abort}, {2, r3.GID, Commit}}
	if len(got) != len(want) {
		t.Fatalf("%+v", got)
	}
	for i, w := range want {
		if got[i].Slot != w.slot || got[i].GID != w.gid || got[i].Outcome != w.o {
			t.Fatalf("action %d: %+v, want %+v", i, got[i], w)
		}
	}
	if p, _ := r3.Participant("bank2"); got[2].Parts[0] != p[0] {
		t.Fatalf("parts %+v", got[2].Parts)
	}
	if n := len(l.Actions("bank2", 1)); n != 2 {
		t.Fatalf("after slot 1: %d actions", n)
	}
	if n := len(l.Actions("bank1", 0)); n != 2 {
		t.Fatalf("bank1: %d actions", n)
	}
}

func TestLedgerResolvesPartsOfEquivocatingCoordinator(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	// the coordinator signs two requests for g: {bank1, bank2} and
	// {bank1, bank3}; the first is committed
	r1 := f.request(t, "g", "bank1", "bank2")
	r2 := f.request(t, "g", "bank1", "bank3")
	l := NewLedger(f.m)
	p1, _ := r1.Participant("bank2")
	p3, _ := r2.Participant("bank3")
	if res := l.Resolve("bank2", p1[0]); res != Wait {
		t.Fatalf("undecided: %s", res)
	}
	apply(t, l, 1, value(f.commit(r1)))
	apply(t, l, 2, value(f.commit(r2)))
	if res := l.Resolve("bank2", p1[0]); res != CommitPrepared {
		t.Fatalf("part of the final request: %s", res)
	}
	if res := l.Resolve("bank3", p3[0]); res != RollbackPrepared {
		t.Fatalf("part of the other request: %s", res)
	}
	if res := l.Resolve("bank3", p1[0]); res != RollbackPrepared {
		t.Fatalf("final part found at another organization: %s", res)
	}
	if res := l.Resolve("bank1", Part{Worker: "w", GID: "other_1"}); res != Wait {
		t.Fatalf("unrelated gid: %s", res)
	}
}

func TestLedgerSnapshotRestore(t *testing.T) {
	f := newFixture(t, 1, 1, 3)
	vals := []consensus.Value{
		value(f.commit(f.request(t, "a", "bank1", "bank2")), f.abort(f.request(t, "b", "bank2", "bank3"), "bank3")),
		value(f.commit(f.request(t, "c", "bank1", "bank3"))),
		consensus.Value("junk"),
		value(f.commit(f.request(t, "a", "bank1", "bank3"))),
	}
	l := NewLedger(f.m)
	for i, v := range vals {
		apply(t, l, uint64(i+1), v)
	}
	snap := l.Snapshot()
	r, err := RestoreLedger(f.m, snap)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Snapshot(), snap) || r.Digest() != l.Digest() || r.Slot() != 4 {
		t.Fatal("restored ledger differs")
	}
	if len(r.Actions("bank3", 0)) != len(l.Actions("bank3", 0)) {
		t.Fatal("restored actions differ")
	}
	// the restored ledger goes on like the original
	next := value(f.abort(f.request(t, "d", "bank1", "bank2"), "bank2"))
	apply(t, l, 5, next)
	apply(t, r, 5, next)
	if r.Digest() != l.Digest() {
		t.Fatal("ledgers diverge after restore")
	}
	for _, cut := range []int{0, 5, len(snap) - 1} {
		if _, err := RestoreLedger(f.m, snap[:cut]); !errors.Is(err, ErrSnapshot) {
			t.Fatalf("truncated at %d: %v", cut, err)
		}
	}
	bad := append([]byte(nil), snap...)
	bad[len(bad)-1] ^= 1 // a vote signature
	if _, err := RestoreLedger(f.m, bad); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("corrupt: %v", err)
	}
}
