package planner

import (
	"errors"
	"fmt"

	"github.com/jackc/pgerrcode"
)

// ErrNotPushable is wrapped by the errors a pushdown strategy returns when a
// statement's shape is not one it handles; the planner then tries the next,
// more general strategy. It never reaches a client.
var ErrNotPushable = errors.New("not pushable")

// Error is a planning error that can reach a client: it carries the
// SQLSTATE PostgreSQL (or Citus) would give for the same cause.
type Error struct {
	// Code is the SQLSTATE, a jackc/pgerrcode constant.
	Code string
	// Msg is the primary message.
	Msg string
	// Hint is an optional hint for the user ("" for none).
	HintText string
	// Err is an optional wrapped cause.
	Err error
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// SQLState returns the error's SQLSTATE.
func (e *Error) SQLState() string { return e.Code }

// Hint returns the hint, "" for none.
func (e *Error) Hint() string { return e.HintText }

// Unwrap returns the wrapped cause.
func (e *Error) Unwrap() error { return e.Err }

// errorf builds an *Error with a code and a formatted message.
func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// notPushable returns an error wrapping ErrNotPushable that says why.
func notPushable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotPushable, fmt.Sprintf(format, args...))
}

// syntaxError wraps a parser error as syntax_error (42601).
func syntaxError(err error) error {
	return &Error{Code: pgerrcode.SyntaxError, Msg: err.Error(), Err: err}
}

// unsupported builds a feature_not_supported (0A000) error.
func unsupported(format string, args ...any) *Error {
	return errorf(pgerrcode.FeatureNotSupported, format, args...)
}

// internalError builds an internal_error (XX000), for a broken invariant
// (a parse tree the deparser refuses, say).
func internalError(format string, args ...any) *Error {
	return errorf(pgerrcode.InternalError, format, args...)
}

// isNotPushable reports whether err says a strategy does not apply.
func isNotPushable(err error) bool { return errors.Is(err, ErrNotPushable) }
