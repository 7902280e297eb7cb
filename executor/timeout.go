package executor

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/wire"
)

// settingStatementTimeout is PostgreSQL's statement_timeout. The metadata
// database enforces it on the statements it runs; the session reads it
// too and gives distributed statements a deadline (statementDeadline),
// whose end cancels their worker statements.
const settingStatementTimeout = "statement_timeout"

// errStatementTimeout is the cause of a statement context ended by
// statement_timeout.
var errStatementTimeout = errors.New("statement timeout")

// parseTimeout reads a PostgreSQL time setting whose unit is the
// millisecond ("1500", "1s", "2min", "250ms"); 0 (no timeout) when it
// cannot.
func parseTimeout(v string) time.Duration {
	v = strings.ToLower(strings.Trim(strings.TrimSpace(v), "'"))
	i := 0
	for i < len(v) && (v[i] >= '0' && v[i] <= '9' || v[i] == '.') {
		i++
	}
	n, err := strconv.ParseFloat(v[:i], 64)
	if err != nil || n <= 0 {
		return 0
	}
	unit := time.Millisecond
	switch strings.TrimSpace(v[i:]) {
	case "", "ms":
	case "us":
		unit = time.Microsecond
	case "s":
		unit = time.Second
	case "min":
		unit = time.Minute
	case "h":
		unit = time.Hour
	case "d":
		unit = 24 * time.Hour
	default:
		return 0
	}
	return time.Duration(n * float64(unit))
}

// statementDeadline bounds a distributed statement by the session's
// statement_timeout: the returned context ends with errStatementTimeout
// as its cause, which cancels the statement's worker statements.
func (s *Session) statementDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.set.statementTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, s.set.statementTimeout, errStatementTimeout)
}

// timeoutError returns PostgreSQL's error for a statement that
// statement_timeout ended (ctx is the statement's deadline context), and
// err otherwise.
func timeoutError(ctx context.Context, err error) error {
	if err == nil || !errors.Is(context.Cause(ctx), errStatementTimeout) {
		return err
	}
	return &wire.Error{Code: pgerrcode.QueryCanceled, Message: "canceling statement due to statement timeout"}
}
