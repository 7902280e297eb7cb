package commit

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

type quorumID = quorum.NodeID

func mustInvalid(t *testing.T, f *fixture, v consensus.Value, want error) {
	t.Helper()
	err := NewDriver(f.m).Check(v)
	if err == nil {
		t.Fatal("value accepted")
	}
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	if lvl := NewDriver(f.m).Validate(1, v, true); lvl != consensus.Invalid {
		t.Fatalf("Validate = %s", lvl)
	}
}

func mustValid(t *testing.T, f *fixture, v consensus.Value) {
	t.Helper()
	if err := NewDriver(f.m).Check(v); err != nil {
		t.Fatal(err)
	}
	if lvl := NewDriver(f.m).Validate(1, v, false); lvl != consensus.FullyValid {
		t.Fatalf("Validate = %s", lvl)
	}
}

func TestCommitNeedsPreparedVoteFromEveryParticipant(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	r := f.request(t, "g1", "bank1", "bank2", "bank3")
	mustValid(t, f, value(f.commit(r)))
	d := f.decision(Commit, r, f.vote("bank1", 0, &r, VotePrepared), f.vote("bank2", 0, &r, VotePrepared))
	mustInvalid(t, f, value(d), ErrUnjustified)
}

func TestCommitNeedsThresholdOfOrgValidators(t *testing.T) {
	f := newFixture(t, 3, 1) // bank1: 3 validators, threshold 2
	r := f.request(t, "g1", "bank1", "bank2")
	one := f.decision(Commit, r, f.vote("bank1", 0, &r, VotePrepared), f.vote("bank2", 0, &r, VotePrepared))
	mustInvalid(t, f, value(one), ErrUnjustified)
	two := f.decision(Commit, r, f.vote("bank1", 0, &r, VotePrepared), f.vote("bank1", 2, &r, VotePrepared), f.vote("bank2", 0, &r, VotePrepared))
	mustValid(t, f, value(two))
}

func TestAbortNeedsAbortVoteOfOneParticipant(t *testing.T) {
	f := newFixture(t, 1, 1, 3)
	r := f.request(t, "g1", "bank1", "bank3")
	mustValid(t, f, value(f.abort(r, "bank1")))
	mustValid(t, f, value(f.abort(r, "bank3")))
	// one validator of three is not the organization's vote
	d := f.decision(Abort, r, f.vote("bank3", 1, &r, VoteAbort))
	mustInvalid(t, f, value(d), ErrUnjustified)
}

func TestVoteMustReferenceTheRequestHash(t *testing.T) {
	f := newFixture(t, 1, 1)
	r := f.request(t, "g1", "bank1", "bank2")
	other := r
	other.Created++
	other, _ = SignRequest(f.network, f.coord, other)
	d := f.decision(Commit, r, f.vote("bank1", 0, &r, VotePrepared), f.vote("bank2", 0, &other, VotePrepared))
	mustInvalid(t, f, value(d), ErrEvidence)
}

func TestVoteMustNameTheDecisionGID(t *testing.T) {
	f := newFixture(t, 1, 1)
	r := f.request(t, "g1", "bank1", "bank2")
	v := signVote(f.network, f.keys["bank2"][0], f.gid("g2"), "bank2", VotePrepared, r.Hash())
	d := f.decision(Commit, r, f.vote("bank1", 0, &r, VotePrepared), v)
	mustInvalid(t, f, value(d), ErrEvidence)
}

func TestVoteFromNonParticipantRejected(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	r := f.request(t, "g1", "bank1", "bank2")
	d := f.abort(r, "bank1")
	d.Votes = sortVotes(append(d.Votes, f.vote("bank3", 0, &r, VoteAbort)))
	mustInvalid(t, f, value(d), ErrEvidence)
	mustInvalid(t, f, value(f.decision(Abort, r, f.vote("bank3", 0, &r, VoteAbort))), ErrEvidence)
}

func TestVoteSignerMustBelongToItsOrg(t *testing.T) {
	f := newFixture(t, 1, 1)
	r := f.request(t, "g1", "bank1", "bank2")
	// bank1's key signs a vote claiming to be bank2's
	forged := signVote(f.network, f.keys["bank1"][0], f.gid("g1"), "bank2", VotePrepared, r.Hash())
	d := f.decision(Commit, r, f.vote("bank1", 0, &r, VotePrepared), forged)
	mustInvalid(t, f, value(d), nil)
	// and an outsider's key
	outsider := signVote(f.network, testKey("outsider"), f.gid("g1"), "bank2", VotePrepared, r.Hash())
	d = f.decision(Commit, r, f.vote("bank1", 0, &r, VotePrepared), outsider)
	mustInvalid(t, f, value(d), ErrVote)
}

