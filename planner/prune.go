package planner

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"github.com/pgfed/pgfed/catalog"
)

// PruneOp is the operator of a Prune expression.
type PruneOp uint8

// The prune operators.
const (
	// PruneAll keeps every shard (no usable predicate).
	PruneAll PruneOp = iota
	// PruneShards keeps the shard positions listed (none when empty).
	PruneShards
	// PruneParam keeps the shard the value of a statement parameter
	// hashes to; known at bind time only.
	PruneParam
	// PruneAnd keeps the shards every argument keeps.
	PruneAnd
	// PruneOr keeps the shards any argument keeps.
	PruneOr
	// PruneOrg keeps the shards of the organization a statement
	// parameter names (an organization table's organization column =
	// $n); known at bind time only.
	PruneOrg
	// PruneOrgHash keeps, in every organization, the shard whose index
	// the hash of a statement parameter picks (an organization table's
	// hash column = $n); known at bind time only.
	PruneOrgHash
)

// Prune says which shards of a co-located set of tables a statement
// needs, as data: evaluated at plan time when it holds no parameter, at
// bind time otherwise. Shard positions are indexes into
// catalog.Snapshot.ShardsOf of any table of the co-location group.
type Prune struct {
	// Op is the operator.
	Op PruneOp
	// Shards lists positions, ascending, for PruneShards.
	Shards []int
	// Param is the 1-based parameter number for PruneParam, PruneOrg
	// and PruneOrgHash.
	Param int
	// Type is the type the parameter is read as: the distribution
	// column's type for PruneParam and PruneOrg, the hash column's for
	// PruneOrgHash.
	Type catalog.Type
	// Args are the operands of PruneAnd and PruneOr.
	Args []Prune

	// lit, for PruneShards made from one literal, is where it came
	// from (for the shape cache).
	lit *litSource
	// layout, for PruneOrg and PruneOrgHash, is the organization table's
	// shard positions.
	layout *orgLayout
}

// orgLayout describes the shard positions of an organization table
// (catalog.Snapshot.ShardsOf order: by organization, then index).
type orgLayout struct {
	orgs  []string // the organization of each position
	index []int    // the shard index (within its organization) of each position
	count int      // the shards per organization (Table.ShardCount)
}

// newOrgLayout returns the layout of an organization table's shards.
func newOrgLayout(t catalog.Table, shards []catalog.Shard) *orgLayout {
	l := &orgLayout{orgs: make([]string, len(shards)), index: make([]int, len(shards)), count: t.ShardCount}
	for i, sh := range shards {
		l.orgs[i], l.index[i] = sh.Organization, sh.Index
	}
	return l
}

// ofOrg returns the positions of an organization's shards.
func (l *orgLayout) ofOrg(org string) []int {
	pos := []int{}
	for i, o := range l.orgs {
		if o == org {
			pos = append(pos, i)
		}
	}
	return pos
}

// ofHash returns the positions, one per organization, of the shards
// whose index the hash h picks.
func (l *orgLayout) ofHash(h int32) []int {
	idx := catalog.ShardIndex(h, max(l.count, 1))
	pos := []int{}
	for i, x := range l.index {
		if x == idx {
			pos = append(pos, i)
		}
	}
	return pos
}

// litSource is the literal a PruneShards was computed from.
type litSource struct {
	loc  int
	text string
	typ  catalog.Type
	kind litKind
}

// String formats the expression compactly: "all", "{0,3}", "$1",
// "and(...)", "or(...)".
func (p Prune) String() string {
	switch p.Op {
	case PruneAll:
		return "all"
	case PruneShards:
		s := make([]string, len(p.Shards))
		for i, x := range p.Shards {
			s[i] = strconv.Itoa(x)
		}
		return "{" + strings.Join(s, ",") + "}"
	case PruneParam:
		return "$" + strconv.Itoa(p.Param)
	case PruneOrg:
		return "org($" + strconv.Itoa(p.Param) + ")"
	case PruneOrgHash:
		return "orghash($" + strconv.Itoa(p.Param) + ")"
	}
	args := make([]string, len(p.Args))
	for i, a := range p.Args {
		args[i] = a.String()
	}
	op := "and"
	if p.Op == PruneOr {
		op = "or"
	}
	return op + "(" + strings.Join(args, ",") + ")"
}

