package executor

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/wire"
)

// explainOptions are the options of an EXPLAIN statement.
type explainOptions struct {
	analyze, verbose bool
	// sql is the option list passed on to the servers' own EXPLAIN.
	sql string
}

// explainCommand runs EXPLAIN [ANALYZE] [VERBOSE] of a statement on
// distributed tables: the planner's EXPLAIN tree (merge steps, the custom
// scan with its task count) filled with the workers' own EXPLAIN of the
// task shown (every task with citus.explain_all_tasks) and the metadata
// database's EXPLAIN of the combine query. handled is false when the
// statement names no distributed table (it then runs on the metadata
// database as it is).
func (s *Session) explainCommand(ctx context.Context, st *catalogState, sql string, b *binding, out *output) (bool, error) {
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return false, nil
	}
	ex := tree.Stmts[0].Stmt.GetExplainStmt()
	if ex == nil {
		return false, nil
	}
	if err := s.explainedWrite(ctx, st, ex.Query); err != nil {
		return true, err
	}
	_, pl, err := s.planInner(st, ex.Query)
	if err != nil {
		return true, err
	}
	if pl == nil {
		return false, nil
	}
	opts, err := parseExplainOptions(ex.Options)
	if err != nil {
		return true, err
	}
	if s.block && (s.meta.txStatus == 'E' || s.meta.aborted) {
		return true, errInFailedTransaction
	}
	bound, err := pl.Bind(b.plannerParams())
	if err != nil {
		return true, err
	}
	if !s.block && s.txn == nil {
		s.implicit = true
	}
	s.ensureTxn()
	text, err := s.explain(ctx, st, bound, b, opts)
	if err != nil {
		if s.implicit {
			s.endTxn(ctx, false)
		}
		return true, err
	}
	if s.implicit {
		if err := s.endTxn(ctx, true); err != nil {
			return true, err
		}
	}
	if out.describe {
		if err := out.r.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{
			Name: []byte("QUERY PLAN"), DataTypeOID: uint32(catalog.TypeText), DataTypeSize: -1, TypeModifier: -1}}}); err != nil {
			return true, err
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if err := out.row([][]byte{[]byte(line)}); err != nil {
			return true, err
		}
	}
	return true, out.complete("EXPLAIN")
}