func TestForgedVoteSignatureRejected(t *testing.T) {
	f := newFixture(t, 1, 1)
	r := f.request(t, "g1", "bank1", "bank2")
	d := f.commit(r)
	d.Votes[1].Signature[7] ^= 1
	mustInvalid(t, f, value(d), ErrVote)
}

func TestVoteKindMustMatchOutcome(t *testing.T) {
	f := newFixture(t, 1, 1)
	r := f.request(t, "g1", "bank1", "bank2")
	d := f.decision(Commit, r, f.vote("bank1", 0, &r, VotePrepared), f.vote("bank2", 0, &r, VoteAbort))
	mustInvalid(t, f, value(d), ErrEvidence)
	d = f.decision(Abort, r, f.vote("bank1", 0, &r, VotePrepared), f.vote("bank2", 0, &r, VoteAbort))
	mustInvalid(t, f, value(d), ErrEvidence)
}

func TestCoordinatorSignatureRequired(t *testing.T) {
	f := newFixture(t, 1, 1)
	r := f.request(t, "g1", "bank1", "bank2")
	bad := r
	bad.Signature[0] ^= 1
	d := f.commit(r)
	d.Request = bad
	mustInvalid(t, f, value(d), ErrRequest)
	// a participant list changed after signing
	changed := r.clone()
	changed.Participants[1].Parts[0].Worker = "elsewhere"
	d = f.commit(changed)
	mustInvalid(t, f, value(d), ErrRequest)
}

func TestParticipantsMustBeMembers(t *testing.T) {
	f := newFixture(t, 1, 1)
	r := f.request(t, "g1", "bank1", "bank9")
	if err := f.m.CheckRequest(&r); !errors.Is(err, ErrRequest) {
		t.Fatalf("non-member participant: %v", err)
	}
}

func TestSignatureBindsNetwork(t *testing.T) {
	f := newFixture(t, 1, 1)
	r := f.request(t, "g1", "bank1", "bank2")
	other := consensus.Hash{1}
	v := signVote(other, f.keys["bank2"][0], f.gid("g1"), "bank2", VotePrepared, r.Hash())
	if err := f.m.CheckVote(&v); !errors.Is(err, ErrVote) {
		t.Fatalf("vote of another network: %v", err)
	}
	r2, _ := SignRequest(other, f.coord, r)
	if err := f.m.CheckRequest(&r2); !errors.Is(err, ErrRequest) {
		t.Fatalf("request of another network: %v", err)
	}
}

func TestSignatureBindsMessageKind(t *testing.T) {
	f := newFixture(t, 1, 1)
	r := f.request(t, "g1", "bank1", "bank2")
	v := Vote{GID: f.gid("g1"), Org: "bank2", Kind: VotePrepared, Request: r.Hash(), Signer: pub(f.keys["bank2"][0])}
	// the same content signed as a request is not a vote signature
	copy(v.Signature[:], ed25519.Sign(f.keys["bank2"][0], signingBytes(f.network, kindRequest, v.Content())))
	if err := f.m.CheckVote(&v); !errors.Is(err, ErrVote) {
		t.Fatalf("request-kind signature accepted as a vote: %v", err)
	}
}

func TestDecidedGIDIsNotInvalid(t *testing.T) {
	f := newFixture(t, 1, 1)
	r := f.request(t, "g1", "bank1", "bank2")
	l := NewLedger(f.m)
	if _, err := l.Apply(1, value(f.commit(r))); err != nil {
		t.Fatal(err)
	}
	// validity never looks at the ledger: the same gid again is valid
	mustValid(t, f, value(f.abort(r, "bank1")))
}

func TestEmptyValueInvalid(t *testing.T) {
	f := newFixture(t, 1, 1)
	mustInvalid(t, f, value(), ErrValue)
}

