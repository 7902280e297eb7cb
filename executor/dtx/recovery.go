package dtx

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
)

// Result counts what a recovery round did.
type Result struct {
	// Committed counts prepared transactions committed (a decision row
	// existed).
	Committed int
	// RolledBack counts prepared transactions rolled back (no decision
	// row, and none can appear).
	RolledBack int
	// InFlight counts prepared transactions left alone because their
	// coordinator is still deciding, or still committing them.
	InFlight int
	// Deleted counts decision rows deleted: no worker holds their gid any
	// more.
	Deleted int
	// Failed counts prepared transactions that could not be settled (a
	// worker error); they are tried again next round.
	Failed int
	// Unreachable lists the workers that could not be listed; their
	// prepared transactions and decision rows wait for a later round.
	Unreachable []int32
}

// Recovered returns how many prepared transactions were settled, what
// Citus's recover_prepared_transactions() returns.
func (r Result) Recovered() int { return r.Committed + r.RolledBack }

// WorkerConn is a worker for Recover: its node and a connection to it
// outside any transaction, or a nil Conn when it cannot be reached.
type WorkerConn struct {
	// Node is the worker.
	Node catalog.Node
	// Conn is a connection to the worker's database, or nil.
	Conn *pgconn.PgConn
}

// RecoverOptions tune Recover.
type RecoverOptions struct {
	// Prefix selects the prepared transactions to settle; default
	// GIDPrefix (those of every pgfed coordinator: any coordinator may
	// settle any other's, see doc.go).
	Prefix string
	// ProbeTimeout: see DefaultProbeTimeout.
	ProbeTimeout time.Duration
	// Logger receives the log; nil means none.
	Logger hclog.Logger
}

// Recover settles the prepared transactions left on the workers by
// coordinators that crashed or lost a worker mid-commit, and deletes the
// decision rows no longer needed. meta is a connection to the metadata
// database outside any transaction. It returns an error when the metadata
// database fails; a worker failure only shows in the Result.
//
// A round:
//
//  1. reads the committed decision rows (a snapshot);
//  2. lists each worker's prepared transactions with the prefix;
//  3. commits those whose gid has a row in 1; for the others, probe tells
//     commit, abort, or still in flight (left alone);
//  4. deletes the rows of 1 whose worker (named in the gid) was listed in
//     2 and did not hold the gid, or whose gid was committed in 3.
//
// Rows read in 1 were committed after every PREPARE of their transaction
// had succeeded, so a worker listed later without the gid has committed
// it: the row will never be needed again.
func Recover(ctx context.Context, meta *pgconn.PgConn, workers []WorkerConn, opts RecoverOptions) (Result, error) {
	if opts.Prefix == "" {
		opts.Prefix = GIDPrefix
	}
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = DefaultProbeTimeout
	}
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	var res Result

	records, err := decisionRows(ctx, meta, opts.Prefix)
	if err != nil {
		return res, err
	}
	listed := make(map[int32]map[string]bool) // node -> gids prepared there
	for _, w := range workers {
		if w.Conn == nil {
			res.Unreachable = append(res.Unreachable, w.Node.ID)
			continue
		}
		gids, err := preparedGIDs(ctx, w.Conn, opts.Prefix)
		if err != nil {
			log.Warn("cannot list prepared transactions", "worker", w.Node.ID, "error", err)
			res.Unreachable = append(res.Unreachable, w.Node.ID)
			continue
		}
		held := make(map[string]bool, len(gids))
		listed[w.Node.ID] = held
		for _, gid := range gids {
			held[gid] = true
			o := outcomeCommit
			if !records[gid] {
				o, err = probe(ctx, meta, gid, opts.ProbeTimeout)
				if err != nil {
					return res, err
				}
			}
			if o == outcomeInFlight {
				res.InFlight++
				continue
			}
			st, err := finishPrepared(ctx, w.Conn, gid, o)
			switch {
			case err != nil:
				res.Failed++
				log.Warn("cannot settle a prepared transaction", "gid", gid, "worker", w.Node.ID, "outcome", o, "error", err)
			case st == busy:
				res.InFlight++
			case st == gone:
				held[gid] = false
			case o == outcomeCommit:
				res.Committed++
				held[gid] = false
				log.Info("committed a prepared transaction", "gid", gid, "worker", w.Node.ID)
			default:
				res.RolledBack++
				log.Info("rolled back a prepared transaction", "gid", gid, "worker", w.Node.ID)
			}
		}
	}

	var stale []string
	for gid := range records {
		g, ok := ParseGID(gid)
		if !ok {
			continue
		}
		if held, ok := listed[g.Node]; ok && !held[gid] {
			stale = append(stale, gid)
		}
	}
	if len(stale) > 0 {
		n, err := deleteRows(ctx, meta, stale)
		if err != nil {
			return res, err
		}
		res.Deleted = n
	}
	return res, nil
}

