package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pgfed/pgfed/consensus/commit"
)

// ErrPrepareRefused is wrapped by every PrepareError.
var ErrPrepareRefused = errors.New("PREPARE TRANSACTION refused")

// PrepareError is CheckPrepare's refusal: the organization, worker and
// worker gid, and why.
type PrepareError struct {
	Org, Worker, GID string
	// Reason says why, in words for the coordinator's operator.
	Reason string
}

// Error names the organization, worker, gid and reason.
func (e *PrepareError) Error() string {
	return fmt.Sprintf("federation: org %s: worker %s: gid %s: %v: %s", e.Org, e.Worker, e.GID, ErrPrepareRefused, e.Reason)
}

// Unwrap returns ErrPrepareRefused.
func (e *PrepareError) Unwrap() error { return ErrPrepareRefused }

// CheckPrepare tells the organization's gateway whether a coordinator may
// run PREPARE TRANSACTION partGID on worker (a name of Config.Workers):
// only when partGID is a federated worker gid (GIDPrefix, then
// <gid>_<suffix>), the Participant knows a request for its global gid
// (commit.PartOwner) that lists exactly this part on this worker under
// this organization, the gid is not final in the ledger, not vetoed, and
// the organization has not voted ABORT on it. A request not known yet is
// waited for up to wait (the coordinator submitted it to some validator
// and gossip may still carry it here); the other refusals are immediate.
// It returns nil or a *PrepareError (ctx's error if ctx ends first). It
// takes the App's mutex only briefly and does no I/O; it is safe to call
// while the App runs, from any goroutine.
func (a *App) CheckPrepare(ctx context.Context, worker, partGID string, wait time.Duration) error {
	refuse := func(format string, args ...any) error {
		return &PrepareError{Org: a.org, Worker: worker, GID: partGID, Reason: fmt.Sprintf(format, args...)}
	}
	if !strings.HasPrefix(partGID, GIDPrefix) {
		return refuse("not a federated gid (they start with %q)", GIDPrefix)
	}
	owner, ok := commit.PartOwner(partGID)
	if !ok {
		return refuse("not a part gid (<gid>_<suffix>)")
	}
	if a.workers[worker] == nil {
		return refuse("worker %s is not one of organization %s's workers", worker, a.org)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		// Take the channel first: a request learned after the check
		// closes it.
		a.wmu.Lock()
		learned := a.learned
		a.wmu.Unlock()
		known, err := a.checkPart(worker, partGID, owner)
		if err != "" {
			return refuse("%s", err)
		}
		if known {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return refuse("no pending request of global gid %s naming organization %s is known to its validator (waited %v)", owner, a.org, wait)
		case <-learned:
		}
	}
}

// checkPart looks at the commit state once: known reports that the
// participant's request for owner lists the part; a non-empty reason is a
// refusal for good.
func (a *App) checkPart(worker, partGID, owner string) (known bool, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.ready {
		return false, "the organization's validator is not running the federated commit yet"
	}
	if f, ok := a.ledger.Decision(owner); ok {
		return false, fmt.Sprintf("global gid %s is already decided (%s in slot %d)", owner, f.Decision.Outcome, f.Slot)
	}
	if _, ok := a.st.Vetoed[owner]; ok {
		return false, fmt.Sprintf("global gid %s was vetoed by organization %s (an orphan part was rolled back)", owner, a.org)
	}
	r, ok := a.part.Request(owner)
	if !ok {
		return false, ""
	}
	if a.part.Voted(owner) == commit.VoteAbort {
		return false, fmt.Sprintf("organization %s already voted ABORT on global gid %s", a.org, owner)
	}
	parts, _ := r.Participant(a.org)
	for _, p := range parts {
		if p.Worker == worker && p.GID == partGID {
			return true, ""
		}
	}
	return false, fmt.Sprintf("the request of global gid %s does not list this part on worker %s for organization %s", owner, worker, a.org)
}
