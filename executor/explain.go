package executor

import (
	"context"
)

// explainCommand runs EXPLAIN of a statement on distributed tables; handled
// is false when the statement names none (it then runs on the metadata
// database as it is).
func (s *Session) explainCommand(ctx context.Context, st *catalogState, sql string, b *binding, out *output) (handled bool, err error) {
	return false, nil
}
