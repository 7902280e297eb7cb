package consensus

import "github.com/pgfed/pgfed/consensus/quorum"

// Ready is a batch of work the host must carry out, in this order:
//
//  1. write Persist to durable storage (the node's own latest envelopes; on
//     restart they go to Node.Restore) and sync it;
//  2. sign and broadcast Send (every envelope in Send is also in Persist, so
//     a statement is never sent before it is durable: a restarted node never
//     contradicts what it said);
//  3. apply Externalized, in slot order as the host requires;
//
// and then call Node.Advance. Envelopes are unsigned.
type Ready struct {
	// Persist holds the node's own envelopes that became its latest
	// nomination or ballot statement for a slot, the latest of each kind.
	Persist []Envelope
	// Send holds the own envelopes to broadcast, the latest of each kind per
	// slot.
	Send []Envelope
	// Externalized lists slots decided since the last batch, each reported
	// exactly once.
	Externalized []Externalized
}

// Externalized is a decided slot.
type Externalized struct {
	Slot  uint64
	Value Value
}

// pendingReady accumulates work between Advance calls. Each list keeps, per
// (slot, protocol), only the latest envelope: a newer statement of one
// sender supersedes the older one, so sending only the latest is enough.
type pendingReady struct {
	persistList []Envelope
	sendList    []Envelope
	external    []Externalized
	// counts handed out by the last Ready call
	nPersist, nSend, nExternal int
}

type readyKey struct {
	slot  uint64
	nom   bool
	node  quorum.NodeID
	valid bool
}

func keyOf(env *Envelope) readyKey {
	return readyKey{slot: env.Statement.Slot, nom: env.Statement.Type() == TypeNominate, node: env.Statement.NodeID, valid: true}
}

// upsert appends env, replacing an older envelope of the same slot and kind
// that has not been handed out by Ready yet (index >= from).
func upsert(list []Envelope, from int, env Envelope) []Envelope {
	k := keyOf(&env)
	for i := from; i < len(list); i++ {
		if keyOf(&list[i]) == k {
			// keep order of first appearance, replace with the newer statement
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	return append(list, env)
}

func (p *pendingReady) persist(slot uint64, env Envelope) {
	p.persistList = upsert(p.persistList, p.nPersist, env)
}

func (p *pendingReady) send(slot uint64, env Envelope) {
	p.sendList = upsert(p.sendList, p.nSend, env)
}

// HasReady reports whether Ready would return any work.
func (n *Node) HasReady() bool {
	p := &n.ready
	return len(p.persistList) > 0 || len(p.sendList) > 0 || len(p.external) > 0
}

// Ready returns the pending work. Call Advance once it is done; work that
// arrives in between (Step or Tick before Advance) is kept for the next
// batch.
func (n *Node) Ready() Ready {
	p := &n.ready
	p.nPersist, p.nSend, p.nExternal = len(p.persistList), len(p.sendList), len(p.external)
	rd := Ready{}
	for _, e := range p.persistList {
		rd.Persist = append(rd.Persist, cloneEnvelope(e))
	}
	for _, e := range p.sendList {
		rd.Send = append(rd.Send, cloneEnvelope(e))
	}
	for _, x := range p.external {
		rd.Externalized = append(rd.Externalized, Externalized{x.Slot, x.Value.clone()})
	}
	return rd
}

// Advance acknowledges the batch returned by the last Ready call.
func (n *Node) Advance() {
	p := &n.ready
	p.persistList = dropPrefix(p.persistList, p.nPersist)
	p.sendList = dropPrefix(p.sendList, p.nSend)
	p.external = append([]Externalized(nil), p.external[min(p.nExternal, len(p.external)):]...)
	p.nPersist, p.nSend, p.nExternal = 0, 0, 0
}

func dropPrefix(l []Envelope, k int) []Envelope {
	if k > len(l) {
		k = len(l)
	}
	return append([]Envelope(nil), l[k:]...)
}
