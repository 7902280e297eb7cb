package commit

import (
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// The end-to-end test runs four organizations' validators (one each) in
// one process: consensus.Node instances with this package's Driver, their
// Proposers, Participants and Ledgers, and simulated workers, over a
// seeded network that delays and reorders every message (SCP envelopes,
// requests and votes are encoded and decoded on the way). bank4's
// validator is Byzantine: it signs both PREPARED and ABORT for each of its
// gids, sends PREPARED to some validators and ABORT to others, and
// nominates ABORT whenever its own vote justifies it.

type msgKind uint8

const (
	msgSCP msgKind = iota
	msgRequest
	msgVote
)

type e2eMsg struct {
	kind msgKind
	to   int
	data []byte
}

type e2eTxn struct {
	req   Request
	start int
	fate  string            // "normal", "fail", "crash"
	ready map[string]int    // worker gid -> tick it becomes prepared (absent: never)
	fail  map[string]int    // worker gid -> tick its PREPARE fails
	orgOf map[string]string // worker gid -> organization
}

type e2eNode struct {
	idx     int
	org     string
	byz     bool
	node    *consensus.Node
	drv     *Driver
	prop    *Proposer
	part    *Participant
	saved   []byte // the participant's persisted state
	ledger  *Ledger
	ext     map[uint64]consensus.Value // externalized, not yet applied
	nom     map[uint64]bool
	finals  map[string]int // gid -> how many times it became final
	ignored int            // decisions ignored because their gid was final
	byzReq  map[string]Request
	byzVot  map[string]bool
	byzAll  map[string]Decision // every decision bank4 could make, decided or not
	applied uint64              // last slot whose actions were applied to the workers
}

type e2e struct {
	t      *testing.T
	seed   int64
	rng    *rand.Rand
	f      *fixture
	nodes  []*e2eNode
	now    int
	queue  map[int][]e2eMsg
	txns   []*e2eTxn
	status map[string]PartStatus // worker gid -> state on its worker (ground truth)
	done   map[string]Outcome    // worker gid -> what its organization applied
	errs   []string
	// conflicts counts gids Combine met with both outcomes (COMMIT wins)
	conflicts int
}

func (s *e2e) failf(format string, args ...any) {
	s.errs = append(s.errs, fmt.Sprintf("tick %d: ", s.now)+fmt.Sprintf(format, args...))
}

func (s *e2e) send(to int, kind msgKind, data []byte) {
	at := s.now + 1 + s.rng.Intn(3)
	s.queue[at] = append(s.queue[at], e2eMsg{kind: kind, to: to, data: data})
}

func (s *e2e) broadcast(from int, kind msgKind, data []byte) {
	for i := range s.nodes {
		if i != from {
			s.send(i, kind, data)
		}
	}
}

func newE2E(t *testing.T, seed int64) *e2e {
	s := &e2e{t: t, seed: seed, rng: rand.New(rand.NewSource(seed)), f: newFixture(t, 1, 1, 1, 1),
		queue: map[int][]e2eMsg{}, status: map[string]PartStatus{}, done: map[string]Outcome{}}
	var ids []quorum.NodeID
	for _, o := range s.f.orgs {
		ids = append(ids, pub(s.f.keys[o][0]))
	}
	qset := quorum.QSet{Threshold: 3, Validators: ids}
	for i, o := range s.f.orgs {
		drv := NewDriver(s.f.m)
		node, err := consensus.NewNode(consensus.Config{ID: ids[i], QSet: qset, Driver: countingDriver{drv, &s.conflicts},
			NominationTimeout: 6, NominationTimeoutIncrement: 3, BallotTimeout: 8, BallotTimeoutIncrement: 4})
		if err != nil {
			t.Fatal(err)
		}
		led := NewLedger(s.f.m)
		prop, _ := NewProposer(ProposerConfig{Ledger: led})
		part, err := NewParticipant(ParticipantConfig{Ledger: led, Key: s.f.keys[o][0], Timeout: 60})
		if err != nil {
			t.Fatal(err)
		}
		s.nodes = append(s.nodes, &e2eNode{idx: i, org: o, byz: o == "bank4", node: node, drv: drv, prop: prop, part: part,
			ledger: led, ext: map[uint64]consensus.Value{}, nom: map[uint64]bool{}, finals: map[string]int{},
			byzReq: map[string]Request{}, byzVot: map[string]bool{}, byzAll: map[string]Decision{}})
	}
	return s
}

// makeTxns creates n transactions over random organizations with random
// fates: "normal" (every part prepares), "fail" (an honest part's PREPARE
// fails), "crash" (the coordinator dies and an honest part never
// prepares).
func (s *e2e) makeTxns(n int) {
	for i := 0; i < n; i++ {
		coord := testKey(fmt.Sprintf("coordinator%d", i%3)) // three coordinators
		gid := tagGID(coord, fmt.Sprintf("%016x%d", s.rng.Uint64(), i))
		k := 2 + s.rng.Intn(3)
		perm := s.rng.Perm(4)[:k]
		sort.Ints(perm)
		r := Request{GID: gid, Created: int64(i)}
		tx := &e2eTxn{fate: "normal", ready: map[string]int{}, fail: map[string]int{}, orgOf: map[string]string{}, start: s.rng.Intn(200)}
		node := 1
		for _, p := range perm {
			org := s.f.orgs[p]
			op := OrgParts{Org: org}
			for w := 0; w < 1+s.rng.Intn(2); w++ {
				pg := fmt.Sprintf("%s_%d", gid, node)
				node++
				op.Parts = append(op.Parts, Part{Worker: fmt.Sprintf("%s-w%d", org, w), GID: pg})
				tx.orgOf[pg] = org
				tx.ready[pg] = tx.start + 1 + s.rng.Intn(15)
			}
			r.Participants = append(r.Participants, op)
		}
		sr, err := SignRequest(s.f.network, coord, r)
		if err != nil {
			s.t.Fatal(err)
		}
		tx.req = sr
		// pick an honest part to fail or go missing
		var honest []string
		for pg, org := range tx.orgOf {
			if org != "bank4" {
				honest = append(honest, pg)
			}
		}
		sort.Strings(honest)
		switch x := s.rng.Intn(10); {
		case x < 2 && len(honest) > 0:
			tx.fate = "fail"
			pg := honest[s.rng.Intn(len(honest))]
			tx.fail[pg] = tx.ready[pg]
			delete(tx.ready, pg)
		case x < 3 && len(honest) > 0:
			tx.fate = "crash"
			delete(tx.ready, honest[s.rng.Intn(len(honest))])
		}
		s.txns = append(s.txns, tx)
	}
}

func (s *e2e) step() {
	// the workers and the coordinators
	for _, tx := range s.txns {
		if tx.start == s.now {
			for i := range s.nodes {
				s.send(i, msgRequest, tx.req.Encode())
			}
		}
		for pg, at := range tx.ready {
			if at == s.now && s.status[pg] == PartMissing {
				s.status[pg] = PartPrepared
			}
		}
		for pg, at := range tx.fail {
			if at == s.now {
				s.status[pg] = PartFailed
			}
		}
	}
	due := s.queue[s.now]
	delete(s.queue, s.now)
	s.rng.Shuffle(len(due), func(i, j int) { due[i], due[j] = due[j], due[i] })
	for _, m := range due {
		s.deliver(m)
	}
	for _, n := range s.nodes {
		if s.now == 120 && n.org == "bank2" && n.saved != nil {
			// bank2's validator restarts: its participant comes back from
			// what it persisted
			p, err := RestoreParticipant(ParticipantConfig{Ledger: n.ledger, Key: s.f.keys[n.org][0], Timeout: 60}, n.saved)
			if err != nil {
				s.failf("restore participant: %v", err)
				return
			}
			n.part = p
			// the pool is not persisted: it comes back from rebroadcasts
			n.prop, _ = NewProposer(ProposerConfig{Ledger: n.ledger})
		}
		if !n.byz && s.now%25 == n.idx*6 {
			// rebroadcast the pending requests and the own votes
			for _, r := range n.prop.Requests() {
				if !n.ledger.Decided(r.GID) {
					s.broadcast(n.idx, msgRequest, r.Encode())
				}
			}
			for _, v := range n.part.Votes() {
				s.broadcast(n.idx, msgVote, v.Encode())
			}
		}
		n.part.Tick()
		if n.byz {
			s.byzantineVotes(n)
		} else {
			votes := n.part.Decide(func(p Part) PartStatus { return s.status[p.GID] })
			if n.part.Unsaved() {
				n.saved = n.part.Save() // persisted before the votes leave
			}
			for _, v := range votes {
				if err := n.prop.AddVote(v); err != nil {
					s.failf("node %d: own vote: %v", n.idx, err)
				}
				s.broadcast(n.idx, msgVote, v.Encode())
			}
		}
		n.node.Tick()
		s.drain(n)
		s.nominate(n)
	}
}

func (s *e2e) deliver(m e2eMsg) {
	n := s.nodes[m.to]
	switch m.kind {
	case msgSCP:
		env, err := consensus.DecodeEnvelope(m.data)
		if err != nil {
			s.failf("node %d: decode envelope: %v", n.idx, err)
			return
		}
		err = n.node.Step(env)
		switch {
		case err == nil, errors.Is(err, consensus.ErrStale), errors.Is(err, consensus.ErrIncompatible), errors.Is(err, consensus.ErrSlotTooFar):
		default:
			s.failf("node %d: step %s: %v", n.idx, env.Statement, err)
		}
		s.drain(n)
	case msgRequest:
		r, err := DecodeRequest(m.data)
		if err != nil {
			s.failf("node %d: decode request: %v", n.idx, err)
			return
		}
		if n.ledger.Decided(r.GID) {
			return
		}
		if err := n.prop.AddRequest(r); err != nil {
			s.failf("node %d: request %s: %v", n.idx, r.GID, err)
		}
		if n.byz {
			if _, ok := r.Participant(n.org); ok {
				n.byzReq[r.GID] = r
			}
			return
		}
		if err := n.part.Learn(r); err != nil && !errors.Is(err, ErrNotParticipant) && !errors.Is(err, ErrDecided) {
			s.failf("node %d: learn %s: %v", n.idx, r.GID, err)
		}
	case msgVote:
		v, err := DecodeVote(m.data)
		if err != nil {
			s.failf("node %d: decode vote: %v", n.idx, err)
			return
		}
		if n.ledger.Decided(v.GID) {
			return
		}
		if err := n.prop.AddVote(v); err != nil {
			s.failf("node %d: vote: %v", n.idx, err)
		}
	}
}

// byzantineVotes: bank4 signs both kinds and tells each validator a
// different story.
func (s *e2e) byzantineVotes(n *e2eNode) {
	var gids []string
	for gid := range n.byzReq {
		if !n.byzVot[gid] {
			gids = append(gids, gid)
		}
	}
	sort.Strings(gids)
	for _, gid := range gids {
		r := n.byzReq[gid]
		n.byzVot[gid] = true
		prep := signVote(s.f.network, s.f.keys[n.org][0], gid, n.org, VotePrepared, r.Hash())
		abort := signVote(s.f.network, s.f.keys[n.org][0], gid, n.org, VoteAbort, r.Hash())
		_ = n.prop.AddVote(prep)
		_ = n.prop.AddVote(abort)
		for i := range s.nodes {
			if i == n.idx {
				continue
			}
			if i%2 == 0 {
				s.send(i, msgVote, prep.Encode())
			} else {
				s.send(i, msgVote, abort.Encode())
			}
		}
	}
}

func (s *e2e) drain(n *e2eNode) {
	for n.node.HasReady() {
		rd := n.node.Ready()
		for _, e := range rd.Send {
			s.broadcast(n.idx, msgSCP, e.Encode())
		}
		for _, x := range rd.Externalized {
			n.ext[x.Slot] = x.Value
		}
		n.node.Advance()
		if err := n.node.Invariant(); err != nil {
			s.failf("node %d: %v", n.idx, err)
		}
	}
	for {
		next := n.ledger.Slot() + 1
		v, ok := n.ext[next]
		if !ok {
			break
		}
		delete(n.ext, next)
		a, err := n.ledger.Apply(next, v)
		if err != nil {
			s.failf("node %d: apply: %v", n.idx, err)
			return
		}
		if a.Err != nil {
			s.failf("node %d: slot %d externalized an unreadable value: %v", n.idx, next, a.Err)
		}
		for _, d := range a.Final {
			n.finals[d.GID()]++
		}
		n.ignored += len(a.Ignored)
		for _, ig := range a.Ignored {
			if ig.Err != nil {
				s.failf("node %d: slot %d: invalid decision externalized: %v", n.idx, next, ig.Err)
			}
		}
		n.prop.Prune()
		if !n.byz {
			n.part.Prune()
			s.applyActions(n)
		}
	}
}

// applyActions plays the organization's validator finalizing its own
// workers' prepared parts.
func (s *e2e) applyActions(n *e2eNode) {
	for _, a := range n.ledger.Actions(n.org, n.applied) {
		for _, p := range a.Parts {
			if old, ok := s.done[p.GID]; ok {
				s.failf("%s: part %s finalized twice (%s, then %s)", n.org, p.GID, old, a.Outcome)
			}
			if a.Outcome == Commit && s.status[p.GID] != PartPrepared {
				s.failf("%s: COMMIT PREPARED of part %s which is %s", n.org, p.GID, s.status[p.GID])
			}
			s.done[p.GID] = a.Outcome
		}
	}
	n.applied = n.ledger.Slot()
}

func (s *e2e) nominate(n *e2eNode) {
	slot := n.ledger.Slot() + 1
	if n.nom[slot] {
		return
	}
	var v consensus.Value
	if n.byz {
		v = s.byzantineProposal(n, slot)
	} else {
		v = n.prop.Propose(slot)
	}
	if v == nil {
		return
	}
	n.nom[slot] = true
	prev, _ := n.node.Externalized(slot - 1)
	if err := n.node.Nominate(slot, v, prev); err != nil {
		s.failf("node %d: nominate: %v", n.idx, err)
	}
	s.drain(n)
}

// byzantineProposal prefers ABORT wherever bank4's own ABORT vote makes it
// valid, and proposes again the gids already decided (valid values that
// the ledger must ignore).
func (s *e2e) byzantineProposal(n *e2eNode, slot uint64) consensus.Value {
	fresh := false
	for _, d := range n.prop.Justified() {
		if d.Outcome == Commit {
			if a, ok := n.prop.justify(d.Request, Abort); ok {
				d = a
			}
		}
		n.byzAll[d.GID()] = d
		fresh = true
	}
	if !fresh {
		return nil
	}
	return combineDecisions(slot, n.byzAll, s.f.m.MaxDecisions())
}

// countingDriver counts the gids that Combine saw decided both ways.
type countingDriver struct {
	*Driver
	conflicts *int
}

func (c countingDriver) Combine(slot uint64, cands []consensus.Value) consensus.Value {
	seen := map[string]Outcome{}
	for _, v := range cands {
		val, _ := DecodeValue(v)
		for _, d := range val.Decisions {
			if o, ok := seen[d.GID()]; ok && o != d.Outcome {
				*c.conflicts++
			}
			seen[d.GID()] = d.Outcome
		}
	}
	return c.Driver.Combine(slot, cands)
}

func (s *e2e) allDecided() bool {
	slot := s.nodes[0].ledger.Slot()
	for _, n := range s.nodes {
		if n.byz {
			continue
		}
		if n.ledger.Slot() != slot || len(n.ext) > 0 {
			return false
		}
		for _, tx := range s.txns {
			if !n.ledger.Decided(tx.req.GID) {
				return false
			}
		}
	}
	return true
}

// TestEndToEndFourOrganizations: concurrent cross-organization
// transactions, some with a part that fails to prepare, some whose
// coordinator dies before a part prepares, and a Byzantine validator that
// votes both ways: every honest ledger is identical, every gid is decided
// exactly once, a COMMIT only ever carries (and only happens with) every
// participant's PREPARED, honest organizations apply the same outcome to
// all their parts, and no prepared part of an honest organization is left.
func TestEndToEndFourOrganizations(t *testing.T) {
	seed := testSeed(t)
	t.Logf("seed %d (COMMIT_SEED=%d to replay)", seed, seed)
	runs := 2
	if testing.Short() {
		runs = 1
	}
	for run := 0; run < runs; run++ {
		s := newE2E(t, seed+int64(run))
		s.makeTxns(40)
		const maxTicks = 4000
		for s.now = 0; s.now < maxTicks && len(s.errs) == 0; s.now++ {
			if s.now > 200 && s.allDecided() {
				break
			}
			s.step()
		}
		s.check(run)
	}
}

func (s *e2e) check(run int) {
	t := s.t
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d run %d: %s", s.seed, run, fmt.Sprintf(format, args...))
	}
	for _, e := range s.errs {
		t.Errorf("seed %d run %d: %s", s.seed, run, e)
	}
	if len(s.errs) > 0 {
		t.FailNow()
	}
	if !s.allDecided() {
		for _, n := range s.nodes {
			var undecided []string
			for _, tx := range s.txns {
				if !n.ledger.Decided(tx.req.GID) {
					d, ok := n.prop.Justify(tx.req.GID)
					undecided = append(undecided, fmt.Sprintf("%s(%s,justified %v %s,voted %s)", tx.req.GID, tx.fate, ok, d.Outcome, n.part.Voted(tx.req.GID)))
				}
			}
			_, ext := n.node.Externalized(n.ledger.Slot() + 1)
			t.Logf("%s: slot %d, next externalized %v, buffered %d, nominated next %v, undecided %v", n.org, n.ledger.Slot(), ext, len(n.ext), n.nom[n.ledger.Slot()+1], undecided)
		}
		fail("not every gid decided after %d ticks", s.now)
	}
	var ref *e2eNode
	counts := map[Outcome]int{}
	for _, n := range s.nodes {
		if n.byz {
			continue
		}
		if ref == nil {
			ref = n
		} else if n.ledger.Digest() != ref.ledger.Digest() {
			fail("ledgers of %s and %s differ", ref.org, n.org)
		}
		for _, tx := range s.txns {
			if c := n.finals[tx.req.GID]; c != 1 {
				fail("%s: gid %s final %d times", n.org, tx.req.GID, c)
			}
		}
	}
	for _, tx := range s.txns {
		fin, _ := ref.ledger.Decision(tx.req.GID)
		d := fin.Decision
		counts[d.Outcome]++
		if !naiveDecisionOK(s.f, &d) {
			fail("gid %s: final decision not justified", tx.req.GID)
		}
		_, byzPart := tx.req.Participant("bank4")
		switch {
		case tx.fate != "normal" && d.Outcome == Commit:
			fail("gid %s (%s): COMMIT", tx.req.GID, tx.fate)
		case tx.fate == "normal" && !byzPart && d.Outcome != Commit:
			fail("gid %s: every part prepared, no Byzantine participant, but %s", tx.req.GID, d.Outcome)
		}
		// every honest part: finalized with the decided outcome
		for pg, org := range tx.orgOf {
			if org == "bank4" {
				continue
			}
			if got, ok := s.done[pg]; !ok || got != d.Outcome {
				fail("gid %s: %s's part %s: applied %v (%v), decided %s", tx.req.GID, org, pg, got, ok, d.Outcome)
			}
			if d.Outcome == Commit && s.status[pg] != PartPrepared {
				fail("gid %s: committed with %s's part %s %s", tx.req.GID, org, pg, s.status[pg])
			}
		}
	}
	t.Logf("run %d: %d ticks, %d slots, %d COMMIT, %d ABORT, %d later decisions ignored, %d combines with both outcomes", run, s.now, ref.ledger.Slot(), counts[Commit], counts[Abort], ref.ignored, s.conflicts)
	if counts[Commit] == 0 || counts[Abort] == 0 {
		fail("a one-sided run: %v", counts)
	}
}
