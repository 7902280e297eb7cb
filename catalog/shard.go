package catalog

import (
	"math"
	"strconv"
)

// FirstShardID is the first shard id Citus hands out (its
// pg_dist_shardid_seq starts there); pgfed's sequence starts there too.
const FirstShardID int64 = 102008

// Shard is one piece of a table, as a row of Citus's pg_dist_shard: the rows
// whose hash lies in Range (and, for an organization table, whose
// organization is Organization).
type Shard struct {
	// ID identifies the shard, positive and unique across all tables.
	ID int64
	// Table is the table the shard belongs to.
	Table RelationName
	// Index is the shard's position among its table's shards in range
	// order (per organization for an organization table), 0..ShardCount-1.
	// Co-located shards have the same index.
	Index int
	// Organization is, for a shard of an organization table, the
	// organization whose rows it holds; "" otherwise.
	Organization string
	// Range is the hash range the shard holds; the whole int32 range for a
	// reference table's shard.
	Range HashRange
}

// Name returns the shard table's name, ShardName(s.Table.Name, s.ID).
func (s Shard) Name() string { return ShardName(s.Table.Name, s.ID) }

// QualifiedName returns the shard table's name qualified by its table's
// schema and quoted for SQL.
func (s Shard) QualifiedName() string {
	return RelationName{Schema: s.Table.Schema, Name: s.Name()}.String()
}

// String returns "shard <id>".
func (s Shard) String() string { return "shard " + strconv.FormatInt(s.ID, 10) }

// FullRange is the range of every int32, held by a reference table's shard.
var FullRange = HashRange{Min: math.MinInt32, Max: math.MaxInt32}

// NewShardRanges returns the hash ranges of n shards exactly as Citus
// creates them (see ShardRanges, whose math it uses). It fails with a
// *ShardCountError unless 1 <= n <= MaxShardCount.
func NewShardRanges(n int) ([]HashRange, error) { return ShardRanges(n) }
