package executor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
// by the hash of its distribution column value to its shard, sent with
// COPY per shard in the session's distributed transaction, as COPY FROM
// does. The columns' values are converted as COPY converts text, so a
// value must be valid input for its column's type.
func (s *Session) insertSelect(ctx context.Context, st *catalogState, sql string, b *binding, out *output) error {
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return &wire.Error{Code: pgerrcode.SyntaxError, Message: "cannot parse the INSERT ... SELECT"}
	}
	in := tree.Stmts[0].Stmt.GetInsertStmt()
	if in == nil || in.SelectStmt == nil {
		return internalError("not an INSERT ... SELECT")
	}
	if in.OnConflictClause != nil || len(in.ReturningList) > 0 || in.WithClause != nil {
		return &wire.Error{Code: pgerrcode.FeatureNotSupported,
			Message: "INSERT ... SELECT through the coordinator does not support ON CONFLICT, RETURNING or WITH yet"}
	}
	tb, ok := s.lookupTable(st, in.Relation)
	if !ok {
		return internalError("INSERT ... SELECT into a table that is not distributed")
	}
	pc := &parsedCopy{stmt: &pg.CopyStmt{IsFrom: true}, table: tb}
	pc.opts.defaults(false, false, false, false)
	for _, c := range in.Cols {
		if rt := c.GetResTarget(); rt != nil {
			if len(rt.Indirection) > 0 {
				return &wire.Error{Code: pgerrcode.FeatureNotSupported, Message: "INSERT ... SELECT into a column's field or element is not supported"}
			}
			pc.cols = append(pc.cols, rt.Name)
		}
	}
	if len(pc.cols) == 0 {
		def, ok := st.schema.Table(tb.Relation)
		if !ok {
			return internalError("no columns known for table %s", tb.Relation)
		}
		for _, c := range def.Columns {
			pc.cols = append(pc.cols, c.Name)
		}
	}
	k := -1
	for i, c := range pc.cols {
		if c == tb.Column {
			k = i
		}
	}
	if tb.Method != catalog.MethodReference && k < 0 {
		return &wire.Error{Code: pgerrcode.NotNullViolation,
			Message: fmt.Sprintf("the distribution column %s of table %s must be given a value", tb.Column, tb.Relation)}
	}
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
	r := &rowRouter{s: s, st: st, pc: pc, k: k, shards: map[int64]*shardCopy{}, sender: s.newCopySender(ctx, st, pc)}
	err = s.insertSelectRows(ctx, st, sel, b, r)
	if werr := r.sender.wait(ctx); err == nil {
		err = werr
	}
	if err != nil {
		if s.implicit {
			s.endTxn(ctx, false)
		}
		return err
	}
	if s.implicit {
		if err := s.endTxn(ctx, true); err != nil {
			return err
		}
	}
	return out.complete("INSERT 0 " + strconv.FormatInt(r.sender.rows.Load(), 10))
}

// insertSelectRows runs the SELECT and routes its rows.
func (s *Session) insertSelectRows(ctx context.Context, st *catalogState, sel string, b *binding, r *rowRouter) error {
	if len(sel) > 0 {
		pl, err := s.plan(st, sel)
		if err != nil {
			return err
		}
		if pl.Kind == planner.KindLocal {
			vals, formats, _ := b.taskArgs(nil)
			if _, err := s.meta.internal(ctx, internalQuery{sql: sel, params: vals, paramFormats: formats,
				row: func(dr *pgproto3.DataRow) error { return r.add(ctx, dr.Values) }}); err != nil {
				return err
			}
			return r.flush(ctx)
		}
		bound, err := pl.Bind(b.plannerParams())
		if err != nil {
			return err
		}
		buf := &output{buffer: &distPortal{}, limit: s.newLimiter("SELECT of an INSERT", planner.MaxIntermediateRowsSetting)}
		if _, err := s.execPlan(ctx, st, bound, b, buf); err != nil {
			return err
		}
		for _, row := range buf.buffer.rows {
			if err := r.add(ctx, row); err != nil {
				return err
			}
		}
	}
	return r.flush(ctx)
}

// rowRouter routes rows (text values) to the shards of a table, as COPY
// text data.
type rowRouter struct {
	s      *Session
	st     *catalogState
	pc     *parsedCopy
	k      int // the distribution column's index, -1 for a reference table
	shards map[int64]*shardCopy
	order  []*shardCopy
	sender *copySender
	total  int64
}

// add routes one row.
func (r *rowRouter) add(ctx context.Context, row [][]byte) error {
	if len(row) != len(r.pc.cols) {
		return &wire.Error{Code: pgerrcode.SyntaxError,
			Message: fmt.Sprintf("INSERT has %d target columns but the SELECT returns %d", len(r.pc.cols), len(row))}
	}
	tb := r.pc.table
	var sh catalog.Shard
	if r.k < 0 {
		sh = r.st.snap.ShardsOf(tb.Relation)[0]
	} else {
		v := row[r.k]
		if v == nil {
			return &wire.Error{Code: pgerrcode.NotNullViolation,
				Message: fmt.Sprintf("the distribution column %s of table %s cannot be NULL", tb.Column, tb.Relation)}
		}
		h, err := catalog.HashText(tb.ColumnType, string(v))
		if err != nil {
			return &wire.Error{Code: codeOr(err, pgerrcode.InvalidTextRepresentation), Message: err.Error()}
		}
		var ok bool
		if sh, ok = r.st.snap.ShardForHash(tb.Relation, h); !ok {
			return internalError("no shard of %s for hash %d", tb.Relation, h)
		}
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
	r.total++
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
