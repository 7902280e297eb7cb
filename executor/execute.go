package executor

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/wire"
)

// distStatement is the handle of a prepared statement that names
// distributed tables: planned once at Parse with its parameters symbolic,
// bound (shards pruned) at each Execute.
type distStatement struct {
	meta  *metaStatement
	sql   string
	cmd   command
	plan  *planner.Plan // nil for COPY and EXPLAIN
	desc  wire.StatementDescription
	state *catalogState // the catalog the plan was made with
}

// distPortal is the Portal.State of a distributed statement run with a row
// limit whose rows cannot stream (see portalStream): the whole result is
// computed at the first Execute and handed out MaxRows at a time.
type distPortal struct {
	rows   [][][]byte
	types  []colType                 // the result's column types
	fields []pgconn.FieldDescription // the workers' description, when they gave it
	tag    string
	next   int
}

// output is where a statement's result goes: the client, with a
// RowDescription first under the simple query protocol, or a buffer for a
// portal executed with a row limit.
type output struct {
	r        wire.Results
	describe bool // send RowDescription (simple query protocol)
	formats  []int16
	buffer   *distPortal // collect rows instead of sending them
	// portal is the portal executed with a row limit, when its rows may
	// stream instead of being collected (portalstream.go).
	portal *wire.Portal
	limit  *limiter // bounds the rows collected, when set
	copy   *copyOut // send rows as COPY TO STDOUT data

	described bool
	noColumns bool // a worker described a result without columns
	rows      int64
	dr        pgproto3.DataRow
}

// fieldsFromWorker sends the RowDescription of a worker's result (its
// first n fields; n <= 0 means all), once.
func (o *output) fieldsFromWorker(fields []pgconn.FieldDescription, n int) error {
	if o.copy != nil {
		return o.copy.startWorker(o, fields, n)
	}
	if o.buffer != nil && o.buffer.types == nil && fields != nil {
		if n <= 0 || n > len(fields) {
			n = len(fields)
		}
		o.buffer.types = make([]colType, n)
		o.buffer.fields = fields[:n]
		for i := range n {
			o.buffer.types[i] = colType{oid: fields[i].DataTypeOID, mod: fields[i].TypeModifier}
		}
	}
	// pgconn does not tell NoData from a RowDescription without columns:
	// no columns is a statement without a result set (INSERT, UPDATE),
	// unless rows or a SELECT tag come (SELECT FROM t), see noColumns.
	if !o.describe || o.described {
		return nil
	}
	if len(fields) == 0 {
		o.noColumns = true
		return nil
	}
	o.described = true
	if n <= 0 || n > len(fields) {
		n = len(fields)
	}
	rd := &pgproto3.RowDescription{Fields: make([]pgproto3.FieldDescription, n)}
	for i := range n {
		f := fields[i]
		rd.Fields[i] = pgproto3.FieldDescription{Name: []byte(f.Name), TableOID: f.TableOID,
			TableAttributeNumber: f.TableAttributeNumber, DataTypeOID: f.DataTypeOID,
			DataTypeSize: f.DataTypeSize, TypeModifier: f.TypeModifier, Format: f.Format}
	}
	return o.r.Send(rd)
}

// fieldsFromMeta sends a RowDescription of the metadata database, once.
func (o *output) fieldsFromMeta(fields []pgproto3.FieldDescription) error {
	if o.copy != nil && fields != nil {
		return o.copy.startMeta(o, fields)
	}
	if o.buffer != nil && o.buffer.types == nil && fields != nil {
		o.buffer.types = make([]colType, len(fields))
		for i, f := range fields {
			o.buffer.types[i] = colType{oid: f.DataTypeOID, mod: f.TypeModifier}
		}
	}
	if !o.describe || o.described || fields == nil {
		return nil
	}
	o.described = true
	return o.r.Send(&pgproto3.RowDescription{Fields: fields})
}

