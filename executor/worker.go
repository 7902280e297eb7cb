package executor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/executor/dtx"
	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/wire"
)

// stmtCacheKey is the key of a worker connection's CustomData under which
// the session keeps the statements it prepared there.
const stmtCacheKey = "pgfed.statements"

// maxCachedStatements bounds the statements prepared on one worker
// connection; past it the cache is emptied (and the statements
// deallocated) before the next one.
const maxCachedStatements = 512

// workerStatements are the statements prepared on one worker connection,
// by text and parameter types. The connection is used by one goroutine at
// a time, so the cache needs no lock.
type workerStatements struct {
	byKey map[string]*pgconn.StatementDescription
	next  int
	gen   uint64 // the catalog generation they were prepared under
}

// binding is a statement's bound parameters and the client's result
// formats.
type binding struct {
	params        [][]byte
	paramFormats  []int16
	paramOIDs     []uint32
	resultFormats []int16
}

// paramFormat returns the format of parameter i (0-based).
func (b *binding) paramFormat(i int) int16 {
	switch len(b.paramFormats) {
	case 0:
		return 0
	case 1:
		return b.paramFormats[0]
	}
	if i < len(b.paramFormats) {
		return b.paramFormats[i]
	}
	return 0
}

// plannerParams converts the bound values for planner.Plan.Bind, with
// the types the statement declared (a driver may send an int2 for an int4
// column).
func (b *binding) plannerParams() []planner.Param {
	if b == nil {
		return nil
	}
	out := make([]planner.Param, len(b.params))
	for i, v := range b.params {
		out[i] = planner.Param{Value: v, Binary: b.paramFormat(i) == 1, Null: v == nil}
		if i < len(b.paramOIDs) {
			out[i].Type = b.paramOIDs[i]
		}
	}
	return out
}

// taskArgs maps a task's parameters ($i is the statement's
// $mapping[i-1]) to values, formats and types. A nil mapping means the
// task's text keeps the statement's own numbering (a fragment cut from
// the client's text): every parameter is passed; an empty one means none.
func (b *binding) taskArgs(mapping []int) (vals [][]byte, formats []int16, oids []uint32) {
	if b == nil || len(b.params) == 0 {
		return nil, nil, nil
	}
	if mapping == nil {
		mapping = make([]int, len(b.params))
		for i := range mapping {
			mapping[i] = i + 1
		}
	}
	if len(mapping) == 0 {
		return nil, nil, nil
	}
	vals = make([][]byte, len(mapping))
	formats = make([]int16, len(mapping))
	oids = make([]uint32, len(mapping))
	for i, k := range mapping {
		if k >= 1 && k <= len(b.params) {
			vals[i] = b.params[k-1]
			formats[i] = b.paramFormat(k - 1)
		}
		if k >= 1 && k <= len(b.paramOIDs) {
			oids[i] = b.paramOIDs[k-1]
		}
	}
	return vals, formats, oids
}

// execOn starts sql on a worker connection. Statements with parameters are
// prepared once per connection and executed by name (the worker then keeps
// its plan); others go in one round trip with the unnamed statement. The
// caller reads and closes the ResultReader.
func execOn(ctx context.Context, conn *pgconn.PgConn, gen uint64, sql string, vals [][]byte, formats []int16, oids []uint32, resultFormats []int16) (*pgconn.ResultReader, error) {
	if vals == nil {
		return conn.ExecParams(ctx, sql, nil, nil, nil, resultFormats), nil
	}
	sd, err := prepareOn(ctx, conn, gen, sql, oids)
	if err != nil {
		return nil, err
	}
	return conn.ExecStatement(ctx, sd, vals, formats, resultFormats), nil
}

// prepareOn returns the statement prepared for sql on conn, preparing it
// the first time. Statements prepared under an older catalog generation
// (before DDL that may have changed the shards' columns) are deallocated
// first.
func prepareOn(ctx context.Context, conn *pgconn.PgConn, gen uint64, sql string, oids []uint32) (*pgconn.StatementDescription, error) {
	cd := conn.CustomData()
	ws, _ := cd[stmtCacheKey].(*workerStatements)
	if ws == nil {
		ws = &workerStatements{byKey: make(map[string]*pgconn.StatementDescription), gen: gen}
		cd[stmtCacheKey] = ws
	}
	if ws.gen != gen && len(ws.byKey) > 0 {
		if _, err := conn.Exec(ctx, "DEALLOCATE ALL").ReadAll(); err != nil {
			return nil, err
		}
		clear(ws.byKey)
	}
	ws.gen = gen
	var kb strings.Builder
	kb.WriteString(sql)
	for _, o := range oids {
		kb.WriteByte(0)
		kb.WriteString(strconv.FormatUint(uint64(o), 10))
	}
	key := kb.String()
	if sd, ok := ws.byKey[key]; ok {
		return sd, nil
	}
	if len(ws.byKey) >= maxCachedStatements {
		if _, err := conn.Exec(ctx, "DEALLOCATE ALL").ReadAll(); err != nil {
			return nil, err
		}
		clear(ws.byKey)
	}
	ws.next++
	name := "pgfed_" + strconv.Itoa(ws.next)
	sd, err := conn.Prepare(ctx, name, sql, oids)
	if err != nil {
		return nil, err
	}
	ws.byKey[key] = sd
	return sd, nil
}

