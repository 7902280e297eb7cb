package executor

import (
	"context"
	"sync"

	"github.com/hashicorp/go-hclog"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/executor/dtx"
	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/wire"
)

// Session is the coordinator's side of one client connection; it implements
// wire.Session. It owns a connection to the metadata database (see
// metadataConn), where statements naming no distributed table run
// unchanged, and, while a transaction touches workers, a dtx.Txn holding
// one connection per worker. The wire server calls its methods from one
// goroutine, one at a time, except Cancel.
//
// Statement handles say where a statement runs: a *metaStatement on the
// metadata database under the client's name, a *ctlStatement is
// transaction control or a SET run on both sides, a *distStatement is
// planned (once, at Parse) and executed on the workers.
type Session struct {
	log     hclog.Logger
	h       *Handler
	meta    *metadataConn
	workers *dtx.Session

	// txn is the distributed transaction of the current transaction
	// block, or of the implicit transaction of the statement or batch
	// running; nil when none.
	txn *dtx.Txn
	// block is set inside a transaction block (BEGIN ... COMMIT).
	block bool
	// implicit is set when txn is the implicit transaction of an
	// extended-protocol batch, which Sync ends.
	implicit bool
	// blockOpts are the characteristics of the current block (BEGIN
	// ISOLATION LEVEL ...); sessionOpts the session's defaults.
	blockOpts, sessionOpts dtx.TxnOptions

	set settings
	// startupTimeout is the statement_timeout of the startup parameters,
	// which RESET returns to.
	startupTimeout string
	// searchPath is the session's search_path when it set one (nil: the
	// default); user is the session's user, for "$user".
	searchPath []string
	user       string

	// sqlPrepared are the statements prepared with SQL PREPARE that name
	// distributed tables, by name (sqlprepare.go).
	sqlPrepared map[string]*sqlPrepared
	// cursorSeq numbers the tables of distributed cursors (cursor.go).
	cursorSeq int

	// routinesChanged is set after a statement that may have created,
	// replaced, altered or dropped a function: when its transaction ends,
	// the catalog state is dropped, so that the functions reading
	// distributed tables are reloaded (functionguard.go).
	routinesChanged bool
	// pendingViews are the views over distributed tables created in the
	// current transaction block (views.go), by lower-case name.
	pendingViews map[string]bool

	cancelMu sync.Mutex
	cancelFn context.CancelFunc

	// streams are the portals whose rows stream from the workers
	// (portalstream.go), settled before any other request runs.
	streams []*portalStream
}

var _ wire.Session = (*Session)(nil)

// ParameterStatus returns the metadata database's parameters as reported to
// this session's backend (server_version, client_encoding, DateStyle,
// TimeZone, ...), with the latest values it reported.
func (s *Session) ParameterStatus() map[string]string {
	return s.meta.parameterStatus()
}

// startStatement derives the statement's context, which Cancel cancels
// (reaching the workers' statements through their connections' context
// watchers).
func (s *Session) startStatement(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	s.cancelMu.Lock()
	s.cancelFn = cancel
	s.cancelMu.Unlock()
	return ctx, func() {
		s.cancelMu.Lock()
		s.cancelFn = nil
		s.cancelMu.Unlock()
		cancel()
	}
}

// SimpleQuery runs a Query message. Statements naming no distributed table
// are sent to the metadata database unchanged and its answer relayed;
// transaction control runs on both sides; the others are planned and run
// on the workers.
func (s *Session) SimpleQuery(ctx context.Context, sql string, r wire.Results) error {
	s.settleStreams(ctx, nil)
	ctx, done := s.startStatement(ctx)
	defer done()
	out := &output{r: r, describe: true}
	err := s.simpleStatement(ctx, sql, out)
	if err != nil {
		err = clientError(err)
	}
	if berr := s.meta.endBatch(context.WithoutCancel(ctx)); berr != nil && err == nil {
		err = berr
	}
	s.syncBlock()
	return err
}

