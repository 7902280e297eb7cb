package consensus

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// Leader selection for nomination (draft "Nomination", stellar-core
// NominationProtocol::updateRoundLeaders).

// hash flags of the leader-election hashes.
const (
	hashNeighbourhood uint32 = 1
	hashPriority      uint32 = 2
	hashValueFlag     uint32 = 3
)

// maxLeaderRounds caps the fast-forward over rounds that add no leader.
const maxLeaderRounds = 1000

// defaultHasher is the draft/stellar-core hash: the first 8 bytes
// (big-endian) of SHA-256(XDR(slot) || XDR(prev) || XDR(uint32 flag) ||
// XDR(int32 round) || XDR(node or value)), byte for byte as stellar-core's
// computeHashNode / computeValueHash (values as XDR opaque<> with padding,
// node ids as an Ed25519 PublicKey union).
type defaultHasher struct{}

func xdrOpaque(e *encoder, b []byte) {
	e.bytes(b)
	for i := len(b); i%4 != 0; i++ {
		e.u8(0)
	}
}

func leaderHash(slot uint64, prev Value, flag, round uint32, tail func(*encoder)) uint64 {
	var e encoder
	e.u64(slot)
	xdrOpaque(&e, prev)
	e.u32(flag)
	e.u32(round)
	tail(&e)
	sum := sha256.Sum256(e.buf)
	return binary.BigEndian.Uint64(sum[:8])
}

// HashNode implements NodeHasher.
func (defaultHasher) HashNode(slot uint64, prev Value, priority bool, round uint32, node quorum.NodeID) uint64 {
	flag := hashNeighbourhood
	if priority {
		flag = hashPriority
	}
	return leaderHash(slot, prev, flag, round, func(e *encoder) {
		e.u32(0) // PUBLIC_KEY_TYPE_ED25519
		e.buf = append(e.buf, node[:]...)
	})
}

// HashValue implements ValueHasher.
func (defaultHasher) HashValue(slot uint64, prev Value, round uint32, v Value) uint64 {
	return leaderHash(slot, prev, hashValueFlag, round, func(e *encoder) { xdrOpaque(e, v) })
}

// weight of a node for leader election: the local node weighs the maximum,
// others their weight in the local quorum set without the local node.
func (nm *nomination) weight(id quorum.NodeID) uint64 {
	if id == nm.s.n.id {
		return ^uint64(0)
	}
	return nodeWeight(id, &nm.s.n.leaderSet)
}

// priority of a node in the current round (getNodePriority): the priority
// hash if the node is in the round's neighbourhood (neighbourhood hash <=
// weight, inclusive), else 0.
func (nm *nomination) priority(id quorum.NodeID) uint64 {
	w := nm.weight(id)
	h := nm.s.n.nodeHasher
	if w > 0 && h.HashNode(nm.s.index, nm.prev, false, nm.round, id) <= w {
		return h.HashNode(nm.s.index, nm.prev, true, nm.round, id)
	}
	return 0
}

// updateRoundLeaders adds the current round's leaders (every node tied at
// the top priority, none if the top is 0) to the leaders accumulated over
// earlier rounds. A round that adds no new leader is skipped at once by
// moving to the next round ("fast timeout"), until every node of non-zero
// weight is a leader or maxLeaderRounds rounds were tried.
func (nm *nomination) updateRoundLeaders() {
	n := nm.s.n
	nodes := []quorum.NodeID{n.id}
	forAllNodes(&n.leaderSet, func(id quorum.NodeID) {
		if id != n.id && nodeWeight(id, &n.leaderSet) > 0 {
			nodes = append(nodes, id)
		}
	})
	for i := 0; i < maxLeaderRounds && len(nm.leaders) < len(nodes); i++ {
		var top uint64
		var roundLeaders []quorum.NodeID
		for _, id := range nodes {
			p := nm.priority(id)
			if p > top {
				top = p
				roundLeaders = roundLeaders[:0]
			}
			if p == top && p > 0 {
				roundLeaders = append(roundLeaders, id)
			}
		}
		grew := false
		for _, id := range roundLeaders {
			if _, ok := nm.leaders[id]; !ok {
				nm.leaders[id] = struct{}{}
				grew = true
			}
		}
		if grew {
			nm.s.logf("round leaders", "round", nm.round, "leaders", leaderNames(roundLeaders))
			return
		}
		nm.round++
	}
}

func leaderNames(ids []quorum.NodeID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}
