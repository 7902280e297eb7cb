package planner

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"github.com/pgfed/pgfed/catalog"
)

// splitter rewrites expressions of an aggregate query for the combine.
type splitter struct {
	p            *Planner
	q            *query
	w            *pg.SelectStmt
	groups       []*pg.Node
	distinctKeys int
	// widened is set when a DISTINCT aggregate adds its argument to the
	// shards' GROUP BY: a shard's group then no longer holds all the
	// rows of the query's group it has.
	widened bool
	// retyped are the row values that give final steps the type of their
	// partial column (see ownType), completed by padRows.
	retyped []retype
}

// retype is a row value of the intermediate result's row type holding
// one final step at its column.
type retype struct {
	row *pg.RowExpr
	col int
}

// widensGroups reports whether some DISTINCT aggregate of the query
// pushes its argument into the shards' GROUP BY: every one but
// count(DISTINCT dist) does, which is exact per shard only while the
// shards group by the query's keys alone.
func (sp *splitter) widensGroups() bool {
	widens := false
	eachCall(func(f *pg.FuncCall) bool {
		if f.AggDistinct && isAggregate(sp.p.schema, f) && !sp.distinctPerShard(f) {
			widens = true
		}
		return !widens
	}, aggExprs(sp.q.s)...)
	return widens
}

// distinctPerShard reports count(DISTINCT dist) over a distribution
// column: each value lives in one shard, so the shards' distinct counts
// add up, as long as no other DISTINCT aggregate widens the groups.
func (sp *splitter) distinctPerShard(f *pg.FuncCall) bool {
	return funcName(f) == "count" && len(f.Args) == 1 && f.AggFilter == nil && anyDistCol(sp.q, f.Args)
}

// groupBy adds worker column i (0-based) to the shards' GROUP BY. It is
// named by its ordinal: a key that is a constant cannot be written as an
// expression there (an integer would read as an ordinal, any other
// constant is an error).
func (sp *splitter) groupBy(i int) {
	sp.w.GroupClause = append(sp.w.GroupClause, intConst(int64(i+1)))
}

// add appends a worker column (or finds the same one) and returns a
// reference to it.
func (sp *splitter) add(e *pg.Node) *pg.Node {
	for i := len(sp.groups); i < len(sp.w.TargetList); i++ {
		if exprEqual(sp.w.TargetList[i].GetResTarget().Val, e) {
			return colNode(irCol(i))
		}
	}
	sp.w.TargetList = append(sp.w.TargetList, target(irCol(len(sp.w.TargetList)), e))
	return colNode(irCol(len(sp.w.TargetList) - 1))
}

// groupIndex returns the group key equal to e, or -1.
func (sp *splitter) groupIndex(e *pg.Node) int {
	var c colRef
	var ok bool
	if cr := e.GetColumnRef(); cr != nil {
		c, ok = resolveColumn(sp.q.top, cr)
	}
	for i, g := range sp.groups {
		if exprEqual(g, e) {
			return i
		}
		if ok {
			if gc := g.GetColumnRef(); gc != nil {
				if c2, ok2 := resolveColumn(sp.q.top, gc); ok2 && c2 == c {
					return i
				}
			}
		}
	}
	return -1
}

// groupOnly reports whether an ORDER BY expression (over the input)
// calls no aggregate, so it reads group keys only.
func (sp *splitter) groupOnly(e *pg.Node) bool {
	ok := true
	walkNodes(e, func(n *pg.Node) bool {
		if f := n.GetFuncCall(); f != nil && isAggregate(sp.p.schema, f) {
			ok = false
		}
		return ok && n.GetSubLink() == nil
	})
	return ok
}

// rewriteWorker returns an ORDER BY item for the worker: the expression
// itself (it reads group keys only).
func (sp *splitter) rewriteWorker(e *pg.Node) (*pg.Node, error) {
	if i := matchOutput(sp.q, e); i >= 0 && sp.q.outs[i].val != nil {
		return sp.q.outs[i].val, nil
	}
	return e, nil
}

// rewrite turns an expression over the input into one over the combine's
// columns: group keys become their column, aggregates their final step.
// orderBy allows output names and ordinals (ORDER BY, DISTINCT ON).
func (sp *splitter) rewrite(e *pg.Node, orderBy bool) (*pg.Node, error) {
	if orderBy {
		if c := e.GetAConst(); c != nil {
			return clone(e), nil
		}
		if cr := e.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
			if s := cr.Fields[0].GetString_(); s != nil {
				for _, o := range sp.q.outs {
					if o.name == s.Sval {
						return clone(e), nil
					}
				}
			}
		}
	}
	out := clone(e)
	var err error
	var walkErr error
	replaceNodes(out, func(n *pg.Node) *pg.Node {
		if walkErr != nil {
			return nil
		}
		if i := sp.groupIndex(n); i >= 0 {
			return colNode(irCol(i))
		}
		if f := n.GetFuncCall(); f != nil && isAggregate(sp.p.schema, f) {
			r, e := sp.final(f)
			if e != nil {
				walkErr = e
				return nil
			}
			return r
		}
		if n.GetColumnRef() != nil {
			walkErr = notPushable("column outside GROUP BY and aggregates")
		}
		return nil
	})
	if walkErr != nil {
		err = walkErr
	}
	return out, err
}

