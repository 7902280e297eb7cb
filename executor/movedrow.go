package executor

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgerrcode"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/wire"
)

// An UPDATE that sets the distribution column may move rows to other
// shards. The session runs it as a DELETE ... RETURNING of the rows'
// new values (every SET expression evaluated on the old row, on its
// shard, as UPDATE does) followed by the INSERT of those rows into the
// shards their new values hash to, both in the session's distributed
// transaction, so that the move is atomic (two-phase commit when it
// spans workers). The tag is UPDATE n; the UPDATE's RETURNING list is
// evaluated by the INSERTs over the new rows. A table that foreign keys
// reference is refused (the DELETE would fire their actions), as are
// SET forms the rewrite cannot express.

// mayMoveRows is the cheap test before updateMovesRows: the SET list
// (the text from the first SET to the WHERE or RETURNING after it, outside
// parentheses and quotes) names a distribution column.
func mayMoveRows(st *catalogState, sql string) bool {
	set := wordIndexFold(sql, "set", 0)
	if set < 0 {
		return false
	}
	span := sql[set:setListEnd(sql, set+3)]
	for _, c := range st.distColumns() {
		if wordIndexFold(span, c, 0) >= 0 {
			return true
		}
	}
	return false
}

// setListEnd returns where a SET list starting at i ends: at the first
// WHERE or RETURNING outside parentheses and quoted text, or the end.
func setListEnd(sql string, i int) int {
	depth := 0
	for ; i < len(sql); i++ {
		switch c := sql[i]; {
		case c == '\'' || c == '"':
			j := strings.IndexByte(sql[i+1:], c)
			if j < 0 {
				return len(sql)
			}
			i += j + 1
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && (c == 'w' || c == 'W' || c == 'r' || c == 'R') && (i == 0 || !isWordByte(sql[i-1])):
			if wordIndexFold(sql[i:min(i+9, len(sql))], "where", 0) == 0 || wordIndexFold(sql[i:min(i+10, len(sql))], "returning", 0) == 0 {
				return i
			}
		}
	}
	return len(sql)
}

// mayUpdateOnConflict is the cheap test before checkConflictUpdate: an
// INSERT's ON CONFLICT DO UPDATE SET may name a distribution column.
func mayUpdateOnConflict(st *catalogState, sql string) bool {
	i := wordIndexFold(sql, "conflict", 0)
	return i >= 0 && mayMoveRows(st, sql[i:])
}

// checkConflictUpdate refuses an INSERT ... ON CONFLICT DO UPDATE that
// sets the distribution column (as Citus does): the row would stay in
// the shard of its old value.
func (s *Session) checkConflictUpdate(st *catalogState, sql string) error {
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return nil
	}
	in := tree.Stmts[0].Stmt.GetInsertStmt()
	if in == nil || in.OnConflictClause == nil || in.Relation == nil {
		return nil
	}
	tb, ok := s.lookupTable(st, in.Relation)
	if !ok || tb.Method != catalog.MethodHash {
		return nil
	}
	for _, t := range in.OnConflictClause.TargetList {
		if rt := t.GetResTarget(); rt != nil && rt.Name == tb.Column {
			return &wire.Error{Code: pgerrcode.FeatureNotSupported, Message: "modifying the partition value of rows is not allowed",
				Detail: fmt.Sprintf("ON CONFLICT DO UPDATE sets the distribution column %s of %s.", tb.Column, tb.Relation)}
		}
	}
	return nil
}

// distColumns returns the names of the hash-distributed tables'
// distribution columns (once per catalog state).
func (st *catalogState) distColumns() []string {
	st.seqs.colsOnce.Do(func() {
		seen := map[string]bool{}
		for _, t := range st.snap.Tables() {
			if t.Method == catalog.MethodHash && !seen[t.Column] {
				seen[t.Column] = true
				st.seqs.cols = append(st.seqs.cols, t.Column)
			}
		}
	})
	return st.seqs.cols
}

// wordIndexFold returns the index of the first whole-word, case-folded
// occurrence of word in s at or after from, or -1.
func wordIndexFold(s, word string, from int) int {
	n := len(word)
	for i := from; i+n <= len(s); i++ {
		if !strings.EqualFold(s[i:i+n], word) {
			continue
		}
		if i > 0 && isWordByte(s[i-1]) || i+n < len(s) && isWordByte(s[i+n]) {
			continue
		}
		return i
	}
	return -1
}

// isWordByte reports whether c may be part of an unquoted identifier.
func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// movingUpdate is an UPDATE that sets a hash-distributed table's
// distribution column to something else than itself.
type movingUpdate struct {
	u     *pg.UpdateStmt
	tb    catalog.Table
	value *pg.Node // the distribution column's new value
	alias string
}