// simpleStatement routes one Query.
func (s *Session) simpleStatement(ctx context.Context, sql string, out *output) error {
	cmd := classify(sql)
	runMeta := func() error { return s.meta.simpleQuery(ctx, sql, out.r) }
	switch cmd {
	case cmdBegin, cmdCommit, cmdRollback, cmdSavepoint, cmdRelease, cmdRollbackTo, cmdPrepareTxn:
		return s.transactionControl(ctx, cmd, sql, runMeta, out.r)
	case cmdSet:
		return s.setCommand(ctx, sql, runMeta)
	}
	st, err := s.currentFor(ctx, sql)
	if err != nil {
		if berr := s.meta.check(); berr != nil {
			return berr // the metadata server is gone: FATAL, as PostgreSQL
		}
		return err
	}
	if stmt := s.citusStatement(st, sql, cmd); stmt != nil {
		return s.distributedResult(ctx, s.runCitus(ctx, sql, stmt, out.r))
	}
	switch cmd {
	case cmdCopy:
		if err := s.checkCopySequences(ctx, st, sql); err != nil {
			return s.distributedResult(ctx, err)
		}
		if handled, err := s.copyCommand(ctx, st, sql, out); handled {
			return s.distributedResult(ctx, err)
		}
	case cmdExplain:
		if handled, err := s.explainCommand(ctx, st, sql, nil, out); handled {
			return s.distributedResult(ctx, err)
		}
	}
	if stmts := s.scriptExecuting(sql); stmts != nil {
		return s.script(ctx, stmts, out)
	}
	if handled, err := s.sqlStatement(ctx, st, sql, out, runMeta); handled {
		return s.distributedResult(ctx, err)
	}
	pl, wsql, route, err := s.planWrite(ctx, st, sql)
	if err != nil {
		if stmts := splitScript(sql); stmts != nil {
			return s.script(ctx, stmts, out)
		}
		if refusedInsertSelect(wsql, err) {
			return s.distributedResult(ctx, s.insertSelect(ctx, st, wsql, nil, out))
		}
		return s.distributedResult(ctx, err)
	}
	switch route {
	case routeInsertSelect:
		return s.distributedResult(ctx, s.insertSelect(ctx, st, wsql, nil, out))
	case routeMove:
		return s.distributedResult(ctx, s.moveRows(ctx, st, wsql, nil, out))
	}
	if pl.Kind == planner.KindLocal {
		err := runMeta()
		if cmd == cmdDDL && (containsFold(sql, "aggregate") || containsFold(sql, "schema")) {
			// User-defined aggregates change how statements are planned,
			// and a dropped schema may take distributed tables with it.
			s.h.invalidate()
		}
		if changesRoutines(cmd, sql) {
			s.routinesChanged = true
		}
		return err
	}
	return s.distributedResult(ctx, s.runDistributed(ctx, st, pl, nil, out, true))
}

// distributedResult finishes a statement of the distributed path: after
// an error the metadata connection's transaction is aborted too, so that a
// transaction block is failed on both sides (25P02 until ROLLBACK).
func (s *Session) distributedResult(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	// The statement's context may be what was cancelled; the abort must
	// still happen.
	if aerr := s.meta.abort(context.WithoutCancel(ctx)); aerr != nil {
		s.log.Warn("cannot abort the metadata transaction", "error", aerr)
	}
	return err
}

// syncBlock re-reads the transaction block state from the metadata
// connection after it said ReadyForQuery: a block may begin or end inside
// a string of several local statements. A distributed transaction whose
// block ended that way is rolled back (its COMMIT was not seen).
func (s *Session) syncBlock() {
	if s.meta.inBatch {
		return
	}
	s.block = s.meta.txStatus != 'I' || s.meta.pendingBegin != ""
	if !s.block {
		s.pendingViews = nil
	}
	if s.routinesChanged && !s.block {
		// The function changes are committed (or rolled back): reload
		// the functions reading distributed tables.
		s.routinesChanged = false
		s.h.invalidate()
	}
	if !s.block && s.txn != nil && !s.implicit {
		s.log.Warn("transaction block ended by a statement the session did not see; rolling back the workers")
		s.endTxn(context.Background(), false)
	}
}

