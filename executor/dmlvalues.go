package executor

import (
	"context"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/planner/pgtree"
	"github.com/pgfed/pgfed/wire"
)

// The values a write needs that the shards cannot compute, or must not
// compute each on its own, are computed by the coordinator before the
// statement is planned (as Citus does):
//
//   - nextval defaults (serial, identity) and explicit nextval calls in
//     an INSERT's VALUES or in the SELECT list of an INSERT ... SELECT:
//     the sequences live in the metadata database (sequence.go); an
//     UPDATE calling nextval, or setting such a column to DEFAULT, is
//     refused (0A000);
//   - now(), CURRENT_TIMESTAMP, CURRENT_DATE and their kin, written in a
//     write that reaches several shards or in the defaults of the
//     columns it fills: evaluated once on the metadata connection, whose
//     transaction began with the client's, so that every shard sees the
//     same value, the transaction's start time (fixTime);
//   - an UPDATE of the distribution column, which may move rows to
//     other shards (movedrow.go), and an INSERT ... ON CONFLICT DO
//     UPDATE of it, which is refused.
//
// Statements that need none of this cost a few text scans.

// writeRoute says how the session runs a statement that planWrite saw.
type writeRoute uint8

const (
	routePlan         writeRoute = iota // run the plan
	routeInsertSelect                   // an INSERT ... SELECT through the coordinator (insertSelect)
	routeMove                           // an UPDATE moving rows between shards (moveRows)
)

// planWrite plans sql after computing on the coordinator the values the
// shards cannot (see above). It returns the plan, the text it planned
// (sql, or its rewrite), and how to run it: routeInsertSelect and
// routeMove come with no plan.
func (s *Session) planWrite(ctx context.Context, st *catalogState, sql string) (*planner.Plan, string, writeRoute, error) {
	pl, sql, route, _, err := s.planWriteBound(ctx, st, sql, nil)
	return pl, sql, route, err
}

// planWriteBound is planWrite for a statement executed with parameters
// b (nil under the simple protocol). It also returns the parameters to
// bind the plan to: b, or b with the coordinator's values added (a
// one-row INSERT gets its sequence values as parameters, so that its
// rewrite, plan and worker statements serve every execution). The
// values of explicit nextval calls whose arguments are parameters are
// left to the shards.
func (s *Session) planWriteBound(ctx context.Context, st *catalogState, sql string, b *binding) (*planner.Plan, string, writeRoute, *binding, error) {
	w, _ := firstWord(sql)
	switch w {
	case "insert":
		if s.mayFillSequences(ctx, st, sql) {
			tpl, route, err := s.insertTemplate(ctx, st, sql, b)
			if err != nil || route != routePlan {
				return nil, sql, route, b, err
			}
			if tpl != nil {
				sql = tpl.sql
				if len(tpl.exprs) > 0 {
					vals, err := s.evalOnMeta(ctx, tpl.exprs)
					if err != nil {
						return nil, sql, routePlan, b, err
					}
					b = b.with(vals)
				}
			}
		}
		if mayUpdateOnConflict(st, sql) {
			if err := s.checkConflictUpdate(st, sql); err != nil {
				return nil, sql, routePlan, b, err
			}
		}
	case "update", "with":
		if containsFold(sql, "nextval") {
			if err := s.checkUpdateNextval(st, sql); err != nil {
				return nil, sql, routePlan, b, err
			}
		}
		if containsFold(sql, "default") && s.mayFillSequences(ctx, st, sql) {
			if err := s.checkUpdateDefaults(ctx, st, sql); err != nil {
				return nil, sql, routePlan, b, err
			}
		}
		if mayMoveRows(st, sql) {
			move, err := s.updateMovesRows(ctx, st, sql)
			if err != nil {
				return nil, sql, routePlan, b, err
			}
			if move {
				return nil, sql, routeMove, b, nil
			}
		}
	case "delete":
	default:
		pl, err := s.plan(st, sql)
		return pl, sql, routePlan, b, err
	}
	pl, err := s.plan(st, sql)
	if err != nil || !pl.Modify || pl.Kind == planner.KindRouter {
		return pl, sql, routePlan, b, err
	}
	clockDefaults := w == "insert" && s.mayHaveTimeDefaults(ctx, st, sql)
	if !clockDefaults && !mentionsTime(sql) {
		return pl, sql, routePlan, b, nil
	}
	fixed, changed, err := s.fixTime(ctx, st, sql, clockDefaults)
	if err != nil || !changed {
		return pl, sql, routePlan, b, err
	}
	pl, err = s.plan(st, fixed)
	return pl, fixed, routePlan, b, err
}

