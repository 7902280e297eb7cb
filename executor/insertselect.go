package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/wire"
)

// refusedInsertSelect reports whether the planner refused a statement
// because it is an INSERT ... SELECT whose rows must go through the
// coordinator, which the session does itself (insertSelect).
func refusedInsertSelect(sql string, err error) bool {
	var pe *planner.Error
	if !errors.As(err, &pe) || pe.Code != pgerrcode.FeatureNotSupported {
		return false
	}
	w, _ := firstWord(sql)
	return (w == "insert" || w == "with") && strings.Contains(pe.Msg, "INSERT ... SELECT")
}

// insertSelect runs INSERT INTO <distributed table> [(cols)] SELECT ...
// through the coordinator: the SELECT runs where it runs (on the metadata
// database, or planned over the shards), and each of its rows is routed
// by the hash of its distribution column value to its shard, in the
// session's distributed transaction. Plain inserts are sent with COPY per
// shard, as COPY FROM does (the columns' values are converted as COPY
// converts text, so a value must be valid input for its column's type);
// with ON CONFLICT or RETURNING, the rows go in batches of INSERT
// statements that carry those clauses to the shards (rowInserter), and
// the RETURNING rows are relayed to the client. Columns left out whose
// defaults call nextval (serial, identity) get their values from the
// metadata database; stable time functions are evaluated there once.
func (s *Session) insertSelect(ctx context.Context, st *catalogState, sql string, b *binding, out *output) error {
	if mentionsTime(sql) {
		fixed, _, err := s.fixTime(ctx, st, sql, false)
		if err != nil {
			return err
		}
		sql = fixed
	}
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return &wire.Error{Code: pgerrcode.SyntaxError, Message: "cannot parse the INSERT ... SELECT"}
	}
	in := tree.Stmts[0].Stmt.GetInsertStmt()
	if in == nil || in.SelectStmt == nil {
		return internalError("not an INSERT ... SELECT")
	}
	if in.WithClause != nil {
		return &wire.Error{Code: pgerrcode.FeatureNotSupported,
			Message: "INSERT ... SELECT through the coordinator does not support WITH before INSERT yet"}
	}
	tb, ok := s.lookupTable(st, in.Relation)
	if !ok {
		return internalError("INSERT ... SELECT into a table that is not distributed")
	}
	cols, err := s.insertColumns(st, in, tb, -1)
	if err != nil {
		return err
	}
	if cols == nil {
		if len(in.Cols) > 0 {
			return &wire.Error{Code: pgerrcode.FeatureNotSupported, Message: "INSERT ... SELECT into a column's field or element is not supported"}
		}
		return internalError("no columns known for table %s", tb.Relation)
	}
	if tb.Method != catalog.MethodReference && indexOf(cols, tb.Column) < 0 && seqColumnOfTable(ctx, s, st, tb, tb.Column) == nil {
		return &wire.Error{Code: pgerrcode.NotNullViolation,
			Message: fmt.Sprintf("the distribution column %s of table %s must be given a value", tb.Column, tb.Relation)}
	}
	fill, err := s.sequenceFill(ctx, st, in, tb, cols)
	if err != nil {
		return err
	}
	cols = append(cols, fill.cols...)
	sel, err := deparseNode(in.SelectStmt)
	if err != nil {
		return internalError("deparse the SELECT of an INSERT: %v", err)
	}
	if s.block && (s.meta.txStatus == 'E' || s.meta.aborted) {
		return errInFailedTransaction
	}
	if !s.block && s.txn == nil {
		s.implicit = true
	}
	s.ensureTxn()
	ctx, stop := s.statementDeadline(ctx)
	defer stop()
	var sink rowSink
	var sender *copySender
	if in.OnConflictClause != nil || len(in.ReturningList) > 0 {
		sink, err = s.newRowInserter(st, tb, cols, in, out)
	} else {
		pc := &parsedCopy{stmt: &pg.CopyStmt{IsFrom: true}, table: tb, cols: cols}
		pc.opts.defaults(false, false, false, false)
		sender = s.newCopySender(ctx, st, pc)
		hk, herr := orgHashIndex(tb, cols)
		if herr != nil {
			err = herr
		}
		sink = &rowRouter{s: s, st: st, pc: pc, k: indexOf(cols, tb.Column), hk: hk, shards: map[int64]*shardCopy{}, sender: sender}
	}
	var n int64
	if err == nil {
		err = s.insertSelectRows(ctx, st, sel, in.SelectStmt, b, fill, sink)
	}
	if sender != nil {
		if werr := sender.wait(ctx); err == nil {
			err = werr
		}
	}
	if err == nil {
		n, err = sink.count(ctx)
	}
	if err != nil {
		if s.implicit {
			s.endTxn(context.WithoutCancel(ctx), false)
		}
		return timeoutError(ctx, err)
	}
	if s.implicit {
		if err := s.endTxn(context.WithoutCancel(ctx), true); err != nil {
			return err
		}
	}
	return out.complete(insertTag(n))
}

