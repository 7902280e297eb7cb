package planner

import (
	"strconv"
	"strings"
)

// Op is a relational algebra operator.
type Op uint8

// The operators of the algebra.
const (
	// OpScan reads a table (Table names it).
	OpScan Op = iota + 1
	// OpFilter keeps rows satisfying Exprs (a conjunction).
	OpFilter
	// OpProject computes the output columns Exprs.
	OpProject
	// OpJoin joins its two children (JoinType, condition in Exprs).
	OpJoin
	// OpAggregate groups by Keys and computes the aggregates Exprs.
	OpAggregate
	// OpDistinct removes duplicate rows (DISTINCT ON Keys when set).
	OpDistinct
	// OpWindow computes window functions Exprs.
	OpWindow
	// OpSort orders rows by Keys.
	OpSort
	// OpLimit keeps Exprs[0] rows after skipping Exprs[1].
	OpLimit
	// OpSetOp combines its children (UNION, INTERSECT, EXCEPT).
	OpSetOp
	// OpValues is a VALUES list.
	OpValues
	// OpCollect gathers the rows of its per-shard child from every shard
	// group kept (Shards says which).
	OpCollect
	// OpSubquery is a subquery in FROM or a WITH query (Table names it).
	OpSubquery
	// OpFunction is a function in FROM.
	OpFunction
)

// opNames are the operators' printed names.
var opNames = map[Op]string{OpScan: "Scan", OpFilter: "Filter", OpProject: "Project", OpJoin: "Join",
	OpAggregate: "Aggregate", OpDistinct: "Distinct", OpWindow: "Window", OpSort: "Sort", OpLimit: "Limit",
	OpSetOp: "SetOp", OpValues: "Values", OpCollect: "Collect", OpSubquery: "Subquery", OpFunction: "Function"}

// String returns the operator's name.
func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Rel is a node of the relational algebra tree: plain data, printable.
// Expressions are kept as SQL text.
type Rel struct {
	// Op is the operator.
	Op Op
	// Table names the scanned table (and its distribution) for Scan, the
	// alias for Subquery.
	Table string
	// Detail is the operator's qualifier: the join type, the set
	// operation, "partial"/"final" for a split aggregate, the shard set of
	// a Collect.
	Detail string
	// Keys are grouping, sort or DISTINCT ON keys.
	Keys []string
	// Exprs are the operator's expressions.
	Exprs []string
	// Inputs are the children.
	Inputs []*Rel
}

// String prints the tree, one operator a line, children indented.
func (r *Rel) String() string {
	var b strings.Builder
	r.format(&b, "")
	return b.String()
}

// format writes one node and its children.
func (r *Rel) format(b *strings.Builder, ind string) {
	b.WriteString(ind + r.Op.String())
	if r.Detail != "" {
		b.WriteString(" " + r.Detail)
	}
	if r.Table != "" {
		b.WriteString(" " + r.Table)
	}
	if len(r.Keys) > 0 {
		b.WriteString(" by " + strings.Join(r.Keys, ", "))
	}
	if len(r.Exprs) > 0 {
		sep := ": "
		if r.Op == OpFilter || r.Op == OpJoin {
			b.WriteString(sep + strings.Join(r.Exprs, " AND "))
		} else {
			b.WriteString(sep + strings.Join(r.Exprs, ", "))
		}
	}
	b.WriteString("\n")
	for _, c := range r.Inputs {
		c.format(b, ind+"  ")
	}
}

// unary makes a node over one input.
func unary(op Op, in *Rel) *Rel { return &Rel{Op: op, Inputs: []*Rel{in}} }
