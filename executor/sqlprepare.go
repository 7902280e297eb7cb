package executor

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/wire"
)

// SQL-level prepared statements and cursors (PREPARE, EXECUTE,
// DEALLOCATE, DISCARD ALL, DECLARE) name their tables inside another
// statement, so the session looks into them before planning
// (sqlStatement). A PREPARE of a statement naming distributed tables runs
// on the metadata database too (over the shell tables), which keeps
// PostgreSQL's naming rules, pg_prepared_statements and the parameter
// types, and is planned once like a protocol Parse; EXECUTE evaluates its
// arguments on the metadata database, binds them and runs the plan.
// DEALLOCATE and DISCARD ALL run there and forget the plans. A cursor of
// a distributed query is declared on the metadata database over its
// materialized rows (declareDistributed).

// sqlStatement runs PREPARE, EXECUTE, DEALLOCATE, DISCARD and DECLARE when
// they concern distributed tables (or plans the session holds), and says
// whether it did; the others go on to the planner and the metadata
// database.
func (s *Session) sqlStatement(ctx context.Context, st *catalogState, sql string, out *output, runMeta func() error) (bool, error) {
	switch w, _ := firstWord(sql); w {
	case "prepare", "execute", "deallocate", "discard", "declare":
	default:
		return false, nil
	}
	if hasSecondStatement(sql) {
		return false, nil
	}
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return false, nil
	}
	n := tree.Stmts[0].Stmt
	switch {
	case n.GetPrepareStmt() != nil:
		return s.sqlPrepare(ctx, st, n.GetPrepareStmt(), runMeta)
	case n.GetExecuteStmt() != nil:
		h, ok := s.sqlPrepared[n.GetExecuteStmt().Name]
		if !ok {
			return false, nil
		}
		return true, s.sqlExecute(ctx, h, n.GetExecuteStmt(), out)
	case n.GetDeallocateStmt() != nil:
		if len(s.sqlPrepared) == 0 {
			return false, nil
		}
		if err := runMeta(); err != nil {
			return true, err
		}
		if name := n.GetDeallocateStmt().Name; name != "" {
			delete(s.sqlPrepared, name)
		} else {
			clear(s.sqlPrepared)
		}
		return true, nil
	case n.GetDiscardStmt() != nil:
		if len(s.sqlPrepared) == 0 || n.GetDiscardStmt().Target != pg.DiscardMode_DISCARD_ALL {
			return false, nil
		}
		if err := runMeta(); err != nil {
			return true, err
		}
		clear(s.sqlPrepared)
		return true, nil
	case n.GetDeclareCursorStmt() != nil:
		return s.declareDistributed(ctx, st, n.GetDeclareCursorStmt(), nil, out)
	}
	return false, nil
}

// scriptExecuting splits a Query message of several statements when it
// may EXECUTE a plan the session holds: the statement names no table, so
// the planner would send the whole string to the metadata database.
func (s *Session) scriptExecuting(sql string) []string {
	if len(s.sqlPrepared) == 0 || !containsFold(sql, "execute") {
		return nil
	}
	return splitScript(sql)
}

// sqlPrepare runs PREPARE of a statement naming distributed tables: on
// the metadata database (the client sees its answer), then planned, with
// the parameter types the metadata database settled on.
func (s *Session) sqlPrepare(ctx context.Context, st *catalogState, ps *pg.PrepareStmt, runMeta func() error) (bool, error) {
	inner, err := deparseNode(ps.Query)
	if err != nil {
		return false, nil
	}
	h := &distStatement{sql: inner, state: st}
	pl, err := s.plan(st, inner)
	switch {
	case s.writeNeedsSession(ctx, st, inner, pl):
		h.cmd = cmdWrite // planned at each EXECUTE (dmlvalues.go)
	case err != nil && refusedInsertSelect(inner, err):
		h.cmd = cmdInsertSelect
	case err != nil:
		return true, err
	case pl.Kind == planner.KindLocal:
		return false, nil
	default:
		h.plan = pl
	}
	if err := runMeta(); err != nil {
		return true, err
	}
	rows, err := metaQuerier{s}.Query(ctx, "SELECT t::oid, format_type(t::oid, NULL) FROM pg_prepared_statements p, unnest(p.parameter_types) WITH ORDINALITY AS u(t, n) WHERE p.name = "+
		quoteLiteral(ps.Name)+" ORDER BY n")
	if err != nil {
		return true, err
	}
	sp := &sqlPrepared{stmt: h, types: make([]string, len(rows.Values))}
	h.desc.ParamOIDs = make([]uint32, len(rows.Values))
	for i, v := range rows.Values {
		oid, err := strconv.ParseUint(string(v[0]), 10, 32)
		if err != nil {
			return true, internalError("parameter type %q of %s", v[0], ps.Name)
		}
		h.desc.ParamOIDs[i] = uint32(oid)
		sp.types[i] = string(v[1])
	}
	if s.sqlPrepared == nil {
		s.sqlPrepared = map[string]*sqlPrepared{}
	}
	s.sqlPrepared[ps.Name] = sp
	return true, nil
}

