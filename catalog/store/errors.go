package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgerrcode"
)

// Sentinels wrapped by the store's errors; test them with errors.Is.
var (
	// ErrClosed: the Store was closed.
	ErrClosed = errors.New("catalog store is closed")
	// ErrNodeNotFound: no node has the given address or id.
	ErrNodeNotFound = errors.New("node not found")
	// ErrNodeInUse: the node still holds shard placements.
	ErrNodeInUse = errors.New("node holds shard placements")
	// ErrNodeExists: the node exists with other settings.
	ErrNodeExists = errors.New("node already exists")
	// ErrOrganizationNotFound: no organization has the given name.
	ErrOrganizationNotFound = errors.New("organization not found")
	// ErrTableNotFound: the relation does not exist in the metadata
	// database, or is not in the catalog.
	ErrTableNotFound = errors.New("table not found")
	// ErrColumnNotFound: the table has no such column.
	ErrColumnNotFound = errors.New("column not found")
	// ErrAlreadyDistributed: the table is already in the catalog.
	ErrAlreadyDistributed = errors.New("table is already distributed")
	// ErrColocationGroupNotFound: no co-location group has the given id.
	ErrColocationGroupNotFound = errors.New("co-location group not found")
	// ErrShardNotFound: no shard has the given id.
	ErrShardNotFound = errors.New("shard not found")
	// ErrSchemaTooNew: the metadata database holds a catalog schema newer
	// than this build of pgfed understands.
	ErrSchemaTooNew = errors.New("catalog schema is newer than this pgfed")
	// ErrInvalidArgument: a parameter is out of range or malformed.
	ErrInvalidArgument = errors.New("invalid argument")
)

// Error is an error of the store's own making that can reach a client: a
// message naming the cause, a SQLSTATE from jackc/pgerrcode, and the
// sentinel it wraps. Errors from PostgreSQL itself are returned as
// *pgconn.PgError (wrapped with the operation), which has SQLState too.
type Error struct {
	// Code is the SQLSTATE.
	Code string
	// Msg names what failed and why.
	Msg string
	// Err is the sentinel (ErrNodeNotFound, ...).
	Err error
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// SQLState returns the SQLSTATE.
func (e *Error) SQLState() string { return e.Code }

// newError builds an *Error whose message starts with the sentinel's text.
func newError(code string, sentinel error, format string, args ...any) *Error {
	return &Error{Code: code, Err: sentinel, Msg: sentinel.Error() + ": " + fmt.Sprintf(format, args...)}
}

// NodeInUseError is RemoveNode's refusal to remove a node that holds shard
// placements. Its SQLState is dependent_objects_still_exist (2BP01), as
// PostgreSQL's for an object others depend on.
type NodeInUseError struct {
	// Host and Port are the node's address.
	Host string
	Port int
	// Placements counts the shard placements on the node.
	Placements int64
	// ShardID is one of the shards placed there, to name in the message.
	ShardID int64
}

// Error names the node and a shard placed on it.
func (e *NodeInUseError) Error() string {
	return fmt.Sprintf("cannot remove node %s:%d: it holds %d shard placement(s), for example of shard %d; move or drop them first",
		e.Host, e.Port, e.Placements, e.ShardID)
}

// Unwrap returns ErrNodeInUse.
func (e *NodeInUseError) Unwrap() error { return ErrNodeInUse }

// SQLState returns dependent_objects_still_exist (2BP01).
func (e *NodeInUseError) SQLState() string { return pgerrcode.DependentObjectsStillExist }
