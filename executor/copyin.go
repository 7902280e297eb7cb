package executor

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/wire"
)

// shardFlushSize is how much COPY data is buffered for one shard before it
// is sent to the shard's worker. Every shard fills its buffer at about the
// same pace, so the workers start loading only once about shardFlushSize
// times the number of shards has been read: small enough for them to
// start early (and work while the client's data streams in), large enough
// for a COPY statement per flush to cost little.
const shardFlushSize = 256 << 10

// parsedCopy is a COPY statement on a distributed or reference table.
type parsedCopy struct {
	stmt  *pg.CopyStmt
	table catalog.Table
	opts  copyOptions
	cols  []string // the columns the data has, in order
}

// copyCommand runs COPY on a distributed or reference table: FROM STDIN
// routes the rows to the shards, TO STDOUT (and COPY (query) TO STDOUT
// over distributed tables) reads them from the shards. handled is false
// when the statement names no such table; it then runs on the metadata
// database unchanged.
func (s *Session) copyCommand(ctx context.Context, st *catalogState, sql string, out *output) (bool, error) {
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return false, nil
	}
	cs := tree.Stmts[0].Stmt.GetCopyStmt()
	if cs == nil {
		return false, nil
	}
	if cs.Relation == nil {
		return s.copyQueryOut(ctx, st, cs, out)
	}
	tb, ok := s.lookupTable(st, cs.Relation)
	if !ok {
		return false, nil
	}
	pc, err := s.parseCopy(st, cs, tb)
	if err != nil {
		return true, err
	}
	if cs.Filename != "" || cs.IsProgram {
		return true, &wire.Error{Code: pgerrcode.FeatureNotSupported,
			Message: fmt.Sprintf("COPY of distributed table %s with a server file or program is not supported", tb.Relation),
			Hint:    "Use COPY ... FROM STDIN or TO STDOUT (psql's \\copy)."}
	}
	if !cs.IsFrom {
		return true, s.copyTableOut(ctx, st, pc, out)
	}
	if s.block && (s.meta.txStatus == 'E' || s.meta.aborted) {
		return true, errInFailedTransaction
	}
	return true, s.copyIn(ctx, st, pc, out)
}

// namesDistributed reports whether a COPY or EXPLAIN statement names a
// distributed or reference table (for the extended protocol's Parse).
func (s *Session) namesDistributed(st *catalogState, sql string) bool {
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return false
	}
	n := tree.Stmts[0].Stmt
	if cs := n.GetCopyStmt(); cs != nil {
		if cs.Relation != nil {
			_, ok := s.lookupTable(st, cs.Relation)
			return ok
		}
		q, err := deparseNode(cs.Query)
		return err == nil && s.planIsDistributed(st, q)
	}
	if ex := n.GetExplainStmt(); ex != nil {
		q, err := deparseNode(ex.Query)
		return err == nil && s.planIsDistributed(st, q)
	}
	return false
}

// planIsDistributed reports whether a query plans to anything but local.
func (s *Session) planIsDistributed(st *catalogState, sql string) bool {
	pl, err := s.plan(st, sql)
	return err != nil || pl.Kind != planner.KindLocal
}

// lookupTable finds the distributed table a RangeVar names, through the
// search path when it is unqualified.
func (s *Session) lookupTable(st *catalogState, rv *pg.RangeVar) (catalog.Table, bool) {
	if rv.Schemaname != "" {
		return st.snap.Table(rv.Schemaname, rv.Relname)
	}
	for _, sch := range s.searchPathOf(st) {
		if t, ok := st.snap.Table(sch, rv.Relname); ok {
			return t, true
		}
	}
	return catalog.Table{}, false
}

