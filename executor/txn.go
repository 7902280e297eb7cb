package executor

import (
	"context"
	"strings"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/executor/dtx"
	"github.com/pgfed/pgfed/wire"
)

// ctlStatement is the handle of a prepared transaction control statement
// or SET: it runs on the metadata database and is mirrored on the
// distributed transaction.
type ctlStatement struct {
	meta *metaStatement
	cmd  command
	sql  string
}

// errInFailedTransaction is PostgreSQL's answer to a statement in a failed
// transaction block.
var errInFailedTransaction = &wire.Error{Code: pgerrcode.InFailedSQLTransaction,
	Message: "current transaction is aborted, commands ignored until end of transaction block"}

// transactionControl runs BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE,
// ROLLBACK TO and PREPARE TRANSACTION on both sides: runMeta sends the
// client's statement to the metadata database; the distributed
// transaction follows it. COMMIT commits the workers first (2PC when more
// than one was written) and the metadata database only if they committed;
// if they did not, the metadata transaction is rolled back and the error
// returned, so both sides end the same way.
//
// r, when not nil (the simple query protocol), lets BEGIN outside a block
// be answered by the session and sent to the metadata database only when
// the block needs it (lazybegin.go).
func (s *Session) transactionControl(ctx context.Context, cmd command, sql string, runMeta func() error, r wire.Results) error {
	switch cmd {
	case cmdBegin:
		opts, _, ok := parseTransaction(sql)
		if r != nil && ok && !s.block && s.meta.txStatus == 'I' && !s.meta.inBatch && !s.meta.aborted {
			if err := s.deferBegin(sql, r); err != nil {
				return err
			}
		} else if err := runMeta(); err != nil {
			return err
		}
		if !s.block {
			s.block = true
			s.blockOpts = s.sessionOpts
			if opts.Isolation != dtx.IsolationDefault {
				s.blockOpts.Isolation = opts.Isolation
			}
			if opts.ReadOnly {
				s.blockOpts.ReadOnly = true
			}
			if s.txn != nil && s.implicit {
				s.implicit = false // BEGIN inside a batch: the block takes it over
			}
		}
		return nil
	case cmdCommit:
		if s.meta.pendingBegin != "" && r != nil {
			// Nothing ran on the metadata database: the workers decide.
			err := s.endTxn(ctx, true)
			s.meta.pendingBegin = ""
			s.endBlock()
			if err != nil {
				return err
			}
			return s.endDeferred("COMMIT", r)
		}
		if s.txn == nil || s.meta.txStatus == 'E' || s.meta.aborted {
			err := runMeta()
			s.endTxn(ctx, false)
			s.endBlock()
			return err
		}
		if err := s.endTxn(ctx, true); err != nil {
			// The workers did not commit: neither does the metadata
			// database.
			if _, rerr := s.meta.internal(ctx, internalQuery{sql: "ROLLBACK"}); rerr != nil {
				s.log.Warn("cannot roll back the metadata transaction after a failed commit", "error", rerr)
			}
			s.endBlock()
			return err
		}
		err := runMeta()
		s.endBlock()
		return err
	case cmdRollback:
		if s.meta.pendingBegin != "" && r != nil {
			s.endTxn(ctx, false)
			s.endBlock()
			return s.endDeferred("ROLLBACK", r)
		}
		err := runMeta()
		s.endTxn(ctx, false)
		s.endBlock()
		return err
	case cmdPrepareTxn:
		if s.txn != nil && len(s.txn.Nodes()) > 0 {
			return &wire.Error{Code: pgerrcode.FeatureNotSupported,
				Message: "PREPARE TRANSACTION is not supported in a transaction that used distributed tables"}
		}
		err := runMeta()
		s.endTxn(ctx, false)
		s.endBlock()
		return err
	}
	_, name, _ := parseTransaction(sql)
	if err := runMeta(); err != nil {
		return err
	}
	if !s.block {
		return nil // outside a block PostgreSQL refused it already, or warned
	}
	var err error
	switch cmd {
	case cmdSavepoint:
		err = s.ensureTxn().Savepoint(ctx, name)
	case cmdRelease:
		if s.txn != nil {
			err = s.txn.ReleaseSavepoint(ctx, name)
		}
	case cmdRollbackTo:
		if s.txn != nil {
			err = s.txn.RollbackToSavepoint(ctx, name)
		}
	}
	return s.distributedResult(ctx, err)
}

