package catalog

import "strconv"

// ColocationGroup is a set of tables that share shard boundaries and
// placements, so that joins and foreign keys on their distribution columns
// stay on one worker. It is a row of Citus's pg_dist_colocation, with the
// distribution method added so that hash and organization tables never
// share a group.
type ColocationGroup struct {
	// ID identifies the group, positive and unique.
	ID int32
	// Method is the distribution method of every table in the group.
	Method DistributionMethod
	// ShardCount is the number of shards of each table (per organization
	// for organization tables; 1 for reference tables).
	ShardCount int
	// ColumnType is the type of the hashed column of every table in the
	// group (see Table.DistributionType); 0 for reference tables and for
	// organization tables without a hash column.
	ColumnType Type
}

// String returns "colocation group <id>".
func (g ColocationGroup) String() string { return "colocation group " + strconv.Itoa(int(g.ID)) }

// Admits reports whether t may belong to g: same method, shard count and
// distribution type. It does not look at t.ColocationID.
func (g ColocationGroup) Admits(t Table) bool {
	return g.Method == t.Method && g.ShardCount == t.ShardCount && g.ColumnType == t.DistributionType()
}
