package gateway

import (
	"fmt"
	"strings"

	"github.com/jackc/pgerrcode"
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/executor/federation"
	"github.com/pgfed/pgfed/planner/pgtree"
)

// Policy is what the gateway lets a coordinator run on its organization's
// workers, apart from the validator's check of PREPARE TRANSACTION
// (Verdict.Prepares). The zero Policy allows every table.
type Policy struct {
	// allowed are the tables a statement may name (nil: all).
	allowed map[string]bool
}

// NewPolicy returns the Policy allowing the tables named (none: all).
// Names are compared as PostgreSQL folds unquoted identifiers: lower case.
func NewPolicy(tables []string) Policy {
	if len(tables) == 0 {
		return Policy{}
	}
	p := Policy{allowed: make(map[string]bool, len(tables))}
	for _, t := range tables {
		p.allowed[strings.ToLower(t)] = true
	}
	return p
}

// Verdict is what Classify lets through with a condition.
type Verdict struct {
	// Prepares are the worker gids of the text's PREPARE TRANSACTION
	// statements, in order: the organization's validator must still
	// accept each (federation.App.CheckPrepare) before the text is sent.
	Prepares []string
	// CoordinatorPrepares are the gids of its PREPARE TRANSACTIONs of the
	// coordinator's own two-phase commit (dtx.GIDPrefix): they pass only
	// if the connection's transaction wrote no table data (catalog2pc.go).
	CoordinatorPrepares []string
	// Writes: some statement of the text may write table data.
	Writes bool
}

// Refusal is the gateway's answer to a statement it does not let through:
// PostgreSQL's ErrorResponse with Code as SQLSTATE.
type Refusal struct {
	// Code is the SQLSTATE: 42501 (insufficient_privilege) for a statement
	// the gateway forbids, 42601 (syntax_error) for a text it cannot
	// parse, 54000 for one too large to inspect.
	Code string
	// Reason says which statement and why.
	Reason string
}

// Error is the reason.
func (r *Refusal) Error() string { return r.Reason }

// SQLState is the refusal's SQLSTATE.
func (r *Refusal) SQLState() string { return r.Code }

func refused(format string, args ...any) *Refusal {
	return &Refusal{Code: pgerrcode.InsufficientPrivilege, Reason: fmt.Sprintf(format, args...)}
}

// deniedFunctions are the functions a statement may not call, by their
// unqualified name: they reach other sessions (and so the validator's),
// open connections out of the worker (where COMMIT PREPARED could be sent
// unseen), run SQL text the gateway cannot inspect, or read and write
// the server's files. deniedPrefixes cover families.
var deniedFunctions = map[string]bool{
	"pg_terminate_backend": true, "pg_cancel_backend": true, "pg_reload_conf": true, "pg_promote": true,
	"pg_read_file": true, "pg_read_binary_file": true, "pg_ls_dir": true, "pg_stat_file": true,
	"pg_file_write": true, "pg_file_rename": true, "pg_file_unlink": true,
	"lo_import": true, "lo_export": true,
	"ts_stat": true, "ts_rewrite": true, "cursor_to_xml": true, "cursor_to_xmlschema": true,
	"pg_replication_origin_advance": true, "pg_replication_origin_session_setup": true,
	"pg_logical_emit_message": true,
}

var deniedPrefixes = []string{"dblink", "query_to_xml", "table_to_xml", "schema_to_xml", "database_to_xml"}

// Classify parses a statement text (one or more statements, as in a
// simple Query or a Parse message) and says whether the gateway lets it
// through. It refuses the whole text if any statement is refused:
//
//   - COMMIT PREPARED and ROLLBACK PREPARED, of any gid but the
//     coordinator's own schema-change commits (catalog2pc.go): only the
//     organization's validator finalizes prepared transactions;
//   - PREPARE TRANSACTION of a gid that is neither a federated part gid
//     (federation.GIDPrefix, then <gid>_<suffix>) nor the coordinator's
//     own; the federated ones are listed in the Verdict for the validator
//     to check, the coordinator's for the connection to check that its
//     transaction wrote no data;
//   - DO, CALL, CREATE FUNCTION/PROCEDURE and LOAD: code the gateway
//     cannot inspect; CREATE OPERATOR, AGGREGATE, CAST, TRANSFORM,
//     CONVERSION, LANGUAGE, ACCESS METHOD and EVENT TRIGGER: calls of
//     functions it cannot see (an operator over pg_terminate_backend);
//   - CREATE/ALTER EXTENSION, foreign-data wrappers, servers, user
//     mappings, IMPORT FOREIGN SCHEMA and subscriptions: connections out
//     of the worker;
//   - ALTER SYSTEM, ALTER DATABASE ... SET, ALTER ROLE ... SET: settings
//     of other sessions, the validator's included (its search_path
//     decides what "pg_prepared_xacts" means);
//   - COPY to or from a server file or program;
//   - calls of the denied functions (deniedFunctions, deniedPrefixes);
//   - SET or set_config() of standard_conforming_strings or
//     client_encoding to values the gateway would read differently from
//     the worker (settings.go);
//   - with an allow-list, any table named outside it (see tables.go).
//
// A text that does not parse is refused with 42601: what the gateway
// cannot read it does not send. An empty text is allowed.
func (p Policy) Classify(sql string) (Verdict, *Refusal) {
	var v Verdict
	tree, err := pg.Parse(sql)
	if err != nil {
		return v, &Refusal{Code: pgerrcode.SyntaxError, Reason: "cannot parse the statement: " + err.Error()}
	}
	for _, raw := range tree.Stmts {
		if raw.Stmt == nil {
			continue
		}
		if r := p.statement(raw.Stmt, &v); r != nil {
			return Verdict{}, r
		}
		if writes(raw.Stmt) {
			v.Writes = true
		}
	}
	return v, nil
}