// mayHaveTimeDefaults is the cheap test before addTimeDefaults: the
// INSERT names a table with a clock default.
func (s *Session) mayHaveTimeDefaults(ctx context.Context, st *catalogState, sql string) bool {
	d, err := st.seqDefaults(ctx, s.h)
	if err != nil {
		return false
	}
	for _, n := range d.timeNames {
		if containsFold(sql, n) {
			return true
		}
	}
	return false
}

// writeNeedsSession reports whether a statement prepared with Parse must
// be planned again at each Execute by planWrite: its coordinator values
// change with each execution. pl is its plan (nil if planning failed).
func (s *Session) writeNeedsSession(ctx context.Context, st *catalogState, sql string, pl *planner.Plan) bool {
	if pl != nil && pl.Kind == planner.KindLocal {
		return false
	}
	w, _ := firstWord(sql)
	switch w {
	case "insert":
		if s.mayFillSequences(ctx, st, sql) || mayUpdateOnConflict(st, sql) {
			return true
		}
	case "update", "with":
		if mayMoveRows(st, sql) || containsFold(sql, "default") && s.mayFillSequences(ctx, st, sql) ||
			containsFold(sql, "nextval") {
			return true
		}
	case "delete":
	default:
		return false
	}
	return pl != nil && pl.Modify && pl.Kind != planner.KindRouter &&
		(mentionsTime(sql) || w == "insert" && s.mayHaveTimeDefaults(ctx, st, sql))
}

// mayFillSequences is the cheap test before fillSequences: the INSERT
// names a table with computed defaults, or calls nextval.
func (s *Session) mayFillSequences(ctx context.Context, st *catalogState, sql string) bool {
	if containsFold(sql, "nextval") {
		return true
	}
	d, err := st.seqDefaults(ctx, s.h)
	if err != nil {
		return true // fillSequences reports it
	}
	return d.mayName(sql)
}

// mentionsTime is the cheap test before fixTime.
func mentionsTime(sql string) bool {
	return containsFold(sql, "now") || containsFold(sql, "current_") || containsFold(sql, "localtime") ||
		containsFold(sql, "_timestamp")
}

// timeEval is how fixTime evaluates one kind of time function on the
// metadata database, in a text form that does not depend on DateStyle,
// and the type it is written back as.
type timeEval struct {
	format func(expr string) string
	typ    string
}

var (
	timestamptzValue = timeEval{func(e string) string {
		return "to_char((" + e + ") AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'"
	}, "timestamptz"}
	timestampValue = timeEval{func(e string) string {
		return "to_char(" + e + ", 'YYYY-MM-DD HH24:MI:SS.US')"
	}, "timestamp"}
	dateValue      = timeEval{func(e string) string { return "to_char(" + e + ", 'YYYY-MM-DD')" }, "date"}
	timetzValue    = timeEval{func(e string) string { return "(" + e + ")::text" }, "timetz"}
	timeOfDayValue = timeEval{func(e string) string { return "(" + e + ")::text" }, "time"}
)

// timeKind returns how to evaluate a node if it is a stable time
// function: now(), transaction_timestamp(), statement_timestamp() or an
// SQL value function (CURRENT_DATE, CURRENT_TIMESTAMP(p), LOCALTIME...).
func timeKind(n *pg.Node) (timeEval, bool) {
	if fc := n.GetFuncCall(); fc != nil {
		if len(fc.Args) > 0 || fc.AggStar || fc.Over != nil || len(fc.Funcname) > 2 {
			return timeEval{}, false
		}
		if len(fc.Funcname) == 2 && fc.Funcname[0].GetString_().GetSval() != "pg_catalog" {
			return timeEval{}, false
		}
		switch funcLastName(fc) {
		case "now", "transaction_timestamp", "statement_timestamp":
			return timestamptzValue, true
		}
		return timeEval{}, false
	}
	f := n.GetSqlvalueFunction()
	if f == nil {
		return timeEval{}, false
	}
	switch f.Op {
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
		return dateValue, true
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N:
		return timetzValue, true
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N:
		return timestamptzValue, true
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIME, pg.SQLValueFunctionOp_SVFOP_LOCALTIME_N:
		return timeOfDayValue, true
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP, pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
		return timestampValue, true
	}
	return timeEval{}, false
}

