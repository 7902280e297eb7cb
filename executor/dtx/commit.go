package dtx

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/executor/failpoint"
)

// stepHook, when set (by tests), is called at every failpoint before
// failpoint.Hit; an error it returns fails the step like an "error"
// failpoint.
var stepHook atomic.Pointer[func(failpoint.Name) error]

// hit passes a failpoint: the test hook, if any, then failpoint.Hit.
func hit(name failpoint.Name) error {
	if h := stepHook.Load(); h != nil {
		if err := (*h)(name); err != nil {
			return err
		}
	}
	return failpoint.Hit(name)
}

// Commit commits the transaction and releases its connections:
//
//   - no worker written: COMMIT on each (read-only participants);
//   - one worker written: COMMIT on each, the written worker's own commit
//     deciding (1PC);
//   - several: two-phase commit (see commit2PC), or, with a Federation
//     configured and an organization's worker among them, the federated
//     commit decided by the organizations' validators (commitFederated).
//
// A worker whose transaction already failed makes Commit roll everything
// back and fail with 25P02. After the 2PC commit point Commit succeeds even
// if a worker cannot be reached: the failure is logged and recovery
// finishes the commit.
func (t *Txn) Commit(ctx context.Context) error {
	parts, err := t.end()
	if err != nil {
		return err
	}
	defer t.finish(parts)
	if len(parts) == 0 {
		return nil
	}
	for _, p := range parts {
		if p.conn.pg.IsClosed() {
			t.rollbackParts(ctx, parts)
			return t.CheckErr(p.errorf("commit", ErrConnLost))
		}
		if p.conn.pg.TxStatus() != 'T' {
			t.rollbackParts(ctx, parts)
			return t.CheckErr(p.errorf("commit", ErrWorkerAborted))
		}
	}
	var written, readers []*participant
	for _, p := range parts {
		if p.wrote {
			written = append(written, p)
		} else {
			readers = append(readers, p)
		}
	}
	if len(written) <= 1 {
		return t.commit1PC(ctx, parts)
	}
	if t.isFederated(written) {
		return t.commitFederated(ctx, written, readers)
	}
	return t.commit2PC(ctx, written, readers)
}

// commit1PC sends COMMIT to every participant at once. With at most one
// written worker its COMMIT is the decision; the others only read.
func (t *Txn) commit1PC(ctx context.Context, parts []*participant) error {
	// A cancellation cannot stop a COMMIT on the worker; waiting for its
	// answer is the only way to tell the client what happened.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.coord.cfg.CommitTimeout)
	defer cancel()
	return fanOut(ctx, parts, func(ctx context.Context, p *participant) error {
		tag, err := execTag(ctx, p, "COMMIT")
		if err != nil {
			return p.errorf("commit", err)
		}
		if tag != "COMMIT" {
			return p.errorf("commit", ErrWorkerAborted)
		}
		return nil
	})
}

