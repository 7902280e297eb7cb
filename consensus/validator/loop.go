package validator

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/ledger"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
)

// loopState is everything the main loop owns besides the Node.
type loopState struct {
	next      uint64          // first slot not in the ledger
	prev      consensus.Value // value of slot next-1
	nominated bool            // Nominate was called for next
	empty     bool            // ... with nothing to propose (joined a peer's slot)
	joined    bool            // a peer is working on next: join even with nothing to propose
	closing   bool            // waiting CloseDelay (or the delivery of next-1) before nominating next
	closeAt   time.Time
	closedAt  time.Time            // when next-1 was appended, for latency logs
	started   map[uint64]time.Time // when the node began each slot, for latency logs

	pending map[uint64]ledger.Record // verified decisions beyond next
	deliver []Decision               // appended, not yet handed to OnDecision
	highest uint64                   // highest slot seen from peers

	guard    *guard
	qsets    map[consensus.Hash]quorum.QSet // known quorum sets, by hash
	peerQSet map[quorum.NodeID]consensus.Hash
	waiting  []consensus.Envelope // envelopes waiting for their quorum set

	pool     map[string]struct{}         // submitted items not yet decided
	catchRR  int                         // round robin over peers for catch-up requests
	catchAt  time.Time                   // last catch-up request
	answered map[quorum.NodeID]time.Time // last state request answered, per peer
	compactN uint64                      // slot of the last envelope-log compaction
}

const (
	maxWaiting = 256
	// maxBatch bounds the inbound messages handled before a Ready batch.
	maxBatch = 64
)

func (v *Validator) initLoop(last uint64, prev consensus.Value) {
	l := &v.loop
	l.next, l.prev = last+1, prev
	l.started = map[uint64]time.Time{}
	l.pending = map[uint64]ledger.Record{}
	l.qsets = map[consensus.Hash]quorum.QSet{v.node.QSetHash(): v.qset}
	l.peerQSet = map[quorum.NodeID]consensus.Hash{}
	l.pool = map[string]struct{}{}
	l.answered = map[quorum.NodeID]time.Time{}
	l.compactN = last
	l.guard = &guard{network: v.network, self: v.id, known: v.isKnown, latest: map[guardKey]consensus.Envelope{},
		floor: max(last, 1), ahead: v.cfg.MaxSlotsAhead}
}

func (v *Validator) isPeer(id quorum.NodeID) bool {
	for _, p := range v.cfg.Peers {
		if p.ID == id {
			return true
		}
	}
	return false
}

// qsetNodes lists the validators of q, depth first.
func qsetNodes(q *quorum.QSet) []quorum.NodeID {
	out := slices.Clone(q.Validators)
	for i := range q.InnerSets {
		out = append(out, qsetNodes(&q.InnerSets[i])...)
	}
	return out
}

// isKnown reports whether id is a peer or named in a known quorum set.
func (v *Validator) isKnown(id quorum.NodeID) bool {
	if v.isPeer(id) {
		return true
	}
	for _, q := range v.loop.qsets {
		if qsetNames(&q, id) {
			return true
		}
	}
	return false
}

func qsetNames(q *quorum.QSet, id quorum.NodeID) bool {
	if slices.Contains(q.Validators, id) {
		return true
	}
	for i := range q.InnerSets {
		if qsetNames(&q.InnerSets[i], id) {
			return true
		}
	}
	return false
}

