package wire

import (
	"context"

	"github.com/jackc/pgx/v5/pgproto3"
)

// simpleQuery runs a Query message. As in PostgreSQL it first destroys the
// unnamed statement and portal; a query string of only whitespace is
// answered with EmptyQueryResponse without calling the session (a string of
// only comments or semicolons is the session's to answer).
func (c *conn) simpleQuery(ctx context.Context, sql string) error {
	c.dropUnnamed(ctx)
	if isEmptyQuery(sql) {
		if err := c.w.send(&pgproto3.EmptyQueryResponse{}); err != nil {
			return err
		}
		return c.readyForQuery(ctx)
	}
	res := &results{c: c}
	err := c.sess.SimpleQuery(ctx, sql, res)
	if c.readErr != nil {
		return c.readErr
	}
	if err != nil {
		if err := c.report(err); err != nil {
			return err
		}
	}
	return c.readyForQuery(ctx)
}
