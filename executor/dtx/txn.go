package dtx

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
)

// Isolation is a transaction isolation level, applied on every worker.
type Isolation uint8

// The isolation levels. There is no global snapshot: each worker gives its
// own transaction this level, as in Citus.
const (
	// IsolationDefault leaves the level to the worker's
	// default_transaction_isolation (READ COMMITTED unless set).
	IsolationDefault Isolation = iota
	// ReadCommitted is READ COMMITTED.
	ReadCommitted
	// RepeatableRead is REPEATABLE READ.
	RepeatableRead
	// Serializable is SERIALIZABLE (serializable on each worker, not
	// across them).
	Serializable
)

// String returns the level as SQL spells it, "" for IsolationDefault.
func (l Isolation) String() string {
	switch l {
	case IsolationDefault:
		return ""
	case ReadCommitted:
		return "READ COMMITTED"
	case RepeatableRead:
		return "REPEATABLE READ"
	case Serializable:
		return "SERIALIZABLE"
	}
	return "isolation(" + strconv.Itoa(int(l)) + ")"
}

// TxnOptions are the session's transaction characteristics.
type TxnOptions struct {
	// Isolation is the isolation level.
	Isolation Isolation
	// ReadOnly begins every worker transaction READ ONLY.
	ReadOnly bool
}

// beginSQL returns the BEGIN statement for opts.
func (o TxnOptions) beginSQL() string {
	s := "BEGIN"
	if o.Isolation != IsolationDefault {
		s += " ISOLATION LEVEL " + o.Isolation.String()
	}
	if o.ReadOnly {
		s += " READ ONLY"
	}
	return s
}

// Txn is one client session's distributed transaction. It holds one
// connection per worker it has used, from the first use to the end.
//
// Its methods are meant for the session's goroutine, one call at a time;
// only the deadlock detector looks at it concurrently (under mu).
type Txn struct {
	coord   *Coordinator
	session *Session
	id      TxID
	opts    TxnOptions
	log     hclog.Logger
	started time.Time

	// savepoints are the active savepoint names, oldest first; used by the
	// session goroutine only.
	savepoints []string

	// aborted is set when a statement failed, as PostgreSQL's aborted
	// transaction block: only ROLLBACK TO SAVEPOINT (which clears it) or
	// the end may follow. Used by the session goroutine only.
	aborted bool

	mu     sync.Mutex
	parts  []*participant // in the order the workers joined
	done   bool
	victim *DeadlockError // set when the deadlock detector cancelled us
}

// participant is one worker of a transaction.
type participant struct {
	node  catalog.Node
	conn  *Conn
	pid   uint32
	wrote bool
	gid   string // set when prepared
}

// ID returns the transaction id.
func (t *Txn) ID() TxID { return t.id }

// Started returns when Begin was called; the youngest transaction of a
// deadlock (the latest start) is the one cancelled.
func (t *Txn) Started() time.Time { return t.started }

// Nodes returns the ids of the workers the transaction uses, in the order
// they joined.
func (t *Txn) Nodes() []int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := make([]int32, len(t.parts))
	for i, p := range t.parts {
		ids[i] = p.node.ID
	}
	return ids
}

// part returns the participant for a node, or nil.
func (t *Txn) part(nodeID int32) *participant {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.parts {
		if p.node.ID == nodeID {
			return p
		}
	}
	return nil
}

// Conn returns the transaction's connection to a worker. On first use it
// checks a connection out of the session's pools and opens the worker's
// transaction: BEGIN with the session's isolation level and READ ONLY,
// then the active savepoints, in one round trip. The connection belongs to
// the transaction until Commit or Rollback; the caller must not keep it
// beyond.
func (t *Txn) Conn(ctx context.Context, nodeID int32) (*pgconn.PgConn, error) {
	t.mu.Lock()
	done := t.done
	t.mu.Unlock()
	if done {
		return nil, &Error{Op: "begin", Node: nodeID, Err: ErrTxnDone}
	}
	if t.aborted {
		return nil, &Error{Op: "statement", Node: nodeID, Err: ErrTxnAborted}
	}
	if p := t.part(nodeID); p != nil {
		return p.conn.pg, nil
	}
	var b strings.Builder
	b.WriteString(t.opts.beginSQL())
	for _, sp := range t.savepoints {
		b.WriteString("; SAVEPOINT ")
		b.WriteString(quoteIdent(sp))
	}
	var c *Conn
	for {
		var err error
		c, err = t.session.Acquire(ctx, nodeID)
		if err != nil {
			return nil, err
		}
		_, err = c.pg.Exec(ctx, b.String()).ReadAll()
		if err == nil {
			break
		}
		// A reused connection may have died idle (a worker restart) without
		// the cheap checkout check seeing it: BEGIN did nothing, try a
		// fresh one.
		retry := !c.fresh && c.pg.IsClosed() && ctx.Err() == nil
		c.Release() // closed unless it is back outside a transaction
		if !retry {
			if pgError(err) == nil && c.pg.IsClosed() {
				err = fmt.Errorf("%w: %w", ErrConnLost, err)
			}
			return nil, c.pool.errorf("begin", err)
		}
	}
	p := &participant{node: c.pool.Node(), conn: c, pid: c.pg.PID()}
	t.mu.Lock()
	t.parts = append(t.parts, p)
	t.mu.Unlock()
	t.log.Trace("worker joined", "worker", nodeID, "pid", p.pid)
	return c.pg, nil
}

