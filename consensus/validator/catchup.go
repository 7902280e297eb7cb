package validator

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/ledger"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
)

// Catching up. A node that was down (or cut off) learns it is behind when a
// peer connects or sends a statement for a later slot. It then asks a peer
// for "state for slots >= next" (KindGetState); the peer answers with its
// ledger records from there (KindRecord, at most maxRecordsPerAnswer) and
// its current SCP state for the slots it is working on. A record is adopted
// only if its proof verifies: every envelope is validly signed, is about
// that slot and commits to the record's value, and the signers contain a
// quorum by the local node's own quorum set, transitively (each CONFIRM
// signer is judged by the quorum set its statement names, each EXTERNALIZE
// signer counts alone, as in the core's ratification). Adopted records are
// appended to the ledger like local decisions.

const (
	maxRecordsPerAnswer = 64
	catchUpEvery        = 300 * time.Millisecond
)

// ErrBadProof is wrapped by the errors of records whose proof does not
// establish their value.
var ErrBadProof = errors.New("validator: record proof does not establish a quorum")

func (v *Validator) requestState(to quorum.NodeID) {
	v.loop.catchAt = time.Now()
	v.tr.Send(to, transport.KindGetState, binary.BigEndian.AppendUint64(nil, v.loop.next))
}

// maybeCatchUp asks from for state when we are behind, at most every
// catchUpEvery.
func (v *Validator) maybeCatchUp(from quorum.NodeID) {
	if time.Since(v.loop.catchAt) < catchUpEvery {
		return
	}
	v.requestState(from)
}

// answerState sends a peer our records from the requested slot on, and our
// current state for the slots we are working on.
func (v *Validator) answerState(to quorum.NodeID, payload []byte) {
	if len(payload) != 8 {
		v.log.Debug("bad state request", "peer", to.String(), "bytes", len(payload))
		return
	}
	from := max(binary.BigEndian.Uint64(payload), 1)
	// A peer asking again within catchUpEvery gets nothing: requests cost
	// disk reads and bandwidth, and an honest peer does not repeat itself
	// faster.
	if last, ok := v.loop.answered[to]; ok && time.Since(last) < catchUpEvery/2 {
		return
	}
	v.loop.answered[to] = time.Now()
	n := 0
	for rec, err := range v.led.Records(from) {
		if err != nil {
			v.log.Warn("reading the ledger for a peer failed", "peer", to.String(), "slot", from, "err", err)
			return
		}
		if err := v.tr.Send(to, transport.KindRecord, ledger.EncodeRecord(rec)); err != nil {
			v.log.Warn("sending a record failed", "peer", to.String(), "slot", rec.Slot, "err", err)
			return
		}
		if n++; n == maxRecordsPerAnswer {
			break
		}
	}
	v.sendState(to, max(from, v.loop.next-1))
}

// sendState sends to (or to everyone when to is zero) the current state of
// slots from..next: the latest statement of every node, ours signed.
func (v *Validator) sendState(to quorum.NodeID, from uint64) {
	for s := max(from, 1); s <= v.loop.next; s++ {
		for _, env := range v.node.CurrentState(s) {
			if env.Statement.NodeID == v.id {
				env = Sign(v.cfg.Key, v.network, env)
			}
			if len(env.Signature) == 0 {
				continue
			}
			v.stats.rebroadcast.Add(1)
			if to == (quorum.NodeID{}) {
				v.broadcast(env)
			} else {
				v.tr.Send(to, transport.KindEnvelope, env.Encode())
			}
		}
	}
}

// rebroadcast sends the current state to every peer, and asks a peer for
// state when we appear to be behind.
func (v *Validator) rebroadcast() {
	v.sendState(quorum.NodeID{}, max(v.loop.next, 2)-1)
	if v.loop.highest > v.loop.next || len(v.loop.pending) > 0 {
		if peers := v.tr.Connected(); len(peers) > 0 {
			v.loop.catchRR++
			v.requestState(peers[v.loop.catchRR%len(peers)])
		}
	}
}

