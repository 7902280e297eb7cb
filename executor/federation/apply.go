package federation

import (
	"context"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/commit"
)

// catchUp applies to the commit ledger, in slot order, every slot the
// validator's ledger holds beyond it (those OnDecision did not apply
// already), and carries out the organization's actions.
func (a *App) catchUp(ctx context.Context) {
	for {
		a.mu.Lock()
		slot := a.ledger.Slot() + 1
		a.mu.Unlock()
		if slot > a.v.Last() {
			break
		}
		rec, ok, err := a.v.Ledger().Get(slot)
		if err != nil || !ok {
			a.log.Error("cannot read the consensus ledger", "slot", slot, "err", err)
			return
		}
		if !a.applySlot(slot, rec.Value) {
			return
		}
		// Propose holds back while the commit ledger is behind.
		a.nudge = true
	}
	if a.nudge {
		a.nudge = false
		a.v.Nudge()
	}
	a.applyActions(ctx)
}

// applySlot applies slot's value to the commit ledger when slot is the
// next one, logs the decisions that became final and wakes the
// coordinators waiting for them. It reports whether the commit ledger now
// holds slot (true as well when another goroutine applied it first; false
// before Start, or for a slot beyond the next one). It takes the mutex and
// does no I/O: the loop (catchUp) and the validator's goroutine
// (OnDecision) both call it.
func (a *App) applySlot(slot uint64, value consensus.Value) bool {
	a.mu.Lock()
	if !a.ready || slot > a.ledger.Slot()+1 {
		a.mu.Unlock()
		return false
	}
	if slot <= a.ledger.Slot() {
		a.mu.Unlock()
		return true
	}
	res, err := a.ledger.Apply(slot, value)
	if err == nil {
		a.prop.Prune()
		a.part.Prune()
	}
	a.mu.Unlock()
	if err != nil {
		a.log.Error("ledger apply failed", "slot", slot, "err", err)
		return false
	}
	if res.Err != nil {
		a.log.Warn("slot value unreadable: it decides nothing", "slot", slot, "err", res.Err)
	}
	for _, d := range res.Final {
		a.log.Info("final", "slot", slot, "gid", d.GID(), "outcome", d.Outcome.String())
	}
	for _, ig := range res.Ignored {
		a.log.Debug("decision ignored", "slot", slot, "gid", ig.GID, "first_slot", ig.FirstSlot, "err", ig.Err)
	}
	if len(res.Final) > 0 {
		a.signal()
	}
	return true
}

// applyActions carries out, in slot order, the organization's actions of
// the slots after the last one applied, and records the new last slot
// applied durably. A part that is no longer prepared was already finished:
// only this organization's validator finalizes its parts, so a COMMIT
// PREPARED part that is gone was committed (its PREPARED vote proves it was
// prepared, and nobody rolls back a part voted PREPARED but on a final
// ABORT), and a ROLLBACK PREPARED part that is gone was rolled back or never
// prepared (a late PREPARE is found by the sweep). The first failure stops
// at its slot; the next tick retries from there.
func (a *App) applyActions(ctx context.Context) {
	a.mu.Lock()
	from := a.st.Applied
	target := a.ledger.Slot()
	actions := a.ledger.Actions(a.org, from)
	a.mu.Unlock()
	if target == from {
		return
	}
	done := target
	for _, act := range actions {
		if !a.applyAction(ctx, act) {
			done = act.Slot - 1
			break
		}
	}
	if done <= from {
		return
	}
	// The report goes out before the slot is recorded: the parts are
	// finished, durably, in the workers, whatever happens to the record,
	// which only saves replaying (idempotent) actions after a restart.
	a.log.Debug("applied", "slot", done)
	a.reportApplied(a.id, done)
	a.gossip.broadcastApplied(done)
	a.mu.Lock()
	a.st.Applied = done
	a.mu.Unlock()
	if err := a.persist(); err != nil {
		a.log.Error("cannot record the last slot applied", "slot", done, "err", err)
	}
}