// TaskError is the failure of a statement sent to a worker: the worker's
// error with its SQLSTATE, detail and hint, naming the worker and shards.
type TaskError struct {
	Node   catalog.Node
	Shards []int64
	Err    error
}

// Error returns the worker's message.
func (e *TaskError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *TaskError) Unwrap() error { return e.Err }

// wireError builds the client's error: the worker's fields, with the
// worker and shards added to the detail and as the context.
func (e *TaskError) wireError() *wire.Error {
	where := "while executing command on worker " + e.Node.String()
	if len(e.Shards) > 0 {
		ids := make([]string, len(e.Shards))
		for i, id := range e.Shards {
			ids[i] = strconv.FormatInt(id, 10)
		}
		where += ", shard " + strings.Join(ids, ", ")
	}
	var pe *pgconn.PgError
	if errors.As(e.Err, &pe) {
		w := &wire.Error{Code: pe.Code, Message: pe.Message, Detail: pe.Detail, Hint: pe.Hint,
			SchemaName: pe.SchemaName, TableName: pe.TableName, ColumnName: pe.ColumnName,
			DataTypeName: pe.DataTypeName, ConstraintName: pe.ConstraintName, Where: pe.Where}
		if w.Detail != "" {
			w.Detail += "\n"
		}
		w.Detail += where
		if w.Where != "" {
			w.Where += "\n"
		}
		w.Where += where
		return w
	}
	return &wire.Error{Code: errorCode(e.Err), Message: e.Err.Error(), Detail: where}
}

// errorCode returns the SQLSTATE of any error.
func errorCode(err error) string {
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return s.SQLState()
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return pgerrcode.QueryCanceled
	}
	// Anything else from a worker connection is a network failure.
	return pgerrcode.ConnectionFailure
}

// clientError turns any error of the distributed path into what the wire
// server sends: worker errors keep their fields; errors that carry a
// SQLSTATE keep it, with their detail and hint.
func clientError(err error) error {
	if err == nil {
		return nil
	}
	var we *wire.Error
	if errors.As(err, &we) {
		return we
	}
	var te *TaskError
	if errors.As(err, &te) {
		w := te.wireError()
		var de *dtx.DeadlockError
		if errors.As(err, &de) {
			w.Code, w.Message = de.SQLState(), de.Error()
		}
		return w
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return &wire.Error{Code: pe.Code, Message: pe.Message, Detail: pe.Detail, Hint: pe.Hint, Where: pe.Where}
	}
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		w := &wire.Error{Code: s.SQLState(), Message: err.Error()}
		if d, ok := err.(interface{ Detail() string }); ok {
			w.Detail = d.Detail()
		}
		if h, ok := err.(interface{ Hint() string }); ok {
			w.Hint = h.Hint()
		}
		if w.Code == pgerrcode.QueryCanceled {
			w.Message = "canceling statement due to user request"
		}
		return w
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &wire.Error{Code: pgerrcode.QueryCanceled, Message: "canceling statement due to user request"}
	}
	return err
}

// remoteNotice is the NOTICE citus.log_remote_commands sends for each
// command sent to a worker.
func remoteNotice(node catalog.Node, sql string) *pgproto3.NoticeResponse {
	return &pgproto3.NoticeResponse{Severity: "NOTICE", SeverityUnlocalized: "NOTICE", Code: "00000",
		Message: "issuing " + sql, Detail: fmt.Sprintf("on server %s", node.Addr())}
}

// printSettings are the client's settings, reported by the metadata
// database, that change how the workers print values (timestamptz, dates,
// intervals); worker connections are given the session's values before
// they run its statements.
var printSettings = []string{"TimeZone", "DateStyle", "IntervalStyle"}

// alignSettings sets the session's printSettings on a worker connection
// where they differ (the connection reports its values, so this costs a
// round trip only when a connection changes hands between sessions with
// different settings).
func (s *Session) alignSettings(ctx context.Context, conn *pgconn.PgConn) error {
	var b strings.Builder
	for _, name := range printSettings {
		want := s.meta.param(name)
		if want == "" || conn.ParameterStatus(name) == want {
			continue
		}
		b.WriteString("SET " + name + " TO '" + strings.ReplaceAll(want, "'", "''") + "';")
	}
	if b.Len() == 0 {
		return nil
	}
	_, err := conn.Exec(ctx, b.String()).ReadAll()
	return err
}