// MarkWrite records that the transaction wrote on a worker (after Conn for
// that worker): a commit with more than one written worker uses two-phase
// commit. Marking a worker not joined yet does nothing.
func (t *Txn) MarkWrite(nodeID int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.parts {
		if p.node.ID == nodeID {
			p.wrote = true
		}
	}
}

// Exec runs sql (simple protocol, one or more statements) on a worker in
// the transaction, joining it if needed, and returns its results. Errors
// go through StatementError. It does not mark a write.
func (t *Txn) Exec(ctx context.Context, nodeID int32, sql string) ([]*pgconn.Result, error) {
	pg, err := t.Conn(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	res, err := pg.Exec(ctx, sql).ReadAll()
	if err != nil {
		return res, t.StatementError(ctx, nodeID, t.part(nodeID).errorf("statement", err))
	}
	return res, nil
}

// StatementError is what a session calls when a statement it ran on the
// transaction's connection to a worker failed; it returns the error for
// the client. As in PostgreSQL, where a failed transaction releases its
// locks at once, a failure that aborted the worker's transaction outside
// any savepoint rolls the other workers back right away (their locks may
// be what another transaction waits for: a deadlock victim's, say) and
// leaves the transaction aborted: only Rollback may follow (25P02
// otherwise). With a savepoint active nothing is rolled back, and
// ROLLBACK TO SAVEPOINT resumes the transaction. Errors pass through
// CheckErr.
func (t *Txn) StatementError(ctx context.Context, nodeID int32, err error) error {
	err = t.CheckErr(err)
	p := t.part(nodeID)
	if t.aborted || p != nil && !p.conn.pg.IsClosed() && p.conn.pg.TxStatus() == 'T' {
		return err // already aborted, or the worker's transaction goes on
	}
	t.aborted = true
	if len(t.savepoints) > 0 {
		return err
	}
	t.mu.Lock()
	others := make([]*participant, 0, len(t.parts))
	for _, o := range t.parts {
		if o != p {
			others = append(others, o)
		}
	}
	t.mu.Unlock()
	if rerr := t.rollbackParts(ctx, others); rerr != nil {
		t.log.Debug("roll back the other workers of a failed transaction", "error", rerr)
	}
	return err
}

// CheckErr translates the error of a statement on one of the
// transaction's connections: if the deadlock detector chose this
// transaction as a victim and the statement was cancelled, the result is
// the *DeadlockError (SQLSTATE 40P01) naming the cycle; any other error is
// returned as is.
func (t *Txn) CheckErr(err error) error {
	if err == nil || !hasCode(err, pgerrcode.QueryCanceled) {
		return err
	}
	t.mu.Lock()
	v := t.victim
	t.mu.Unlock()
	if v == nil {
		return err
	}
	return v
}

// errorf wraps err as the failure of op on a participant. A failure that
// closed the connection is marked ErrConnLost (08006) unless the worker
// said why (a FATAL error keeps its own code).
func (p *participant) errorf(op string, err error) *Error {
	if pgError(err) == nil && p.conn.pg.IsClosed() && !errors.Is(err, ErrConnLost) {
		err = fmt.Errorf("%w: %w", ErrConnLost, err)
	}
	return &Error{Op: op, Node: p.node.ID, Addr: p.node.Addr(), GID: p.gid, Err: err}
}

// end marks the transaction done, returning its participants, or
// ErrTxnDone if it already was.
func (t *Txn) end() ([]*participant, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, &Error{Op: "end transaction", Err: ErrTxnDone}
	}
	t.done = true
	return t.parts, nil
}

// finish releases the connections and forgets the transaction. A
// connection left inside a transaction (a failed rollback) is closed by
// its pool.
func (t *Txn) finish(parts []*participant) {
	for _, p := range parts {
		p.conn.Release()
	}
	t.coord.forget(t)
}

// fanOut runs fn for every participant, concurrently when there are
// several, waits for all, and returns their error: nil, the one error, or
// a WorkerErrors.
func fanOut(ctx context.Context, parts []*participant, fn func(ctx context.Context, p *participant) error) error {
	if len(parts) == 1 {
		return fn(ctx, parts[0])
	}
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(ctx, p)
		}()
	}
	wg.Wait()
	var failed WorkerErrors
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	switch len(failed) {
	case 0:
		return nil
	case 1:
		return failed[0]
	}
	return failed
}

// execTag runs one statement on a participant and returns its command tag.
func execTag(ctx context.Context, p *participant, sql string) (string, error) {
	res, err := p.conn.pg.Exec(ctx, sql).ReadAll()
	if err != nil {
		return "", err
	}
	if len(res) == 0 {
		return "", fmt.Errorf("no result for %q", sql)
	}
	return res[len(res)-1].CommandTag.String(), nil
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
