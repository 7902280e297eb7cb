package executor

import (
	"context"

	pg "github.com/pganalyze/pg_query_go/v5"
)

// splitScript splits a Query message holding several statements, one of
// which names a distributed table; nil when sql is one statement.
func splitScript(sql string) []string {
	if !hasSecondStatement(sql) {
		return nil
	}
	stmts, err := pg.SplitWithScanner(sql, true)
	if err != nil || len(stmts) < 2 {
		return nil
	}
	out := stmts[:0]
	for _, st := range stmts {
		if st != "" {
			out = append(out, st)
		}
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// script runs the statements of one Query message one after the other,
// as PostgreSQL does: each statement's results are sent in turn, the
// first error stops the rest, and outside a transaction block they form
// one implicit transaction on both sides (the metadata database and the
// workers), committed at the end or rolled back after an error. A script
// with transaction control statements of its own runs them as they come,
// without the implicit transaction.
func (s *Session) script(ctx context.Context, stmts []string, out *output) error {
	wrap := !s.block
	for _, q := range stmts {
		switch classify(q) {
		case cmdBegin, cmdCommit, cmdRollback, cmdSavepoint, cmdRelease, cmdRollbackTo, cmdPrepareTxn:
			wrap = false
		}
	}
	if wrap {
		if err := s.metaControl(ctx, "BEGIN"); err != nil {
			return err
		}
		s.block, s.blockOpts = true, s.sessionOpts
	}
	var err error
	for _, q := range stmts {
		o := &output{r: out.r, describe: true}
		if err = s.simpleStatement(ctx, q, o); err != nil {
			err = clientError(err)
			break
		}
		if err = s.meta.endBatch(ctx); err != nil {
			break
		}
		if !wrap {
			s.syncBlock()
		}
	}
	if !wrap {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	if err != nil {
		s.meta.endBatch(ctx) // leave the failed block's batch
		s.endTxn(ctx, false)
		if rerr := s.metaControl(ctx, "ROLLBACK"); rerr != nil {
			s.log.Warn("cannot roll back the metadata transaction of a failed script", "error", rerr)
		}
		s.endBlock()
		return err
	}
	if cerr := s.endTxn(ctx, true); cerr != nil {
		s.metaControl(ctx, "ROLLBACK")
		s.endBlock()
		return clientError(cerr)
	}
	err = s.metaControl(ctx, "COMMIT")
	s.endBlock()
	return err
}

// metaControl runs a transaction control statement of the session's own
// on the metadata connection (nothing is relayed) and syncs, so that its
// transaction status is current.
func (s *Session) metaControl(ctx context.Context, sql string) error {
	if _, err := s.meta.internal(ctx, internalQuery{sql: sql}); err != nil {
		s.meta.endBatch(ctx)
		return err
	}
	return s.meta.endBatch(ctx)
}