// Prepare handles Parse. Every statement is prepared on the metadata
// database under the client's name, which describes it (distributed
// tables have shell tables there with the same columns) and keeps
// PostgreSQL's rules for statement names. A statement naming distributed
// tables is also planned, once, with its parameters symbolic.
func (s *Session) Prepare(ctx context.Context, name, sql string, paramOIDs []uint32) (any, wire.StatementDescription, error) {
	s.settleStreams(ctx, nil)
	cmd := classify(sql)
	cs, csErr := s.currentFor(ctx, sql)
	if csErr == nil {
		if stmt := s.citusStatement(cs, sql, cmd); stmt != nil {
			if cmd != cmdDDL {
				return s.prepareCitusQuery(ctx, name, sql, stmt, paramOIDs)
			}
			return &citusStatement{sql: sql, stmt: stmt}, wire.StatementDescription{ParamOIDs: []uint32{}}, nil
		}
	}
	st, desc, err := s.meta.prepare(ctx, name, sql, paramOIDs)
	if err != nil {
		return nil, desc, err
	}
	switch cmd {
	case cmdBegin, cmdCommit, cmdRollback, cmdSavepoint, cmdRelease, cmdRollbackTo, cmdPrepareTxn, cmdSet:
		return &ctlStatement{meta: st, cmd: cmd, sql: sql}, desc, nil
	}
	if err := csErr; err != nil {
		if berr := s.meta.check(); berr != nil {
			return nil, desc, berr
		}
		s.closeFailed(ctx, st)
		return nil, desc, clientError(err)
	}
	if cmd == cmdCopy || cmd == cmdExplain {
		if s.namesDistributed(cs, sql) {
			return &distStatement{meta: st, sql: sql, cmd: cmd, desc: desc, state: cs}, desc, nil
		}
		return st, desc, nil
	}
	if es := s.executeOf(sql); es != nil {
		return &sqlExecuteStatement{meta: st, es: es}, desc, nil
	}
	if dc := declareOf(sql); dc != nil {
		if q, err := deparseNode(dc.Query); err == nil {
			if pl, err := s.plan(cs, q); err == nil && pl.Kind != planner.KindLocal {
				return &declareStatement{meta: st, dc: dc, desc: desc}, desc, nil
			}
		}
	}
	pl, err := s.plan(cs, sql)
	if s.writeNeedsSession(ctx, cs, sql, pl) {
		// Planned again at each Execute, with its coordinator values.
		return &distStatement{meta: st, sql: sql, cmd: cmdWrite, desc: desc, state: cs}, desc, nil
	}
	if err != nil {
		if refusedInsertSelect(sql, err) {
			return &distStatement{meta: st, sql: sql, cmd: cmdInsertSelect, desc: desc, state: cs}, desc, nil
		}
		s.closeFailed(ctx, st)
		return nil, desc, clientError(err)
	}
	if pl.Kind == planner.KindLocal {
		st.routineDDL = changesRoutines(cmd, sql)
		return st, desc, nil
	}
	return &distStatement{meta: st, sql: sql, cmd: cmd, plan: pl, desc: desc, state: cs}, desc, nil
}

// citusStatement is the handle of a statement for the Citus API prepared
// with the extended protocol: it is run by citus.Run at Execute. A query
// (function calls, views) is also prepared on the metadata database in
// the form citus.Describe gives, which described it.
type citusStatement struct {
	sql  string
	stmt *pg.RawStmt

	meta      *metaStatement // nil for DDL
	desc      wire.StatementDescription
	typeNames []string // the parameters' types (paramTypeNames)
}

// closeFailed forgets a statement prepared on the metadata database whose
// planning failed, and aborts the batch there as the client's is.
func (s *Session) closeFailed(ctx context.Context, st *metaStatement) {
	s.meta.closeStatement(st)
	if err := s.meta.abort(ctx); err != nil {
		s.log.Warn("cannot abort the metadata transaction", "error", err)
	}
}

// Execute binds the portal on its first use and runs it where its statement
// was prepared.
func (s *Session) Execute(ctx context.Context, p *wire.Portal, opts wire.ExecuteOptions, r wire.Results) (bool, error) {
	ps, _ := p.State.(*portalStream)
	s.settleStreams(ctx, ps)
	switch h := p.Statement.Handle.(type) {
	case *metaStatement:
		if h.routineDDL {
			s.routinesChanged = true
		}
		return s.meta.execute(ctx, h, p, opts, r)
	case *ctlStatement:
		ctx, done := s.startStatement(ctx)
		defer done()
		run := func() error {
			_, err := s.meta.execute(ctx, h.meta, p, opts, r)
			return err
		}
		if h.cmd == cmdSet {
			return false, s.setCommand(ctx, h.sql, run)
		}
		err := s.transactionControl(ctx, h.cmd, h.sql, run, nil)
		if opts.SyncFollows {
			s.syncBlock()
		}
		return false, clientError(err)
	case *distStatement:
		ctx, done := s.startStatement(ctx)
		defer done()
		return s.executeDistributed(ctx, h, p, opts, r)
	case *sqlExecuteStatement:
		ctx, done := s.startStatement(ctx)
		defer done()
		return s.executeSQLExecute(ctx, h, p, opts, r)
	case *declareStatement:
		ctx, done := s.startStatement(ctx)
		defer done()
		return false, clientError(s.distributedResult(ctx, s.executeDeclare(ctx, h, p, r)))
	case *citusStatement:
		ctx, done := s.startStatement(ctx)
		defer done()
		if h.meta != nil {
			suspended, err := s.executeCitusQuery(ctx, h, p, opts, r)
			return suspended, clientError(s.distributedResult(ctx, err))
		}
		return false, clientError(s.distributedResult(ctx, s.runCitus(ctx, h.sql, h.stmt, ddlResults{r})))
	default:
		return false, internalError("portal %q has a statement handle of unknown type %T", p.Name, h)
	}
}

