package quorum

import (
	"fmt"
	"testing"
)

// BenchmarkIntersection checks symmetric networks of 4..10 organizations of
// 3 validators (2 of 3 inside an org, BFT threshold across orgs), the case
// stellar-core's v1 checker found practical up to about 7 orgs.
// Run with: go test -run - -bench Intersection -benchtime 1x ./consensus/quorum/
func BenchmarkIntersection(b *testing.B) {
	for orgs := 4; orgs <= 10; orgs++ {
		net, err := OrgNetwork(DevOrgs(orgs, 3))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("orgs=%d", orgs), func(b *testing.B) {
			steps := 0
			for b.Loop() {
				res, err := CheckIntersection(b.Context(), net)
				if err != nil || !res.Intersects {
					b.Fatalf("%+v %v", res, err)
				}
				steps = res.Steps
			}
			b.ReportMetric(float64(steps), "steps")
		})
	}
}

// BenchmarkMinimalSets computes the minimal quorums, blocking sets and
// splitting sets of the largest org networks under MaxDetailNodes.
func BenchmarkMinimalSets(b *testing.B) {
	for _, shape := range [][2]int{{3, 3}, {4, 3}, {5, 3}, {8, 2}} {
		net, err := OrgNetwork(DevOrgs(shape[0], shape[1]))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("orgs=%dx%d", shape[0], shape[1]), func(b *testing.B) {
			for b.Loop() {
				if _, err := FindMinimalSets(b.Context(), net); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