// fixTime replaces the stable time functions of a statement by their
// values on the metadata connection (one round trip), as typed
// constants; with clockDefaults, an INSERT first gets the defaults of
// its table that read the clock (addTimeDefaults). It reports whether it
// changed anything.
func (s *Session) fixTime(ctx context.Context, st *catalogState, sql string, clockDefaults bool) (string, bool, error) {
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return sql, false, nil
	}
	if in := tree.Stmts[0].Stmt.GetInsertStmt(); in != nil && clockDefaults {
		if _, err := s.addTimeDefaults(ctx, st, in); err != nil {
			return sql, false, err
		}
	}
	var nodes []*pg.Node
	var kinds []timeEval
	var exprs []string
	walkNodes(tree.Stmts[0].Stmt, func(n *pg.Node) bool {
		k, ok := timeKind(n)
		if !ok {
			return true
		}
		text, terr := exprText(n)
		if terr != nil {
			err = terr
			return false
		}
		nodes = append(nodes, n)
		kinds = append(kinds, k)
		exprs = append(exprs, k.format(text))
		return false
	})
	if err != nil || len(nodes) == 0 {
		return sql, false, err
	}
	vals, err := s.evalOnMeta(ctx, exprs)
	if err != nil {
		return sql, false, err
	}
	for i, n := range nodes {
		n.Node = &pg.Node_TypeCast{TypeCast: &pg.TypeCast{Arg: constNode(vals[i]),
			TypeName: &pg.TypeName{Names: []*pg.Node{pg.MakeStrNode("pg_catalog"), pg.MakeStrNode(kinds[i].typ)}, Typemod: -1},
			Location: -1}}
	}
	out, err := deparseNode(tree.Stmts[0].Stmt)
	if err != nil {
		return sql, false, internalError("deparse a write with its time values: %v", err)
	}
	return out, true, nil
}

// evalOnMeta evaluates SQL expressions on the metadata connection, in the
// client's transaction, in order, in one round trip, and returns their
// values as text (nil for NULL).
func (s *Session) evalOnMeta(ctx context.Context, exprs []string) ([][]byte, error) {
	var b strings.Builder
	if len(exprs) == 1 {
		b.WriteString("SELECT (" + exprs[0] + ")::text")
	} else {
		b.WriteString("SELECT v FROM (VALUES ")
		for i, e := range exprs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("((" + e + ")::text)")
		}
		b.WriteString(") AS pgfed_values(v)")
	}
	if s.block && (s.meta.txStatus == 'E' || s.meta.aborted) {
		return nil, errInFailedTransaction
	}
	out := make([][]byte, 0, len(exprs))
	_, err := s.meta.internal(ctx, internalQuery{sql: b.String(), row: func(r *pgproto3.DataRow) error {
		if r.Values[0] == nil {
			out = append(out, nil)
		} else {
			out = append(out, append([]byte(nil), r.Values[0]...))
		}
		return nil
	}})
	if err != nil {
		return nil, err
	}
	if len(out) != len(exprs) {
		return nil, internalError("evaluated %d values for %d expressions", len(out), len(exprs))
	}
	return out, nil
}

// exprText returns an expression's SQL text.
func exprText(n *pg.Node) (string, error) {
	sel := &pg.SelectStmt{TargetList: []*pg.Node{pg.MakeResTargetNodeWithVal(n, -1)},
		LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT, Op: pg.SetOperation_SETOP_NONE}
	text, err := deparseNode(&pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sel}})
	if err != nil {
		return "", &wire.Error{Code: pgerrcode.InternalError, Message: "deparse an expression: " + err.Error()}
	}
	return strings.TrimPrefix(text, "SELECT "), nil
}

// walkNodes calls fn on every Node of a tree (pgtree.WalkNodes), depth
// first, parents before children; fn returns false to skip a node's
// children, and may replace what a Node holds (its Node field).
func walkNodes(n *pg.Node, fn func(*pg.Node) bool) {
	if n == nil {
		return
	}
	pgtree.WalkNodes(n, fn)
}

