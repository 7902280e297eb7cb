package federation

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
	"github.com/pgfed/pgfed/consensus/validator"
)

// A Byzantine validator on real links: bank4's validator keeps its key and
// addresses but runs no App. It is an SCP host (package validator, with the
// commit Driver, so it takes part in every slot) whose nominations come
// from byzVal.propose, and it holds its own federation link (a
// consensus/transport with its key, frame kinds 32 to 34) on which it
// sends what it likes, validly signed with its own key:
//
//   - for every request naming bank4: a PREPARED and an ABORT vote on the
//     same request, PREPARED to some peers and ABORT to the others, or both
//     to everyone, or PREPARED now and ABORT later;
//   - for requests not naming it: both kinds too (bank4 takes no part, so
//     no decision may use them), and a vote that claims another
//     organization (its key is not that organization's);
//   - replays of every vote it ever signed, and after a gid is final the
//     kind that contradicts the outcome;
//   - an applied slot far beyond the ledger;
//   - nominations that prefer ABORT wherever its own ABORT vote justifies
//     one, COMMIT elsewhere, and the opposite of what was decided for gids
//     already final.
//
// It also finalizes its own worker's prepared parts as its ledger says
// (Ledger.Resolve), so that bank4's accounts are not left locked; what it
// does to its own data is its business.

// byzVote signs a vote with key exactly as an honest validator's
// Participant would, but without its refusals (commit keeps its signing
// unexported so that honest code cannot equivocate; a Byzantine
// validator holds its key and signs what it wants).
func byzVote(network consensus.Hash, key ed25519.PrivateKey, gid, org string, kind commit.VoteKind, req consensus.Hash) commit.Vote {
	v := commit.Vote{GID: gid, Org: org, Kind: kind, Request: req}
	copy(v.Signer[:], key.Public().(ed25519.PublicKey))
	b := append([]byte("pgfed/commit/v1"), network[:]...)
	b = binary.BigEndian.AppendUint32(b, 2) // the vote kind of commit's signatures
	b = append(b, v.Content()...)
	copy(v.Signature[:], ed25519.Sign(key, b))
	return v
}

// byzStats counts what the Byzantine validator did.
type byzStats struct {
	requests, split, both, late, outsider, forgedOrg, replays, flips, nominated, abortNominations, oldNominations int
}

