package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/catalog"
)

// Update runs fn in one metadata-database transaction and commits the
// catalog changes it makes through tx as one new catalog version:
//
//  1. the version row is locked first, so catalog changes are serialized
//     among all coordinators and fn sees the latest catalog;
//  2. fn runs; if it returns an error, everything is rolled back and that
//     error is returned as is;
//  3. the version is bumped and NotifyChannel notified (delivered on
//     commit);
//  4. the resulting catalog is loaded inside the transaction and checked;
//     a broken invariant rolls everything back and is returned (a
//     *catalog.InvariantError, wrapped);
//  5. the transaction commits and the checked snapshot becomes this
//     Store's cached snapshot.
//
// Every Update that commits bumps the version, even if fn changed nothing
// through tx (a rename done with Tx.Exec, say, changes names the snapshot
// holds). Shard and co-location ids taken by a rolled-back Update are not
// reused, as with any sequence.
func (s *Store) Update(ctx context.Context, fn func(tx *Tx) error) error {
	_, err := s.mutate(ctx, "update", func(ptx pgx.Tx) (bool, error) {
		return true, fn(&Tx{tx: ptx, log: s.log})
	})
	return err
}

// mutate runs fn in a transaction holding the version row lock. When fn
// reports a change, the version is bumped, the new catalog is loaded and
// checked in the transaction, the transaction commits and the snapshot is
// cached and returned; otherwise the transaction is rolled back and mutate
// returns nil. Errors from fn are returned as is; op names the operation in
// the store's own errors.
func (s *Store) mutate(ctx context.Context, op string, fn func(tx pgx.Tx) (changed bool, err error)) (*catalog.Snapshot, error) {
	var snap *catalog.Snapshot
	began := false
	attempt := func(c *pgx.Conn) error {
		tx, err := c.Begin(ctx)
		if err != nil {
			return fmt.Errorf("catalog %s: begin: %w", op, err)
		}
		began = true
		defer tx.Rollback(context.WithoutCancel(ctx))
		var v int64
		if err := tx.QueryRow(ctx, "SELECT version FROM pgfed.version FOR UPDATE").Scan(&v); err != nil {
			return fmt.Errorf("catalog %s: lock the catalog version: %w", op, err)
		}
		changed, err := fn(tx)
		if err != nil || !changed {
			return err
		}
		if err := tx.QueryRow(ctx, "UPDATE pgfed.version SET version = version + 1 RETURNING version").Scan(&v); err != nil {
			return fmt.Errorf("catalog %s: bump the catalog version: %w", op, err)
		}
		if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", NotifyChannel, strconv.FormatInt(v, 10)); err != nil {
			return fmt.Errorf("catalog %s: notify %s: %w", op, NotifyChannel, err)
		}
		snap, err = load(ctx, tx, s.log)
		if err != nil {
			return fmt.Errorf("catalog %s rolled back: the resulting catalog is invalid: %w", op, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("catalog %s: commit version %d: %w", op, v, err)
		}
		return nil
	}
	broken, err := s.run(ctx, attempt)
	if err != nil && broken && !began && ctx.Err() == nil {
		// An idle connection was dead (the server restarted): nothing was
		// done, so try again on a new one.
		s.pool.dropIdle()
		_, err = s.run(ctx, attempt)
	}
	if err != nil {
		return nil, err
	}
	if snap != nil {
		snap = s.cache(snap)
	}
	return snap, nil
}
