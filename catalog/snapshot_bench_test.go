package catalog

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bigSnapshot returns a catalog with one hash table of n shards on one
// node, with Citus's ranges or, when split is set, with the first range
// split in two (so lookups take the binary search).
func bigSnapshot(tb testing.TB, n int, split bool) *Snapshot {
	tb.Helper()
	rel := RelationName{"public", "t"}
	ranges, err := NewShardRanges(n)
	if err != nil {
		tb.Fatal(err)
	}
	if split {
		r := ranges[0]
		mid := int32((int64(r.Min) + int64(r.Max)) / 2)
		ranges = append([]HashRange{{r.Min, mid}, {mid + 1, r.Max}}, ranges[1:]...)
	}
	b := NewBuilder(1).
		AddNode(Node{ID: 1, Host: "h", Port: 1, Active: true}).
		AddColocationGroup(ColocationGroup{ID: 1, Method: MethodHash, ShardCount: len(ranges), ColumnType: TypeInt8}).
		AddTable(Table{Relation: rel, Method: MethodHash, Column: "id", ColumnType: TypeInt8, ColocationID: 1, ShardCount: len(ranges)})
	for i, r := range ranges {
		id := FirstShardID + int64(i)
		b.AddShard(Shard{ID: id, Table: rel, Index: i, Range: r}).AddPlacement(Placement{id, 1})
	}
	s, err := b.Build()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestShardForHashProperty checks, for seeded random shard counts and
// hashes, that the shard found holds the hash and agrees with ShardIndex.
func TestShardForHashProperty(t *testing.T) {
	seed := uint64(20261126)
	rng := rand.New(rand.NewPCG(seed, seed))
	rel := RelationName{"public", "t"}
	for _, n := range []int{1, 2, 3, 7, 32, 1000, MaxShardCount, 1 + rng.IntN(MaxShardCount)} {
		for _, split := range []bool{false, true} {
			if split && n == MaxShardCount {
				continue // a split would exceed the shard count limit
			}
			s := bigSnapshot(t, n, split)
			for range 2000 {
				h := int32(rng.Uint32())
				if rng.IntN(10) == 0 {
					h = []int32{math.MinInt32, math.MaxInt32, 0, -1}[rng.IntN(4)]
				}
				sh, ok := s.ShardForHash(rel, h)
				if !ok || !sh.Range.Contains(h) || (!split && sh.Index != ShardIndex(h, n)) {
					t.Fatalf("seed %d, n %d, split %v: ShardForHash(%d) = %v %v", seed, n, split, h, sh.Range, ok)
				}
			}
		}
	}
}

func BenchmarkShardForHash(b *testing.B) {
	rel := RelationName{"public", "t"}
	for _, c := range []struct {
		name  string
		split bool
	}{{"CitusRanges", false}, {"SplitRanges", true}} {
		s := bigSnapshot(b, 32, c.split)
		b.Run(c.name, func(b *testing.B) {
			h := int32(0)
			for b.Loop() {
				h += 0x9e3779b9 >> 1
				if _, ok := s.ShardForHash(rel, h); !ok {
					b.Fatal("no shard")
				}
			}
		})
	}
}

func BenchmarkBuild64000Shards(b *testing.B) {
	for b.Loop() {
		bigSnapshot(b, MaxShardCount, false)
	}
}