// addTimeDefaults writes into an INSERT the defaults of its table's
// columns that read the clock, where it leaves them out or gives DEFAULT,
// as expressions (fixTime then evaluates them once on the coordinator).
// It reports whether it changed the statement.
func (s *Session) addTimeDefaults(ctx context.Context, st *catalogState, in *pg.InsertStmt) (bool, error) {
	if in.WithClause != nil || in.Relation == nil || in.SelectStmt == nil {
		return false, nil
	}
	d, err := st.seqDefaults(ctx, s.h)
	if err != nil {
		return false, catalogError(err)
	}
	tb, ok := s.lookupTable(st, in.Relation)
	if !ok || len(d.times[tb.Relation]) == 0 {
		return false, nil
	}
	sel := in.SelectStmt.GetSelectStmt()
	if sel == nil || sel.Op != pg.SetOperation_SETOP_NONE {
		return false, nil
	}
	n := len(sel.TargetList)
	if len(sel.ValuesLists) > 0 {
		n = len(sel.ValuesLists[0].GetList().GetItems())
	} else if len(in.Cols) == 0 {
		return false, nil // SELECT * would hide how many columns it gives
	}
	cols, err := s.insertColumns(st, in, tb, n)
	if err != nil || cols == nil {
		return false, err
	}
	changed := false
	for _, g := range d.times[tb.Relation] {
		expr := func() *pg.Node {
			tree, err := pg.Parse("SELECT " + g.expr)
			if err != nil || len(tree.Stmts) != 1 {
				return nil
			}
			return tree.Stmts[0].Stmt.GetSelectStmt().GetTargetList()[0].GetResTarget().GetVal()
		}
		if expr() == nil {
			continue
		}
		i := indexOf(cols, g.name)
		if i >= 0 {
			for _, l := range sel.ValuesLists {
				if items := l.GetList().GetItems(); i < len(items) && items[i].GetSetToDefault() != nil {
					items[i] = expr()
					changed = true
				}
			}
			continue
		}
		cols = append(cols, g.name)
		changed = true
		if len(sel.ValuesLists) == 0 {
			sel.TargetList = append(sel.TargetList, pg.MakeResTargetNodeWithVal(expr(), -1))
			continue
		}
		for _, l := range sel.ValuesLists {
			l.GetList().Items = append(l.GetList().Items, expr())
		}
	}
	if changed {
		in.Cols = in.Cols[:0]
		for _, c := range cols {
			in.Cols = append(in.Cols, &pg.Node{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Name: c}}})
		}
	}
	return changed, nil
}

// explainedWrite prepares the write an EXPLAIN shows (q, changed in
// place): an INSERT gets its sequence values (as EXPLAIN in Citus, this
// takes them from the sequences), and the writes planWrite refuses, or
// runs other than as planned (an UPDATE moving rows), are refused.
func (s *Session) explainedWrite(ctx context.Context, st *catalogState, q *pg.Node) error {
	sql, err := deparseNode(q)
	if err != nil {
		return nil // the planner reports it
	}
	w, _ := firstWord(sql)
	switch w {
	case "insert":
		if in := q.GetInsertStmt(); in != nil && s.mayFillSequences(ctx, st, sql) {
			if _, _, err := s.fillSequences(ctx, st, in, -1); err != nil {
				return err
			}
		}
		if mayUpdateOnConflict(st, sql) {
			return s.checkConflictUpdate(st, sql)
		}
	case "update", "with":
		if containsFold(sql, "nextval") {
			if err := s.checkUpdateNextval(st, sql); err != nil {
				return err
			}
		}
		if containsFold(sql, "default") && s.mayFillSequences(ctx, st, sql) {
			if err := s.checkUpdateDefaults(ctx, st, sql); err != nil {
				return err
			}
		}
		if mayMoveRows(st, sql) {
			move, err := s.updateMovesRows(ctx, st, sql)
			if err != nil {
				return err
			}
			if move {
				return &wire.Error{Code: pgerrcode.FeatureNotSupported,
					Message: "EXPLAIN of an UPDATE that moves rows between shards is not supported"}
			}
		}
	}
	return nil
}
