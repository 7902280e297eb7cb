package planner

import (
	"strconv"
	"strings"

	"github.com/pgfed/pgfed/catalog"
)

// Kind is how a plan runs.
type Kind uint8

// The plan kinds. doc.go says how the executor runs each.
const (
	// KindLocal runs the statement unchanged on the session's metadata
	// connection: it names no distributed or reference table.
	KindLocal Kind = iota + 1
	// KindRouter sends one task to one node and streams its result to
	// the client unchanged.
	KindRouter
	// KindMultiShard sends one task per shard group and merges the
	// results as Merge says.
	KindMultiShard
	// KindCoordinator runs the subplans, then Merge.SQL on the metadata
	// connection over their intermediate results; it has no tasks of
	// its own.
	KindCoordinator
	// KindExplain is EXPLAIN of a statement on distributed tables: the
	// executor renders Explain(Explained, Explain), filling in the
	// servers' parts (running Explained first under ANALYZE).
	KindExplain
)

// String returns "local", "router", "multi-shard" or "coordinator".
func (k Kind) String() string {
	switch k {
	case KindLocal:
		return "local"
	case KindRouter:
		return "router"
	case KindMultiShard:
		return "multi-shard"
	case KindCoordinator:
		return "coordinator"
	case KindExplain:
		return "explain"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// MaxIntermediateRowsSetting is the setting that bounds the rows an
// intermediate result may hold; the executor fails a subplan whose result
// grows beyond it (SQLSTATE 54000, naming the setting).
const MaxIntermediateRowsSetting = "pgfed.max_intermediate_rows"

// Plan is a statement's physical plan: plain data that fully specifies
// the work, printable (String) and comparable. Plans are shared through
// the cache: never modify one; Bind returns a new one.
type Plan struct {
	// Kind says how the plan runs.
	Kind Kind
	// SQL is the statement's text as given, or, when it reads views over
	// distributed tables, as planned: with the views' definitions in
	// their place (view.go).
	SQL string
	// Subplans run first, in order; each one's rows are loaded into a
	// temporary table (an intermediate result) on the metadata
	// connection, which later tasks' combine query reads.
	Subplans []Subplan
	// Tasks are the per-shard statements, for KindRouter and
	// KindMultiShard. Nil while Deferred.
	Tasks []Task
	// Fragment is the template the tasks are made from; nil for local
	// and coordinator plans.
	Fragment *Fragment
	// Merge says how task results become the statement's result.
	Merge Merge
	// Deferred is set when the tasks depend on parameter values: call
	// Bind with them to get the tasks.
	Deferred bool
	// Alternative, for a deferred router plan, is the plan to use when
	// the bound parameters do not pin a single shard.
	Alternative *Plan
	// Modify is set for INSERT, UPDATE and DELETE plans (the executor
	// writes with 2PC when the tasks span nodes).
	Modify bool
	// Replicated is set when the tasks are the same write on every
	// placement of a reference table: all must succeed (2PC) and the
	// client gets the first task's result only.
	Replicated bool
	// Note says why the planner chose this plan (one line, for EXPLAIN
	// and tests).
	Note string
	// Explained is, for KindExplain, the plan of the explained
	// statement; Explain holds the options asked for.
	Explained *Plan
	// Explain holds the EXPLAIN options of a KindExplain plan.
	Explain ExplainOptions
	// CreatedView, for the local plan of CREATE [OR REPLACE] VIEW over
	// distributed tables, is the view's name (as the statement spells it,
	// unqualified): the executor learns of the view only once its
	// transaction commits.
	CreatedView string

	cat      *catalog.Snapshot
	owner    *Planner
	strategy strategy
	// lits, for a router plan pinned by literals only, are those
	// literals (the shape cache re-reads them from a new text).
	lits []*litSource
	// routerPrunes, for a deferred router, must all keep the same one
	// shard position at bind time.
	routerPrunes []Prune
	// rows, for a deferred INSERT ... VALUES, routes each row at bind
	// time (insertrows.go).
	rows *insertRows
	// Shipped are subqueries to run before the tasks, whose results go
	// into the tasks' SQL (and the combine query's) as constant arrays
	// in place of their markers (ship.go). Fallback is the plan to run
	// instead when one returns more rows than its limit allows (nil: fail
	// with the limit's error).
	Shipped  []Shipped
	Fallback *Plan

	// viewed is set when the statement's views were expanded: SQL is
	// not the client's text, so the shape cache must not cut it.
	viewed bool
}

// Task is one statement sent to one node.
type Task struct {
	// Position is the shard position (index into ShardsOf) of the task.
	Position int
	// ShardIDs lists the shards the task reads or writes, one per table
	// slot of the fragment.
	ShardIDs []int64
	// Node is the node chosen to run the task: the first of Nodes.
	Node int32
	// Nodes lists every node holding a placement of all of ShardIDs, by
	// id; the executor may fail over to the next.
	Nodes []int32
	// SQL is the exact statement text.
	SQL string
	// Params maps the task's parameters to the statement's: the task's
	// $i is the statement's $Params[i-1]. Empty when it takes none.
	Params []int
}

// Slot is one table reference in a fragment.
type Slot struct {
	// Table is the distributed or reference table.
	Table catalog.RelationName
	// Alias, when not empty, follows the shard name as " AS alias", so
	// column references qualified by the table's name still resolve.
	Alias string
}

// Fragment is a statement template with one hole per table reference:
// the SQL of the task at a shard position is Parts[0] + shard name of
// Slots[0] + Parts[1] + ... + Parts[len(Slots)].
type Fragment struct {
	// Parts are the texts between slots; len(Parts) == len(Slots)+1.
	Parts []string
	// Slots are the table references in text order.
	Slots []Slot
	// Prune selects the shard positions that get a task.
	Prune Prune
	// ShardCount is the number of shard positions of the fragment's
	// co-location group: the shard count of a hash table, shards per
	// organization times organizations for an organization table, 0 when
	// it reads reference tables only.
	ShardCount int
	// Params is the parameter mapping of every task (see Task.Params).
	Params []int

	// offsets are the byte offsets of the slots in the statement text,
	// for a fragment cut from the text.
	offsets []int
	// rels are the index of each slot's relation in the list the
	// fragment was made from.
	rels []int
}

// MergeKind is how task results are merged.
type MergeKind uint8

// The merge kinds.
const (
	// MergeConcat streams the tasks' rows in task order, in Go, applying
	// Limit and Offset when set.
	MergeConcat MergeKind = iota + 1
	// MergeSort streams a k-way merge of the tasks' sorted rows by Keys,
	// in Go, applying Limit and Offset when set.
	MergeSort
	// MergeCombine loads the tasks' rows into the intermediate result
	// Result and runs SQL on the metadata connection; its rows are the
	// statement's result.
	MergeCombine
)

// String returns "concat", "merge-sort" or "combine".
func (k MergeKind) String() string {
	switch k {
	case MergeConcat:
		return "concat"
	case MergeSort:
		return "merge-sort"
	case MergeCombine:
		return "combine"
	}
	return "merge(" + strconv.Itoa(int(k)) + ")"
}

// SortKey is one key of a streaming merge.
type SortKey struct {
	// Column is the 1-based column of the task rows compared.
	Column int
	// Type is the column's type; streaming merges compare only types
	// whose order Go reproduces exactly (integers, floats, numeric,
	// bool, date, timestamps, uuid).
	Type catalog.Type
	// Desc sorts descending.
	Desc bool
	// NullsFirst puts NULLs first (PostgreSQL's default is NULLS LAST
	// for ASC, NULLS FIRST for DESC; the planner always fills it in).
	NullsFirst bool
}

// Bound is a LIMIT or OFFSET value: a constant or a parameter.
type Bound struct {
	// Value is the constant (when Param is 0).
	Value int64
	// Param is the 1-based parameter number holding the value, 0 for a
	// constant.
	Param int
}

// String returns the value or "$n".
func (b Bound) String() string {
	if b.Param > 0 {
		return "$" + strconv.Itoa(b.Param)
	}
	return strconv.FormatInt(b.Value, 10)
}

// Merge says how task results become the result.
type Merge struct {
	// Kind is the merge kind.
	Kind MergeKind
	// Keys are the sort keys of MergeSort.
	Keys []SortKey
	// Limit and Offset, when set, apply after Concat or Sort.
	Limit, Offset *Bound
	// Output is the number of leading task columns the client sees
	// (later columns are sort keys only); 0 means all.
	Output int
	// Result names the intermediate result the tasks' rows are loaded
	// into for MergeCombine ("" when the plan has no tasks).
	Result string
	// Columns names the columns of Result, in order.
	Columns []string
	// SQL is the combine query.
	SQL string
	// Params is the combine query's parameter mapping (see Task.Params).
	Params []int
}

// Subplan is a plan whose rows become an intermediate result.
type Subplan struct {
	// Result names the temporary table the rows are loaded into.
	Result string
	// Columns names its columns; their types come from the
	// RowDescription of the subplan's result.
	Columns []string
	// Plan is the plan producing the rows (any kind but local).
	Plan *Plan
	// LimitSetting names the setting bounding its row count.
	LimitSetting string
	// Why says why the subplan exists ("pull orders", "cte x").
	Why string
}

// String formats the plan compactly, one line per part, as tests and
// EXPLAIN VERBOSE show it.
func (p *Plan) String() string {
	var b strings.Builder
	p.format(&b, "")
	return b.String()
}

// format writes the plan with an indent.
func (p *Plan) format(b *strings.Builder, ind string) {
	b.WriteString(ind + p.Kind.String())
	if p.Modify {
		b.WriteString(" modify")
	}
	if p.Replicated {
		b.WriteString(" replicated")
	}
	if p.Note != "" {
		b.WriteString(" (" + p.Note + ")")
	}
	b.WriteString("\n")
	for _, s := range p.Subplans {
		b.WriteString(ind + "  subplan " + s.Result + "(" + strings.Join(s.Columns, ", ") + ") <- " + s.Why + " [limit " + s.LimitSetting + "]\n")
		s.Plan.format(b, ind+"    ")
	}
	for _, s := range p.Shipped {
		b.WriteString(ind + "  shipped " + s.Marker + " <- subquery [limit " + s.LimitSetting + "]\n")
		s.Plan.format(b, ind+"    ")
	}
	if p.Kind == KindLocal {
		b.WriteString(ind + "  sql: " + p.SQL + "\n")
		return
	}
	if p.Fragment != nil && p.Deferred {
		f := p.Fragment
		b.WriteString(ind + "  deferred prune " + f.Prune.String() + ": " + f.text(nil) + params(f.Params) + "\n")
	}
	for _, t := range p.Tasks {
		ids := make([]string, len(t.ShardIDs))
		for i, id := range t.ShardIDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		b.WriteString(ind + "  task node=" + strconv.Itoa(int(t.Node)) + " shards=" + strings.Join(ids, ",") + ": " + t.SQL + params(t.Params) + "\n")
	}
	if p.Kind != KindRouter && p.Kind != KindExplain {
		p.Merge.format(b, ind+"  ")
	}
	if p.Alternative != nil {
		b.WriteString(ind + "  otherwise:\n")
		p.Alternative.format(b, ind+"    ")
	}
	if p.Fallback != nil {
		b.WriteString(ind + "  past the limit:\n")
		p.Fallback.format(b, ind+"    ")
	}
	if p.Explained != nil {
		p.Explained.format(b, ind+"  ")
	}
}

// params formats a parameter mapping.
func params(ps []int) string {
	if len(ps) == 0 {
		return ""
	}
	s := make([]string, len(ps))
	for i, x := range ps {
		s[i] = "$" + strconv.Itoa(x)
	}
	return " [params " + strings.Join(s, ",") + "]"
}

// format writes the merge.
func (m Merge) format(b *strings.Builder, ind string) {
	b.WriteString(ind + "merge " + m.Kind.String())
	for i, k := range m.Keys {
		if i == 0 {
			b.WriteString(" by")
		}
		b.WriteString(" " + strconv.Itoa(k.Column) + ":" + k.Type.String())
		if k.Desc {
			b.WriteString(" desc")
		}
		if k.NullsFirst {
			b.WriteString(" nulls-first")
		}
	}
	if m.Limit != nil {
		b.WriteString(" limit " + m.Limit.String())
	}
	if m.Offset != nil {
		b.WriteString(" offset " + m.Offset.String())
	}
	if m.Output > 0 {
		b.WriteString(" output " + strconv.Itoa(m.Output))
	}
	if m.Kind == MergeCombine {
		if m.Result != "" {
			b.WriteString(" into " + m.Result + "(" + strings.Join(m.Columns, ", ") + ")")
		}
		b.WriteString(": " + m.SQL + params(m.Params))
	}
	b.WriteString("\n")
}

// text instantiates the fragment with the given shard names, or with
// "<table>" placeholders when names is nil.
func (f *Fragment) text(names []string) string {
	var b strings.Builder
	for i, part := range f.Parts {
		b.WriteString(part)
		if i < len(f.Slots) {
			if names == nil {
				b.WriteString("<" + f.Slots[i].Table.Name + ">")
			} else {
				b.WriteString(names[i])
			}
			if f.Slots[i].Alias != "" {
				b.WriteString(" AS " + catalog.QuoteIdentifier(f.Slots[i].Alias))
			}
		}
	}
	return b.String()
}