// commit2PC commits a transaction that wrote on several workers:
//
//  1. the decision transaction opens in the metadata database with one
//     uncommitted row per written worker's gid;
//  2. PREPARE TRANSACTION on every written worker, COMMIT on the readers,
//     at once;
//  3. COMMIT of the decision transaction: the commit point;
//  4. COMMIT PREPARED on every written worker.
//
// A failure before 3 rolls everything back. A lost answer to 3 is settled
// with probe. Failures in 4 are logged and left to recovery.
func (t *Txn) commit2PC(ctx context.Context, written, readers []*participant) error {
	gids := make([]string, len(written))
	for i, p := range written {
		p.gid = formatGID(t.coord.cfg.ID, t.id, p.node.ID)
		gids[i] = p.gid
	}
	log := t.log.With("gid", gids[0])
	all := append(append([]*participant(nil), written...), readers...)
	if err := hit(failpoint.BeforePrepare); err != nil {
		t.rollbackParts(ctx, all)
		return &Error{Op: "prepare", GID: gids[0], Err: err}
	}

	meta, err := t.coord.cfg.Metadata.Acquire(ctx)
	if err != nil {
		t.rollbackParts(ctx, all)
		return &Error{Op: "open the commit decision", GID: gids[0], Err: err}
	}
	defer meta.Release() // closed unless back outside a transaction
	if err := beginDecision(ctx, meta.pg, gids, t.coord.cfg.DecisionTimeout); err != nil {
		t.rollbackParts(ctx, all)
		return &Error{Op: "open the commit decision", GID: gids[0], Err: err}
	}

	err = fanOut(ctx, all, prepareOrCommit)
	if err == nil {
		if ferr := hit(failpoint.AfterPrepare); ferr != nil {
			err = &Error{Op: "prepare", GID: gids[0], Err: ferr}
		}
	}
	if err != nil {
		t.abort2PC(ctx, meta.pg, written)
		return t.CheckErr(err)
	}

	// Past the PREPAREs a cancellation comes too late to help: the
	// decision is committed under its own deadline.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.coord.cfg.CommitTimeout)
	defer cancel()
	if err := commitDecision(dctx, meta.pg); err != nil {
		if pe := pgError(err); pe != nil && pe.Severity != "FATAL" && pe.Severity != "PANIC" {
			// The metadata database answered: the decision did not commit.
			t.abort2PC(ctx, meta.pg, written)
			return &Error{Op: "commit the decision", GID: gids[0], Code: pgerrcode.TransactionRollback,
				Err: fmt.Errorf("the transaction was rolled back: %w", err)}
		}
		o, serr := t.settle(ctx, gids[0], written)
		switch {
		case serr != nil:
			log.Error("commit outcome unknown", "error", err, "settle", serr)
			return &Error{Op: "commit the decision", GID: gids[0], Code: pgerrcode.TransactionResolutionUnknown,
				Err: fmt.Errorf("%w: %w (and then: %w)", ErrOutcomeUnknown, err, serr)}
		case o == outcomeAbort:
			log.Warn("the decision was lost; rolled back", "error", err)
			return &Error{Op: "commit the decision", GID: gids[0], Code: pgerrcode.TransactionRollback,
				Err: fmt.Errorf("the decision was lost and the transaction rolled back: %w", err)}
		}
		// settled: it committed; go on
	}
	t.commitPrepared(ctx, written)
	return nil
}

// prepareOrCommit ends one participant's part of a two-phase commit's
// first phase: PREPARE TRANSACTION of its gid if it wrote (a gid is set),
// else COMMIT of its read-only transaction.
func prepareOrCommit(ctx context.Context, p *participant) error {
	if p.gid == "" {
		if _, err := execTag(ctx, p, "COMMIT"); err != nil {
			return p.errorf("commit read-only part", err)
		}
		return nil
	}
	tag, err := execTag(ctx, p, "PREPARE TRANSACTION "+quoteLiteral(p.gid))
	if err != nil {
		return p.errorf("prepare", err)
	}
	if tag != "PREPARE TRANSACTION" {
		return p.errorf("prepare", ErrWorkerAborted)
	}
	return nil
}

// settle finds out, after the answer to the decision's COMMIT was lost,
// whether it committed, with probe on another metadata connection. When it
// did not, the prepared parts are rolled back. An error means it cannot
// tell (the decision transaction is still open, or the metadata database
// cannot be reached).
func (t *Txn) settle(ctx context.Context, gid string, written []*participant) (outcome, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.coord.cfg.CommitTimeout)
	defer cancel()
	meta, err := t.coord.cfg.Metadata.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer meta.Release()
	o, err := probe(ctx, meta.pg, gid, t.coord.cfg.CommitTimeout/2)
	switch {
	case err != nil:
		return 0, err
	case o == outcomeAbort:
		t.rollbackPrepared(ctx, written)
	case o == outcomeInFlight:
		return 0, errors.New("the decision transaction is still open")
	}
	return o, nil
}