// parseCopy reads the options and column list of a COPY.
func (s *Session) parseCopy(st *catalogState, cs *pg.CopyStmt, tb catalog.Table) (*parsedCopy, error) {
	pc := &parsedCopy{stmt: cs, table: tb}
	var delimSet, nullSet, quoteSet, escapeSet bool
	for _, o := range cs.Options {
		d := o.GetDefElem()
		if d == nil {
			continue
		}
		v := defText(d.Arg)
		switch d.Defname {
		case "format":
			switch strings.ToLower(v) {
			case "csv":
				pc.opts.format = copyCSV
			case "binary":
				pc.opts.format = copyBinary
			case "text":
			default:
				return nil, &wire.Error{Code: pgerrcode.InvalidParameterValue, Message: fmt.Sprintf("COPY format %q not recognized", v)}
			}
		case "delimiter":
			if len(v) != 1 {
				return nil, &wire.Error{Code: pgerrcode.FeatureNotSupported, Message: "COPY delimiter must be a single one-byte character"}
			}
			pc.opts.delimiter, delimSet = v[0], true
		case "null":
			pc.opts.null, nullSet = v, true
		case "quote":
			if len(v) == 1 {
				pc.opts.quote, quoteSet = v[0], true
			}
		case "escape":
			if len(v) == 1 {
				pc.opts.escape, escapeSet = v[0], true
			}
		case "header":
			pc.opts.header = d.Arg == nil || parseBool(v) || strings.EqualFold(v, "match")
		}
	}
	pc.opts.defaults(delimSet, nullSet, quoteSet, escapeSet)
	for _, a := range cs.Attlist {
		if sv := a.GetString_(); sv != nil {
			pc.cols = append(pc.cols, sv.Sval)
		}
	}
	if len(pc.cols) == 0 && tb.Relation.Name != "" {
		def, ok := st.schema.Table(tb.Relation)
		if !ok {
			return nil, internalError("no column list for table %s", tb.Relation)
		}
		for _, c := range def.Columns {
			pc.cols = append(pc.cols, c.Name)
		}
	}
	return pc, nil
}

// defText returns the text of a COPY option's argument.
func defText(n *pg.Node) string {
	if n == nil {
		return ""
	}
	if sv := n.GetString_(); sv != nil {
		return sv.Sval
	}
	if iv := n.GetInteger(); iv != nil {
		return strconv.Itoa(int(iv.Ival))
	}
	if b := n.GetBoolean(); b != nil {
		return strconv.FormatBool(b.Boolval)
	}
	return constText(n)
}

// shardCopy is the COPY data buffered for one shard.
type shardCopy struct {
	shard catalog.Shard
	sql   string // COPY <shard> (cols) FROM STDIN WITH (...)
	data  bytes.Buffer
	lines []int // the client's line of each buffered record
}

// copyRouter finds the shard of a distribution column hash among a
// table's shards (in range order) without the catalog's lookups by name:
// by arithmetic when they split the hash space evenly (as
// catalog.ShardRanges does), else by a binary search of their ranges.
type copyRouter struct {
	shards  []catalog.Shard
	uniform bool
}

// newCopyRouter returns the router of a hash-distributed table; ok is false
// for other tables (their rows go through the catalog).
func newCopyRouter(snap *catalog.Snapshot, t catalog.Table) (copyRouter, bool) {
	if t.Method == catalog.MethodOrganization || t.Method == catalog.MethodReference {
		return copyRouter{}, false
	}
	shards := snap.ShardsOf(t.Relation)
	if len(shards) == 0 {
		return copyRouter{}, false
	}
	for i := 1; i < len(shards); i++ {
		if shards[i].Range.Min <= shards[i-1].Range.Max {
			return copyRouter{}, false // not in range order: let the catalog find them
		}
	}
	r := copyRouter{shards: shards}
	if ranges, err := catalog.ShardRanges(len(shards)); err == nil {
		r.uniform = true
		for i, rg := range ranges {
			if shards[i].Range != rg {
				r.uniform = false
				break
			}
		}
	}
	return r, true
}

// find returns the index of the shard holding hash h.
func (r copyRouter) find(h int32) (int, bool) {
	var i int
	if r.uniform {
		i = catalog.ShardIndex(h, len(r.shards))
	} else {
		i = sort.Search(len(r.shards), func(i int) bool { return r.shards[i].Range.Max >= h })
	}
	if i < 0 || i == len(r.shards) || !r.shards[i].Range.Contains(h) {
		return 0, false
	}
	return i, true
}

