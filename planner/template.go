package planner

import (
	"slices"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
)

// textFragment makes a fragment from the statement text itself: each
// distributed or reference table reference is cut out at its token
// location and becomes a slot, so the shards receive the client's text
// byte for byte apart from table names. ok is false when a reference is
// not where the parse tree says (ONLY t, say) or cannot take the alias
// (TABLE t); callers then deparse.
func textFragment(sql string, rels []*rel) (*Fragment, bool) {
	order := make([]int, len(rels))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int(rels[a].rv.Location) - int(rels[b].rv.Location) })
	f := &Fragment{rels: order}
	prev := 0
	for _, i := range order {
		r := rels[i]
		off := int(r.rv.Location)
		if off < prev {
			return nil, false
		}
		end, parts, ok := nameSpan(sql, off)
		if !ok || !sameName(parts, r.rv) || r.level != nil && tableShorthand(r.level.sel) {
			return nil, false
		}
		f.Parts = append(f.Parts, sql[prev:off])
		f.offsets = append(f.offsets, off)
		s := Slot{Table: r.table.Relation}
		if r.rv.Alias == nil {
			s.Alias = r.rv.Relname
		}
		f.Slots = append(f.Slots, s)
		prev = end
	}
	f.Parts = append(f.Parts, sql[prev:])
	return f, true
}

// tableShorthand reports "TABLE name", which the parser turns into
// SELECT * FROM name with no location on the *: the name takes no alias
// there, so such a statement is deparsed rather than cut.
func tableShorthand(s *pg.SelectStmt) bool {
	if s == nil || len(s.TargetList) != 1 || len(s.FromClause) != 1 {
		return false
	}
	rt := s.TargetList[0].GetResTarget()
	cr := rt.GetVal().GetColumnRef()
	return rt.Location < 0 && cr != nil && cr.Location < 0 && len(cr.Fields) == 1 && cr.Fields[0].GetAStar() != nil
}

// sameName reports whether the name parts read from the text are the
// range variable's.
func sameName(parts []string, rv *pg.RangeVar) bool {
	want := []string{rv.Relname}
	if rv.Schemaname != "" {
		want = append([]string{rv.Schemaname}, want...)
	}
	if rv.Catalogname != "" {
		want = append([]string{rv.Catalogname}, want...)
	}
	return slices.Equal(parts, want)
}

// slotMarker returns a marker name that does not occur in sql.
func slotMarker(sql string) string {
	for i := 0; ; i++ {
		m := "pgfedslot" + strconv.Itoa(i) + "x"
		if !strings.Contains(sql, m) {
			return m
		}
	}
}

// treeFragment deparses a statement tree into a fragment: the range
// variables of rels are renamed to markers for the deparse (and restored
// after), then the text is cut at the markers. Relations without an
// alias get their own name as alias so qualified column references still
// resolve on the shard.
func treeFragment(stmt *pg.Node, rels []*rel, sql string) (*Fragment, error) {
	marker := slotMarker(sql)
	type saved struct {
		schema, catalog, name string
		alias                 *pg.Alias
	}
	old := make([]saved, len(rels))
	for i, r := range rels {
		rv := r.rv
		old[i] = saved{rv.Schemaname, rv.Catalogname, rv.Relname, rv.Alias}
		if rv.Alias == nil {
			rv.Alias = &pg.Alias{Aliasname: rv.Relname}
		}
		rv.Schemaname, rv.Catalogname = "", ""
		rv.Relname = marker + strconv.Itoa(i) + "_"
	}
	text, err := deparse(stmt)
	for i, r := range rels {
		rv := r.rv
		rv.Schemaname, rv.Catalogname, rv.Relname, rv.Alias = old[i].schema, old[i].catalog, old[i].name, old[i].alias
	}
	if err != nil {
		return nil, err
	}
	f := &Fragment{}
	for {
		i := strings.Index(text, marker)
		if i < 0 {
			f.Parts = append(f.Parts, text)
			return f, nil
		}
		j := i + len(marker)
		k := j
		for k < len(text) && text[k] >= '0' && text[k] <= '9' {
			k++
		}
		n, convErr := strconv.Atoi(text[j:k])
		if convErr != nil || n >= len(rels) || k >= len(text) || text[k] != '_' {
			return nil, internalError("deparsed fragment has a malformed table marker")
		}
		f.Parts = append(f.Parts, text[:i])
		f.Slots = append(f.Slots, Slot{Table: rels[n].table.Relation})
		f.rels = append(f.rels, n)
		text = text[k+1:]
	}
}

// deparse returns the SQL text of a statement tree.
func deparse(stmt *pg.Node) (string, error) {
	s, err := pg.Deparse(&pg.ParseResult{Stmts: []*pg.RawStmt{{Stmt: stmt}}})
	if err != nil {
		return "", internalError("cannot deparse a planned statement: %v", err)
	}
	return spaceLockWait(s), nil
}

// exprString deparses one expression (for algebra printing).
func exprString(n *pg.Node) string {
	if n == nil {
		return ""
	}
	s := &pg.SelectStmt{TargetList: []*pg.Node{{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Val: n}}}}}
	text, err := deparse(&pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: s}})
	if err != nil {
		return "?"
	}
	return strings.TrimPrefix(text, "SELECT ")
}
