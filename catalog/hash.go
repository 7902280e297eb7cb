package catalog

import (
	"math"
	"strings"
)

// HashInt2 returns PostgreSQL's hashint2(v): hash_uint32 of v sign-extended.
func HashInt2(v int16) int32 { return int32(hashUint32(uint32(int32(v)))) }

// HashInt4 returns PostgreSQL's hashint4(v).
func HashInt4(v int32) int32 { return int32(hashUint32(uint32(v))) }

// HashInt8 returns PostgreSQL's hashint8(v): the high word is folded into the
// low one (inverted for negative values) so that an int8 hashes like the
// int4 of the same value.
func HashInt8(v int64) int32 {
	lo, hi := uint32(v), uint32(uint64(v)>>32)
	if v >= 0 {
		lo ^= hi
	} else {
		lo ^= ^hi
	}
	return int32(hashUint32(lo))
}

// HashOID returns PostgreSQL's hashoid(v).
func HashOID(v uint32) int32 { return int32(hashUint32(v)) }

// HashBool returns the hash of a boolean: PostgreSQL's bool hash opclass
// uses hashchar, which hashes the byte 0 or 1.
func HashBool(v bool) int32 {
	if v {
		return int32(hashUint32(1))
	}
	return int32(hashUint32(0))
}

// HashString returns PostgreSQL's hashtext(s) under a deterministic
// collation: hash_any over the bytes. It is the hash of text and varchar
// values; s is expected to be valid UTF-8 without NUL bytes, as the server
// guarantees for its values.
func HashString(s string) int32 { return int32(hashBytes(s)) }

// HashName returns PostgreSQL's hashname(s): hash_any over the bytes, like
// HashString. s must already be a name (at most 63 bytes; HashText clips
// longer text as namein does).
func HashName(s string) int32 { return int32(hashBytes(s)) }

// HashBpchar returns PostgreSQL's hashbpchar(s): like HashString but
// trailing blanks (spaces only) are ignored.
func HashBpchar(s string) int32 { return int32(hashBytes(strings.TrimRight(s, " "))) }

// HashUUID returns PostgreSQL's uuid_hash: hash_any over the 16 bytes.
func HashUUID(u [16]byte) int32 { return int32(hashBytes(u[:])) }

// float8NaN is the bit pattern of PostgreSQL's get_float8_nan(), to which
// every NaN is hashed.
const float8NaN = 0x7ff8000000000000

// HashFloat8 returns PostgreSQL's hashfloat8(v): +0 and -0 hash to 0, every
// NaN hashes like the canonical NaN, any other value is hash_any over its
// eight little-endian bytes.
func HashFloat8(v float64) int32 {
	if v == 0 {
		return 0
	}
	b := math.Float64bits(v)
	if v != v {
		b = float8NaN
	}
	var k [8]byte
	for i := range k {
		k[i] = byte(b >> (8 * i))
	}
	return int32(hashBytes(k[:]))
}

// HashFloat4 returns PostgreSQL's hashfloat4(v), which is hashfloat8 of the
// value widened to float8 (so equal float4 and float8 values hash alike).
func HashFloat4(v float32) int32 { return HashFloat8(float64(v)) }

// HashDate returns the hash of a date given as days since 2000-01-01
// (PostgreSQL's DateADT; see DateFromTime): hashint4 of the day number.
func HashDate(days int32) int32 { return HashInt4(days) }

// HashTimestamp returns PostgreSQL's timestamp_hash of a timestamp or
// timestamptz given as microseconds since 2000-01-01 00:00:00 UTC
// (PostgreSQL's Timestamp; see TimestampFromTime): hashint8 of the count.
func HashTimestamp(usec int64) int32 { return HashInt8(usec) }