// sqlExecute runs EXECUTE of a plan the session holds: the arguments are
// evaluated on the metadata database as values of the parameters' types
// (in text), then bound to the plan, which runs as a portal would.
func (s *Session) sqlExecute(ctx context.Context, h *sqlPrepared, es *pg.ExecuteStmt, out *output) error {
	params, err := s.executeArgs(ctx, h, es)
	if err != nil {
		return err
	}
	return s.runPortal(ctx, h.stmt, &binding{params: params, paramOIDs: h.stmt.desc.ParamOIDs}, out, true)
}

// executeArgs evaluates the arguments of EXECUTE on the metadata
// database, each cast to its parameter's type, in text. (PostgreSQL
// gives an EXECUTE prepared with the extended protocol no parameters of
// its own, so the arguments are constant expressions.)
func (s *Session) executeArgs(ctx context.Context, h *sqlPrepared, es *pg.ExecuteStmt) ([][]byte, error) {
	if len(es.Params) != len(h.types) {
		return nil, &wire.Error{Code: pgerrcode.SyntaxError, Message: "wrong number of parameters for prepared statement \"" + es.Name + "\"",
			Detail: fmt.Sprintf("Expected %d parameters but got %d.", len(h.types), len(es.Params))}
	}
	if len(es.Params) == 0 {
		return nil, nil
	}
	targets := make([]*pg.Node, len(es.Params))
	for i, arg := range es.Params {
		typed, err := castNode(arg, h.types[i])
		if err != nil {
			return nil, err
		}
		if typed, err = castNode(typed, "text"); err != nil {
			return nil, err
		}
		targets[i] = pg.MakeResTargetNodeWithVal(typed, -1)
	}
	sql, err := deparseNode(&pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: &pg.SelectStmt{TargetList: targets,
		LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT, Op: pg.SetOperation_SETOP_NONE}}})
	if err != nil {
		return nil, internalError("deparse the arguments of EXECUTE: %v", err)
	}
	q := internalQuery{sql: sql}
	var vals [][][]byte
	q.row = func(r *pgproto3.DataRow) error {
		vals = append(vals, copyRow(r.Values))
		return nil
	}
	if _, err := s.meta.internal(ctx, q); err != nil {
		return nil, err
	}
	if len(vals) != 1 {
		return nil, internalError("the arguments of EXECUTE gave %d rows", len(vals))
	}
	return vals[0], nil
}

// sqlExecuteStatement is the handle of an EXECUTE, prepared with the
// extended protocol, of a plan the session holds (pgx sends every
// statement so); the EXECUTE is prepared on the metadata database too,
// which described it.
type sqlExecuteStatement struct {
	meta *metaStatement
	es   *pg.ExecuteStmt
}

// executeOf returns the EXECUTE of a one-statement text when it runs a
// plan the session holds, nil otherwise.
func (s *Session) executeOf(sql string) *pg.ExecuteStmt {
	if w, _ := firstWord(sql); w != "execute" || len(s.sqlPrepared) == 0 || hasSecondStatement(sql) {
		return nil
	}
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return nil
	}
	es := tree.Stmts[0].Stmt.GetExecuteStmt()
	if es == nil || s.sqlPrepared[es.Name] == nil {
		return nil
	}
	return es
}

// executeSQLExecute runs a portal of a sqlExecuteStatement: the plan is
// run as a portal of its own over the evaluated arguments.
func (s *Session) executeSQLExecute(ctx context.Context, h *sqlExecuteStatement, p *wire.Portal, opts wire.ExecuteOptions, r wire.Results) (bool, error) {
	if dp, ok := p.State.(*distPortal); ok {
		return s.servePortal(dp, opts, r)
	}
	if ps, ok := p.State.(*portalStream); ok {
		suspended, err := s.serveStream(ctx, ps, opts, r)
		return suspended, clientError(s.distributedResult(ctx, err))
	}
	sp, ok := s.sqlPrepared[h.es.Name]
	if !ok {
		return false, s.distributedResult(ctx, &wire.Error{Code: pgerrcode.InvalidSQLStatementName,
			Message: "prepared statement \"" + h.es.Name + "\" does not exist"})
	}
	params, err := s.executeArgs(ctx, sp, h.es)
	if err != nil {
		return false, clientError(s.distributedResult(ctx, err))
	}
	q := &wire.Portal{Name: p.Name, Params: params, ResultFormats: p.ResultFormats}
	suspended, err := s.executeDistributed(ctx, sp.stmt, q, opts, r)
	p.State = q.State
	return suspended, err
}

// castNode is e::typ, typ a type name as format_type spells it.
func castNode(e *pg.Node, typ string) (*pg.Node, error) {
	tree, err := pg.Parse("SELECT NULL::" + typ)
	if err != nil {
		return nil, internalError("type name %q: %v", typ, err)
	}
	tc := tree.Stmts[0].Stmt.GetSelectStmt().TargetList[0].GetResTarget().Val.GetTypeCast()
	if tc == nil {
		return nil, internalError("type name %q", typ)
	}
	return &pg.Node{Node: &pg.Node_TypeCast{TypeCast: &pg.TypeCast{Arg: e, TypeName: tc.TypeName, Location: -1}}}, nil
}

// sqlPrepared is a statement prepared with SQL PREPARE that names
// distributed tables: its plan, and its parameters' type names.
type sqlPrepared struct {
	stmt  *distStatement
	types []string
}

// quoteLiteral quotes s as a SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
