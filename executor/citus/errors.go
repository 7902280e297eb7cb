package citus

import (
	"errors"
	"fmt"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
)

// Error is an error of the Citus API's own making, for the client: a
// SQLSTATE from jackc/pgerrcode, a message in Citus's words, and the
// optional detail and hint Citus gives.
type Error struct {
	// Code is the SQLSTATE.
	Code string
	// Msg is the message.
	Msg string
	// DetailMsg and HintMsg are the DETAIL and HINT fields ("" for none).
	DetailMsg, HintMsg string
	// Err is the underlying cause, if any.
	Err error
}

// Error returns the message (and the cause's, if any).
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// SQLState returns the SQLSTATE.
func (e *Error) SQLState() string { return e.Code }

// Detail returns the DETAIL field.
func (e *Error) Detail() string { return e.DetailMsg }

// Hint returns the HINT field.
func (e *Error) Hint() string { return e.HintMsg }

// errorf builds an *Error.
func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// withDetail sets the detail and returns e.
func (e *Error) withDetail(format string, args ...any) *Error {
	e.DetailMsg = fmt.Sprintf(format, args...)
	return e
}

// withHint sets the hint and returns e.
func (e *Error) withHint(format string, args ...any) *Error {
	e.HintMsg = fmt.Sprintf(format, args...)
	return e
}

// notSupported is a feature_not_supported (0A000) error.
func notSupported(format string, args ...any) *Error {
	return errorf(pgerrcode.FeatureNotSupported, format, args...)
}

// inBlock is the error of a catalog change tried inside a transaction
// block.
func inBlock(what string) *Error {
	return errorf(pgerrcode.ActiveSQLTransaction, "%s cannot run inside a transaction block", what).
		withDetail("pgfed commits catalog changes atomically with the shards in a transaction of their own").
		withHint("Run it outside BEGIN ... COMMIT.")
}

// sqlState returns the SQLSTATE of err, or "" when it has none.
func sqlState(err error) string {
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return s.SQLState()
	}
	return ""
}

// isPgError reports whether err came from a PostgreSQL server.
func isPgError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe)
}

// WorkerError is a worker's failure, naming the worker; it keeps the
// worker's SQLSTATE, detail and hint.
type WorkerError struct {
	// Node is the worker's node id, Addr its host:port.
	Node int32
	Addr string
	// Err is the worker's error.
	Err error
}

// Error names the worker.
func (e *WorkerError) Error() string {
	return fmt.Sprintf("worker %d (%s): %v", e.Node, e.Addr, e.Err)
}

// Unwrap returns the worker's error.
func (e *WorkerError) Unwrap() error { return e.Err }

// SQLState returns the worker's SQLSTATE (08006 for a lost connection).
func (e *WorkerError) SQLState() string {
	if s := sqlState(e.Err); s != "" {
		return s
	}
	return pgerrcode.ConnectionFailure
}

// Detail returns the worker's DETAIL.
func (e *WorkerError) Detail() string {
	var pe *pgconn.PgError
	if errors.As(e.Err, &pe) {
		return pe.Detail
	}
	return ""
}

// Hint returns the worker's HINT.
func (e *WorkerError) Hint() string {
	var pe *pgconn.PgError
	if errors.As(e.Err, &pe) {
		return pe.Hint
	}
	return ""
}

// addrOf returns a connection's host:port.
func addrOf(c *pgconn.PgConn) string {
	if c == nil || c.Conn() == nil {
		return ""
	}
	return c.Conn().RemoteAddr().String()
}
