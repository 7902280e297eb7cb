// Package catalog holds pgfed's immutable catalog snapshot (nodes, distributed
// and reference tables, co-location groups, shards and placements) and the
// PostgreSQL-compatible hashing that decides which shard a row belongs to.
//
// The package is pure: it does no I/O, takes no context and imports nothing
// from this module, so the planner can use it freely.
//
// # The catalog model
//
// A Snapshot is one immutable version of the catalog: Nodes (workers, each
// of an Organization or none), ColocationGroups, Tables (hash, reference or
// organization distributed), their Shards (hash ranges, named by ShardName
// as "<table>_<shardid>") and Placements (a shard's copy on a node). Only
// Builder.Build makes one, after checking every invariant (ranges cover the
// int32 hash space exactly, placements point at known primary nodes,
// co-located tables share boundaries and placements), so readers such as
// the planner rely on them without checks of their own. Lookups are map
// accesses; ShardForHash is ShardIndex's division when the ranges are
// Citus's even split and a binary search otherwise. RoundRobin places new
// shards as Citus does, over active workers in (host, port) order. The
// subpackage store persists the catalog in the metadata database.
//
// # Hashing
//
// A distribution value is hashed exactly as PostgreSQL 15 hashes it with the
// default hash opclass of its type, which is what Citus's worker_hash does:
//
//   - HashBytes and HashUint32 are Bob Jenkins' lookup3 as in PostgreSQL's
//     src/common/hashfn.c (hash_any and hash_uint32), with the little-endian
//     byte order of the machines PostgreSQL runs on; results are read as int32.
//   - HashInt2, HashInt4, HashInt8, HashOID, HashBool, HashString, HashName,
//     HashBpchar, HashUUID, HashFloat4, HashFloat8, HashDate, HashTimestamp,
//     Numeric.Hash and HashBytes (for bytea) are the per-type functions
//     (hashint2, hashint4, hashint8, hashoid, hashchar, hashtext, hashname,
//     hashbpchar, uuid_hash, hashfloat4, hashfloat8, hashint4 on dates,
//     timestamp_hash, hash_numeric, hashvarlena).
//   - HashText parses a value's SQL text representation as the type's input
//     function would (overflow and syntax errors included) and hashes it;
//     HashValue takes a Go value and HashBinary the binary wire format.
//
// Every function is checked bit for bit against a live PostgreSQL server in
// hash_live_test.go.
//
// # Shard ranges
//
// ShardRanges and ShardIndex split the int32 hash space into N equal ranges
// exactly as Citus does, so a hash value maps to the same shard index in
// pgfed and in Citus.
//
// # Errors
//
// Errors that can reach a client implement SQLState(): an unsupported type is
// a *TypeError (feature_not_supported, 0A000) wrapping ErrUnsupportedType; bad
// input is an *InputError carrying PostgreSQL's own code and message.
package catalog
