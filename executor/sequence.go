package executor

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgerrcode"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/wire"
)

// Sequences live with the shell tables in the metadata database, as in
// Citus: the shards of a table have no default for its serial and
// identity columns (see citus.shell.ddl), so the coordinator computes
// those values. An INSERT ... VALUES into a table with such columns gets
// the omitted (or DEFAULT) values from the metadata database, on the
// session's own connection (so currval and lastval work there), in one
// round trip for all its rows, and they are written into the rows as
// constants before the statement is planned: the distribution column may
// be one of them. Explicit nextval calls in VALUES are evaluated the same
// way. An INSERT ... SELECT that leaves such a column out runs through
// the coordinator, which fills each row (insertselect.go).

// seqColumn is a column whose default the coordinator computes: a
// default calling nextval (serial, bigserial) or an identity column.
type seqColumn struct {
	name string
	// expr is the default expression (for an identity column, nextval of
	// its sequence), as SQL.
	expr string
	// identity marks an identity column, always one GENERATED ALWAYS.
	identity, always bool
}

// seqDefaults are the columns with computed defaults of the distributed
// and reference tables of one catalog state, loaded on first use.
type seqDefaults struct {
	tables map[catalog.RelationName][]seqColumn
	// names are the unqualified names of those tables, for a cheap text
	// test before parsing.
	names []string
	// times are the columns whose defaults read the clock (now(),
	// CURRENT_TIMESTAMP...), which the shards compute, but which a write
	// reaching several shards gets from the coordinator, once; timeNames
	// are their tables' names.
	times     map[catalog.RelationName][]seqColumn
	timeNames []string
}

// seqState holds what the coordinator's write values need of a catalog
// state, computed on first use: its seqDefaults, and the names of its
// distribution columns (movedrow.go).
type seqState struct {
	mu     sync.Mutex
	loaded *seqDefaults

	colsOnce sync.Once
	cols     []string

	// templates are the rewrites of prepared INSERTs (under mu).
	templates map[string]*insertTemplate
}

// seqDefaultsQuery reads the columns whose defaults call nextval, the
// identity columns, and the columns whose defaults read the clock (now(),
// CURRENT_TIMESTAMP...; last column true) of the distributed and
// reference tables.
const seqDefaultsQuery = `SELECT n.nspname, c.relname, a.attname,
	CASE WHEN a.attidentity <> '' THEN format('nextval(%L::regclass)',
		pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname))
	ELSE pg_get_expr(d.adbin, d.adrelid) END,
	a.attidentity <> '', a.attidentity = 'a',
	a.attidentity = '' AND pg_get_expr(d.adbin, d.adrelid) NOT LIKE '%nextval(%'
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid IN (SELECT logicalrelid FROM pgfed.partition) AND a.attnum > 0 AND NOT a.attisdropped
	AND a.attgenerated = '' AND (a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) LIKE '%nextval(%'
		OR pg_get_expr(d.adbin, d.adrelid) ~* '(now\(|current_(timestamp|date|time)|localtime|transaction_timestamp|statement_timestamp)')
ORDER BY c.oid, a.attnum`

// seqDefaults returns the computed-default columns of the state's
// tables, reading them from the metadata database the first time.
func (st *catalogState) seqDefaults(ctx context.Context, h *Handler) (*seqDefaults, error) {
	st.seqs.mu.Lock()
	defer st.seqs.mu.Unlock()
	if st.seqs.loaded != nil {
		return st.seqs.loaded, nil
	}
	c, err := h.metaPool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Release()
	res := c.PgConn().ExecParams(ctx, seqDefaultsQuery, nil, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, fmt.Errorf("read the columns with sequence defaults: %w", res.Err)
	}
	d := &seqDefaults{tables: map[catalog.RelationName][]seqColumn{}, times: map[catalog.RelationName][]seqColumn{}}
	for _, row := range res.Rows {
		if row[3] == nil {
			continue
		}
		rel := catalog.RelationName{Schema: string(row[0]), Name: string(row[1])}
		if string(row[6]) == "t" {
			if _, ok := d.times[rel]; !ok {
				d.timeNames = append(d.timeNames, rel.Name)
			}
			d.times[rel] = append(d.times[rel], seqColumn{name: string(row[2]), expr: string(row[3])})
			continue
		}
		if _, ok := d.tables[rel]; !ok {
			d.names = append(d.names, rel.Name)
		}
		d.tables[rel] = append(d.tables[rel], seqColumn{name: string(row[2]), expr: string(row[3]),
			identity: string(row[4]) == "t", always: string(row[5]) == "t"})
	}
	st.seqs.loaded = d
	return d, nil
}

