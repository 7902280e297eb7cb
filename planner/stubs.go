package planner

import pg "github.com/pganalyze/pg_query_go/v5"

func (p *Planner) planModify(sql string, stmt *pg.Node, a *analysis, prunes map[*rel]Prune) (*Plan, error) {
	pl, ok, err := p.router(sql, stmt, a, prunes)
	if ok || err != nil {
		return pl, err
	}
	return p.modifyAll(sql, stmt, a, prunes)
}
func (p *Planner) modifyAll(sql string, stmt *pg.Node, a *analysis, prunes map[*rel]Prune) (*Plan, error) {
	return nil, unsupported("todo")
}
