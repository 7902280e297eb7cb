package executor

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgerrcode"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/wire"
)

// rowSink takes the rows (text values, in a column list's order) that
// the coordinator writes into a distributed table.
type rowSink interface {
	add(ctx context.Context, row [][]byte) error
	flush(ctx context.Context) error
	// count is the number of rows written, for the command tag, once
	// flushed.
	count(ctx context.Context) (int64, error)
}

// insertBatchRows bounds the rows of one INSERT a rowInserter sends.
const insertBatchRows = 1000

// rowInserter writes rows into the shards of a table with INSERT
// statements, one per shard and batch of rows given as text parameters
// (typed by their columns), in the session's distributed transaction.
// It does what COPY cannot: ON CONFLICT, and RETURNING, whose rows go to
// out. Every placement of a shard gets the rows; the first one's answer
// counts.
type rowInserter struct {
	s          *Session
	st         *catalogState
	tb         catalog.Table
	cols       []string
	k          int    // the distribution column's index, -1 for a reference table
	hk         int    // an organization table's hash column's index, else -1
	alias      string // the name the ON CONFLICT and RETURNING clauses use for the table
	onConflict *pg.OnConflictClause
	returning  []*pg.Node
	out        *output // receives the RETURNING rows

	batches map[int64]*insertBatch
	order   []*insertBatch
	rows    int64
}

// insertBatch is the rows buffered for one shard.
type insertBatch struct {
	shard catalog.Shard
	vals  [][]byte
	n     int
}

// newRowInserter returns an inserter into tb's columns cols with the
// ON CONFLICT and RETURNING clauses of in (which may have neither).
func (s *Session) newRowInserter(st *catalogState, tb catalog.Table, cols []string, in *pg.InsertStmt, out *output) (*rowInserter, error) {
	ri := &rowInserter{s: s, st: st, tb: tb, cols: cols, k: -1, out: out, batches: map[int64]*insertBatch{}}
	if tb.Method != catalog.MethodReference {
		if ri.k = indexOf(cols, tb.Column); ri.k < 0 {
			return nil, &wire.Error{Code: pgerrcode.NotNullViolation,
				Message: fmt.Sprintf("the distribution column %s of table %s must be given a value", tb.Column, tb.Relation)}
		}
	}
	var err error
	if ri.hk, err = orgHashIndex(tb, cols); err != nil {
		return nil, err
	}
	if in == nil {
		return ri, nil
	}
	ri.alias = in.Relation.Relname
	if in.Relation.Alias != nil {
		ri.alias = in.Relation.Alias.Aliasname
	}
	ri.onConflict, ri.returning = in.OnConflictClause, in.ReturningList
	if oc := ri.onConflict; oc != nil && tb.Method != catalog.MethodReference {
		for _, t := range oc.TargetList {
			if rt := t.GetResTarget(); rt != nil && (rt.Name == tb.Column || tb.HashColumn != "" && rt.Name == tb.HashColumn) {
				return nil, &wire.Error{Code: pgerrcode.FeatureNotSupported,
					Message: "modifying the partition value of rows is not allowed",
					Detail:  fmt.Sprintf("ON CONFLICT DO UPDATE sets the distribution column %s of %s.", rt.Name, tb.Relation)}
			}
		}
	}
	return ri, nil
}

// add buffers one row for its shard, sending the shard's batch when it
// is full.
func (ri *rowInserter) add(ctx context.Context, row [][]byte) error {
	if len(row) != len(ri.cols) {
		return &wire.Error{Code: pgerrcode.SyntaxError,
			Message: fmt.Sprintf("INSERT has %d target columns but the query returns %d", len(ri.cols), len(row))}
	}
	sh, err := shardOfRow(ri.st, ri.tb, ri.k, ri.hk, row)
	if err != nil {
		return err
	}
	b := ri.batches[sh.ID]
	if b == nil {
		b = &insertBatch{shard: sh}
		ri.batches[sh.ID] = b
		ri.order = append(ri.order, b)
	}
	for _, v := range row {
		if v != nil {
			v = append([]byte(nil), v...)
		}
		b.vals = append(b.vals, v)
	}
	b.n++
	if b.n >= ri.batchRows() {
		return ri.send(ctx, b)
	}
	return nil
}

