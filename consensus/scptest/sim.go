package scptest

import (
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// Config describes one simulation run.
type Config struct {
	// Seed makes the run reproducible: same seed, same run.
	Seed int64
	// Topology is the network of validators.
	Topology Topology
	// Slots is how many consecutive slots to decide (default 3).
	Slots int
	// Byzantine is how many validators (chosen by the seed) misbehave.
	Byzantine int
	// FaultTicks is how long faults last (drops, duplicates, long delays,
	// partitions, crashes); afterwards the network is reliable with short
	// delays and every crashed node is restarted.
	FaultTicks int
	// MaxTicks bounds the run (default FaultTicks + 4000).
	MaxTicks int
	// DropRate, DupRate are per-message probabilities during faults.
	DropRate, DupRate float64
	// MaxDelay is the longest delivery delay in ticks during faults
	// (default 6); afterwards delays are 1 or 2 ticks.
	MaxDelay int
	// Partitions splits the network in two random halves from time to time
	// during faults.
	Partitions bool
	// CrashRate is the per-tick probability that a running well-behaved
	// node crashes during faults.
	CrashRate float64
}

// Result is the outcome of a run.
type Result struct {
	// Externalized maps slot -> node index -> value, for well-behaved nodes.
	Externalized map[uint64]map[int]consensus.Value
	// Live is true when every well-behaved node externalized every slot.
	Live bool
	// Ticks is the tick at which the run ended.
	Ticks int
	// Safety is the first disagreement between well-behaved nodes (nil if
	// none). For non-intersecting topologies it is expected, not a bug.
	Safety error
	// Err is the first other violation: a broken invariant, or a node that
	// sent a statement not superseding its previous one.
	Err error
	// Sent counts envelopes well-behaved nodes handed to Send (not
	// rebroadcasts); Delivered counts messages delivered to running nodes.
	Sent, Rebroadcast, Delivered, Crashes int
	// Contested counts slots in which well-behaved nodes sent ballot
	// statements for more than one value (the interesting runs).
	Contested int
}

const rebroadcastTicks = 10

type message struct {
	from, to int
	data     []byte
}

type storeKey struct {
	slot uint64
	nom  bool
}

type simNode struct {
	idx    int
	id     quorum.NodeID
	honest bool
	node   *consensus.Node // nil while crashed
	// durable state: persisted envelopes and the applied ledger
	store  map[storeKey]consensus.Envelope
	ledger map[uint64]consensus.Value
	// observer's record of what the node sent, across restarts
	lastSent map[storeKey]consensus.Statement
	// value of the first CONFIRM or EXTERNALIZE sent per slot: a node
	// accepts commit for one value only
	committed map[uint64]consensus.Value

	downUntil int
	nominated map[uint64]bool
	seen      map[uint64][]consensus.Value // Byzantine: values heard per slot
	step      map[uint64]uint32            // Byzantine: split-brain progress per slot
}

type sim struct {
	cfg     Config
	rng     *rand.Rand
	nodes   []*simNode
	byIdx   map[quorum.NodeID]int
	qsets   []quorum.QSet
	now     int
	queue   map[int][]message
	side    []int // partition side per node, nil = no partition
	decided map[uint64]consensus.Value
	ballots map[uint64]map[string]bool // values in honest ballot statements per slot
	res     Result
}

// Run simulates cfg and reports what happened. It never panics on protocol
// misbehaviour: violations are reported in Result.
func Run(cfg Config) Result {
	if cfg.Slots == 0 {
		cfg.Slots = 3
	}
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = 6
	}
	if cfg.MaxTicks == 0 {
		cfg.MaxTicks = cfg.FaultTicks + 4000
	}
	s := &sim{cfg: cfg, rng: rand.New(rand.NewSource(cfg.Seed)), byIdx: map[quorum.NodeID]int{},
		queue: map[int][]message{}, decided: map[uint64]consensus.Value{}, ballots: map[uint64]map[string]bool{}}
	s.res.Externalized = map[uint64]map[int]consensus.Value{}
	n := len(cfg.Topology.Nodes)
	byz := map[int]bool{}
	for _, i := range s.rng.Perm(n)[:cfg.Byzantine] {
		byz[i] = true
	}
	for i, id := range cfg.Topology.Nodes {
		s.byIdx[id] = i
		q := cfg.Topology.QSets[id]
		s.qsets = append(s.qsets, quorum.Normalize(&q, nil))
		s.nodes = append(s.nodes, &simNode{idx: i, id: id, honest: !byz[i], store: map[storeKey]consensus.Envelope{},
			ledger: map[uint64]consensus.Value{}, lastSent: map[storeKey]consensus.Statement{}, committed: map[uint64]consensus.Value{}, seen: map[uint64][]consensus.Value{}})
	}
	if cfg.Partitions && s.rng.Intn(2) == 0 {
		s.partition() // start split, so the halves nominate different values
	}
	for _, sn := range s.nodes {
		if sn.honest {
			s.start(sn)
		}
	}
	for s.now = 0; s.now < cfg.MaxTicks; s.now++ {
		s.step()
		if s.res.Err != nil || (s.now >= cfg.FaultTicks && s.allDecided()) {
			break
		}
	}
	s.res.Ticks = s.now
	s.res.Live = s.allDecided()
	for _, vals := range s.ballots {
		if len(vals) > 1 {
			s.res.Contested++
		}
	}
	return s.res
}

