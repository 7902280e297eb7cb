package executor

import (
	"context"
)

// copyCommand runs COPY on a distributed table; handled is false when the
// statement names none (it then runs on the metadata database as it is).
func (s *Session) copyCommand(ctx context.Context, st *catalogState, sql string, out *output) (handled bool, err error) {
	return false, nil
}

// namesDistributed reports whether a COPY or EXPLAIN statement names a
// distributed or reference table.
func (s *Session) namesDistributed(st *catalogState, sql string) bool {
	return false
}