// batchRows is the rows of one INSERT: at most insertBatchRows, and
// within the protocol's 65535 parameters.
func (ri *rowInserter) batchRows() int {
	n := 65535 / max(len(ri.cols), 1)
	return min(n, insertBatchRows)
}

// flush sends what is buffered. Under the simple protocol, a RETURNING
// list is described even when no row was inserted, as PostgreSQL does.
func (ri *rowInserter) flush(ctx context.Context) error {
	for _, b := range ri.order {
		if err := ri.send(ctx, b); err != nil {
			return err
		}
	}
	if len(ri.returning) > 0 && ri.out != nil && ri.out.describe && !ri.out.described {
		return ri.describeEmpty(ctx)
	}
	return nil
}

// describeEmpty sends the description of the RETURNING list, from an
// INSERT of no rows into the table's first shard.
func (ri *rowInserter) describeEmpty(ctx context.Context) error {
	shards := ri.st.snap.ShardsOf(ri.tb.Relation)
	if len(shards) == 0 {
		return nil
	}
	sh := shards[0]
	rv := &pg.RangeVar{Schemaname: sh.Table.Schema, Relname: sh.Name(), Inh: true, Relpersistence: "p"}
	target := &pg.RangeVar{Schemaname: sh.Table.Schema, Relname: sh.Name(), Inh: true, Relpersistence: "p",
		Alias: &pg.Alias{Aliasname: ri.alias}}
	sel := &pg.SelectStmt{FromClause: []*pg.Node{{Node: &pg.Node_RangeVar{RangeVar: rv}}},
		WhereClause: &pg.Node{Node: &pg.Node_AConst{AConst: &pg.A_Const{Val: &pg.A_Const_Boolval{Boolval: &pg.Boolean{Boolval: false}}}}},
		LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT, Op: pg.SetOperation_SETOP_NONE}
	in := &pg.InsertStmt{Relation: target, ReturningList: ri.returning, Override: pg.OverridingKind_OVERRIDING_NOT_SET,
		SelectStmt: &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sel}}}
	for _, c := range ri.cols {
		in.Cols = append(in.Cols, &pg.Node{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Name: c}}})
		sel.TargetList = append(sel.TargetList, pg.MakeResTargetNodeWithVal(pg.MakeColumnRefNode([]*pg.Node{pg.MakeStrNode(c)}, -1), -1))
	}
	sql, err := deparseNode(&pg.Node{Node: &pg.Node_InsertStmt{InsertStmt: in}})
	if err != nil {
		return internalError("deparse the description of a RETURNING list: %v", err)
	}
	s := ri.s
	node := ri.st.snap.PlacementsOf(sh.ID)[0].NodeID
	task := &planner.Task{SQL: sql, ShardIDs: []int64{sh.ID}}
	conn, err := s.txn.Conn(ctx, node)
	if err != nil {
		return s.workerFailed(ctx, &workerFailure{node: node, err: s.taskError(ri.st, node, task, err)})
	}
	rr := conn.ExecParams(ctx, sql, nil, nil, nil, nil)
	ferr := ri.out.fieldsFromWorker(rr.FieldDescriptions(), 0)
	if _, err := rr.Close(); err != nil {
		return s.workerFailed(ctx, &workerFailure{node: node, err: s.taskError(ri.st, node, task, err)})
	}
	return ferr
}

// count returns the rows the shards inserted (or updated, ON CONFLICT DO
// UPDATE), as their tags say.
func (ri *rowInserter) count(context.Context) (int64, error) { return ri.rows, nil }