// decisionRows returns the gids of the committed decision rows.
func decisionRows(ctx context.Context, meta *pgconn.PgConn, prefix string) (map[string]bool, error) {
	res := meta.ExecParams(ctx, "SELECT gid FROM "+DecisionTable+" WHERE starts_with(gid, $1)",
		[][]byte{[]byte(prefix)}, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, fmt.Errorf("read the decision log %s: %w", DecisionTable, res.Err)
	}
	m := make(map[string]bool, len(res.Rows))
	for _, r := range res.Rows {
		m[string(r[0])] = true
	}
	return m, nil
}

// preparedGIDs lists a worker's prepared transactions of this database
// whose gid starts with prefix.
func preparedGIDs(ctx context.Context, c *pgconn.PgConn, prefix string) ([]string, error) {
	res := c.ExecParams(ctx, "SELECT gid FROM pg_catalog.pg_prepared_xacts WHERE database = pg_catalog.current_database() AND pg_catalog.starts_with(gid, $1) ORDER BY prepared",
		[][]byte{[]byte(prefix)}, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, res.Err
	}
	gids := make([]string, len(res.Rows))
	for i, r := range res.Rows {
		gids[i] = string(r[0])
	}
	return gids, nil
}

// finishState is what became of a prepared transaction recovery tried to
// finish.
type finishState uint8

const (
	// finished: this call committed or rolled it back.
	finished finishState = iota
	// busy: someone else is finishing it right now (55000, "is busy").
	busy
	// gone: someone else finished it already (42704).
	gone
)

// finishPrepared commits or rolls back a prepared transaction.
func finishPrepared(ctx context.Context, c *pgconn.PgConn, gid string, o outcome) (finishState, error) {
	sql := "COMMIT PREPARED " + quoteLiteral(gid)
	if o == outcomeAbort {
		sql = "ROLLBACK PREPARED " + quoteLiteral(gid)
	}
	_, err := c.Exec(ctx, sql).ReadAll()
	switch {
	case err == nil:
		return finished, nil
	case hasCode(err, pgerrcode.ObjectNotInPrerequisiteState):
		return busy, nil
	case hasCode(err, pgerrcode.UndefinedObject):
		return gone, nil
	}
	return finished, err
}

// deleteRows deletes decision rows and returns how many went.
func deleteRows(ctx context.Context, meta *pgconn.PgConn, gids []string) (int, error) {
	quoted := make([]string, len(gids))
	for i, g := range gids {
		quoted[i] = quoteLiteral(g)
	}
	res, err := meta.Exec(ctx, "DELETE FROM "+DecisionTable+" WHERE gid IN ("+strings.Join(quoted, ", ")+")").ReadAll()
	if err != nil {
		return 0, fmt.Errorf("delete settled rows of the decision log: %w", err)
	}
	return int(res[0].CommandTag.RowsAffected()), nil
}

// Recover runs one recovery round over the coordinator's workers, with
// connections from its pools (a worker that cannot be reached is reported
// in Result.Unreachable). It is safe to run while transactions commit, in
// this coordinator and in others sharing the metadata database.
func (c *Coordinator) Recover(ctx context.Context) (Result, error) {
	meta, err := c.cfg.Metadata.Acquire(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("recovery: %w", err)
	}
	defer meta.Release()
	var workers []WorkerConn
	for _, n := range c.cfg.Workers.Nodes() {
		w := WorkerConn{Node: n}
		conn, err := c.cfg.Workers.Acquire(ctx, n.ID)
		if err != nil {
			c.log.Debug("recovery cannot reach a worker", "worker", n.ID, "error", err)
		} else {
			w.Conn = conn.pg
			defer conn.Release()
		}
		workers = append(workers, w)
	}
	res, err := Recover(ctx, meta.pg, workers, RecoverOptions{ProbeTimeout: c.cfg.ProbeTimeout, Logger: c.log.Named("recovery")})
	if err != nil {
		return res, fmt.Errorf("recovery: %w", err)
	}
	return res, nil
}

// RunRecovery runs a recovery round at once and then every interval until
// ctx is cancelled; it returns nil then. Failed rounds are logged and
// tried again at the next tick.
func (c *Coordinator) RunRecovery(ctx context.Context, interval time.Duration) error {
	log := c.log.Named("recovery")
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		res, err := c.Recover(ctx)
		switch {
		case err != nil && !errors.Is(err, context.Canceled):
			log.Warn("recovery round failed", "error", err)
		case res.Recovered() > 0 || res.Failed > 0 || len(res.Unreachable) > 0:
			log.Info("recovery round", "committed", res.Committed, "rolled_back", res.RolledBack,
				"in_flight", res.InFlight, "deleted", res.Deleted, "failed", res.Failed, "unreachable", res.Unreachable)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
