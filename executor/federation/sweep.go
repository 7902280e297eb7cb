package federation

import (
	"context"
	"strings"

	"github.com/pgfed/pgfed/consensus/commit"
)

// observe lists the prepared transactions of every worker (nil for a
// worker it cannot reach: its parts count as missing).
func (a *App) observe(ctx context.Context) map[string]map[string]bool {
	out := make(map[string]map[string]bool, len(a.workers))
	for _, name := range a.order {
		w := a.workers[name]
		qctx, cancel := context.WithTimeout(ctx, a.cfg.QueryTimeout)
		set, err := w.prepared(qctx, "")
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("cannot list prepared transactions", "err", &WorkerError{Org: a.org, Worker: name, Op: "pg_prepared_xacts", Err: err})
			}
			continue
		}
		out[name] = set
	}
	return out
}

// status returns the Participant's view of the parts (call it under mu):
// prepared when listed on its worker, failed on a worker the organization
// does not have or for a vetoed gid, missing otherwise.
func (a *App) status(prepared map[string]map[string]bool) func(commit.Part) commit.PartStatus {
	return func(p commit.Part) commit.PartStatus {
		if owner, ok := commit.PartOwner(p.GID); ok {
			if _, vetoed := a.st.Vetoed[owner]; vetoed {
				return commit.PartFailed
			}
		}
		if a.workers[p.Worker] == nil {
			return commit.PartFailed
		}
		if prepared[p.Worker][p.GID] {
			return commit.PartPrepared
		}
		return commit.PartMissing
	}
}

// sweep resolves every prepared transaction found on the workers with the
// ledger (recovery, late PREPAREs after an ABORT, parts an equivocating
// coordinator left outside the final request), and rolls back orphans
// (OrphanTimeout).
func (a *App) sweep(ctx context.Context) {
	prepared := a.observe(ctx)
	seen := map[string]bool{}
	for _, name := range a.order {
		w := a.workers[name]
		for gid := range prepared[name] {
			key := name + "/" + gid
			seen[key] = true
			p := commit.Part{Worker: name, GID: gid}
			a.mu.Lock()
			res := a.ledger.Resolve(a.org, p)
			a.mu.Unlock()
			switch res {
			case commit.CommitPrepared, commit.RollbackPrepared:
				qctx, cancel := context.WithTimeout(ctx, a.cfg.QueryTimeout)
				_, err := w.finish(qctx, gid, res == commit.CommitPrepared)
				cancel()
				if err != nil {
					a.log.Error("sweep cannot finish part", "err", &WorkerError{Org: a.org, Worker: name, GID: gid, Op: res.String(), Err: err})
					continue
				}
				a.log.Info("sweep finished part", "gid", gid, "worker", name, "resolution", res.String())
			case commit.Wait:
				a.orphan(ctx, w, key, p)
			}
		}
	}
	for key := range a.orphanSeen {
		if !seen[key] {
			delete(a.orphanSeen, key)
		}
	}
	a.mu.Lock()
	for gid := range a.known {
		if a.ledger.Decided(gid) {
			delete(a.known, gid)
		}
	}
	for gid := range a.st.Vetoed {
		if a.ledger.Decided(gid) {
			delete(a.st.Vetoed, gid)
			a.dirty = true
		}
	}
	a.mu.Unlock()
}

// orphan rolls back a prepared part that no known request names once it
// has waited OrphanTimeout ticks: its coordinator died before submitting.
// The gid is vetoed, durably, before the rollback is sent, so this
// validator can only ever vote ABORT on it (its parts count as failed) even
// if the request shows up later; and a part already voted PREPARED is
// never touched (see doc.go, "Orphans").
func (a *App) orphan(ctx context.Context, w *worker, key string, p commit.Part) {
	if a.cfg.OrphanTimeout == 0 || !strings.HasPrefix(p.GID, a.cfg.OrphanPrefix) {
		return
	}
	owner, ok := commit.PartOwner(p.GID)
	if !ok {
		return
	}
	a.mu.Lock()
	now := a.part.Now()
	voted := a.part.Voted(owner)
	_, vetoed := a.st.Vetoed[owner]
	known := a.known[owner]
	a.mu.Unlock()
	if voted == commit.VotePrepared || (known && !vetoed) {
		delete(a.orphanSeen, key)
		return
	}
	first, ok := a.orphanSeen[key]
	if !ok {
		a.orphanSeen[key] = now
		return
	}
	if now-first <= a.cfg.OrphanTimeout {
		return
	}
	if !vetoed {
		a.mu.Lock()
		a.st.Vetoed[owner] = now
		a.mu.Unlock()
		if err := a.persist(); err != nil {
			a.log.Error("cannot persist a veto: not rolling back", "gid", owner, "err", err)
			return
		}
	}
	qctx, cancel := context.WithTimeout(ctx, a.cfg.QueryTimeout)
	_, err := w.finish(qctx, p.GID, false)
	cancel()
	if err != nil {
		a.log.Error("cannot roll back orphan", "err", &WorkerError{Org: a.org, Worker: p.Worker, GID: p.GID, Op: "ROLLBACK PREPARED (orphan)", Err: err})
		return
	}
	a.log.Info("orphan rolled back", "gid", p.GID, "worker", p.Worker, "waited_ticks", now-first)
}
