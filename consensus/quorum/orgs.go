package quorum

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
)

// Org is an organization running validators: for pgfed, one bank.
type Org struct {
	Name       string
	Validators []NodeID
}

// ErrNoOrgs is returned by OrgQSet when there is nothing to build from.
var ErrNoOrgs = errors.New("no organizations")

// OrgThreshold is the simple-majority threshold inside an organization of n
// validators: n - floor((n-1)/2).
func OrgThreshold(n int) uint32 { return uint32(n - (n-1)/2) }

// BFTThreshold is the threshold over n organizations that tolerates
// floor((n-1)/3) Byzantine ones: n - floor((n-1)/3).
func BFTThreshold(n int) uint32 { return uint32(n - (n-1)/3) }

// OrgQSet builds the quorum set stellar-core's generateQuorumSet builds for a
// single tier of organizations: every organization becomes an inner set of its
// validators with threshold OrgThreshold, and the top level requires
// BFTThreshold(len(orgs)) of them. The result is normalized (so a
// one-validator organization appears as a plain validator) and passes the
// strict sanity check. Empty organizations, and the same validator in two
// organizations, are errors.
func OrgQSet(orgs []Org) (QSet, error) {
	if len(orgs) == 0 {
		return QSet{}, ErrNoOrgs
	}
	q := QSet{Threshold: BFTThreshold(len(orgs))}
	for _, o := range orgs {
		if len(o.Validators) == 0 {
			return QSet{}, fmt.Errorf("organization %q has no validators", o.Name)
		}
		q.InnerSets = append(q.InnerSets, QSet{
			Threshold:  OrgThreshold(len(o.Validators)),
			Validators: append([]NodeID(nil), o.Validators...),
		})
	}
	q = Normalize(&q, nil)
	if err := q.Sane(true); err != nil {
		return QSet{}, fmt.Errorf("organizations: %w", err)
	}
	return q, nil
}

// DevNodeID derives a deterministic, well-spread node id for validator i of
// organization org, for development clusters and tests (pgfed dev --orgs N):
// the SHA-256 of "pgfed-dev/<org>/<i>". It is not a usable public key.
func DevNodeID(org, i int) NodeID {
	return sha256.Sum256([]byte("pgfed-dev/" + strconv.Itoa(org) + "/" + strconv.Itoa(i)))
}

// DevOrgs returns n organizations named "bank1".."bankN", each with
// perOrg validators whose ids come from DevNodeID.
func DevOrgs(n, perOrg int) []Org {
	orgs := make([]Org, n)
	for o := range orgs {
		orgs[o].Name = "bank" + strconv.Itoa(o+1)
		for i := range perOrg {
			orgs[o].Validators = append(orgs[o].Validators, DevNodeID(o+1, i+1))
		}
	}
	return orgs
}

// OrgNetwork returns the network in which every validator of every
// organization uses OrgQSet(orgs), with names "<org>-<i>" (1-based).
func OrgNetwork(orgs []Org) (*Network, error) {
	q, err := OrgQSet(orgs)
	if err != nil {
		return nil, err
	}
	n := &Network{QSets: make(map[NodeID]*QSet), Names: make(map[NodeID]string)}
	for _, o := range orgs {
		for i, v := range o.Validators {
			c := q.Clone()
			n.QSets[v] = &c
			n.Names[v] = o.Name + "-" + strconv.Itoa(i+1)
		}
	}
	return n, nil
}