// byzVal is bank4's Byzantine validator (see the top of the file). Its
// random choices come from the test's seed; the interleaving of the real
// links and goroutines does not, so a seed reproduces the choices, not the
// run.
type byzVal struct {
	t    *testing.T
	f    *testFed
	b    *testBank
	peer []quorum.NodeID // the honest validators

	v  *validator.Validator
	tr *transport.Transport

	mu     sync.Mutex
	rng    *rand.Rand
	ledger *commit.Ledger
	prop   *commit.Proposer
	reqs   map[string]commit.Request  // every request heard of, by gid (the first)
	abort  map[string]commit.Vote     // gid -> its ABORT vote
	late   map[string]bool            // gids whose ABORT is sent later
	signed []commit.Vote              // everything it signed, for replays
	all    map[string]commit.Decision // every decision it nominated, by gid
	rivals []commit.Decision          // invalid decisions it nominates in every slot (rival)
	stats  byzStats

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startByzantine replaces bank b's (stopped) validator and App by a
// Byzantine validator with the same key and addresses.
func startByzantine(t *testing.T, f *testFed, b *testBank, seed int64) *byzVal {
	t.Helper()
	z := &byzVal{t: t, f: f, b: b, rng: rand.New(rand.NewSource(seed)), reqs: map[string]commit.Request{},
		abort: map[string]commit.Vote{}, late: map[string]bool{}, all: map[string]commit.Decision{}}
	z.ledger = commit.NewLedger(f.m)
	z.prop, _ = commit.NewProposer(commit.ProposerConfig{Ledger: z.ledger})
	for _, o := range f.banks {
		if o != b {
			z.peer = append(z.peer, transport.NodeID(o.key))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	z.cancel = cancel
	scpLn, err := net.Listen("tcp", b.scpAddr)
	if err != nil {
		t.Fatal(err)
	}
	gosLn, err := net.Listen("tcp", b.gosAddr)
	if err != nil {
		t.Fatal(err)
	}
	z.v, err = validator.Start(ctx, validator.Config{Key: b.key, Network: testNetwork, QSet: f.qset,
		Peers: f.peers(b, func(o *testBank) string { return o.scpAddr }), Listener: scpLn, ListenAddr: b.scpAddr,
		DataDir: filepath.Join(t.TempDir(), "scp"), NoSync: true, Driver: commit.NewDriver(f.m), Propose: z.propose,
		OnDecision: z.onDecision, TickInterval: testTick, CloseDelay: 10 * time.Millisecond,
		RebroadcastInterval: 500 * time.Millisecond, Logger: f.log.Named(b.org + "-byzantine")})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	z.tr, err = transport.Start(ctx, transport.Config{Key: b.key, Network: f.m.Network(), Listener: gosLn,
		ListenAddr: b.gosAddr, Peers: f.peers(b, func(o *testBank) string { return o.gosAddr }),
		MaxFrameSize: maxGossipFrame, Logger: f.log.Named(b.org + "-byzantine-links")})
	if err != nil {
		z.v.Close()
		cancel()
		t.Fatal(err)
	}
	z.wg.Add(2)
	go func() { defer z.wg.Done(); z.links(ctx) }()
	go func() { defer z.wg.Done(); z.loop(ctx) }()
	t.Cleanup(z.close)
	return z
}

func (z *byzVal) close() {
	z.cancel()
	z.wg.Wait()
	z.tr.Close()
	z.v.Close()
}

// links reads the federation frames: it pools the requests and votes of
// the honest validators and answers every request with its lies.
func (z *byzVal) links(ctx context.Context) {
	for {
		var m transport.Message
		var ok bool
		select {
		case <-ctx.Done():
			return
		case m, ok = <-z.tr.Inbound():
			if !ok {
				return
			}
		}
		switch m.Kind {
		case kindRequest:
			r, err := commit.DecodeRequest(m.Payload)
			if err == nil && z.f.m.CheckRequest(&r) == nil {
				z.request(r)
			}
		case kindVote:
			v, err := commit.DecodeVote(m.Payload)
			if err == nil && z.f.m.CheckVote(&v) == nil {
				z.mu.Lock()
				_ = z.prop.AddVote(v)
				z.mu.Unlock()
			}
		}
	}
}

type byzSend struct {
	to quorum.NodeID
	v  commit.Vote
}

// request signs both kinds for a new request and sends them as the dice
// say.
func (z *byzVal) request(r commit.Request) {
	nw := z.f.m.Network()
	var out []byzSend
	z.mu.Lock()
	if _, ok := z.reqs[r.GID]; ok || z.ledger.Decided(r.GID) {
		z.mu.Unlock()
		return
	}
	z.reqs[r.GID] = r
	_ = z.prop.AddRequest(r)
	prep := byzVote(nw, z.b.key, r.GID, z.b.org, commit.VotePrepared, r.Hash())
	abort := byzVote(nw, z.b.key, r.GID, z.b.org, commit.VoteAbort, r.Hash())
	z.signed = append(z.signed, prep, abort)
	if _, ours := r.Participant(z.b.org); ours {
		z.stats.requests++
		z.abort[r.GID] = abort
		_ = z.prop.AddVote(prep)
		_ = z.prop.AddVote(abort)
		switch z.stats.requests % 3 {
		case 0: // a different story to each side
			z.stats.split++
			cut := 1 + z.rng.Intn(len(z.peer)-1)
			perm := z.rng.Perm(len(z.peer))
			for i, p := range perm {
				if i < cut {
					out = append(out, byzSend{z.peer[p], prep})
				} else {
					out = append(out, byzSend{z.peer[p], abort})
				}
			}
		case 1: // both, in a random order
			z.stats.both++
			for _, p := range z.peer {
				if z.rng.Intn(2) == 0 {
					out = append(out, byzSend{p, prep}, byzSend{p, abort})
				} else {
					out = append(out, byzSend{p, abort}, byzSend{p, prep})
				}
			}
		default: // PREPARED now, ABORT at a later replay
			z.stats.late++
			z.late[r.GID] = true
			for _, p := range z.peer {
				out = append(out, byzSend{p, prep})
			}
		}
	} else if z.rng.Intn(2) == 0 {
		// Votes of an organization that takes no part, and one that claims
		// another organization.
		z.stats.outsider++
		other := r.Participants[z.rng.Intn(len(r.Participants))].Org
		forged := byzVote(nw, z.b.key, r.GID, other, commit.VotePrepared, r.Hash())
		z.stats.forgedOrg++
		for _, p := range z.peer {
			out = append(out, byzSend{p, prep}, byzSend{p, abort}, byzSend{p, forged})
		}
	}
	z.mu.Unlock()
	z.send(out)
}

func (z *byzVal) send(out []byzSend) {
	for _, s := range out {
		_ = z.tr.Send(s.to, kindVote, s.v.Encode())
	}
}

// loop replays old votes, sends late ABORTs and contradictions of final
// gids, lies about its applied slot and keeps its own worker unlocked.
func (z *byzVal) loop(ctx context.Context) {
	replay := time.NewTicker(150 * time.Millisecond)
	defer replay.Stop()
	sweep := time.NewTicker(300 * time.Millisecond)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-replay.C:
			z.replay()
			_ = z.tr.Broadcast(kindApplied, binary.BigEndian.AppendUint64(nil, 1<<40))
			z.v.Nudge()
		case <-sweep.C:
			z.sweep(ctx)
		}
	}
}

func (z *byzVal) replay() {
	nw := z.f.m.Network()
	var out []byzSend
	z.mu.Lock()
	for gid := range z.late {
		if z.rng.Intn(3) == 0 {
			delete(z.late, gid)
			for _, p := range z.peer {
				out = append(out, byzSend{p, z.abort[gid]})
			}
		}
	}
	for i := 0; i < 8 && len(z.signed) > 0; i++ {
		z.stats.replays++
		out = append(out, byzSend{z.peer[z.rng.Intn(len(z.peer))], z.signed[z.rng.Intn(len(z.signed))]})
	}
	// The kind that contradicts a final outcome, signed after the fact.
	for gid, r := range z.reqs {
		f, ok := z.ledger.Decision(gid)
		if !ok || z.rng.Intn(4) != 0 {
			continue
		}
		kind := commit.VoteAbort
		if f.Decision.Outcome == commit.Abort {
			kind = commit.VotePrepared
		}
		z.stats.flips++
		v := byzVote(nw, z.b.key, gid, z.b.org, kind, r.Hash())
		for _, p := range z.peer {
			out = append(out, byzSend{p, v})
		}
		delete(z.reqs, gid) // once is enough
	}
	z.mu.Unlock()
	z.send(out)
}

// propose is the SCP host's Propose: ABORT wherever its own ABORT vote
// justifies one (on a coin toss), what the pool justifies elsewhere, and
// the opposite of what some final gids got.
func (z *byzVal) propose(slot uint64) consensus.Value {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.ledger.Slot()+1 < slot {
		return nil
	}
	best := map[string]commit.Decision{}
	for _, d := range z.prop.Justified() {
		if a, ok := z.abort[d.GID()]; ok && d.Outcome == commit.Commit && z.rng.Intn(2) == 0 {
			d = commit.Decision{Outcome: commit.Abort, Request: d.Request, Votes: []commit.Vote{a}}
			z.stats.abortNominations++
		}
		best[d.GID()] = d
		z.all[d.GID()] = d
	}
	// Decisions for gids already final: the other outcome where its own
	// vote allows it, the old decision otherwise (valid, and ignored).
	for gid, d := range z.all {
		if len(best) >= 64 {
			break
		}
		if _, ok := best[gid]; ok || !z.ledger.Decided(gid) || z.rng.Intn(3) != 0 {
			continue
		}
		if a, ok := z.abort[gid]; ok && d.Outcome == commit.Commit {
			d = commit.Decision{Outcome: commit.Abort, Request: d.Request, Votes: []commit.Vote{a}}
		}
		best[gid] = d
		z.stats.oldNominations++
	}
	// ABORT of rival requests for other coordinators' gids: a value
	// holding one is invalid, so honest validators must go on without
	// bank4's nominations.
	for _, d := range z.rivals {
		if !z.ledger.Decided(d.GID()) {
			best[d.GID()] = d
		}
	}
	if len(best) == 0 {
		return nil
	}
	ds := make([]commit.Decision, 0, len(best))
	for _, d := range best {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].GID() < ds[j].GID() })
	if max := z.f.m.MaxDecisions(); len(ds) > max {
		ds = ds[:max]
	}
	z.stats.nominated++
	v := commit.Value{Decisions: ds}
	return v.Encode()
}