// commitPrepared sends COMMIT PREPARED to the written workers, after the
// commit point, all at once; when failpoints are on, to the first alone,
// then (past the mid-commit failpoint) to the others. It runs under its own deadline, even when ctx is
// cancelled, and only logs failures: recovery will commit what is left.
func (t *Txn) commitPrepared(ctx context.Context, written []*participant) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.coord.cfg.CommitTimeout)
	defer cancel()
	if err := hit(failpoint.AfterDecision); err != nil {
		t.log.Warn("commit prepared skipped; recovery will finish it", "gid", written[0].gid, "error", err)
		return
	}
	commit := func(ctx context.Context, p *participant) error {
		_, err := execTag(ctx, p, "COMMIT PREPARED "+quoteLiteral(p.gid))
		switch {
		case hasCode(err, pgerrcode.UndefinedObject):
			t.log.Debug("prepared transaction already committed by recovery", "gid", p.gid, "worker", p.node.ID)
		case hasCode(err, pgerrcode.ObjectInUse):
			// 55000 "is busy": a recovery round, which saw the committed
			// decision, is committing it at this moment.
			t.log.Debug("prepared transaction being committed by recovery", "gid", p.gid, "worker", p.node.ID)
		case err != nil:
			t.log.Warn("commit prepared failed; recovery will finish it", "gid", p.gid, "worker", p.node.ID, "error", err)
		}
		return nil
	}
	if !failpoint.Enabled() && stepHook.Load() == nil {
		fanOut(ctx, written, commit) // one round trip
		return
	}
	commit(ctx, written[0])
	if err := hit(failpoint.MidCommit); err != nil {
		t.log.Warn("commit prepared stopped; recovery will finish it", "gid", written[0].gid, "error", err)
		return
	}
	fanOut(ctx, written[1:], commit)
}

// abort2PC ends a 2PC commit that failed before its commit point: the
// decision transaction is rolled back (with its rows), then every written
// worker's part, prepared or not. What cannot be rolled back now is left
// to recovery, which finds no decision row.
func (t *Txn) abort2PC(ctx context.Context, meta *pgconn.PgConn, written []*participant) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.coord.cfg.CommitTimeout)
	defer cancel()
	if !meta.IsClosed() && meta.TxStatus() != 'I' {
		if _, err := meta.Exec(ctx, "ROLLBACK").ReadAll(); err != nil {
			t.log.Warn("roll back the commit decision", "gid", written[0].gid, "error", err)
		}
	}
	t.rollbackPrepared(ctx, written)
}

// rollbackPrepared rolls back the written parts: ROLLBACK PREPARED where
// the PREPARE went through, ROLLBACK where the transaction is still open.
func (t *Txn) rollbackPrepared(ctx context.Context, written []*participant) {
	fanOut(ctx, written, func(ctx context.Context, p *participant) error {
		pg := p.conn.pg
		if pg.IsClosed() {
			return nil // the worker rolls it back, or recovery does
		}
		sql := "ROLLBACK PREPARED " + quoteLiteral(p.gid)
		if pg.TxStatus() != 'I' {
			sql = "ROLLBACK"
		}
		if _, err := pg.Exec(ctx, sql).ReadAll(); err != nil && !hasCode(err, pgerrcode.UndefinedObject) {
			t.log.Warn("roll back a prepared part; recovery will", "gid", p.gid, "worker", p.node.ID, "error", err)
		}
		return nil
	})
}

// Rollback rolls the transaction back on every worker and releases its
// connections. Errors are returned, but every worker is tried, and a
// connection that could not roll back is closed (the worker then rolls
// back by itself).
func (t *Txn) Rollback(ctx context.Context) error {
	parts, err := t.end()
	if err != nil {
		return err
	}
	defer t.finish(parts)
	return t.rollbackParts(ctx, parts)
}

// rollbackParts sends ROLLBACK to the participants still in a transaction.
func (t *Txn) rollbackParts(ctx context.Context, parts []*participant) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.coord.cfg.CommitTimeout)
	defer cancel()
	return fanOut(ctx, parts, func(ctx context.Context, p *participant) error {
		if p.conn.pg.IsClosed() || p.conn.pg.TxStatus() == 'I' {
			return nil
		}
		if _, err := p.conn.pg.Exec(ctx, "ROLLBACK").ReadAll(); err != nil {
			return p.errorf("rollback", err)
		}
		return nil
	})
}
