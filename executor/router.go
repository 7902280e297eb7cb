package executor

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/planner"
)

// execRouter runs a router plan: its one task on the worker holding the
// shard, through the distributed transaction's connection to it, and
// relays the worker's rows as they come (values are passed through
// undecoded, in the formats the client asked for) and its command tag. A
// write to a replicated shard (a reference table) goes to every placement;
// the first answers the client.
func (s *Session) execRouter(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, out *output) (string, error) {
	if len(pl.Tasks) != 1 {
		return "", internalError("router plan with %d tasks", len(pl.Tasks))
	}
	t := &pl.Tasks[0]
	nodes := []int32{t.Node}
	if pl.Modify && len(t.Nodes) > 1 {
		nodes = t.Nodes
	}
	var tag string
	for i, node := range nodes {
		target := out
		if i > 0 {
			target = &output{r: out.r, buffer: &distPortal{}}
		}
		tg, err := s.runTask(ctx, st, t, node, pl.Modify, b, out.formats, out, func(rr rowSource) error {
			if err := target.fieldsFromWorker(rr.FieldDescriptions(), 0); err != nil {
				return err
			}
			for rr.NextRow() {
				if err := target.row(rr.Values()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return "", s.workerFailed(ctx, err)
		}
		if i == 0 {
			tag = tg
		}
	}
	return tag, nil
}

// rowSource is a worker's result being read: *pgconn.ResultReader.
type rowSource interface {
	FieldDescriptions() []pgconn.FieldDescription
	NextRow() bool
	Values() [][]byte
}

// workerFailure is a task's failure on a worker, which the session's
// goroutine reports to the distributed transaction (workerFailed).
type workerFailure struct {
	node int32
	err  error // a *TaskError
}

// Error returns the worker's error.
func (f *workerFailure) Error() string { return f.err.Error() }

// Unwrap returns the *TaskError.
func (f *workerFailure) Unwrap() error { return f.err }

// workerFailed tells the distributed transaction about a worker's failure
// (err from runTask) and returns the error for the client. Call it from
// the session's goroutine once every task has stopped.
func (s *Session) workerFailed(ctx context.Context, err error) error {
	var f *workerFailure
	if errors.As(err, &f) && s.txn != nil {
		return s.txn.StatementError(ctx, f.node, f.err)
	}
	return err
}

// runTask runs one task on a node in the session's distributed
// transaction and hands its result to read, which must consume the rows.
// A worker's failure is returned as a *workerFailure (see workerFailed).
// notify, when not nil, receives the citus.log_remote_commands notice.
// Tasks on distinct nodes may run concurrently.
func (s *Session) runTask(ctx context.Context, st *catalogState, t *planner.Task, node int32, write bool, b *binding, resultFormats []int16, notify *output, read func(rowSource) error) (string, error) {
	conn, err := s.txn.Conn(ctx, node)
	if err != nil {
		return "", &workerFailure{node: node, err: s.taskError(st, node, t, err)}
	}
	if write {
		s.txn.MarkWrite(node)
	}
	return s.runTaskOn(ctx, st, t, node, conn, b, resultFormats, notify, read)
}

// runTaskOn runs one task on a given connection to its node (see
// runTask).
func (s *Session) runTaskOn(ctx context.Context, st *catalogState, t *planner.Task, node int32, conn *pgconn.PgConn, b *binding, resultFormats []int16, notify *output, read func(rowSource) error) (string, error) {
	if err := s.alignSettings(ctx, conn); err != nil {
		return "", &workerFailure{node: node, err: s.taskError(st, node, t, err)}
	}
	if notify != nil && notify.r != nil && s.set.logRemote {
		if n, ok := st.snap.Node(node); ok {
			if err := notify.r.Send(remoteNotice(n, t.SQL)); err != nil {
				return "", err
			}
		}
	}
	vals, formats, oids := b.taskArgs(t.Params)
	rr, err := execOn(ctx, conn, st.gen, t.SQL, vals, formats, oids, resultFormats)
	if err != nil {
		return "", &workerFailure{node: node, err: s.taskError(st, node, t, err)}
	}
	rerr := read(rr)
	tag, err := rr.Close()
	if err != nil {
		return "", &workerFailure{node: node, err: s.taskError(st, node, t, err)}
	}
	if rerr != nil {
		return "", rerr
	}
	return tag.String(), nil
}

// taskError names the worker and shards of a failed task.
func (s *Session) taskError(st *catalogState, node int32, t *planner.Task, err error) error {
	n, ok := st.snap.Node(node)
	if !ok {
		n = catalog.Node{ID: node}
	}
	var shards []int64
	if t != nil {
		shards = t.ShardIDs
	}
	return &TaskError{Node: n, Shards: shards, Err: s.txn.CheckErr(err)}
}

// directRouter reports whether a plan can run as the worker's own
// autocommit statement, outside any distributed transaction: a router
// plan on one node, no transaction block or implicit batch transaction
// open, and the statement ends its implicit transaction. Then the worker's
// commit is the statement's (1PC), with no BEGIN and COMMIT round trips.
func (s *Session) directRouter(pl *planner.Plan, endsImplicit bool) bool {
	if s.block || s.txn != nil || !endsImplicit || pl.Kind != planner.KindRouter || len(pl.Subplans) > 0 || len(pl.Shipped) > 0 || len(pl.Tasks) != 1 {
		return false
	}
	return !pl.Modify || len(pl.Tasks[0].Nodes) <= 1
}

// execRouterDirect runs a router plan's task on a connection checked out
// of the session's pools for this statement only (see directRouter). A
// reused connection found dead before the statement reached the worker is
// replaced once.
func (s *Session) execRouterDirect(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, out *output) (string, error) {
	t := &pl.Tasks[0]
	if s.set.logRemote && out.r != nil {
		if n, ok := st.snap.Node(t.Node); ok {
			if err := out.r.Send(remoteNotice(n, t.SQL)); err != nil {
				return "", err
			}
		}
	}
	vals, formats, oids := b.taskArgs(t.Params)
	node, next, lostConns := t.Node, 0, 0
	for attempt := 0; ; attempt++ {
		c, err := s.workers.Acquire(ctx, node)
		if err != nil {
			// A read may go to another placement of the shards (a
			// reference table's) when this worker cannot be reached.
			if alt, ok := nextPlacement(t, node, &next); ok && !pl.Modify && ctx.Err() == nil {
				s.log.Debug("worker unreachable; reading another placement", "worker", node, "next", alt, "error", err)
				node = alt
				continue
			}
			return "", s.directError(st, t, err)
		}
		err = s.alignSettings(ctx, c.PgConn())
		var rr *pgconn.ResultReader
		if err == nil {
			rr, err = execOn(ctx, c.PgConn(), st.gen, t.SQL, vals, formats, oids, out.formats)
		}
		var tag pgconn.CommandTag
		var rerr error
		if err == nil {
			rerr = out.fieldsFromWorker(rr.FieldDescriptions(), 0)
			for rerr == nil && rr.NextRow() {
				rerr = out.row(rr.Values())
			}
			tag, err = rr.Close()
		}
		lost := c.PgConn().IsClosed()
		c.Release()
		switch {
		case err == nil && rerr == nil:
			return tag.String(), nil
		case err == nil:
			return "", rerr
		case ctx.Err() != nil || out.described || out.rows > 0:
		case (pgconn.SafeToRetry(err) || lost && !pl.Modify) && lostConns < maxDeadConns:
			// The connection was dead (a worker restart left the pool's
			// idle connections dead): nothing reached the worker, or the
			// statement only reads. Another connection, or another
			// placement, gets it.
			lostConns++
			continue
		}
		return "", s.directError(st, t, err)
	}
}

// maxDeadConns bounds the dead pooled connections a statement skips
// before it fails.
const maxDeadConns = 32

// nextPlacement returns the next node of t.Nodes other than the one that
// failed, advancing *next through the list.
func nextPlacement(t *planner.Task, failed int32, next *int) (int32, bool) {
	for *next < len(t.Nodes) {
		n := t.Nodes[*next]
		*next++
		if n != failed && n != t.Node {
			return n, true
		}
	}
	return 0, false
}

// directError names the worker and shard of a failed direct task.
func (s *Session) directError(st *catalogState, t *planner.Task, err error) error {
	n, ok := st.snap.Node(t.Node)
	if !ok {
		n = catalog.Node{ID: t.Node}
	}
	return &TaskError{Node: n, Shards: t.ShardIDs, Err: err}
}
