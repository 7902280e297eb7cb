package planner

import (
	"strconv"
	"strings"
)

// ExplainOptions are the EXPLAIN options the planner's part depends on.
type ExplainOptions struct {
	// Verbose shows the SQL of every task and combine query.
	Verbose bool
	// AllTasks shows every task, not only the first (Citus's
	// citus.explain_all_tasks).
	AllTasks bool
	// Analyze asks the executor to run the plan and add actual rows,
	// times and bytes received to the nodes' Props.
	Analyze bool
}

// ExplainNode is one node of the EXPLAIN output. The executor fills
// Lines of the nodes that stand for work done by a server: Task nodes get
// the worker's own EXPLAIN of Task.SQL, Combine nodes the metadata
// database's EXPLAIN of the combine query (with ANALYZE, actual rows and
// bytes received may be added to Props).
type ExplainNode struct {
	// Title is the node's first line ("Custom Scan (pgfed Router)").
	Title string
	// Props are "Key: value" lines under the title.
	Props []string
	// Task, when set, is the task whose worker EXPLAIN goes in Lines.
	Task *Task
	// CombineSQL, when set, is the query whose metadata EXPLAIN goes in
	// Lines.
	CombineSQL string
	// Lines are filled by the executor (one EXPLAIN line each).
	Lines []string
	// Children are the nodes below.
	Children []*ExplainNode
}

// Explanation is the planner's EXPLAIN tree of a plan.
type Explanation struct {
	// Root is the top node.
	Root *ExplainNode
}

// Explain returns the EXPLAIN tree of a plan, in Citus's layout: merge
// steps above a custom scan node that carries Task Count, Tasks Shown and
// one Task child per task shown.
func Explain(p *Plan, o ExplainOptions) *Explanation {
	return &Explanation{Root: explainPlan(p, o)}
}

// explainPlan builds the tree of one plan.
func explainPlan(p *Plan, o ExplainOptions) *ExplainNode {
	if p.Kind == KindExplain && p.Explained != nil {
		return explainPlan(p.Explained, o)
	}
	if p.Kind == KindLocal {
		return &ExplainNode{Title: "Local (pgfed)", CombineSQL: p.SQL, Props: verboseQuery(o, p.SQL)}
	}
	var scan *ExplainNode
	if p.Kind != KindCoordinator {
		scan = &ExplainNode{Title: "Custom Scan (pgfed " + kindTitle(p) + ")"}
		n := len(p.Tasks)
		if p.Deferred {
			scan.Props = append(scan.Props, "Task Count: decided at bind")
		} else {
			scan.Props = append(scan.Props, "Task Count: "+strconv.Itoa(n))
			shown := n
			switch {
			case o.AllTasks || n <= 1:
				scan.Props = append(scan.Props, "Tasks Shown: All")
			default:
				shown = 1
				scan.Props = append(scan.Props, "Tasks Shown: One of "+strconv.Itoa(n))
			}
			for i := 0; i < shown; i++ {
				scan.Children = append(scan.Children, explainTask(p, &p.Tasks[i], o))
			}
		}
	}
	top := scan
	switch {
	case p.Kind == KindRouter:
	case p.Merge.Kind == MergeCombine:
		title := "Combine (pgfed)"
		if p.Merge.Result != "" {
			title += " over " + p.Merge.Result
		}
		top = &ExplainNode{Title: title, CombineSQL: p.Merge.SQL, Props: verboseQuery(o, p.Merge.SQL)}
		if scan != nil {
			top.Children = append(top.Children, scan)
		}
	case p.Merge.Kind == MergeSort:
		var keys []string
		for _, k := range p.Merge.Keys {
			s := strconv.Itoa(k.Column)
			if k.Desc {
				s += " DESC"
			}
			keys = append(keys, s)
		}
		top = &ExplainNode{Title: "Merge Sort (pgfed)", Props: []string{"Sort Key: " + strings.Join(keys, ", ")},
			Children: []*ExplainNode{scan}}
	}
	if (p.Merge.Kind == MergeSort || p.Merge.Kind == MergeConcat) && p.Kind != KindRouter && (p.Merge.Limit != nil || p.Merge.Offset != nil) {
		lim := &ExplainNode{Title: "Limit (pgfed)", Children: []*ExplainNode{top}}
		if p.Merge.Limit != nil {
			lim.Props = append(lim.Props, "Count: "+p.Merge.Limit.String())
		}
		if p.Merge.Offset != nil {
			lim.Props = append(lim.Props, "Offset: "+p.Merge.Offset.String())
		}
		top = lim
	}
	for _, s := range p.Shipped {
		sub := &ExplainNode{Title: "Shipped Subplan " + s.Marker,
			Props: []string{"Row Limit Setting: " + s.LimitSetting}, Children: []*ExplainNode{explainPlan(s.Plan, o)}}
		top.Children = append(top.Children, sub)
	}
	for _, s := range p.Subplans {
		sub := &ExplainNode{Title: "Subplan " + s.Result + " (" + s.Why + ")",
			Props: []string{"Row Limit Setting: " + s.LimitSetting}, Children: []*ExplainNode{explainPlan(s.Plan, o)}}
		top.Children = append(top.Children, sub)
	}
	return top
}

// kindTitle names the custom scan.
func kindTitle(p *Plan) string {
	if p.Kind == KindRouter {
		return "Router"
	}
	return "Multi-Shard"
}

// verboseQuery is the "Query:" line under VERBOSE.
func verboseQuery(o ExplainOptions, sql string) []string {
	if !o.Verbose {
		return nil
	}
	return []string{"Query: " + sql}
}

// explainTask builds a Task node.
func explainTask(p *Plan, t *Task, o ExplainOptions) *ExplainNode {
	n := &ExplainNode{Title: "Task", Task: t}
	node := "node=" + strconv.Itoa(int(t.Node))
	if p.cat != nil {
		if nd, ok := p.cat.Node(t.Node); ok {
			node = "host=" + nd.Host + " port=" + strconv.Itoa(nd.Port)
		}
	}
	n.Props = append(n.Props, "Node: "+node)
	if len(t.ShardIDs) > 0 {
		ids := make([]string, len(t.ShardIDs))
		for i, id := range t.ShardIDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		n.Props = append(n.Props, "Shards: "+strings.Join(ids, ", "))
	}
	n.Props = append(n.Props, verboseQuery(o, t.SQL)...)
	return n
}

// String renders the tree as PostgreSQL renders EXPLAIN text: children
// under "->  " with their properties indented.
func (e *Explanation) String() string {
	var b strings.Builder
	e.Root.render(&b, "", true)
	return b.String()
}

// render writes one node.
func (n *ExplainNode) render(b *strings.Builder, ind string, root bool) {
	pad := ind
	if !root {
		b.WriteString(ind + "->  " + n.Title + "\n")
		pad = ind + "      "
	} else {
		b.WriteString(n.Title + "\n")
		pad = ind + "  "
	}
	for _, p := range n.Props {
		b.WriteString(pad + p + "\n")
	}
	for _, l := range n.Lines {
		b.WriteString(pad + l + "\n")
	}
	for _, c := range n.Children {
		c.render(b, pad, false)
	}
}

// Walk calls fn for every node, parents first; the executor uses it to
// fill Lines.
func (e *Explanation) Walk(fn func(*ExplainNode)) {
	var rec func(*ExplainNode)
	rec = func(n *ExplainNode) {
		fn(n)
		for _, c := range n.Children {
			rec(c)
		}
	}
	if e.Root != nil {
		rec(e.Root)
	}
}