// movingUpdateOf parses sql and returns it as a movingUpdate, or nil.
func (s *Session) movingUpdateOf(st *catalogState, sql string) (*movingUpdate, error) {
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return nil, nil
	}
	top := tree.Stmts[0].Stmt
	// A data-modifying WITH cannot move rows: refused.
	var nested error
	walkNodes(top, func(n *pg.Node) bool {
		if u := n.GetUpdateStmt(); u != nil && n != top && nested == nil {
			m, err := s.movingUpdateOfStmt(st, u)
			if err == nil && m != nil {
				err = &wire.Error{Code: pgerrcode.FeatureNotSupported, Message: "modifying the partition value of rows is not allowed",
					Detail: fmt.Sprintf("An UPDATE in a WITH clause sets the distribution column %s of %s.", m.tb.Column, m.tb.Relation)}
			}
			nested = err
		}
		return nested == nil
	})
	if nested != nil {
		return nil, nested
	}
	u := top.GetUpdateStmt()
	if u == nil {
		return nil, nil
	}
	return s.movingUpdateOfStmt(st, u)
}

// movingUpdateOfStmt returns an UPDATE as a movingUpdate, or nil.
func (s *Session) movingUpdateOfStmt(st *catalogState, u *pg.UpdateStmt) (*movingUpdate, error) {
	if u.Relation == nil {
		return nil, nil
	}
	tb, ok := s.lookupTable(st, u.Relation)
	if !ok || tb.Method != catalog.MethodHash {
		return nil, nil
	}
	m := &movingUpdate{u: u, tb: tb, alias: u.Relation.Relname}
	if u.Relation.Alias != nil {
		m.alias = u.Relation.Alias.Aliasname
	}
	for _, t := range u.TargetList {
		rt := t.GetResTarget()
		if rt == nil || rt.Name != tb.Column {
			continue
		}
		if len(rt.Indirection) > 0 || rt.Val.GetMultiAssignRef() != nil || rt.Val.GetSetToDefault() != nil {
			return nil, &wire.Error{Code: pgerrcode.FeatureNotSupported,
				Message: "modifying the partition value of rows is not allowed",
				Detail:  fmt.Sprintf("The distribution column %s of %s may be set to an expression only, not to DEFAULT, a field or element, or in a multiple-column assignment.", tb.Column, tb.Relation)}
		}
		if cr := rt.Val.GetColumnRef(); cr != nil && len(cr.Fields) > 0 &&
			cr.Fields[len(cr.Fields)-1].GetString_().GetSval() == tb.Column &&
			(len(cr.Fields) == 1 || len(cr.Fields) == 2 && cr.Fields[0].GetString_().GetSval() == m.alias) {
			return nil, nil // SET id = id
		}
		m.value = rt.Val
	}
	if m.value == nil {
		return nil, nil
	}
	return m, nil
}

// updateMovesRows reports whether an UPDATE sets a distribution column
// so that rows may change shards: false when it sets it to itself, or
// to a constant of the one shard the statement is pinned to.
func (s *Session) updateMovesRows(ctx context.Context, st *catalogState, sql string) (bool, error) {
	m, err := s.movingUpdateOf(st, sql)
	if err != nil || m == nil {
		return false, err
	}
	c := m.value.GetAConst()
	if c == nil || c.Isnull {
		return true, nil
	}
	text, ok := aconstText(c)
	if !ok {
		return true, nil
	}
	h, err := catalog.HashText(m.tb.ColumnType, text)
	if err != nil {
		return true, nil // the shard gives the input error
	}
	sh, ok := st.snap.ShardForHash(m.tb.Relation, h)
	if !ok {
		return true, nil
	}
	pl, err := s.plan(st, sql)
	if err != nil || pl.Kind != planner.KindRouter || len(pl.Tasks) != 1 {
		return true, nil
	}
	for _, id := range pl.Tasks[0].ShardIDs {
		if id == sh.ID {
			return false, nil
		}
	}
	return true, nil
}

// aconstText returns the text of a string or number constant.
func aconstText(c *pg.A_Const) (string, bool) {
	switch v := c.Val.(type) {
	case *pg.A_Const_Sval:
		return v.Sval.Sval, true
	case *pg.A_Const_Ival:
		return fmt.Sprint(v.Ival.Ival), true
	case *pg.A_Const_Fval:
		return v.Fval.Fval, true
	}
	return "", false
}

