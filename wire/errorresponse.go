package wire

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Optional methods of an error that does not have type *Error.
type (
	sqlStater interface{ SQLState() string }
	detailer  interface{ Detail() string }
	hinter    interface{ Hint() string }
)

// errorResponse converts err to the ErrorResponse sent to the client:
// *Error (found with errors.As) with all its fields; else an error with a
// SQLState method (and optionally Detail and Hint) with that code and
// err.Error() as message; else a context cancellation as 57014
// (query_canceled); else XX000 (internal_error).
func errorResponse(err error) *pgproto3.ErrorResponse {
	var e *Error
	if errors.As(err, &e) {
		sev := e.Severity
		if sev == "" {
			sev = "ERROR"
		}
		return &pgproto3.ErrorResponse{
			Severity:            clean(sev),
			SeverityUnlocalized: clean(sev),
			Code:                validCode(e.Code),
			Message:             clean(e.Message),
			Detail:              clean(e.Detail),
			Hint:                clean(e.Hint),
			Position:            e.Position,
			InternalPosition:    e.InternalPosition,
			InternalQuery:       clean(e.InternalQuery),
			Where:               clean(e.Where),
			SchemaName:          clean(e.SchemaName),
			TableName:           clean(e.TableName),
			ColumnName:          clean(e.ColumnName),
			DataTypeName:        clean(e.DataTypeName),
			ConstraintName:      clean(e.ConstraintName),
			File:                clean(e.File),
			Line:                e.Line,
			Routine:             clean(e.Routine),
		}
	}
	r := &pgproto3.ErrorResponse{
		Severity:            "ERROR",
		SeverityUnlocalized: "ERROR",
		Code:                pgerrcode.InternalError,
		Message:             clean(err.Error()),
	}
	var s sqlStater
	switch {
	case errors.As(err, &s):
		r.Code = validCode(s.SQLState())
		var d detailer
		if errors.As(err, &d) {
			r.Detail = clean(d.Detail())
		}
		var h hinter
		if errors.As(err, &h) {
			r.Hint = clean(h.Hint())
		}
	case errors.Is(err, context.Canceled):
		r.Code = pgerrcode.QueryCanceled
		r.Message = "canceling statement due to user request"
	case errors.Is(err, context.DeadlineExceeded):
		r.Code = pgerrcode.QueryCanceled
		r.Message = "canceling statement due to statement timeout"
	}
	return r
}

// isFatal reports whether an ErrorResponse ends the connection.
func isFatal(r *pgproto3.ErrorResponse) bool {
	return r.Severity == "FATAL" || r.Severity == "PANIC"
}

// clean removes NUL bytes, which would break the message's framing.
func clean(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// validCode returns code if it looks like a SQLSTATE (five digits or upper
// case letters) and XX000 otherwise.
func validCode(code string) string {
	if len(code) != 5 {
		return pgerrcode.InternalError
	}
	for i := 0; i < 5; i++ {
		c := code[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return pgerrcode.InternalError
		}
	}
	return code
}
