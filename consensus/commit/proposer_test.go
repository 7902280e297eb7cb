package commit

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pgfed/pgfed/consensus"
)

func newProposer(t *testing.T, f *fixture) *Proposer {
	t.Helper()
	p, err := NewProposer(ProposerConfig{Ledger: NewLedger(f.m)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProposerJustifiesCommitWithEveryPreparedVote(t *testing.T) {
	f := newFixture(t, 1, 3)
	p := newProposer(t, f)
	r := f.request(t, "g", "bank1", "bank2")
	// votes may arrive before the request
	for _, v := range []Vote{f.vote("bank1", 0, &r, VotePrepared), f.vote("bank2", 2, &r, VotePrepared)} {
		if err := p.AddVote(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.AddRequest(r); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Justify(f.gid("g")); ok {
		t.Fatal("justified with one of bank2's three validators")
	}
	if p.Propose(1) != nil {
		t.Fatal("proposes an unjustified decision")
	}
	_ = p.AddVote(f.vote("bank2", 1, &r, VotePrepared))
	d, ok := p.Justify(f.gid("g"))
	if !ok || d.Outcome != Commit || len(d.Votes) != 3 {
		t.Fatalf("%+v %v", d, ok)
	}
	if err := f.m.CheckDecision(&d); err != nil {
		t.Fatal(err)
	}
	v := p.Propose(1)
	if err := NewDriver(f.m).Check(v); err != nil {
		t.Fatal(err)
	}
}

func TestProposerJustifiesAbortWithOneParticipant(t *testing.T) {
	f := newFixture(t, 1, 1)
	p := newProposer(t, f)
	r := f.request(t, "g", "bank1", "bank2")
	_ = p.AddRequest(r)
	_ = p.AddVote(f.vote("bank1", 0, &r, VotePrepared))
	_ = p.AddVote(f.vote("bank2", 0, &r, VoteAbort))
	d, ok := p.Justify(f.gid("g"))
	if !ok || d.Outcome != Abort || len(d.Votes) != 1 || d.Votes[0].Org != "bank2" {
		t.Fatalf("%+v %v", d, ok)
	}
	// and prefers COMMIT as Combine does, once bank2 equivocates
	_ = p.AddVote(f.vote("bank2", 0, &r, VotePrepared))
	if d, _ := p.Justify(f.gid("g")); d.Outcome != Commit {
		t.Fatalf("%s", d.Outcome)
	}
}

func TestProposerRejectsBadInput(t *testing.T) {
	f := newFixture(t, 1, 1)
	p := newProposer(t, f)
	r := f.request(t, "g", "bank1", "bank2")
	v := f.vote("bank1", 0, &r, VotePrepared)
	v.Signature[0] ^= 1
	if err := p.AddVote(v); !errors.Is(err, ErrVote) {
		t.Fatal(err)
	}
	r.Signature[0] ^= 1
	if err := p.AddRequest(r); !errors.Is(err, ErrRequest) {
		t.Fatal(err)
	}
	if p.Pending() != 0 {
		t.Fatal("bad input kept")
	}
}

func TestProposerBoundsRequestVariants(t *testing.T) {
	f := newFixture(t, 1, 1)
	p, _ := NewProposer(ProposerConfig{Ledger: NewLedger(f.m), MaxVariants: 2})
	for i := 0; i < 3; i++ {
		r := f.request(t, "g", "bank1", "bank2")
		r.Created += int64(i)
		r, _ = SignRequest(f.network, f.coord, r)
		err := p.AddRequest(r)
		if (i < 2) != (err == nil) {
			t.Fatalf("variant %d: %v", i, err)
		}
	}
}

func TestProposerPrunesDecided(t *testing.T) {
	f := newFixture(t, 1, 1)
	l := NewLedger(f.m)
	p, _ := NewProposer(ProposerConfig{Ledger: l})
	r := f.request(t, "g", "bank1", "bank2")
	d := f.commit(r)
	p.AddValue(value(d))
	v := p.Propose(1)
	if !bytes.Equal(v, value(d)) {
		t.Fatal("proposal differs from the evidence fed")
	}
	apply(t, l, 1, v)
	if p.Propose(2) != nil || len(p.Requests()) != 0 {
		t.Fatal("proposes or rebroadcasts a final gid")
	}
	p.Prune()
	if p.Pending() != 0 || len(p.bySigner) != 0 {
		t.Fatalf("pending %d after prune", p.Pending())
	}
	// late arrivals for a final gid are dropped
	_ = p.AddRequest(r)
	_ = p.AddVote(f.vote("bank1", 0, &r, VoteAbort))
	if p.Pending() != 0 {
		t.Fatal("late request or vote of a final gid kept")
	}
	_ = consensus.Value(nil)
}
