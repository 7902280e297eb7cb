package validator

import (
	"fmt"
	"time"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/ledger"
	"github.com/pgfed/pgfed/consensus/transport"
)

// drain carries out the node's Ready batches in the order the core
// requires, plus the ledger:
//
//  1. externalized slots: build each one's record (value and signed proof)
//     and append the contiguous ones to the ledger (synced);
//  2. persist the node's own envelopes (synced): nothing is sent before it
//     is durable;
//  3. sign and broadcast;
//  4. deliver the decisions appended in step 1, in slot order
//     (Config.OnDecision);
//
// then Advance. A storage error is fatal: the loop stops rather than send
// what it could not persist.
func (v *Validator) drain() error {
	for v.node.HasReady() {
		rd := v.node.Ready()
		for _, x := range rd.Externalized {
			if err := v.externalized(x); err != nil {
				return err
			}
		}
		if err := v.led.SaveEnvelopes(rd.Persist); err != nil {
			return fmt.Errorf("validator: persist own envelopes: %w", err)
		}
		for _, env := range rd.Send {
			v.broadcast(Sign(v.cfg.Key, v.network, env))
			v.stats.sent.Add(1)
		}
		v.deliver()
		v.node.Advance()
		if err := v.node.Invariant(); err != nil && v.invariant.Load() == nil {
			v.invariant.Store(&err)
			v.log.Error("consensus invariant broken", "err", err)
		}
	}
	v.deliver() // decisions adopted from peers outside a Ready batch
	return nil
}

// deliver hands the decisions appended to the ledger to the application.
func (v *Validator) deliver() {
	ds := v.loop.deliver
	v.loop.deliver = nil
	if v.cfg.OnDecision == nil {
		return
	}
	for _, d := range ds {
		v.cfg.OnDecision(d)
	}
}

func (v *Validator) broadcast(env consensus.Envelope) {
	if err := v.tr.Broadcast(transport.KindEnvelope, env.Encode()); err != nil {
		v.log.Warn("broadcast failed", "slot", env.Statement.Slot, "err", err)
	}
}

// externalized handles a slot the local node decided.
func (v *Validator) externalized(x consensus.Externalized) error {
	l := &v.loop
	if x.Slot < l.next {
		v.checkAgainstLedger(x.Slot, x.Value, "local node")
		return nil
	}
	rec := ledger.Record{Slot: x.Slot, Value: x.Value, Proof: v.proof(x.Slot, x.Value)}
	if x.Slot > l.next {
		v.log.Info("externalized ahead of the ledger, waiting for earlier slots", "slot", x.Slot, "ledger", l.next-1)
		l.pending[x.Slot] = rec
		return nil
	}
	return v.commit(rec, "")
}

// proof collects the signed statements that justify value for slot: every
// latest CONFIRM or EXTERNALIZE for it the node holds, its own included.
func (v *Validator) proof(slot uint64, value consensus.Value) []consensus.Envelope {
	var out []consensus.Envelope
	for _, env := range v.node.CurrentState(slot) {
		if c, ok := committed(&env.Statement); !ok || !c.Equal(value) {
			continue
		}
		if env.Statement.NodeID == v.id {
			env = Sign(v.cfg.Key, v.network, env)
		}
		out = append(out, env)
	}
	return out
}

// checkAgainstLedger reports a decision for a slot already in the ledger
// that differs from it: a fork, which intersecting quorums rule out.
func (v *Validator) checkAgainstLedger(slot uint64, value consensus.Value, who string) {
	rec, ok, err := v.led.Get(slot)
	if err != nil || !ok {
		return
	}
	if !rec.Value.Equal(value) {
		v.stats.forks.Add(1)
		v.log.Error("fork: decision differs from the ledger", "slot", slot, "source", who, "ledger", rec.Value.String(), "other", value.String())
	}
}

// commit appends rec (for slot next) to the ledger, delivers it, and does
// the same for pending records that follow. from names the peer it came
// from ("" for the local node).
func (v *Validator) commit(rec ledger.Record, from string) error {
	l := &v.loop
	for {
		if err := v.led.Append(rec); err != nil {
			return fmt.Errorf("validator: slot %d: %w", rec.Slot, err)
		}
		v.last.Store(rec.Slot)
		l.next, l.prev = rec.Slot+1, rec.Value
		l.nominated, l.empty, l.joined = false, false, false
		l.closedAt = time.Now()
		delete(l.pending, rec.Slot)
		if started, ok := l.started[rec.Slot]; ok {
			v.log.Info("slot externalized", "slot", rec.Slot, "value", rec.Value.String(), "after", since(started), "source", sourceName(from))
		} else {
			v.log.Info("slot externalized", "slot", rec.Slot, "value", rec.Value.String(), "source", sourceName(from))
		}
		for s := range l.started {
			if s <= rec.Slot {
				delete(l.started, s)
			}
		}
		v.forgetDecided(rec.Value)
		l.deliver = append(l.deliver, Decision{Slot: rec.Slot, Value: rec.Value})
		next, ok := l.pending[l.next]
		if !ok {
			break
		}
		rec, from = next, "pending"
	}
	v.afterCommit()
	return nil
}

func sourceName(from string) string {
	if from == "" {
		return "consensus"
	}
	return from
}

// afterCommit purges old slots, compacts the envelope log now and then,
// and schedules the next slot after the close delay: with none, at the
// loop's next turn, so that the slots just appended are delivered
// (OnDecision) before Config.Propose is asked for the next one.
func (v *Validator) afterCommit() {
	l := &v.loop
	if l.next > 3 {
		v.node.Purge(l.next - 2)
	}
	l.guard.forget(l.next - 1)
	for s := range l.pending {
		if s < l.next {
			delete(l.pending, s)
		}
	}
	if l.next-1 >= l.compactN+64 && v.led.EnvelopeRecords() > 256 {
		if err := v.led.Compact(l.next - 2); err != nil {
			v.log.Warn("compacting the envelope log failed", "slot", l.next-1, "err", err)
		}
		l.compactN = l.next - 1
	}
	l.closing = true
	l.closeAt = time.Now().Add(v.cfg.CloseDelay)
}

// forgetDecided removes decided items from the submission pool.
func (v *Validator) forgetDecided(value consensus.Value) {
	if v.cfg.Propose != nil || len(v.loop.pool) == 0 {
		return
	}
	items, err := DecodeItems(value)
	if err != nil {
		return
	}
	for _, it := range items {
		delete(v.loop.pool, string(it))
	}
	v.poolSize.Store(int64(len(v.loop.pool)))
}
