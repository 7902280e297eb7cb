package executor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"
)

// copyJob is a piece of one shard's COPY data for one worker.
type copyJob struct {
	sql   string
	shard int64
	data  []byte
	lines []int // the client's line of each record of data
	count bool  // the rows the worker loads count (first placement only)
	// recycle is set when this job alone uses data and lines: once sent,
	// they go back to the sender's free buffers.
	recycle bool
}

// copyBuffers is how many shard buffers a COPY keeps for reuse.
const copyBuffers = 8

// copyBuffer is a shard buffer for reuse: its data and line numbers.
type copyBuffer struct {
	data  []byte
	lines []int
}

// copySender streams the shards' COPY data to the workers: one goroutine
// per worker runs the COPY statements on the distributed transaction's
// connection to it, one after the other, while the session's goroutine
// goes on reading and routing the client's rows; the workers load in
// parallel.
type copySender struct {
	s     *Session
	st    *catalogState
	pc    *parsedCopy
	g     *errgroup.Group
	gctx  context.Context
	lanes map[int32]chan copyJob
	done  bool
	rows  atomic.Int64 // rows the workers loaded (first placements)
	// free holds the buffers of jobs sent, for the next shard buffers:
	// a long COPY then stops allocating (and growing) them.
	free chan copyBuffer
}

// newCopySender returns a sender whose goroutines end with ctx.
func (s *Session) newCopySender(ctx context.Context, st *catalogState, pc *parsedCopy) *copySender {
	g, gctx := errgroup.WithContext(ctx)
	return &copySender{s: s, st: st, pc: pc, g: g, gctx: gctx, lanes: map[int32]chan copyJob{}, free: make(chan copyBuffer, copyBuffers)}
}

// buffers gives an empty shard buffer its data and line buffers: free
// ones, or new ones of the flush size.
func (cs *copySender) buffers(sc *shardCopy) {
	select {
	case b := <-cs.free:
		sc.data, sc.lines = *bytes.NewBuffer(b.data[:0]), b.lines[:0]
	default:
		sc.data, sc.lines = *bytes.NewBuffer(make([]byte, 0, shardFlushSize+64<<10)), make([]int, 0, 1024)
	}
}

// release keeps a sent job's buffers for reuse, unless enough are kept.
func (cs *copySender) release(job copyJob) {
	if !job.recycle {
		return
	}
	select {
	case cs.free <- copyBuffer{data: job.data, lines: job.lines}:
	default:
	}
}

// send hands a shard's buffered rows to the goroutines of its placements'
// workers, and empties the buffer. A worker's failure is returned by the
// next send or by wait.
func (cs *copySender) send(ctx context.Context, sc *shardCopy) error {
	if sc.data.Len() == 0 {
		return nil
	}
	job := copyJob{sql: sc.sql, shard: sc.shard.ID, data: sc.data.Bytes(), lines: sc.lines}
	sc.data, sc.lines = bytes.Buffer{}, nil
	placements := cs.st.snap.PlacementsOf(sc.shard.ID)
	job.recycle = len(placements) == 1
	for i, p := range placements {
		ch, err := cs.lane(ctx, p.NodeID)
		if err != nil {
			return err
		}
		job.count = i == 0
		select {
		case ch <- job:
		case <-cs.gctx.Done():
			return cs.wait(ctx)
		}
	}
	return nil
}

// lane returns the job channel of a worker, joining the worker to the
// distributed transaction and starting its goroutine on first use.
func (cs *copySender) lane(ctx context.Context, node int32) (chan copyJob, error) {
	if ch, ok := cs.lanes[node]; ok {
		return ch, nil
	}
	s := cs.s
	conn, err := s.txn.Conn(ctx, node)
	if err != nil {
		return nil, s.taskError(cs.st, node, nil, err)
	}
	s.txn.MarkWrite(node)
	if err := s.alignSettings(ctx, conn); err != nil {
		return nil, s.txn.StatementError(ctx, node, s.taskError(cs.st, node, nil, err))
	}
	ch := make(chan copyJob, 2)
	cs.lanes[node] = ch
	cs.g.Go(func() error {
		for job := range ch {
			var r io.Reader = bytes.NewReader(job.data)
			if cs.pc.opts.format == copyBinary {
				r = io.MultiReader(bytes.NewReader(binaryHeader), r, bytes.NewReader([]byte{0xff, 0xff}))
			}
			tag, err := conn.CopyFrom(cs.gctx, r, job.sql)
			if err != nil {
				return &workerFailure{node: node, err: s.copyError(cs.st, cs.pc, job, node, err)}
			}
			if job.count {
				cs.rows.Add(tag.RowsAffected())
			}
			cs.release(job)
		}
		return nil
	})
	return ch, nil
}

// wait ends the goroutines once they have sent what they were given, and
// returns the first failure (reported to the distributed transaction).
// It may be called more than once.
func (cs *copySender) wait(ctx context.Context) error {
	if !cs.done {
		cs.done = true
		for _, ch := range cs.lanes {
			close(ch)
		}
	}
	err := cs.g.Wait()
	if err == nil {
		return nil
	}
	var f *workerFailure
	if errors.As(err, &f) {
		return cs.s.workerFailed(ctx, f)
	}
	return err
}

// rewriteCopyWhere is a worker's COPY error context with the client's
// line number and table name.
func rewriteCopyWhere(pe *pgconn.PgError, table string, lines []int) *pgconn.PgError {
	m := lineRe.FindStringSubmatch(pe.Where)
	if m == nil {
		return pe
	}
	n := 0
	for _, c := range m[1] {
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > len(lines) {
		return pe
	}
	cp := *pe
	cp.Where = "COPY " + table + ", line " + itoa(lines[n-1]) + pe.Where[len(m[0]):]
	return &cp
}