// hasParams reports whether the expression needs parameter values.
func (p Prune) hasParams() bool {
	if p.Op == PruneParam || p.Op == PruneOrg || p.Op == PruneOrgHash {
		return true
	}
	for _, a := range p.Args {
		if a.hasParams() {
			return true
		}
	}
	return false
}

// Eval returns the shard positions kept, given the shard count n and, for
// parameters, a function hashing parameter k as type t. all is true when
// every shard is kept (positions is then nil). PruneOrg needs the
// parameter's value, not its hash: Eval keeps every shard for it (Bind
// reads the value).
func (p Prune) Eval(n int, hash func(k int, t catalog.Type) (int32, error)) (positions []int, all bool, err error) {
	switch p.Op {
	case PruneAll:
		return nil, true, nil
	case PruneShards:
		return p.Shards, false, nil
	case PruneParam:
		if hash == nil {
			return nil, true, nil
		}
		h, err := hash(p.Param, p.Type)
		if err != nil {
			return nil, false, err
		}
		return []int{catalog.ShardIndex(h, n)}, false, nil
	case PruneOrg:
		return nil, true, nil
	case PruneOrgHash:
		if hash == nil || p.layout == nil {
			return nil, true, nil
		}
		h, err := hash(p.Param, p.Type)
		if err != nil {
			return nil, false, err
		}
		return p.layout.ofHash(h), false, nil
	case PruneAnd:
		var acc []int
		accAll := true
		for _, a := range p.Args {
			s, all, err := a.Eval(n, hash)
			if err != nil {
				return nil, false, err
			}
			if all {
				continue
			}
			if accAll {
				acc, accAll = s, false
				continue
			}
			acc = intersect(acc, s)
		}
		return acc, accAll, nil
	case PruneOr:
		var acc []int
		for _, a := range p.Args {
			s, all, err := a.Eval(n, hash)
			if err != nil || all {
				return nil, all, err
			}
			acc = union(acc, s)
		}
		return acc, false, nil
	}
	return nil, true, nil
}

// intersect returns the sorted intersection of two sorted sets.
func intersect(a, b []int) []int {
	var out []int
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); ok {
			out = append(out, x)
		}
	}
	return out
}

