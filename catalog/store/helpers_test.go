package store_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/catalog/store"
)

// dump prints a snapshot's whole contents, one fact a line, so that two
// snapshots can be compared and a difference read.
func dump(s *catalog.Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version %d\n", s.Version())
	for _, o := range s.Organizations() {
		fmt.Fprintf(&b, "organization %+v\n", o)
	}
	for _, n := range s.Nodes() {
		fmt.Fprintf(&b, "node %+v\n", n)
	}
	for _, g := range s.ColocationGroups() {
		fmt.Fprintf(&b, "group %+v\n", g)
	}
	for _, t := range s.Tables() {
		t.OID = 0 // differs between a database and a test's expectation
		fmt.Fprintf(&b, "table %+v\n", t)
		for _, sh := range s.ShardsOf(t.Relation) {
			fmt.Fprintf(&b, "  shard %+v on %v\n", sh, s.PlacementsOf(sh.ID))
		}
	}
	return b.String()
}

// distribute does what create_distributed_table will: a co-location group
// (unless colocateWith names a table), the table, Citus's shard ranges and
// round-robin placements (or the placements of the co-located table).
func distribute(ctx context.Context, tx *store.Tx, tb catalog.Table, org string, colocateWith *catalog.RelationName) error {
	snap, err := tx.Snapshot(ctx)
	if err != nil {
		return err
	}
	if colocateWith != nil {
		other, ok := snap.Table(colocateWith.Schema, colocateWith.Name)
		if !ok {
			return fmt.Errorf("no table %v", colocateWith)
		}
		tb.ColocationID = other.ColocationID
	} else {
		tb.ColocationID, err = tx.CreateColocationGroup(ctx, catalog.ColocationGroup{
			Method: tb.Method, ShardCount: tb.ShardCount, ColumnType: tb.DistributionType()})
		if err != nil {
			return err
		}
	}
	if _, err := tx.AddDistributedTable(ctx, tb); err != nil {
		return err
	}
	var orgs []string
	switch {
	case tb.Method != catalog.MethodOrganization:
		orgs = []string{""}
	case org != "":
		orgs = []string{org}
	default:
		for _, o := range snap.Organizations() {
			orgs = append(orgs, o.Name)
		}
	}
	for _, o := range orgs {
		ranges, err := catalog.NewShardRanges(tb.ShardCount)
		if err != nil {
			return err
		}
		if tb.Method == catalog.MethodReference {
			ranges = []catalog.HashRange{catalog.FullRange}
		}
		shards, err := tx.AddShards(ctx, tb.Relation, o, ranges)
		if err != nil {
			return err
		}
		nodes := snap.NodesActive()
		if tb.Method == catalog.MethodOrganization {
			nodes = snap.NodesOf(o)
		}
		replicas := 1
		if tb.Method == catalog.MethodReference {
			replicas = len(nodes)
		}
		rr, err := catalog.RoundRobin(nodes, len(ranges), replicas)
		if err != nil {
			return err
		}
		var ps []catalog.Placement
		for i, sh := range shards {
			ids := rr[i]
			if colocateWith != nil {
				ids = nil
				for _, p := range snap.PlacementsOf(shardsOf(snap, *colocateWith, o)[i].ID) {
					ids = append(ids, p.NodeID)
				}
			}
			for _, id := range ids {
				ps = append(ps, catalog.Placement{ShardID: sh.ID, NodeID: id})
			}
		}
		if err := tx.AddPlacements(ctx, ps...); err != nil {
			return err
		}
	}
	return nil
}

// shardsOf returns a table's shards for one organization ("" for a hash or
// reference table).
func shardsOf(snap *catalog.Snapshot, rel catalog.RelationName, org string) []catalog.Shard {
	if org == "" {
		return snap.ShardsOf(rel)
	}
	return snap.ShardsOfOrganization(rel, org)
}
