package planner

// mentionsShardedTable is the cheap first test of every statement: it
// scans the text (no parse) and reports whether any identifier outside
// strings and comments is the name of a distributed or reference table.
// When none is, the statement is local. A false positive (a column that
// shares a table's name) only costs a parse.
func (p *Planner) mentionsShardedTable(sql string) bool { return mentionsAny(sql, p.names) }

// mentionsView is the same test for the views over distributed tables:
// a statement naming none is not walked for views to expand.
func (p *Planner) mentionsView(sql string) bool { return mentionsAny(sql, p.viewNames) }

// mentionsAny reports whether an identifier of sql, outside strings and
// comments, is in names.
func mentionsAny(sql string, names map[string]bool) bool {
	if len(names) == 0 {
		return false
	}
	l := lexer{s: sql}
	for {
		id, ok := l.next()
		if !ok {
			return false
		}
		if names[id] {
			return true
		}
	}
}
