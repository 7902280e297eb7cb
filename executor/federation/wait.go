package federation

import (
	"context"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// signal wakes every waiting coordinator to look again.
func (a *App) signal() {
	a.wmu.Lock()
	close(a.changed)
	a.changed = make(chan struct{})
	a.wmu.Unlock()
}

// reportApplied records that a validator (this one, or a peer over its
// authenticated link) applied its organization's actions up to slot. One
// validator of an organization applying a COMMIT makes it visible there.
func (a *App) reportApplied(from quorum.NodeID, slot uint64) {
	org, ok := a.cfg.Membership.OrgOf(from)
	if !ok {
		return
	}
	a.wmu.Lock()
	moved := slot > a.appliedBy[org]
	if moved {
		a.appliedBy[org] = slot
	}
	a.wmu.Unlock()
	if moved {
		a.signal()
	}
}

// settled reports whether the coordinator can answer f: an ABORT at once
// (nothing becomes visible), a COMMIT once every participant organization
// reported the slot applied, so that its client sees its writes on every
// worker.
func (a *App) settled(f commit.Final) bool {
	if f.Decision.Outcome != commit.Commit {
		return true
	}
	a.wmu.Lock()
	defer a.wmu.Unlock()
	for _, p := range f.Decision.Request.Participants {
		if a.appliedBy[p.Org] < f.Slot {
			return false
		}
	}
	return true
}

// waitOutcome waits until gid is final in the ledger and, for a COMMIT,
// applied by every participant.
func (a *App) waitOutcome(ctx context.Context, gid string) (commit.Final, error) {
	for {
		a.wmu.Lock()
		ch := a.changed
		a.wmu.Unlock()
		a.mu.Lock()
		f, ok := a.ledger.Decision(gid)
		a.mu.Unlock()
		if ok && a.settled(f) {
			return f, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return commit.Final{}, ctx.Err()
		}
	}
}
