package executor

import (
	"context"
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/executor/copytext"
	"github.com/pgfed/pgfed/planner"
)

// copyOut turns a statement's rows into COPY TO STDOUT data, one
// CopyData message per row as PostgreSQL sends them (psycopg 3 loads each
// message as one row); the wire server buffers the writes. A text header
// has a message of its own; the binary header goes with the first row and
// the binary trailer has a message of its own, as in PostgreSQL.
type copyOut struct {
	opts    copyOptions
	started bool
	buf     []byte
}

// copyTableOut runs COPY <distributed table> TO STDOUT: the rows of every
// shard, streamed as they come.
func (s *Session) copyTableOut(ctx context.Context, st *catalogState, pc *parsedCopy, out *output) error {
	cols := make([]string, len(pc.cols))
	for i, c := range pc.cols {
		cols[i] = catalog.QuoteIdentifier(c)
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + pc.table.Relation.String()
	pl, err := s.plan(st, q)
	if err != nil {
		return err
	}
	return s.copyPlanOut(ctx, st, pl, pc.opts, out)
}

// copyQueryOut runs COPY (query) TO STDOUT when the query reads
// distributed tables.
func (s *Session) copyQueryOut(ctx context.Context, st *catalogState, cs *pg.CopyStmt, out *output) (bool, error) {
	if cs.IsFrom || cs.Filename != "" || cs.IsProgram {
		return false, nil
	}
	_, pl, err := s.planInner(st, cs.Query)
	if err != nil {
		return true, err
	}
	if pl == nil {
		return false, nil
	}
	pc, err := s.parseCopy(st, cs, catalog.Table{})
	if err != nil {
		return true, err
	}
	return true, s.copyPlanOut(ctx, st, pl, pc.opts, out)
}

// copyPlanOut runs a plan and sends its rows as COPY data.
func (s *Session) copyPlanOut(ctx context.Context, st *catalogState, pl *planner.Plan, opts copyOptions, out *output) error {
	if s.block && (s.meta.txStatus == 'E' || s.meta.aborted) {
		return errInFailedTransaction
	}
	co := &output{r: out.r, copy: &copyOut{opts: opts}}
	if opts.format == copyBinary {
		co.formats = []int16{1}
	}
	bound, err := pl.Bind(nil)
	if err != nil {
		return err
	}
	if !s.block && s.txn == nil {
		s.implicit = true
	}
	s.ensureTxn()
	sctx, stop := s.statementDeadline(ctx)
	defer stop()
	if _, err := s.execPlan(sctx, st, bound, nil, co); err != nil {
		if s.implicit {
			s.endTxn(ctx, false)
		}
		return timeoutError(sctx, err)
	}
	if s.implicit {
		if err := s.endTxn(ctx, true); err != nil {
			return err
		}
	}
	if err := co.copy.finish(co); err != nil {
		return err
	}
	return out.complete("COPY " + strconv.FormatInt(co.rows, 10))
}

// start sends CopyOutResponse (and the header) once the columns are known.
func (c *copyOut) start(o *output, names []string) error {
	if c.started {
		return nil
	}
	c.started = true
	format := byte(0)
	codes := make([]uint16, len(names))
	if c.opts.format == copyBinary {
		format = 1
		for i := range codes {
			codes[i] = 1
		}
	}
	if err := o.r.Send(&pgproto3.CopyOutResponse{OverallFormat: format, ColumnFormatCodes: codes}); err != nil {
		return err
	}
	switch {
	case c.opts.format == copyBinary:
		c.buf = append(c.buf, "PGCOPY\n\xff\r\n\x00"...)
		c.buf = binary.BigEndian.AppendUint32(c.buf, 0)
		c.buf = binary.BigEndian.AppendUint32(c.buf, 0)
	case c.opts.header && c.opts.format == copyCSV:
		row := make([][]byte, len(names))
		for i, n := range names {
			row[i] = []byte(n)
		}
		c.buf = appendCSV(c.buf, row, c.opts)
	case c.opts.header:
		row := make([][]byte, len(names))
		for i, n := range names {
			row[i] = []byte(n)
		}
		c.buf = appendText(c.buf, row, c.opts)
	}
	if c.opts.format != copyBinary {
		return c.flush(o)
	}
	return nil
}

// startWorker starts from a worker's fields.
func (c *copyOut) startWorker(o *output, fields []pgconn.FieldDescription, n int) error {
	if n <= 0 || n > len(fields) {
		n = len(fields)
	}
	names := make([]string, n)
	for i := range n {
		names[i] = fields[i].Name
	}
	return c.start(o, names)
}

// startMeta starts from the metadata database's fields.
func (c *copyOut) startMeta(o *output, fields []pgproto3.FieldDescription) error {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = string(f.Name)
	}
	return c.start(o, names)
}

// row encodes and sends one row.
func (c *copyOut) row(o *output, vals [][]byte) error {
	switch c.opts.format {
	case copyBinary:
		c.buf = binary.BigEndian.AppendUint16(c.buf, uint16(len(vals)))
		for _, v := range vals {
			if v == nil {
				c.buf = binary.BigEndian.AppendUint32(c.buf, 0xffffffff)
				continue
			}
			c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(len(v)))
			c.buf = append(c.buf, v...)
		}
	case copyCSV:
		c.buf = appendCSV(c.buf, vals, c.opts)
	default:
		c.buf = appendText(c.buf, vals, c.opts)
	}
	return c.flush(o)
}

// flush sends the buffered data.
func (c *copyOut) flush(o *output) error {
	if len(c.buf) == 0 {
		return nil
	}
	err := o.r.Send(&pgproto3.CopyData{Data: c.buf})
	c.buf = c.buf[:0]
	return err
}

// finish sends the rest of the data (the binary trailer included) and
// CopyDone.
func (c *copyOut) finish(o *output) error {
	if !c.started {
		if err := c.start(o, nil); err != nil {
			return err
		}
	}
	if err := c.flush(o); err != nil {
		return err
	}
	if c.opts.format == copyBinary {
		c.buf = binary.BigEndian.AppendUint16(c.buf, 0xffff)
		if err := c.flush(o); err != nil {
			return err
		}
	}
	return o.r.Send(&pgproto3.CopyDone{})
}

// appendText appends a row in COPY's text format with the statement's
// delimiter and NULL string.
func appendText(dst []byte, row [][]byte, o copyOptions) []byte {
	return copytext.AppendRow(dst, row, o.delimiter, o.null)
}
