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