// mayName reports whether sql may name one of the tables (a text test:
// false means it names none).
func (d *seqDefaults) mayName(sql string) bool {
	for _, n := range d.names {
		if containsFold(sql, n) {
			return true
		}
	}
	return false
}

// insertFill is what fillSequences did to an INSERT.
type insertFill uint8

const (
	fillNone         insertFill = iota // unchanged
	fillRewritten                      // values filled in: plan the new text
	fillInsertSelect                   // an INSERT ... SELECT the coordinator must fill row by row
)

// fillSequences rewrites an INSERT ... VALUES (or DEFAULT VALUES) into a
// table with computed defaults: the values the shards cannot compute
// (omitted or DEFAULT columns, explicit nextval calls) are evaluated on
// the metadata connection and written in as constants. in is the parsed
// statement, changed in place. With base >= 0 (a prepared statement with
// base parameters) a one-row INSERT gets parameters $base+1... instead,
// and the expressions that compute them are returned, not evaluated: the
// rewrite then serves every execution.
func (s *Session) fillSequences(ctx context.Context, st *catalogState, in *pg.InsertStmt, base int) (insertFill, []string, error) {
	if in.WithClause != nil || in.Relation == nil {
		return fillNone, nil, nil
	}
	d, err := st.seqDefaults(ctx, s.h)
	if err != nil {
		return fillNone, nil, catalogError(err)
	}
	tb, ok := s.lookupTable(st, in.Relation)
	if !ok {
		return fillNone, nil, nil
	}
	gen := d.tables[tb.Relation]
	sel := in.SelectStmt.GetSelectStmt()
	if sel != nil && len(sel.ValuesLists) == 0 {
		fill, err := s.checkInsertSelectSequences(st, in, tb, gen)
		return fill, nil, err
	}
	var rows [][]*pg.Node
	if sel != nil {
		if sel.WithClause != nil || len(sel.SortClause) > 0 || sel.LimitCount != nil || sel.LimitOffset != nil {
			return fillNone, nil, nil
		}
		for _, l := range sel.ValuesLists {
			items := l.GetList().GetItems()
			if len(rows) > 0 && len(items) != len(rows[0]) {
				return fillNone, nil, nil // PostgreSQL's error to give
			}
			rows = append(rows, items)
		}
	} else {
		rows = [][]*pg.Node{nil} // DEFAULT VALUES
	}
	cols, err := s.insertColumns(st, in, tb, len(rows[0]))
	if err != nil || cols == nil {
		return fillNone, nil, err
	}
	if len(gen) == 0 && !anyNextval(rows) {
		return fillNone, nil, nil
	}
	for _, g := range gen {
		i := indexOf(cols, g.name)
		if i >= 0 {
			if g.always {
				if err := checkAlways(in, g, rows, i); err != nil {
					return fillNone, nil, err
				}
			}
			if g.identity && in.Override == pg.OverridingKind_OVERRIDING_USER_VALUE {
				for _, r := range rows {
					r[i] = &pg.Node{Node: &pg.Node_SetToDefault{SetToDefault: &pg.SetToDefault{}}}
				}
			}
			continue
		}
		cols = append(cols, g.name)
		for j := range rows {
			rows[j] = append(rows[j], &pg.Node{Node: &pg.Node_SetToDefault{SetToDefault: &pg.SetToDefault{}}})
		}
	}
	// What the metadata database evaluates, row by row, left to right.
	var exprs []string
	var slots []*pg.Node
	for _, r := range rows {
		for i, item := range r {
			if item.GetSetToDefault() != nil {
				if g := seqColumnOf(gen, cols[i]); g != nil {
					exprs = append(exprs, g.expr)
					slots = append(slots, item)
				}
				continue
			}
			if callsNextval(item) && !hasParams(item) {
				text, err := exprText(item)
				if err != nil {
					return fillNone, nil, err
				}
				exprs = append(exprs, text)
				slots = append(slots, item)
			}
		}
	}
	var params []string
	switch {
	case len(exprs) > 0 && base >= 0 && len(rows) == 1:
		for i, n := range slots {
			n.Node = pg.MakeParamRefNode(int32(base+i+1), -1).Node
		}
		params = exprs
	case len(exprs) > 0:
		vals, err := s.evalOnMeta(ctx, exprs)
		if err != nil {
			return fillNone, nil, err
		}
		for i, n := range slots {
			n.Node = constNode(vals[i]).Node
		}
	}
	in.Cols = in.Cols[:0]
	for _, c := range cols {
		in.Cols = append(in.Cols, &pg.Node{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Name: c}}})
	}
	lists := make([]*pg.Node, len(rows))
	for i, r := range rows {
		lists[i] = &pg.Node{Node: &pg.Node_List{List: &pg.List{Items: r}}}
	}
	if sel == nil {
		sel = &pg.SelectStmt{LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT, Op: pg.SetOperation_SETOP_NONE}
		in.SelectStmt = &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sel}}
	}
	sel.ValuesLists = lists
	// The shards have no identity columns: the values are plain ones.
	in.Override = pg.OverridingKind_OVERRIDING_NOT_SET
	return fillRewritten, params, nil
}

