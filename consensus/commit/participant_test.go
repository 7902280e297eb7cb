package commit

import (
	"errors"
	"testing"
)

func newParticipant(t *testing.T, f *fixture, org string, i int, timeout uint64) *Participant {
	t.Helper()
	p, err := NewParticipant(ParticipantConfig{Ledger: NewLedger(f.m), Key: f.keys[org][i], Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func statusMap(m map[string]PartStatus) func(Part) PartStatus {
	return func(p Part) PartStatus { return m[p.GID] }
}

func TestParticipantVotesPreparedWhenAllPartsPrepared(t *testing.T) {
	f := newFixture(t, 1, 1)
	p := newParticipant(t, f, "bank1", 0, 10)
	r := f.request(t, "g", "bank1", "bank2")
	r.Participants[0].Parts = append(r.Participants[0].Parts, Part{Worker: "w2", GID: f.gid("g_9")})
	r, _ = SignRequest(f.network, f.coord, r)
	if err := p.Learn(r); err != nil {
		t.Fatal(err)
	}
	st := map[string]PartStatus{f.gid("g_1"): PartPrepared}
	if vs := p.Decide(statusMap(st)); len(vs) != 0 {
		t.Fatalf("voted with a part missing: %+v", vs)
	}
	st[f.gid("g_9")] = PartPrepared
	vs := p.Decide(statusMap(st))
	if len(vs) != 1 || vs[0].Kind != VotePrepared || vs[0].Request != r.Hash() {
		t.Fatalf("votes %+v", vs)
	}
	if err := f.m.CheckVote(&vs[0]); err != nil {
		t.Fatal(err)
	}
	if vs := p.Decide(statusMap(st)); len(vs) != 0 {
		t.Fatal("voted twice")
	}
}

func TestParticipantAbortsWhenPartFailed(t *testing.T) {
	f := newFixture(t, 1, 1)
	p := newParticipant(t, f, "bank1", 0, 10)
	r := f.request(t, "g", "bank1", "bank2")
	_ = p.Learn(r)
	vs := p.Decide(statusMap(map[string]PartStatus{f.gid("g_1"): PartFailed}))
	if len(vs) != 1 || vs[0].Kind != VoteAbort {
		t.Fatalf("votes %+v", vs)
	}
}

func TestParticipantAbortsMissingPartAfterTimeout(t *testing.T) {
	f := newFixture(t, 1, 1)
	p := newParticipant(t, f, "bank2", 0, 3)
	r := f.request(t, "g", "bank1", "bank2")
	_ = p.Learn(r)
	none := statusMap(nil)
	for i := 0; i < 3; i++ {
		p.Tick()
		if vs := p.Decide(none); len(vs) != 0 {
			t.Fatalf("tick %d: voted %+v before the timeout passed", i+1, vs)
		}
	}
	p.Tick()
	vs := p.Decide(none)
	if len(vs) != 1 || vs[0].Kind != VoteAbort || vs[0].Org != "bank2" {
		t.Fatalf("votes %+v", vs)
	}
}

func TestParticipantNeverSignsBothKinds(t *testing.T) {
	f := newFixture(t, 1, 1)
	p := newParticipant(t, f, "bank1", 0, 1)
	r := f.request(t, "g", "bank1", "bank2")
	_ = p.Learn(r)
	v, err := p.SignVote(f.gid("g"), VotePrepared)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SignVote(f.gid("g"), VoteAbort); !errors.Is(err, ErrEquivocation) {
		t.Fatalf("ABORT after PREPARED: %v", err)
	}
	again, err := p.SignVote(f.gid("g"), VotePrepared)
	if err != nil || again != v {
		t.Fatalf("same vote again: %v", err)
	}
	// a timeout later does not turn it into ABORT
	for i := 0; i < 5; i++ {
		p.Tick()
	}
	if vs := p.Decide(statusMap(nil)); len(vs) != 0 {
		t.Fatalf("voted again: %+v", vs)
	}
	// and the other way round
	r2 := f.request(t, "h", "bank1", "bank2")
	_ = p.Learn(r2)
	if _, err := p.SignVote(f.gid("h"), VoteAbort); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SignVote(f.gid("h"), VotePrepared); !errors.Is(err, ErrEquivocation) {
		t.Fatalf("PREPARED after ABORT: %v", err)
	}
}

func TestParticipantRefusalSurvivesRestart(t *testing.T) {
	f := newFixture(t, 1, 1)
	cfg := ParticipantConfig{Ledger: NewLedger(f.m), Key: f.keys["bank1"][0], Timeout: 5}
	p, _ := NewParticipant(cfg)
	r := f.request(t, "g", "bank1", "bank2")
	r2 := f.request(t, "h", "bank1", "bank2")
	_ = p.Learn(r)
	_ = p.Learn(r2)
	p.Tick()
	if _, err := p.SignVote(f.gid("g"), VotePrepared); err != nil {
		t.Fatal(err)
	}
	if !p.Unsaved() {
		t.Fatal("a new vote must be saved")
	}
	saved := p.Save()
	if p.Unsaved() {
		t.Fatal("unsaved after Save")
	}
	q, err := RestoreParticipant(cfg, saved)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.SignVote(f.gid("g"), VoteAbort); !errors.Is(err, ErrEquivocation) {
		t.Fatalf("restarted participant signs ABORT after PREPARED: %v", err)
	}
	if q.Now() != 1 || q.Voted(f.gid("h")) != 0 || len(q.Votes()) != 1 {
		t.Fatalf("restored state: now %d, votes %d", q.Now(), len(q.Votes()))
	}
	if string(q.Save()) != string(saved) {
		t.Fatal("save of the restored state differs")
	}
	for _, cut := range []int{0, 10, len(saved) - 1} {
		if _, err := RestoreParticipant(cfg, saved[:cut]); !errors.Is(err, ErrState) {
			t.Fatalf("truncated at %d: %v", cut, err)
		}
	}
	other := ParticipantConfig{Ledger: cfg.Ledger, Key: f.keys["bank2"][0], Timeout: 5}
	if _, err := RestoreParticipant(other, saved); !errors.Is(err, ErrState) {
		t.Fatalf("state restored under another key: %v", err)
	}
}

func TestParticipantVotesOnFirstRequestOnly(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	p := newParticipant(t, f, "bank1", 0, 5)
	r1 := f.request(t, "g", "bank1", "bank2")
	r2 := f.request(t, "g", "bank1", "bank3")
	if err := p.Learn(r1); err != nil {
		t.Fatal(err)
	}
	if err := p.Learn(r2); !errors.Is(err, ErrConflictingRequest) {
		t.Fatalf("second request for g: %v", err)
	}
	vs := p.Decide(statusMap(map[string]PartStatus{f.gid("g_1"): PartPrepared}))
	if len(vs) != 1 || vs[0].Request != r1.Hash() {
		t.Fatalf("votes %+v", vs)
	}
}

func TestParticipantIgnoresRequestsNotNamingItsOrg(t *testing.T) {
	f := newFixture(t, 1, 1, 1)
	p := newParticipant(t, f, "bank3", 0, 5)
	if err := p.Learn(f.request(t, "g", "bank1", "bank2")); !errors.Is(err, ErrNotParticipant) {
		t.Fatal(err)
	}
	bad := f.request(t, "h", "bank1", "bank3")
	bad.Signature[3] ^= 1
	if err := p.Learn(bad); !errors.Is(err, ErrRequest) {
		t.Fatal(err)
	}
}

func TestParticipantPrunesDecidedGIDs(t *testing.T) {
	f := newFixture(t, 1, 1)
	l := NewLedger(f.m)
	p, _ := NewParticipant(ParticipantConfig{Ledger: l, Key: f.keys["bank1"][0], Timeout: 5})
	r := f.request(t, "g", "bank1", "bank2")
	_ = p.Learn(r)
	if _, err := p.SignVote(f.gid("g"), VotePrepared); err != nil {
		t.Fatal(err)
	}
	apply(t, l, 1, value(f.commit(r)))
	if _, err := p.SignVote(f.gid("g"), VotePrepared); !errors.Is(err, ErrDecided) {
		t.Fatalf("vote for a final gid: %v", err)
	}
	if len(p.Votes()) != 0 {
		t.Fatal("rebroadcasts a vote of a final gid")
	}
	p.Prune()
	if _, err := p.SignVote(f.gid("g"), VoteAbort); !errors.Is(err, ErrUnknownRequest) {
		t.Fatal(err)
	}
	// a late copy of the request cannot bring the gid back: after COMMIT
	// PREPARED its parts are gone, and a timeout would sign ABORT
	if err := p.Learn(r); !errors.Is(err, ErrDecided) {
		t.Fatalf("learned a final gid again: %v", err)
	}
	for i := 0; i < 10; i++ {
		p.Tick()
	}
	if vs := p.Decide(statusMap(nil)); len(vs) != 0 {
		t.Fatalf("voted on a final gid: %+v", vs)
	}
}

func TestParticipantConfigChecked(t *testing.T) {
	f := newFixture(t, 1, 1)
	for name, cfg := range map[string]ParticipantConfig{
		"no ledger":  {Key: f.keys["bank1"][0], Timeout: 1},
		"no key":     {Ledger: NewLedger(f.m), Timeout: 1},
		"outsider":   {Ledger: NewLedger(f.m), Key: testKey("outsider"), Timeout: 1},
		"no timeout": {Ledger: NewLedger(f.m), Key: f.keys["bank1"][0]},
	} {
		if _, err := NewParticipant(cfg); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