func (v *Validator) receiveRecord(from quorum.NodeID, payload []byte) {
	rec, err := ledger.DecodeRecord(payload)
	if err != nil {
		v.stats.badRecords.Add(1)
		v.log.Warn("malformed record", "peer", from.String(), "err", err)
		return
	}
	l := &v.loop
	if rec.Slot < l.next {
		// Only a record whose proof holds shows a fork; anyone can send
		// an unproven one.
		if old, ok, err := v.led.Get(rec.Slot); err == nil && ok && !old.Value.Equal(rec.Value) {
			if err := v.verifyRecord(rec); err != nil {
				v.stats.badRecords.Add(1)
				v.log.Warn("record refused", "peer", from.String(), "slot", rec.Slot, "err", err)
				return
			}
			v.checkAgainstLedger(rec.Slot, rec.Value, "peer "+from.String())
		}
		return
	}
	if _, ok := l.pending[rec.Slot]; ok || rec.Slot > l.next+v.cfg.MaxSlotsAhead {
		return
	}
	if err := v.verifyRecord(rec); err != nil {
		v.stats.badRecords.Add(1)
		v.log.Warn("record refused", "peer", from.String(), "slot", rec.Slot, "err", err)
		return
	}
	if rec.Slot > l.highest {
		l.highest = rec.Slot
	}
	v.stats.catchUp.Add(1)
	if rec.Slot > l.next {
		l.pending[rec.Slot] = rec
		v.maybeCatchUp(from)
		return
	}
	if err := v.commit(rec, "peer "+from.String()); err != nil {
		v.err = err // reported when the loop sees it
		v.log.Error("appending a caught-up record failed", "slot", rec.Slot, "err", err)
	}
}

// verifyRecord checks a record's proof (see the top of this file).
func (v *Validator) verifyRecord(rec ledger.Record) error {
	if lvl := v.cfg.Driver.Validate(rec.Slot, rec.Value, false); lvl == consensus.Invalid {
		return fmt.Errorf("validator: slot %d: %w: value invalid", rec.Slot, ErrBadProof)
	}
	signers := quorum.Set{}
	qsetOf := map[quorum.NodeID]*quorum.QSet{}
	for i, env := range rec.Proof {
		st := &env.Statement
		if _, dup := signers[st.NodeID]; dup {
			return fmt.Errorf("validator: slot %d: proof envelope %d: node %s signs twice", rec.Slot, i, st.NodeID)
		}
		if !v.isKnown(st.NodeID) {
			continue // cannot count towards our quorums; not worth a signature check
		}
		if st.Slot != rec.Slot {
			return fmt.Errorf("validator: slot %d: proof envelope %d is for slot %d", rec.Slot, i, st.Slot)
		}
		c, ok := committed(st)
		if !ok || !c.Equal(rec.Value) {
			return fmt.Errorf("validator: slot %d: proof envelope %d (%s) does not commit to the value", rec.Slot, i, st)
		}
		if err := Verify(v.network, env); err != nil {
			return fmt.Errorf("validator: slot %d: proof envelope %d: %w", rec.Slot, i, err)
		}
		signers[st.NodeID] = struct{}{}
		if st.Type() == consensus.TypeExternalize {
			qsetOf[st.NodeID] = &quorum.QSet{Threshold: 1, Validators: []quorum.NodeID{st.NodeID}}
		} else if q, ok := v.loop.qsets[st.QSetHash()]; ok && qsetOf[st.NodeID] == nil {
			qsetOf[st.NodeID] = &q
		}
	}
	if !quorum.ContainsQuorum(&v.qset, signers, func(id quorum.NodeID) *quorum.QSet { return qsetOf[id] }) {
		return fmt.Errorf("validator: slot %d: %w (%d signers)", rec.Slot, ErrBadProof, len(signers))
	}
	return nil
}

func (v *Validator) answerQSet(to quorum.NodeID, payload []byte) {
	var h consensus.Hash
	if len(payload) != len(h) {
		return
	}
	copy(h[:], payload)
	if q, ok := v.loop.qsets[h]; ok {
		v.tr.Send(to, transport.KindQSet, q.Encode())
	}
}

func (v *Validator) receiveQSet(from quorum.NodeID, payload []byte) {
	q, err := quorum.Decode(payload)
	if err != nil {
		v.log.Debug("bad quorum set", "peer", from.String(), "err", err)
		return
	}
	// Only quorum sets someone asked about are useful; a stray one costs a
	// map entry, bounded by the waiting envelopes that could name it.
	h := consensus.QSetHash(q)
	for _, env := range v.loop.waiting {
		if env.Statement.QSetHash() == h {
			if _, err := v.addQSet(q); err != nil {
				v.log.Debug("quorum set refused", "peer", from.String(), "err", err)
			}
			return
		}
	}
}
