package catalog

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgerrcode"
)

// ErrInvariant is wrapped by every *InvariantError: a catalog's contents
// break one of the rules a Snapshot guarantees.
var ErrInvariant = errors.New("catalog invariant violated")

// ErrNotEnoughNodes is wrapped by *NotEnoughNodesError.
var ErrNotEnoughNodes = errors.New("not enough worker nodes")

// maxProblems bounds the problems an *InvariantError lists.
const maxProblems = 20

// InvariantError lists what is wrong with contents given to
// Builder.Build. Its SQLState is internal_error (XX000): a valid catalog is
// never made into an invalid one by a correct caller.
type InvariantError struct {
	// Problems names each violation (the first maxProblems of them), e.g.
	// `table "public"."t": shard 102009 range [0,10] overlaps shard 102008`.
	Problems []string
	// More counts the problems found beyond Problems.
	More int
}

// Error lists the problems.
func (e *InvariantError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvariant.Error())
	b.WriteString(": ")
	b.WriteString(strings.Join(e.Problems, "; "))
	if e.More > 0 {
		fmt.Fprintf(&b, "; and %d more", e.More)
	}
	return b.String()
}

// Unwrap returns ErrInvariant.
func (e *InvariantError) Unwrap() error { return ErrInvariant }

// SQLState returns internal_error (XX000).
func (e *InvariantError) SQLState() string { return pgerrcode.InternalError }

// NotEnoughNodesError reports that shards cannot be placed with the
// requested replication factor. Its SQLState is invalid_parameter_value
// (22023), as Citus's.
type NotEnoughNodesError struct {
	// ReplicationFactor is the number of copies asked for.
	ReplicationFactor int
	// Nodes is the number of placeable (active primary) workers.
	Nodes int
}

// Error states both numbers.
func (e *NotEnoughNodesError) Error() string {
	if e.Nodes == 0 {
		return fmt.Sprintf("%v: there are no active primary worker nodes to place shards on", ErrNotEnoughNodes)
	}
	return fmt.Sprintf("%v: replication factor %d exceeds the number of active primary worker nodes (%d)",
		ErrNotEnoughNodes, e.ReplicationFactor, e.Nodes)
}

// Unwrap returns ErrNotEnoughNodes.
func (e *NotEnoughNodesError) Unwrap() error { return ErrNotEnoughNodes }

// SQLState returns invalid_parameter_value (22023).
func (e *NotEnoughNodesError) SQLState() string { return pgerrcode.InvalidParameterValue }

// problems collects invariant violations for an *InvariantError.
type problems struct {
	list []string
	more int
}

// addf records one violation.
func (p *problems) addf(format string, args ...any) {
	if len(p.list) >= maxProblems {
		p.more++
		return
	}
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

// err returns an *InvariantError, or nil when nothing was recorded.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &InvariantError{Problems: p.list, More: p.more}
}