// onDecision feeds its commit ledger (slots arrive in order).
func (z *byzVal) onDecision(d validator.Decision) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if d.Slot != z.ledger.Slot()+1 {
		return
	}
	if _, err := z.ledger.Apply(d.Slot, d.Value); err != nil {
		z.t.Errorf("byzantine %s: slot %d: %v", z.b.org, d.Slot, err)
	}
	z.prop.Prune()
}

// sweep finalizes bank4's prepared parts as its ledger says.
func (z *byzVal) sweep(ctx context.Context) {
	c, err := z.b.server.Connect(ctx, "postgres")
	if err != nil {
		return
	}
	defer c.Close(context.Background())
	rows, err := c.Query(ctx, "SELECT gid FROM pg_prepared_xacts")
	if err != nil {
		return
	}
	var gids []string
	for rows.Next() {
		var g string
		if rows.Scan(&g) == nil {
			gids = append(gids, g)
		}
	}
	rows.Close()
	for _, g := range gids {
		z.mu.Lock()
		res := z.ledger.Resolve(z.b.org, commit.Part{Worker: z.b.worker.Name, GID: g})
		z.mu.Unlock()
		switch res {
		case commit.CommitPrepared:
			_, _ = c.Exec(ctx, "COMMIT PREPARED '"+g+"'")
		case commit.RollbackPrepared:
			_, _ = c.Exec(ctx, "ROLLBACK PREPARED '"+g+"'")
		}
	}
}

