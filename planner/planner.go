package planner

import (
	"errors"

	"github.com/jackc/pgerrcode"
	pg "github.com/pganalyze/pg_query_go/v5"
	"github.com/pgfed/pgfed/catalog"
)

// Planner plans statements against one catalog snapshot and one schema.
// It is immutable apart from its plan cache and safe for concurrent use;
// make a new one when the catalog or the schema changes.
type Planner struct {
	cat    *catalog.Snapshot
	schema *Schema
	// names holds the unqualified names of every distributed and
	// reference table and of every view over them, for the cheap local
	// test; viewNames those of the views alone.
	names     map[string]bool
	viewNames map[string]bool
	shards    map[catalog.RelationName][]catalog.Shard
	places    map[int64][]int32
	cache     *Cache
}

// New returns a planner over a catalog snapshot and a schema (nil means
// empty). cacheSize bounds the plan cache (0 disables it).
func New(cat *catalog.Snapshot, schema *Schema, cacheSize int) *Planner {
	if schema == nil {
		schema = NewSchema(nil, nil)
	}
	p := &Planner{cat: cat, schema: schema, names: map[string]bool{},
		shards: map[catalog.RelationName][]catalog.Shard{}, places: map[int64][]int32{},
		cache: NewCache(cacheSize)}
	if cat != nil {
		for _, t := range cat.Tables() {
			p.names[t.Relation.Name] = true
			shards := cat.ShardsOf(t.Relation)
			p.shards[t.Relation] = shards
			for _, sh := range shards {
				for _, pl := range cat.PlacementsOf(sh.ID) {
					p.places[sh.ID] = append(p.places[sh.ID], pl.NodeID)
				}
			}
		}
	} else {
		p.cat, _ = catalog.NewBuilder(0).Build()
	}
	for _, name := range schema.viewNames() {
		p.names[name] = true
		if p.viewNames == nil {
			p.viewNames = map[string]bool{}
		}
		p.viewNames[name] = true
	}
	return p
}

// Plan returns the plan of one statement given as text, from the cache
// when it has one. Parameters ($n) are kept symbolic; a plan whose tasks
// depend on them is Deferred (see Bind). Errors carry SQLState().
func (p *Planner) Plan(sql string) (*Plan, error) {
	if pl, ok := p.cache.get(sql); ok {
		return pl, nil
	}
	var key string
	var toks []tok
	shaped := false
	if p.cache != nil {
		key, toks, shaped = scanShape(sql)
		if shaped {
			if e, ok := p.cache.getShape(key); ok {
				if pl, ok := p.fromShape(sql, toks, e); ok {
					return pl, nil
				}
			}
		}
	}
	pl, err := p.planText(sql)
	if err != nil {
		return nil, err
	}
	setOwner(pl, p)
	if shaped && !pl.viewed {
		if e := shapeOf(sql, pl, toks); e != nil {
			p.cache.putShape(key, e)
			return pl, nil // literal-specific: the shape entry serves its kin
		}
	}
	p.cache.put(sql, pl)
	return pl, nil
}

// planText plans without the cache.
func (p *Planner) planText(sql string) (*Plan, error) {
	if !p.mentionsShardedTable(sql) {
		return p.local(sql, "names no distributed table"), nil
	}
	tree, err := pg.Parse(sql)
	if err != nil {
		return nil, syntaxError(err)
	}
	if len(tree.Stmts) == 1 && p.mentionsView(sql) {
		stmt, err := p.withViews(tree.Stmts[0].Stmt)
		if err != nil {
			return nil, err
		}
		if stmt != tree.Stmts[0].Stmt {
			// Plan the statement as if the client had written the views'
			// definitions (view.go).
			text, err := deparse(stmt)
			if err != nil {
				return nil, err
			}
			pl, err := p.planStatement(text, stmt)
			if err != nil {
				return nil, err
			}
			pl.viewed = true
			return pl, nil
		}
	}
	if len(tree.Stmts) != 1 {
		var n int
		for _, s := range tree.Stmts {
			a, err := p.resolve(s.Stmt)
			if err != nil {
				return nil, err
			}
			if d, r, _ := a.counts(); d+r > 0 {
				n++
			}
		}
		if n == 0 {
			return p.local(sql, "names no distributed table"), nil
		}
		return nil, unsupported("a query string with several statements cannot name distributed tables; send them one at a time")
	}
	return p.planStatement(sql, tree.Stmts[0].Stmt)
}

// local returns a local plan.
func (p *Planner) local(sql, why string) *Plan {
	return &Plan{Kind: KindLocal, SQL: sql, Note: why, cat: p.cat}
}

