package quorum

import (
	"math"
	"math/big"
	"testing"
)

// ceilRatio is ceil(w*t/d) in big integers.
func ceilRatio(w uint64, t, d int64) uint64 {
	n := new(big.Int).Mul(new(big.Int).SetUint64(w), big.NewInt(t))
	n.Add(n, big.NewInt(d-1))
	return n.Div(n, big.NewInt(d)).Uint64()
}

func TestWeightDirectValidatorIsThresholdOverEntries(t *testing.T) {
	// SCP-NOTES worked example: t=3 of 4 validators -> 0.75.
	q := qs(3, nids(1, 2, 3, 4))
	want := ceilRatio(math.MaxUint64, 3, 4)
	for i := 1; i <= 4; i++ {
		if got := q.Weight(nid(i)); got != want {
			t.Errorf("Weight(v%d) = %d, want %d", i, got, want)
		}
	}
	if f := float64(want) / float64(math.MaxUint64); math.Abs(f-0.75) > 1e-12 {
		t.Errorf("weight fraction %v, want 0.75", f)
	}
}

func TestWeightNestedMultiplies(t *testing.T) {
	// SCP-NOTES worked example: add inner {t:1, v4, v5} (5 entries, t=3):
	// weight(v4) = 0.6 * 0.5 = 0.3, each factor rounded up.
	q := qs(3, nids(0, 1, 2, 3), qs(1, nids(4, 5)))
	inner := ceilRatio(math.MaxUint64, 1, 2)
	want := ceilRatio(inner, 3, 5)
	if got := q.Weight(nid(4)); got != want {
		t.Errorf("Weight(v4) = %d, want %d", got, want)
	}
	if f := float64(want) / float64(math.MaxUint64); math.Abs(f-0.3) > 1e-12 {
		t.Errorf("weight fraction %v, want 0.3", f)
	}
	if got, want := q.Weight(nid(0)), ceilRatio(math.MaxUint64, 3, 5); got != want {
		t.Errorf("Weight(v0) = %d, want %d", got, want)
	}
}

func TestWeightAbsentNodeIsZero(t *testing.T) {
	q := qs(2, nids(1, 2), qs(1, nids(3, 4)))
	if w := q.Weight(nid(9)); w != 0 {
		t.Errorf("Weight(absent) = %d", w)
	}
}

func TestWeightFirstInnerSetWithNonZeroWeight(t *testing.T) {
	// v5 sits (insanely) in two inner sets; the first one with a non-zero
	// weight counts, and a threshold-0 inner set gives 0.
	q := qs(1, nil, qs(0, nids(5)), qs(1, nids(5, 6)), qs(2, nids(5, 7)))
	want := ceilRatio(ceilRatio(math.MaxUint64, 1, 2), 1, 3)
	if got := q.Weight(nid(5)); got != want {
		t.Errorf("Weight = %d, want %d", got, want)
	}
}

func TestNodeWeightLocalNodeIsMax(t *testing.T) {
	q := qs(3, nids(1, 2, 3, 4))
	if w := NodeWeight(&q, nid(9), nid(9)); w != MaxWeight {
		t.Errorf("local weight %d", w)
	}
	if w := NodeWeight(&q, nid(1), nid(9)); w != q.Weight(nid(1)) {
		t.Errorf("non-local weight %d", w)
	}
}

func TestWeightAllOfIsMax(t *testing.T) {
	q := qs(2, nids(1, 2))
	if w := q.Weight(nid(1)); w != MaxWeight {
		t.Errorf("2 of 2 weight %d, want max", w)
	}
}

func TestWeightInsaneThresholdSaturates(t *testing.T) {
	q := qs(3, nids(1, 2))
	if w := q.Weight(nid(1)); w != MaxWeight {
		t.Errorf("got %d", w)
	}
}

func TestMulDivCeilMatchesBigInt(t *testing.T) {
	r := seeded(t, 13)
	for range 10000 {
		a := r.Uint64()
		d := 1 + r.Int64N(1000)
		tt := r.Int64N(d + 1)
		if got, want := mulDivCeil(a, uint64(tt), uint64(d)), ceilRatio(a, tt, d); got != want {
			t.Fatalf("mulDivCeil(%d,%d,%d) = %d, want %d", a, tt, d, got, want)
		}
	}
}
