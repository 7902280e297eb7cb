package planner

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
)

// SELECT ... FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE across shards
// is pushed down whole: every shard group's statement keeps its locking
// clause, so the rows are locked on the workers, within the session's
// distributed transaction (held until it ends, as in PostgreSQL). It is
// pushed only where each returned row is a row of one shard that the
// statement reads as it is: no aggregates, GROUP BY, DISTINCT, HAVING or
// window functions (PostgreSQL refuses those itself, with the same
// message), and no LIMIT or OFFSET (each shard would lock rows the merge
// then drops). A statement that would need a pull is refused: the rows
// would be locked nowhere.

// lockable reports why a SELECT with a locking clause cannot be pushed to
// every shard group; nil when it can.
func (p *Planner) lockable(s *pg.SelectStmt) error {
	strength := lockStrength(s)
	switch {
	case hasAggregates(p.schema, s):
		return unsupported("FOR %s is not allowed with aggregate functions", strength)
	case len(s.GroupClause) > 0:
		return unsupported("FOR %s is not allowed with GROUP BY clause", strength)
	case len(s.DistinctClause) > 0:
		return unsupported("FOR %s is not allowed with DISTINCT clause", strength)
	case s.HavingClause != nil:
		return unsupported("FOR %s is not allowed with HAVING clause", strength)
	case hasWindows(s):
		return unsupported("FOR %s is not allowed with window functions", strength)
	case s.LimitCount != nil || s.LimitOffset != nil:
		return unsupported("SELECT ... FOR %s with LIMIT or OFFSET across several shards would lock rows it does not return; "+
			"pin the distribution column to one shard", strength)
	}
	return nil
}

// lockStrength names a statement's (first) locking clause as PostgreSQL's
// messages do: UPDATE, NO KEY UPDATE, SHARE or KEY SHARE.
func lockStrength(s *pg.SelectStmt) string {
	for _, n := range s.LockingClause {
		if lc := n.GetLockingClause(); lc != nil {
			switch lc.Strength {
			case pg.LockClauseStrength_LCS_FORKEYSHARE:
				return "KEY SHARE"
			case pg.LockClauseStrength_LCS_FORSHARE:
				return "SHARE"
			case pg.LockClauseStrength_LCS_FORNOKEYUPDATE:
				return "NO KEY UPDATE"
			}
			return "UPDATE"
		}
	}
	return "UPDATE"
}

// spaceLockWait mends pg_query's deparser, which writes "FOR UPDATE OF
// tNOWAIT" and "OF tSKIP LOCKED" (no space after the last relation of an
// OF list): it puts the space back before every NOWAIT and SKIP LOCKED
// glued to the word or quoted name before it. Text without either word is
// returned as is.
func spaceLockWait(s string) string {
	if !strings.Contains(s, "NOWAIT") && !strings.Contains(s, "SKIP LOCKED") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i > 0 && (strings.HasPrefix(s[i:], "NOWAIT") || strings.HasPrefix(s[i:], "SKIP LOCKED")) {
			if c := s[i-1]; c == '"' || identChar(c) {
				b.WriteByte(' ')
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
