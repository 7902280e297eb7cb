package gateway

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pgfed/pgfed/executor/dtx"
	"github.com/pgfed/pgfed/executor/federation"
)

// The coordinator's own two-phase commit (executor/dtx, gids "pgfed_")
// still carries its catalog changes to the workers: create_distributed_table
// creates the shards on every worker, ALTER and DROP of a distributed table
// change them, and these commit atomically with the catalog by dtx's
// decision log. The gateway lets that through for transactions that
// change schema only, never for ones that wrote table data: rows written on
// several workers of an organization are committed only by the
// validators, under federated gids. So:
//
//   - PREPARE TRANSACTION of a gid under dtx.GIDPrefix passes only when
//     the connection's transaction has not written data (conn.wrote,
//     below); COMMIT PREPARED and ROLLBACK PREPARED of such a gid pass
//     (dtx's commit and recovery), never of a federated one.
//   - A statement "writes" unless it is known not to: schema changes,
//     transaction control, settings, and SELECT without INTO or
//     data-modifying WITH. TRUNCATE counts as a schema change, as in
//     Citus, where it is propagated like DDL. Anything else (INSERT,
//     UPDATE, DELETE, MERGE, COPY FROM, EXECUTE, ...) writes.
//   - The connection's "wrote" flag is set before a writing statement is
//     forwarded, and cleared only when the worker reports an idle session
//     (ReadyForQuery 'I') that answers every Query, Sync and FunctionCall
//     forwarded so far: the transaction that wrote has then ended. A Sync
//     the worker ignores (one sent during COPY FROM STDIN) leaves the count
//     behind, which only keeps the flag set longer: never shorter.
//
// A SELECT calling an existing function that writes is not seen (see
// doc.go, "What is not").

// coordinatorGID reports whether gid is one of the coordinator's own
// two-phase commits (dtx), not a federated transaction's part.
func coordinatorGID(gid string) bool {
	return strings.HasPrefix(gid, dtx.GIDPrefix) && !strings.HasPrefix(gid, federation.GIDPrefix)
}

// writes reports whether a top-level statement may write table data.
func writes(n *pg.Node) bool {
	switch s := n.Node.(type) {
	case *pg.Node_TransactionStmt, *pg.Node_VariableSetStmt, *pg.Node_VariableShowStmt,
		*pg.Node_CreateStmt, *pg.Node_AlterTableStmt, *pg.Node_DropStmt, *pg.Node_IndexStmt,
		*pg.Node_RenameStmt, *pg.Node_CommentStmt, *pg.Node_TruncateStmt, *pg.Node_CreateSeqStmt,
		*pg.Node_AlterSeqStmt, *pg.Node_ViewStmt, *pg.Node_CreateSchemaStmt, *pg.Node_GrantStmt,
		*pg.Node_GrantRoleStmt, *pg.Node_LockStmt, *pg.Node_AlterOwnerStmt, *pg.Node_AlterObjectSchemaStmt,
		*pg.Node_ConstraintsSetStmt, *pg.Node_DeallocateStmt, *pg.Node_DiscardStmt, *pg.Node_CreateStatsStmt,
		*pg.Node_AlterStatsStmt, *pg.Node_CreateEnumStmt, *pg.Node_AlterEnumStmt, *pg.Node_CompositeTypeStmt,
		*pg.Node_CreateDomainStmt, *pg.Node_AlterDomainStmt, *pg.Node_CreatePolicyStmt, *pg.Node_AlterPolicyStmt,
		*pg.Node_CreateTrigStmt, *pg.Node_CheckPointStmt:
		return false
	case *pg.Node_SelectStmt:
		return s.SelectStmt.IntoClause != nil || modifiesData(n)
	case *pg.Node_ExplainStmt:
		return s.ExplainStmt.Query != nil && writes(s.ExplainStmt.Query)
	}
	return true
}

// modifiesData reports whether a statement holds an INSERT, UPDATE,
// DELETE, MERGE or SELECT INTO anywhere (a data-modifying WITH).
func modifiesData(n *pg.Node) bool {
	found := false
	walk(n.ProtoReflect(), func(m protoreflect.Message) bool {
		if found {
			return false
		}
		switch m.Interface().(type) {
		case *pg.InsertStmt, *pg.UpdateStmt, *pg.DeleteStmt, *pg.MergeStmt, *pg.IntoClause:
			found = true
			return false
		}
		return true
	})
	return found
}
