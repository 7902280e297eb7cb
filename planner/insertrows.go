package planner

import (
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgerrcode"
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"

	"github.com/pgfed/pgfed/catalog"
)

// maxRowFragments bounds the fragments an insertRows keeps, one per set
// of rows that went to one shard together.
const maxRowFragments = 64

// insertRows routes the rows of a prepared INSERT ... VALUES whose
// distribution values (or, for an organization table, organization or
// hash column values) are parameters: each row's shard is known at bind
// time only. Bind groups the rows by shard; all in one shard run the
// plan's Fragment (the whole statement), else each shard gets an INSERT
// of its rows, cut from a copy of the statement and kept by row set.
type insertRows struct {
	// prunes holds each row's shards.
	prunes []Prune
	table  catalog.Table
	name   string // the target as the statement names it, for messages
	// stmt is the parsed INSERT (nil for one row): never modified,
	// cloned to cut a shard's rows.
	stmt *pg.Node

	mu        sync.Mutex
	fragments map[string]*Fragment // by row set ("0,2,5")
}

// insertDeferred plans a multi-row INSERT ... VALUES with parameters in
// the distribution column: the rows are split per shard at Bind.
func (p *Planner) insertDeferred(sql string, stmt *pg.Node, target *rel, a *analysis, rows []Prune) (*Plan, error) {
	for _, r := range a.rels {
		if r != target && r.sharded() {
			return nil, unsupported("a multi-row INSERT with parameters in the distribution column cannot read %s", r.name)
		}
	}
	f, err := p.fragmentOf(sql, stmt, []*rel{target})
	if err != nil {
		return nil, err
	}
	f.ShardCount = p.positionCount(target.table)
	f.Prune = Prune{Op: PruneOr, Args: rows}
	return &Plan{Kind: KindMultiShard, SQL: sql, cat: p.cat, Fragment: f, Merge: Merge{Kind: MergeConcat},
		Modify: true, Deferred: true, Note: "rows split per shard",
		rows: &insertRows{prunes: rows, table: target.table, name: target.name, stmt: stmt}}, nil
}

// bindRows makes the tasks of a deferred INSERT: each row's shard from
// the parameters; out is the plan being bound.
func (p *Plan) bindRows(out *Plan, b boundParams) (*Plan, error) {
	ir := p.rows
	n := p.Fragment.ShardCount
	groups := map[int][]int{}
	var order []int
	for i, pr := range ir.prunes {
		s, all, err := evalNull(pr, n, b)
		if err != nil {
			return nil, err
		}
		if all || len(s) != 1 {
			return nil, ir.rowError(pr, b)
		}
		if _, ok := groups[s[0]]; !ok {
			order = append(order, s[0])
		}
		groups[s[0]] = append(groups[s[0]], i)
	}
	pl := p.planner()
	out.rows = nil
	out.Merge = Merge{Kind: MergeConcat}
	if len(order) == 1 {
		tasks, err := pl.tasks(p.Fragment, order)
		if err != nil {
			return nil, err
		}
		out.Kind, out.Tasks, out.Note = KindRouter, tasks, "one shard group"
		return out, nil
	}
	out.Kind, out.Tasks = KindMultiShard, nil
	for _, pos := range order {
		f, err := ir.fragment(groups[pos], n, p.SQL)
		if err != nil {
			return nil, err
		}
		tasks, err := pl.tasks(f, []int{pos})
		if err != nil {
			return nil, err
		}
		out.Tasks = append(out.Tasks, tasks...)
	}
	return out, nil
}

// rowError says why a row's values keep no single shard: an
// organization that holds no shard of the table (23514), else a NULL
// (23502).
func (ir *insertRows) rowError(pr Prune, b boundParams) error {
	var orgErr error
	var visit func(pr Prune)
	visit = func(pr Prune) {
		if pr.Op == PruneOrg && orgErr == nil {
			if v, err := b.text(pr.Param); err == nil && len(pr.layout.ofOrg(v)) == 0 {
				orgErr = noOrganization(quoteLiteral(v), ir.name, ir.table.Column)
			}
		}
		for _, a := range pr.Args {
			visit(a)
		}
	}
	visit(pr)
	if orgErr != nil {
		return orgErr
	}
	if ir.table.Method == catalog.MethodOrganization && ir.table.HashColumn != "" {
		return errorf(pgerrcode.NotNullViolation, "cannot perform an INSERT with NULL in the organization column %s or the hash column %s of %s",
			ir.table.Column, ir.table.HashColumn, ir.name)
	}
	return errorf(pgerrcode.NotNullViolation, "cannot perform an INSERT with NULL in the distribution column %s of %s", ir.table.Column, ir.name)
}

// fragment returns the fragment of an INSERT of the given rows (indexes
// into the statement's VALUES list), with its parameters renumbered;
// sql is the statement's text (table markers must not occur in it).
func (ir *insertRows) fragment(rows []int, count int, sql string) (*Fragment, error) {
	key := make([]string, len(rows))
	for i, r := range rows {
		key[i] = strconv.Itoa(r)
	}
	k := strings.Join(key, ",")
	ir.mu.Lock()
	f, ok := ir.fragments[k]
	ir.mu.Unlock()
	if ok {
		return f, nil
	}
	stmt, ok := proto.Clone(ir.stmt).(*pg.Node)
	in := stmt.GetInsertStmt()
	sel := in.GetSelectStmt().GetSelectStmt()
	if !ok || in == nil || sel == nil {
		return nil, internalError("a deferred INSERT is not INSERT ... VALUES")
	}
	all := sel.ValuesLists
	sel.ValuesLists = make([]*pg.Node, len(rows))
	for i, r := range rows {
		sel.ValuesLists[i] = all[r]
	}
	mapping, _ := renumberParams(stmt)
	target := &rel{kind: relDistributed, rv: in.Relation, table: ir.table}
	f, err := treeFragment(stmt, []*rel{target}, sql)
	if err != nil {
		return nil, err
	}
	f.Params = mapping
	f.ShardCount = count
	ir.mu.Lock()
	if ir.fragments == nil || len(ir.fragments) >= maxRowFragments {
		ir.fragments = map[string]*Fragment{}
	}
	ir.fragments[k] = f
	ir.mu.Unlock()
	return f, nil
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
