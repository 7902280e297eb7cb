package consensus

import (
	"errors"
	"testing"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// Unit tests named after the rule of the protocol they check.

func mustNode(t *testing.T, id, qset string) (*Node, *testDriver) {
	t.Helper()
	q, err := parseQSet(qset)
	if err != nil {
		t.Fatal(err)
	}
	d := newTestDriver(id)
	n, err := NewNode(Config{ID: nid(id), QSet: q, Driver: d, UnsafeQuorum: true,
		NominationTimeout: 1, NominationTimeoutIncrement: 1, BallotTimeout: 1, BallotTimeoutIncrement: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n, d
}

func deliver(t *testing.T, n *Node, from string, slot uint64, text string) error {
	t.Helper()
	pl, err := parseStatement(splitFields(text), n.QSetHash())
	if err != nil {
		t.Fatal(err)
	}
	return n.Step(Envelope{Statement: Statement{NodeID: nid(from), Slot: slot, Pledge: pl}})
}

func splitFields(s string) []string {
	var out []string
	cur := ""
	for _, c := range s + " " {
		if c == ' ' {
			if cur != "" {
				out = append(out, cur)
			}
			cur = ""
			continue
		}
		cur += string(c)
	}
	return out
}

func mustDeliver(t *testing.T, n *Node, from string, slot uint64, text string) {
	t.Helper()
	if err := deliver(t, n, from, slot, text); err != nil {
		t.Fatalf("%s %s: %v", from, text, err)
	}
}

func lastSent(n *Node) []string {
	rd := n.Ready()
	n.Advance()
	var out []string
	for _, e := range rd.Send {
		out = append(out, e.Statement.String())
	}
	return out
}

func TestRuleAcceptByVBlockingSetWithoutOwnVote(t *testing.T) {
	n, _ := mustNode(t, "A", "3{A,B,C,D}")
	mustDeliver(t, n, "B", 1, "PREP b=1:x p=1:x")
	if p := n.slots[1].ballot.p; p != nil {
		t.Fatalf("one node is not v-blocking, yet p=%s", p)
	}
	mustDeliver(t, n, "C", 1, "PREP b=1:x p=1:x")
	if p := n.slots[1].ballot.p; p == nil || p.String() != "1:x" {
		t.Fatalf("v-blocking {B,C} accepted 1:x: want p=1:x, got %v", p)
	}
}

// TestRuleVBlockingVotesDoNotAccept: a v-blocking set makes a node accept
// only when its members ACCEPTED the statement; mere votes need a quorum
// (federated voting, accept rule (ii)). B and C voting prepare(1:x) with
// no p are v-blocking for 3-of-{A,B,C,D} but accept nothing; with D's vote
// {B,C,D} is a quorum of votes and A accepts.
func TestRuleVBlockingVotesDoNotAccept(t *testing.T) {
	n, _ := mustNode(t, "A", "3{A,B,C,D}")
	mustDeliver(t, n, "B", 1, "PREP b=1:x")
	mustDeliver(t, n, "C", 1, "PREP b=1:x")
	if p := n.slots[1].ballot.p; p != nil {
		t.Fatalf("votes of a v-blocking set {B,C} must not make A accept; p=%s", p)
	}
	mustDeliver(t, n, "D", 1, "PREP b=1:x")
	if p := n.slots[1].ballot.p; p == nil || p.String() != "1:x" {
		t.Fatalf("a quorum {B,C,D} voted prepare(1:x): want p=1:x, got %v", p)
	}
}

func TestRuleRatifyNeedsQuorumNotVBlocking(t *testing.T) {
	// Local qset 2-of-{A,B,C}: {B,C} is v-blocking (needs 2) and also a
	// quorum only together with... B's and C's own qsets require D, who is
	// silent: they drop out transitively, so no quorum.
	n, _ := mustNode(t, "A", "2{A,B,C}")
	qBC, _ := parseQSet("3{B,C,D}")
	h, err := n.AddQSet(qBC)
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{"B", "C"} {
		pl, _ := parseStatement(splitFields("NOM votes=[x] acc=[x]"), h)
		if err := n.Step(Envelope{Statement: Statement{NodeID: nid(from), Slot: 1, Pledge: pl}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Nominate(1, Value("y"), nil); err != nil {
		t.Fatal(err)
	}
	// As in stellar-core, a message only triggers the accept check for the
	// values it votes for: D's vote for x makes A check x.
	mustDeliver(t, n, "D", 1, "NOM votes=[x]")
	nm := &n.slots[1].nomination
	if !containsValue(nm.accepted, Value("x")) {
		t.Fatalf("v-blocking {B,C} accepted x: A must accept x; Y=%v", valueList(nm.accepted))
	}
	if len(nm.candidates) != 0 {
		t.Fatalf("B and C need D for a quorum: x must not be confirmed; Z=%v", valueList(nm.candidates))
	}
}

func TestRuleExternalizeCountsAsSingletonQuorumSet(t *testing.T) {
	// B's and C's qsets need D, but EXTERNALIZE senders are evaluated with
	// {t:1, sender}: A confirms commit from A, B, C.
	n, _ := mustNode(t, "A", "3{A,B,C,D}")
	n.slot(1).ballot.bumpState(Value("x"), false)
	mustDeliver(t, n, "B", 1, "EXT c=1:x h=1")
	mustDeliver(t, n, "C", 1, "EXT c=1:x h=1")
	if v, ok := n.Externalized(1); !ok || string(v) != "x" {
		t.Fatalf("want x externalized, got %q %v", v, ok)
	}
}

func TestRuleExternalizeExactlyOncePerSlot(t *testing.T) {
	n, _ := mustNode(t, "A", "3{A,B,C,D}")
	n.slot(1).ballot.bumpState(Value("x"), false)
	mustDeliver(t, n, "B", 1, "EXT c=1:x h=1")
	mustDeliver(t, n, "C", 1, "EXT c=1:x h=1")
	_ = deliver(t, n, "D", 1, "EXT c=1:x h=1")
	rd := n.Ready()
	n.Advance()
	if len(rd.Externalized) != 1 {
		t.Fatalf("want one externalization, got %v", rd.Externalized)
	}
	_ = deliver(t, n, "D", 1, "EXT c=2:x h=2")
	if rd := n.Ready(); len(rd.Externalized) != 0 {
		t.Fatalf("second externalization reported: %v", rd.Externalized)
	}
}

func TestRuleBumpOnlyToCountersAboveOurs(t *testing.T) {
	n, _ := mustNode(t, "A", "3{A,B,C,D}")
	n.slot(1).ballot.bumpState(Value("x"), false)
	n.slot(1).ballot.bumpState(Value("x"), true) // b = 2:x
	n.slot(1).ballot.bumpState(Value("x"), true) // b = 3:x
	mustDeliver(t, n, "B", 1, "PREP b=1:x")
	mustDeliver(t, n, "C", 1, "PREP b=2:x")
	if b := n.slots[1].ballot.b; b.Counter != 3 {
		t.Fatalf("counters below ours must not move b: %s", b)
	}
	mustDeliver(t, n, "B", 1, "PREP b=6:x")
	mustDeliver(t, n, "C", 1, "PREP b=4:x")
	if b := n.slots[1].ballot.b; b.Counter != 4 {
		t.Fatalf("v-blocking {B,C} above 3: move to the lowest counter with no v-blocking set ahead (4), got %s", b)
	}
}

func TestRuleBallotTimerArmedOnlyAfterQuorumAtOurCounter(t *testing.T) {
	n, _ := mustNode(t, "A", "3{A,B,C,D}")
	s := n.slot(1)
	s.ballot.bumpState(Value("x"), false)
	mustDeliver(t, n, "B", 1, "PREP b=1:x")
	if s.ballotTimer.armed {
		t.Fatal("timer armed without a quorum at our counter")
	}
	mustDeliver(t, n, "C", 1, "PREP b=5:y")
	if !s.ballotTimer.armed {
		t.Fatal("quorum {A,B,C} at counter >= 1: timer must be armed")
	}
	n.Tick()
	if s.ballot.b.Counter != 2 || s.ballotTimer.armed {
		t.Fatalf("timeout: want b at counter 2 and no timer (no quorum at 2), got %s armed=%v", s.ballot.b, s.ballotTimer.armed)
	}
}

func TestRuleCommitVoteWithdrawnWhenAborted(t *testing.T) {
	n, _ := mustNode(t, "A", "3{A,B,C,D}")
	n.slot(1).ballot.bumpState(Value("x"), false)
	mustDeliver(t, n, "B", 1, "PREP b=1:x p=1:x")
	mustDeliver(t, n, "C", 1, "PREP b=1:x p=1:x")
	bp := &n.slots[1].ballot
	if bp.c == nil {
		t.Fatal("confirmed prepare(1:x): A must vote commit")
	}
	// A v-blocking set accepts prepare(2:y): 1:x is aborted; A accepts it
	// and p' = 1:x; h ⋦ p so c is cleared before anything else.
	bp.s.n.ready = pendingReady{}
	mustDeliver(t, n, "B", 1, "PREP b=2:y p=2:y")
	mustDeliver(t, n, "C", 1, "PREP b=2:y p=2:y")
	if bp.pp == nil || bp.pp.String() != "1:x" {
		t.Fatalf("want p'=1:x, got %v", bp.pp)
	}
	if bp.c != nil && bp.c.Value.Equal(Value("x")) {
		t.Fatalf("commit vote for x must be withdrawn, c=%s", bp.c)
	}
}

func TestRuleStatementOrderNewer(t *testing.T) {
	st := func(text string) *Statement {
		pl, err := parseStatement(splitFields(text), Hash{})
		if err != nil {
			t.Fatal(err)
		}
		return &Statement{Pledge: pl}
	}
	cases := []struct {
		old, new string
		want     bool
	}{
		{"PREP b=1:x", "PREP b=1:y", true},
		{"PREP b=1:y", "PREP b=1:x", false},
		{"PREP b=1:x", "PREP b=1:x", false},
		{"PREP b=1:x", "PREP b=1:x p=1:x", true},
		{"PREP b=2:x p=1:x", "PREP b=2:x p=1:x p'=1:w", true},
		{"PREP b=2:x p=1:x h=1", "PREP b=2:x p=1:x", false},
		{"PREP b=2:x p=2:x h=1", "PREP b=2:x p=2:x h=2", true},
		{"PREP b=2:x p=2:x c=1 h=2", "PREP b=2:x p=2:x h=2", false}, // nC is not part of the order
		{"PREP b=9:x", "CONF b=1:x p=1 c=1 h=1", true},
		{"CONF b=1:x p=1 c=1 h=1", "PREP b=9:x", false},
		{"CONF b=2:x p=1 c=1 h=1", "CONF b=2:x p=2 c=1 h=1", true},
		{"CONF b=2:x p=2 c=1 h=1", "CONF b=2:x p=2 c=1 h=2", true},
		{"CONF b=2:x p=2 c=1 h=2", "CONF b=2:x p=2 c=2 h=2", false},
		{"CONF b=9:x p=9 c=1 h=9", "EXT c=1:x h=1", true},
		{"EXT c=1:x h=1", "EXT c=1:x h=2", false},
	}
	for _, c := range cases {
		if got := isNewerBallotStatement(st(c.old), st(c.new)); got != c.want {
			t.Errorf("%s -> %s: newer=%v, want %v", c.old, c.new, got, c.want)
		}
	}
	nom := func(text string) *Nominate { p := st(text).Pledge.(Nominate); return &p }
	if !isNewerNomination(nom("NOM votes=[x]"), nom("NOM votes=[x,y]")) ||
		isNewerNomination(nom("NOM votes=[x]"), nom("NOM votes=[x]")) ||
		isNewerNomination(nom("NOM votes=[x,y]"), nom("NOM votes=[y,z]")) ||
		!isNewerNomination(nom("NOM votes=[x]"), nom("NOM votes=[x] acc=[x]")) {
		t.Error("nomination newer rule: supersets with at least one set grown")
	}
}

func TestRuleLeaderWeightZeroIsNeverLeaderAndRoundsTerminate(t *testing.T) {
	// A's qset 1-of-{A, B}: without A, B's level has threshold 0 and weight
	// 0. The fast-timeout loop must end (the 2026 endless-loop bug) and B is
	// never a leader.
	n, d := mustNode(t, "A", "1{A,B}")
	d.priority[0] = map[string]uint64{"A": 1, "B": 100}
	if err := n.Nominate(1, Value("x"), nil); err != nil {
		t.Fatal(err)
	}
	nm := &n.slots[1].nomination
	if _, ok := nm.leaders[nid("B")]; ok {
		t.Fatal("zero-weight node became leader")
	}
	if _, ok := nm.leaders[nid("A")]; !ok || nm.round != 1 {
		t.Fatalf("A must lead round 1, got round %d leaders %d", nm.round, len(nm.leaders))
	}
	n.Tick()
	if nm.round > 2 {
		t.Fatalf("round skipping must stop once every weighted node leads; round %d", nm.round)
	}
}

func TestRuleNeighbourhoodBoundIsInclusive(t *testing.T) {
	n, _ := mustNode(t, "A", "3{A,B,C,D}")
	s := n.slot(1)
	w := nodeWeight(nid("B"), &n.leaderSet)
	n.nodeHasher = fixedHasher{neighbour: w, priority: 7}
	if got := s.nomination.priority(nid("B")); got != 7 {
		t.Fatalf("hash == weight must count as in the neighbourhood; priority %d", got)
	}
	n.nodeHasher = fixedHasher{neighbour: w + 1, priority: 7}
	if got := s.nomination.priority(nid("B")); got != 0 {
		t.Fatalf("hash > weight: priority must be 0, got %d", got)
	}
}

type fixedHasher struct{ neighbour, priority uint64 }

func (f fixedHasher) HashNode(slot uint64, prev Value, priority bool, round uint32, node quorum.NodeID) uint64 {
	if priority {
		return f.priority
	}
	return f.neighbour
}

func TestReadySendIsPersistedAndAdvanceKeepsLaterWork(t *testing.T) {
	n, _ := mustNode(t, "A", "3{A,B,C,D}")
	if err := n.Nominate(1, Value("x"), nil); err != nil {
		t.Fatal(err)
	}
	rd := n.Ready()
	persisted := map[string]bool{}
	for _, e := range rd.Persist {
		persisted[string(e.Encode())] = true
	}
	for _, e := range rd.Send {
		if !persisted[string(e.Encode())] {
			t.Fatalf("sent but not persisted: %s", e.Statement)
		}
	}
	// Work that arrives between Ready and Advance is kept.
	mustDeliver(t, n, "B", 1, "NOM votes=[x]")
	mustDeliver(t, n, "C", 1, "NOM votes=[x]")
	n.Advance()
	if got := lastSent(n); len(got) != 1 || got[0] != "NOM votes=[x] acc=[x]" {
		t.Fatalf("later work lost or wrong: %v", got)
	}
}

func TestRestoreRefusedAfterActivityAndForeignEnvelopes(t *testing.T) {
	n, _ := mustNode(t, "A", "3{A,B,C,D}")
	if err := n.Nominate(1, Value("x"), nil); err != nil {
		t.Fatal(err)
	}
	rd := n.Ready()
	if err := n.Restore(rd.Persist); !errors.Is(err, ErrAlreadyStarted) {
		t.Fatalf("restore after activity: want ErrAlreadyStarted, got %v", err)
	}
	m, _ := mustNode(t, "B", "3{A,B,C,D}")
	if err := m.Restore(rd.Persist); err == nil {
		t.Fatal("restoring another node's envelopes must fail")
	}
}

func TestStepErrorsAreDistinct(t *testing.T) {
	n, _ := mustNode(t, "A", "3{A,B,C,D}")
	pl, _ := parseStatement(splitFields("PREP b=1:x"), Hash{1})
	err := n.Step(Envelope{Statement: Statement{NodeID: nid("B"), Slot: 1, Pledge: pl}})
	var uq *UnknownQSetError
	if !errors.As(err, &uq) || !errors.Is(err, ErrUnknownQSet) || uq.Hash != (Hash{1}) {
		t.Fatalf("want UnknownQSetError, got %v", err)
	}
	if err := deliver(t, n, "A", 1, "PREP b=1:x"); !errors.Is(err, ErrOwnStatement) {
		t.Fatalf("want ErrOwnStatement, got %v", err)
	}
	n.Purge(5)
	if err := deliver(t, n, "B", 4, "PREP b=1:x"); !errors.Is(err, ErrSlotPurged) {
		t.Fatalf("want ErrSlotPurged, got %v", err)
	}
	if err := deliver(t, n, "B", 200, "PREP b=1:x"); !errors.Is(err, ErrSlotTooFar) {
		t.Fatalf("want ErrSlotTooFar, got %v", err)
	}
}

func TestComputeTimeoutLinearAndCapped(t *testing.T) {
	n, _ := mustNode(t, "A", "3{A,B,C,D}")
	n.cfg.BallotTimeout, n.cfg.BallotTimeoutIncrement, n.cfg.MaxTimeout = 10, 5, 100
	for _, c := range []struct {
		round uint32
		want  uint64
	}{{1, 10}, {2, 15}, {10, 55}, {1000, 100}, {Infinite, 100}} {
		if got := n.computeTimeout(c.round, false); got != c.want {
			t.Errorf("round %d: %d, want %d", c.round, got, c.want)
		}
	}
}

func TestNewNodeRejectsInsaneOrNonMajorityQSet(t *testing.T) {
	d := newTestDriver("A")
	if _, err := NewNode(Config{ID: nid("A"), QSet: quorum.QSet{Threshold: 1, Validators: []quorum.NodeID{nid("A"), nid("B"), nid("C")}}, Driver: d}); err == nil {
		t.Fatal("1-of-3 is not a majority: strict sanity must refuse it")
	}
	if _, err := NewNode(Config{ID: nid("A"), QSet: quorum.QSet{Threshold: 0}, Driver: d, UnsafeQuorum: true}); err == nil {
		t.Fatal("threshold 0 must be refused")
	}
	if _, err := NewNode(Config{ID: nid("A"), QSet: quorum.QSet{Threshold: 1, Validators: []quorum.NodeID{nid("A")}}}); err == nil {
		t.Fatal("missing driver must be refused")
	}
}