// union returns the sorted union of two sorted sets.
func union(a, b []int) []int {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// and combines two prune expressions.
func and(a, b Prune) Prune {
	switch {
	case a.Op == PruneAll:
		return b
	case b.Op == PruneAll:
		return a
	case a.Op == PruneShards && b.Op == PruneShards:
		return Prune{Op: PruneShards, Shards: intersect(a.Shards, b.Shards)}
	case a.Op == PruneAnd:
		return Prune{Op: PruneAnd, Args: append(slices.Clone(a.Args), b)}
	}
	return Prune{Op: PruneAnd, Args: []Prune{a, b}}
}

// none is the expression that keeps no shard.
var none = Prune{Op: PruneShards, Shards: []int{}}

// conjuncts splits an expression at its top-level ANDs.
func conjuncts(n *pg.Node, out []*pg.Node) []*pg.Node {
	if n == nil {
		return out
	}
	if b := n.GetBoolExpr(); b != nil && b.Boolop == pg.BoolExprType_AND_EXPR {
		for _, a := range b.Args {
			out = conjuncts(a, out)
		}
		return out
	}
	return append(out, n)
}

// isFalse reports whether n is the constant false (or NULL) predicate.
func isFalse(n *pg.Node) bool {
	if c := n.GetAConst(); c != nil {
		if c.Isnull {
			return true
		}
		if b, ok := c.Val.(*pg.A_Const_Boolval); ok {
			return !b.Boolval.Boolval
		}
	}
	return false
}

// constraint returns the shards of relation r a predicate keeps; ok is
// false when the predicate says nothing usable about r's distribution
// column.
func (pl *Planner) constraint(l *level, r *rel, n *pg.Node) (Prune, bool, error) {
	if b := n.GetBoolExpr(); b != nil && b.Boolop == pg.BoolExprType_OR_EXPR {
		var args []Prune
		var shards []int
		for _, x := range b.Args {
			if isFalse(x) {
				continue
			}
			p, ok, err := pl.constraintConj(l, r, x)
			if err != nil || !ok {
				return Prune{}, false, err
			}
			if p.Op == PruneShards {
				shards = union(shards, p.Shards)
				continue
			}
			args = append(args, p)
		}
		if len(args) == 0 {
			return Prune{Op: PruneShards, Shards: nonNil(shards)}, true, nil
		}
		if shards != nil {
			args = append(args, Prune{Op: PruneShards, Shards: shards})
		}
		return Prune{Op: PruneOr, Args: args}, true, nil
	}
	return pl.leafConstraint(l, r, n)
}

// constraintConj is constraint for an OR branch that may itself be a
// conjunction: any usable conjunct restricts the branch.
func (pl *Planner) constraintConj(l *level, r *rel, n *pg.Node) (Prune, bool, error) {
	acc, any := Prune{Op: PruneAll}, false
	for _, c := range conjuncts(n, nil) {
		if isFalse(c) {
			return none, true, nil
		}
		p, ok, err := pl.constraint(l, r, c)
		if err != nil {
			return Prune{}, false, err
		}
		if ok {
			acc, any = and(acc, p), true
		}
	}
	return acc, any, nil
}

// nonNil returns s, or an empty non-nil set.
func nonNil(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

// leafConstraint handles col = value, value = col and col IN (values).
func (pl *Planner) leafConstraint(l *level, r *rel, n *pg.Node) (Prune, bool, error) {
	e := n.GetAExpr()
	if e == nil || len(e.Name) != 1 || e.Name[0].GetString_() == nil || e.Name[0].GetString_().Sval != "=" {
		return Prune{}, false, nil
	}
	col, val := e.Lexpr, e.Rexpr
	if pl.isOrgHashCol(l, r, col) || pl.isOrgHashCol(l, r, val) {
		if !pl.isOrgHashCol(l, r, col) {
			col, val = val, col
		}
		if e.Kind != pg.A_Expr_Kind_AEXPR_OP {
			return Prune{}, false, nil
		}
		return pl.orgHashPrune(r, val)
	}
	if !pl.isDistCol(l, r, col) {
		col, val = val, col
		if !pl.isDistCol(l, r, col) {
			return Prune{}, false, nil
		}
	}
	switch e.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		return pl.valuePrune(r, val)
	case pg.A_Expr_Kind_AEXPR_IN:
		list := val.GetList()
		if list == nil || col != e.Lexpr {
			return Prune{}, false, nil
		}
		var args []Prune
		var shards []int
		for _, v := range list.Items {
			p, ok, err := pl.valuePrune(r, v)
			if err != nil || !ok {
				return Prune{}, false, err
			}
			if p.Op == PruneShards {
				shards = union(shards, p.Shards)
			} else {
				args = append(args, p)
			}
		}
		if len(args) == 0 {
			return Prune{Op: PruneShards, Shards: nonNil(shards)}, true, nil
		}
		if shards != nil {
			args = append(args, Prune{Op: PruneShards, Shards: shards})
		}
		return Prune{Op: PruneOr, Args: args}, true, nil
	}
	return Prune{}, false, nil
}

// isDistCol reports whether n is a reference to r's distribution column.
func (pl *Planner) isDistCol(l *level, r *rel, n *pg.Node) bool {
	cr := n.GetColumnRef()
	if cr == nil {
		return false
	}
	c, ok := resolveColumn(l, cr)
	return ok && c.rel == r && c.distColumn()
}

// isOrgHashCol reports whether n is a reference to the hash column of
// r, an organization table.
func (pl *Planner) isOrgHashCol(l *level, r *rel, n *pg.Node) bool {
	cr := n.GetColumnRef()
	if cr == nil || r.table.Method != catalog.MethodOrganization || r.table.HashColumn == "" {
		return false
	}
	c, ok := resolveColumn(l, cr)
	return ok && c.rel == r && c.col == r.table.HashColumn
}

// orgHashPrune returns the shards of an organization table whose index
// (within each organization) holds the hash of a literal of its hash
// column: one shard per organization.
func (pl *Planner) orgHashPrune(r *rel, v *pg.Node) (Prune, bool, error) {
	t := r.table
	if p := v.GetParamRef(); p != nil {
		return Prune{Op: PruneOrgHash, Param: int(p.Number), Type: t.HashColumnType,
			layout: newOrgLayout(t, pl.shards[t.Relation])}, true, nil
	}
	if c := v.GetAConst(); c != nil && c.Isnull {
		return none, true, nil
	}
	s := literalFor(v, t.HashColumnType)
	if s == nil || t.HashColumnType == catalog.TypeTimestamptz {
		return Prune{}, false, nil
	}
	h, err := catalog.HashText(t.HashColumnType, *s)
	if err != nil {
		return Prune{}, false, nil
	}
	idx := catalog.ShardIndex(h, t.ShardCount)
	var pos []int
	for i, sh := range pl.shards[t.Relation] {
		if sh.Index == idx {
			pos = append(pos, i)
		}
	}
	return Prune{Op: PruneShards, Shards: nonNil(pos)}, true, nil
}

// valuePrune returns the shards a comparison with a value keeps.
func (pl *Planner) valuePrune(r *rel, v *pg.Node) (Prune, bool, error) {
	t := r.table
	if t.Method == catalog.MethodOrganization {
		if p := v.GetParamRef(); p != nil {
			return Prune{Op: PruneOrg, Param: int(p.Number), Type: t.ColumnType,
				layout: newOrgLayout(t, pl.shards[t.Relation])}, true, nil
		}
		if c := v.GetAConst(); c != nil && c.Isnull {
			return none, true, nil
		}
		s := literalText(v)
		if s == nil {
			return Prune{}, false, nil
		}
		var pos []int
		for i, sh := range pl.shards[t.Relation] {
			if sh.Organization == *s {
				pos = append(pos, i)
			}
		}
		return Prune{Op: PruneShards, Shards: nonNil(pos)}, true, nil
	}
	typ := t.ColumnType
	if p := v.GetParamRef(); p != nil {
		return Prune{Op: PruneParam, Param: int(p.Number), Type: typ}, true, nil
	}
	if c := v.GetAConst(); c != nil && c.Isnull {
		return none, true, nil
	}
	s := literalFor(v, typ)
	if s == nil || typ == catalog.TypeTimestamptz {
		return Prune{}, false, nil
	}
	h, err := catalog.HashText(typ, *s)
	if err != nil {
		// A value the input function rejects is PostgreSQL's error to
		// give, with its position; a syntax pgfed cannot read is no
		// pruning.
		return Prune{}, false, nil
	}
	pr := Prune{Op: PruneShards, Shards: []int{catalog.ShardIndex(h, t.ShardCount)}}
	if tc := v.GetTypeCast(); tc != nil {
		v = tc.Arg
	}
	if c := v.GetAConst(); c != nil {
		k := litString
		switch c.Val.(type) {
		case *pg.A_Const_Ival:
			k = litInt
		case *pg.A_Const_Fval:
			k = litNumeric
		}
		pr.lit = &litSource{loc: int(c.Location), text: *s, typ: typ, kind: k}
	}
	return pr, true, nil
}

// literalText returns the text of a string or numeric constant.
func literalText(v *pg.Node) *string {
	if tc := v.GetTypeCast(); tc != nil {
		v = tc.Arg
	}
	c := v.GetAConst()
	if c == nil || c.Isnull {
		return nil
	}
	var s string
	switch x := c.Val.(type) {
	case *pg.A_Const_Sval:
		s = x.Sval.Sval
	case *pg.A_Const_Ival:
		s = strconv.FormatInt(int64(x.Ival.Ival), 10)
	case *pg.A_Const_Fval:
		s = x.Fval.Fval
	case *pg.A_Const_Boolval:
		s = strconv.FormatBool(x.Boolval.Boolval)
	default:
		return nil
	}
	return &s
}

// intTypes are the integer types, whose equal values hash alike.
var intTypes = map[catalog.Type]bool{catalog.TypeInt2: true, catalog.TypeInt4: true, catalog.TypeInt8: true}

// textTypes are the types compared as text.
var textTypes = map[catalog.Type]bool{catalog.TypeText: true, catalog.TypeVarchar: true}

// literalFor returns the text of a constant that PostgreSQL compares with
// a column of type typ by the column type's own equality (so the shard of
// its hash is the only one that can match), or nil.
func literalFor(v *pg.Node, typ catalog.Type) *string {
	cast := catalog.Type(0)
	if tc := v.GetTypeCast(); tc != nil {
		t, ok := typeOf(tc.TypeName)
		if !ok {
			return nil
		}
		cast = t
		v = tc.Arg
	}
	c := v.GetAConst()
	if c == nil || c.Isnull {
		return nil
	}
	if cast != 0 && cast != typ && !(intTypes[cast] && intTypes[typ]) && !(textTypes[cast] && textTypes[typ]) {
		return nil
	}
	switch x := c.Val.(type) {
	case *pg.A_Const_Sval:
		s := x.Sval.Sval
		return &s
	case *pg.A_Const_Ival:
		if !intTypes[typ] && typ != catalog.TypeNumeric && cast == 0 {
			return nil
		}
		s := strconv.FormatInt(int64(x.Ival.Ival), 10)
		return &s
	case *pg.A_Const_Fval:
		// A decimal literal is numeric: only a numeric column compares
		// it by its own equality (123 and 123.0 hash alike there).
		if typ != catalog.TypeNumeric && cast == 0 {
			return nil
		}
		s := x.Fval.Fval
		return &s
	case *pg.A_Const_Boolval:
		if typ != catalog.TypeBool {
			return nil
		}
		s := strconv.FormatBool(x.Boolval.Boolval)
		return &s
	}
	return nil
}

// typeOf maps a type name to a hashable catalog type.
func typeOf(tn *pg.TypeName) (catalog.Type, bool) {
	if tn == nil || len(tn.ArrayBounds) > 0 || len(tn.Names) == 0 {
		return 0, false
	}
	last := tn.Names[len(tn.Names)-1].GetString_()
	if last == nil {
		return 0, false
	}
	return catalog.TypeByName(last.Sval)
}

// levelPrunes computes, for every distributed relation of the analysis,
// the shards it needs. Equalities between distribution columns at one
// level put relations in one class that shares its restrictions; a
// correlated equality with an outer level's relation inherits the outer
// class's restriction (never the other way round).
func (pl *Planner) levelPrunes(a *analysis) (map[*rel]Prune, error) {
	out := map[*rel]Prune{}
	for _, l := range a.levels {
		uf := map[*rel]*rel{}
		var find func(r *rel) *rel
		find = func(r *rel) *rel {
			if p, ok := uf[r]; ok && p != r {
				root := find(p)
				uf[r] = root
				return root
			}
			return r
		}
		quals := conjuncts(l.where, nil)
		for _, q := range l.innerQuals {
			quals = conjuncts(q, quals)
		}
		inherit := map[*rel][]*rel{}
		falseLevel := false
		for _, q := range quals {
			if isFalse(q) {
				falseLevel = true
			}
			x, y, ok := distEquality(l, q)
			if !ok {
				continue
			}
			switch {
			case x.level == l && y.level == l:
				uf[find(x)] = find(y)
			case x.level == l && y.level != l:
				inherit[x] = append(inherit[x], y)
			case y.level == l && x.level != l:
				inherit[y] = append(inherit[y], x)
			}
		}
		class := map[*rel]Prune{}
		for _, r := range l.rels {
			if !r.distributed() {
				continue
			}
			root := find(r)
			if _, ok := class[root]; !ok {
				class[root] = Prune{Op: PruneAll}
			}
			if falseLevel {
				class[root] = none
			}
			for _, q := range quals {
				p, ok, err := pl.constraint(l, r, q)
				if err != nil {
					return nil, err
				}
				if ok {
					class[root] = and(class[root], p)
				}
			}
			for _, o := range inherit[r] {
				if p, ok := out[o]; ok {
					class[root] = and(class[root], p)
				}
			}
		}
		for _, r := range l.rels {
			if r.distributed() {
				out[r] = class[find(r)]
			}
		}
	}
	return out, nil
}

// distEquality recognises a = b between the distribution columns of two
// co-located distributed relations (either may be at an outer level).
func distEquality(l *level, q *pg.Node) (*rel, *rel, bool) {
	e := q.GetAExpr()
	if e == nil || e.Kind != pg.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 ||
		e.Name[0].GetString_() == nil || e.Name[0].GetString_().Sval != "=" {
		return nil, nil, false
	}
	lc, rc := e.Lexpr.GetColumnRef(), e.Rexpr.GetColumnRef()
	if lc == nil || rc == nil {
		return nil, nil, false
	}
	x, ok1 := resolveColumn(l, lc)
	y, ok2 := resolveColumn(l, rc)
	if !ok1 || !ok2 || !x.distColumn() || !y.distColumn() || x.rel == y.rel {
		return nil, nil, false
	}
	if x.rel.table.ColocationID != y.rel.table.ColocationID || x.rel.table.Method != catalog.MethodHash {
		return nil, nil, false
	}
	return x.rel, y.rel, true
}

// describe formats a relation for messages.
func (r *rel) describe() string {
	if r.rv == nil {
		return fmt.Sprintf("relation #%d", r.id)
	}
	return r.table.Relation.String()
}
