package federation

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
	"github.com/pgfed/pgfed/consensus/validator"
)

// App is the federated commit run by one organization's validator: the
// commit.Ledger, Proposer and Participant, the links that disseminate
// requests and votes, the I/O on the organization's workers, and the
// server coordinators submit to. See doc.go for its loop.
type App struct {
	cfg Config
	org string
	id  quorum.NodeID
	log hclog.Logger
	drv *commit.Driver

	// mu guards the commit state, which the loop, the validator's goroutine
	// (Propose) and the server (waitOutcome) share; nobody does I/O under it.
	mu     sync.Mutex
	ledger *commit.Ledger
	prop   *commit.Proposer
	part   *commit.Participant
	ready  bool

	// Owned by the loop goroutine.
	st         state
	held       []commit.Vote // signed, not yet persisted: never sent
	workers    map[string]*worker
	order      []string          // worker names, sorted as configured
	known      map[string]bool   // gids of requests naming the organization (under mu)
	orphanSeen map[string]uint64 // worker name/gid -> tick first seen as an orphan
	nudge      bool              // the pool may justify new decisions: tell the validator
	round      int               // rebroadcast rounds
	dirty      bool              // the state must be written again (a write failed)

	v       *validator.Validator
	gossip  *gossip
	srv     *server
	decided chan struct{}
	checks  chan struct{} // Prepared: look at the workers now

	// wmu guards what coordinators wait on besides the ledger: the slot
	// each organization reported applied, and the channel closed at every
	// change.
	wmu       sync.Mutex
	appliedBy map[string]uint64
	changed   chan struct{}
	// learned is closed (and replaced, under wmu) whenever the Participant
	// learns a request: CheckPrepare waits on it.
	learned chan struct{}

	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed sync.Once
}

// New checks cfg and returns an App to hand to the validator
// (Driver, Propose, OnDecision) before Start.
func New(cfg Config) (*App, error) {
	org, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, org: org, id: transport.NodeID(cfg.Key), drv: commit.NewDriver(cfg.Membership),
		workers: map[string]*worker{}, known: map[string]bool{}, orphanSeen: map[string]uint64{},
		decided: make(chan struct{}, 1), checks: make(chan struct{}, 1),
		appliedBy: map[string]uint64{}, changed: make(chan struct{}), learned: make(chan struct{})}
	a.log = cfg.Logger.Named("federation").With("org", org)
	for _, w := range cfg.Workers {
		a.workers[w.Name] = &worker{w: w}
		a.order = append(a.order, w.Name)
	}
	return a, nil
}

// Org is the organization the App acts for.
func (a *App) Org() string { return a.org }

// Driver is the consensus.Driver for validator.Config.Driver.
func (a *App) Driver() consensus.Driver { return a.drv }

// Propose is validator.Config.Propose: the justified decisions of the
// pool (nil before Start has restored the state). It is nil too while the
// commit ledger has not applied every slot before slot: the pool would
// still hold the decisions those slots made final, and nominating them
// again would only fill a slot with decisions it ignores. The loop nudges
// the validator once it has caught up.
func (a *App) Propose(slot uint64) consensus.Value {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.ready || a.ledger.Slot()+1 < slot {
		return nil
	}
	return a.prop.Propose(slot)
}

// Prepared tells the App that a PREPARE TRANSACTION just succeeded on
// worker (the organization's gateway calls it when the worker answers one
// it relayed), so that it looks at its workers now rather than at its next
// tick: the votes a request waits for are signed as soon as its parts are
// prepared. The App still reads pg_prepared_xacts itself; a call is only a
// hint, never blocks, and calls made while a look is pending are merged.
func (a *App) Prepared(worker string) {
	select {
	case a.checks <- struct{}{}:
	default:
	}
}

// OnDecision is validator.Config.OnDecision: it applies the slot to the
// commit ledger at once (in memory: the decisions are checked again, no
// I/O), so that the validator's next Propose already leaves them out and
// waiting coordinators learn them, and wakes the loop for the
// organization's actions. A slot that does not follow the commit ledger
// (before Start, or while the App is behind) is left to the loop, which
// reads it from the validator's ledger.
func (a *App) OnDecision(d validator.Decision) {
	a.applySlot(d.Slot, d.Value)
	select {
	case a.decided <- struct{}{}:
	default:
	}
}

