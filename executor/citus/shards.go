package citus

import (
	"context"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/catalog"
)

// addShards records a new table's shards and their placements: those of
// the group's existing shards of the same index (and organization), or
// round robin over the placeable workers (of the organization) in (host,
// port) order; a reference table's shard goes to every placeable worker.
// It returns the shards and their nodes.
func (r *runner) addShards(ctx context.Context, c *change, tb catalog.Table, existing bool) ([]catalog.Shard, map[int64][]int32, error) {
	orgs := []string{""}
	if tb.Method == catalog.MethodOrganization {
		orgs = nil
		for _, o := range c.snap.Organizations() {
			orgs = append(orgs, o.Name)
		}
		if len(orgs) == 0 {
			return nil, nil, errorf(pgerrcode.InvalidParameterValue, "there are no organizations to distribute %s by", tb.Relation).
				withHint("Add them with pgfed_add_organization and pgfed_set_node_organization.")
		}
	}
	var template *catalog.Table
	if existing {
		if ts := c.snap.TablesIn(tb.ColocationID); len(ts) > 0 {
			template = &ts[0]
		}
	}
	var all []catalog.Shard
	placed := make(map[int64][]int32)
	var placements []catalog.Placement
	for _, org := range orgs {
		ranges := []catalog.HashRange{catalog.FullRange}
		if tb.Method != catalog.MethodReference {
			var err error
			if ranges, err = catalog.NewShardRanges(tb.ShardCount); err != nil {
				return nil, nil, err
			}
		}
		var nodes [][]int32
		if template != nil {
			tshards := c.snap.ShardsOf(template.Relation)
			if org != "" {
				tshards = c.snap.ShardsOfOrganization(template.Relation, org)
			}
			for _, s := range tshards {
				var ids []int32
				for _, p := range c.snap.PlacementsOf(s.ID) {
					ids = append(ids, p.NodeID)
				}
				nodes = append(nodes, ids)
			}
		} else {
			workers := placeable(c.snap)
			if org != "" {
				workers = nil
				for _, n := range c.snap.NodesOf(org) {
					if n.Placeable() {
						workers = append(workers, n)
					}
				}
			}
			replicas := 1
			if tb.Method == catalog.MethodReference {
				replicas = max(len(workers), 1)
			}
			rr, err := catalog.RoundRobin(workers, len(ranges), replicas)
			if err != nil {
				if org != "" {
					return nil, nil, errorf(pgerrcode.InvalidParameterValue, "organization %q has no active worker nodes", org).
						withHint("Assign workers with pgfed_set_node_organization.")
				}
				return nil, nil, errNotEnough(err)
			}
			nodes = rr
		}
		if len(nodes) != len(ranges) {
			return nil, nil, errorf(pgerrcode.InternalError, "co-location group %d of %s has %d shards, want %d", tb.ColocationID, tb.Relation, len(nodes), len(ranges))
		}
		shards, err := c.tx.AddShards(ctx, tb.Relation, org, ranges)
		if err != nil {
			return nil, nil, err
		}
		for i, s := range shards {
			placed[s.ID] = nodes[i]
			for _, n := range nodes[i] {
				placements = append(placements, catalog.Placement{ShardID: s.ID, NodeID: n})
			}
		}
		all = append(all, shards...)
	}
	if err := c.tx.AddPlacements(ctx, placements...); err != nil {
		return nil, nil, err
	}
	return all, placed, nil
}

// createShards creates the shard tables, with the shell's columns,
// constraints and indexes, on every placement, in the change's
// distributed transaction. Foreign keys point at the referenced table's
// co-located shard (or a reference table's only shard).
func (r *runner) createShards(ctx context.Context, c *change, sh *shell, tb catalog.Table, shards []catalog.Shard, placed map[int64][]int32) error {
	ddl := sh.ddl()
	perNode := make(map[int32][]string)
	for _, s := range shards {
		rn := renamer{tables: map[catalog.RelationName]string{sh.rel: s.Name()}, shardID: s.ID}
		for _, con := range sh.constraints {
			if con.typ != 'f' || con.refTable == sh.oid {
				continue
			}
			ref, ok := c.snap.TableByOID(con.refTable)
			if !ok {
				continue
			}
			if name, ok := colocatedShard(c.snap, ref, s); ok {
				rn.tables[catalog.RelationName{Schema: con.refSchema, Name: con.refName}] = name
			}
		}
		stmts, err := shardStatements(ddl, rn)
		if err != nil {
			return err
		}
		for _, n := range placed[s.ID] {
			if perNode[n] == nil {
				perNode[n] = []string{"CREATE SCHEMA IF NOT EXISTS " + quoteIdent(sh.rel.Schema)}
			}
			perNode[n] = append(perNode[n], stmts...)
		}
	}
	return c.onWorkers(ctx, perNode)
}

// colocatedShard returns the name of ref's shard that sits with shard s
// (same index and organization), or a reference table's only shard.
func colocatedShard(snap *catalog.Snapshot, ref catalog.Table, s catalog.Shard) (string, bool) {
	shards := snap.ShardsOf(ref.Relation)
	switch {
	case ref.Method == catalog.MethodReference && len(shards) == 1:
		return shards[0].Name(), true
	case ref.Method == catalog.MethodOrganization:
		shards = snap.ShardsOfOrganization(ref.Relation, s.Organization)
	}
	if s.Index < len(shards) {
		return shards[s.Index].Name(), true
	}
	return "", false
}
