package executor

import (
	"context"

	"github.com/jackc/pgx/v5/pgproto3"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/executor/citus"
	"github.com/pgfed/pgfed/wire"
)

// citusWords are the words that a statement for the Citus API contains
// (function and view names); a statement without any, and without DDL,
// is not parsed to ask citus.Match.
var citusWords = []string{"citus", "pgfed", "pg_dist_", "distribut", "create_reference_table",
	"worker_hash", "run_command_on_workers", "get_shard_id", "recover_prepared_transactions"}

// citusStatement returns the parsed statement when it is for the Citus API
// (citus.Match), nil otherwise. The text is scanned first, so ordinary
// statements pay no parse.
func (s *Session) citusStatement(st *catalogState, sql string, cmd command) *pg.RawStmt {
	if cmd != cmdDDL {
		found := false
		for _, w := range citusWords {
			if containsFold(sql, w) {
				found = true
				break
			}
		}
		if !found {
			return nil
		}
	} else if len(st.snap.Tables()) == 0 {
		return nil
	}
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return nil
	}
	if !citus.Match(st.snap, tree.Stmts[0]) {
		return nil
	}
	return tree.Stmts[0]
}

// runCitus runs a statement of the Citus API with the session's
// environment; the table shapes are reloaded afterwards (DDL may have
// changed them).
func (s *Session) runCitus(ctx context.Context, sql string, stmt *pg.RawStmt, w wire.Results) error {
	if s.block && (s.meta.txStatus == 'E' || s.meta.aborted) {
		return errInFailedTransaction
	}
	env := s.citusEnv()
	if s.block {
		env.Txn = s.ensureTxn()
	}
	err := citus.Run(ctx, env, sql, stmt, w)
	s.h.invalidate()
	return err
}

// citusEnv is the session's environment for the Citus API, without a
// distributed transaction.
func (s *Session) citusEnv() *citus.Env {
	return &citus.Env{
		Store:   s.h.store,
		Coord:   s.h.coord,
		Pools:   s.h.pools,
		Session: s.workers,
		Meta:    metaQuerier{s},
		Log:     s.log,
	}
}

// metaQuerier runs the Citus API's statements on the session's metadata
// connection, in the client's transaction; it implements citus.Metadata.
type metaQuerier struct{ s *Session }

// Query runs one statement and returns all its rows as text.
func (q metaQuerier) Query(ctx context.Context, sql string) (*citus.Rows, error) {
	rows := &citus.Rows{}
	tag, err := q.s.meta.internal(ctx, internalQuery{sql: sql, notices: true,
		fields: func(f []pgproto3.FieldDescription) error {
			if f != nil {
				rows.Fields = cloneFields(f)
			}
			return nil
		},
		row: func(r *pgproto3.DataRow) error {
			rows.Values = append(rows.Values, copyRow(r.Values))
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	rows.Tag = tag
	return rows, nil
}

// ddlResults relays a Citus DDL statement's answer under the extended
// protocol, where the statement was described as returning no rows.
type ddlResults struct{ wire.Results }

// Send drops a RowDescription (the extended protocol describes at
// Describe) and relays the rest.
func (r ddlResults) Send(msg pgproto3.BackendMessage) error {
	if _, ok := msg.(*pgproto3.RowDescription); ok {
		return nil
	}
	return r.Results.Send(msg)
}

// containsFold reports whether s contains sub (lower case ASCII), ignoring
// the case of s.
func containsFold(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for j < n {
			c := s[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}
