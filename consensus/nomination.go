package consensus

import (
	"sort"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// nomination is the nomination protocol of one slot (draft "Nomination",
// stellar-core NominationProtocol): it turns the values nodes propose into
// candidate values, whose combination starts the ballot protocol.
type nomination struct {
	s *slot

	round      uint32
	votes      []Value // X, sorted
	accepted   []Value // Y, sorted, subset of votes
	candidates []Value // Z, sorted
	latest     map[quorum.NodeID]*Envelope
	leaders    map[quorum.NodeID]struct{}

	started    bool
	prev       Value // previous slot's value, seeds the hashes
	timerValue Value // the value to nominate again on timeout
	timerCount int
	composite  Value // latest combination of the candidates

	lastEnv *Envelope // last own NOMINATE that became our latest
}

func (nm *nomination) init(s *slot) {
	nm.s = s
	nm.latest = make(map[quorum.NodeID]*Envelope)
	nm.leaders = make(map[quorum.NodeID]struct{})
}

// insertValue adds v to the sorted set, reporting whether it was new.
func insertValue(set *[]Value, v Value) bool {
	i := sort.Search(len(*set), func(i int) bool { return (*set)[i].Compare(v) >= 0 })
	if i < len(*set) && (*set)[i].Equal(v) {
		return false
	}
	*set = append(*set, nil)
	copy((*set)[i+1:], (*set)[i:])
	(*set)[i] = v.clone()
	return true
}

// nominate runs one nomination round (NominationProtocol::nominate): once a
// candidate exists it does nothing (no new votes after a confirmed
// candidate); a timeout before nomination started does nothing. Otherwise
// it moves to the next round, updates the leaders, echoes a value of every
// leader whose NOMINATE it knows, votes for value if the local node is a
// leader and has no vote yet, and arms the round timer.
func (nm *nomination) nominate(value, prev Value, timedOut bool) {
	s := nm.s
	if len(nm.candidates) > 0 {
		return
	}
	if timedOut {
		nm.timerCount++
		if !nm.started {
			return
		}
	}
	nm.started = true
	nm.prev = prev
	nm.timerValue = value
	nm.round++
	nm.updateRoundLeaders()
	timeout := s.n.computeTimeout(nm.round, true)

	updated := false
	for _, id := range sortedLeaderIDs(nm.leaders) {
		env := nm.latest[id]
		if env == nil {
			continue
		}
		if v := nm.pickValue(env.Statement.Pledge.(Nominate)); v != nil {
			if insertValue(&nm.votes, v) {
				updated = true
				s.logf("nominating value", "value", v, "leader", id)
			}
		}
	}
	if _, leader := nm.leaders[s.n.id]; leader && len(nm.votes) == 0 && value != nil {
		if insertValue(&nm.votes, value) {
			updated = true
			s.logf("nominating own value", "value", value)
		}
	}
	s.nominationTimer.arm(s.n.now, timeout)
	if updated {
		nm.emit()
	}
}

func sortedLeaderIDs(m map[quorum.NodeID]struct{}) []quorum.NodeID {
	out := make([]quorum.NodeID, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

// pickValue chooses the value to echo from a leader's NOMINATE
// (getNewValueFromNomination): among the leader's accepted values first, and
// only if none qualifies among its votes, the valid (or extracted valid)
// value not yet voted for with the highest value hash.
func (nm *nomination) pickValue(nom Nominate) Value {
	s := nm.s
	pick := func(set []Value) Value {
		var best Value
		var bestHash uint64
		for _, v := range set {
			cand := v
			if s.n.validate(s.index, v, true) != FullyValid {
				cand = nm.extract(v)
			}
			if cand == nil || containsValue(nm.votes, cand) {
				continue
			}
			h := s.n.valueHasher.HashValue(s.index, nm.prev, nm.round, cand)
			if best == nil || h >= bestHash {
				best, bestHash = cand, h
			}
		}
		return best
	}
	if v := pick(nom.Accepted); v != nil {
		return v
	}
	return pick(nom.Votes)
}

func (nm *nomination) extract(v Value) Value {
	if nm.s.n.extractor == nil {
		return nil
	}
	w := nm.s.n.extractor.ExtractValidValue(nm.s.index, v)
	if w == nil || nm.s.n.validate(nm.s.index, w, true) != FullyValid {
		return nil
	}
	return w
}

// processEnvelope records a NOMINATE and, once nomination started, applies
// the federated-voting rules to it (NominationProtocol::processEnvelope):
//  1. a vote v of the sender is accepted when federated-accept(v in votes,
//     v in accepted) holds and v is fully valid (else an extracted valid
//     variant is voted for);
//  2. an accepted value becomes a candidate when federated-ratify(v in
//     accepted) holds; the round timer stops (no new votes from now on);
//  3. while there is no candidate, a value of a leader's NOMINATE is echoed;
//  4. new candidates are combined and the ballot protocol is started with
//     the composite (only if it has no ballot yet).
func (nm *nomination) processEnvelope(env *Envelope) error {
	s := nm.s
	st := &env.Statement
	nom := st.Pledge.(Nominate)
	if old := nm.latest[st.NodeID]; old != nil {
		o := old.Statement.Pledge.(Nominate)
		if !isNewerNomination(&o, &nom) {
			return ErrStale
		}
	}
	nm.latest[st.NodeID] = env
	if !nm.started {
		return nil
	}

	modified, newCandidates := false, false
	for _, v := range nom.Votes {
		if containsValue(nm.accepted, v) {
			continue
		}
		voted := func(st *Statement) bool { return containsValue(st.Pledge.(Nominate).Votes, v) }
		acc := func(st *Statement) bool { return containsValue(st.Pledge.(Nominate).Accepted, v) }
		if !s.federatedAccept(nm.latest, voted, acc) {
			continue
		}
		if s.n.validate(s.index, v, true) == FullyValid {
			insertValue(&nm.accepted, v)
			insertValue(&nm.votes, v)
			modified = true
			s.logf("accepted nomination", "value", v)
		} else if w := nm.extract(v); w != nil && insertValue(&nm.votes, w) {
			modified = true
		}
	}
	for _, a := range nm.accepted {
		if containsValue(nm.candidates, a) {
			continue
		}
		if s.federatedRatify(nm.latest, func(st *Statement) bool { return containsValue(st.Pledge.(Nominate).Accepted, a) }) {
			insertValue(&nm.candidates, a)
			newCandidates = true
			s.nominationTimer.stop()
			s.logf("confirmed nomination", "value", a)
		}
	}
	if _, leader := nm.leaders[st.NodeID]; len(nm.candidates) == 0 && leader {
		if v := nm.pickValue(nom); v != nil && insertValue(&nm.votes, v) {
			modified = true
			s.logf("nominating value", "value", v, "leader", st.NodeID)
		}
	}
	if modified {
		nm.emit()
	}
	if newCandidates {
		nm.composite = s.n.cfg.Driver.Combine(s.index, cloneValues(nm.candidates)).clone()
		s.logf("composite candidate", "value", nm.composite)
		s.ballot.bumpState(nm.composite, false)
	}
	return nil
}

// emit builds the local NOMINATE from X and Y, processes it as the local
// node's own statement, and queues it if it is newer than the last one
// (NominationProtocol::emitNomination).
func (nm *nomination) emit() {
	s := nm.s
	env := s.newEnvelope(Nominate{
		QSetHash: s.n.qsetHash,
		Votes:    cloneValues(nm.votes),
		Accepted: cloneValues(nm.accepted),
	})
	if err := nm.processEnvelope(env); err != nil {
		s.n.brokenInvariant(s.index, "own nomination rejected: %v", err)
		return
	}
	nom := env.Statement.Pledge.(Nominate)
	if nm.lastEnv != nil {
		last := nm.lastEnv.Statement.Pledge.(Nominate)
		if !isNewerNomination(&last, &nom) {
			return
		}
	}
	nm.lastEnv = env
	s.persist(env)
	if s.fullyValidated {
		s.emit(env)
	}
}

// stop ends nomination when the slot externalizes (stopNomination).
func (nm *nomination) stop() {
	nm.started = false
	nm.s.nominationTimer.stop()
}

// restore loads the local node's own persisted NOMINATE
// (NominationProtocol::setStateFromEnvelope).
func (nm *nomination) restore(env *Envelope) error {
	if nm.started || nm.lastEnv != nil {
		return ErrAlreadyStarted
	}
	nom := env.Statement.Pledge.(Nominate)
	nm.latest[env.Statement.NodeID] = env
	for _, v := range nom.Votes {
		insertValue(&nm.votes, v)
	}
	for _, v := range nom.Accepted {
		insertValue(&nm.accepted, v)
	}
	nm.lastEnv = env
	return nil
}
