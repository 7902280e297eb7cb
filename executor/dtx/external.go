package dtx

import (
	"context"
	"fmt"
	"strings"

	"github.com/pgfed/pgfed/executor/failpoint"
)

// Prepared is a distributed transaction whose commit decision belongs to
// a metadata transaction the caller owns (the catalog transaction of
// catalog/store's Update, say), so that the caller's metadata changes and
// the workers' changes commit together: PrepareIn writes the decision
// rows through the caller's transaction and prepares every written
// worker; the caller then commits or rolls back its transaction and tells
// the Prepared which happened (Commit, Abort), or, when it cannot tell,
// asks the decision log (Resolve).
//
// Until one of those is called the workers hold prepared transactions;
// recovery leaves them alone while the caller's transaction is open (its
// decision rows are uncommitted: in flight) and settles them by the log
// once it has ended.
type Prepared struct {
	t       *Txn
	parts   []*participant
	written []*participant
	gids    []string
	ended   bool
}

// PrepareIn runs the first half of a two-phase commit whose decision is
// written by exec, which must run its statement in the caller's open
// metadata transaction (on the metadata database that holds
// DecisionTable):
//
//  1. exec inserts one decision row per written worker's gid;
//  2. every written worker gets PREPARE TRANSACTION, every read-only one
//     COMMIT, at once.
//
// Every written worker is prepared, even a single one: the caller's
// commit is the commit point. After a failure the workers are rolled back
// and the transaction is over; the caller must roll back its metadata
// transaction (the decision rows go with it). On success the caller
// commits its transaction and then calls exactly one of Commit, Abort or
// Resolve.
func (t *Txn) PrepareIn(ctx context.Context, exec func(ctx context.Context, sql string) error) (*Prepared, error) {
	parts, err := t.end()
	if err != nil {
		return nil, err
	}
	p := &Prepared{t: t, parts: parts}
	for _, part := range parts {
		if part.conn.pg.IsClosed() {
			t.rollbackParts(ctx, parts)
			t.finish(parts)
			return nil, t.CheckErr(part.errorf("prepare", ErrConnLost))
		}
		if part.conn.pg.TxStatus() != 'T' {
			t.rollbackParts(ctx, parts)
			t.finish(parts)
			return nil, t.CheckErr(part.errorf("prepare", ErrWorkerAborted))
		}
		if part.wrote {
			part.gid = formatGID(t.coord.cfg.ID, t.id, part.node.ID)
			p.written = append(p.written, part)
			p.gids = append(p.gids, part.gid)
		}
	}
	if len(p.written) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s (gid) VALUES ", DecisionTable)
		for i, g := range p.gids {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + quoteLiteral(g) + ")")
		}
		if err := exec(ctx, b.String()); err != nil {
			t.rollbackParts(ctx, parts)
			t.finish(parts)
			return nil, &Error{Op: "write the commit decision", GID: p.gids[0], Err: err}
		}
		if err := hit(failpoint.BeforePrepare); err != nil {
			t.rollbackParts(ctx, parts)
			t.finish(parts)
			return nil, &Error{Op: "prepare", GID: p.gids[0], Err: err}
		}
	}
	err = fanOut(ctx, parts, prepareOrCommit)
	if err == nil && len(p.written) > 0 {
		if ferr := hit(failpoint.AfterPrepare); ferr != nil {
			err = &Error{Op: "prepare", GID: p.gids[0], Err: ferr}
		}
	}
	if err != nil {
		t.rollbackPrepared(ctx, p.written)
		t.finish(parts)
		return nil, t.CheckErr(err)
	}
	return p, nil
}

// GIDs returns the gids of the prepared workers (none when the
// transaction wrote nothing).
func (p *Prepared) GIDs() []string { return append([]string(nil), p.gids...) }

// Commit finishes the transaction after the caller's metadata transaction
// committed: COMMIT PREPARED on every written worker, under its own
// deadline; failures are logged and left to recovery, as after any
// commit point.
func (p *Prepared) Commit(ctx context.Context) {
	if p.ended {
		return
	}
	p.ended = true
	defer p.t.finish(p.parts)
	if len(p.written) > 0 {
		p.t.commitPrepared(ctx, p.written)
	}
}

// Abort rolls the prepared workers back after the caller's metadata
// transaction rolled back (for certain: when the outcome is unknown, use
// Resolve). What cannot be rolled back now is left to recovery, which
// finds no decision row.
func (p *Prepared) Abort(ctx context.Context) {
	if p.ended {
		return
	}
	p.ended = true
	defer p.t.finish(p.parts)
	p.t.rollbackPrepared(ctx, p.written)
}

// Resolve settles the transaction when the caller does not know whether
// its metadata transaction committed (the answer to its COMMIT was lost):
// it asks the decision log as recovery does, then commits or rolls back
// the workers. It returns whether the decision committed; an error
// (ErrOutcomeUnknown) when the log cannot tell yet, in which case the
// workers are left prepared for recovery.
func (p *Prepared) Resolve(ctx context.Context) (bool, error) {
	if p.ended {
		return false, &Error{Op: "resolve", Err: ErrTxnDone}
	}
	if len(p.written) == 0 {
		p.ended = true
		p.t.finish(p.parts)
		return false, nil
	}
	t := p.t
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.coord.cfg.CommitTimeout)
	defer cancel()
	o, err := t.probeDecision(ctx, p.gids[0])
	switch {
	case err != nil:
		p.ended = true
		t.finish(p.parts)
		return false, &Error{Op: "resolve the commit decision", GID: p.gids[0], Err: fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)}
	case o == outcomeCommit:
		p.Commit(ctx)
		return true, nil
	case o == outcomeAbort:
		p.Abort(ctx)
		return false, nil
	}
	p.ended = true
	t.finish(p.parts)
	return false, &Error{Op: "resolve the commit decision", GID: p.gids[0], Err: fmt.Errorf("%w: the decision is still open", ErrOutcomeUnknown)}
}

// probeDecision asks the decision log for the fate of gid, on a metadata
// connection of the coordinator's pool.
func (t *Txn) probeDecision(ctx context.Context, gid string) (outcome, error) {
	meta, err := t.coord.cfg.Metadata.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer meta.Release()
	return probe(ctx, meta.pg, gid, t.coord.cfg.CommitTimeout/2)
}
