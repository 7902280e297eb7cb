package catalog

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestShardRangesFour checks Citus's documented example for 4 shards.
func TestShardRangesFour(t *testing.T) {
	got, err := ShardRanges(4)
	if err != nil {
		t.Fatal(err)
	}
	want := []HashRange{
		{-2147483648, -1073741825},
		{-1073741824, -1},
		{0, 1073741823},
		{1073741824, 2147483647},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("shard %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

// TestShardCountLimits checks that counts outside 1..64000 are rejected with
// a typed error carrying 22023.
func TestShardCountLimits(t *testing.T) {
	for _, n := range []int{0, -1, MaxShardCount + 1, math.MaxInt} {
		_, err := ShardRanges(n)
		var sce *ShardCountError
		if !errors.As(err, &sce) || !errors.Is(err, ErrInvalidShardCount) || sce.SQLState() != "22023" {
			t.Errorf("ShardRanges(%d) = %v, want a *ShardCountError", n, err)
		}
		if got := ShardIndex(0, n); got != -1 {
			t.Errorf("ShardIndex(0, %d) = %d, want -1", n, got)
		}
	}
	for _, n := range []int{1, 2, 3, 32, 7919, MaxShardCount} {
		if _, err := ShardRanges(n); err != nil {
			t.Errorf("ShardRanges(%d): %v", n, err)
		}
	}
}

// TestShardRangesCover checks, for many shard counts, that the ranges are
// contiguous, start at MinInt32, end at MaxInt32, and that ShardIndex
// agrees with a naive search of the ranges on boundaries and random hashes.
func TestShardRangesCover(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 1))
	counts := []int{1, 2, 3, 4, 5, 7, 32, 33, 1000, 4097, MaxShardCount - 1, MaxShardCount}
	for range 40 {
		counts = append(counts, 1+rng.IntN(MaxShardCount))
	}
	for _, n := range counts {
		rs, err := ShardRanges(n)
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Min != math.MinInt32 || rs[n-1].Max != math.MaxInt32 {
			t.Fatalf("seed %d n %d: ranges do not span int32: first %v last %v", seed, n, rs[0], rs[n-1])
		}
		for i := 1; i < n; i++ {
			if int64(rs[i].Min) != int64(rs[i-1].Max)+1 || rs[i].Min > rs[i].Max {
				t.Fatalf("seed %d n %d: shard %d %v does not follow %v", seed, n, i, rs[i], rs[i-1])
			}
		}
		naive := func(h int32) int {
			for i, r := range rs {
				if r.Contains(h) {
					return i
				}
			}
			return -1
		}
		probe := func(h int32) {
			if got, want := ShardIndex(h, n), naive(h); got != want {
				t.Fatalf("seed %d n %d: ShardIndex(%d) = %d, want %d", seed, n, h, got, want)
			}
		}
		for _, i := range []int{0, 1, n / 2, n - 2, n - 1} {
			if i < 0 || i >= n {
				continue
			}
			probe(rs[i].Min)
			probe(rs[i].Max)
		}
		for range 200 {
			probe(int32(rng.Uint32()))
		}
	}
}