// statement checks one top-level statement.
func (p Policy) statement(n *pg.Node, v *Verdict) *Refusal {
	switch s := n.Node.(type) {
	case *pg.Node_TransactionStmt:
		switch s.TransactionStmt.Kind {
		case pg.TransactionStmtKind_TRANS_STMT_COMMIT_PREPARED:
			if !coordinatorGID(s.TransactionStmt.Gid) {
				return refused("COMMIT PREPARED is refused: only the organization's validator finalizes prepared transactions")
			}
		case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_PREPARED:
			if !coordinatorGID(s.TransactionStmt.Gid) {
				return refused("ROLLBACK PREPARED is refused: only the organization's validator finalizes prepared transactions")
			}
		case pg.TransactionStmtKind_TRANS_STMT_PREPARE:
			gid := s.TransactionStmt.Gid
			if coordinatorGID(gid) {
				v.CoordinatorPrepares = append(v.CoordinatorPrepares, gid)
				break
			}
			if !strings.HasPrefix(gid, federation.GIDPrefix) {
				return refused("PREPARE TRANSACTION %q is refused: only federated transactions (gids starting with %q) may be prepared here", gid, federation.GIDPrefix)
			}
			if _, ok := commit.PartOwner(gid); !ok {
				return refused("PREPARE TRANSACTION %q is refused: not a part gid <gid>_<suffix>", gid)
			}
			v.Prepares = append(v.Prepares, gid)
		}
	case *pg.Node_DoStmt:
		return refused("DO is refused: the gateway cannot inspect the code it runs")
	case *pg.Node_CallStmt:
		return refused("CALL is refused: the gateway cannot inspect the code it runs")
	case *pg.Node_CreateFunctionStmt:
		return refused("CREATE FUNCTION and CREATE PROCEDURE are refused: the gateway cannot inspect the code they would run")
	case *pg.Node_LoadStmt:
		return refused("LOAD is refused")
	case *pg.Node_DefineStmt:
		switch s.DefineStmt.Kind {
		case pg.ObjectType_OBJECT_OPERATOR, pg.ObjectType_OBJECT_AGGREGATE:
			return refused("CREATE OPERATOR and CREATE AGGREGATE are refused: they would call functions where the gateway cannot see a call")
		}
	case *pg.Node_CreateCastStmt, *pg.Node_CreateTransformStmt, *pg.Node_CreateConversionStmt, *pg.Node_CreatePlangStmt,
		*pg.Node_CreateEventTrigStmt, *pg.Node_CreateAmStmt:
		return refused("this statement is refused: it would call functions where the gateway cannot see a call")
	case *pg.Node_CreateSubscriptionStmt, *pg.Node_AlterSubscriptionStmt:
		return refused("subscriptions are refused: no connection out of the worker")
	case *pg.Node_CreateExtensionStmt, *pg.Node_AlterExtensionStmt, *pg.Node_AlterExtensionContentsStmt:
		return refused("CREATE and ALTER EXTENSION are refused")
	case *pg.Node_CreateFdwStmt, *pg.Node_AlterFdwStmt, *pg.Node_CreateForeignServerStmt, *pg.Node_AlterForeignServerStmt,
		*pg.Node_CreateUserMappingStmt, *pg.Node_AlterUserMappingStmt, *pg.Node_ImportForeignSchemaStmt:
		return refused("foreign-data wrappers, servers and user mappings are refused: no connection out of the worker")
	case *pg.Node_AlterSystemStmt:
		return refused("ALTER SYSTEM is refused")
	case *pg.Node_AlterDatabaseSetStmt, *pg.Node_AlterRoleSetStmt:
		return refused("ALTER DATABASE/ROLE ... SET is refused: it changes other sessions' settings, the validator's included")
	case *pg.Node_VariableSetStmt:
		if r := setStatement(s.VariableSetStmt); r != nil {
			return r
		}
	case *pg.Node_CopyStmt:
		if s.CopyStmt.IsProgram || s.CopyStmt.Filename != "" {
			return refused("COPY to or from a server file or program is refused: use STDIN or STDOUT")
		}
	}
	if r := deniedCall(n); r != nil {
		return r
	}
	return p.tables(n)
}

// deniedCall refuses a statement calling a denied function anywhere.
func deniedCall(n *pg.Node) *Refusal {
	var out *Refusal
	walk(n.ProtoReflect(), func(m protoreflect.Message) bool {
		if out != nil {
			return false
		}
		fc, ok := m.Interface().(*pg.FuncCall)
		if !ok || len(fc.Funcname) == 0 {
			return true
		}
		name := strings.ToLower(fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval())
		if name == "set_config" {
			out = setConfigCall(fc)
			return out == nil
		}
		if deniedFunctions[name] {
			out = refused("calling %s() is refused", name)
			return false
		}
		for _, pre := range deniedPrefixes {
			if strings.HasPrefix(name, pre) {
				out = refused("calling %s() is refused", name)
				return false
			}
		}
		return true
	})
	return out
}

// walk visits every message of a parse tree in pre-order (pgtree.Walk);
// fn returns false to skip a message's children.
func walk(r protoreflect.Message, fn func(protoreflect.Message) bool) { pgtree.WalkReflect(r, fn) }
