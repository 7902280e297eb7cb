package quorum

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// ErrBadNetwork is the sentinel wrapped by ParseStellarbeat's errors.
var ErrBadNetwork = errors.New("bad network description")

// sbNode and sbQSet mirror the stellarbeat.io node format; other fields are
// ignored.
type sbNode struct {
	PublicKey *string `json:"publicKey"`
	Name      *string `json:"name"`
	QuorumSet *sbQSet `json:"quorumSet"`
}

type sbQSet struct {
	Threshold       *json.Number `json:"threshold"`
	Validators      []string     `json:"validators"`
	InnerQuorumSets []sbQSet     `json:"innerQuorumSets"`
}

// ParseStellarbeat reads the node list format of stellarbeat.io (also read
// by fbas_analyzer): a JSON array of objects with a "publicKey" (Stellar
// "G..." strkey or 64 hex digits), an optional "name" and an optional
// "quorumSet" {"threshold", "validators", "innerQuorumSets"}. A node with no
// quorum set, a null one or an empty one ({} or threshold 0 with no entries)
// gets a nil quorum set: as in stellar-core, it cannot be part of a quorum.
// Quorum sets are not sanity-checked here (the analyses ignore insane ones);
// malformed JSON, bad keys, non-integer or out-of-range thresholds and
// duplicate nodes are errors wrapping ErrBadNetwork.
func ParseStellarbeat(data []byte) (*Network, error) {
	var nodes []sbNode
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&nodes); err != nil {
		return nil, fmt.Errorf("%w: want a JSON array of nodes: %v", ErrBadNetwork, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the array of nodes", ErrBadNetwork)
	}
	if nodes == nil {
		return nil, fmt.Errorf("%w: want a JSON array of nodes, got null", ErrBadNetwork)
	}
	net := &Network{QSets: make(map[NodeID]*QSet, len(nodes)), Names: make(map[NodeID]string)}
	for i, n := range nodes {
		if n.PublicKey == nil {
			return nil, fmt.Errorf("%w: node %d: no publicKey", ErrBadNetwork, i)
		}
		id, err := ParseNodeID(*n.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("%w: node %d: %v", ErrBadNetwork, i, err)
		}
		if _, dup := net.QSets[id]; dup {
			return nil, fmt.Errorf("%w: node %d: %s listed twice", ErrBadNetwork, i, *n.PublicKey)
		}
		net.QSets[id] = nil
		if n.Name != nil && *n.Name != "" {
			net.Names[id] = *n.Name
		}
		if n.QuorumSet == nil {
			continue
		}
		q, err := n.QuorumSet.convert(0)
		if err != nil {
			return nil, fmt.Errorf("%w: node %d (%s): quorumSet: %v", ErrBadNetwork, i, *n.PublicKey, err)
		}
		if q.Threshold == 0 && q.Entries() == 0 {
			continue // empty: no quorum set
		}
		net.QSets[id] = &q
	}
	return net, nil
}

// maxJSONDepth bounds the recursion on nested sets well beyond MaxDepth (the
// sanity check reports the real limit).
const maxJSONDepth = 64

func (s *sbQSet) convert(depth int) (QSet, error) {
	if depth > maxJSONDepth {
		return QSet{}, fmt.Errorf("nested more than %d levels", maxJSONDepth)
	}
	var q QSet
	if s.Threshold != nil {
		t, err := s.Threshold.Int64()
		if err != nil || t < 0 || t > math.MaxUint32 {
			return QSet{}, fmt.Errorf("threshold %s is not an integer in 0..%d", s.Threshold.String(), uint32(math.MaxUint32))
		}
		q.Threshold = uint32(t)
	}
	for _, v := range s.Validators {
		id, err := ParseNodeID(v)
		if err != nil {
			return QSet{}, err
		}
		q.Validators = append(q.Validators, id)
	}
	for i := range s.InnerQuorumSets {
		in, err := s.InnerQuorumSets[i].convert(depth + 1)
		if err != nil {
			return QSet{}, err
		}
		q.InnerSets = append(q.InnerSets, in)
	}
	return q, nil
}
