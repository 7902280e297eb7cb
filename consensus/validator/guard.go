package validator

import (
	"bytes"
	"fmt"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// guard is the node boundary: every envelope from the network passes
// through admit before Node.Step. It rejects malformed, unsigned, badly
// signed (which includes signed for another network), unknown-signer and
// replayed envelopes, drops exact duplicates (the rebroadcasts) before
// paying for a signature check, and records equivocation: two statements
// of one node for one slot that cannot both be honest. Counters feed Stats.
type guard struct {
	network consensus.Hash
	self    quorum.NodeID
	known   func(quorum.NodeID) bool
	latest  map[guardKey]consensus.Envelope
	// window: slots outside [floor, floor+ahead] are refused.
	floor, ahead uint64

	evidence []Evidence
	c        guardCounters
}

type guardKey struct {
	node quorum.NodeID
	slot uint64
	nom  bool
}

type guardCounters struct {
	received, accepted, malformed, unsigned, badSignature, unknownSigner uint64
	duplicate, replayed, equivocations, outOfWindow                      uint64
}

// Evidence is a pair of validly signed statements from one node for one
// slot that no honest node sends: NOMINATE sets that shrank, or ballot
// statements that neither supersedes, or a commit (CONFIRM or EXTERNALIZE)
// for two different values.
type Evidence struct {
	Node        quorum.NodeID
	Slot        uint64
	First, Then consensus.Envelope
}

// String describes the evidence for logs.
func (e Evidence) String() string {
	return fmt.Sprintf("node %s slot %d: %s then %s", e.Node.Strkey(), e.Slot, e.First.Statement, e.Then.Statement)
}

const maxEvidence = 64

// verdict is admit's decision.
type verdict int

const (
	admitted verdict = iota
	dropped          // benign (duplicate), not worth logging
	refused          // bad input, counted
)

// admit decodes and checks an envelope; it returns the envelope to step and
// admitted, or why not.
func (g *guard) admit(payload []byte) (consensus.Envelope, verdict, error) {
	g.c.received++
	env, err := consensus.DecodeEnvelope(payload)
	if err != nil {
		g.c.malformed++
		return env, refused, err
	}
	st := &env.Statement
	if st.NodeID == g.self {
		return env, dropped, nil // our own, relayed back
	}
	if st.Slot < g.floor || st.Slot > g.floor+g.ahead {
		g.c.outOfWindow++
		return env, dropped, nil
	}
	if !g.known(st.NodeID) {
		g.c.unknownSigner++
		return env, refused, fmt.Errorf("validator: envelope of unknown node %s (slot %d)", st.NodeID.Strkey(), st.Slot)
	}
	if len(env.Signature) == 0 {
		g.c.unsigned++
		return env, refused, fmt.Errorf("%w: node %s slot %d", ErrUnsigned, st.NodeID, st.Slot)
	}
	k := guardKey{st.NodeID, st.Slot, st.Type() == consensus.TypeNominate}
	old, seen := g.latest[k]
	if seen && bytes.Equal(consensus.EncodeStatement(old.Statement), consensus.EncodeStatement(*st)) {
		g.c.duplicate++
		return env, dropped, nil
	}
	if err := Verify(g.network, env); err != nil {
		g.c.badSignature++
		return env, refused, err
	}
	if seen {
		if ev := equivocation(old, env); ev {
			g.c.equivocations++
			e := Evidence{Node: st.NodeID, Slot: st.Slot, First: old, Then: env}
			if len(g.evidence) < maxEvidence {
				g.evidence = append(g.evidence, e)
			}
			return env, refused, fmt.Errorf("validator: equivocation: %s", e)
		}
		if !consensus.Supersedes(old.Statement, *st) {
			g.c.replayed++
			return env, refused, fmt.Errorf("validator: replayed envelope of node %s slot %d: %s is not newer than %s", st.NodeID, st.Slot, st, old.Statement)
		}
	}
	g.latest[k] = env
	g.c.accepted++
	return env, admitted, nil
}

// equivocation reports whether two validly signed statements of one node
// for one slot and protocol cannot both come from an honest node.
func equivocation(old, st consensus.Envelope) bool {
	a, b := old.Statement, st.Statement
	if consensus.Supersedes(a, b) || consensus.Supersedes(b, a) {
		// Ordered; still, an honest node commits to one value only.
		va, ca := committed(&a)
		vb, cb := committed(&b)
		return ca && cb && !va.Equal(vb)
	}
	return true // neither is newer and they differ
}

// committed returns the value a CONFIRM or EXTERNALIZE commits to.
func committed(st *consensus.Statement) (consensus.Value, bool) {
	switch p := st.Pledge.(type) {
	case consensus.Confirm:
		return p.Ballot.Value, true
	case consensus.Externalize:
		return p.Commit.Value, true
	}
	return nil, false
}

// forget drops the state of slots below floor and refuses them from then
// on.
func (g *guard) forget(floor uint64) {
	if floor <= g.floor {
		return
	}
	g.floor = floor
	for k := range g.latest {
		if k.slot < floor {
			delete(g.latest, k)
		}
	}
}