// planStatement plans one parsed statement.
func (p *Planner) planStatement(sql string, stmt *pg.Node) (*Plan, error) {
	a, err := p.resolve(stmt)
	if err != nil {
		return nil, err
	}
	dist, ref, _ := a.counts()
	if dist+ref == 0 {
		return p.local(sql, "names no distributed table"), nil
	}
	prunes, err := p.levelPrunes(a)
	if err != nil {
		return nil, err
	}
	switch s := stmt.GetNode().(type) {
	case *pg.Node_SelectStmt:
		return p.planSelect(sql, stmt, a, prunes)
	case *pg.Node_InsertStmt, *pg.Node_UpdateStmt, *pg.Node_DeleteStmt:
		return p.planModify(sql, stmt, a, prunes)
	case *pg.Node_ExplainStmt:
		return p.planExplain(sql, s.ExplainStmt)
	case *pg.Node_ViewStmt:
		return p.planView(sql, s.ViewStmt)
	default:
		_ = s
		return nil, unsupported("this statement on distributed or reference tables is not supported yet")
	}
}

// planSelect plans a SELECT: a router plan when one shard group holds
// everything, else a multi-shard pushdown, else a coordinator plan that
// pulls what it needs.
func (p *Planner) planSelect(sql string, stmt *pg.Node, a *analysis, prunes map[*rel]Prune) (*Plan, error) {
	if pl, ok, err := p.emptyPlan(sql, a, prunes); ok || err != nil {
		return pl, err
	}
	if pl, ok, err := p.router(sql, stmt, a, prunes); ok || err != nil {
		return pl, err
	}
	pl, err := p.pushdown(sql, stmt, a, prunes)
	if err == nil {
		return pl, nil
	}
	if !errors.Is(err, ErrNotPushable) {
		return nil, err
	}
	if pl, ok, serr := p.ship(sql, stmt, a, prunes, err); ok || serr != nil {
		return pl, serr
	}
	return p.recursive(sql, stmt, a, prunes, err)
}

// emptyPlan answers a SELECT whose every distributed table is pruned to
// no shard (a provably false predicate) and that reads no reference
// table: no shard is asked; the statement runs on the metadata database,
// whose empty shell tables give PostgreSQL's own answer to a query over no
// rows (an empty result, or count(*) = 0).
func (p *Planner) emptyPlan(sql string, a *analysis, prunes map[*rel]Prune) (*Plan, bool, error) {
	for _, r := range a.rels {
		if r.kind == relReference {
			return nil, false, nil
		}
		if !r.distributed() {
			continue
		}
		pr, ok := prunes[r]
		if !ok || pr.hasParams() {
			return nil, false, nil
		}
		pos, all, err := pr.Eval(p.positionCount(r.table), nil)
		if err != nil || all || len(pos) > 0 {
			return nil, false, err
		}
	}
	return &Plan{Kind: KindCoordinator, SQL: sql, cat: p.cat, Note: "no shard: predicates are false", strategy: stratEmpty,
		Merge: Merge{Kind: MergeCombine, SQL: sql}}, true, nil
}

// undefinedColumn is 42703 for a column a table does not have.
func undefinedColumn(col string, r *rel) error {
	return errorf(pgerrcode.UndefinedColumn, "column %s.%s does not exist", r.name, col)
}

// planExplain plans EXPLAIN of a statement on distributed tables: the
// inner statement is planned and the plan says which EXPLAIN options were
// asked for; the executor renders Explain(plan.Explained, plan.Explain).
func (p *Planner) planExplain(sql string, e *pg.ExplainStmt) (*Plan, error) {
	var opts ExplainOptions
	for _, o := range e.Options {
		d := o.GetDefElem()
		if d == nil {
			continue
		}
		on := true
		if d.Arg != nil {
			switch v := d.Arg.GetNode().(type) {
			case *pg.Node_String_:
				on = v.String_.Sval != "false" && v.String_.Sval != "off" && v.String_.Sval != "0"
			case *pg.Node_Boolean:
				on = v.Boolean.Boolval
			case *pg.Node_Integer:
				on = v.Integer.Ival != 0
			}
		}
		switch d.Defname {
		case "verbose":
			opts.Verbose = on
		case "analyze":
			opts.Analyze = on
		}
	}
	text, err := deparse(e.Query)
	if err != nil {
		return nil, err
	}
	inner, err := p.planText(text)
	if err != nil {
		return nil, err
	}
	if inner.Kind == KindLocal {
		return p.local(sql, "names no distributed table"), nil
	}
	setOwner(inner, p)
	note := "explain"
	if opts.Analyze {
		note += " analyze"
	}
	if opts.Verbose {
		note += " verbose"
	}
	return &Plan{Kind: KindExplain, SQL: sql, cat: p.cat, Explained: inner, Explain: opts, Note: note}, nil
}
