package validator

import (
	"errors"
	"runtime"
	"testing"
	"time"
)

func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// TestFourValidatorsExternalize: four validators over loopback TCP decide
// six slots and hold identical ledgers whose proofs verify.
func TestFourValidatorsExternalize(t *testing.T) {
	c := newCluster(t, 4, nil)
	c.waitSlots(6, all(4), all(4), 15*time.Second)
	c.checkLedgers(all(4), 6)
	// OnDecision runs after the ledger append that Last reports: wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for !c.delivered(all(4), 6) {
		if time.Now().After(deadline) {
			t.Fatal("decisions not delivered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	decided := c.decided()
	for i := 1; i < 4; i++ {
		for s := uint64(1); s <= 6; s++ {
			if !decided[i][s].Equal(decided[0][s]) {
				t.Fatalf("slot %d: decisions differ between node 0 and %d", s, i)
			}
		}
	}
	// Every record's proof convinces another node (stopped, so its loop
	// state can be read here), and a tampered one does not.
	v1 := c.vals[1]
	c.stop(1)
	for r, err := range c.vals[0].Ledger().Records(1) {
		if err != nil {
			t.Fatal(err)
		}
		if err := v1.verifyRecord(r); err != nil {
			t.Fatalf("slot %d: node 1 refuses node 0's record: %v", r.Slot, err)
		}
		bad := r
		bad.Value = EncodeItems([][]byte{[]byte("forged")})
		if err := v1.verifyRecord(bad); err == nil {
			t.Fatalf("slot %d: forged value accepted", r.Slot)
		}
		bad = r
		bad.Proof = r.Proof[:1]
		if err := v1.verifyRecord(bad); !errors.Is(err, ErrBadProof) {
			t.Fatalf("slot %d: proof of one signer: %v", r.Slot, err)
		}
	}
}

// TestRestartCatchesUp: a validator closed mid-run and restarted from its
// folder catches up on the slots it missed and its ledger matches.
//
// The peers' send queues are small, so the statements queued for the
// stopped node cannot cover the slots it missed: it must adopt ledger
// records.
func TestRestartCatchesUp(t *testing.T) {
	c := newCluster(t, 4, func(i int, c *Config) { c.SendQueue = 16 })
	c.waitSlots(2, all(4), all(4), 10*time.Second)
	c.stop(3)
	before := c.vals[0].Last()
	c.waitSlots(before+8, []int{0, 1, 2}, []int{0, 1, 2}, 10*time.Second)
	c.start(3, nil)
	target := c.vals[0].Last() + 1
	c.waitSlots(target, all(4), all(4), 15*time.Second)
	c.checkLedgers(all(4), target)
	if s := c.vals[3].Stats(); s.CatchUp == 0 {
		t.Fatalf("restarted node adopted no record from peers: %+v", s)
	}
}

// TestPartitionedValidatorRejoins: a validator whose connections are closed
// and kept closed misses slots; once the partition heals it catches up and
// takes part again.
func TestPartitionedValidatorRejoins(t *testing.T) {
	c := newCluster(t, 4, nil)
	c.waitSlots(1, all(4), all(4), 10*time.Second)
	c.partition(0, true)
	before := c.vals[1].Last()
	c.waitSlots(before+3, []int{1, 2, 3}, []int{1, 2, 3}, 10*time.Second)
	if got := c.vals[0].Last(); got > before+1 {
		t.Fatalf("partitioned node advanced to %d", got)
	}
	c.partition(0, false)
	target := c.vals[1].Last() + 2
	c.waitSlots(target, all(4), all(4), 15*time.Second)
	c.checkLedgers(all(4), target)
}

// TestWholeNetworkRestarts: every validator is closed, in the middle of
// whatever slot is running, and restarted from its folder; the network
// resumes and no node ever contradicts itself (no equivocation evidence).
func TestWholeNetworkRestarts(t *testing.T) {
	c := newCluster(t, 4, nil)
	c.waitSlots(2, all(4), all(4), 10*time.Second)
	for round := 0; round < 2; round++ {
		c.submit(all(4), "in-flight")
		time.Sleep(5 * time.Millisecond) // let a slot start
		for i := range c.vals {
			c.stop(i)
		}
		for i := range c.vals {
			c.start(i, nil)
		}
		target := c.vals[0].Last() + 2
		for _, v := range c.vals {
			target = max(target, v.Last()+2)
		}
		c.waitSlots(target, all(4), all(4), 15*time.Second)
		c.checkLedgers(all(4), target)
		for i, v := range c.vals {
			if s := v.Stats(); s.Equivocations != 0 {
				t.Fatalf("round %d: node %d saw equivocation: %v", round, i, v.Evidence())
			}
		}
	}
}

// TestCloseLeavesNoGoroutines: Close waits for every goroutine the
// validator and its transport started.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	c := newCluster(t, 4, nil)
	c.waitSlots(2, all(4), all(4), 10*time.Second)
	c.close()
	// A goroutine that has closed its done channel may still be exiting.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestSlowClosersKeepNominating: two validators pause much longer between
// slots than the others, so the fast ones always wait for them (no quorum
// without one of them) and their statements for the next slot arrive while
// the slow ones are still in their close delay. Every slot must still be
// started by them.
func TestSlowClosersKeepNominating(t *testing.T) {
	c := newCluster(t, 4, func(i int, cfg *Config) {
		if i >= 2 {
			cfg.CloseDelay = 150 * time.Millisecond
		} else {
			cfg.CloseDelay = -1
		}
	})
	c.waitSlots(10, all(4), all(4), 18*time.Second)
	c.checkLedgers(all(4), 10)
}