// final splits one aggregate call: it adds the partial columns to the
// worker and returns the combine expression.
func (sp *splitter) final(f *pg.FuncCall) (*pg.Node, error) {
	name := funcName(f)
	if f.AggWithinGroup || len(f.AggOrder) > 0 || f.FuncVariadic {
		return nil, notPushable("ordered aggregate %s", name)
	}
	filtered := func(fn string, args ...*pg.Node) *pg.Node {
		n := call(fn, args...)
		n.GetFuncCall().AggFilter = f.AggFilter
		return n
	}
	if f.AggDistinct {
		if len(f.Args) != 1 || f.AggFilter != nil {
			return nil, notPushable("DISTINCT aggregate with several arguments or FILTER")
		}
		if !sp.widened && sp.distinctPerShard(f) {
			part := filtered("count", f.Args[0])
			part.GetFuncCall().AggDistinct = true
			return cast(coalesce(call("sum", sp.add(part)), intConst(0)), "int8"), nil
		}
		switch name {
		case "count", "sum", "avg", "min", "max", "array_agg", "bool_and", "bool_or":
		default:
			return nil, notPushable("DISTINCT %s", name)
		}
		col, err := sp.distinctArg(f.Args[0])
		if err != nil {
			return nil, err
		}
		r := call(name, col)
		r.GetFuncCall().AggDistinct = true
		return r, nil
	}
	for _, a := range f.Args {
		if isRow(a) {
			return nil, notPushable("%s of a row value", name)
		}
	}
	arg := func() *pg.Node {
		if len(f.Args) > 0 {
			return f.Args[0]
		}
		return nil
	}
	switch name {
	case "count":
		var part *pg.Node
		if f.AggStar {
			part = filtered("count")
			part.GetFuncCall().AggStar = true
		} else {
			if len(f.Args) != 1 {
				return nil, notPushable("count with several arguments")
			}
			part = filtered("count", f.Args[0])
		}
		return cast(coalesce(call("sum", sp.add(part)), intConst(0)), "int8"), nil
	case "sum":
		if len(f.Args) != 1 {
			return nil, notPushable("odd sum")
		}
		col := sp.add(filtered("sum", arg()))
		return sp.ownType(call("sum", col), col), nil
	case "avg":
		if len(f.Args) != 1 {
			return nil, notPushable("odd avg")
		}
		s := sp.add(filtered("sum", arg()))
		c := sp.add(filtered("count", arg()))
		return binOp("/", call("sum", s), call("sum", c)), nil
	case "min", "max", "bool_and", "bool_or", "bit_and", "bit_or", "bit_xor":
		if len(f.Args) != 1 {
			return nil, notPushable("odd %s", name)
		}
		return call(name, sp.add(filtered(name, arg()))), nil
	case "every":
		return call("bool_and", sp.add(filtered("every", arg()))), nil
	case "string_agg":
		if len(f.Args) != 2 || f.Args[1].GetAConst() == nil {
			return nil, notPushable("string_agg with a computed delimiter")
		}
		return call("string_agg", sp.add(filtered("string_agg", f.Args...)), clone(f.Args[1])), nil
	case "array_agg", "json_agg", "jsonb_agg":
		if len(f.Args) != 1 {
			return nil, notPushable("odd %s", name)
		}
		if name == "array_agg" && !sp.scalarArg(arg()) {
			return nil, notPushable("array_agg of a value that may be an array")
		}
		col := sp.add(filtered(name, arg()))
		return sp.concat(name, col), nil
	}
	return nil, notPushable("aggregate %s cannot be split", name)
}

// distinctArg adds a DISTINCT aggregate's argument to the shards' GROUP
// BY and returns the combine's argument. A row value (a, b) travels as
// one column per field (an intermediate result cannot hold a column of
// type record) and is rebuilt by the combine.
func (sp *splitter) distinctArg(arg *pg.Node) (*pg.Node, error) {
	sp.distinctKeys++
	fields := []*pg.Node{arg}
	row := arg.GetRowExpr()
	if row != nil {
		fields = row.Args
	}
	var cols []*pg.Node
	for _, e := range fields {
		if isRow(e) {
			return nil, notPushable("DISTINCT aggregate of a nested row value")
		}
		col := sp.add(e)
		sp.groupBy(sp.column(col))
		cols = append(cols, col)
	}
	if row == nil {
		return cols[0], nil
	}
	return &pg.Node{Node: &pg.Node_RowExpr{RowExpr: &pg.RowExpr{Args: cols,
		RowFormat: pg.CoercionForm_COERCE_EXPLICIT_CALL, Location: -1}}}, nil
}

