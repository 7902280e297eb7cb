package catalog

import (
	"errors"
	"fmt"

	"github.com/jackc/pgerrcode"
)

// ErrUnsupportedType is wrapped by every *TypeError: the type has no hash
// function in pgfed.
var ErrUnsupportedType = errors.New("unsupported type")

// ErrInvalidInput is wrapped by every *InputError: a value could not be read
// as its type.
var ErrInvalidInput = errors.New("invalid input value")

// ErrUnsupportedSyntax is wrapped by an *InputError whose text PostgreSQL
// may accept but pgfed's parser does not (for example a date in a
// DateStyle-dependent or named-zone form). Callers can fall back to letting
// a server evaluate the value.
var ErrUnsupportedSyntax = errors.New("unsupported literal syntax")

// ErrInvalidShardCount is wrapped by the error ShardRanges and ShardIndex
// return for a shard count outside 1..MaxShardCount.
var ErrInvalidShardCount = errors.New("invalid shard count")

// TypeError reports a type pgfed cannot hash. Its SQLState is
// feature_not_supported (0A000).
type TypeError struct {
	// Type is the type that was asked for.
	Type Type
}

// Error names the type.
func (e *TypeError) Error() string {
	name := e.Type.String() // "type <oid>" for types without a name here
	if e.Type.Hashable() {
		name = "type " + name
	}
	return fmt.Sprintf("cannot hash values of %s: %v", name, ErrUnsupportedType)
}

// Unwrap returns ErrUnsupportedType.
func (e *TypeError) Unwrap() error { return ErrUnsupportedType }

// SQLState returns feature_not_supported (0A000).
func (e *TypeError) SQLState() string { return pgerrcode.FeatureNotSupported }

// InputError reports a value that is not a valid input for its type, with
// the SQLSTATE and message PostgreSQL's input function would give.
type InputError struct {
	// Type is the type being read.
	Type Type
	// Input is the offending text (or a description of a Go value).
	Input string
	// Code is the SQLSTATE, from jackc/pgerrcode.
	Code string
	// Msg is PostgreSQL's message for the error.
	Msg string
	// Err is ErrInvalidInput or ErrUnsupportedSyntax.
	Err error
}

// Error returns the message.
func (e *InputError) Error() string { return e.Msg }

// Unwrap returns ErrInvalidInput or ErrUnsupportedSyntax.
func (e *InputError) Unwrap() error { return e.Err }

// SQLState returns the error's SQLSTATE.
func (e *InputError) SQLState() string { return e.Code }

// syntaxError is PostgreSQL's "invalid input syntax for type %s" (22P02).
func syntaxError(t Type, s string) error {
	return &InputError{Type: t, Input: s, Code: pgerrcode.InvalidTextRepresentation,
		Msg: fmt.Sprintf("invalid input syntax for type %s: \"%s\"", t.SQLName(), s), Err: ErrInvalidInput}
}

// rangeError is PostgreSQL's "value %s is out of range for type %s" (22003).
func rangeError(t Type, s string) error {
	return &InputError{Type: t, Input: s, Code: pgerrcode.NumericValueOutOfRange,
		Msg: fmt.Sprintf("value \"%s\" is out of range for type %s", s, t.SQLName()), Err: ErrInvalidInput}
}

// inputError builds an *InputError with a given code and message.
func inputError(t Type, s, code, msg string) error {
	return &InputError{Type: t, Input: s, Code: code, Msg: msg, Err: ErrInvalidInput}
}

// unsupportedSyntax reports a literal form pgfed does not parse (0A000).
func unsupportedSyntax(t Type, s string) error {
	return &InputError{Type: t, Input: s, Code: pgerrcode.FeatureNotSupported,
		Msg: fmt.Sprintf("pgfed cannot read \"%s\" as %s: %v", s, t.SQLName(), ErrUnsupportedSyntax), Err: ErrUnsupportedSyntax}
}