func (s *sim) faulty() bool { return s.now < s.cfg.FaultTicks }

func (s *sim) fail(format string, args ...any) {
	if s.res.Err == nil {
		s.res.Err = fmt.Errorf("tick %d: %s", s.now, fmt.Sprintf(format, args...))
	}
}

// start creates (or re-creates after a crash) a node's process: restore
// its persisted envelopes, then nominate the first undecided slot.
func (s *sim) start(sn *simNode) {
	node, err := consensus.NewNode(consensus.Config{
		ID: sn.id, QSet: s.cfg.Topology.QSets[sn.id], Driver: driver{n: len(s.nodes)}, UnsafeQuorum: true,
		NominationTimeout: 6, NominationTimeoutIncrement: 3, BallotTimeout: 8, BallotTimeoutIncrement: 4,
	})
	if err != nil {
		s.fail("node %d: %v", sn.idx, err)
		return
	}
	for _, q := range s.qsets {
		if _, err := node.AddQSet(q); err != nil {
			s.fail("node %d: add qset: %v", sn.idx, err)
		}
	}
	var envs []consensus.Envelope
	keys := make([]storeKey, 0, len(sn.store))
	for k := range sn.store {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].slot != keys[j].slot {
			return keys[i].slot < keys[j].slot
		}
		return keys[i].nom && !keys[j].nom
	})
	for _, k := range keys {
		envs = append(envs, sn.store[k])
	}
	if err := node.Restore(envs); err != nil {
		s.fail("node %d: restore: %v", sn.idx, err)
	}
	sn.node = node
	sn.nominated = map[uint64]bool{}
	// A crash between persisting an EXTERNALIZE and applying it leaves the
	// ledger behind: catch up from the restored state.
	for slot := uint64(1); slot <= uint64(s.cfg.Slots); slot++ {
		if v, ok := node.Externalized(slot); ok && sn.ledger[slot] == nil {
			s.apply(sn, consensus.Externalized{Slot: slot, Value: v})
		}
	}
	s.nominateNext(sn)
	s.drain(sn)
}

func proposal(slot uint64, idx int) consensus.Value {
	return consensus.Value(fmt.Sprintf("s%d.n%d", slot, idx))
}

// nominateNext nominates the first slot the node's ledger lacks.
func (s *sim) nominateNext(sn *simNode) {
	slot := uint64(1)
	for ; sn.ledger[slot] != nil; slot++ {
	}
	if slot > uint64(s.cfg.Slots) || sn.nominated[slot] {
		return
	}
	if _, done := sn.node.Externalized(slot); done {
		return
	}
	sn.nominated[slot] = true
	prev := sn.ledger[slot-1]
	if err := sn.node.Nominate(slot, proposal(slot, sn.idx), prev); err != nil {
		s.fail("node %d: nominate: %v", sn.idx, err)
	}
}

