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

// settled reports whether every participant organization of f reported
// its slot applied (for a COMMIT: its writes are visible on every worker).
func (a *App) settled(f commit.Final) bool {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	for _, p := range f.Decision.Request.Participants {
		if a.appliedBy[p.Org] < f.Slot {
			return false
		}
	}
	return true
}

// waitOutcome waits until gid is final in the ledger and, when applied
// is true and the decision is a COMMIT, until every participant applied
// it. It returns the decision and whether every participant applied it.
func (a *App) waitOutcome(ctx context.Context, gid string, applied bool) (commit.Final, bool, error) {
	for {
		a.wmu.Lock()
		ch := a.changed
		a.wmu.Unlock()
		a.mu.Lock()
		f, ok := a.ledger.Decision(gid)
		a.mu.Unlock()
		if ok {
			done := f.Decision.Outcome == commit.Commit && a.settled(f)
			if done || !applied || f.Decision.Outcome != commit.Commit {
				return f, done, nil
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return commit.Final{}, false, ctx.Err()
		}
	}
}