// run is the main loop: the only goroutine that touches the Node.
func (v *Validator) run(ctx context.Context) {
	defer close(v.done)
	tick := time.NewTicker(v.cfg.TickInterval)
	defer tick.Stop()
	rebroadcast := time.NewTicker(v.cfg.RebroadcastInterval)
	defer rebroadcast.Stop()
	closeTimer := time.NewTimer(time.Hour)
	closeTimer.Stop()
	defer closeTimer.Stop()
	in := v.tr.Inbound()
	// A restarted node resumes the slot it was working on.
	v.maybeNominate()
	if v.err = v.drain(); v.err != nil {
		v.log.Error("validator stopping", "slot", v.loop.next, "err", v.err)
		return
	}
	closeArmed := false
	// A commit in any iteration, the timer's own included (nominating can
	// externalize at once when peers are ahead), starts a close delay: arm
	// the timer whenever one is pending and it is not armed.
	armClose := func() {
		if v.loop.closing && !closeArmed {
			closeTimer.Reset(time.Until(v.loop.closeAt))
			closeArmed = true
		}
	}
	armClose()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-in:
			if !ok {
				return
			}
			v.handle(ctx, m)
			// Take what else has arrived before draining Ready, so one
			// fsync covers the statements of several messages (group
			// commit).
			for i := 1; i < maxBatch && v.err == nil; i++ {
				select {
				case m, ok = <-in:
				default:
					ok = false
				}
				if !ok {
					break
				}
				v.handle(ctx, m)
			}
		case <-tick.C:
			v.node.Tick()
		case <-rebroadcast.C:
			v.rebroadcast()
		case item := <-v.submit:
			v.loop.pool[string(item)] = struct{}{}
			v.poolSize.Store(int64(len(v.loop.pool)))
			v.maybeNominate()
		case <-v.nudge:
			v.nudged()
		case <-closeTimer.C:
			closeArmed = false
			v.loop.closing = false
			v.maybeNominate()
		}
		if v.err == nil {
			v.err = v.drain()
		}
		if v.err != nil {
			v.log.Error("validator stopping", "slot", v.loop.next, "err", v.err)
			return
		}
		v.publishGuard(v.loop.guard)
		armClose()
	}
}

// handle processes one message from the transport.
func (v *Validator) handle(ctx context.Context, m transport.Message) {
	switch m.Kind {
	case transport.KindConnected:
		v.peerConnected(ctx, m.From, m.Payload)
	case transport.KindEnvelope:
		v.receiveEnvelope(m.From, m.Payload)
	case transport.KindGetState:
		v.answerState(m.From, m.Payload)
	case transport.KindRecord:
		v.receiveRecord(m.From, m.Payload)
	case transport.KindGetQSet:
		v.answerQSet(m.From, m.Payload)
	case transport.KindQSet:
		v.receiveQSet(m.From, m.Payload)
	default:
		v.log.Debug("ignoring frame", "peer", m.From.String(), "kind", m.Kind.String())
	}
}

// peerConnected learns the peer's quorum set from its hello and asks it for
// the slots we miss.
func (v *Validator) peerConnected(ctx context.Context, from quorum.NodeID, hello []byte) {
	q, err := quorum.Decode(hello)
	if err != nil {
		v.log.Warn("bad quorum set in hello", "peer", from.String(), "err", err)
	} else if h, err := v.addQSet(q); err != nil {
		v.log.Warn("peer quorum set refused", "peer", from.String(), "err", err)
	} else if old, ok := v.loop.peerQSet[from]; !ok || old != h {
		v.loop.peerQSet[from] = h
		if h != v.node.QSetHash() {
			v.recheckIntersection(ctx, from)
		}
	}
	v.requestState(from)
	v.sendState(from, max(v.loop.next, 2)-1)
}

// addQSet makes a quorum set known to the node and to the loop, and steps
// the envelopes that were waiting for it.
func (v *Validator) addQSet(q quorum.QSet) (consensus.Hash, error) {
	h, err := v.node.AddQSet(q)
	if err != nil {
		return h, err
	}
	if _, ok := v.loop.qsets[h]; ok {
		return h, nil
	}
	v.loop.qsets[h] = q.Clone()
	waiting := v.loop.waiting
	v.loop.waiting = nil
	for _, env := range waiting {
		if env.Statement.QSetHash() == h {
			v.step(quorum.NodeID{}, env)
		} else {
			v.loop.waiting = append(v.loop.waiting, env)
		}
	}
	return h, nil
}

func (v *Validator) receiveEnvelope(from quorum.NodeID, payload []byte) {
	g := v.loop.guard
	before := g.c.equivocations
	env, verdict, err := g.admit(payload)
	switch {
	case verdict == admitted:
		v.step(from, env)
	case g.c.equivocations > before:
		v.log.Warn("equivocation", "peer", from.String(), "slot", env.Statement.Slot, "err", err)
		v.mu.Lock()
		v.evid = append([]Evidence(nil), g.evidence...)
		v.mu.Unlock()
	case verdict == refused:
		v.log.Debug("envelope refused", "peer", from.String(), "err", err)
	}
}