// drain carries out the node's Ready batches as a host must: persist, send,
// apply, advance; then nominate the next slot.
func (s *sim) drain(sn *simNode) {
	for sn.node != nil && sn.node.HasReady() {
		rd := sn.node.Ready()
		for _, e := range rd.Persist {
			sn.store[storeKey{e.Statement.Slot, e.Statement.Type() == consensus.TypeNominate}] = e
		}
		if s.faulty() && len(rd.Send) > 0 && s.rng.Float64() < s.cfg.CrashRate {
			// crash after persisting, before sending and applying
			s.crash(sn)
			return
		}
		for _, e := range rd.Send {
			k := storeKey{e.Statement.Slot, e.Statement.Type() == consensus.TypeNominate}
			if old, ok := sn.lastSent[k]; ok && !consensus.Supersedes(old, e.Statement) {
				s.fail("node %d sent %s after %s (slot %d)", sn.idx, e.Statement, old, k.slot)
			}
			sn.lastSent[k] = e.Statement
			if !k.nom {
				m := s.ballots[k.slot]
				if m == nil {
					m = map[string]bool{}
					s.ballots[k.slot] = m
				}
				var committed consensus.Value
				switch p := e.Statement.Pledge.(type) {
				case consensus.Prepare:
					m[string(p.Ballot.Value)] = true
				case consensus.Confirm:
					m[string(p.Ballot.Value)] = true
					committed = p.Ballot.Value
				case consensus.Externalize:
					m[string(p.Commit.Value)] = true
					committed = p.Commit.Value
				}
				if committed != nil {
					if old, ok := sn.committed[k.slot]; ok && !old.Equal(committed) {
						s.fail("node %d accepted commit of %s after %s (slot %d)", sn.idx, committed, old, k.slot)
					} else if !ok {
						sn.committed[k.slot] = committed
					}
				}
			}
			s.res.Sent++
			s.broadcast(sn.idx, e.Encode())
		}
		for _, x := range rd.Externalized {
			s.apply(sn, x)
		}
		sn.node.Advance()
		if err := sn.node.Invariant(); err != nil {
			s.fail("node %d: %v", sn.idx, err)
		}
		s.nominateNext(sn)
	}
}

func (s *sim) apply(sn *simNode, x consensus.Externalized) {
	if old, ok := sn.ledger[x.Slot]; ok && !old.Equal(x.Value) {
		s.fail("node %d externalized slot %d twice: %s then %s", sn.idx, x.Slot, old, x.Value)
	}
	sn.ledger[x.Slot] = x.Value
	m := s.res.Externalized[x.Slot]
	if m == nil {
		m = map[int]consensus.Value{}
		s.res.Externalized[x.Slot] = m
	}
	m[sn.idx] = x.Value
	if d, ok := s.decided[x.Slot]; !ok {
		s.decided[x.Slot] = x.Value
	} else if !d.Equal(x.Value) && s.res.Safety == nil {
		s.res.Safety = fmt.Errorf("tick %d: slot %d: node %d externalized %s, another node %s", s.now, x.Slot, sn.idx, x.Value, d)
	}
}

func (s *sim) allDecided() bool {
	for _, sn := range s.nodes {
		if !sn.honest {
			continue
		}
		for slot := uint64(1); slot <= uint64(s.cfg.Slots); slot++ {
			if sn.ledger[slot] == nil {
				return false
			}
		}
	}
	return true
}

// broadcast sends data from node i to every other node, through the faults.
func (s *sim) broadcast(from int, data []byte) {
	for to := range s.nodes {
		if to != from {
			s.send(from, to, data)
		}
	}
}

func (s *sim) send(from, to int, data []byte) {
	copies := 1
	delay := 1 + s.rng.Intn(2)
	if s.faulty() {
		if s.rng.Float64() < s.cfg.DropRate || (s.side != nil && s.side[from] != s.side[to]) {
			return
		}
		if s.rng.Float64() < s.cfg.DupRate {
			copies = 2
		}
		delay = 1 + s.rng.Intn(s.cfg.MaxDelay)
	}
	for c := 0; c < copies; c++ {
		at := s.now + delay
		s.queue[at] = append(s.queue[at], message{from: from, to: to, data: data})
		delay = 1 + s.rng.Intn(s.cfg.MaxDelay)
	}
}

