package dtx

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgerrcode"
)

// DefaultDeadlockInterval is how often the deadlock detector looks, as
// Citus's citus.distributed_deadlock_detection_factor × deadlock_timeout
// (2 × 1 s).
const DefaultDeadlockInterval = 2 * time.Second

// DeadlockError is returned to the session of a transaction the deadlock
// detector cancelled; its SQLSTATE is 40P01 (deadlock_detected).
type DeadlockError struct {
	// Victim is the cancelled transaction.
	Victim TxID
	// Cycle describes the wait-for cycle, one "transaction X (worker N,
	// pid P) waits for transaction Y (pid Q)" per edge.
	Cycle []string
}

// Error names the victim and the cycle.
func (e *DeadlockError) Error() string {
	return "distributed deadlock detected; cancelled transaction " + e.Victim.String() +
		", the youngest in the cycle: " + strings.Join(e.Cycle, "; ")
}

// SQLState returns 40P01.
func (e *DeadlockError) SQLState() string { return pgerrcode.DeadlockDetected }

// DeadlockDetector finds deadlocks among the coordinator's distributed
// transactions that no single worker can see: T1 waits for T2 on one
// worker while T2 waits for T1 on another. Each round it asks every worker
// which of the coordinator's backends wait for which (pg_blocking_pids),
// maps backends to transactions, and looks for cycles in the wait-for
// graph; for each cycle spanning more than one worker, whose edges are all
// still there when checked again, it cancels the waiting statement of the
// youngest transaction of the cycle (the latest Begin), whose session then
// gets a *DeadlockError from Txn.StatementError (or CheckErr). Cycles within one worker are
// left to that worker's own detector.
//
// It sees the transactions of its own coordinator only: a cycle through
// transactions of several coordinators is not found (nor is one through a
// backend pgfed does not own).
type DeadlockDetector struct {
	coord    *Coordinator
	interval time.Duration
	log      hclog.Logger
}

// DeadlockDetector returns the coordinator's deadlock detector, looking
// every interval (DefaultDeadlockInterval when not positive).
func (c *Coordinator) DeadlockDetector(interval time.Duration) *DeadlockDetector {
	if interval <= 0 {
		interval = DefaultDeadlockInterval
	}
	return &DeadlockDetector{coord: c, interval: interval, log: c.log.Named("deadlock")}
}

// Run checks for deadlocks every interval until ctx is cancelled; it
// returns nil then. Failed rounds are logged.
func (d *DeadlockDetector) Run(ctx context.Context) error {
	tick := time.NewTicker(d.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if _, err := d.Check(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("deadlock detection round failed", "error", err)
		}
	}
}

// backend is a worker backend of a transaction.
type backend struct {
	node int32
	pid  uint32
}

// waitEdge is "waiter waits for blocker" on a worker; the transactions are
// indices into the round's list.
type waitEdge struct {
	waiter, blocker int
	node            int32
	waiterPID       uint32
	blockerPID      uint32
}

// Check runs one detection round and returns the transactions it
// cancelled. A worker that cannot be asked is skipped.
func (d *DeadlockDetector) Check(ctx context.Context) ([]TxID, error) {
	ctx, cancel := context.WithTimeout(ctx, d.interval)
	defer cancel()
	txns := d.coord.activeTxns()
	owner := make(map[backend]int)
	pids := make(map[int32][]uint32)
	for i, t := range txns {
		t.mu.Lock()
		if !t.done {
			for _, p := range t.parts {
				b := backend{p.node.ID, p.pid}
				owner[b] = i
				pids[b.node] = append(pids[b.node], b.pid)
			}
		}
		t.mu.Unlock()
	}
	if len(txns) < 2 {
		return nil, nil
	}
	var edges []waitEdge
	for node, ps := range pids {
		pairs, err := d.blockers(ctx, node, ps)
		if err != nil {
			d.log.Debug("cannot read the lock waits of a worker", "worker", node, "error", err)
			continue
		}
		for _, pr := range pairs {
			w, okw := owner[backend{node, pr[0]}]
			b, okb := owner[backend{node, pr[1]}]
			if okw && okb && w != b {
				edges = append(edges, waitEdge{waiter: w, blocker: b, node: node, waiterPID: pr[0], blockerPID: pr[1]})
			}
		}
	}
	var victims []TxID
	for {
		cycle := findCycle(len(txns), edges)
		if cycle == nil {
			return victims, nil
		}
		edges = withoutVertex(edges, cycle, txns)
		if !spansWorkers(cycle) || !d.stillThere(ctx, cycle) {
			continue
		}
		v := d.cancel(ctx, cycle, txns)
		if v != nil {
			victims = append(victims, v.id)
		}
	}
}

// blockers returns the (waiter, blocker) pid pairs among pids on a worker.
func (d *DeadlockDetector) blockers(ctx context.Context, node int32, pids []uint32) ([][2]uint32, error) {
	conn, err := d.coord.cfg.Workers.Acquire(ctx, node)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	strs := make([]string, len(pids))
	for i, p := range pids {
		strs[i] = strconv.FormatUint(uint64(p), 10)
	}
	res := conn.pg.ExecParams(ctx, `SELECT w.pid, b.pid FROM unnest($1::int4[]) AS w(pid),
		LATERAL unnest(pg_blocking_pids(w.pid)) AS b(pid) WHERE b.pid <> 0`,
		[][]byte{[]byte("{" + strings.Join(strs, ",") + "}")}, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, res.Err
	}
	pairs := make([][2]uint32, 0, len(res.Rows))
	for _, r := range res.Rows {
		w, err1 := strconv.ParseUint(string(r[0]), 10, 32)
		b, err2 := strconv.ParseUint(string(r[1]), 10, 32)
		if err1 == nil && err2 == nil {
			pairs = append(pairs, [2]uint32{uint32(w), uint32(b)})
		}
	}
	return pairs, nil
}

