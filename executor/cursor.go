package executor

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/wire"
)

// The session's SQL cursors live on the metadata database: DECLARE of a
// query naming no distributed table runs there unchanged, and a
// distributed query's cursor is declared there over its materialized
// rows (see declareDistributed). So FETCH, MOVE, CLOSE and WITH HOLD
// behave exactly as in PostgreSQL, and the session implements
// wire.Cursors (a DECLARE cursor is a portal too) by relaying to the
// metadata backend, which knows the cursor as a portal.

var _ wire.Cursors = (*Session)(nil)

// DescribeCursor describes a SQL cursor: Describe of the portal on the
// metadata backend. An unknown one is the backend's 34000, which aborts
// the transaction as in PostgreSQL.
func (s *Session) DescribeCursor(ctx context.Context, name string) ([]pgproto3.FieldDescription, error) {
	s.settleStreams(ctx, nil)
	fields, err := s.meta.describePortal(ctx, name)
	return fields, clientError(err)
}

// ExecuteCursor fetches rows of a SQL cursor: Execute of the portal on the
// metadata backend, relayed.
func (s *Session) ExecuteCursor(ctx context.Context, name string, opts wire.ExecuteOptions, r wire.Results) (bool, error) {
	s.settleStreams(ctx, nil)
	ctx, done := s.startStatement(ctx)
	defer done()
	// A State marks the portal as existing on the backend: no Bind.
	return s.meta.execute(ctx, nil, &wire.Portal{Name: name, State: metaPortal{}}, opts, r)
}

// CloseCursor closes a SQL cursor: a Close of the portal goes to the
// metadata backend with the next request (closing none is no error).
func (s *Session) CloseCursor(ctx context.Context, name string) error {
	s.settleStreams(ctx, nil)
	s.meta.deferClose('P', name)
	return nil
}

// describePortal sends Describe of a portal and reads its description
// (nil for NoData). An error leaves the backend skipping to Sync.
func (m *metadataConn) describePortal(ctx context.Context, name string) ([]pgproto3.FieldDescription, error) {
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	defer m.finish()
	m.fe.SendDescribe(&pgproto3.Describe{ObjectType: 'P', Name: name})
	m.fe.Send(&pgproto3.Flush{})
	m.inBatch = true
	if err := m.flush(); err != nil {
		return nil, err
	}
	for {
		msg, err := m.receive()
		if err != nil {
			return nil, err
		}
		switch msg := msg.(type) {
		case *pgproto3.RowDescription:
			return cloneFields(msg.Fields), nil
		case *pgproto3.NoData:
			return nil, nil
		case *pgproto3.ErrorResponse:
			m.aborted = true
			return nil, backendError(msg)
		case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus, *pgproto3.NotificationResponse:
			m.notify(msg)
		default:
			return nil, m.violation("while describing a portal", msg)
		}
	}
}

// cursorOptHold is DECLARE's WITH HOLD option (CURSOR_OPT_HOLD).
const cursorOptHold = 0x20

