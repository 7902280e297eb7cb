package quorum

import (
	"slices"
	"testing"
	"time"
)

// naive is a deliberately simple model of a network of n nodes 0..n-1 over
// bitmasks: it enumerates every subset and applies the definitions.
type naive struct {
	net *Network
	n   int
}

// sat reports whether node i has a slice inside mask (with sane quorum sets
// only, as the analyzer).
func (m naive) sat(i, mask int) bool {
	q := m.net.QSets[nid(i)]
	return q != nil && q.Sane(false) == nil && q.IsSlice(maskSet(m.n, mask))
}

// quorumDespite reports whether a is non-empty and each of its members has
// a slice inside a ∪ helper.
func (m naive) quorumDespite(a, helper int) bool {
	if a == 0 {
		return false
	}
	for i := range m.n {
		if a&(1<<i) != 0 && !m.sat(i, a|helper) {
			return false
		}
	}
	return true
}

func (m naive) quorums() []int {
	var qs []int
	for a := 1; a < 1<<m.n; a++ {
		if m.quorumDespite(a, 0) {
			qs = append(qs, a)
		}
	}
	return qs
}

func minimalMasks(ms []int) []int {
	var out []int
	for _, a := range ms {
		ok := true
		for _, b := range ms {
			if b != a && b&a == b {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, a)
		}
	}
	return out
}

func (m naive) splitting(s int) bool {
	var qs []int
	rest := (1<<m.n - 1) &^ s
	for a := rest; a != 0; a = (a - 1) & rest {
		if m.quorumDespite(a, s) {
			qs = append(qs, a)
		}
	}
	for i, a := range qs {
		for _, b := range qs[i+1:] {
			if a&b == 0 {
				return true
			}
		}
	}
	return false
}

func (m naive) masks(sets [][]NodeID) []int {
	var out []int
	for _, s := range sets {
		mask := 0
		for _, id := range s {
			mask |= 1 << (int(id[0])<<8 | int(id[1]))
		}
		out = append(out, mask)
	}
	slices.Sort(out)
	return out
}

func sorted(ms []int) []int {
	ms = slices.Clone(ms)
	slices.Sort(ms)
	return ms
}

// TestIntersectionMatchesBruteForce: on random networks of at most 10
// nodes, CheckIntersection says "no quorum" exactly when no subset is a
// quorum, "intersecting" exactly when every two quorums intersect, and any
// split it reports consists of two disjoint minimal quorums.
func TestIntersectionMatchesBruteForce(t *testing.T) {
	r := seeded(t, 20261126)
	deadline := time.Now().Add(3 * time.Second)
	stats := map[Status]int{}
	for iter := 0; time.Now().Before(deadline) && iter < 3000; iter++ {
		n := 1 + r.IntN(10)
		net := randomNetwork(r, n)
		m := naive{net, n}
		qs := m.quorums()
		res, err := CheckIntersection(t.Context(), net)
		if err != nil {
			t.Fatal(err)
		}
		stats[res.Status()]++
		wantIntersect := len(qs) > 0
		for i, a := range qs {
			for _, b := range qs[i+1:] {
				if a&b == 0 {
					wantIntersect = false
				}
			}
		}
		if res.NoQuorum != (len(qs) == 0) || res.Intersects != wantIntersect {
			t.Fatalf("iteration %d, n=%d: got %+v; brute force: %d quorums, intersect=%v\n%s", iter, n, res, len(qs), wantIntersect, dump(net))
		}
		if res.Split != nil {
			mins := minimalMasks(qs)
			sp := m.masks(res.Split[:])
			if sp[0]&sp[1] != 0 || !slices.Contains(mins, sp[0]) || !slices.Contains(mins, sp[1]) {
				t.Fatalf("iteration %d: split %b is not two disjoint minimal quorums\n%s", iter, sp, dump(net))
			}
		}
	}
	t.Logf("statuses: %v", stats)
	if stats[Intersecting] == 0 || stats[Split] == 0 || stats[NoQuorum] == 0 {
		t.Errorf("the generator does not cover every status: %v", stats)
	}
}

// TestMinimalSetsMatchBruteForce compares the minimal quorums, blocking sets
// and splitting sets with their definitions on random networks of at most 8
// nodes.
func TestMinimalSetsMatchBruteForce(t *testing.T) {
	r := seeded(t, 4242)
	deadline := time.Now().Add(3 * time.Second)
	iter := 0
	defer func() { t.Logf("%d networks", iter) }()
	for ; time.Now().Before(deadline) && iter < 1500; iter++ {
		n := 1 + r.IntN(8)
		net := randomNetwork(r, n)
		m := naive{net, n}
		qs := m.quorums()
		got, err := FindMinimalSets(t.Context(), net)
		if err != nil {
			t.Fatal(err)
		}
		wantMQ := sorted(minimalMasks(qs))
		if g := m.masks(got.Quorums); !slices.Equal(g, wantMQ) {
			t.Fatalf("iteration %d: minimal quorums %b, want %b\n%s", iter, g, wantMQ, dump(net))
		}
		var blocking, splitting []int
		for b := range 1 << n {
			hits := true
			for _, q := range qs {
				if q&b == 0 {
					hits = false
					break
				}
			}
			if hits {
				blocking = append(blocking, b)
			}
			if m.splitting(b) {
				splitting = append(splitting, b)
			}
		}
		wantMBS := sorted(minimalMasks(blocking))
		if g := m.masks(got.BlockingSets); !slices.Equal(g, wantMBS) {
			t.Fatalf("iteration %d: minimal blocking sets %b, want %b\n%s", iter, g, wantMBS, dump(net))
		}
		wantMSS := sorted(minimalMasks(splitting))
		if g := m.masks(got.SplittingSets); !slices.Equal(g, wantMSS) {
			t.Fatalf("iteration %d: minimal splitting sets %b, want %b\n%s", iter, g, wantMSS, dump(net))
		}
		for _, l := range [][][]NodeID{got.Quorums, got.BlockingSets, got.SplittingSets} {
			if !slices.IsSortedFunc(l, compareNodeLists) {
				t.Fatalf("iteration %d: unsorted result", iter)
			}
		}
	}
}

func dump(net *Network) string {
	var b []byte
	for _, id := range net.Nodes() {
		b = append(b, id.String()...)
		b = append(b, ": "...)
		if q := net.QSets[id]; q != nil {
			b = append(b, dumpQSet(q)...)
		} else {
			b = append(b, "none"...)
		}
		b = append(b, '\n')
	}
	return string(b)
}

func dumpQSet(q *QSet) string {
	s := "{t:" + itoa(int(q.Threshold))
	for _, v := range q.Validators {
		s += " " + itoa(int(v[0])<<8|int(v[1]))
	}
	for i := range q.InnerSets {
		s += " " + dumpQSet(&q.InnerSets[i])
	}
	return s + "}"
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