// Start restores the state (the commit ledger replayed from v's ledger,
// then the Participant from StateFile), opens the federation links and the
// client server, and starts the loop. v must run with a.Driver,
// a.Propose and a.OnDecision.
func (a *App) Start(ctx context.Context, v *validator.Validator) error {
	a.v = v
	st, found, err := loadState(a.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("federation: org %s: %w", a.org, err)
	}
	if st.Vetoed == nil {
		st.Vetoed = map[string]uint64{}
	}
	a.st = st
	l := commit.NewLedger(a.cfg.Membership)
	for slot := uint64(1); slot <= v.Last(); slot++ {
		rec, ok, err := v.Ledger().Get(slot)
		if err != nil || !ok {
			return fmt.Errorf("federation: org %s: slot %d: replaying the ledger: %v", a.org, slot, err)
		}
		if _, err := l.Apply(slot, rec.Value); err != nil {
			return fmt.Errorf("federation: org %s: slot %d: %w", a.org, slot, err)
		}
	}
	pcfg := commit.ParticipantConfig{Ledger: l, Key: a.cfg.Key, Timeout: a.cfg.Timeout}
	var part *commit.Participant
	if found && len(st.Participant) > 0 {
		part, err = commit.RestoreParticipant(pcfg, st.Participant)
	} else {
		part, err = commit.NewParticipant(pcfg)
	}
	if err != nil {
		return fmt.Errorf("federation: org %s: %w", a.org, err)
	}
	prop, err := commit.NewProposer(commit.ProposerConfig{Ledger: l})
	if err != nil {
		return err
	}
	if a.st.Applied > l.Slot() {
		return fmt.Errorf("federation: org %s: state applied slot %d beyond the ledger's %d", a.org, a.st.Applied, l.Slot())
	}

	ctx, a.cancel = context.WithCancel(ctx)
	tr, err := transport.Start(ctx, transport.Config{Key: a.cfg.Key, Network: a.cfg.Membership.Network(),
		Listener: a.cfg.GossipListener, ListenAddr: a.cfg.GossipListen, Peers: a.cfg.GossipPeers,
		MaxFrameSize: maxGossipFrame, Logger: a.cfg.Logger.Named("federation-links")})
	if err != nil {
		a.cancel()
		return fmt.Errorf("federation: org %s: %w", a.org, err)
	}
	a.gossip = &gossip{tr: tr, m: a.cfg.Membership, log: a.log, handle: a.receive, out: make(chan inbound, maxInbound)}
	ln := a.cfg.ClientListener
	if ln == nil && a.cfg.ClientListen != "" {
		if ln, err = net.Listen("tcp", a.cfg.ClientListen); err != nil {
			a.cancel()
			tr.Close()
			return fmt.Errorf("federation: org %s: client listener: %w", a.org, err)
		}
	}
	if a.st.Applied > 0 {
		a.appliedBy[a.org] = a.st.Applied
	}
	a.log.Info("federation started", "slot", l.Slot(), "applied", a.st.Applied, "links", tr.Addr().String())
	a.mu.Lock()
	a.ledger, a.prop, a.part, a.ready = l, prop, part, true
	a.mu.Unlock()

	a.wg.Add(2)
	go func() { defer a.wg.Done(); a.gossip.run(ctx) }()
	go func() { defer a.wg.Done(); a.run(ctx) }()
	if ln != nil {
		a.srv = &server{a: a, ln: ln, sem: make(chan struct{}, maxClients)}
		a.wg.Add(2)
		go func() { defer a.wg.Done(); a.srv.run(ctx) }()
		go func() { defer a.wg.Done(); <-ctx.Done(); ln.Close() }()
	}
	return nil
}

// GossipAddr is where the federation links listen.
func (a *App) GossipAddr() string { return a.gossip.tr.Addr().String() }

// ClientAddr is where coordinators connect ("" without a client server).
func (a *App) ClientAddr() string {
	if a.srv == nil {
		return ""
	}
	return a.srv.ln.Addr().String()
}

// Applied is the last slot whose actions were carried out on the workers.
// It is safe to call while the App runs.
func (a *App) Applied() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.st.Applied
}

// Ledger returns a snapshot of the commit ledger (commit.Ledger.Snapshot)
// and its digest.
func (a *App) Ledger() ([]byte, [32]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ledger.Snapshot(), a.ledger.Digest()
}

// Close stops the loop, the links and the server, waits for every
// goroutine and closes the worker connections. The validator is closed by
// its owner.
func (a *App) Close() error {
	var err error
	a.closed.Do(func() {
		if a.cancel == nil {
			return
		}
		a.cancel()
		a.wg.Wait()
		err = a.gossip.tr.Close()
		for _, w := range a.workers {
			w.close()
		}
	})
	return err
}

