package executor

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/wire"
)

// Views over distributed tables are ordinary views of the metadata
// database, where PostgreSQL would expand them over the empty shell
// tables. The planner expands them itself (planner/view.go); the catalog
// state gives it their definitions, read here when the catalog state is
// loaded: every view that depends, through its rewrite rule, on a
// distributed or reference table or on another such view, however and
// whenever it was created (a view created before its table was
// distributed is found too). CREATE, ALTER and DROP of a view through
// pgfed invalidate the state when their transaction ends (as for
// functions, functionguard.go).

// viewsQuery returns the views over distributed and reference tables:
// schema, name, definition, column names, and whether the view is a
// security_barrier one. It runs with an empty search_path, so that
// pg_get_viewdef qualifies every relation with its schema.
const viewsQuery = `SELECT set_config('search_path', '', true);
WITH RECURSIVE dv(oid) AS (
	SELECT r.ev_class FROM pg_rewrite r
	JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
	WHERE d.refobjid IN (SELECT logicalrelid FROM pgfed.partition) AND r.ev_class <> d.refobjid
	UNION
	SELECT r.ev_class FROM dv
	JOIN pg_depend d ON d.refobjid = dv.oid AND d.refclassid = 'pg_class'::regclass AND d.classid = 'pg_rewrite'::regclass
	JOIN pg_rewrite r ON r.oid = d.objid
	WHERE r.ev_class <> dv.oid
)
SELECT n.nspname, c.relname, pg_get_viewdef(c.oid),
	(SELECT string_agg(a.attname, E'\n' ORDER BY a.attnum) FROM pg_attribute a
		WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
	COALESCE('security_barrier=true' = ANY (c.reloptions) OR 'security_barrier=on' = ANY (c.reloptions), false)
FROM (SELECT DISTINCT oid FROM dv) v
JOIN pg_class c ON c.oid = v.oid AND c.relkind = 'v'
JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY n.nspname, c.relname;
SELECT proname FROM pg_proc UNION SELECT relname FROM pg_class WHERE relkind IN ('r', 'v', 'm', 'p', 'f')`

// loadViews reads the views over distributed and reference tables, and
// the names of every function and relation the metadata database has
// (for Session.currentFor); both nil when no table is distributed.
func (h *Handler) loadViews(ctx context.Context, snap *catalog.Snapshot) ([]planner.ViewDef, map[string]bool, error) {
	if len(snap.Tables()) == 0 {
		return nil, nil, nil
	}
	c, err := h.metaPool.Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer c.Release()
	res, err := c.PgConn().Exec(ctx, viewsQuery).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("read the views over distributed tables: %w", err)
	}
	if len(res) != 3 {
		return nil, nil, fmt.Errorf("read the views over distributed tables: %d results", len(res))
	}
	var views []planner.ViewDef
	for _, row := range res[1].Rows {
		v := planner.ViewDef{Relation: catalog.RelationName{Schema: string(row[0]), Name: string(row[1])},
			Query: string(row[2]), SecurityBarrier: string(row[4]) == "t"}
		if row[3] != nil {
			v.Columns = strings.Split(string(row[3]), "\n")
		}
		views = append(views, v)
	}
	funcs := make(map[string]bool, len(res[2].Rows))
	for _, row := range res[2].Rows {
		funcs[strings.ToLower(string(row[0]))] = true
	}
	return views, funcs, nil
}

// pendingView remembers a view over distributed tables created in the
// current transaction block, and refuses a local statement other than
// DDL that names one: the catalog state learns of the view only once the
// block commits (it is loaded on another connection), so until then the
// statement would read the view over the empty shells.
func (s *Session) pendingView(pl *planner.Plan, sql string) error {
	if pl.CreatedView != "" {
		if s.block {
			if s.pendingViews == nil {
				s.pendingViews = map[string]bool{}
			}
			s.pendingViews[strings.ToLower(pl.CreatedView)] = true
		}
		return nil
	}
	if len(s.pendingViews) == 0 || classify(sql) == cmdDDL {
		return nil
	}
	for i := 0; ; {
		start, j, _ := nextWord(sql, i)
		if start < 0 {
			break
		}
		if w := strings.ToLower(sql[start:j]); s.pendingViews[w] {
			return &wire.Error{Code: pgerrcode.FeatureNotSupported,
				Message: "the view " + w + " over distributed tables was created in this transaction block and cannot be read before it commits",
				Detail:  "pgfed expands views over distributed tables once their definition is committed; until then " + w + " would read the empty shell tables.",
				Hint:    "Commit the transaction that creates the view, then read it."}
		}
		i = j
	}
	return nil
}
