package commit

import (
	"bytes"
	"testing"

	"github.com/pgfed/pgfed/consensus"
)

func decodeOK(t *testing.T, v consensus.Value) Value {
	t.Helper()
	val, err := DecodeValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return val
}

func TestCombineIsUnionOfDecisions(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	a := f.commit(f.request(t, "a", "bank1", "bank2"))
	b := f.abort(f.request(t, "b", "bank2", "bank3"), "bank3")
	c := f.commit(f.request(t, "c", "bank1", "bank3"))
	got := NewDriver(f.m).Combine(1, []consensus.Value{value(a, b), value(b, c)})
	if !bytes.Equal(got, value(a, b, c)) {
		t.Fatalf("combine is not the union")
	}
}

func TestCombineCommitWins(t *testing.T) {
	f := newFixture(t, 1, 1)
	r := f.request(t, "g", "bank1", "bank2")
	// a Byzantine bank2 signed both PREPARED and ABORT
	commit, abort := f.commit(r), f.abort(r, "bank2")
	d := NewDriver(f.m)
	for _, cands := range [][]consensus.Value{{value(commit), value(abort)}, {value(abort), value(commit)}} {
		got := decodeOK(t, d.Combine(7, cands))
		if len(got.Decisions) != 1 || got.Decisions[0].Outcome != Commit {
			t.Fatalf("combine of COMMIT and ABORT gave %+v", got.Decisions)
		}
	}
}

func TestCombineSameOutcomePicksSmallestEncoding(t *testing.T) {
	f := newFixture(t, 1, 1)
	r := f.request(t, "g", "bank1", "bank2")
	a1, a2 := f.abort(r, "bank1"), f.abort(r, "bank2")
	want := a1
	if bytes.Compare(a2.Encode(), a1.Encode()) < 0 {
		want = a2
	}
	d := NewDriver(f.m)
	for _, cands := range [][]consensus.Value{{value(a1), value(a2)}, {value(a2), value(a1)}} {
		if got := d.Combine(1, cands); !bytes.Equal(got, value(want)) {
			t.Fatal("combine did not choose the smaller evidence")
		}
	}
}

func TestCombineSkipsInvalidDecisions(t *testing.T) {
	f := newFixture(t, 1, 1)
	good := f.commit(f.request(t, "a", "bank1", "bank2"))
	bad := f.commit(f.request(t, "b", "bank1", "bank2"))
	bad.Votes[0].Signature[0] ^= 1
	got := NewDriver(f.m).Combine(1, []consensus.Value{value(good, bad), consensus.Value("garbage")})
	if !bytes.Equal(got, value(good)) {
		t.Fatal("invalid decision or undecodable candidate kept")
	}
}

func TestCombineBoundedByMaxDecisions(t *testing.T) {
	f := newFixture(t, 1, 1)
	cfg := Config{Network: f.network, MaxDecisions: 3}
	for _, o := range f.orgs {
		cfg.Orgs = append(cfg.Orgs, Org{Name: o, Validators: f.m.Validators(o)})
	}
	m, err := NewMembership(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var all []Decision
	for _, g := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		all = append(all, f.commit(f.request(t, g, "bank1", "bank2")))
	}
	d := NewDriver(m)
	// every order gives the same three, and later slots take the rest
	var cands []consensus.Value
	for _, x := range all {
		cands = append(cands, value(x))
	}
	first := d.Combine(5, cands)
	rev := append([]consensus.Value(nil), cands...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if !bytes.Equal(first, d.Combine(5, rev)) {
		t.Fatal("bounded combine depends on the order")
	}
	if n := len(decodeOK(t, first).Decisions); n != 3 {
		t.Fatalf("%d decisions, want 3", n)
	}
	if err := d.Check(first); err != nil {
		t.Fatal(err)
	}
	// The proposer and the ledger drain the rest over the next slots.
	l := NewLedger(m)
	p, _ := NewProposer(ProposerConfig{Ledger: l})
	for _, x := range all {
		if err := p.AddRequest(x.Request); err != nil {
			t.Fatal(err)
		}
		for _, v := range x.Votes {
			if err := p.AddVote(v); err != nil {
				t.Fatal(err)
			}
		}
	}
	for slot := uint64(1); ; slot++ {
		v := p.Propose(slot)
		if v == nil {
			break
		}
		if slot > 3 {
			t.Fatalf("slot %d still proposes", slot)
		}
		if _, err := l.Apply(slot, d.Combine(slot, []consensus.Value{v})); err != nil {
			t.Fatal(err)
		}
		p.Prune()
	}
	if l.Len() != len(all) {
		t.Fatalf("%d of %d decided", l.Len(), len(all))
	}
}