// copyIn runs COPY FROM STDIN into a distributed or reference table: the
// client's rows are split on the coordinator, each routed by the hash of
// its distribution column value to its shard, and sent with a COPY per
// shard in the session's distributed transaction (every placement of a
// reference table's shard). An autocommit COPY commits with 2PC when it
// wrote to several workers, so it is all or nothing; errors name the
// client's line.
func (s *Session) copyIn(ctx context.Context, st *catalogState, pc *parsedCopy, out *output) error {
	k := -1
	if pc.table.Method != catalog.MethodReference {
		for i, c := range pc.cols {
			if c == pc.table.Column {
				k = i
			}
		}
		if k < 0 {
			return &wire.Error{Code: pgerrcode.NotNullViolation,
				Message: fmt.Sprintf("the distribution column %s of table %s must be in COPY's column list", pc.table.Column, pc.table.Relation)}
		}
	}
	if !s.block && s.txn == nil {
		s.implicit = true
	}
	s.ensureTxn()
	formats := make([]uint16, len(pc.cols))
	overall := byte(0)
	if pc.opts.format == copyBinary {
		overall = 1
		for i := range formats {
			formats[i] = 1
		}
	}
	if err := out.r.Send(&pgproto3.CopyInResponse{OverallFormat: overall, ColumnFormatCodes: formats}); err != nil {
		return err
	}
	err := s.copyInRows(ctx, st, pc, k, out)
	if err != nil {
		if s.implicit {
			s.endTxn(ctx, false)
		}
		return err
	}
	return nil
}