// honestSettled waits until no honest bank's worker holds a prepared
// transaction and every honest App applied its ledger.
func (f *testFed) honestSettled(ctx context.Context, honest []*testBank) {
	f.t.Helper()
	f.eventually(ctx, "no prepared transaction left at the honest banks and their ledgers applied", func() bool {
		for _, b := range honest {
			if len(f.prepared(ctx, b)) > 0 || b.app.Applied() < b.v.Last() {
				return false
			}
		}
		return true
	})
}

// TestByzantineValidator: four banks on real PostgreSQL workers, quorum
// sets of 3 of 4, bank4's validator Byzantine (see byzVal), concurrent
// transfers between any two banks for a bounded time, through the honest
// validators' client servers. Afterwards the honest banks (1 to 3): the
// same ledger (Client.Ledger: slot and digest), every gid one final
// decision for the very request submitted, applied at every honest bank
// that takes part (its transfer row present exactly when COMMIT), a
// COMMIT only when every honest leg had prepared, every transfer that
// bank4 takes no part in and whose legs prepared committed, every
// acknowledged COMMIT final as COMMIT, balances that match the rows and a
// total that moved only by the committed legs, nothing left prepared.
func TestByzantineValidator(t *testing.T) {
	f := newFed(t, 4)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	honest, byz := f.banks[:3], f.banks[3]
	f.stop(byz)
	z := startByzantine(t, f, byz, seed)

	const (
		coordinators = 6
		runFor       = 8 * time.Second
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var eps []Endpoint
	for _, b := range honest {
		eps = append(eps, Endpoint{Addr: b.cliAddr, Key: transport.NodeID(b.key)})
	}

	type transfer struct {
		gid      string
		req      commit.Request
		legs     []leg
		prepared []bool
		o        Outcome
		err      error
	}
	var (
		mu        sync.Mutex
		transfers []*transfer
	)
	deadline := time.Now().Add(runFor)
	var wg sync.WaitGroup
	for g := 0; g < coordinators; g++ {
		rng := rand.New(rand.NewSource(seed + int64(g) + 1))
		k := g % len(eps)
		client, err := NewClient(ClientConfig{Membership: f.m, Validators: append(append([]Endpoint(nil), eps[k:]...), eps[:k]...),
			Retry: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := rng.Intn(len(f.banks))
				j := (i + 1 + rng.Intn(len(f.banks)-1)) % len(f.banks)
				amt := int64(1 + rng.Intn(50))
				tr := &transfer{gid: f.newGID(), legs: []leg{{f.banks[i], 1 + rng.Intn(testAccounts), -amt}, {f.banks[j], 1 + rng.Intn(testAccounts), amt}}}
				tr.req = f.request(tr.gid, tr.legs...)
				if err := client.Submit(ctx, tr.req); err != nil {
					t.Errorf("%s: submit: %v", tr.gid, err)
					return
				}
				tr.prepared = make([]bool, len(tr.legs))
				for li, l := range tr.legs {
					// One leg in twelve is left unprepared (ABORT after the
					// timeout); a lock timeout does the same.
					if rng.Intn(12) != 0 {
						tr.prepared[li] = f.prepare(ctx, tr.gid, l) == nil
					}
				}
				cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
				tr.o, tr.err = client.Commit(cctx, tr.req)
				ccancel()
				mu.Lock()
				transfers = append(transfers, tr)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	f.honestSettled(ctx, honest)
	// The same ledger at every honest validator, read through the client
	// protocol (signed pages).
	var pages []LedgerPage
	f.eventually(ctx, "every honest ledger at the same slot", func() bool {
		pages = pages[:0]
		for _, ep := range eps {
			p, err := f.client.Ledger(ctx, ep, 0, 1)
			if err != nil {
				return false
			}
			pages = append(pages, p)
		}
		for _, p := range pages[1:] {
			if p.Slot != pages[0].Slot {
				return false
			}
		}
		return true
	})
	for i, p := range pages[1:] {
		if p.Digest != pages[0].Digest {
			t.Fatalf("seed %d: ledger of %s differs from %s's at slot %d", seed, honest[i+1].org, honest[0].org, p.Slot)
		}
	}
	f.honestSettled(ctx, honest)

	z.mu.Lock()
	st := z.stats
	z.mu.Unlock()
	t.Logf("byzantine %s: %d requests naming it (%d split, %d both, %d late ABORT), %d outsider requests voted on (%d votes for another organization), %d replays, %d contradictions of final gids, %d nominations (%d COMMIT turned ABORT, %d decisions of final gids)",
		byz.org, st.requests, st.split, st.both, st.late, st.outsider, st.forgedOrg, st.replays, st.flips, st.nominated, st.abortNominations, st.oldNominations)

	// Every honest bank's rows and balances.
	rows := make([]map[string]transferRow, len(honest))
	var total int64
	for bi, b := range honest {
		var sum int64
		rows[bi], sum = f.readBank(ctx, t, b, seed)
		total += sum
	}

	honestIndex := map[*testBank]int{}
	for i, b := range honest {
		honestIndex[b] = i
	}
	var moved int64
	counts := map[string]int{}
	seen := make([]map[string]bool, len(honest))
	for i := range seen {
		seen[i] = map[string]bool{}
	}
	for _, tr := range transfers {
		fin, ok := honest[0].app.finalOf(tr.gid)
		if !ok {
			t.Errorf("seed %d: %s: no final decision at %s", seed, tr.gid, honest[0].org)
			continue
		}
		d := fin.Decision
		if d.Request.Hash() != tr.req.Hash() {
			t.Errorf("seed %d: %s: decided for another request", seed, tr.gid)
		}
		byzPart := false
		allPrepared := true
		for li, l := range tr.legs {
			if l.bank == byz {
				byzPart = true
			}
			allPrepared = allPrepared && tr.prepared[li]
			bi, ok := honestIndex[l.bank]
			if !ok {
				continue
			}
			if d.Outcome == commit.Commit && !tr.prepared[li] {
				t.Errorf("seed %d: %s: COMMIT, but %s's leg was never prepared", seed, tr.gid, l.bank.org)
			}
			r, has := rows[bi][tr.gid]
			seen[bi][tr.gid] = true
			switch {
			case d.Outcome == commit.Commit && (!has || r.account != l.account || r.delta != l.delta):
				t.Errorf("seed %d: %s: COMMIT, but %s has row %v (%+v)", seed, tr.gid, l.bank.org, has, r)
			case d.Outcome == commit.Abort && has:
				t.Errorf("seed %d: %s: ABORT, but %s has its row", seed, tr.gid, l.bank.org)
			}
			if d.Outcome == commit.Commit {
				moved += l.delta
			}
		}
		if !byzPart && allPrepared && d.Outcome != commit.Commit {
			t.Errorf("seed %d: %s: bank4 takes no part and every leg prepared, but %s", seed, tr.gid, d.Outcome)
		}
		if tr.err == nil && (tr.o.Outcome != d.Outcome || tr.o.Request != tr.req.Hash()) {
			t.Errorf("seed %d: %s: answered %s, decided %s", seed, tr.gid, tr.o.Outcome, d.Outcome)
		}
		counts[fmt.Sprintf("%s bank4=%v", d.Outcome, byzPart)]++
	}
	for bi, rs := range rows {
		for gid := range rs {
			if !seen[bi][gid] {
				t.Errorf("seed %d: %s has a row of %s, which no transfer made", seed, honest[bi].org, gid)
			}
		}
	}
	if want := int64(len(honest)*testAccounts*testBalance) + moved; total != want {
		t.Errorf("seed %d: total balance at the honest banks %d, want %d (%+d moved by committed legs)", seed, total, want, moved)
	}
	t.Logf("seed %d: %d transfers, %d slots: %v", seed, len(transfers), pages[0].Slot, counts)
	if counts["COMMIT bank4=false"] == 0 || counts["COMMIT bank4=true"]+counts["ABORT bank4=true"] < 3 {
		t.Errorf("seed %d: a one-sided run: %v", seed, counts)
	}
	if st.split == 0 || st.both == 0 || st.late == 0 || st.flips == 0 {
		t.Errorf("seed %d: the Byzantine validator did not try everything: %+v", seed, st)
	}
}

// finalOf returns gid's final decision in the App's commit ledger.
func (a *App) finalOf(gid string) (commit.Final, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ledger.Decision(gid)
}

// forgeRequest signs r with key as the coordinator, bypassing
// commit.SignRequest, which refuses a gid that does not name key: how a
// rival request for someone else's gid is made. The validators must refuse
// what it returns.
func forgeRequest(network consensus.Hash, key ed25519.PrivateKey, r commit.Request) commit.Request {
	copy(r.Coordinator[:], key.Public().(ed25519.PublicKey))
	b := append([]byte("pgfed/commit/v1"), network[:]...)
	b = binary.BigEndian.AppendUint32(b, 1) // the request kind of commit's signatures
	b = append(b, r.Content()...)
	copy(r.Signature[:], ed25519.Sign(key, b))
	return r
}

// rival signs, with the Byzantine validator's key in the coordinator's
// role, another request for an honest coordinator's gid: it lists the
// honest leg's very part (same worker, same worker gid) and a part of
// bank4's; bank4 signs PREPARED and ABORT on it, sends it on the
// federation link to the honest bank of that leg only and the votes to
// every peer, and from then on nominates ABORT of it (justified by its
// own ABORT vote, were the request valid) in every slot. Then, on the
// same link, a marker: a valid request of bank4's own key naming that
// bank; once the bank learned the marker it has handled the rival (the
// link keeps the order, and the bank learns on the link's goroutine).
func (z *byzVal) rival(gid string, l leg) (rival, marker commit.Request) {
	z.t.Helper()
	nw := z.f.m.Network()
	r := commit.Request{GID: gid, Created: time.Now().UnixNano(), Participants: []commit.OrgParts{
		{Org: l.bank.org, Parts: []commit.Part{l.part(gid)}},
		{Org: z.b.org, Parts: []commit.Part{{Worker: z.b.worker.Name, GID: gid + "_" + z.b.org}}},
	}}
	sort.Slice(r.Participants, func(i, j int) bool { return r.Participants[i].Org < r.Participants[j].Org })
	rival = forgeRequest(nw, z.b.key, r)
	if err := z.f.m.CheckRequest(&rival); !errors.Is(err, commit.ErrRequest) {
		z.t.Fatalf("a request of bank4's key for another coordinator's gid %s: %v", gid, err)
	}
	mgid := GIDPrefix + commit.KeyTag(transport.NodeID(z.b.key)) + "_marker" + strconv.FormatInt(time.Now().UnixNano(), 10)
	marker, err := commit.SignRequest(nw, z.b.key, commit.Request{GID: mgid, Created: time.Now().UnixNano(),
		Participants: []commit.OrgParts{{Org: l.bank.org, Parts: []commit.Part{l.part(mgid)}}}})
	if err != nil {
		z.t.Fatal(err)
	}
	prep := byzVote(nw, z.b.key, gid, z.b.org, commit.VotePrepared, rival.Hash())
	abort := byzVote(nw, z.b.key, gid, z.b.org, commit.VoteAbort, rival.Hash())
	z.mu.Lock()
	z.reqs[gid] = rival
	z.rivals = append(z.rivals, commit.Decision{Outcome: commit.Abort, Request: rival, Votes: []commit.Vote{abort}})
	z.mu.Unlock()
	_ = z.tr.Send(transport.NodeID(l.bank.key), kindRequest, rival.Encode())
	_ = z.tr.Send(transport.NodeID(l.bank.key), kindRequest, marker.Encode())
	for _, p := range z.peer {
		_ = z.tr.Send(p, kindVote, prep.Encode())
		_ = z.tr.Send(p, kindVote, abort.Encode())
	}
	return rival, marker
}

// TestByzantineRivalRequest: an honest coordinator's transfer from bank1
// to bank2, and a rival request for the same gid that lists bank1's part
// (same worker, same worker gid) and reaches bank1 before the honest
// request does (the rival saw the coordinator's earlier gids, or simply
// won the gossip race). Were it accepted, bank1 would keep it (a
// Participant keeps the first request of a gid), its gateway would admit
// the coordinator's PREPARE of the part it lists, and the final request
// would commit bank1's part and roll back bank2's. It is refused: a gid
// names its coordinator's key (commit.KeyTag), so a request for it signed
// by any other key fails commit.Request's check everywhere, and the
// coordinator's own key cannot be forged. Two rivals: bank4's Byzantine
// validator signing as a coordinator (with a part of its own, on which it
// votes both ways, nominating ABORT of the rival in every slot), sent on
// its federation link; and any key at all, submitted to bank1's client
// server (which needs no authentication), listing bank1's part alone.
// Both banks then commit the honest request: the same outcome, the one
// the coordinator is answered.
func TestByzantineRivalRequest(t *testing.T) {
	t.Run("byzantine validator", func(t *testing.T) {
		f := newFed(t, 4)
		seed := time.Now().UnixNano()
		t.Logf("seed %d", seed)
		f.stop(f.banks[3])
		z := startByzantine(t, f, f.banks[3], seed)
		f.rivalScenario(t, f.banks[:3], func(ctx context.Context, gid string, l leg) commit.Request {
			rival, marker := z.rival(gid, l)
			f.eventually(ctx, l.bank.org+" learned the marker sent after the rival request", func() bool {
				l.bank.app.mu.Lock()
				defer l.bank.app.mu.Unlock()
				_, ok := l.bank.app.part.Request(marker.GID)
				return ok
			})
			return rival
		})
	})
	t.Run("any key", func(t *testing.T) {
		f := newFed(t, 3)
		_, rogue, _ := ed25519.GenerateKey(nil)
		f.rivalScenario(t, f.banks, func(ctx context.Context, gid string, l leg) commit.Request {
			r := commit.Request{GID: gid, Created: time.Now().UnixNano(),
				Participants: []commit.OrgParts{{Org: l.bank.org, Parts: []commit.Part{l.part(gid)}}}}
			if _, err := commit.SignRequest(f.m.Network(), rogue, r); !errors.Is(err, commit.ErrRequest) {
				t.Fatalf("signed a request for another key's gid: %v", err)
			}
			rival := forgeRequest(f.m.Network(), rogue, r)
			ep := Endpoint{Addr: l.bank.cliAddr, Key: transport.NodeID(l.bank.key)}
			c, err := NewClient(ClientConfig{Membership: f.m, Validators: []Endpoint{ep}})
			if err != nil {
				t.Fatal(err)
			}
			// The client checks first; the validator's client server too
			// (the frame sent as is, as a rogue client would).
			if err := c.Submit(ctx, rival); !errors.Is(err, commit.ErrRequest) {
				t.Fatalf("client submitted the rival request: %v", err)
			}
			if _, err := c.once(ctx, ep, rival.Encode(), nil); !errors.Is(err, ErrRejected) {
				t.Fatalf("%s's client server took the rival request: %v", l.bank.org, err)
			}
			return rival
		})
	})
}

// rivalScenario runs the honest transfer of TestByzantineRivalRequest
// after rival tried to plant its request at bank1 (and returned once
// bank1 handled it).
func (f *testFed) rivalScenario(t *testing.T, honest []*testBank, rival func(context.Context, string, leg) commit.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b1, b2 := f.banks[0], f.banks[1]
	gid := f.newGID()
	legs := []leg{{b1, 7, -100}, {b2, 7, 100}}
	rr := rival(ctx, gid, legs[0])
	b1.app.mu.Lock()
	_, learned := b1.app.part.Request(gid)
	b1.app.mu.Unlock()
	if learned {
		t.Fatalf("bank1 learned the rival request for %s", gid)
	}
	// The honest coordinator submits to its own organization's validator
	// (bank2), whose gossip brings the request to bank1.
	r := f.request(gid, legs...)
	client, err := NewClient(ClientConfig{Membership: f.m, Validators: []Endpoint{{Addr: b2.cliAddr, Key: transport.NodeID(b2.key)}},
		Retry: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Submit(ctx, r); err != nil {
		t.Fatal(err)
	}
	for _, l := range legs {
		if err := f.prepare(ctx, gid, l); err != nil {
			t.Fatal(err)
		}
	}
	o, err := client.Commit(ctx, r)
	if err != nil || o.Outcome != commit.Commit || o.Request != r.Hash() {
		t.Fatalf("gid %s: the coordinator is answered %s (for its own request: %v), %v", gid, o.Outcome, o.Request == r.Hash(), err)
	}
	f.honestSettled(ctx, honest)
	for _, b := range honest {
		fin, ok := b.app.finalOf(gid)
		if !ok || fin.Decision.Outcome != commit.Commit || fin.Decision.Request.Hash() != r.Hash() {
			t.Fatalf("gid %s at %s: final %v: %s of the rival request: %v", gid, b.org, ok, fin.Decision.Outcome, fin.Decision.Request.Hash() == rr.Hash())
		}
	}
	bal1, row1 := f.balance(ctx, b1, 7, gid)
	bal2, row2 := f.balance(ctx, b2, 7, gid)
	if !row1 || !row2 || bal1 != testBalance-100 || bal2 != testBalance+100 {
		t.Fatalf("gid %s: bank1 applied its part: %v (balance %d), bank2 its part: %v (balance %d)", gid, row1, bal1, row2, bal2)
	}
}
