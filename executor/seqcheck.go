package executor

import (
	"context"
	"fmt"

	"github.com/jackc/pgerrcode"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/wire"
)

// The writes whose sequence values the coordinator cannot compute are
// refused with 0A000 rather than left to the shards, which have no
// sequences (see sequence.go).

// checkCopySequences refuses a COPY FROM into a distributed table whose
// column list leaves out a column with a computed default: the shards
// cannot compute it, and COPY does not fill it yet.
func (s *Session) checkCopySequences(ctx context.Context, st *catalogState, sql string) error {
	w, rest := firstWord(sql)
	if w != "copy" || !containsFold(rest, "from") {
		return nil
	}
	d, err := st.seqDefaults(ctx, s.h)
	if err != nil || len(d.names) == 0 || !d.mayName(sql) {
		return nil
	}
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return nil
	}
	cs := tree.Stmts[0].Stmt.GetCopyStmt()
	if cs == nil || !cs.IsFrom || cs.Relation == nil || len(cs.Attlist) == 0 {
		// Without a column list, the data has every column.
		return nil
	}
	tb, ok := s.lookupTable(st, cs.Relation)
	if !ok {
		return nil
	}
	var cols []string
	for _, a := range cs.Attlist {
		cols = append(cols, a.GetString_().GetSval())
	}
	for _, g := range d.tables[tb.Relation] {
		if indexOf(cols, g.name) < 0 {
			return &wire.Error{Code: pgerrcode.FeatureNotSupported,
				Message: fmt.Sprintf("COPY into distributed table %s without column %s, whose default calls nextval, is not supported", tb.Relation, g.name),
				Hint:    "Give the column's values (nextval on the coordinator), or load with INSERT ... SELECT, which fills them."}
		}
	}
	return nil
}

// checkUpdateDefaults refuses an UPDATE that sets a column with a
// computed default to DEFAULT: each row would need its own value from
// the sequence, which the shards cannot reach.
func (s *Session) checkUpdateDefaults(ctx context.Context, st *catalogState, sql string) error {
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return nil
	}
	u := tree.Stmts[0].Stmt.GetUpdateStmt()
	if u == nil || u.Relation == nil {
		return nil
	}
	tb, ok := s.lookupTable(st, u.Relation)
	if !ok {
		return nil
	}
	d, err := st.seqDefaults(ctx, s.h)
	if err != nil {
		return catalogError(err)
	}
	gen := d.tables[tb.Relation]
	for _, t := range u.TargetList {
		rt := t.GetResTarget()
		if rt == nil || seqColumnOf(gen, rt.Name) == nil {
			continue
		}
		isDefault := rt.Val.GetSetToDefault() != nil
		if m := rt.Val.GetMultiAssignRef(); m != nil {
			if r := m.Source.GetRowExpr(); r != nil && int(m.Colno) <= len(r.Args) {
				isDefault = r.Args[m.Colno-1].GetSetToDefault() != nil
			}
		}
		if isDefault {
			return &wire.Error{Code: pgerrcode.FeatureNotSupported,
				Message: fmt.Sprintf("cannot set column %s of distributed table %s to its default in an UPDATE: the default calls nextval", rt.Name, tb.Relation),
				Hint:    "Set it to nextval(...) of its sequence in a statement that updates one row, or to another value."}
		}
	}
	return nil
}

// checkUpdateNextval refuses an UPDATE of a distributed or reference
// table that calls nextval in its SET list: the sequences live on the
// coordinator, and each row would need its own value.
func (s *Session) checkUpdateNextval(st *catalogState, sql string) error {
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return nil
	}
	u := tree.Stmts[0].Stmt.GetUpdateStmt()
	if u == nil || u.Relation == nil {
		return nil
	}
	tb, ok := s.lookupTable(st, u.Relation)
	if !ok {
		return nil
	}
	for _, t := range u.TargetList {
		if rt := t.GetResTarget(); rt != nil && callsNextval(rt.Val) {
			return &wire.Error{Code: pgerrcode.FeatureNotSupported,
				Message: fmt.Sprintf("cannot call nextval in an UPDATE of distributed table %s", tb.Relation),
				Detail:  "The sequence lives in the metadata database, not on the workers that update the rows.",
				Hint:    "Get the values first (SELECT nextval(...)), then update with them."}
		}
	}
	return nil
}
