package citus

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/catalog/store"
	"github.com/pgfed/pgfed/executor/dtx"
)

// change is the work of one atomic catalog change: the catalog
// transaction (which also holds the shell table's changes), the catalog
// as it stood when the transaction locked it, and the distributed
// transaction for the workers.
type change struct {
	tx   *store.Tx
	snap *catalog.Snapshot
	txn  *dtx.Txn
}

// atomically runs fn as one change that commits everywhere or nowhere:
// fn works in c.tx (metadata database) and c.txn (workers); then the
// workers are prepared with their decision rows in c.tx, and the commit
// of c.tx (store.Update) is the commit point. After it the workers
// commit; after a failure they roll back; when the commit's outcome is
// unknown the decision log settles it.
func (r *runner) atomically(ctx context.Context, fn func(ctx context.Context, c *change) error) error {
	if err := r.syncPools(ctx); err != nil {
		return err
	}
	txn := r.env.Coord.Begin(r.env.Session, dtx.TxnOptions{})
	var prep *dtx.Prepared
	err := r.env.Store.Update(ctx, func(tx *store.Tx) error {
		snap, err := tx.Snapshot(ctx)
		if err != nil {
			return err
		}
		if err := fn(ctx, &change{tx: tx, snap: snap, txn: txn}); err != nil {
			return err
		}
		prep, err = txn.PrepareIn(ctx, func(ctx context.Context, sql string) error {
			_, err := tx.Exec(ctx, sql)
			return err
		})
		return err
	})
	if prep == nil {
		if rerr := txn.Rollback(ctx); rerr != nil && !errors.Is(rerr, dtx.ErrTxnDone) {
			r.log.Debug("roll back the workers of a failed change", "error", rerr)
		}
		return err
	}
	if err == nil {
		prep.Commit(ctx)
		return nil
	}
	committed, rerr := prep.Resolve(ctx)
	switch {
	case committed:
		r.log.Warn("catalog change committed although its commit reported an error", "error", err)
		return nil
	case rerr != nil:
		r.log.Error("catalog change outcome unknown", "error", err, "resolve", rerr)
		return rerr
	}
	return err
}

// onWorkers runs each worker's statements in the change's distributed
// transaction (see runOnWorkers).
func (c *change) onWorkers(ctx context.Context, perNode map[int32][]string) error {
	return runOnWorkers(ctx, c.txn, perNode)
}

// runOnWorkers sends each worker its statements as one batch in txn, the
// workers at once, and marks them written. The first failure (in node id
// order) is returned through StatementError, which rolls the others
// back.
func runOnWorkers(ctx context.Context, txn *dtx.Txn, perNode map[int32][]string) error {
	var ids []int32
	for _, id := range sortedNodes(perNode) {
		if len(perNode[id]) > 0 {
			ids = append(ids, id)
		}
	}
	conns := make([]*pgconn.PgConn, len(ids))
	for i, id := range ids {
		pg, err := txn.Conn(ctx, id)
		if err != nil {
			return err
		}
		conns[i] = pg
	}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = conns[i].Exec(ctx, joinStatements(perNode[id])).ReadAll()
		}()
	}
	wg.Wait()
	for i, id := range ids {
		if errs[i] != nil {
			return txn.StatementError(ctx, id, &WorkerError{Node: id, Addr: addrOf(conns[i]), Err: errs[i]})
		}
		txn.MarkWrite(id)
	}
	return nil
}
