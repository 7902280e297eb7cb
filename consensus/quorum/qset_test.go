package quorum

import "testing"

func TestIsSliceCountsValidatorsAndInnerSets(t *testing.T) {
	// 2 of {a, b, {1 of c, d}}
	q := qs(2, nids(1, 2), qs(1, nids(3, 4)))
	cases := []struct {
		s    Set
		want bool
	}{
		{set(), false},
		{set(1), false},
		{set(1, 2), true},
		{set(1, 3), true},
		{set(3, 4), false}, // the inner set counts once
		{set(2, 4), true},
		{set(5, 6), false},
	}
	for _, c := range cases {
		if got := q.IsSlice(c.s); got != c.want {
			t.Errorf("IsSlice(%v) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestIsSliceThresholdZeroNeverSatisfied(t *testing.T) {
	q := qs(0, nids(1))
	if q.IsSlice(set(1)) {
		t.Error("threshold 0 satisfied")
	}
}

func TestIsVBlockingNeedsEntriesMinusThresholdPlusOne(t *testing.T) {
	// 3 of {a, b, c, {2 of d, e, f}}: blocking needs 2 entries.
	q := qs(3, nids(1, 2, 3), qs(2, nids(4, 5, 6)))
	cases := []struct {
		s    Set
		want bool
	}{
		{set(1), false},
		{set(1, 2), true},
		{set(1, 4), false},    // one of d,e,f does not block the inner set
		{set(1, 4, 5), true},  // two of them do
		{set(4, 5, 6), false}, // the inner set is one entry
		{set(), false},
	}
	for _, c := range cases {
		if got := q.IsVBlocking(c.s); got != c.want {
			t.Errorf("IsVBlocking(%v) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestIsVBlockingInsaneQSetBlocksNothing(t *testing.T) {
	for _, q := range []QSet{qs(0, nids(1)), qs(3, nids(1, 2))} {
		if q.IsVBlocking(set(1, 2)) || q.IsVBlocking(set()) {
			t.Errorf("%+v: insane quorum set reported blocked", q)
		}
	}
}

// TestIsVBlockingIntersectsEverySlice checks the definition: s is v-blocking
// exactly when the nodes outside s contain no slice.
func TestIsVBlockingIntersectsEverySlice(t *testing.T) {
	r := seeded(t, 7)
	for range 300 {
		q := randomQSet(r, 8, 0)
		if q.Sane(false) != nil {
			continue
		}
		for mask := range 1 << 8 {
			s, rest := make(Set), make(Set)
			for i := range 8 {
				if mask&(1<<i) != 0 {
					s[nid(i)] = struct{}{}
				} else {
					rest[nid(i)] = struct{}{}
				}
			}
			if got, want := q.IsVBlocking(s), !q.IsSlice(rest); got != want {
				t.Fatalf("q=%+v s=%v: IsVBlocking=%v, want %v", q, s, got, want)
			}
		}
	}
}

// TestContainsQuorumIsGreatestQuorumSlice checks the transitive quorum test
// against brute force: local is satisfied by the union of all quorums
// inside s.
func TestContainsQuorumIsGreatestQuorumSlice(t *testing.T) {
	r := seeded(t, 11)
	for range 200 {
		n := 1 + r.IntN(7)
		net := randomNetwork(r, n)
		qsetOf := func(id NodeID) *QSet { return net.QSets[id] }
		local := randomQSet(r, n, 0)
		for mask := range 1 << n {
			var union Set = make(Set)
			for sub := mask; ; sub = (sub - 1) & mask {
				if sub != 0 && naiveQuorumNoSanity(net, n, sub) {
					for i := range n {
						if sub&(1<<i) != 0 {
							union[nid(i)] = struct{}{}
						}
					}
				}
				if sub == 0 {
					break
				}
			}
			s := maskSet(n, mask)
			if got, want := ContainsQuorum(&local, s, qsetOf), local.IsSlice(union); got != want {
				t.Fatalf("n=%d mask=%b: ContainsQuorum=%v, want %v", n, mask, got, want)
			}
			if len(s) != popcount(mask) {
				t.Fatal("ContainsQuorum modified its input")
			}
		}
	}
}

func naiveQuorumNoSanity(net *Network, n, mask int) bool {
	s := maskSet(n, mask)
	for id := range s {
		q := net.QSets[id]
		if q == nil || !q.IsSlice(s) {
			return false
		}
	}
	return true
}

func maskSet(n, mask int) Set {
	s := make(Set)
	for i := range n {
		if mask&(1<<i) != 0 {
			s[nid(i)] = struct{}{}
		}
	}
	return s
}

func popcount(m int) int {
	c := 0
	for ; m != 0; m &= m - 1 {
		c++
	}
	return c
}

func TestNodeIDOrderAndString(t *testing.T) {
	if !nid(1).Less(nid(2)) || nid(2).Less(nid(1)) || nid(1).Less(nid(1)) {
		t.Error("Less is not the byte order")
	}
	if got := nid(258).String(); got != "0102"+"0000" {
		t.Errorf("String = %q", got)
	}
}

func TestNilQSetIsHarmless(t *testing.T) {
	var q *QSet
	if q.IsSlice(set(1)) || q.IsVBlocking(set(1)) || q.Entries() != 0 || q.Weight(nid(1)) != 0 || q.Sane(false) == nil {
		t.Error("nil quorum set misbehaves")
	}
	if n := Normalize(q, nil); n.Threshold != 0 || n.Entries() != 0 {
		t.Errorf("Normalize(nil) = %+v", n)
	}
	if ContainsQuorum(nil, set(1), func(NodeID) *QSet { return nil }) {
		t.Error("ContainsQuorum(nil) true")
	}
}
