package validator

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
)

const testNetwork = "pgfed test network"

// cluster runs n validators in-process over loopback TCP.
type cluster struct {
	tb    testing.TB
	keys  []ed25519.PrivateKey
	addrs []string
	dirs  []string
	vals  []*Validator
	qset  quorum.QSet
	// cut[i] makes every dial to or from node i fail (a partition).
	cut  []atomic.Bool
	byID map[quorum.NodeID]int
	mod  func(i int, c *Config)
	// logDir holds one debug log per node; logFiles are closed at the end.
	logDir   string
	logFiles []*os.File

	mu        sync.Mutex
	decisions []map[uint64]consensus.Value
	notify    chan struct{} // signalled on every decision
}

func testKey(tb testing.TB, seed int64) ed25519.PrivateKey {
	k, err := transport.GenerateKey(rand.New(rand.NewSource(seed)))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func newCluster(tb testing.TB, n int, mod func(i int, c *Config)) *cluster {
	c := &cluster{tb: tb, cut: make([]atomic.Bool, n), byID: map[quorum.NodeID]int{}, mod: mod, notify: make(chan struct{}, 1), logDir: tb.TempDir()}
	c.qset.Threshold = uint32(n - (n-1)/3)
	for i := 0; i < n; i++ {
		k := testKey(tb, int64(i+1))
		c.keys = append(c.keys, k)
		c.qset.Validators = append(c.qset.Validators, transport.NodeID(k))
		c.byID[transport.NodeID(k)] = i
		c.dirs = append(c.dirs, tb.TempDir())
		c.decisions = append(c.decisions, map[uint64]consensus.Value{})
	}
	lns := make([]net.Listener, n)
	for i := range lns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		lns[i] = ln
		c.addrs = append(c.addrs, ln.Addr().String())
	}
	c.vals = make([]*Validator, n)
	for i := range lns {
		c.start(i, lns[i])
	}
	tb.Cleanup(c.close)
	return c
}

func (c *cluster) config(i int, ln net.Listener) Config {
	var peers []transport.Peer
	for j, k := range c.keys {
		if j != i {
			peers = append(peers, transport.Peer{ID: transport.NodeID(k), Addr: c.addrs[j]})
		}
	}
	// Each node logs at debug level to a file, printed (its tail) when a
	// wait fails; VALIDATOR_TEST_LOG=level logs to stderr instead.
	var logger hclog.Logger
	if lvl := os.Getenv("VALIDATOR_TEST_LOG"); lvl != "" {
		logger = hclog.New(&hclog.LoggerOptions{Name: fmt.Sprintf("n%d", i), Level: hclog.LevelFromString(lvl)})
	} else {
		f, err := os.OpenFile(filepath.Join(c.logDir, fmt.Sprintf("n%d.log", i)), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			c.tb.Fatal(err)
		}
		c.logFiles = append(c.logFiles, f)
		logger = hclog.New(&hclog.LoggerOptions{Name: fmt.Sprintf("n%d", i), Level: hclog.Debug, Output: f})
	}
	cfg := Config{
		Key: c.keys[i], Network: testNetwork, QSet: c.qset, Peers: peers, Listener: ln, DataDir: c.dirs[i],
		TickInterval: 20 * time.Millisecond, CloseDelay: 20 * time.Millisecond, RebroadcastInterval: 300 * time.Millisecond,
		Rand: rand.New(rand.NewSource(int64(1000 + i))), Logger: logger,
		Dial: func(ctx context.Context, peer quorum.NodeID, addr string) (net.Conn, error) {
			if c.cut[i].Load() || c.cut[c.byID[peer]].Load() {
				return nil, fmt.Errorf("partitioned")
			}
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		},
		OnDecision: func(d Decision) {
			c.mu.Lock()
			c.decisions[i][d.Slot] = d.Value
			c.mu.Unlock()
			select {
			case c.notify <- struct{}{}:
			default:
			}
		},
	}
	if c.mod != nil {
		c.mod(i, &cfg)
	}
	return cfg
}

// start starts node i on ln (nil: listen again on its address).
func (c *cluster) start(i int, ln net.Listener) {
	c.tb.Helper()
	if ln == nil {
		var err error
		for try := 0; ; try++ {
			ln, err = net.Listen("tcp", c.addrs[i])
			if err == nil || try == 50 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			c.tb.Fatalf("node %d: listen again: %v", i, err)
		}
	}
	v, err := Start(context.Background(), c.config(i, ln))
	if err != nil {
		c.tb.Fatalf("node %d: %v", i, err)
	}
	c.vals[i] = v
}

