package citus

import (
	"context"
	"io"
	"strconv"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/catalog"
)

func init() {
	register(
		&funcSpec{
			name:    "undistribute_table",
			params:  []param{{name: "table_name", typ: "regclass"}, {name: "cascade_via_foreign_keys", typ: "bool", def: "false"}},
			returns: "void", strict: true, run: undistribute,
		},
		&funcSpec{
			name:    "truncate_local_data_after_distributing_table",
			params:  []param{{name: "function_name", typ: "regclass"}},
			returns: "void", strict: true, run: truncateLocalData,
		},
	)
}

// undistribute is undistribute_table(table_name, cascade_via_foreign_keys):
// the shards' rows back into the shell, the shards dropped, the catalog
// rows removed, in one change.
func undistribute(ctx context.Context, r *runner, a []arg) ([][]*string, error) {
	if r.env.Txn != nil {
		return nil, inBlock("undistribute_table")
	}
	if a[1].str() == "true" {
		return nil, notSupported("cascade_via_foreign_keys is not supported by pgfed").
			withHint("Undistribute the tables one by one, referencing tables first.")
	}
	oid, _ := strconv.ParseUint(a[0].str(), 10, 32)
	if err := r.checkOwner(ctx, uint32(oid)); err != nil {
		return nil, err
	}
	err := r.atomically(ctx, func(ctx context.Context, c *change) error {
		t, ok := c.snap.TableByOID(uint32(oid))
		if !ok {
			return errorf(pgerrcode.InvalidParameterValue, "cannot undistribute table because the table is not distributed").
				withDetail("Relation with OID %d is not a distributed or reference table.", oid)
		}
		for _, o := range c.snap.Tables() {
			if o.Relation == t.Relation {
				continue
			}
			if err := refusesUndistribute(ctx, c, t, o); err != nil {
				return err
			}
		}
		sh, err := readShell(ctx, c.tx, uint32(oid))
		if err != nil {
			return err
		}
		// Rows already in the shell (kept because a local table
		// references it) are the same rows: drop them first.
		if _, err := c.tx.Exec(ctx, "DELETE FROM ONLY "+sh.rel.String()); err != nil {
			return err
		}
		cols := sh.columnList()
		perNode := map[int32][]string{}
		for _, s := range c.snap.ShardsOf(t.Relation) {
			ps := c.snap.PlacementsOf(s.ID)
			if err := pipeShard(ctx, c, ps[0].NodeID, s.QualifiedName(), "COPY "+s.QualifiedName()+" "+cols+" TO STDOUT",
				"COPY "+sh.rel.String()+" "+cols+" FROM STDIN"); err != nil {
				return err
			}
			for _, p := range ps {
				perNode[p.NodeID] = append(perNode[p.NodeID], "DROP TABLE "+s.QualifiedName())
			}
		}
		if err := c.onWorkers(ctx, perNode); err != nil {
			return err
		}
		r.log.Info("undistributing table", "table", t.Relation.String())
		return c.tx.RemoveTable(ctx, t.Relation)
	})
	if err != nil {
		return nil, err
	}
	return void(), nil
}

// refusesUndistribute fails when another distributed table's shards have
// a foreign key to t's (it would lose its target).
func refusesUndistribute(ctx context.Context, c *change, t, other catalog.Table) error {
	var n int
	err := queryRow(ctx, c.tx, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = $1 AND confrelid = $2",
		[]any{other.OID, t.OID}, &n)
	if err != nil {
		return err
	}
	if n > 0 {
		return notSupported("cannot complete operation because table %s is referenced by a foreign key", t.Relation.Name).
			withDetail("Distributed table %s references it.", other.Relation).
			withHint("Drop the foreign key or undistribute %s first.", other.Relation)
	}
	return nil
}

// pipeShard streams a shard's rows (COPY TO on its worker, in the
// change's distributed transaction) into the shell (COPY FROM in the
// catalog transaction).
func pipeShard(ctx context.Context, c *change, node int32, shard, out, in string) error {
	conn, err := c.txn.Conn(ctx, node)
	if err != nil {
		return err
	}
	// No writes to the shard until it is dropped: they would be lost.
	if _, err := conn.Exec(ctx, "LOCK TABLE "+shard+" IN EXCLUSIVE MODE").ReadAll(); err != nil {
		return c.txn.StatementError(ctx, node, err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := conn.CopyTo(ctx, pw, out)
		pw.CloseWithError(err)
		done <- err
	}()
	_, err = c.tx.CopyFrom(ctx, pr, in)
	pr.CloseWithError(io.ErrClosedPipe)
	werr := <-done
	if werr != nil && err == nil || werr != nil && isPgError(werr) {
		return c.txn.StatementError(ctx, node, werr)
	}
	return err
}

// truncateLocalData is truncate_local_data_after_distributing_table:
// empties the shell of a distributed table, whose rows were kept because
// a local table references it.
func truncateLocalData(ctx context.Context, r *runner, a []arg) ([][]*string, error) {
	snap, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	oid, _ := strconv.ParseUint(a[0].str(), 10, 32)
	t, ok := snap.TableByOID(uint32(oid))
	if !ok {
		return nil, errorf(pgerrcode.InvalidParameterValue, "supplied parameter is not a distributed relation").
			withDetail("This UDF only truncates local records of distributed tables.")
	}
	rows, err := r.env.Meta.Query(ctx, "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "+
		"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE k.contype = 'f' AND k.confrelid = "+strconv.FormatUint(oid, 10)+
		" AND k.conrelid <> k.confrelid AND k.conrelid NOT IN (SELECT logicalrelid FROM pgfed.partition)")
	if err != nil {
		return nil, err
	}
	if len(rows.Values) > 0 {
		return nil, notSupported("cannot truncate a table referenced in a foreign key constraint by a local table").
			withDetail("Table %s references %s.", rows.Values[0][0], t.Relation)
	}
	if _, err := r.env.Meta.Query(ctx, "TRUNCATE ONLY "+t.Relation.String()+" CASCADE"); err != nil {
		return nil, err
	}
	return void(), nil
}