// run is the loop: the only goroutine that does worker I/O, persists the
// state and sends votes.
func (a *App) run(ctx context.Context) {
	tick := time.NewTicker(a.cfg.TickInterval)
	defer tick.Stop()
	rebroadcast := time.NewTicker(a.cfg.RebroadcastInterval)
	defer rebroadcast.Stop()
	sweep := time.NewTicker(a.cfg.SweepInterval)
	defer sweep.Stop()
	a.catchUp(ctx)
	a.sweep(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case in := <-a.gossip.out:
			a.rebroadcast(&in.from)
		case <-a.decided:
			a.catchUp(ctx)
		case <-a.checks:
			a.check(ctx)
		case <-tick.C:
			a.tick(ctx)
		case <-rebroadcast.C:
			a.rebroadcast(nil)
		case <-sweep.C:
			a.sweep(ctx)
		}
		if a.nudge {
			// A justified decision needs a nomination.
			a.nudge = false
			a.v.Nudge()
		}
	}
}

// submitRequest learns a coordinator's checked request and broadcasts it.
// A coordinator submits its request twice: before its PREPAREs, and once
// they succeeded, to wait for the outcome (Client.Commit); the second time
// the App looks at its workers at once (Prepared).
func (a *App) submitRequest(r commit.Request) error {
	a.mu.Lock()
	again := a.known[r.GID]
	a.mu.Unlock()
	if err := a.learn(r, true); err != nil {
		return err
	}
	a.log.Debug("request from a coordinator", "gid", r.GID, "again", again)
	if again {
		a.Prepared("")
	}
	return nil
}

// learn adds a request to the pool and, when the organization takes part,
// to the Participant (waking CheckPrepare's waits); a coordinator's request
// is broadcast at once. It takes the mutex and does no worker I/O: the
// client server's and the links' goroutines call it.
func (a *App) learn(r commit.Request, broadcast bool) error {
	a.mu.Lock()
	err := a.prop.AddRequest(r)
	var lerr error
	ours := false
	if err == nil {
		if _, ours = r.Participant(a.org); ours {
			lerr = a.part.Learn(r)
			a.known[r.GID] = true
		}
	}
	a.mu.Unlock()
	if err != nil {
		return fmt.Errorf("federation: org %s: gid %s: %w", a.org, r.GID, err)
	}
	if lerr != nil && !errors.Is(lerr, commit.ErrDecided) {
		a.log.Warn("request not learned", "gid", r.GID, "err", lerr)
	}
	if ours {
		a.wmu.Lock()
		close(a.learned)
		a.learned = make(chan struct{})
		a.wmu.Unlock()
	}
	if broadcast {
		a.gossip.broadcastRequest(&r)
	}
	return nil
}

// receive handles a verified request, vote or applied slot from another
// validator, on the links' goroutine (gossip.run): none needs the loop, so
// a busy loop (worker I/O) never delays a request that a gateway waits for
// or a vote that completes a decision.
func (a *App) receive(in inbound) {
	switch {
	case in.req != nil:
		_ = a.learn(*in.req, false)
	case in.applied != 0:
		a.reportApplied(in.from, in.applied)
	case in.vote != nil:
		a.mu.Lock()
		err := a.prop.AddVote(*in.vote)
		a.mu.Unlock()
		if err != nil {
			a.log.Debug("vote not added", "gid", in.vote.GID, "err", err)
			return
		}
		// A justified decision needs a nomination.
		a.v.Nudge()
	}
}

// rebroadcast sends the pending requests and this validator's votes to
// every peer (to one peer: to, when it just connected), until their gid is
// final. Votes not yet persisted are never sent.
func (a *App) rebroadcast(to *quorum.NodeID) {
	a.mu.Lock()
	reqs := a.prop.Requests()
	var votes []commit.Vote
	if len(a.held) == 0 {
		votes = a.part.Votes()
	}
	a.mu.Unlock()
	if to == nil && len(reqs) > 0 {
		// Start each round elsewhere: a full send queue drops its oldest
		// frames, which must not always be the same requests.
		a.round++
		k := a.round % len(reqs)
		reqs = append(reqs[k:], reqs[:k]...)
	}
	for i := range reqs {
		if to != nil {
			a.gossip.sendRequest(*to, &reqs[i])
		} else {
			a.gossip.broadcastRequest(&reqs[i])
		}
	}
	for i := range votes {
		if to != nil {
			a.gossip.sendVote(*to, &votes[i])
		} else {
			a.gossip.broadcastVote(&votes[i])
		}
	}
	if len(reqs) > 0 {
		a.nudge = true
	}
	a.mu.Lock()
	applied := a.st.Applied
	a.mu.Unlock()
	if applied > 0 {
		if to != nil {
			a.gossip.sendApplied(*to, applied)
		} else {
			a.gossip.broadcastApplied(applied)
		}
	}
}