func (s *sim) step() {
	if s.faulty() {
		s.faults()
	} else if s.now == s.cfg.FaultTicks {
		s.side = nil
		for _, sn := range s.nodes {
			if sn.honest && sn.node == nil {
				s.start(sn)
			}
		}
	}
	due := s.queue[s.now]
	delete(s.queue, s.now)
	s.rng.Shuffle(len(due), func(i, j int) { due[i], due[j] = due[j], due[i] })
	for _, m := range due {
		s.deliver(m)
	}
	for _, sn := range s.nodes {
		switch {
		case !sn.honest:
			s.byzantine(sn)
		case sn.node == nil:
			if s.now >= sn.downUntil {
				s.start(sn)
			}
		default:
			sn.node.Tick()
			if s.now%rebroadcastTicks == sn.idx%rebroadcastTicks {
				for slot := uint64(1); slot <= uint64(s.cfg.Slots); slot++ {
					for _, e := range sn.node.LatestMessages(slot) {
						s.res.Rebroadcast++
						s.broadcast(sn.idx, e.Encode())
					}
				}
			}
			s.drain(sn)
		}
	}
}

func (s *sim) faults() {
	if s.cfg.Partitions && s.rng.Intn(25) == 0 {
		if s.side != nil {
			s.side = nil
		} else {
			s.partition()
		}
	}
	for _, sn := range s.nodes {
		if sn.honest && sn.node != nil && s.rng.Float64() < s.cfg.CrashRate {
			s.crash(sn)
		}
	}
}

func (s *sim) crash(sn *simNode) {
	sn.node = nil
	sn.downUntil = s.now + 5 + s.rng.Intn(40)
	s.res.Crashes++
}

func (s *sim) partition() {
	s.side = make([]int, len(s.nodes))
	for i := range s.side {
		s.side[i] = s.rng.Intn(2)
	}
}

func (s *sim) deliver(m message) {
	sn := s.nodes[m.to]
	env, err := consensus.DecodeEnvelope(m.data)
	if err != nil {
		return // garbage is dropped by the transport
	}
	if !sn.honest {
		s.observe(sn, env)
		return
	}
	if sn.node == nil {
		return
	}
	s.res.Delivered++
	err = sn.node.Step(env)
	var uq *consensus.UnknownQSetError
	switch {
	case err == nil, errors.Is(err, consensus.ErrStale), errors.As(err, &uq),
		errors.Is(err, consensus.ErrInvalidValue), errors.Is(err, consensus.ErrIncompatible),
		errors.Is(err, consensus.ErrMalformed), errors.Is(err, consensus.ErrSlotTooFar):
	default:
		s.fail("node %d: step %s: %v", sn.idx, env.Statement, err)
	}
	s.drain(sn)
}

// driver is the simulated application: it accepts values of the form
// "s<slot>.n<i>[+...]" (parts sorted, for the slot, of existing nodes) and
// combines candidates as the sorted union of their parts.
type driver struct{ n int }

// Validate implements consensus.Driver.
func (d driver) Validate(slot uint64, v consensus.Value, nomination bool) consensus.ValidationLevel {
	if len(v) == 0 {
		return consensus.Invalid
	}
	prev := ""
	for _, p := range strings.Split(string(v), "+") {
		var sl uint64
		var i int
		if _, err := fmt.Sscanf(p, "s%d.n%d", &sl, &i); err != nil || sl != slot || i < 0 || i >= d.n || p != fmt.Sprintf("s%d.n%d", sl, i) || p <= prev {
			return consensus.Invalid
		}
		prev = p
	}
	return consensus.FullyValid
}

// Combine implements consensus.Driver.
func (d driver) Combine(slot uint64, cands []consensus.Value) consensus.Value {
	set := map[string]bool{}
	for _, c := range cands {
		for _, p := range strings.Split(string(c), "+") {
			set[p] = true
		}
	}
	parts := make([]string, 0, len(set))
	for p := range set {
		parts = append(parts, p)
	}
	sort.Strings(parts)
	return consensus.Value(strings.Join(parts, "+"))
}
