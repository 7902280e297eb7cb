package scptest

import (
	"crypto/sha256"
	"fmt"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// Topology is a set of validators and their quorum sets.
type Topology struct {
	// Name identifies the topology in test output.
	Name string
	// Nodes lists the validators, in a fixed order (indexes are used by
	// Config.Byzantine).
	Nodes []quorum.NodeID
	// QSets gives each validator's quorum set.
	QSets map[quorum.NodeID]quorum.QSet
	// Intersecting is true when every two quorums of well-behaved nodes
	// intersect (despite up to MaxByzantine Byzantine nodes): safety is
	// only promised then.
	Intersecting bool
	// MaxByzantine is how many Byzantine nodes (of the first indexes chosen
	// by Config.Byzantine) the topology tolerates for safety and liveness.
	MaxByzantine int
}

func simNodeID(group, i int) quorum.NodeID {
	return sha256.Sum256([]byte(fmt.Sprintf("scptest/%d/%d", group, i)))
}

// Symmetric is n validators that all use threshold n - floor((n-1)/3) over
// all of them; it tolerates floor((n-1)/3) Byzantine nodes.
func Symmetric(n int) Topology {
	t := Topology{Name: fmt.Sprintf("symmetric-%d", n), QSets: map[quorum.NodeID]quorum.QSet{}, Intersecting: true, MaxByzantine: (n - 1) / 3}
	for i := 0; i < n; i++ {
		t.Nodes = append(t.Nodes, simNodeID(0, i))
	}
	q := quorum.QSet{Threshold: quorum.BFTThreshold(n), Validators: append([]quorum.NodeID(nil), t.Nodes...)}
	for _, id := range t.Nodes {
		t.QSets[id] = q
	}
	return t
}

// Tiered is orgs organizations of perOrg validators each, every validator
// using stellar-core's generated quorum set (a majority inside each org, a
// BFT threshold over orgs). With 3 orgs of 3 it tolerates one Byzantine
// validator.
func Tiered(orgs, perOrg int) Topology {
	t := Topology{Name: fmt.Sprintf("tiered-%dx%d", orgs, perOrg), QSets: map[quorum.NodeID]quorum.QSet{}, Intersecting: true, MaxByzantine: 1}
	var os []quorum.Org
	for o := 0; o < orgs; o++ {
		org := quorum.Org{Name: fmt.Sprintf("bank%d", o+1)}
		for i := 0; i < perOrg; i++ {
			id := simNodeID(o+1, i)
			org.Validators = append(org.Validators, id)
			t.Nodes = append(t.Nodes, id)
		}
		os = append(os, org)
	}
	q, err := quorum.OrgQSet(os)
	if err != nil {
		panic(err) // fixed, known-good input
	}
	for _, id := range t.Nodes {
		t.QSets[id] = q
	}
	return t
}

// Split is two groups of three validators, each requiring 2 of its own
// group: their quorums do not intersect, so they may decide differently.
func Split() Topology {
	t := Topology{Name: "split-2x3", QSets: map[quorum.NodeID]quorum.QSet{}}
	for g := 0; g < 2; g++ {
		var group []quorum.NodeID
		for i := 0; i < 3; i++ {
			group = append(group, simNodeID(100+g, i))
		}
		q := quorum.QSet{Threshold: 2, Validators: group}
		for _, id := range group {
			t.QSets[id] = q
		}
		t.Nodes = append(t.Nodes, group...)
	}
	return t
}