// declareDistributed runs DECLARE of a cursor over a query naming
// distributed tables (and says whether it did; a local query's DECLARE
// runs on the metadata database unchanged): the query's rows are loaded,
// within the intermediate-result limits, into a temporary table of the
// metadata connection (dropped at the end of the transaction; a WITH
// HOLD cursor is materialized before that), and the cursor is declared
// there over that table, under the query's column names, with the
// statement's options. FETCH, MOVE, CLOSE, WITH HOLD, SCROLL and BINARY
// then behave as in PostgreSQL. b holds the parameters of a DECLARE
// prepared with the extended protocol.
func (s *Session) declareDistributed(ctx context.Context, st *catalogState, dc *pg.DeclareCursorStmt, b *binding, out *output) (bool, error) {
	query, pl, err := s.planInner(st, dc.Query)
	if err != nil {
		return true, err
	}
	if pl == nil {
		return false, nil
	}
	if s.block && (s.meta.txStatus == 'E' || s.meta.aborted) {
		return true, errInFailedTransaction
	}
	if !s.block && dc.Options&cursorOptHold == 0 {
		return true, &wire.Error{Code: pgerrcode.NoActiveSQLTransaction, Message: "DECLARE CURSOR can only be used in transaction blocks"}
	}
	// The columns' names, as the metadata database describes the query
	// over the shell tables.
	_, desc, err := s.meta.prepare(ctx, internalStmt, query, b.paramOIDsOrNil())
	if err != nil {
		return true, err
	}
	s.meta.closeStatement(&metaStatement{name: internalStmt})
	bound, err := pl.Bind(b.plannerParams())
	if err != nil {
		return true, err
	}
	s.cursorSeq++
	table := "pgfed_cursor_" + strconv.Itoa(s.cursorSeq)
	cols := make([]string, len(desc.Fields))
	sel := make([]string, len(desc.Fields))
	for i, f := range desc.Fields {
		cols[i] = "c" + strconv.Itoa(i+1)
		sel[i] = cols[i] + " AS " + catalog.QuoteIdentifier(string(f.Name))
	}
	if !s.block && s.txn == nil {
		s.implicit = true
	}
	s.ensureTxn()
	_, err = s.loadIntermediate(ctx, st, bound, b, table, cols, planner.MaxIntermediateRowsSetting, "cursor "+dc.Portalname, out.r)
	if s.implicit {
		if eerr := s.endTxn(ctx, err == nil); err == nil {
			err = eerr
		}
	}
	if err != nil {
		return true, err
	}
	over, err := pg.Parse("SELECT " + strings.Join(sel, ", ") + " FROM pg_temp." + table)
	if err != nil || len(sel) == 0 {
		return true, internalError("the query of cursor %s: %v", dc.Portalname, err)
	}
	decl := &pg.DeclareCursorStmt{Portalname: dc.Portalname, Options: dc.Options, Query: over.Stmts[0].Stmt}
	sql, err := deparseNode(&pg.Node{Node: &pg.Node_DeclareCursorStmt{DeclareCursorStmt: decl}})
	if err != nil {
		return true, internalError("deparse DECLARE: %v", err)
	}
	tag, err := s.meta.internal(ctx, internalQuery{sql: sql})
	if err != nil {
		return true, err
	}
	return true, out.complete(tag)
}

// paramOIDsOrNil returns the declared parameter types, if any.
func (b *binding) paramOIDsOrNil() []uint32 {
	if b == nil {
		return nil
	}
	return b.paramOIDs
}

// declareStatement is the handle of a DECLARE of a distributed query
// prepared with the extended protocol (pgx, lib/pq); it is prepared on the
// metadata database too (over the shell tables), which described it.
type declareStatement struct {
	meta *metaStatement
	dc   *pg.DeclareCursorStmt
	desc wire.StatementDescription
}

// declareOf returns the DECLARE of a one-statement text, nil for others.
func declareOf(sql string) *pg.DeclareCursorStmt {
	if w, _ := firstWord(sql); w != "declare" || hasSecondStatement(sql) {
		return nil
	}
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return nil
	}
	return tree.Stmts[0].Stmt.GetDeclareCursorStmt()
}

// executeDeclare runs a portal of a declareStatement with its parameters.
func (s *Session) executeDeclare(ctx context.Context, h *declareStatement, p *wire.Portal, r wire.Results) error {
	st, err := s.h.current(ctx)
	if err != nil {
		return err
	}
	b := &binding{params: p.Params, paramFormats: p.ParamFormats, paramOIDs: h.desc.ParamOIDs}
	handled, err := s.declareDistributed(ctx, st, h.dc, b, &output{r: r})
	if err == nil && !handled {
		return internalError("the cursor's query no longer names a distributed table; prepare it again")
	}
	return err
}
