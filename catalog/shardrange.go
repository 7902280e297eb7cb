package catalog

import (
	"fmt"
	"math"

	"github.com/jackc/pgerrcode"
)

// MaxShardCount is the largest shard count a hash-distributed table may
// have, as in Citus.
const MaxShardCount = 64000

// hashTokenCount is the number of int32 hash values, 2^32.
const hashTokenCount = int64(1) << 32

// HashRange is the inclusive range of hash values [Min, Max] one shard holds.
type HashRange struct {
	Min, Max int32
}

// Contains reports whether h lies in r.
func (r HashRange) Contains(h int32) bool { return r.Min <= h && h <= r.Max }

// String formats r as "[min,max]".
func (r HashRange) String() string { return fmt.Sprintf("[%d,%d]", r.Min, r.Max) }

// ShardCountError reports a shard count outside 1..MaxShardCount. Its
// SQLState is invalid_parameter_value (22023).
type ShardCountError struct {
	// Count is the rejected shard count.
	Count int
}

// Error states the rule, as Citus does.
func (e *ShardCountError) Error() string {
	return fmt.Sprintf("%v %d: shard_count must be between 1 and %d", ErrInvalidShardCount, e.Count, MaxShardCount)
}

// Unwrap returns ErrInvalidShardCount.
func (e *ShardCountError) Unwrap() error { return ErrInvalidShardCount }

// SQLState returns invalid_parameter_value (22023).
func (e *ShardCountError) SQLState() string { return pgerrcode.InvalidParameterValue }

// CheckShardCount returns a *ShardCountError unless 1 <= n <= MaxShardCount.
func CheckShardCount(n int) error {
	if n < 1 || n > MaxShardCount {
		return &ShardCountError{Count: n}
	}
	return nil
}

// shardIncrement is Citus's hash token increment for n shards, 2^32 / n.
func shardIncrement(n int) int64 { return hashTokenCount / int64(n) }

// ShardRanges returns the hash ranges of n shards as Citus creates them:
// with inc = 2^32/n (integer division), shard i holds
// [MinInt32 + i*inc, MinInt32 + (i+1)*inc - 1] and the last shard ends at
// MaxInt32. The ranges are in shard index order, disjoint and cover every
// int32. It fails with a *ShardCountError unless 1 <= n <= MaxShardCount.
func ShardRanges(n int) ([]HashRange, error) {
	if err := CheckShardCount(n); err != nil {
		return nil, err
	}
	inc := shardIncrement(n)
	rs := make([]HashRange, n)
	for i := range rs {
		lo := int64(math.MinInt32) + int64(i)*inc
		rs[i] = HashRange{Min: int32(lo), Max: int32(lo + inc - 1)}
	}
	rs[n-1].Max = math.MaxInt32
	return rs, nil
}

// ShardIndex returns the index, in 0..n-1, of the shard whose range (as
// ShardRanges(n) gives it) contains hash: (hash - MinInt32) / (2^32/n),
// clamped to n-1 for the values the last shard gets from the remainder.
// n must be a valid shard count (see CheckShardCount); for any other n
// ShardIndex returns -1.
func ShardIndex(hash int32, n int) int {
	if n < 1 || n > MaxShardCount {
		return -1
	}
	idx := (int64(hash) - math.MinInt32) / shardIncrement(n)
	if idx >= int64(n) {
		return n - 1
	}
	return int(idx)
}
