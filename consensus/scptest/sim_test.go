package scptest

import (
	"os"
	"strconv"
	"testing"
	"time"
)

type scenario struct {
	name string
	cfg  Config
}

func scenarios() []scenario {
	faults := func(c Config) Config {
		c.FaultTicks, c.DropRate, c.DupRate, c.MaxDelay, c.Partitions, c.CrashRate = 150, 0.15, 0.1, 8, true, 0.004
		return c
	}
	return []scenario{
		{"sym4-clean", Config{Topology: Symmetric(4)}},
		{"sym4-faults-byz", faults(Config{Topology: Symmetric(4), Byzantine: 1})},
		{"sym7-faults-byz", faults(Config{Topology: Symmetric(7), Byzantine: 2})},
		{"sym10-faults-byz", faults(Config{Topology: Symmetric(10), Byzantine: 3, Slots: 2})},
		{"tiered3x3-faults-byz", faults(Config{Topology: Tiered(3, 3), Byzantine: 1})},
		{"sym4-crashes-5slots", Config{Topology: Symmetric(4), Slots: 5, FaultTicks: 300, DropRate: 0.05, MaxDelay: 4, CrashRate: 0.02}},
	}
}

func seedCount(def int) int {
	if s := os.Getenv("PGFED_SCP_SEEDS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return def
}

// TestSimSafetyAndLiveness runs every scenario on a sweep of seeds: safety
// and the node-level checks must hold on every seed, and every well-behaved
// node must externalize every slot once faults heal.
func TestSimSafetyAndLiveness(t *testing.T) {
	seeds := seedCount(24)
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			start := time.Now()
			var sent, slots, ticks, contested int
			for seed := int64(1); seed <= int64(seeds); seed++ {
				cfg := sc.cfg
				cfg.Seed = seed
				r := Run(cfg)
				if r.Safety != nil {
					t.Fatalf("seed %d: safety: %v", seed, r.Safety)
				}
				if r.Err != nil {
					t.Fatalf("seed %d: %v", seed, r.Err)
				}
				if !r.Live {
					t.Fatalf("seed %d: not live after %d ticks: %v", seed, r.Ticks, r.Externalized)
				}
				sent += r.Sent
				slots += len(r.Externalized)
				ticks += r.Ticks
				contested += r.Contested
			}
			t.Logf("%d seeds, %d slots (%d contested), %.1f envelopes sent per slot (all nodes), %.0f ticks per run, %v",
				seeds, slots, contested, float64(sent)/float64(slots), float64(ticks)/float64(seeds), time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestSimNonIntersectingDiverges checks the checker: two groups whose
// quorums do not intersect each decide on their own, so the run reports a
// disagreement (which SCP does not promise to prevent there), while each
// group agrees internally and no node breaks an invariant.
func TestSimNonIntersectingDiverges(t *testing.T) {
	diverged := 0
	for seed := int64(1); seed <= 5; seed++ {
		r := Run(Config{Seed: seed, Topology: Split(), FaultTicks: 60, DropRate: 0.1, MaxDelay: 4})
		if r.Err != nil {
			t.Fatalf("seed %d: %v", seed, r.Err)
		}
		if !r.Live {
			t.Fatalf("seed %d: not live: %v", seed, r.Externalized)
		}
		for slot, m := range r.Externalized {
			for g := 0; g < 2; g++ {
				first := m[3*g]
				for i := 3 * g; i < 3*g+3; i++ {
					if !m[i].Equal(first) {
						t.Fatalf("seed %d: slot %d: group %d disagrees internally: %v", seed, slot, g, m)
					}
				}
			}
		}
		if r.Safety != nil {
			diverged++
		}
	}
	if diverged == 0 {
		t.Fatalf("no seed diverged: the safety checker would miss a fork")
	}
}

// TestSimDeterministic: the same seed gives the same run.
func TestSimDeterministic(t *testing.T) {
	cfg := scenarios()[2].cfg
	cfg.Seed = 42
	a, b := Run(cfg), Run(cfg)
	if a.Sent != b.Sent || a.Delivered != b.Delivered || a.Ticks != b.Ticks || a.Crashes != b.Crashes {
		t.Fatalf("seed 42 ran differently: %+v vs %+v", a, b)
	}
}

// TestSimHarshFaults is the harsher variant (longer faults, more drops and
// crashes): two seeds per topology in make test, PGFED_SCP_SEEDS=N for the
// long sweep.
func TestSimHarshFaults(t *testing.T) {
	seeds := seedCount(2)
	for _, top := range []Topology{Symmetric(4), Symmetric(7), Tiered(3, 3)} {
		for seed := int64(1); seed <= int64(seeds); seed++ {
			r := Run(Config{Seed: seed, Topology: top, Byzantine: top.MaxByzantine, FaultTicks: 500, DropRate: 0.3,
				DupRate: 0.2, MaxDelay: 15, Partitions: true, CrashRate: 0.01, Slots: 4})
			if r.Safety != nil || r.Err != nil || !r.Live {
				t.Fatalf("%s seed %d: safety=%v err=%v live=%v ticks=%d %v", top.Name, seed, r.Safety, r.Err, r.Live, r.Ticks, r.Externalized)
			}
		}
	}
}
