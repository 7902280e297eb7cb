package citus

import (
	"context"
	"io"

	"github.com/pgfed/pgfed/catalog"
)

// replicateReferenceTables gives a node (just added) a placement of every
// reference table, as Citus does when a node is added, so that joins of
// reference tables with shards placed there stay on the node: in one
// change, the catalog placements, the shard tables (columns first, then
// the rows copied from an existing placement, then constraints and
// indexes, so that foreign keys between reference tables hold) and
// nothing if anything fails. It does nothing when the node has them all.
func (r *runner) replicateReferenceTables(ctx context.Context, node int32) error {
	snap, err := r.snapshot(ctx)
	if err != nil {
		return err
	}
	if len(missingReference(snap, node)) == 0 {
		return nil
	}
	return r.atomically(ctx, func(ctx context.Context, c *change) error {
		missing := missingReference(c.snap, node)
		if len(missing) == 0 {
			return nil
		}
		type item struct {
			shard  catalog.Shard
			sh     *shell
			create []string // the table
			rest   []string // constraints and indexes
			fkeys  []string // foreign keys, last: their targets need their keys
		}
		var items []item
		var placements []catalog.Placement
		for _, t := range missing {
			s := c.snap.ShardsOf(t.Relation)[0]
			sh, err := readShell(ctx, c.tx, t.OID)
			if err != nil {
				return err
			}
			rn := renamer{tables: map[catalog.RelationName]string{sh.rel: s.Name()}, shardID: s.ID}
			for _, con := range sh.constraints {
				if ref, ok := c.snap.TableByOID(con.refTable); ok && con.typ == 'f' && con.refTable != sh.oid {
					if name, ok := colocatedShard(c.snap, ref, s); ok {
						rn.tables[catalog.RelationName{Schema: con.refSchema, Name: con.refName}] = name
					}
				}
			}
			ddl := sh.ddl()
			fk := sh.constraintDDL(true)
			create, err := shardStatements(ddl[:1], rn)
			if err != nil {
				return err
			}
			rest, err := shardStatements(ddl[1:len(ddl)-len(fk)], rn)
			if err != nil {
				return err
			}
			fkeys, err := shardStatements(fk, rn)
			if err != nil {
				return err
			}
			items = append(items, item{shard: s, sh: sh, create: create, rest: rest, fkeys: fkeys})
			placements = append(placements, catalog.Placement{ShardID: s.ID, NodeID: node})
		}
		if err := c.tx.AddPlacements(ctx, placements...); err != nil {
			return err
		}
		create := []string{}
		for _, it := range items {
			create = append(create, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(it.sh.rel.Schema))
			create = append(create, it.create...)
		}
		if err := c.onWorkers(ctx, map[int32][]string{node: create}); err != nil {
			return err
		}
		for _, it := range items {
			src := c.snap.PlacementsOf(it.shard.ID)[0].NodeID
			cols := it.sh.columnList()
			if err := copyBetweenWorkers(ctx, c, src, node, it.shard.QualifiedName(), cols); err != nil {
				return err
			}
		}
		var rest, fkeys []string
		for _, it := range items {
			rest = append(rest, it.rest...)
			fkeys = append(fkeys, it.fkeys...)
		}
		rest = append(rest, fkeys...)
		r.log.Info("reference tables replicated", "node", node, "tables", len(items))
		return c.onWorkers(ctx, map[int32][]string{node: rest})
	})
}

// missingReference returns the reference tables without a placement on
// node.
func missingReference(snap *catalog.Snapshot, node int32) []catalog.Table {
	var out []catalog.Table
	for _, t := range snap.Tables() {
		if t.Method != catalog.MethodReference {
			continue
		}
		shards := snap.ShardsOf(t.Relation)
		if len(shards) != 1 {
			continue
		}
		found := false
		for _, p := range snap.PlacementsOf(shards[0].ID) {
			found = found || p.NodeID == node
		}
		if !found {
			out = append(out, t)
		}
	}
	return out
}

// copyBetweenWorkers copies a shard's rows from one placement to another,
// both in the change's distributed transaction; the source is locked
// against writes until the change ends.
func copyBetweenWorkers(ctx context.Context, c *change, from, to int32, shard, cols string) error {
	src, err := c.txn.Conn(ctx, from)
	if err != nil {
		return err
	}
	dst, err := c.txn.Conn(ctx, to)
	if err != nil {
		return err
	}
	if _, err := src.Exec(ctx, "LOCK TABLE "+shard+" IN EXCLUSIVE MODE").ReadAll(); err != nil {
		return c.txn.StatementError(ctx, from, err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := src.CopyTo(ctx, pw, "COPY "+shard+" "+cols+" TO STDOUT")
		pw.CloseWithError(err)
		done <- err
	}()
	_, err = dst.CopyFrom(ctx, pr, "COPY "+shard+" "+cols+" FROM STDIN")
	pr.CloseWithError(io.ErrClosedPipe)
	if serr := <-done; serr != nil && (err == nil || isPgError(serr)) {
		return c.txn.StatementError(ctx, from, serr)
	}
	if err != nil {
		return c.txn.StatementError(ctx, to, err)
	}
	c.txn.MarkWrite(to)
	return nil
}