// seqColumnOfTable returns tb's column name if its default is computed
// by the coordinator, else nil.
func seqColumnOfTable(ctx context.Context, s *Session, st *catalogState, tb catalog.Table, name string) *seqColumn {
	d, err := st.seqDefaults(ctx, s.h)
	if err != nil {
		return nil
	}
	return seqColumnOf(d.tables[tb.Relation], name)
}

// insertSelectRows runs the SELECT (sel, parsed as selNode) and routes
// its rows, with the values of fill appended to each. When the SELECT
// runs on the shards, the nextval calls of its SELECT list are computed
// by the coordinator instead (the sequences are not on the workers).
func (s *Session) insertSelectRows(ctx context.Context, st *catalogState, sel string, selNode *pg.Node, b *binding, fill *seqFill, sink rowSink) error {
	if len(sel) > 0 {
		pl, err := s.plan(st, sel)
		if err != nil {
			return err
		}
		if pl.Kind != planner.KindLocal && callsNextval(selNode) {
			if err := fill.takeNextvals(selNode.GetSelectStmt()); err != nil {
				return err
			}
			if len(fill.replace) > 0 {
				if sel, err = deparseNode(selNode); err != nil {
					return internalError("deparse the SELECT of an INSERT: %v", err)
				}
				if pl, err = s.plan(st, sel); err != nil {
					return err
				}
			}
		}
		if pl.Kind == planner.KindLocal {
			// The metadata database computes the defaults with the rows.
			vals, formats, _ := b.taskArgs(nil)
			if _, err := s.meta.internal(ctx, internalQuery{sql: fill.wrap(sel), params: vals, paramFormats: formats,
				row: func(dr *pgproto3.DataRow) error { return sink.add(ctx, dr.Values) }}); err != nil {
				return err
			}
			return sink.flush(ctx)
		}
		bound, err := pl.Bind(b.plannerParams())
		if err != nil {
			return err
		}
		buf := &output{buffer: &distPortal{}, limit: s.newLimiter("SELECT of an INSERT", planner.MaxIntermediateRowsSetting)}
		if _, err := s.execPlan(ctx, st, bound, b, buf); err != nil {
			return err
		}
		if err := fill.rows(ctx, s, buf.buffer.rows, sink); err != nil {
			return err
		}
	}
	return sink.flush(ctx)
}

// rowRouter routes rows (text values) to the shards of a table, as COPY
// text data.
type rowRouter struct {
	s      *Session
	st     *catalogState
	pc     *parsedCopy
	k      int // the distribution column's index, -1 for a reference table
	hk     int // an organization table's hash column's index, else -1
	shards map[int64]*shardCopy
	order  []*shardCopy
	sender *copySender
}

// add routes one row.
func (r *rowRouter) add(ctx context.Context, row [][]byte) error {
	if len(row) != len(r.pc.cols) {
		return &wire.Error{Code: pgerrcode.SyntaxError,
			Message: fmt.Sprintf("INSERT has %d target columns but the SELECT returns %d", len(r.pc.cols), len(row))}
	}
	sh, err := shardOfRow(r.st, r.pc.table, r.k, r.hk, row)
	if err != nil {
		return err
	}
	sc := r.shards[sh.ID]
	if sc == nil {
		sql, err := shardCopySQL(r.pc, sh)
		if err != nil {
			return err
		}
		sc = &shardCopy{shard: sh, sql: sql}
		r.shards[sh.ID] = sc
		r.order = append(r.order, sc)
	}
	sc.data.Write(appendCopyText(nil, row))
	if sc.data.Len() >= shardFlushSize {
		return r.sender.send(ctx, sc)
	}
	return nil
}

// flush sends what is buffered.
func (r *rowRouter) flush(ctx context.Context) error {
	for _, sc := range r.order {
		if err := r.sender.send(ctx, sc); err != nil {
			return err
		}
	}
	return nil
}

// count returns the rows the workers loaded; call it after the sender's
// wait.
func (r *rowRouter) count(context.Context) (int64, error) { return r.sender.rows.Load(), nil }