// parseExplainOptions reads EXPLAIN's options; only the text format is
// supported.
func parseExplainOptions(opts []*pg.Node) (explainOptions, error) {
	var o explainOptions
	var parts []string
	for _, n := range opts {
		d := n.GetDefElem()
		if d == nil {
			continue
		}
		v := defText(d.Arg)
		on := d.Arg == nil || parseBool(v)
		switch d.Defname {
		case "analyze":
			o.analyze = on
		case "verbose":
			o.verbose = on
		case "format":
			if !strings.EqualFold(v, "text") {
				return o, &wire.Error{Code: pgerrcode.FeatureNotSupported, Message: "EXPLAIN of distributed statements supports FORMAT TEXT only"}
			}
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %t", strings.ToUpper(d.Defname), on))
	}
	if len(parts) > 0 {
		o.sql = "(" + strings.Join(parts, ", ") + ") "
	}
	return o, nil
}

// explain builds the EXPLAIN text of a bound plan.
func (s *Session) explain(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, o explainOptions) (string, error) {
	if len(pl.Shipped) > 0 {
		// As Citus's subplans: the shipped subqueries run, so that the
		// workers explain the tasks with their results (ship.go).
		resolved, err := s.resolveShipped(ctx, st, pl, b, nil)
		if err != nil {
			return "", err
		}
		if resolved != pl.Fallback {
			resolved.Shipped = pl.Shipped
		}
		pl = resolved
	}
	e := planner.Explain(pl, planner.ExplainOptions{Verbose: o.verbose, AllTasks: s.set.explainAll})
	var fill func(n *planner.ExplainNode) error
	fill = func(n *planner.ExplainNode) error {
		if n.Task != nil {
			lines, err := s.explainTask(ctx, st, n.Task, pl.Modify, b, o)
			if err != nil {
				return err
			}
			n.Lines = lines
		}
		for _, c := range n.Children {
			if err := fill(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := fill(e.Root); err != nil {
		return "", err
	}
	if pl.Modify && o.analyze {
		// EXPLAIN ANALYZE runs the statement: the tasks not shown run too.
		shown := map[*planner.Task]bool{}
		e.Walk(func(n *planner.ExplainNode) {
			if n.Task != nil {
				shown[n.Task] = true
			}
		})
		for i := range pl.Tasks {
			if !shown[&pl.Tasks[i]] {
				if _, err := s.explainTask(ctx, st, &pl.Tasks[i], true, b, o); err != nil {
					return "", err
				}
			}
		}
	}
	var combine *planner.ExplainNode
	e.Walk(func(n *planner.ExplainNode) {
		if n.CombineSQL != "" && n.Task == nil && combine == nil && n.Title != "Local (pgfed)" {
			combine = n
		}
	})
	if combine != nil && (pl.Kind == planner.KindCoordinator || pl.Merge.Kind == planner.MergeCombine) {
		lines, err := s.explainCombine(ctx, st, pl, b, o)
		if err != nil {
			return "", err
		}
		combine.Lines = lines
	}
	return e.String(), nil
}

// explainTask runs the worker's own EXPLAIN of a task and returns its
// lines.
func (s *Session) explainTask(ctx context.Context, st *catalogState, t *planner.Task, write bool, b *binding, o explainOptions) ([]string, error) {
	conn, err := s.txn.Conn(ctx, t.Node)
	if err != nil {
		return nil, s.taskError(st, t.Node, t, err)
	}
	if write && o.analyze {
		s.txn.MarkWrite(t.Node)
	}
	if err := s.alignSettings(ctx, conn); err != nil {
		return nil, s.txn.StatementError(ctx, t.Node, s.taskError(st, t.Node, t, err))
	}
	vals, formats, oids := b.taskArgs(t.Params)
	res := conn.ExecParams(ctx, "EXPLAIN "+o.sql+t.SQL, vals, oids, formats, nil).Read()
	if res.Err != nil {
		return nil, s.txn.StatementError(ctx, t.Node, s.taskError(st, t.Node, t, res.Err))
	}
	lines := make([]string, len(res.Rows))
	for i, r := range res.Rows {
		lines[i] = string(r[0])
	}
	return lines, nil
}

// explainCombine explains the combine query on the metadata database. Its
// intermediate results are made first: loaded for real under ANALYZE,
// else created empty with the columns the tasks would return (the
// workers describe the tasks without running them).
func (s *Session) explainCombine(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, o explainOptions) ([]string, error) {
	var temps []string
	type ir struct {
		name string
		cols []string
		plan *planner.Plan
	}
	var irs []ir
	for _, sp := range pl.Subplans {
		irs = append(irs, ir{sp.Result, sp.Columns, sp.Plan})
	}
	if len(pl.Tasks) > 0 && pl.Merge.Result != "" {
		tasks := *pl
		tasks.Subplans = nil
		tasks.Merge = planner.Merge{Kind: planner.MergeConcat}
		tasks.Kind = planner.KindMultiShard
		irs = append(irs, ir{pl.Merge.Result, pl.Merge.Columns, &tasks})
	}
	for _, r := range irs {
		if o.analyze {
			if _, err := s.loadIntermediate(ctx, st, r.plan, b, r.name, r.cols, planner.MaxIntermediateRowsSetting, "explain", nil); err != nil {
				return nil, err
			}
		} else if err := s.createEmptyIntermediate(ctx, st, r.plan, b, r.name, r.cols); err != nil {
			return nil, err
		}
		temps = append(temps, r.name)
	}
	vals, formats, _ := b.taskArgs(pl.Merge.Params)
	var lines []string
	_, err := s.meta.internal(ctx, internalQuery{sql: "EXPLAIN " + o.sql + pl.Merge.SQL, params: vals, paramFormats: formats,
		row: func(dr *pgproto3.DataRow) error {
			lines = append(lines, string(dr.Values[0]))
			return nil
		}})
	if err != nil {
		return nil, err
	}
	if len(temps) > 0 {
		if _, err := s.meta.internal(ctx, internalQuery{sql: "DROP TABLE " + strings.Join(quoteAll(temps), ", ")}); err != nil {
			return nil, err
		}
	}
	return lines, nil
}

// createEmptyIntermediate creates an intermediate result's table without
// rows, typed from the worker's description of the plan's first task (or
// of the first task of its deepest subplan-free part).
func (s *Session) createEmptyIntermediate(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, name string, cols []string) error {
	if len(pl.Tasks) == 0 || len(pl.Subplans) > 0 || len(pl.Shipped) > 0 || pl.Merge.Kind == planner.MergeCombine {
		// The result comes from a combine query of its own: load it.
		_, err := s.loadIntermediate(ctx, st, pl, b, name, cols, planner.MaxIntermediateRowsSetting, "explain", nil)
		return err
	}
	t := &pl.Tasks[0]
	conn, err := s.txn.Conn(ctx, t.Node)
	if err != nil {
		return s.taskError(st, t.Node, t, err)
	}
	_, _, oids := b.taskArgs(t.Params)
	sd, err := conn.Prepare(ctx, "", t.SQL, oids)
	if err != nil {
		return s.txn.StatementError(ctx, t.Node, s.taskError(st, t.Node, t, err))
	}
	if len(sd.Fields) < len(cols) {
		return internalError("intermediate result %s: %d columns named, %d described", name, len(cols), len(sd.Fields))
	}
	var ddl strings.Builder
	ddl.WriteString("CREATE TEMP TABLE " + catalog.QuoteIdentifier(name) + " (")
	for i, c := range cols {
		tn, err := s.h.typeName(ctx, sd.Fields[i].DataTypeOID, sd.Fields[i].TypeModifier)
		if err != nil {
			return err
		}
		if i > 0 {
			ddl.WriteString(", ")
		}
		ddl.WriteString(catalog.QuoteIdentifier(c) + " " + tn)
	}
	ddl.WriteString(") ON COMMIT DROP")
	_, err = s.meta.internal(ctx, internalQuery{sql: ddl.String()})
	return err
}