// findCycle returns the edges of a cycle in the graph of n vertices, in
// order, or nil when there is none.
func findCycle(n int, edges []waitEdge) []waitEdge {
	out := make([][]waitEdge, n)
	for _, e := range edges {
		out[e.waiter] = append(out[e.waiter], e)
	}
	const (
		white = iota
		grey
		black
	)
	color := make([]int, n)
	var path []waitEdge
	var visit func(v int) []waitEdge
	visit = func(v int) []waitEdge {
		color[v] = grey
		for _, e := range out[v] {
			switch color[e.blocker] {
			case grey: // back edge: the cycle is the path from e.blocker on
				path = append(path, e)
				for i, pe := range path {
					if pe.waiter == e.blocker {
						return append([]waitEdge(nil), path[i:]...)
					}
				}
				return nil // unreachable: a grey vertex is on the path
			case white:
				path = append(path, e)
				if c := visit(e.blocker); c != nil {
					return c
				}
				path = path[:len(path)-1]
			}
		}
		color[v] = black
		return nil
	}
	for v := range n {
		if color[v] == white {
			if c := visit(v); c != nil {
				return c
			}
		}
	}
	return nil
}

// spansWorkers reports whether a cycle has edges on more than one worker.
func spansWorkers(cycle []waitEdge) bool {
	for _, e := range cycle[1:] {
		if e.node != cycle[0].node {
			return true
		}
	}
	return false
}

// youngest returns the index of the cycle's transaction that began last.
func youngest(cycle []waitEdge, txns []*Txn) int {
	v := cycle[0].waiter
	for _, e := range cycle[1:] {
		t, y := txns[e.waiter], txns[v]
		if t.started.After(y.started) || t.started.Equal(y.started) && t.id.Seq > y.id.Seq {
			v = e.waiter
		}
	}
	return v
}

// withoutVertex removes from edges those touching the vertex a cycle's
// cancellation removes (its youngest transaction), or, for a cycle left to
// a worker, the cycle's first edge, so the search moves on.
func withoutVertex(edges []waitEdge, cycle []waitEdge, txns []*Txn) []waitEdge {
	var kept []waitEdge
	if !spansWorkers(cycle) {
		for _, e := range edges {
			if e != cycle[0] {
				kept = append(kept, e)
			}
		}
		return kept
	}
	v := youngest(cycle, txns)
	for _, e := range edges {
		if e.waiter != v && e.blocker != v {
			kept = append(kept, e)
		}
	}
	return kept
}

// stillThere asks the workers again whether every edge of the cycle still
// holds: the first look at each worker came at a different moment, and a
// real deadlock does not go away by itself.
func (d *DeadlockDetector) stillThere(ctx context.Context, cycle []waitEdge) bool {
	for _, e := range cycle {
		pairs, err := d.blockers(ctx, e.node, []uint32{e.waiterPID})
		if err != nil {
			return false
		}
		found := false
		for _, p := range pairs {
			found = found || p[1] == e.blockerPID
		}
		if !found {
			return false
		}
	}
	return true
}

// cancel marks the cycle's youngest transaction as the victim and cancels
// its waiting statements. It returns the victim, or nil when it had ended
// meanwhile.
func (d *DeadlockDetector) cancel(ctx context.Context, cycle []waitEdge, txns []*Txn) *Txn {
	vi := youngest(cycle, txns)
	v := txns[vi]
	desc := make([]string, len(cycle))
	for i, e := range cycle {
		desc[i] = fmt.Sprintf("transaction %s (worker %d, pid %d) waits for transaction %s (pid %d)",
			txns[e.waiter].id, e.node, e.waiterPID, txns[e.blocker].id, e.blockerPID)
	}
	derr := &DeadlockError{Victim: v.id, Cycle: desc}
	v.mu.Lock()
	if v.done {
		v.mu.Unlock()
		return nil
	}
	v.victim = derr
	v.mu.Unlock()
	d.log.Warn("distributed deadlock: cancelling the youngest transaction", "txn", v.id.String(), "cycle", strings.Join(desc, "; "))
	var waits []waitEdge
	for _, e := range cycle {
		if e.waiter == vi {
			waits = append(waits, e)
		}
	}
	sort.Slice(waits, func(i, j int) bool { return waits[i].node < waits[j].node })
	for _, e := range waits {
		if err := d.cancelBackend(ctx, e.node, e.waiterPID); err != nil {
			d.log.Warn("cannot cancel a deadlocked statement", "txn", v.id.String(), "worker", e.node, "pid", e.waiterPID, "error", err)
		}
	}
	return v
}

// cancelBackend cancels the statement of a backend on a worker.
func (d *DeadlockDetector) cancelBackend(ctx context.Context, node int32, pid uint32) error {
	conn, err := d.coord.cfg.Workers.Acquire(ctx, node)
	if err != nil {
		return err
	}
	defer conn.Release()
	_, err = conn.pg.Exec(ctx, "SELECT pg_cancel_backend("+strconv.FormatUint(uint64(pid), 10)+")").ReadAll()
	return err
}