// copyInRows reads the client's data, routes and sends it, and completes
// the statement.
func (s *Session) copyInRows(ctx context.Context, st *catalogState, pc *parsedCopy, k int, out *output) error {
	sender := s.newCopySender(ctx, st, pc)
	defer sender.wait(ctx) // the goroutines end with the statement
	sp := &copySplitter{opts: pc.opts}
	bp := &binarySplitter{}
	bin := pc.opts.format == copyBinary
	hk, err := orgHashIndex(pc.table, pc.cols)
	if err != nil {
		return err
	}
	router, routed := newCopyRouter(st.snap, pc.table)
	byIndex := make([]*shardCopy, len(router.shards)) // by router index
	byID := map[int64]*shardCopy{}                    // shards found otherwise
	var order []*shardCopy
	header := pc.opts.header
	where := func(line int) string { return "COPY " + pc.table.Relation.Name + ", line " + strconv.Itoa(line) }
	// shardOf finds the shard of a record.
	shardOf := func(rec record) (*shardCopy, error) {
		if k < 0 {
			all := st.snap.ShardsOf(pc.table.Relation)
			if len(all) == 0 {
				return nil, internalError("reference table %s has no shard", pc.table.Relation)
			}
			return s.shardCopyOf(pc, byID, &order, all[0])
		}
		var v string
		var raw []byte
		var null, ok bool
		if bin {
			raw, null, ok = bp.field(rec.raw, k)
		} else {
			v, null, ok = sp.field(rec.raw, k)
		}
		switch {
		case !ok:
			return nil, &wire.Error{Code: pgerrcode.BadCopyFileFormat, Message: "missing data for column \"" + pc.table.Column + "\"", Where: where(rec.line)}
		case null:
			return nil, &wire.Error{Code: pgerrcode.NotNullViolation,
				Message: fmt.Sprintf("the distribution column %s of table %s cannot be NULL", pc.table.Column, pc.table.Relation), Where: where(rec.line)}
		}
		if pc.table.Method == catalog.MethodOrganization {
			return s.orgShardCopy(st, pc, byID, &order, rec, v, raw, hk, sp, bp, where)
		}
		var h int32
		var err error
		if bin {
			h, err = catalog.HashBinary(pc.table.ColumnType, raw)
		} else {
			h, err = catalog.HashText(pc.table.ColumnType, v)
		}
		if err != nil {
			return nil, &wire.Error{Code: codeOr(err, pgerrcode.InvalidTextRepresentation), Message: err.Error(),
				Where: fmt.Sprintf("%s, column %s: %q", where(rec.line), pc.table.Column, v)}
		}
		if routed {
			i, found := router.find(h)
			if !found {
				return nil, internalError("no shard of %s for hash %d", pc.table.Relation, h)
			}
			if sc := byIndex[i]; sc != nil {
				return sc, nil
			}
			sc, err := s.shardCopyOf(pc, byID, &order, router.shards[i])
			byIndex[i] = sc
			return sc, err
		}
		sh, found := st.snap.ShardForHash(pc.table.Relation, h)
		if !found {
			return nil, internalError("no shard of %s for hash %d", pc.table.Relation, h)
		}
		return s.shardCopyOf(pc, byID, &order, sh)
	}
	route := func(recs []record) error {
		for _, rec := range recs {
			if header {
				header = false
				continue
			}
			sc, err := shardOf(rec)
			if err != nil {
				return err
			}
			if sc.data.Cap() == 0 {
				sender.buffers(sc)
			}
			sc.data.Write(rec.raw)
			if !bin && rec.raw[len(rec.raw)-1] != '\n' {
				sc.data.WriteByte('\n')
			}
			sc.lines = append(sc.lines, rec.line)
			if sc.data.Len() >= shardFlushSize {
				if err := sender.send(ctx, sc); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for {
		msg, err := out.r.ReceiveCopy()
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			var recs []record
			if bin {
				if recs, err = bp.feed(m.Data); err != nil {
					return err
				}
			} else {
				recs = sp.feed(m.Data)
			}
			if err := route(recs); err != nil {
				return err
			}
			continue
		case *pgproto3.CopyFail:
			return &wire.Error{Code: pgerrcode.QueryCanceled, Message: "COPY from stdin failed: " + m.Message}
		case *pgproto3.CopyDone:
		}
		break
	}
	if bin {
		if err := bp.finish(); err != nil {
			return err
		}
	} else if err := route(sp.finish()); err != nil {
		return err
	}
	for _, sc := range order {
		if err := sender.send(ctx, sc); err != nil {
			return err
		}
	}
	if err := sender.wait(ctx); err != nil {
		return err
	}
	if s.implicit {
		if err := s.endTxn(ctx, true); err != nil {
			return err
		}
	}
	// The workers' counts: a WHERE clause may have filtered rows out.
	return out.complete("COPY " + strconv.FormatInt(sender.rows.Load(), 10))
}

// shardCopyOf returns the buffer of shard sh, making it on first use.
func (s *Session) shardCopyOf(pc *parsedCopy, byID map[int64]*shardCopy, order *[]*shardCopy, sh catalog.Shard) (*shardCopy, error) {
	if sc := byID[sh.ID]; sc != nil {
		return sc, nil
	}
	sql, err := shardCopySQL(pc, sh)
	if err != nil {
		return nil, err
	}
	sc := &shardCopy{shard: sh, sql: sql}
	byID[sh.ID] = sc
	*order = append(*order, sc)
	return sc, nil
}

// shardCopySQL is the COPY statement sent for one shard: the client's
// statement with the shard's name and without HEADER (stripped here).
func shardCopySQL(pc *parsedCopy, sh catalog.Shard) (string, error) {
	cs := &pg.CopyStmt{IsFrom: true, Relation: &pg.RangeVar{Schemaname: sh.Table.Schema, Relname: sh.Name(), Inh: true, Relpersistence: "p"}}
	for _, c := range pc.cols {
		cs.Attlist = append(cs.Attlist, pg.MakeStrNode(c))
	}
	for _, o := range pc.stmt.Options {
		if d := o.GetDefElem(); d != nil && d.Defname == "header" {
			continue
		}
		cs.Options = append(cs.Options, o)
	}
	cs.WhereClause = pc.stmt.WhereClause // the workers filter
	return deparseNode(&pg.Node{Node: &pg.Node_CopyStmt{CopyStmt: cs}})
}

// lineRe finds the line number in a worker's COPY error context.
var lineRe = regexp.MustCompile(`^COPY [^,]+, line (\d+)`)

// copyError is a worker's COPY error with the client's line number and
// table name in its context, as PostgreSQL reports it.
func (s *Session) copyError(st *catalogState, pc *parsedCopy, job copyJob, node int32, err error) error {
	te := s.taskError(st, node, &planner.Task{ShardIDs: []int64{job.shard}}, err).(*TaskError)
	if pe, ok := te.Err.(*pgconn.PgError); ok {
		te.Err = rewriteCopyWhere(pe, pc.table.Relation.Name, job.lines)
	}
	return te
}

// codeOr returns err's SQLSTATE, or def.
func codeOr(err error, def string) string {
	if e, ok := err.(interface{ SQLState() string }); ok {
		return e.SQLState()
	}
	return def
}

// deparseNode deparses one statement node.
func deparseNode(n *pg.Node) (string, error) {
	return pg.Deparse(&pg.ParseResult{Stmts: []*pg.RawStmt{{Stmt: n}}})
}
