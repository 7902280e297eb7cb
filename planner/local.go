package planner

// mentionsShardedTable is the cheap first test of every statement: it
// scans the text (no parse) and reports whether any identifier outside
// strings and comments is the name of a distributed or reference table.
// When none is, the statement is local. A false positive (a column that
// shares a table's name) only costs a parse.
func (p *Planner) mentionsShardedTable(sql string) bool {
	if len(p.names) == 0 {
		return false
	}
	l := lexer{s: sql}
	for {
		id, ok := l.next()
		if !ok {
			return false
		}
		if p.names[id] {
			return true
		}
	}
}

// mentionsView is the same test for the views over distributed tables:
// a statement naming none is not walked for views to expand.
func (p *Planner) mentionsView(sql string) bool {
	if len(p.viewNames) == 0 {
		return false
	}
	l := lexer{s: sql}
	for {
		id, ok := l.next()
		if !ok {
			return false
		}
		if p.viewNames[id] {
			return true
		}
	}
}