func TestTooManyDecisionsInvalid(t *testing.T) {
	f := newFixture(t, 1, 1)
	cfg := Config{Network: f.network, MaxDecisions: 2}
	for _, o := range f.orgs {
		cfg.Orgs = append(cfg.Orgs, Org{Name: o, Validators: f.m.Validators(o)})
	}
	m2, err := NewMembership(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ds []Decision
	for _, g := range []string{"a", "b", "c"} {
		ds = append(ds, f.commit(f.request(t, g, "bank1", "bank2")))
	}
	if err := NewDriver(m2).Check(value(ds...)); !errors.Is(err, ErrValue) {
		t.Fatalf("3 decisions with MaxDecisions 2: %v", err)
	}
	if err := NewDriver(m2).Check(value(ds[:2]...)); err != nil {
		t.Fatal(err)
	}
}

func TestMembershipConfigChecked(t *testing.T) {
	k := pub(testKey("x"))
	k2 := pub(testKey("y"))
	for name, cfg := range map[string]Config{
		"no orgs":        {},
		"bad name":       {Orgs: []Org{{Name: "a b", Validators: []quorumID{k}}}},
		"duplicate org":  {Orgs: []Org{{Name: "a", Validators: []quorumID{k}}, {Name: "a", Validators: []quorumID{k2}}}},
		"shared key":     {Orgs: []Org{{Name: "a", Validators: []quorumID{k}}, {Name: "b", Validators: []quorumID{k}}}},
		"no validators":  {Orgs: []Org{{Name: "a"}}},
		"half threshold": {Orgs: []Org{{Name: "a", Validators: []quorumID{k, k2}, Threshold: 1}}},
		"threshold > n":  {Orgs: []Org{{Name: "a", Validators: []quorumID{k}, Threshold: 2}}},
		"max decisions":  {Orgs: []Org{{Name: "a", Validators: []quorumID{k}}}, MaxDecisions: MaxDecisionsLimit + 1},
	} {
		if _, err := NewMembership(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestEvidenceAtMostThresholdVotesPerOrg(t *testing.T) {
	f := newFixture(t, 3, 1) // bank1: threshold 2 of 3
	r := f.request(t, "g1", "bank1", "bank2")
	d := f.commit(r)
	d.Votes = sortVotes(append(d.Votes, f.vote("bank1", 2, &r, VotePrepared)))
	mustInvalid(t, f, value(d), ErrEvidence)
	// two organizations' ABORT votes are fine, each within its threshold
	two := f.abort(r, "bank1")
	two.Votes = sortVotes(append(two.Votes, f.vote("bank2", 0, &r, VoteAbort)))
	mustValid(t, f, value(two))
}

func TestValidityIgnoresSlotAndPhase(t *testing.T) {
	f := newFixture(t, 1, 1)
	good := value(f.commit(f.request(t, "g", "bank1", "bank2")))
	bad := value(f.decision(Commit, f.request(t, "h", "bank1", "bank2")))
	d := NewDriver(f.m)
	for _, slot := range []uint64{0, 1, 2, 1 << 40} {
		for _, nom := range []bool{true, false} {
			if d.Validate(slot, good, nom) != consensus.FullyValid || d.Validate(slot, bad, nom) != consensus.Invalid {
				t.Fatalf("slot %d nomination %v: verdict changed", slot, nom)
			}
		}
	}
}

func TestCreatedIsDataOnly(t *testing.T) {
	f := newFixture(t, 1, 1)
	for _, created := range []int64{-1 << 63, 0, 1<<63 - 1} {
		r := Request{GID: f.gid("g"), Created: created, Participants: []OrgParts{
			{Org: "bank1", Parts: []Part{{Worker: "w", GID: f.gid("g_1")}}},
			{Org: "bank2", Parts: []Part{{Worker: "w", GID: f.gid("g_2")}}},
		}}
		r, err := SignRequest(f.network, f.coord, r)
		if err != nil {
			t.Fatal(err)
		}
		mustValid(t, f, value(f.commit(r)))
	}
}

// A write on several workers of one organization behind its gateway is
// decided by the validators too: a request may have a single participant,
// whose PREPARED votes justify COMMIT and whose ABORT votes justify ABORT.
func TestSingleParticipantRequest(t *testing.T) {
	f := newFixture(t, 3, 1) // bank1: 3 validators, threshold 2
	r := Request{GID: f.gid("g1"), Participants: []OrgParts{{Org: "bank1", Parts: []Part{{Worker: "w1:5432", GID: f.gid("g1_1")}, {Worker: "w2:5432", GID: f.gid("g1_2")}}}}}
	sr, err := SignRequest(f.network, f.coord, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.m.CheckRequest(&sr); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeRequest(sr.Encode()); err != nil {
		t.Fatal(err)
	}
	mustValid(t, f, value(f.commit(sr)))
	mustValid(t, f, value(f.abort(sr, "bank1")))
	one := f.decision(Commit, sr, f.vote("bank1", 0, &sr, VotePrepared))
	mustInvalid(t, f, value(one), ErrUnjustified)
	// the ledger gives the organization one action over both its parts
	l := NewLedger(f.m)
	apply(t, l, 1, value(f.commit(sr)))
	if acts := l.Actions("bank1", 0); len(acts) != 1 || len(acts[0].Parts) != 2 || acts[0].Outcome != Commit {
		t.Fatalf("actions %+v", acts)
	}
	if _, err := SignRequest(f.network, f.coord, Request{GID: f.gid("g2")}); !errors.Is(err, ErrRequest) {
		t.Fatalf("no participant: %v", err)
	}
}
