package citus

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pgfed/pgfed/catalog"
)

// Match reports whether a statement is for the Citus API, to be run by
// Run rather than planned:
//
//   - a SELECT (or VALUES, WITH ...) that calls one of our functions
//     (create_distributed_table, citus_add_node, ..., see functions.go)
//     anywhere, or reads one of our views (citus_shards, citus_tables,
//     pg_dist_node, pg_dist_partition, pg_dist_shard, pg_dist_placement,
//     pg_dist_colocation, pgfed_organizations; unqualified or in
//     pg_catalog);
//   - DROP SCHEMA of a schema holding distributed tables;
//   - a utility statement (DDL: CREATE INDEX, ALTER TABLE, DROP TABLE,
//     TRUNCATE, RENAME, COMMENT, VACUUM, ANALYZE, ...) that names a distributed or
//     reference table, or DROP INDEX while any table is distributed (the
//     index's table is found at run time). Run applies it to the shell
//     and every shard, or refuses it (0A000) when it cannot.
//
// Match is pure and cheap: it looks at the tree and the snapshot only. An
// unqualified table name matches a distributed table of that name in any
// schema; Run resolves names with the client's search_path and runs a
// statement that turns out to touch no distributed table unchanged on the
// metadata connection.
func Match(snap *catalog.Snapshot, stmt *pg.RawStmt) bool {
	if stmt == nil || stmt.Stmt == nil {
		return false
	}
	switch kind(stmt.Stmt) {
	case kindQuery:
		return callsOurs(stmt.Stmt) || readsViews(stmt.Stmt)
	case kindDDL:
		if snap == nil || len(snap.Tables()) == 0 {
			return false
		}
		if d := stmt.Stmt.GetDropStmt(); d != nil && d.RemoveType == pg.ObjectType_OBJECT_INDEX {
			return true
		}
		if d := stmt.Stmt.GetDropStmt(); d != nil && d.RemoveType == pg.ObjectType_OBJECT_SCHEMA {
			return len(distributedIn(snap, d)) > 0
		}
		return namesDistributed(snap, stmt.Stmt)
	}
	return false
}

// stmtKind sorts statements for Match and Run.
type stmtKind uint8

const (
	kindOther stmtKind = iota // DML, COPY, EXPLAIN, transaction control, SET, ...: not ours
	kindQuery                 // SELECT, VALUES
	kindDDL                   // utility statements that may name tables
)

// kind classifies a statement.
func kind(n *pg.Node) stmtKind {
	switch n.Node.(type) {
	case *pg.Node_SelectStmt:
		return kindQuery
	case *pg.Node_InsertStmt, *pg.Node_UpdateStmt, *pg.Node_DeleteStmt, *pg.Node_MergeStmt,
		*pg.Node_CopyStmt, *pg.Node_ExplainStmt, *pg.Node_TransactionStmt,
		*pg.Node_VariableSetStmt, *pg.Node_VariableShowStmt, *pg.Node_PrepareStmt,
		*pg.Node_ExecuteStmt, *pg.Node_DeallocateStmt, *pg.Node_DeclareCursorStmt,
		*pg.Node_FetchStmt, *pg.Node_ClosePortalStmt, *pg.Node_ViewStmt,
		*pg.Node_CreateTableAsStmt, *pg.Node_ListenStmt, *pg.Node_NotifyStmt,
		*pg.Node_UnlistenStmt, *pg.Node_DiscardStmt, *pg.Node_CallStmt,
		*pg.Node_DoStmt, *pg.Node_CreateStmt, *pg.Node_RuleStmt, *pg.Node_LockStmt:
		// CREATE TABLE ... (LIKE dist) or REFERENCES dist, views, rules and
		// LOCK over distributed tables are the session's and the planner's.
		return kindOther
	}
	return kindDDL
}

// callsOurs reports whether a query calls one of our functions.
func callsOurs(n *pg.Node) bool {
	found := false
	walk(n, func(m protoreflect.Message) bool {
		if fc, ok := m.Interface().(*pg.FuncCall); ok {
			if _, ok := lookupFunc(fc); ok {
				found = true
			}
		}
		return !found
	})
	return found
}

// readsViews reports whether a query reads one of our views.
func readsViews(n *pg.Node) bool {
	for _, rv := range rangeVars(n) {
		if viewFor(rv) != "" {
			return true
		}
	}
	return false
}

// namesDistributed reports whether a statement names a distributed or
// reference table (an unqualified name matches in any schema).
func namesDistributed(snap *catalog.Snapshot, n *pg.Node) bool {
	tables := snap.Tables()
	rvs := rangeVars(n)
	if d := n.GetDropStmt(); d != nil && d.RemoveType == pg.ObjectType_OBJECT_TABLE {
		for _, o := range d.Objects {
			rvs = append(rvs, nameRangeVar(o))
		}
	}
	for _, rv := range rvs {
		for _, t := range tables {
			if t.Relation.Name == rv.Relname && (rv.Schemaname == "" || rv.Schemaname == t.Relation.Schema) {
				return true
			}
		}
	}
	return false
}

// distributedIn returns the distributed tables in the schemas a DROP
// SCHEMA names.
func distributedIn(snap *catalog.Snapshot, d *pg.DropStmt) []catalog.Table {
	schemas := map[string]bool{}
	for _, o := range d.Objects {
		schemas[o.GetString_().GetSval()] = true
	}
	var out []catalog.Table
	for _, t := range snap.Tables() {
		if schemas[t.Relation.Schema] {
			out = append(out, t)
		}
	}
	return out
}
