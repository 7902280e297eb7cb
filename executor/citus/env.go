package citus

import (
	"context"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/catalog/store"
	"github.com/pgfed/pgfed/executor/dtx"
)

// Env is what the Citus API needs from the session that runs a statement.
// Store, Coord, Pools, Session and Meta are required; Txn and Log are
// optional.
type Env struct {
	// Store is the catalog. Catalog changes go through Store.Update, whose
	// metadata transaction is the commit point of every change that spans
	// the metadata database and the workers.
	Store *store.Store
	// Coord begins the distributed transactions the API runs on its own.
	Coord *dtx.Coordinator
	// Pools are the worker connection pools shared by all sessions. After
	// citus_add_node, citus_remove_node and pgfed_set_node_organization
	// the API calls Pools.SetNodes with the new catalog's nodes.
	Pools *dtx.Pools
	// Session is the session's view of the pools, for Coord.Begin.
	Session *dtx.Session
	// Txn is the session's open distributed transaction when the client is
	// inside a transaction block (BEGIN ... COMMIT), nil otherwise. With a
	// Txn, DDL on distributed tables runs on the shell through Meta and on
	// the shards in Txn (marked written), and commits or rolls back with
	// the client's block; statements that change the catalog refuse to run
	// in a block (25001). Without one, every call runs in and commits its
	// own transaction, atomically across the metadata database and the
	// workers.
	Txn *dtx.Txn
	// Meta is the session's connection to the metadata database.
	Meta Metadata
	// Log receives the API's log; nil means none.
	Log hclog.Logger
}

// Metadata runs statements on the session's own connection to the
// metadata database, in the client's current transaction (or in
// autocommit when the client has none), with the client's settings
// (search_path, citus.shard_count, ...).
type Metadata interface {
	// Query runs one SQL statement (simple protocol, text results) and
	// returns all its rows. A statement the server rejects returns the
	// server's error (a *pgconn.PgError or anything with SQLState()); in a
	// transaction block that error aborts the client's transaction, as it
	// would in PostgreSQL.
	Query(ctx context.Context, sql string) (*Rows, error)
}

// Rows is the complete result of one statement run through Metadata.
type Rows struct {
	// Fields describe the columns (nil for a statement without a result
	// set). Format codes are 0 (text).
	Fields []pgproto3.FieldDescription
	// Values are the rows, each column's text value; nil is NULL.
	Values [][][]byte
	// Tag is the command tag ("SELECT 3", "ALTER TABLE").
	Tag string
}

// logger returns env.Log, or a null logger.
func (env *Env) logger() hclog.Logger {
	if env.Log == nil {
		return hclog.NewNullLogger()
	}
	return env.Log.Named("citus")
}
