package executor

import (
	"errors"
	"fmt"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/wire"
)

// Severities of PostgreSQL's ErrorResponse that end the connection.
const (
	severityFatal = "FATAL"
	severityPanic = "PANIC"
)

// backendError is the *wire.Error for a backend's ErrorResponse, with every
// field the wire error can carry. The unlocalized severity is preferred, so
// that a backend with non-English lc_messages still says FATAL.
func backendError(e *pgproto3.ErrorResponse) *wire.Error {
	sev := e.SeverityUnlocalized
	if sev == "" {
		sev = e.Severity
	}
	return &wire.Error{
		Severity:         sev,
		Code:             e.Code,
		Message:          e.Message,
		Detail:           e.Detail,
		Hint:             e.Hint,
		Position:         e.Position,
		InternalPosition: e.InternalPosition,
		InternalQuery:    e.InternalQuery,
		Where:            e.Where,
		SchemaName:       e.SchemaName,
		TableName:        e.TableName,
		ColumnName:       e.ColumnName,
		DataTypeName:     e.DataTypeName,
		ConstraintName:   e.ConstraintName,
		File:             e.File,
		Line:             e.Line,
		Routine:          e.Routine,
	}
}

// isFatal reports whether an error with this severity ends the connection.
func isFatal(e *wire.Error) bool {
	return e.Severity == severityFatal || e.Severity == severityPanic
}

// connectionLost is the FATAL error for a metadata connection that broke
// (read or write failure): 08006, naming the cause.
func connectionLost(cause error) *wire.Error {
	return &wire.Error{
		Severity: severityFatal,
		Code:     pgerrcode.ConnectionFailure,
		Message:  fmt.Sprintf("lost the connection to the metadata database: %v", cause),
	}
}

// protocolViolation is the FATAL error for a message the metadata database
// should not have sent at this point: 08P01.
func protocolViolation(what string, msg pgproto3.BackendMessage) *wire.Error {
	return &wire.Error{
		Severity: severityFatal,
		Code:     pgerrcode.ProtocolViolation,
		Message:  fmt.Sprintf("unexpected %T from the metadata database %s", msg, what),
	}
}

// canceledError is the error for a request whose context ended before it
// reached the metadata database.
func canceledError(cause error) *wire.Error {
	return &wire.Error{
		Code:    pgerrcode.QueryCanceled,
		Message: fmt.Sprintf("canceling statement: %v", cause),
	}
}

// cancelTimedOutError is the error for a request whose backend did not
// answer within cancelGrace of a cancel request: the connection is given up.
func cancelTimedOutError() *wire.Error {
	return &wire.Error{
		Severity: severityFatal,
		Code:     pgerrcode.QueryCanceled,
		Message:  fmt.Sprintf("canceling statement: the metadata database did not answer within %v of the cancel request; closing the connection", cancelGrace),
	}
}

// connectError is the error for a metadata connection that could not be
// opened: the server's own error when it refused (wrong database or role,
// too many connections...), made FATAL as PostgreSQL sends it; 08001 when
// the server could not be reached at all.
func connectError(err error) *wire.Error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return &wire.Error{
			Severity:         severityFatal,
			Code:             pgErr.Code,
			Message:          pgErr.Message,
			Detail:           pgErr.Detail,
			Hint:             pgErr.Hint,
			Position:         pgErr.Position,
			InternalPosition: pgErr.InternalPosition,
			InternalQuery:    pgErr.InternalQuery,
			Where:            pgErr.Where,
			SchemaName:       pgErr.SchemaName,
			TableName:        pgErr.TableName,
			ColumnName:       pgErr.ColumnName,
			DataTypeName:     pgErr.DataTypeName,
			ConstraintName:   pgErr.ConstraintName,
			File:             pgErr.File,
			Line:             pgErr.Line,
			Routine:          pgErr.Routine,
		}
	}
	return &wire.Error{
		Severity: severityFatal,
		Code:     pgerrcode.SQLClientUnableToEstablishSQLConnection,
		Message:  fmt.Sprintf("cannot connect to the metadata database: %v", err),
	}
}

// internalError is the error for a broken invariant of the session itself.
func internalError(format string, args ...any) *wire.Error {
	return &wire.Error{Code: pgerrcode.InternalError, Message: fmt.Sprintf(format, args...)}
}