// step feeds a verified envelope to the node.
func (v *Validator) step(from quorum.NodeID, env consensus.Envelope) {
	slot := env.Statement.Slot
	if slot > v.loop.highest {
		v.loop.highest = slot
	}
	err := v.node.Step(env)
	var uq *consensus.UnknownQSetError
	switch {
	case err == nil:
	case errors.As(err, &uq):
		if len(v.loop.waiting) < maxWaiting {
			v.loop.waiting = append(v.loop.waiting, env)
		}
		if from != (quorum.NodeID{}) {
			v.tr.Send(from, transport.KindGetQSet, uq.Hash[:])
		}
		return
	case errors.Is(err, consensus.ErrStale), errors.Is(err, consensus.ErrSlotPurged):
		return
	default:
		v.log.Debug("statement refused by the core", "slot", slot, "peer", from.String(), "err", err)
		return
	}
	switch {
	case slot == v.loop.next && !v.loop.nominated:
		v.loop.joined = true
		v.maybeNominate()
	case slot > v.loop.next && from != (quorum.NodeID{}):
		v.maybeCatchUp(from)
	}
}

// maybeNominate starts the next slot when the close delay has passed and
// there is something to propose or a peer has started it.
func (v *Validator) maybeNominate() {
	l := &v.loop
	if l.nominated || l.closing {
		return
	}
	if _, done := v.node.Externalized(l.next); done {
		return
	}
	value := v.propose(l.next)
	if value == nil && !l.joined {
		// Statements for next that arrived while we were finishing the
		// previous slot count as a peer having started it.
		if len(v.node.CurrentState(l.next)) == 0 {
			return
		}
		l.joined = true
	}
	l.nominated, l.empty = true, value == nil
	if _, ok := l.started[l.next]; !ok {
		l.started[l.next] = time.Now()
	}
	if err := v.node.Nominate(l.next, value, l.prev); err != nil {
		v.log.Warn("nominate failed", "slot", l.next, "err", err)
		return
	}
	if l.closedAt.IsZero() {
		v.log.Debug("nominating", "slot", l.next, "value", value.String(), "joined", l.joined)
	} else {
		v.log.Debug("nominating", "slot", l.next, "value", value.String(), "joined", l.joined, "after_close", since(l.closedAt))
	}
}

// nudged handles Nudge: it starts the next slot if it can, or, when the
// node joined the running slot with nothing to propose, nominates the value
// the application now has. Calling Nominate again for a slot is what the
// core's nomination timer does (a new round, with the leaders so far and
// the round's own); doing it at once spares the others the wait for a
// timeout when this node is a leader with no vote, or echoes the leaders
// it adds. It is done at most once per slot, so nudges cannot run rounds
// up.
func (v *Validator) nudged() {
	l := &v.loop
	if !l.nominated {
		v.maybeNominate()
		return
	}
	if !l.empty {
		return
	}
	if _, done := v.node.Externalized(l.next); done {
		return
	}
	value := v.propose(l.next)
	if value == nil {
		return
	}
	l.empty = false
	if err := v.node.Nominate(l.next, value, l.prev); err != nil {
		v.log.Warn("nominate failed", "slot", l.next, "err", err)
		return
	}
	v.log.Debug("nominating own value in a joined slot", "slot", l.next, "value", value.String(), "after_start", since(l.started[l.next]))
}

// propose returns the value to nominate (nil: nothing).
func (v *Validator) propose(slot uint64) consensus.Value {
	if v.cfg.Propose != nil {
		return v.cfg.Propose(slot)
	}
	if len(v.loop.pool) == 0 {
		return nil
	}
	items := make([][]byte, 0, len(v.loop.pool))
	for it := range v.loop.pool {
		items = append(items, []byte(it))
	}
	slices.SortFunc(items, bytes.Compare)
	d, _ := v.cfg.Driver.(ItemDriver)
	return EncodeItems(capItems(items, d.maxItems()))
}
