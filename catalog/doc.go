// Package catalog holds pgfed's immutable catalog snapshot (nodes, distributed
// and reference tables, co-location groups, shards and placements) and the
// PostgreSQL-compatible hashing that decides which shard a row belongs to.
//
// The package is pure: it does no I/O, takes no context and imports nothing
// from this module, so the planner can use it freely.
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