// endBlock forgets the block and its SET LOCAL values.
func (s *Session) endBlock() {
	s.block = false
	s.blockOpts = dtx.TxnOptions{}
	s.set.endTransaction()
}

// ensureTxn returns the distributed transaction, beginning it if there is
// none (nothing is sent to a worker until it is used).
func (s *Session) ensureTxn() *dtx.Txn {
	if s.txn == nil {
		opts := s.sessionOpts
		if s.block {
			opts = s.blockOpts
		}
		s.txn = s.h.coord.Begin(s.workers, opts)
	}
	return s.txn
}

// endTxn commits or rolls back the distributed transaction, if any.
func (s *Session) endTxn(ctx context.Context, commit bool) error {
	t := s.txn
	s.txn, s.implicit = nil, false
	if t == nil {
		return nil
	}
	if commit {
		return t.Commit(ctx)
	}
	if err := t.Rollback(ctx); err != nil {
		s.log.Debug("rollback of the workers failed", "error", err)
	}
	return nil
}

// setCommand runs SET or RESET on the metadata database and records what
// the session reads itself: Citus and pgfed settings, and the transaction
// characteristics the workers' transactions get.
func (s *Session) setCommand(ctx context.Context, sql string, runMeta func() error) error {
	low := strings.ToLower(sql)
	relevant := strings.Contains(low, "citus.") || strings.Contains(low, "pgfed.") || strings.Contains(low, "search_path") ||
		strings.Contains(low, "transaction") || strings.Contains(low, "characteristics") || strings.Contains(low, "all") ||
		strings.Contains(low, "timeout")
	if err := runMeta(); err != nil || !relevant {
		return err
	}
	st, ok := parseSet(sql)
	if !ok {
		return nil
	}
	switch {
	case st.resetAll:
		s.set = settings{}
		s.set.set(settingStatementTimeout, s.startupTimeout)
		s.sessionOpts = dtx.TxnOptions{}
		s.searchPath = nil
	case st.name == "search_path":
		// The values are identifiers already unquoted by the parser. SET
		// LOCAL is kept for the session too (a simplification).
		s.searchPath = nil
		if st.value != "" {
			for _, v := range strings.Split(st.value, ",") {
				if v == "$user" {
					v = s.user
				}
				s.searchPath = append(s.searchPath, v)
			}
		}
	case st.txnChars:
		opts := &s.blockOpts
		if st.session {
			opts = &s.sessionOpts
		}
		if st.isolation != dtx.IsolationDefault {
			opts.Isolation = st.isolation
		}
		if st.readOnly != nil {
			opts.ReadOnly = *st.readOnly
		}
		// A transaction that has not used a worker yet takes the new
		// characteristics.
		if !st.session && s.txn != nil && len(s.txn.Nodes()) == 0 {
			s.txn.Rollback(ctx)
			s.txn = nil
		}
	case st.name == "default_transaction_isolation":
		iso := dtx.IsolationDefault
		switch strings.ToLower(st.value) {
		case "repeatable read":
			iso = dtx.RepeatableRead
		case "serializable":
			iso = dtx.Serializable
		case "read committed":
			iso = dtx.ReadCommitted
		}
		s.sessionOpts.Isolation = iso
	case isOurs(st.name):
		if st.local && s.block {
			if s.set.saved == nil {
				s.set.saved = map[string]string{}
			}
			if _, ok := s.set.saved[st.name]; !ok {
				s.set.saved[st.name] = s.set.get(st.name)
			}
		}
		value := st.value
		if value == "" && st.name == settingStatementTimeout {
			value = s.startupTimeout // RESET: the session's default
		}
		s.set.set(st.name, value)
	}
	return nil
}