// column returns the 0-based index of a worker column reference made by
// add.
func (sp *splitter) column(col *pg.Node) int {
	name := col.GetColumnRef().Fields[0].GetString_().Sval
	for i := range sp.w.TargetList {
		if irCol(i) == name {
			return i
		}
	}
	return -1
}

// ownType returns e, a final step over worker column col, cast to col's
// own type: the type PostgreSQL's aggregate gives the argument's type,
// since the shards computed the same aggregate (sum over int4 partials of
// type bigint is numeric, but the query's sum is bigint). The planner does
// not know that type for an expression; the intermediate result does, as
// its column type, and casting a row value to the result's row type
// casts each field to its column's type:
// (ROW(NULL, .., e, .., NULL)::pgfed_ir_1).cK. padRows fills in the NULLs
// once the worker's columns are all known.
func (sp *splitter) ownType(e, col *pg.Node) *pg.Node {
	i := sp.column(col)
	row := &pg.RowExpr{Args: []*pg.Node{e}, RowFormat: pg.CoercionForm_COERCE_EXPLICIT_CALL, Location: -1}
	sp.retyped = append(sp.retyped, retype{row: row, col: i})
	typed := &pg.Node{Node: &pg.Node_TypeCast{TypeCast: &pg.TypeCast{Arg: &pg.Node{Node: &pg.Node_RowExpr{RowExpr: row}},
		TypeName: &pg.TypeName{Names: []*pg.Node{strNode(irName(1))}, Typemod: -1, Location: -1}, Location: -1}}}
	return &pg.Node{Node: &pg.Node_AIndirection{AIndirection: &pg.A_Indirection{Arg: typed,
		Indirection: []*pg.Node{strNode(irCol(i))}}}}
}

// padRows completes the row values of ownType to the worker's width.
func (sp *splitter) padRows() {
	for _, r := range sp.retyped {
		e := r.row.Args[0]
		r.row.Args = make([]*pg.Node, len(sp.w.TargetList))
		for i := range r.row.Args {
			r.row.Args[i] = &pg.Node{Node: &pg.Node_AConst{AConst: &pg.A_Const{Isnull: true, Location: -1}}}
		}
		r.row.Args[r.col] = e
	}
}

// isRow reports an expression of a row type the planner can see: a row
// constructor or a whole-row reference (t.*).
func isRow(e *pg.Node) bool {
	if e.GetRowExpr() != nil {
		return true
	}
	if cr := e.GetColumnRef(); cr != nil && len(cr.Fields) > 0 {
		return cr.Fields[len(cr.Fields)-1].GetAStar() != nil
	}
	return false
}

// argType returns the schema type of a plain column argument, 0 if not.
func (sp *splitter) argType(e *pg.Node) catalog.Type {
	cr := e.GetColumnRef()
	if cr == nil {
		return 0
	}
	c, ok := resolveColumn(sp.q.top, cr)
	if !ok || c.rel.def == nil {
		return 0
	}
	if j := c.rel.def.column(c.col); j >= 0 {
		return c.rel.def.Columns[j].Type
	}
	return 0
}

// scalarArg reports a plain column argument of a known non-array type.
func (sp *splitter) scalarArg(e *pg.Node) bool {
	t := sp.argType(e)
	return t.Hashable() || t == 3802 || t == 114 || t == 1186
}

// concat returns the final step of array_agg, json_agg and jsonb_agg: the
// partial arrays of the group's rows, unnested and aggregated again (the
// order of an unordered aggregate is unspecified, so any order is right).
func (sp *splitter) concat(name string, col *pg.Node) *pg.Node {
	unnest := map[string]string{"array_agg": "unnest", "json_agg": "json_array_elements", "jsonb_agg": "jsonb_array_elements"}[name]
	colName := col.GetColumnRef().Fields[0].GetString_().Sval
	sub := &pg.SelectStmt{TargetList: []*pg.Node{target("", call(name, colNode("e")))}}
	fn := &pg.Node{Node: &pg.Node_RangeFunction{RangeFunction: &pg.RangeFunction{
		Functions: []*pg.Node{pg.MakeListNode([]*pg.Node{call(unnest, colNode("i", colName)), nil})},
		Alias:     &pg.Alias{Aliasname: "e"}}}}
	sub.FromClause = []*pg.Node{tableNode(irName(1), "i"), fn}
	var conds []*pg.Node
	for i := range sp.groups {
		conds = append(conds, pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_NOT_DISTINCT, []*pg.Node{strNode("=")},
			colNode("i", irCol(i)), colNode(irName(1), irCol(i)), -1))
	}
	if len(conds) > 0 {
		sub.WhereClause = andNode(conds)
	}
	return &pg.Node{Node: &pg.Node_SubLink{SubLink: &pg.SubLink{SubLinkType: pg.SubLinkType_EXPR_SUBLINK,
		Subselect: selectNode(sub), Location: -1}}}
}