// row sends (or buffers) one row.
func (o *output) row(vals [][]byte) error {
	o.rows++
	if o.copy != nil {
		return o.copy.row(o, vals)
	}
	if o.limit != nil {
		if err := o.limit.add(vals); err != nil {
			return err
		}
	}
	if o.buffer != nil {
		o.buffer.rows = append(o.buffer.rows, copyRow(vals))
		return nil
	}
	if err := o.describeNoColumns(); err != nil {
		return err
	}
	o.dr.Values = vals
	return o.r.Send(&o.dr)
}

// complete sends the CommandComplete (or records it with the buffer).
func (o *output) complete(tag string) error {
	if o.buffer != nil {
		o.buffer.tag = tag
		return nil
	}
	if strings.HasPrefix(tag, "SELECT ") {
		if err := o.describeNoColumns(); err != nil {
			return err
		}
	}
	return o.r.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
}

// describeNoColumns sends the RowDescription without columns of a query
// that returns rows of no columns, once.
func (o *output) describeNoColumns() error {
	if !o.noColumns || o.described {
		return nil
	}
	o.described = true
	return o.r.Send(&pgproto3.RowDescription{})
}

// copyRow copies a row's values into one allocation.
func copyRow(vals [][]byte) [][]byte {
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(vals))
	for i, v := range vals {
		if v == nil {
			continue
		}
		start := len(buf)
		buf = append(buf, v...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// runDistributed runs a plan in the session's distributed transaction:
// the block's, or an implicit one that commits at the end of the
// statement (simple query protocol, or an Execute followed by Sync) or at
// the batch's Sync. The CommandComplete is sent after the commit.
//
// The plan runs under the session's statement_timeout; the commit and the
// rollback of an implicit transaction do not.
func (s *Session) runDistributed(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, out *output, endsImplicit bool) error {
	if s.block && (s.meta.txStatus == 'E' || s.meta.aborted) {
		return errInFailedTransaction
	}
	if out.portal != nil && s.streamable(pl, out) {
		s.startStream(ctx, st, pl, b, out.portal)
		return nil
	}
	sctx, stop := s.statementDeadline(ctx)
	defer stop()
	if s.directRouter(pl, endsImplicit) {
		tag, err := s.execRouterDirect(sctx, st, pl, b, out)
		if err != nil {
			return timeoutError(sctx, err)
		}
		return out.complete(tag)
	}
	if !s.block && s.txn == nil {
		s.implicit = true
	}
	s.ensureTxn()
	tag, err := s.execPlan(sctx, st, pl, b, out)
	if err != nil {
		if s.implicit {
			s.endTxn(ctx, false)
		}
		return timeoutError(sctx, err)
	}
	if s.implicit && endsImplicit {
		if err := s.endTxn(ctx, true); err != nil {
			return err
		}
	}
	return out.complete(tag)
}

// executeDistributed runs a portal of a distributed statement: the plan is
// bound to the parameters (pruning shards), then run. With a row limit the
// result is computed once and handed out in pieces.
func (s *Session) executeDistributed(ctx context.Context, h *distStatement, p *wire.Portal, opts wire.ExecuteOptions, r wire.Results) (bool, error) {
	if dp, ok := p.State.(*distPortal); ok {
		return s.servePortal(dp, opts, r)
	}
	if ps, ok := p.State.(*portalStream); ok {
		suspended, err := s.serveStream(ctx, ps, opts, r)
		return suspended, clientError(s.distributedResult(ctx, err))
	}
	b := &binding{params: p.Params, paramFormats: p.ParamFormats, paramOIDs: h.desc.ParamOIDs, resultFormats: p.ResultFormats}
	out := &output{r: r, formats: p.ResultFormats}
	if opts.MaxRows > 0 {
		out.buffer = &distPortal{}
		out.portal = p
	}
	endsImplicit := opts.SyncFollows
	err := s.runPortal(ctx, h, b, out, endsImplicit)
	if err != nil {
		return false, clientError(s.distributedResult(ctx, err))
	}
	if ps, ok := p.State.(*portalStream); ok {
		suspended, err := s.serveStream(ctx, ps, opts, r)
		return suspended, clientError(s.distributedResult(ctx, err))
	}
	if out.buffer != nil {
		p.State = out.buffer
		return s.servePortal(out.buffer, opts, r)
	}
	return false, nil
}

// runPortal plans (again, if the catalog changed since Parse), binds and
// runs a distributed statement.
func (s *Session) runPortal(ctx context.Context, h *distStatement, b *binding, out *output, endsImplicit bool) error {
	st, err := s.h.current(ctx)
	if err != nil {
		return err
	}
	switch h.cmd {
	case cmdCopy:
		if err := s.checkCopySequences(ctx, st, h.sql); err != nil {
			return err
		}
		_, err := s.copyCommand(ctx, st, h.sql, out)
		return err
	case cmdExplain:
		_, err := s.explainCommand(ctx, st, h.sql, b, out)
		return err
	case cmdInsertSelect:
		return s.insertSelect(ctx, st, h.sql, b, out)
	case cmdWrite:
		pl, sql, route, b, err := s.planWriteBound(ctx, st, h.sql, b)
		switch {
		case err != nil && refusedInsertSelect(sql, err), route == routeInsertSelect:
			return s.insertSelect(ctx, st, sql, b, out)
		case err != nil:
			return err
		case route == routeMove:
			return s.moveRows(ctx, st, sql, b, out)
		}
		bound, err := pl.Bind(b.plannerParams())
		if err != nil {
			return err
		}
		return s.runDistributed(ctx, st, bound, b, out, endsImplicit)
	}
	pl := h.plan
	if st != h.state {
		if pl, err = s.plan(st, h.sql); err != nil {
			return err
		}
		if pl.Kind == planner.KindLocal {
			return internalError("the statement no longer names a distributed table; prepare it again")
		}
	}
	bound, err := pl.Bind(b.plannerParams())
	if err != nil {
		return err
	}
	return s.runDistributed(ctx, st, bound, b, out, endsImplicit)
}

// servePortal sends the next MaxRows rows of a computed result.
func (s *Session) servePortal(dp *distPortal, opts wire.ExecuteOptions, r wire.Results) (bool, error) {
	end := len(dp.rows)
	if opts.MaxRows > 0 && dp.next+int(opts.MaxRows) < end {
		end = dp.next + int(opts.MaxRows)
	}
	for _, row := range dp.rows[dp.next:end] {
		if err := r.Send(&pgproto3.DataRow{Values: row}); err != nil {
			return false, err
		}
	}
	dp.next = end
	if end < len(dp.rows) {
		return true, nil
	}
	return false, r.Send(&pgproto3.CommandComplete{CommandTag: []byte(dp.tag)})
}

// execPlan runs a bound plan and returns its command tag.
func (s *Session) execPlan(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, out *output) (string, error) {
	switch {
	case pl.Kind == planner.KindExplain:
		return "", internalError("EXPLAIN is run by the session, not as a plan")
	case len(pl.Shipped) > 0:
		return s.execShipped(ctx, st, pl, b, out)
	case pl.Kind == planner.KindRouter && len(pl.Subplans) == 0:
		return s.execRouter(ctx, st, pl, b, out)
	case pl.Kind == planner.KindCoordinator || pl.Merge.Kind == planner.MergeCombine || len(pl.Subplans) > 0:
		return s.execCombine(ctx, st, pl, b, out)
	case pl.Merge.Kind == planner.MergeSort:
		return s.execMergeSort(ctx, st, pl, b, out)
	default:
		return s.execConcat(ctx, st, pl, b, out)
	}
}

// boundValue returns a LIMIT or OFFSET value, reading a parameter when the
// bound is one; -1 when unset or NULL.
func boundValue(bd *planner.Bound, b *binding) int64 {
	if bd == nil {
		return -1
	}
	if bd.Param == 0 {
		return bd.Value
	}
	if b == nil || bd.Param > len(b.params) || b.params[bd.Param-1] == nil {
		return -1
	}
	v := b.params[bd.Param-1]
	if b.paramFormat(bd.Param-1) == 1 {
		var n int64
		for _, c := range v {
			n = n<<8 | int64(c)
		}
		switch len(v) {
		case 4:
			n = int64(int32(n))
		case 2:
			n = int64(int16(n))
		}
		return n
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return -1
	}
	return n
}
