package dtx

import (
	"context"
	"fmt"
	"slices"
)

// Savepoint sets a savepoint on every worker the transaction uses, and
// remembers it so a worker joining later gets it too (after its BEGIN).
// As in PostgreSQL a name may be reused; the newest one wins.
func (t *Txn) Savepoint(ctx context.Context, name string) error {
	if err := t.onEach(ctx, "savepoint", "SAVEPOINT "+quoteIdent(name)); err != nil {
		return err
	}
	t.savepoints = append(t.savepoints, name)
	return nil
}

// ReleaseSavepoint releases the newest savepoint of that name, and every
// later one, on every worker.
func (t *Txn) ReleaseSavepoint(ctx context.Context, name string) error {
	i := slices.Index(t.savepointsNewestFirst(), name)
	if i < 0 {
		return &Error{Op: "release savepoint", Err: fmt.Errorf("%w: %s", ErrNoSavepoint, name)}
	}
	if err := t.onEach(ctx, "release savepoint", "RELEASE SAVEPOINT "+quoteIdent(name)); err != nil {
		return err
	}
	t.savepoints = t.savepoints[:len(t.savepoints)-1-i]
	return nil
}

// RollbackToSavepoint rolls every worker back to the newest savepoint of
// that name, which stays active; later savepoints are gone. A worker whose
// transaction failed after the savepoint is usable again. Writes stay
// counted: a worker written before is still committed with 2PC.
func (t *Txn) RollbackToSavepoint(ctx context.Context, name string) error {
	i := slices.Index(t.savepointsNewestFirst(), name)
	if i < 0 {
		return &Error{Op: "rollback to savepoint", Err: fmt.Errorf("%w: %s", ErrNoSavepoint, name)}
	}
	t.aborted = false // ROLLBACK TO is allowed in an aborted transaction
	if err := t.onEach(ctx, "rollback to savepoint", "ROLLBACK TO SAVEPOINT "+quoteIdent(name)); err != nil {
		return err
	}
	t.savepoints = t.savepoints[:len(t.savepoints)-i]
	return nil
}

// savepointsNewestFirst returns the active savepoints, newest first.
func (t *Txn) savepointsNewestFirst() []string {
	s := slices.Clone(t.savepoints)
	slices.Reverse(s)
	return s
}

// onEach runs sql on every participant at once.
func (t *Txn) onEach(ctx context.Context, op, sql string) error {
	t.mu.Lock()
	done, parts := t.done, t.parts
	t.mu.Unlock()
	if done {
		return &Error{Op: op, Err: ErrTxnDone}
	}
	if t.aborted {
		return &Error{Op: op, Err: ErrTxnAborted}
	}
	return fanOut(ctx, parts, func(ctx context.Context, p *participant) error {
		if _, err := p.conn.pg.Exec(ctx, sql).ReadAll(); err != nil {
			return t.StatementError(ctx, p.node.ID, p.errorf(op, err))
		}
		return nil
	})
}
