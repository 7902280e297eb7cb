package quorum

import (
	"bytes"
	"reflect"
	"testing"
)

func TestNormalizeSortsValidatorsAndInnerSets(t *testing.T) {
	q := qs(2, nids(3, 1, 2), qs(2, nids(9, 8)), qs(1, nids(7, 5)), qs(2, nids(5, 7)))
	got := Normalize(&q, nil)
	want := qs(2, nids(1, 2, 3), qs(1, nids(5, 7)), qs(2, nids(5, 7)), qs(2, nids(8, 9)))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if q.Validators[0] != nid(3) {
		t.Error("Normalize modified its argument")
	}
}

func TestNormalizeHoistsSingletonInnerSet(t *testing.T) {
	q := qs(2, nids(2), qs(1, nids(1)), qs(2, nids(3, 4)))
	got := Normalize(&q, nil)
	want := qs(2, nids(1, 2), qs(2, nids(3, 4)))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestNormalizeReplacesSingleInnerSet(t *testing.T) {
	q := qs(1, nil, qs(1, nil, qs(2, nids(2, 1, 3))))
	got := Normalize(&q, nil)
	want := qs(2, nids(1, 2, 3))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestNormalizeRemovalLowersThreshold(t *testing.T) {
	self := nid(1)
	// 3 of {self, a, b, {2 of self, c, d}}
	q := qs(3, nids(1, 2, 3), qs(2, nids(1, 4, 5)))
	got := Normalize(&q, &self)
	want := qs(2, nids(2, 3), qs(1, nids(4, 5)))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// {1 of {self}} with self removed: threshold 0, nothing left (as stellar-core).
	only := qs(1, nids(1))
	if got := Normalize(&only, &self); got.Threshold != 0 || len(got.Validators) != 0 {
		t.Errorf("got %+v", got)
	}
}

func TestNormalizeRemovalThenHoist(t *testing.T) {
	self := nid(1)
	// the inner set {2 of self, c} becomes {1 of c} and is hoisted.
	q := qs(2, nids(2), qs(2, nids(1, 3)))
	got := Normalize(&q, &self)
	want := qs(2, nids(2, 3))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestNormalizeEquivalentSetsSameHash: shuffled copies normalize to the
// same bytes, and normalizing twice changes nothing.
func TestNormalizeEquivalentSetsSameHash(t *testing.T) {
	r := seeded(t, 3)
	for range 300 {
		q := randomQSet(r, 10, 0)
		n1 := Normalize(&q, nil)
		sh := q.Clone()
		shuffle(r, &sh)
		n2 := Normalize(&sh, nil)
		if !bytes.Equal(n1.Encode(), n2.Encode()) || n1.Hash() != n2.Hash() {
			t.Fatalf("%+v and %+v normalize differently", q, sh)
		}
		n3 := Normalize(&n1, nil)
		if !reflect.DeepEqual(n1, n3) {
			t.Fatalf("normalization is not idempotent: %+v -> %+v", n1, n3)
		}
		// Normalization keeps the meaning: same slices over all node subsets.
		if q.Sane(false) == nil {
			for mask := range 1 << 10 {
				s := maskSet(10, mask)
				if q.IsSlice(s) != n1.IsSlice(s) {
					t.Fatalf("%+v and normal form %+v differ on %v", q, n1, s)
				}
			}
		}
	}
}

func shuffle(r interface{ Perm(int) []int }, q *QSet) {
	p := r.Perm(len(q.Validators))
	v := make([]NodeID, len(p))
	for i, j := range p {
		v[i] = q.Validators[j]
	}
	q.Validators = v
	p = r.Perm(len(q.InnerSets))
	in := make([]QSet, len(p))
	for i, j := range p {
		in[i] = q.InnerSets[j]
		shuffle(r, &in[i])
	}
	q.InnerSets = in
}
