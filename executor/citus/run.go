package citus

import (
	"context"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/wire"
)

// Run executes a statement Match accepted: the function calls and view
// reads of a query (see doc.go), or DDL on distributed and reference
// tables. It sends the statement's RowDescription, DataRows and
// CommandComplete (and NoticeResponses) to w. It does not change stmt.
// Errors have SQLState(): the metadata database's and workers' own,
// or an *Error.
func Run(ctx context.Context, env *Env, sql string, stmt *pg.RawStmt, w wire.Results) error {
	if env == nil || env.Store == nil || env.Coord == nil || env.Pools == nil || env.Session == nil || env.Meta == nil {
		return errorf(pgerrcode.InternalError, "citus: Env lacks Store, Coord, Pools, Session or Meta")
	}
	r := &runner{env: env, log: env.logger(), w: w}
	n := proto.Clone(stmt.Stmt).(*pg.Node)
	switch kind(n) {
	case kindQuery:
		return r.query(ctx, n)
	case kindDDL:
		return r.ddl(ctx, n)
	}
	return errorf(pgerrcode.InternalError, "citus: statement is not for the Citus API: %s", sql)
}

// runner is the state of one Run.
type runner struct {
	env *Env
	log hclog.Logger
	w   wire.Results
}

// snapshot returns the current catalog.
func (r *runner) snapshot(ctx context.Context) (*catalog.Snapshot, error) {
	return r.env.Store.Snapshot(ctx)
}

// query runs a SELECT that calls our functions or reads our views.
func (r *runner) query(ctx context.Context, n *pg.Node) error {
	if err := r.rewriteCalls(ctx, n); err != nil {
		return err
	}
	if readsViews(n) {
		if err := r.rewriteViews(ctx, n); err != nil {
			return err
		}
	}
	sql, err := deparse(n)
	if err != nil {
		return err
	}
	rows, err := r.env.Meta.Query(ctx, sql)
	if err != nil {
		return err
	}
	return r.send(rows)
}

// send relays a result to the client.
func (r *runner) send(rows *Rows) error {
	if rows.Fields != nil {
		if err := r.w.Send(&pgproto3.RowDescription{Fields: rows.Fields}); err != nil {
			return err
		}
		for _, v := range rows.Values {
			if err := r.w.Send(&pgproto3.DataRow{Values: v}); err != nil {
				return err
			}
		}
	}
	return r.w.Send(&pgproto3.CommandComplete{CommandTag: []byte(rows.Tag)})
}

// complete sends CommandComplete with tag.
func (r *runner) complete(tag string) error {
	return r.w.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
}

// notice sends a NOTICE to the client (and logs it at debug level).
func (r *runner) notice(msg, hint string) {
	r.log.Debug("notice", "message", msg)
	_ = r.w.Send(&pgproto3.NoticeResponse{Severity: "NOTICE", SeverityUnlocalized: "NOTICE",
		Code: pgerrcode.SuccessfulCompletion, Message: msg, Hint: hint})
}
