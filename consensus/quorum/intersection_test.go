package quorum

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestIntersectionSymmetricMajorityIntersects(t *testing.T) {
	for n := 1; n <= 9; n++ {
		res, err := CheckIntersection(t.Context(), symmetric(n, uint32(n/2+1)))
		if err != nil || !res.Intersects || res.NoQuorum || res.Split != nil || res.Status() != Intersecting {
			t.Errorf("n=%d: %+v %v", n, res, err)
		}
	}
}

func TestIntersectionHalfThresholdSplits(t *testing.T) {
	// 2 of 4: {0,1} and {2,3} are disjoint quorums, found by the enumeration
	// inside the single component.
	res, err := CheckIntersection(t.Context(), symmetric(4, 2))
	if err != nil || res.Intersects || res.Split == nil || res.Status() != Split {
		t.Fatalf("%+v %v", res, err)
	}
	a, b := res.Split[0], res.Split[1]
	if len(a) != 2 || len(b) != 2 || slices.ContainsFunc(a, func(n NodeID) bool { return slices.Contains(b, n) }) {
		t.Errorf("split %v %v", a, b)
	}
	if len(res.QuorumComponent) != 4 {
		t.Errorf("component %v", res.QuorumComponent)
	}
}

// TestIntersectionQuorumsInTwoComponents: two groups that only trust
// themselves hold quorums in two components, which are disjoint.
func TestIntersectionQuorumsInTwoComponents(t *testing.T) {
	net := &Network{QSets: map[NodeID]*QSet{}}
	g1, g2 := qs(2, nids(0, 1)), qs(2, nids(2, 3))
	net.QSets[nid(0)], net.QSets[nid(1)] = &g1, &g1
	net.QSets[nid(2)], net.QSets[nid(3)] = &g2, &g2
	res, err := CheckIntersection(t.Context(), net)
	if err != nil || res.Split == nil || res.QuorumComponent != nil {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestIntersectionLargestComponentWithoutQuorum is stellar-core bug #2267:
// the checker must analyse the component that holds quorums, not the
// largest one. Nodes 0..5 form a large component whose members all depend on
// node 9, which has no quorum set; 6 and 7 form a small one with quorums.
func TestIntersectionLargestComponentWithoutQuorum(t *testing.T) {
	net := &Network{QSets: map[NodeID]*QSet{}}
	big := qs(7, nids(0, 1, 2, 3, 4, 5, 9))
	for i := range 6 {
		net.QSets[nid(i)] = &big
	}
	small := qs(2, nids(6, 7))
	net.QSets[nid(6)], net.QSets[nid(7)] = &small, &small
	res, err := CheckIntersection(t.Context(), net)
	if err != nil || !res.Intersects || len(res.QuorumComponent) != 2 {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestIntersectionNoQuorumIsNotIntersecting is stellar-core bug #5342: a
// network without any quorum must not be reported as intersecting.
func TestIntersectionNoQuorumIsNotIntersecting(t *testing.T) {
	net := &Network{QSets: map[NodeID]*QSet{}}
	q := qs(2, nids(0, 1))
	net.QSets[nid(0)] = &q // node 1 has no quorum set
	res, err := CheckIntersection(t.Context(), net)
	if err != nil || !res.NoQuorum || res.Intersects || res.Split != nil || res.Status() != NoQuorum {
		t.Fatalf("%+v %v", res, err)
	}
	empty, err := CheckIntersection(t.Context(), &Network{})
	if err != nil || !empty.NoQuorum {
		t.Fatalf("empty network: %+v %v", empty, err)
	}
}

func TestIntersectionInsaneQuorumSetsTakeNoPart(t *testing.T) {
	// Node 1's quorum set lists node 0 twice: ignored, so {0,1} is no quorum
	// and only {0} (1 of {0}) is.
	net := &Network{QSets: map[NodeID]*QSet{}}
	q0 := qs(1, nids(0))
	q1 := qs(1, nids(0, 0))
	net.QSets[nid(0)], net.QSets[nid(1)] = &q0, &q1
	sets, err := FindMinimalSets(t.Context(), net)
	if err != nil || len(sets.Quorums) != 1 || len(sets.Quorums[0]) != 1 {
		t.Fatalf("%+v %v", sets, err)
	}
}

// TestIntersectionInterruptible is stellar-core issue #2443: a long check
// stops when its context is done.
func TestIntersectionInterruptible(t *testing.T) {
	net, err := OrgNetwork(DevOrgs(10, 3))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = CheckIntersection(ctx, net)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestMinimalSetsTooLarge(t *testing.T) {
	_, err := FindMinimalSets(t.Context(), symmetric(MaxDetailNodes+1, 9))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{Intersecting: "intersecting", Split: "split", NoQuorum: "no quorum", Status(9): "Status(9)"} {
		if s.String() != want {
			t.Errorf("%d: %q", int(s), s.String())
		}
	}
}

func TestSCCsTarjan(t *testing.T) {
	// 0 <-> 1 -> 2 <-> 3, 4 alone (depends on 0).
	net := &Network{QSets: map[NodeID]*QSet{}}
	q01, q10, q12 := qs(1, nids(1)), qs(1, nids(0, 2)), qs(1, nids(3))
	q3, q4 := qs(1, nids(2)), qs(1, nids(0))
	net.QSets[nid(0)], net.QSets[nid(1)], net.QSets[nid(2)] = &q01, &q10, &q12
	net.QSets[nid(3)], net.QSets[nid(4)] = &q3, &q4
	g := compile(net)
	var got [][]int
	for _, c := range g.sccs(g.all) {
		got = append(got, c.members())
	}
	want := [][]int{{2, 3}, {0, 1}, {4}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("sccs %v, want %v", got, want)
	}
}

// TestIntersectionOrgThresholdClosedForm: with N organizations of 3
// validators (2 of 3 inside) and T of N across, no two quorums can share an
// organization, so quorums intersect exactly when 2T > N (Stellar Radar's
// closed form: a fork needs 2T-N Byzantine organizations).
func TestIntersectionOrgThresholdClosedForm(t *testing.T) {
	// From 2 organizations: with one, normalization makes the org's own
	// 2-of-3 the top level.
	for n := 2; n <= 6; n++ {
		q, err := OrgQSet(DevOrgs(n, 3))
		if err != nil {
			t.Fatal(err)
		}
		for th := 1; th <= n; th++ {
			q.Threshold = uint32(th)
			net := &Network{QSets: map[NodeID]*QSet{}}
			for _, o := range DevOrgs(n, 3) {
				for _, v := range o.Validators {
					net.QSets[v] = &q
				}
			}
			res, err := CheckIntersection(t.Context(), net)
			if err != nil {
				t.Fatal(err)
			}
			if want := 2*th > n; res.Intersects != want {
				t.Errorf("%d of %d orgs: intersects=%v, want %v", th, n, res.Intersects, want)
			}
			if res.Split != nil && (len(res.Split[0]) != 2*th || len(res.Split[1]) != 2*th) {
				t.Errorf("%d of %d orgs: split %d+%d nodes, want minimal quorums of %d", th, n, len(res.Split[0]), len(res.Split[1]), 2*th)
			}
		}
	}
}