func (c *cluster) stop(i int) {
	if v := c.vals[i]; v != nil {
		if err := v.Close(); err != nil {
			c.tb.Errorf("node %d: close: %v", i, err)
		}
		c.vals[i] = nil
	}
}

func (c *cluster) close() {
	for i := range c.vals {
		c.stop(i)
	}
	for _, f := range c.logFiles {
		f.Close()
	}
	c.logFiles = nil
}

// dump prints each node's stats, broken invariant and the tail of its log.
func (c *cluster) dump() {
	for i, v := range c.vals {
		if v != nil {
			c.tb.Logf("node %d (%s): invariant %v; stats %+v", i, v.ID(), v.Invariant(), v.Stats())
		}
		data, err := os.ReadFile(filepath.Join(c.logDir, fmt.Sprintf("n%d.log", i)))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		lines = lines[max(0, len(lines)-60):]
		c.tb.Logf("node %d log tail:\n%s", i, strings.Join(lines, "\n"))
	}
}

// partition cuts node i off (or heals it) and drops its connections.
func (c *cluster) partition(i int, cut bool) {
	c.cut[i].Store(cut)
	if !cut {
		return
	}
	for j, v := range c.vals {
		if v == nil {
			continue
		}
		if j == i {
			for _, k := range c.keys {
				v.tr.Disconnect(transport.NodeID(k))
			}
		} else {
			v.tr.Disconnect(transport.NodeID(c.keys[i]))
		}
	}
}

// submit gives every running node in nodes an item.
func (c *cluster) submit(nodes []int, item string) {
	for _, i := range nodes {
		if v := c.vals[i]; v != nil {
			v.Submit(context.Background(), []byte(fmt.Sprintf("%s/n%d", item, i)))
		}
	}
}

// waitSlots keeps submitting to nodes until each node in want has slot
// target in its ledger.
func (c *cluster) waitSlots(target uint64, nodes, want []int, timeout time.Duration) {
	c.tb.Helper()
	deadline := time.Now().Add(timeout)
	for k := 0; ; k++ {
		done := true
		for _, i := range want {
			if c.vals[i] == nil || c.vals[i].Last() < target {
				done = false
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			var lasts []uint64
			for _, v := range c.vals {
				if v != nil {
					lasts = append(lasts, v.Last())
				} else {
					lasts = append(lasts, 0)
				}
			}
			c.dump()
			c.tb.Fatalf("slot %d not reached by %v within %v: ledgers at %v", target, want, timeout, lasts)
		}
		if k%4 == 0 {
			c.submit(nodes, fmt.Sprintf("item-%d", k))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkLedgers compares the ledgers of nodes up to slot upTo, and checks
// each record's proof with another node's verifier.
func (c *cluster) checkLedgers(nodes []int, upTo uint64) {
	c.tb.Helper()
	ref := c.vals[nodes[0]].Ledger()
	for s := uint64(1); s <= upTo; s++ {
		want, ok, err := ref.Get(s)
		if err != nil || !ok {
			c.tb.Fatalf("node %d: slot %d: %v %v", nodes[0], s, ok, err)
		}
		if _, err := DecodeItems(want.Value); err != nil {
			c.tb.Fatalf("slot %d: value: %v", s, err)
		}
		for _, i := range nodes[1:] {
			got, ok, err := c.vals[i].Ledger().Get(s)
			if err != nil || !ok {
				c.tb.Fatalf("node %d: slot %d: %v %v", i, s, ok, err)
			}
			if !got.Value.Equal(want.Value) {
				c.tb.Fatalf("slot %d: node %d has %s, node %d has %s", s, i, got.Value, nodes[0], want.Value)
			}
		}
	}
	for _, v := range c.vals {
		if v != nil && v.Invariant() != nil {
			c.tb.Fatalf("node %s: %v", v.ID(), v.Invariant())
		}
		if v != nil && v.Stats().Forks != 0 {
			c.tb.Fatalf("node %s saw a fork", v.ID())
		}
	}
}

// delivered reports whether OnDecision reached slot upTo on every node.
func (c *cluster) delivered(nodes []int, upTo uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, i := range nodes {
		for s := uint64(1); s <= upTo; s++ {
			if c.decisions[i][s] == nil {
				return false
			}
		}
	}
	return true
}

// decided returns a copy of the decisions delivered so far.
func (c *cluster) decided() []map[uint64]consensus.Value {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]map[uint64]consensus.Value, len(c.decisions))
	for i, m := range c.decisions {
		out[i] = map[uint64]consensus.Value{}
		for s, v := range m {
			out[i][s] = v
		}
	}
	return out
}
