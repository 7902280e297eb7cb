package catalog

import (
	"strconv"
	"strings"
)

// RelationName is a table's schema-qualified name.
type RelationName struct {
	// Schema is the table's schema ("public").
	Schema string
	// Name is the table's name within its schema.
	Name string
}

// String returns the name quoted for SQL, "schema"."name".
func (r RelationName) String() string {
	return QuoteIdentifier(r.Schema) + "." + QuoteIdentifier(r.Name)
}

// compare orders relation names by schema, then name.
func (r RelationName) compare(o RelationName) int {
	if c := strings.Compare(r.Schema, o.Schema); c != 0 {
		return c
	}
	return strings.Compare(r.Name, o.Name)
}

// QuoteIdentifier returns s quoted as a PostgreSQL identifier: in double
// quotes, with embedded double quotes doubled. Always quoting keeps the
// result correct for keywords and mixed case alike.
func QuoteIdentifier(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// DistributionMethod is how a table's rows are spread over the workers.
type DistributionMethod uint8

// The distribution methods.
const (
	// MethodHash spreads rows over shards by the hash of the distribution
	// column, as Citus's hash distribution.
	MethodHash DistributionMethod = iota + 1
	// MethodReference keeps one shard with a full copy on every worker.
	MethodReference
	// MethodOrganization places each row on the workers of the
	// organization its distribution column names; within an organization
	// rows are spread by the hash of the table's hash column.
	MethodOrganization
)

// String returns "hash", "reference" or "organization", the spellings of
// create_distributed_table's distribution_type and of the store.
func (m DistributionMethod) String() string {
	switch m {
	case MethodHash:
		return "hash"
	case MethodReference:
		return "reference"
	case MethodOrganization:
		return "organization"
	}
	return "method(" + strconv.Itoa(int(m)) + ")"
}

// Valid reports whether m is one of the named methods.
func (m DistributionMethod) Valid() bool { return m >= MethodHash && m <= MethodOrganization }

// ParseDistributionMethod returns the method spelled s, as String spells
// it; ok is false for any other spelling.
func ParseDistributionMethod(s string) (m DistributionMethod, ok bool) {
	for m := MethodHash; m <= MethodOrganization; m++ {
		if m.String() == s {
			return m, true
		}
	}
	return 0, false
}

// Table is a distributed or reference table, as a row of Citus's
// pg_dist_partition.
type Table struct {
	// Relation is the table's current name.
	Relation RelationName
	// OID is the table's OID in the metadata database (its regclass); 0
	// when not known (tables built in memory).
	OID uint32
	// Method is the distribution method.
	Method DistributionMethod
	// Column names the distribution column: the hashed column of a hash
	// table, the organization column of an organization table, "" for a
	// reference table.
	Column string
	// ColumnType is the type of Column (0 for a reference table). For a
	// hash table it is the type whose hash function routes rows.
	ColumnType Type
	// HashColumn names, for an organization table only, the column whose
	// hash picks the shard among the organization's shards; "" when every
	// organization has a single shard.
	HashColumn string
	// HashColumnType is the type of HashColumn (0 when there is none).
	HashColumnType Type
	// ColocationID is the table's co-location group.
	ColocationID int32
	// ShardCount is the number of shards: of the table for a hash table, 1
	// for a reference table, per organization for an organization table.
	// It equals the co-location group's shard count.
	ShardCount int
}

// String returns the table's quoted name.
func (t Table) String() string { return t.Relation.String() }

// DistributionType returns the type whose hash places rows among shards:
// ColumnType for a hash table, HashColumnType for an organization table, 0
// for a reference table. Co-located tables agree on it.
func (t Table) DistributionType() Type {
	switch t.Method {
	case MethodHash:
		return t.ColumnType
	case MethodOrganization:
		return t.HashColumnType
	}
	return 0
}
