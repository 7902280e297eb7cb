package dtx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
)

// Sentinel errors. Each reaches the client inside an *Error, which gives
// it a SQLSTATE.
var (
	// ErrSessionLimit: a session asked for more connections to a worker
	// than PoolConfig.MaxConnsPerSession allows (53300).
	ErrSessionLimit = errors.New("too many connections to the worker for one session")
	// ErrClosed: the pools were closed (57P01 admin_shutdown).
	ErrClosed = errors.New("worker connection pools are closed")
	// ErrUnknownNode: no pool serves the node id (42704 undefined_object).
	ErrUnknownNode = errors.New("unknown worker node")
	// ErrTxnDone: the transaction has already committed or rolled back
	// (25000 invalid_transaction_state).
	ErrTxnDone = errors.New("distributed transaction already ended")
	// ErrOutcomeUnknown: the commit decision was sent but its result was
	// lost (08007 transaction_resolution_unknown); recovery settles it.
	ErrOutcomeUnknown = errors.New("commit outcome unknown; recovery will settle it")
	// ErrWorkerAborted: a worker's transaction was already aborted when
	// the commit came, so COMMIT rolled it back (25P02
	// in_failed_sql_transaction).
	ErrWorkerAborted = errors.New("the worker's transaction was aborted; it was rolled back")
	// ErrTxnAborted: a statement failed and aborted the distributed
	// transaction; commands are refused until it ends (25P02).
	ErrTxnAborted = errors.New("current transaction is aborted, commands ignored until end of transaction block")
	// ErrConnLost: the connection to a worker broke during the transaction
	// (08006 connection_failure); the worker rolled its part back.
	ErrConnLost = errors.New("the connection to the worker was lost")
	// ErrNoSavepoint: no savepoint of that name is active (3B001
	// invalid_savepoint_specification).
	ErrNoSavepoint = errors.New("savepoint does not exist")
)

// sentinelCodes gives each sentinel its SQLSTATE.
var sentinelCodes = map[error]string{
	ErrSessionLimit:   pgerrcode.TooManyConnections,
	ErrClosed:         pgerrcode.AdminShutdown,
	ErrUnknownNode:    pgerrcode.UndefinedObject,
	ErrTxnDone:        pgerrcode.InvalidTransactionState,
	ErrOutcomeUnknown: pgerrcode.TransactionResolutionUnknown,
	ErrWorkerAborted:  pgerrcode.InFailedSQLTransaction,
	ErrNoSavepoint:    pgerrcode.InvalidSavepointSpecification,
	ErrConnLost:       pgerrcode.ConnectionFailure,
	ErrTxnAborted:     pgerrcode.InFailedSQLTransaction,
}

// sqlStater is any error that carries a SQLSTATE.
type sqlStater interface{ SQLState() string }

// Error is the failure of one step of a distributed transaction. It names
// the step, the worker and the global transaction id when there are some,
// keeps the worker's SQLSTATE, detail and hint, and gives every other
// failure a fitting SQLSTATE.
type Error struct {
	// Op is the step: "begin", "prepare", "commit prepared", ...
	Op string
	// Node is the worker's node id, 0 for none (the metadata database, or
	// the transaction as a whole).
	Node int32
	// Addr is the worker's host:port, "" when Node is 0.
	Addr string
	// GID is the global transaction id of a prepared transaction, or "".
	GID string
	// Err is the cause.
	Err error
	// Code, when set, is the SQLSTATE, overriding the cause's (for a
	// failure whose cause's own code would mislead the client, such as a
	// metadata connection's FATAL error that rolled a commit back).
	Code string
}

// Error returns "<op> on worker <id> (<addr>) [gid <gid>]: <cause>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Node != 0 {
		fmt.Fprintf(&b, " on worker %d (%s)", e.Node, e.Addr)
	}
	if e.GID != "" {
		fmt.Fprintf(&b, " gid %s", e.GID)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// SQLState returns the cause's SQLSTATE: the worker's own code, that of a
// sentinel, 08001 when a connection cannot be opened, 08006
// (connection_failure) for a broken connection, 57014
// (query_canceled) for a cancelled context, XX000 otherwise.
func (e *Error) SQLState() string {
	if e.Code != "" {
		return e.Code
	}
	return sqlState(e.Err)
}

// Detail returns the worker's DETAIL, if any.
func (e *Error) Detail() string {
	if pe := pgError(e.Err); pe != nil {
		return pe.Detail
	}
	return ""
}

// Hint returns the worker's HINT, if any.
func (e *Error) Hint() string {
	if pe := pgError(e.Err); pe != nil {
		return pe.Hint
	}
	return ""
}

// pgError returns the *pgconn.PgError in err's chain, or nil.
func pgError(err error) *pgconn.PgError {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// sqlState returns the SQLSTATE fitting err.
func sqlState(err error) string {
	var s sqlStater
	if errors.As(err, &s) {
		return s.SQLState()
	}
	for sentinel, code := range sentinelCodes {
		if errors.Is(err, sentinel) {
			return code
		}
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return pgerrcode.SQLClientUnableToEstablishSQLConnection
	}
	var ne net.Error
	switch {
	case isContextErr(err): // before net.Error: DeadlineExceeded is one
		return pgerrcode.QueryCanceled
	case errors.As(err, &ne), pgconn.Timeout(err):
		return pgerrcode.ConnectionFailure
	}
	return pgerrcode.InternalError
}

// isContextErr reports whether err comes from a cancelled or expired
// context.
func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// hasCode reports whether err carries the SQLSTATE code from a server.
func hasCode(err error, code string) bool {
	pe := pgError(err)
	return pe != nil && pe.Code == code
}

// WorkerErrors are the failures of one step on several workers at once,
// in the order of the workers. The first speaks for all: its SQLSTATE,
// detail and hint are the group's.
type WorkerErrors []error

// Error joins the messages with "; ".
func (e WorkerErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the errors, for errors.Is and errors.As.
func (e WorkerErrors) Unwrap() []error { return e }

// SQLState returns the first error's SQLSTATE.
func (e WorkerErrors) SQLState() string { return sqlState(e[0]) }

// Detail returns the first error's detail, if any.
func (e WorkerErrors) Detail() string {
	if pe := pgError(e[0]); pe != nil {
		return pe.Detail
	}
	return ""
}

// Hint returns the first error's hint, if any.
func (e WorkerErrors) Hint() string {
	if pe := pgError(e[0]); pe != nil {
		return pe.Hint
	}
	return ""
}
