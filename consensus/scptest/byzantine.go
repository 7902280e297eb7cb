package scptest

import (
	"sort"

	"github.com/pgfed/pgfed/consensus"
)

// observe lets a Byzantine node learn the values in play.
func (s *sim) observe(sn *simNode, env consensus.Envelope) {
	var vals []consensus.Value
	switch p := env.Statement.Pledge.(type) {
	case consensus.Nominate:
		vals = p.Votes
	case consensus.Prepare:
		vals = []consensus.Value{p.Ballot.Value}
	case consensus.Confirm:
		vals = []consensus.Value{p.Ballot.Value}
	case consensus.Externalize:
		vals = []consensus.Value{p.Commit.Value}
	}
	slot := env.Statement.Slot
	for _, v := range vals {
		if len(sn.seen[slot]) < 16 {
			sn.seen[slot] = append(sn.seen[slot], v)
		}
	}
}

// byzantine makes a Byzantine node act. Half of the time it runs the
// split-brain attack: peers are split in two halves (fixed per slot), and
// each half is told, with ever stronger claims, that the node supports a
// different value. Otherwise it equivocates at random (a different
// plausible statement for each peer) or sends garbage bytes.
func (s *sim) byzantine(sn *simNode) {
	if s.rng.Intn(3) != 0 {
		return
	}
	slot := uint64(1 + s.rng.Intn(s.cfg.Slots))
	if s.rng.Intn(2) == 0 {
		s.splitBrain(sn, slot)
		return
	}
	for to := range s.nodes {
		if to == sn.idx {
			continue
		}
		if s.rng.Intn(10) == 0 {
			b := make([]byte, s.rng.Intn(80))
			s.rng.Read(b)
			s.send(sn.idx, to, b)
			continue
		}
		st := consensus.Statement{NodeID: sn.id, Slot: slot, Pledge: s.lie(sn, slot)}
		s.send(sn.idx, to, consensus.Envelope{Statement: st}.Encode())
	}
}

func (s *sim) value(sn *simNode, slot uint64) consensus.Value {
	if seen := sn.seen[slot]; len(seen) > 0 && s.rng.Intn(3) != 0 {
		return seen[s.rng.Intn(len(seen))]
	}
	if s.rng.Intn(8) == 0 {
		return consensus.Value("garbage")
	}
	return proposal(slot, s.rng.Intn(len(s.nodes)))
}

func (s *sim) counter() uint32 {
	if s.rng.Intn(12) == 0 {
		return consensus.Infinite
	}
	return uint32(1 + s.rng.Intn(6))
}

// lie builds a random statement that is usually well formed.
func (s *sim) lie(sn *simNode, slot uint64) consensus.Pledge {
	qh := consensus.QSetHash(s.qsets[sn.idx])
	v := s.value(sn, slot)
	switch s.rng.Intn(4) {
	case 0:
		vals := map[string]bool{}
		for i := 0; i < 1+s.rng.Intn(3); i++ {
			vals[string(s.value(sn, slot))] = true
		}
		var votes, acc []consensus.Value
		for x := range vals {
			votes = append(votes, consensus.Value(x))
		}
		sort.Slice(votes, func(i, j int) bool { return votes[i].Compare(votes[j]) < 0 })
		for _, x := range votes {
			if s.rng.Intn(2) == 0 {
				acc = append(acc, x)
			}
		}
		return consensus.Nominate{QSetHash: qh, Votes: votes, Accepted: acc}
	case 1:
		b := consensus.Ballot{Counter: s.counter(), Value: v}
		p := consensus.Prepare{QSetHash: qh, Ballot: b}
		if s.rng.Intn(2) == 0 {
			pb := b
			p.Prepared = &pb
			if s.rng.Intn(2) == 0 {
				p.NH = pb.Counter
				if s.rng.Intn(2) == 0 {
					p.NC = 1 + uint32(s.rng.Intn(int(min(pb.Counter, 6))))
				}
			}
		}
		return p
	case 2:
		n := s.counter()
		c := 1 + uint32(s.rng.Intn(int(min(n, 6))))
		return consensus.Confirm{QSetHash: qh, Ballot: consensus.Ballot{Counter: n, Value: v}, NPrepared: n, NCommit: c, NH: n}
	default:
		c := s.counter()
		return consensus.Externalize{CommitQSetHash: qh, Commit: consensus.Ballot{Counter: c, Value: v}, NH: c}
	}
}

// splitBrain tells each half of the peers a different story about slot.
func (s *sim) splitBrain(sn *simNode, slot uint64) {
	seen := sn.seen[slot]
	if len(seen) < 2 {
		return
	}
	if sn.step == nil {
		sn.step = map[uint64]uint32{}
	}
	sn.step[slot]++
	k := sn.step[slot]
	n := 1 + k/4 // the counter grows so the statements stay newer
	qh := consensus.QSetHash(s.qsets[sn.idx])
	vals := [2]consensus.Value{seen[0], seen[len(seen)-1]}
	if vals[0].Equal(vals[1]) {
		return
	}
	for to := range s.nodes {
		if to == sn.idx {
			continue
		}
		v := vals[(to+int(slot))%2]
		b := consensus.Ballot{Counter: n, Value: v}
		var pl consensus.Pledge
		switch k % 4 {
		case 0:
			pl = consensus.Prepare{QSetHash: qh, Ballot: b}
		case 1:
			pl = consensus.Prepare{QSetHash: qh, Ballot: b, Prepared: &b}
		case 2:
			pl = consensus.Prepare{QSetHash: qh, Ballot: b, Prepared: &b, NC: 1, NH: n}
		default:
			pl = consensus.Confirm{QSetHash: qh, Ballot: b, NPrepared: n, NCommit: 1, NH: n}
		}
		st := consensus.Statement{NodeID: sn.id, Slot: slot, Pledge: pl}
		s.send(sn.idx, to, consensus.Envelope{Statement: st}.Encode())
	}
}
