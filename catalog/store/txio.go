package store

import (
	"context"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Query runs a query in the catalog transaction (to read the shell
// table's definition as the transaction sees it, say). The rows must be
// closed before the next statement.
func (t *Tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.tx.Query(ctx, sql, args...)
}

// CopyTo runs a COPY ... TO STDOUT statement in the catalog transaction
// and writes its data to w (to stream a shell table's rows to the
// shards, say).
func (t *Tx) CopyTo(ctx context.Context, w io.Writer, sql string) (pgconn.CommandTag, error) {
	return t.tx.Conn().PgConn().CopyTo(ctx, w, sql)
}

// CopyFrom runs a COPY ... FROM STDIN statement in the catalog
// transaction with the data read from r (to refill a shell table from
// its shards, say).
func (t *Tx) CopyFrom(ctx context.Context, r io.Reader, sql string) (pgconn.CommandTag, error) {
	return t.tx.Conn().PgConn().CopyFrom(ctx, r, sql)
}
