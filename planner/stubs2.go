package planner

type algebraTree struct{}

func (algebraTree) String() string                       { return "todo" }
func (p *Planner) Build(sql string) (algebraTree, error) { return algebraTree{}, nil }

type ExplainOptions struct{ Verbose bool }
type explainTree struct{}

func (explainTree) String() string                  { return "todo" }
func Explain(p *Plan, o ExplainOptions) explainTree { return explainTree{} }
