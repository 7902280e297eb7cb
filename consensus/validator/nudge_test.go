package validator

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus"
)

// TestNudgeStartsSlot: with Config.Propose, nothing but Nudge tells an idle
// validator that its application has something to propose. No node
// submits anything; the first slot starts when node 0, whose Propose has a
// value from then on, is nudged, and every node decides that value.
func TestNudgeStartsSlot(t *testing.T) {
	var ready atomic.Bool
	value := EncodeItems([][]byte{[]byte("nudged")})
	c := newCluster(t, 4, func(i int, cfg *Config) {
		cfg.CloseDelay = 0
		cfg.Propose = func(slot uint64) consensus.Value {
			if i == 0 && slot == 1 && ready.Load() {
				return value
			}
			return nil
		}
	})
	// Nothing to propose yet: the validators stay idle.
	time.Sleep(200 * time.Millisecond)
	for i, v := range c.vals {
		if v.Last() != 0 {
			t.Fatalf("node %d decided slot %d with nothing proposed", i, v.Last())
		}
	}
	ready.Store(true)
	c.vals[0].Nudge()
	c.waitSlots(1, nil, all(4), 10*time.Second)
	c.checkLedgers(all(4), 1)
	rec, ok, err := c.vals[3].Ledger().Get(1)
	if err != nil || !ok || !rec.Value.Equal(value) {
		t.Fatalf("node 3 slot 1: %v %v %v, want the nudged value", rec.Value, ok, err)
	}
}