// applyAction finishes the action's parts on the workers.
func (a *App) applyAction(ctx context.Context, act commit.Action) bool {
	ok := true
	for _, p := range act.Parts {
		w := a.workers[p.Worker]
		if w == nil {
			// Nothing to do here, ever: an honest validator of this
			// organization voted nothing but ABORT on it (PartFailed).
			a.log.Error("part on a worker this organization does not have", "slot", act.Slot, "gid", p.GID, "worker", p.Worker, "outcome", act.Outcome.String())
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, a.cfg.QueryTimeout)
		gone, err := w.finish(qctx, p.GID, act.Outcome == commit.Commit)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				a.log.Error("cannot finish part", "err", &WorkerError{Org: a.org, Worker: p.Worker, GID: p.GID, Op: act.Outcome.String() + " slot " + itoa(act.Slot), Err: err})
			}
			ok = false
			continue
		}
		if gone {
			a.log.Debug("part already finished", "slot", act.Slot, "gid", p.GID, "worker", p.Worker, "outcome", act.Outcome.String())
		} else {
			a.log.Info("part finished", "slot", act.Slot, "gid", p.GID, "worker", p.Worker, "outcome", act.Outcome.String())
		}
	}
	return ok
}

// persist writes the state durably, with the Participant's state if it
// changed; on success the votes held back are released to the caller.
func (a *App) persist() error {
	a.mu.Lock()
	if a.part.Unsaved() {
		a.st.Participant = a.part.Save()
	}
	st := state{Participant: a.st.Participant, Applied: a.st.Applied, Vetoed: make(map[string]uint64, len(a.st.Vetoed))}
	for k, v := range a.st.Vetoed {
		st.Vetoed[k] = v
	}
	a.mu.Unlock()
	if err := saveState(a.cfg.DataDir, st); err != nil {
		// Save cleared the Participant's flag: the next persist must write
		// again whatever happens.
		a.mu.Lock()
		a.st.Participant = st.Participant
		a.mu.Unlock()
		a.dirty = true
		return err
	}
	a.dirty = false
	return nil
}

// tick advances the clock, checks the workers (check), and retries
// actions left unfinished.
func (a *App) tick(ctx context.Context) {
	a.mu.Lock()
	a.part.Tick()
	a.mu.Unlock()
	if !a.check(ctx) {
		return
	}
	a.mu.Lock()
	behind, unread := a.st.Applied < a.ledger.Slot(), a.ledger.Slot() < a.v.Last()
	a.mu.Unlock()
	switch {
	case unread:
		a.catchUp(ctx)
	case behind:
		a.applyActions(ctx)
	}
}

// check looks at the organization's workers, signs the votes their state
// calls for, persists the Participant, and only then sends the votes. It
// does not advance the clock: looking more often than once a tick never
// makes a part time out sooner. It reports false when the state could not
// be persisted (the votes are held back).
func (a *App) check(ctx context.Context) bool {
	prepared := a.observe(ctx)
	a.mu.Lock()
	votes := a.part.Decide(a.status(prepared))
	unsaved := a.part.Unsaved()
	a.mu.Unlock()
	a.held = append(a.held, votes...)
	if unsaved || a.dirty {
		if err := a.persist(); err != nil {
			a.log.Error("cannot persist the participant state: holding votes back", "votes", len(a.held), "err", err)
			return false
		}
	}
	if len(a.held) > 0 {
		held := a.held
		a.held = nil
		a.mu.Lock()
		for _, v := range held {
			if err := a.prop.AddVote(v); err != nil {
				a.log.Warn("own vote not added", "gid", v.GID, "err", err)
			}
		}
		a.mu.Unlock()
		for i := range held {
			a.log.Info("vote", "gid", held[i].GID, "kind", held[i].Kind.String())
			a.gossip.broadcastVote(&held[i])
		}
		a.nudge = true
	}
	return true
}

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
