package validator

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"
)

// BenchmarkExternalize runs n validators over loopback TCP with fsync on
// (BENCH_NOSYNC=1 turns it off), no close delay and 20ms ticks (so a
// nomination round that fails, because nodes elected different leaders,
// costs a 200ms timeout), and decides one slot per iteration: every validator
// submits an item, and the iteration ends when all n have the slot in their
// ledger. Reported: ms/slot (submission to the last validator's ledger
// append; mean, p50 and p90), slots/s, msgs/slot (frames sent by all validators, rebroadcasts
// and catch-up included) and envelopes/slot (own statements broadcast,
// counted once per receiver).
func BenchmarkExternalize(b *testing.B) {
	for _, n := range []int{4, 7, 10} {
		b.Run(fmt.Sprintf("validators=%d", n), func(b *testing.B) {
			c := newCluster(b, n, func(i int, cfg *Config) {
				cfg.CloseDelay = -1
				cfg.NoSync = os.Getenv("BENCH_NOSYNC") != ""
				cfg.TickInterval = 20 * time.Millisecond
			})
			c.waitSlots(1, all(n), all(n), 30*time.Second)
			frames := func() (f, e uint64) {
				for _, v := range c.vals {
					s := v.Stats()
					f += s.Transport.FramesSent
					e += s.Sent * uint64(n-1)
				}
				return
			}
			f0, e0 := frames()
			b.ResetTimer()
			begin := time.Now()
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				slot := c.vals[0].Last() + 1
				for _, v := range c.vals {
					slot = max(slot, v.Last()+1)
				}
				c.submit(all(n), fmt.Sprintf("bench-%d", i))
				timeout := time.After(30 * time.Second)
				for !c.allAt(slot) {
					select {
					case <-c.notify:
					case <-time.After(5 * time.Millisecond):
					case <-timeout:
						b.Fatalf("slot %d not decided", slot)
					}
				}
				lat = append(lat, time.Since(t0))
			}
			elapsed := time.Since(begin)
			b.StopTimer()
			f1, e1 := frames()
			b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(b.N), "ms/slot")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "slots/s")
			b.ReportMetric(float64(f1-f0)/float64(b.N), "msgs/slot")
			b.ReportMetric(float64(e1-e0)/float64(b.N), "envelopes/slot")
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "p90-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// allAt reports whether every validator has slot in its ledger.
func (c *cluster) allAt(slot uint64) bool {
	for _, v := range c.vals {
		if v.Last() < slot {
			return false
		}
	}
	return true
}
