package executor

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"

	"github.com/pgfed/pgfed/planner"
)

// batchRows is how many rows a node's goroutine hands over at a time.
const batchRows = 256

// taskBatch is a piece of one task's result, handed from the goroutine
// running the task to the session's goroutine.
type taskBatch struct {
	task   int
	fields []pgconn.FieldDescription // set in the first batch of each task
	rows   [][][]byte
	tag    string // set in the last batch of each task
	last   bool
}

// fanOut runs the plan's tasks, one goroutine per node (a distributed
// transaction has one connection per worker, so a node's tasks run one
// after the other on it, and the nodes in parallel), and hands their
// results to consume, on the calling goroutine, as they come. When consume
// fails, the tasks still running are cancelled. A worker's failure is
// reported to the distributed transaction once every task has stopped.
func (s *Session) fanOut(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, resultFormats []int16, out *output, consume func(taskBatch) error) error {
	// Lanes of tasks run one after the other: one lane per node on the
	// transaction's connections, or, for parallel reads, one lane per
	// task on connections of their own.
	type lane struct {
		node  int32
		tasks []int
	}
	var lanes []lane
	parallel := s.parallelReads(pl)
	byNode := map[int32]int{}
	for i := range pl.Tasks {
		n := pl.Tasks[i].Node
		if parallel {
			lanes = append(lanes, lane{node: n, tasks: []int{i}})
			continue
		}
		j, ok := byNode[n]
		if !ok {
			j = len(lanes)
			byNode[n] = j
			lanes = append(lanes, lane{node: n})
		}
		lanes[j].tasks = append(lanes[j].tasks, i)
	}
	slots := map[int32]chan struct{}{}
	for _, l := range lanes {
		if slots[l.node] == nil {
			slots[l.node] = make(chan struct{}, parallelPerNode)
		}
	}
	if s.set.logRemote && out != nil && out.r != nil {
		for i := range pl.Tasks {
			if n, ok := st.snap.Node(pl.Tasks[i].Node); ok {
				if err := out.r.Send(remoteNotice(n, pl.Tasks[i].SQL)); err != nil {
					return err
				}
			}
		}
	}
	// A replicated write (to a reference table) runs on its first
	// placement before the others, as Citus does: concurrent writers of the
	// same rows then queue on that placement, instead of locking the copies
	// in different orders on different workers and deadlocking.
	var firstDone chan struct{}
	if pl.Replicated && len(pl.Tasks) > 1 {
		firstDone = make(chan struct{})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan taskBatch, 8)
	g, gctx := errgroup.WithContext(ctx)
	for _, l := range lanes {
		node, idxs := l.node, l.tasks
		g.Go(func() error {
			send := func(bt taskBatch) error {
				select {
				case ch <- bt:
					return nil
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			run := func(t *planner.Task, read func(rowSource) error) (string, error) {
				return s.runTask(gctx, st, t, node, pl.Modify, b, resultFormats, nil, read)
			}
			if parallel {
				select {
				case slots[node] <- struct{}{}:
				case <-gctx.Done():
					return gctx.Err()
				}
				defer func() { <-slots[node] }()
				run = func(t *planner.Task, read func(rowSource) error) (string, error) {
					at, next := node, 0
					for dead := 0; ; dead++ {
						c, err := s.workers.Acquire(gctx, at)
						if err != nil {
							// Another placement of the shards, if any.
							alt, ok := nextPlacement(t, at, &next)
							if !ok || gctx.Err() != nil {
								return "", &workerFailure{node: at, err: s.taskError(st, at, t, err)}
							}
							at = alt
							continue
						}
						rows := 0
						tag, err := s.runTaskOn(gctx, st, t, at, c.PgConn(), b, resultFormats, nil, func(rr rowSource) error {
							return read(countRows{rr, &rows})
						})
						lost := c.PgConn().IsClosed()
						c.Release()
						// A pooled connection found dead (a worker restart)
						// before any row: read with another one.
						if err != nil && lost && rows == 0 && dead < maxDeadConns && gctx.Err() == nil {
							continue
						}
						return tag, err
					}
				}
			}
			for _, i := range idxs {
				if firstDone != nil && i != 0 {
					select {
					case <-firstDone:
					case <-gctx.Done():
						return gctx.Err()
					}
				}
				t := &pl.Tasks[i]
				tag, err := run(t, func(rr rowSource) error {
					bt := taskBatch{task: i, fields: slices.Clone(rr.FieldDescriptions())}
					for rr.NextRow() {
						bt.rows = append(bt.rows, copyRow(rr.Values()))
						if len(bt.rows) == batchRows {
							if err := send(bt); err != nil {
								return err
							}
							bt = taskBatch{task: i}
						}
					}
					return send(bt)
				})
				if err != nil {
					return err
				}
				if err := send(taskBatch{task: i, tag: tag, last: true}); err != nil {
					return err
				}
				if firstDone != nil && i == 0 {
					close(firstDone)
				}
			}
			return nil
		})
	}
	var werr error
	go func() {
		werr = g.Wait()
		close(ch)
	}()
	var cerr error
	for bt := range ch {
		if cerr == nil {
			if cerr = consume(bt); cerr != nil {
				cancel()
			}
		}
	}
	// ch is closed after werr is set.
	if cerr == errLimitReached {
		return cerr // the tasks were stopped on purpose
	}
	if werr != nil {
		if cerr != nil && ctx.Err() != nil {
			// The tasks were cancelled because consume failed.
			s.workerFailed(ctx, werr)
			return cerr
		}
		return s.workerFailed(ctx, werr)
	}
	return cerr
}

// errLimitReached stops the tasks of a parallel read once its LIMIT is
// reached.
var errLimitReached = errors.New("limit reached")

// countRows counts the rows read from a result.
type countRows struct {
	rowSource
	n *int
}

// NextRow advances and counts.
func (c countRows) NextRow() bool {
	ok := c.rowSource.NextRow()
	if ok {
		*c.n++
	}
	return ok
}

// parallelPerNode bounds the connections a parallel read opens to one
// worker (below dtx's per-session cap).
const parallelPerNode = 4

// parallelReads reports whether a plan's tasks may run each on a pooled
// connection of its own, several per worker at once: a read outside a
// transaction block whose implicit transaction has not used a worker (so
// there is no write of its own to see). Each shard then reads its own
// snapshot, which is all a distributed read gets anyway (no global
// snapshot, as in Citus).
func (s *Session) parallelReads(pl *planner.Plan) bool {
	return !s.block && !pl.Modify && len(pl.Tasks) > 1 && (s.txn == nil || len(s.txn.Nodes()) == 0)
}

// tagCounter sums the row counts of the tasks' command tags.
type tagCounter struct {
	verb  string // "INSERT 0", "UPDATE", "DELETE", "SELECT"
	total int64
}

// add counts one task's tag.
func (c *tagCounter) add(tag string) {
	i := strings.LastIndexByte(tag, ' ')
	if i < 0 {
		if c.verb == "" {
			c.verb = tag
		}
		return
	}
	n, err := strconv.ParseInt(tag[i+1:], 10, 64)
	if err != nil {
		return
	}
	if c.verb == "" {
		c.verb = tag[:i]
	}
	c.total += n
}

// String returns the summed tag.
func (c *tagCounter) String() string {
	if c.verb == "" {
		return "SELECT 0"
	}
	return c.verb + " " + strconv.FormatInt(c.total, 10)
}

// execConcat runs a multi-shard plan whose rows are the tasks' rows in any
// order: they are streamed to the client as they come, after OFFSET and up
// to LIMIT (the rest is read and dropped, so that no worker transaction is
// aborted). Writes sum the tasks' counts into one tag.
func (s *Session) execConcat(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, out *output) (string, error) {
	limit, offset := boundValue(pl.Merge.Limit, b), boundValue(pl.Merge.Offset, b)
	n := pl.Merge.Output
	var tags tagCounter
	var sent int64
	// Tasks on connections of their own can be stopped once LIMIT rows
	// are out; in a transaction, stopping would abort it: the rest is
	// read and dropped.
	stop := s.parallelReads(pl)
	err := s.fanOut(ctx, st, pl, b, s.taskFormats(pl, out.formats), out, func(bt taskBatch) error {
		if stop && limit >= 0 && sent >= limit && out.described {
			return errLimitReached
		}
		if pl.Replicated && bt.task != 0 {
			// The same write on another placement of a reference
			// table: the client gets the first placement's answer.
			return nil
		}
		if bt.fields != nil {
			if err := out.fieldsFromWorker(bt.fields, n); err != nil {
				return err
			}
		}
		for _, row := range bt.rows {
			if offset > 0 {
				offset--
				continue
			}
			if limit >= 0 && sent >= limit {
				continue
			}
			if n > 0 && n < len(row) {
				row = row[:n]
			}
			sent++
			if err := out.row(row); err != nil {
				return err
			}
		}
		if bt.last {
			tags.add(bt.tag)
		}
		return nil
	})
	if err != nil && err != errLimitReached {
		return "", err
	}
	if pl.Modify {
		return tags.String(), nil
	}
	return "SELECT " + strconv.FormatInt(sent, 10), nil
}