// CloseStatement closes the statement on the metadata database, where
// every statement is prepared. The Close goes out with the next request.
func (s *Session) CloseStatement(ctx context.Context, st *wire.Statement) error {
	s.settleStreams(ctx, nil)
	if h := metaOf(st.Handle); h != nil {
		s.meta.closeStatement(h)
	}
	return nil
}

// metaOf returns the metadata statement behind a handle.
func metaOf(handle any) *metaStatement {
	switch h := handle.(type) {
	case *metaStatement:
		return h
	case *ctlStatement:
		return h.meta
	case *distStatement:
		return h.meta
	case *citusStatement:
		return h.meta
	case *declareStatement:
		return h.meta
	case *sqlExecuteStatement:
		return h.meta
	}
	return nil
}

// ClosePortal closes the portal where it was bound, if it was. On the
// metadata database the Close goes out with the next request.
func (s *Session) ClosePortal(ctx context.Context, p *wire.Portal) error {
	if ps, ok := p.State.(*portalStream); ok {
		s.stopStream(ps)
		return nil
	}
	s.settleStreams(ctx, nil)
	if p.Statement != nil {
		if _, ok := p.Statement.Handle.(*distStatement); ok {
			return nil
		}
	}
	s.meta.closePortal(p)
	return nil
}

// Abort aborts the metadata database's transaction after the wire server
// rejected a message of the batch itself (see wire.Session.Abort); the
// distributed transaction follows at Sync. A failure is logged: it breaks
// the connection, which the next request reports.
func (s *Session) Abort(ctx context.Context, err error) {
	s.settleStreams(ctx, nil)
	if aerr := s.meta.abort(ctx); aerr != nil {
		s.log.Warn("cannot abort the metadata transaction", "cause", err, "error", aerr)
	}
}

// Sync ends the extended-protocol batch: the implicit distributed
// transaction of the batch commits (or rolls back after an error), then
// the metadata database's.
func (s *Session) Sync(ctx context.Context) error {
	if s.block {
		s.settleStreams(ctx, nil)
	} else {
		s.stopStreams() // the portals end with the implicit transaction
	}
	var err error
	if s.implicit && s.txn != nil {
		err = s.endTxn(ctx, !s.meta.aborted)
		if err != nil {
			s.distributedResult(ctx, err)
		}
	}
	if serr := s.meta.sync(ctx); serr != nil && err == nil {
		err = serr
	}
	s.syncBlock()
	return clientError(err)
}

// TxStatus is the transaction status for ReadyForQuery: the metadata
// database's, which the session keeps in step with the distributed
// transaction (a failed distributed statement fails the block there too).
func (s *Session) TxStatus() byte {
	if s.meta.pendingBegin != "" {
		return 'T' // the block's BEGIN waits to be sent (lazybegin.go)
	}
	return s.meta.txStatus
}

// Cancel cancels the running statement: on the metadata database (a
// CancelRequest) and on the workers (the statement's context, whose
// cancellation sends them CancelRequests). Safe from any goroutine.
func (s *Session) Cancel() {
	s.meta.cancelRunning()
	s.cancelMu.Lock()
	if s.cancelFn != nil {
		s.cancelFn()
	}
	s.cancelMu.Unlock()
}

// Close ends the session: it rolls back a distributed transaction still
// open, stops its goroutines and closes the metadata connection.
func (s *Session) Close() error {
	s.stopStreams()
	if s.txn != nil {
		s.endTxn(context.Background(), false)
	}
	err := s.meta.close()
	s.log.Debug("session closed")
	return err
}
