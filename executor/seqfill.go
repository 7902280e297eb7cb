package executor

import (
	"context"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
)

// The coordinator fills the rows of an INSERT ... SELECT with the values
// the shards cannot compute (see sequence.go).

// seqFill is the computed-default columns an INSERT ... SELECT leaves
// out, whose values the coordinator adds to each of its rows, and the
// nextval calls of its SELECT list that it computes in their place
// when the SELECT runs on the shards (replace).
type seqFill struct {
	cols    []string
	exprs   []string
	replace []seqSlot
	// consts are the clock defaults, evaluated once (constVals) for
	// every row: the metadata connection's transaction gives one now().
	consts    []string
	constVals [][]byte
}

// seqSlot is an output column of a SELECT whose value the coordinator
// computes.
type seqSlot struct {
	pos  int
	expr string
}

// takeNextvals replaces the items of a SELECT list that call nextval
// (and read no column or parameter) by NULL, recording them in f so that
// rows computes them for each row; sel is changed in place. A SELECT
// list with * or a set operation is left alone.
func (f *seqFill) takeNextvals(sel *pg.SelectStmt) error {
	if sel == nil || sel.Op != pg.SetOperation_SETOP_NONE || len(sel.ValuesLists) > 0 {
		return nil
	}
	for _, t := range sel.TargetList {
		if rt := t.GetResTarget(); rt == nil || rt.Val.GetColumnRef() != nil && hasStar(rt.Val.GetColumnRef()) {
			return nil
		}
	}
	for i, t := range sel.TargetList {
		rt := t.GetResTarget()
		if !callsNextval(rt.Val) || hasParams(rt.Val) {
			continue
		}
		text, err := exprText(rt.Val)
		if err != nil {
			return err
		}
		f.replace = append(f.replace, seqSlot{pos: i, expr: text})
		rt.Val = constNode(nil)
	}
	return nil
}

// hasStar reports whether a column reference is t.* or *.
func hasStar(cr *pg.ColumnRef) bool {
	for _, f := range cr.Fields {
		if f.GetAStar() != nil {
			return true
		}
	}
	return false
}

// sequenceFill returns the computed-default columns of tb that cols (an
// INSERT ... SELECT's columns) leave out, after checking the GENERATED
// ALWAYS ones it writes.
func (s *Session) sequenceFill(ctx context.Context, st *catalogState, in *pg.InsertStmt, tb catalog.Table, cols []string) (*seqFill, error) {
	d, err := st.seqDefaults(ctx, s.h)
	if err != nil {
		return nil, catalogError(err)
	}
	gen := d.tables[tb.Relation]
	if _, err := s.checkInsertSelectSequences(st, in, tb, gen); err != nil {
		return nil, err
	}
	f := &seqFill{}
	// Clock defaults too: the metadata connection's transaction gives
	// every row the same now().
	for _, g := range gen {
		if indexOf(cols, g.name) < 0 {
			f.cols = append(f.cols, g.name)
			f.exprs = append(f.exprs, g.expr)
		}
	}
	for _, g := range d.times[tb.Relation] {
		if indexOf(cols, g.name) < 0 {
			f.cols = append(f.cols, g.name)
			f.consts = append(f.consts, g.expr)
		}
	}
	return f, nil
}

// wrap returns a query of the metadata database giving sel's rows with
// the computed defaults as more columns.
func (f *seqFill) wrap(sel string) string {
	if f == nil || len(f.exprs)+len(f.consts) == 0 {
		return sel
	}
	return "SELECT pgfed_rows.*, " + strings.Join(append(append([]string(nil), f.exprs...), f.consts...), ", ") +
		" FROM (" + sel + ") AS pgfed_rows"
}

// seqFillBatch bounds the rows whose defaults one round trip computes.
const seqFillBatch = 1000

// rows hands rows to sink with the computed defaults appended, computed
// on the metadata connection seqFillBatch rows at a time.
func (f *seqFill) rows(ctx context.Context, s *Session, rows [][][]byte, sink rowSink) error {
	if f == nil || len(f.exprs)+len(f.replace)+len(f.consts) == 0 {
		for _, r := range rows {
			if err := sink.add(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}
	if len(f.consts) > 0 && f.constVals == nil {
		vals, err := s.evalOnMeta(ctx, f.consts)
		if err != nil {
			return err
		}
		f.constVals = vals
	}
	per := len(f.replace) + len(f.exprs)
	for len(rows) > 0 {
		n := min(len(rows), seqFillBatch)
		exprs := make([]string, 0, n*per)
		for range n {
			for _, r := range f.replace {
				exprs = append(exprs, r.expr)
			}
			exprs = append(exprs, f.exprs...)
		}
		var vals [][]byte
		if len(exprs) > 0 {
			var err error
			if vals, err = s.evalOnMeta(ctx, exprs); err != nil {
				return err
			}
		}
		for i, r := range rows[:n] {
			v := vals[i*per : (i+1)*per]
			row := append(append(make([][]byte, 0, len(r)+len(f.exprs)+len(f.consts)), r...), v[len(f.replace):]...)
			row = append(row, f.constVals...)
			for j, slot := range f.replace {
				if slot.pos < len(r) {
					row[slot.pos] = v[j]
				}
			}
			if err := sink.add(ctx, row); err != nil {
				return err
			}
		}
		rows = rows[n:]
	}
	return nil
}
