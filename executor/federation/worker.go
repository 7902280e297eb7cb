package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// worker is the validator's connection to one of its organization's
// workers. It is used by the App's loop goroutine only.
type worker struct {
	w    Worker
	conn *pgx.Conn // nil until connected, and after an error
}

// WorkerError names the organization, worker and gid of a failed worker
// statement.
type WorkerError struct {
	// Org, Worker and GID name the organization, the worker and the worker
	// gid ("" when the statement is about no gid).
	Org, Worker, GID string
	// Op is the statement or step that failed.
	Op string
	// Err is the cause.
	Err error
}

// Error names the operation, organization, worker and gid.
func (e *WorkerError) Error() string {
	if e.GID == "" {
		return fmt.Sprintf("federation: org %s: worker %s: %s: %v", e.Org, e.Worker, e.Op, e.Err)
	}
	return fmt.Sprintf("federation: org %s: worker %s: gid %s: %s: %v", e.Org, e.Worker, e.GID, e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *WorkerError) Unwrap() error { return e.Err }

func (w *worker) connect(ctx context.Context) (*pgx.Conn, error) {
	if w.conn != nil && !w.conn.IsClosed() {
		return w.conn, nil
	}
	c, err := pgx.Connect(ctx, w.w.ConnString())
	if err != nil {
		return nil, err
	}
	w.conn = c
	return c, nil
}

// drop closes the connection after an error (the next call redials).
func (w *worker) drop() {
	if w.conn != nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = w.conn.Close(ctx)
		w.conn = nil
	}
}

func (w *worker) close() { w.drop() }

// prepared lists the gids prepared in the worker's database that start
// with prefix (pg_prepared_xacts is cluster-wide; COMMIT PREPARED must run
// in the database that prepared).
func (w *worker) prepared(ctx context.Context, prefix string) (map[string]bool, error) {
	c, err := w.connect(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.Query(ctx, `SELECT gid FROM pg_catalog.pg_prepared_xacts WHERE database = pg_catalog.current_database() AND pg_catalog.starts_with(gid, $1)`, prefix)
	if err != nil {
		w.drop()
		return nil, err
	}
	out := map[string]bool{}
	for rows.Next() {
		var gid string
		if err := rows.Scan(&gid); err != nil {
			rows.Close()
			w.drop()
			return nil, err
		}
		out[gid] = true
	}
	if err := rows.Err(); err != nil {
		w.drop()
		return nil, err
	}
	return out, nil
}

// finish runs COMMIT PREPARED (commit true) or ROLLBACK PREPARED of gid.
// A gid that is not prepared (any more) is reported as gone, with no
// error: the caller decides what that means.
func (w *worker) finish(ctx context.Context, gid string, commit bool) (gone bool, err error) {
	if !validGID(gid) {
		return false, fmt.Errorf("gid %q has bytes a literal cannot carry", gid)
	}
	c, err := w.connect(ctx)
	if err != nil {
		return false, err
	}
	verb := "ROLLBACK PREPARED"
	if commit {
		verb = "COMMIT PREPARED"
	}
	_, err = c.Exec(ctx, verb+" '"+gid+"'")
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return false, nil
	case errors.As(err, &pe) && pe.Code == "42704": // undefined_object: no such prepared transaction
		return true, nil
	case errors.As(err, &pe):
		return false, err
	default:
		w.drop()
		return false, err
	}
}

// validGID reports whether gid is made of the bytes commit allows in gids
// (so quoting it as a literal is exact).
func validGID(gid string) bool {
	return gid != "" && strings.Trim(gid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == ""
}