// insertTemplate is an INSERT rewritten by fillSequences: its text and,
// for a prepared one-row INSERT, the expressions computing the
// parameters it was given.
type insertTemplate struct {
	sql   string
	exprs []string
}

// maxInsertTemplates bounds the rewrites a catalog state keeps.
const maxInsertTemplates = 256

// insertTemplate rewrites an INSERT for its sequence values (nil when it
// needs none), or says it is an INSERT ... SELECT to fill row by row.
// The parameterized rewrites of prepared statements are kept with the
// catalog state, by text, search path and parameter count.
func (s *Session) insertTemplate(ctx context.Context, st *catalogState, sql string, b *binding) (*insertTemplate, writeRoute, error) {
	base := -1 // constants
	if b != nil {
		base = len(b.params)
	}
	var key string
	if b != nil {
		key = sql + "\x00" + strings.Join(s.searchPathOf(st), "\x00") + "\x00" + strconv.Itoa(base)
		st.seqs.mu.Lock()
		tpl := st.seqs.templates[key]
		st.seqs.mu.Unlock()
		if tpl != nil {
			return tpl, routePlan, nil
		}
	}
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetInsertStmt() == nil {
		return nil, routePlan, nil
	}
	fill, exprs, err := s.fillSequences(ctx, st, tree.Stmts[0].Stmt.GetInsertStmt(), base)
	switch {
	case err != nil:
		return nil, routePlan, err
	case fill == fillInsertSelect:
		return nil, routeInsertSelect, nil
	case fill == fillNone:
		return nil, routePlan, nil
	}
	out, err := deparseNode(tree.Stmts[0].Stmt)
	if err != nil {
		return nil, routePlan, internalError("deparse an INSERT with its sequence values: %v", err)
	}
	tpl := &insertTemplate{sql: out, exprs: exprs}
	if len(exprs) > 0 {
		st.seqs.mu.Lock()
		if st.seqs.templates == nil || len(st.seqs.templates) >= maxInsertTemplates {
			st.seqs.templates = map[string]*insertTemplate{}
		}
		st.seqs.templates[key] = tpl
		st.seqs.mu.Unlock()
	}
	return tpl, routePlan, nil
}

// with returns the binding with text parameters vals appended.
func (b *binding) with(vals [][]byte) *binding {
	n := len(b.params)
	out := &binding{params: append(append(make([][]byte, 0, n+len(vals)), b.params...), vals...),
		paramOIDs: b.paramOIDs, resultFormats: b.resultFormats}
	if len(b.paramFormats) == 1 && b.paramFormats[0] == 0 || len(b.paramFormats) == 0 {
		out.paramFormats = b.paramFormats // all text
	} else {
		out.paramFormats = make([]int16, n+len(vals))
		for i := range n {
			out.paramFormats[i] = b.paramFormat(i)
		}
	}
	if len(b.paramOIDs) > 0 {
		out.paramOIDs = append(append(make([]uint32, 0, n+len(vals)), b.paramOIDs...), make([]uint32, n+len(vals)-len(b.paramOIDs))...)
	}
	return out
}

