package validator

import (
	"context"
	"fmt"

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
