package citus

import (
	"context"
	"strconv"

	"github.com/jackc/pgerrcode"
)

// The catalog transaction runs as the store's user, the workers' as the
// pools' user; the client's own privileges are enforced on the shell,
// where PostgreSQL checks them: shell statements run under SET LOCAL ROLE
// of the client's user, and functions that change a table check that the
// client may own it, as Citus does.

// clientRole returns the client's current_user, through Meta.
func (r *runner) clientRole(ctx context.Context) (string, error) {
	rows, err := r.env.Meta.Query(ctx, "SELECT current_user")
	if err != nil {
		return "", err
	}
	return string(rows.Values[0][0]), nil
}

// asClient runs fn in the change's catalog transaction with the client's
// role, as the client's own statement would run, then goes back to the
// store's.
func (r *runner) asClient(ctx context.Context, c *change, fn func() error) error {
	role, err := r.clientRole(ctx)
	if err != nil {
		return err
	}
	var mine string
	if err := queryRow(ctx, c.tx, "SELECT current_user", nil, &mine); err != nil {
		return err
	}
	if role == mine {
		return fn()
	}
	if _, err := c.tx.Exec(ctx, "SET LOCAL ROLE "+quoteIdent(role)); err != nil {
		return err
	}
	err = fn()
	if _, rerr := c.tx.Exec(ctx, "SET LOCAL ROLE "+quoteIdent(mine)); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// checkOwner fails with 42501 unless the client owns the table (or is a
// member of its owner's role).
func (r *runner) checkOwner(ctx context.Context, oid uint32) error {
	rows, err := r.env.Meta.Query(ctx, "SELECT pg_has_role(relowner, 'USAGE'), relname FROM pg_class WHERE oid = "+strconv.FormatUint(uint64(oid), 10))
	if err != nil {
		return err
	}
	if len(rows.Values) == 1 && string(rows.Values[0][0]) != "t" {
		return errorf(pgerrcode.InsufficientPrivilege, "must be owner of table %s", rows.Values[0][1])
	}
	return nil
}

// checkSuperuser fails with 42501 unless the client is a superuser: node
// and organization changes, and commands run on the workers (which run
// as the pools' user, so a client could not be held to its own
// privileges there).
func (r *runner) checkSuperuser(ctx context.Context, what string) error {
	rows, err := r.env.Meta.Query(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
	if err != nil {
		return err
	}
	if len(rows.Values) != 1 || string(rows.Values[0][0]) != "t" {
		return errorf(pgerrcode.InsufficientPrivilege, "operation is not allowed").
			withHint("Run %s as a superuser.", what)
	}
	return nil
}