// checkInsertSelectSequences decides for an INSERT ... SELECT: when it
// leaves out a column with a computed default, the coordinator must fill
// each row (insertselect.go).
func (s *Session) checkInsertSelectSequences(st *catalogState, in *pg.InsertStmt, tb catalog.Table, gen []seqColumn) (insertFill, error) {
	fill := fillNone
	if callsNextval(in.SelectStmt) {
		fill = fillInsertSelect // the shards have no sequences
	}
	if len(gen) == 0 {
		return fill, nil
	}
	cols, err := s.insertColumns(st, in, tb, -1)
	if err != nil || cols == nil {
		return fill, err
	}
	for _, g := range gen {
		if indexOf(cols, g.name) < 0 {
			fill = fillInsertSelect
			continue
		}
		if g.always {
			switch in.Override {
			case pg.OverridingKind_OVERRIDING_SYSTEM_VALUE:
			case pg.OverridingKind_OVERRIDING_USER_VALUE:
				return fillNone, &wire.Error{Code: pgerrcode.FeatureNotSupported,
					Message: "INSERT ... SELECT ... OVERRIDING USER VALUE into a distributed table is not supported"}
			default:
				return fillNone, alwaysError(g)
			}
		}
	}
	return fill, nil
}

// insertColumns returns the columns an INSERT writes: its column list,
// or the table's first n columns (n < 0: all of them). nil when the
// table's shape is unknown.
func (s *Session) insertColumns(st *catalogState, in *pg.InsertStmt, tb catalog.Table, n int) ([]string, error) {
	cols := []string{}
	for _, c := range in.Cols {
		rt := c.GetResTarget()
		if rt == nil || len(rt.Indirection) > 0 {
			return nil, nil // a field or element: left to the planner
		}
		cols = append(cols, rt.Name)
	}
	if len(in.Cols) > 0 {
		return cols, nil
	}
	def, ok := st.schema.Table(tb.Relation)
	if !ok {
		return nil, nil
	}
	if n < 0 || n > len(def.Columns) {
		n = len(def.Columns)
	}
	for _, c := range def.Columns[:n] {
		cols = append(cols, c.Name)
	}
	return cols, nil
}

// checkAlways gives PostgreSQL's error for a value written into a
// GENERATED ALWAYS identity column without OVERRIDING SYSTEM VALUE.
func checkAlways(in *pg.InsertStmt, g seqColumn, rows [][]*pg.Node, i int) error {
	if in.Override != pg.OverridingKind_OVERRIDING_NOT_SET && in.Override != pg.OverridingKind_OVERRIDING_KIND_UNDEFINED {
		return nil
	}
	for _, r := range rows {
		if r[i].GetSetToDefault() == nil {
			return alwaysError(g)
		}
	}
	return nil
}

// alwaysError is PostgreSQL's 428C9 for a GENERATED ALWAYS column.
func alwaysError(g seqColumn) error {
	return &wire.Error{Code: pgerrcode.GeneratedAlways,
		Message: fmt.Sprintf("cannot insert a non-DEFAULT value into column %q", g.name),
		Detail:  fmt.Sprintf("Column %q is an identity column defined as GENERATED ALWAYS.", g.name),
		Hint:    "Use OVERRIDING SYSTEM VALUE to override."}
}

// seqColumnOf returns the computed-default column named name, or nil.
func seqColumnOf(gen []seqColumn, name string) *seqColumn {
	for i := range gen {
		if gen[i].name == name {
			return &gen[i]
		}
	}
	return nil
}

// indexOf returns the index of s in list, or -1.
func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// anyNextval reports whether a VALUES item calls nextval.
func anyNextval(rows [][]*pg.Node) bool {
	for _, r := range rows {
		for _, item := range r {
			if callsNextval(item) {
				return true
			}
		}
	}
	return false
}

// callsNextval reports whether an expression calls nextval.
func callsNextval(n *pg.Node) bool {
	found := false
	walkNodes(n, func(x *pg.Node) bool {
		if fc := x.GetFuncCall(); fc != nil && funcLastName(fc) == "nextval" {
			found = true
		}
		return !found
	})
	return found
}

// hasParams reports whether an expression reads a parameter ($n) or a
// column.
func hasParams(n *pg.Node) bool {
	found := false
	walkNodes(n, func(x *pg.Node) bool {
		if x.GetParamRef() != nil || x.GetColumnRef() != nil || x.GetSubLink() != nil {
			found = true
		}
		return !found
	})
	return found
}

// funcLastName returns the lower-case unqualified name of a call.
func funcLastName(fc *pg.FuncCall) string {
	if len(fc.Funcname) == 0 {
		return ""
	}
	return strings.ToLower(fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval())
}

// constNode is a constant holding a value's text (NULL for nil): an
// untyped literal, which takes its column's type, as the value came from
// an expression of that column.
func constNode(v []byte) *pg.Node {
	if v == nil {
		return &pg.Node{Node: &pg.Node_AConst{AConst: &pg.A_Const{Isnull: true}}}
	}
	return pg.MakeAConstStrNode(string(v), -1)
}
