package validator

import (
	"context"
	"fmt"
	"time"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// CheckNetwork decides whether the quorums of the network a validator is
// configured for intersect: the local node with its quorum set, and every
// peer with its quorum set when peerQSets knows it, or else with the local
// quorum set (the usual symmetric configuration, and the only assumption
// available before the peers have been heard from). It returns the
// analysis; Intersects false means the configuration can fork (Split) or
// decide nothing (NoQuorum).
func CheckNetwork(ctx context.Context, self quorum.NodeID, own quorum.QSet, peers []quorum.NodeID, peerQSets map[quorum.NodeID]quorum.QSet) (*quorum.Intersection, error) {
	net := &quorum.Network{QSets: map[quorum.NodeID]*quorum.QSet{}}
	o := own.Clone()
	net.QSets[self] = &o
	for _, p := range peers {
		q := own.Clone()
		if pq, ok := peerQSets[p]; ok {
			q = pq.Clone()
		}
		net.QSets[p] = &q
	}
	res, err := quorum.CheckIntersection(ctx, net)
	if err != nil {
		return nil, fmt.Errorf("validator: quorum intersection check: %w", err)
	}
	return res, nil
}

// recheckIntersection runs CheckNetwork again with the quorum sets the
// peers announced (at start only the local one was known) and reports a
// network that can fork. It is bounded in time: it runs on the loop.
func (v *Validator) recheckIntersection(ctx context.Context, changed quorum.NodeID) {
	known := map[quorum.NodeID]quorum.QSet{}
	for id, h := range v.loop.peerQSet {
		if q, ok := v.loop.qsets[h]; ok {
			known[id] = q
		}
	}
	var peers []quorum.NodeID
	for _, p := range v.cfg.Peers {
		peers = append(peers, p.ID)
	}
	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	res, err := CheckNetwork(ctx, v.id, v.qset, peers, known)
	switch {
	case err != nil:
		v.log.Warn("quorum intersection check not finished", "peer", changed.String(), "err", err)
	case !res.Intersects:
		v.log.Error("with the quorum sets the peers announced, the network's quorums do not intersect: it can fork or halt",
			"peer", changed.String(), "no_quorum", res.NoQuorum)
	default:
		v.log.Debug("quorum sets of the peers checked: quorums intersect", "peer", changed.String())
	}
}
