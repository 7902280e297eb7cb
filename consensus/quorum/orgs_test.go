package quorum

import (
	"reflect"
	"testing"
)

func TestOrgAndBFTThresholds(t *testing.T) {
	org := map[int]uint32{1: 1, 2: 2, 3: 2, 4: 3, 5: 3, 7: 4}
	for n, want := range org {
		if got := OrgThreshold(n); got != want {
			t.Errorf("OrgThreshold(%d) = %d, want %d", n, got, want)
		}
	}
	bft := map[int]uint32{1: 1, 2: 2, 3: 3, 4: 3, 5: 4, 6: 5, 7: 5, 10: 7}
	for n, want := range bft {
		if got := BFTThreshold(n); got != want {
			t.Errorf("BFTThreshold(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestOrgQSetThreeOrgsOfThree(t *testing.T) {
	orgs := []Org{
		{"a", nids(7, 8, 9)},
		{"b", nids(1, 2, 3)},
		{"c", nids(6, 5, 4)},
	}
	got, err := OrgQSet(orgs)
	if err != nil {
		t.Fatal(err)
	}
	want := qs(3, nil, qs(2, nids(1, 2, 3)), qs(2, nids(4, 5, 6)), qs(2, nids(7, 8, 9)))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestOrgQSetSevenOrgs(t *testing.T) {
	got, err := OrgQSet(DevOrgs(7, 3))
	if err != nil {
		t.Fatal(err)
	}
	if got.Threshold != 5 || len(got.InnerSets) != 7 || got.InnerSets[0].Threshold != 2 {
		t.Errorf("got %+v", got)
	}
}

func TestOrgQSetSingleValidatorOrgIsHoisted(t *testing.T) {
	got, err := OrgQSet([]Org{{"a", nids(1)}, {"b", nids(2)}, {"c", nids(3, 4, 5)}, {"d", nids(6)}})
	if err != nil {
		t.Fatal(err)
	}
	want := qs(3, nids(1, 2, 6), qs(2, nids(3, 4, 5)))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestOrgQSetErrors(t *testing.T) {
	if _, err := OrgQSet(nil); err == nil {
		t.Error("no orgs accepted")
	}
	if _, err := OrgQSet([]Org{{"a", nil}}); err == nil {
		t.Error("empty org accepted")
	}
	if _, err := OrgQSet([]Org{{"a", nids(1, 2)}, {"b", nids(2, 3)}}); err == nil {
		t.Error("shared validator accepted")
	}
}

func TestOrgNetworkIntersects(t *testing.T) {
	for orgs := 1; orgs <= 5; orgs++ {
		net, err := OrgNetwork(DevOrgs(orgs, 3))
		if err != nil {
			t.Fatal(err)
		}
		res, err := CheckIntersection(t.Context(), net)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Intersects {
			t.Errorf("%d orgs: %+v", orgs, res)
		}
	}
}

func TestDevNodeIDDistinct(t *testing.T) {
	seen := map[NodeID]bool{}
	for o := 1; o <= 10; o++ {
		for i := 1; i <= 3; i++ {
			id := DevNodeID(o, i)
			if seen[id] {
				t.Fatalf("duplicate dev id %d/%d", o, i)
			}
			seen[id] = true
		}
	}
}