// moveRows runs an UPDATE that moves rows (see above).
func (s *Session) moveRows(ctx context.Context, st *catalogState, sql string, b *binding, out *output) error {
	m, err := s.movingUpdateOf(st, sql)
	if err != nil {
		return err
	}
	if m == nil {
		return internalError("not an UPDATE of a distribution column")
	}
	u := m.u
	refuse := func(why string) error {
		return &wire.Error{Code: pgerrcode.FeatureNotSupported, Message: "modifying the partition value of rows is not allowed",
			Detail: fmt.Sprintf("An UPDATE of the distribution column %s of %s that moves rows between shards cannot %s.", m.tb.Column, m.tb.Relation, why)}
	}
	if u.WhereClause.GetCurrentOfExpr() != nil {
		return refuse("use WHERE CURRENT OF")
	}
	if len(u.FromClause) > 0 && len(u.ReturningList) > 0 {
		return refuse("have both FROM and RETURNING")
	}
	def, ok := st.schema.Table(m.tb.Relation)
	if !ok {
		return internalError("no columns known for table %s", m.tb.Relation)
	}
	rel := quoteLiteral(quoteIdentifier(m.tb.Relation.Schema) + "." + quoteIdentifier(m.tb.Relation.Name))
	facts, err := s.evalOnMeta(ctx, []string{
		"(SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = " + rel + "::regclass)",
		"(SELECT string_agg(attname, ',') FROM pg_attribute WHERE attrelid = " + rel + "::regclass AND attnum > 0 AND attgenerated <> '')",
	})
	if err != nil {
		return err
	}
	if string(facts[0]) != "0" {
		return refuse("change a table that foreign keys reference")
	}
	generated := map[string]bool{}
	if facts[1] != nil {
		for _, c := range strings.Split(string(facts[1]), ",") {
			generated[c] = true
		}
	}
	set := map[string]*pg.Node{}
	for _, t := range u.TargetList {
		rt := t.GetResTarget()
		if rt == nil {
			continue
		}
		if len(rt.Indirection) > 0 || rt.Val.GetMultiAssignRef() != nil || rt.Val.GetSetToDefault() != nil {
			return refuse("set a field or element, DEFAULT, or several columns at once")
		}
		set[rt.Name] = rt.Val
	}
	// DELETE ... RETURNING the new rows.
	var cols []string
	var newRow []*pg.Node
	for _, c := range def.Columns {
		if generated[c.Name] {
			continue
		}
		cols = append(cols, c.Name)
		v := set[c.Name]
		if v == nil {
			v = pg.MakeColumnRefNode([]*pg.Node{pg.MakeStrNode(m.alias), pg.MakeStrNode(c.Name)}, -1)
		}
		newRow = append(newRow, pg.MakeResTargetNodeWithVal(v, -1))
	}
	del := &pg.DeleteStmt{Relation: u.Relation, UsingClause: u.FromClause, WhereClause: u.WhereClause,
		WithClause: u.WithClause, ReturningList: newRow}
	delSQL, err := deparseNode(&pg.Node{Node: &pg.Node_DeleteStmt{DeleteStmt: del}})
	if err != nil {
		return internalError("deparse the DELETE of a moving UPDATE: %v", err)
	}
	if mentionsTime(delSQL) {
		if delSQL, _, err = s.fixTime(ctx, st, delSQL, false); err != nil {
			return err
		}
	}
	pl, err := s.plan(st, delSQL)
	if err != nil {
		return err
	}
	bound, err := pl.Bind(b.plannerParams())
	if err != nil {
		return err
	}
	if s.block && (s.meta.txStatus == 'E' || s.meta.aborted) {
		return errInFailedTransaction
	}
	if !s.block && s.txn == nil {
		s.implicit = true
	}
	s.ensureTxn()
	sctx, stop := s.statementDeadline(ctx)
	defer stop()
	tag, err := s.moveRowsRun(sctx, st, m, cols, bound, b, out)
	if err != nil {
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
	return out.complete(tag)
}

// moveRowsRun deletes the rows (pl) and inserts their new versions, in
// the session's distributed transaction, and returns the tag.
func (s *Session) moveRowsRun(ctx context.Context, st *catalogState, m *movingUpdate, cols []string, pl *planner.Plan, b *binding, out *output) (string, error) {
	buf := &output{buffer: &distPortal{}, limit: s.newLimiter("rows moved by an UPDATE", planner.MaxIntermediateRowsSetting)}
	if _, err := s.execPlan(ctx, st, pl, b, buf); err != nil {
		return "", err
	}
	in := &pg.InsertStmt{Relation: &pg.RangeVar{Relname: m.tb.Relation.Name, Alias: &pg.Alias{Aliasname: m.alias}},
		ReturningList: m.u.ReturningList}
	ri, err := s.newRowInserter(st, m.tb, cols, in, out)
	if err != nil {
		return "", err
	}
	for _, row := range buf.buffer.rows {
		if err := ri.add(ctx, row); err != nil {
			return "", err
		}
	}
	if err := ri.flush(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf("UPDATE %d", len(buf.buffer.rows)), nil
}

// quoteIdentifier quotes a name for SQL.
func quoteIdentifier(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