// send runs one shard's batch on every placement.
func (ri *rowInserter) send(ctx context.Context, b *insertBatch) error {
	if b.n == 0 {
		return nil
	}
	sql, err := ri.statement(b.shard, b.n)
	if err != nil {
		return err
	}
	vals := b.vals
	b.vals, b.n = nil, 0
	s := ri.s
	task := &planner.Task{SQL: sql, ShardIDs: []int64{b.shard.ID}}
	for i, p := range ri.st.snap.PlacementsOf(b.shard.ID) {
		conn, err := s.txn.Conn(ctx, p.NodeID)
		if err != nil {
			return s.workerFailed(ctx, &workerFailure{node: p.NodeID, err: s.taskError(ri.st, p.NodeID, task, err)})
		}
		s.txn.MarkWrite(p.NodeID)
		if err := s.alignSettings(ctx, conn); err != nil {
			return s.workerFailed(ctx, &workerFailure{node: p.NodeID, err: s.taskError(ri.st, p.NodeID, task, err)})
		}
		if ri.out != nil && ri.out.r != nil && s.set.logRemote {
			if n, ok := ri.st.snap.Node(p.NodeID); ok {
				if err := ri.out.r.Send(remoteNotice(n, sql)); err != nil {
					return err
				}
			}
		}
		var formats []int16
		if i == 0 && ri.out != nil {
			formats = ri.out.formats
		}
		rr := conn.ExecParams(ctx, sql, vals, nil, nil, formats)
		var rerr error
		if i == 0 && ri.out != nil && len(ri.returning) > 0 {
			rerr = ri.out.fieldsFromWorker(rr.FieldDescriptions(), 0)
			for rerr == nil && rr.NextRow() {
				rerr = ri.out.row(rr.Values())
			}
		}
		tag, err := rr.Close()
		if err != nil {
			return s.workerFailed(ctx, &workerFailure{node: p.NodeID, err: s.taskError(ri.st, p.NodeID, task, err)})
		}
		if rerr != nil {
			return rerr
		}
		if i == 0 {
			ri.rows += tag.RowsAffected()
		}
	}
	return nil
}

// statement returns the INSERT of n rows into a shard.
func (ri *rowInserter) statement(sh catalog.Shard, n int) (string, error) {
	rv := &pg.RangeVar{Schemaname: sh.Table.Schema, Relname: sh.Name(), Inh: true, Relpersistence: "p"}
	if ri.alias != "" {
		rv.Alias = &pg.Alias{Aliasname: ri.alias}
	}
	in := &pg.InsertStmt{Relation: rv, OnConflictClause: ri.onConflict, ReturningList: ri.returning,
		Override: pg.OverridingKind_OVERRIDING_NOT_SET}
	for _, c := range ri.cols {
		in.Cols = append(in.Cols, &pg.Node{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Name: c}}})
	}
	sel := &pg.SelectStmt{LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT, Op: pg.SetOperation_SETOP_NONE}
	param := int32(1)
	for range n {
		items := make([]*pg.Node, len(ri.cols))
		for j := range items {
			items[j] = pg.MakeParamRefNode(param, -1)
			param++
		}
		sel.ValuesLists = append(sel.ValuesLists, pg.MakeListNode(items))
	}
	in.SelectStmt = &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sel}}
	sql, err := deparseNode(&pg.Node{Node: &pg.Node_InsertStmt{InsertStmt: in}})
	if err != nil {
		return "", internalError("deparse the INSERT into shard %s: %v", sh.Name(), err)
	}
	return sql, nil
}

// shardOfRow returns the shard a row (text values) of tb belongs to: by
// the hash of its distribution column's value (index k), or the one shard
// of a reference table (k < 0); for an organization table, by its
// organization (index k) and the hash of its hash column's value (index
// hk, -1 when it has none).
func shardOfRow(st *catalogState, tb catalog.Table, k, hk int, row [][]byte) (catalog.Shard, error) {
	if k < 0 {
		shards := st.snap.ShardsOf(tb.Relation)
		if len(shards) == 0 {
			return catalog.Shard{}, internalError("table %s has no shard", tb.Relation)
		}
		return shards[0], nil
	}
	v := row[k]
	if v == nil {
		return catalog.Shard{}, &wire.Error{Code: pgerrcode.NotNullViolation,
			Message: fmt.Sprintf("the distribution column %s of table %s cannot be NULL", tb.Column, tb.Relation)}
	}
	if tb.Method == catalog.MethodOrganization {
		var hv []byte
		if hk >= 0 {
			hv = row[hk]
		}
		return orgShard(st.snap, tb, string(v), hv, false)
	}
	h, err := catalog.HashText(tb.ColumnType, string(v))
	if err != nil {
		return catalog.Shard{}, &wire.Error{Code: codeOr(err, pgerrcode.InvalidTextRepresentation), Message: err.Error()}
	}
	sh, ok := st.snap.ShardForHash(tb.Relation, h)
	if !ok {
		return catalog.Shard{}, internalError("no shard of %s for hash %d", tb.Relation, h)
	}
	return sh, nil
}

// insertTag is the command tag of an INSERT of n rows.
func insertTag(n int64) string {
	return "INSERT 0 " + strconv.FormatInt(n, 10)
}
