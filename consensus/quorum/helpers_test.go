package quorum

import (
	"flag"
	"math/rand/v2"
	"testing"
)

var seedFlag = flag.Uint64("seed", 0, "replay the randomized tests with this seed")

// nid returns a test node id that sorts like i.
func nid(i int) NodeID {
	var n NodeID
	n[0] = byte(i >> 8)
	n[1] = byte(i)
	n[31] = 0xA5
	return n
}

func nids(is ...int) []NodeID {
	r := make([]NodeID, len(is))
	for k, i := range is {
		r[k] = nid(i)
	}
	return r
}

func set(is ...int) Set {
	s := make(Set)
	for _, i := range is {
		s[nid(i)] = struct{}{}
	}
	return s
}

func qs(t uint32, vs []NodeID, inner ...QSet) QSet {
	return QSet{Threshold: t, Validators: vs, InnerSets: inner}
}

// symmetric returns the network of n nodes that all use t-of-all.
func symmetric(n int, t uint32) *Network {
	net := &Network{QSets: map[NodeID]*QSet{}}
	all := make([]NodeID, n)
	for i := range all {
		all[i] = nid(i)
	}
	for i := range n {
		q := qs(t, append([]NodeID(nil), all...))
		net.QSets[nid(i)] = &q
	}
	return net
}

// seeded returns a seeded generator and logs the seed so a failure can be
// replayed by setting it in the test.
func seeded(t testing.TB, seed uint64) *rand.Rand {
	t.Helper()
	if *seedFlag != 0 {
		seed = *seedFlag
	}
	t.Logf("seed %d (replay with -seed %d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// randomQSet builds a quorum set over some of the nodes 0..n-1 without
// duplicates; with small probability the threshold is out of range (insane).
func randomQSet(r *rand.Rand, n int, depth int) QSet {
	perm := r.Perm(n)
	var q QSet
	nv := r.IntN(min(n, 4) + 1)
	for _, i := range perm[:nv] {
		q.Validators = append(q.Validators, nid(i))
	}
	rest := perm[nv:]
	if depth < 2 && len(rest) > 0 && r.IntN(3) == 0 {
		ni := 1 + r.IntN(2)
		for k := 0; k < ni && len(rest) > 0; k++ {
			m := 1 + r.IntN(min(len(rest), 3))
			var in QSet
			for _, i := range rest[:m] {
				in.Validators = append(in.Validators, nid(i))
			}
			rest = rest[m:]
			in.Threshold = uint32(1 + r.IntN(len(in.Validators)))
			q.InnerSets = append(q.InnerSets, in)
		}
	}
	if e := q.Entries(); e > 0 {
		q.Threshold = uint32(1 + r.IntN(e))
	}
	if r.IntN(40) == 0 {
		q.Threshold = uint32(q.Entries() + 1)
	}
	return q
}

// randomNetwork returns a network of n nodes; a few have no quorum set.
func randomNetwork(r *rand.Rand, n int) *Network {
	net := &Network{QSets: map[NodeID]*QSet{}}
	for i := range n {
		if r.IntN(12) == 0 {
			net.QSets[nid(i)] = nil
			continue
		}
		q := randomQSet(r, n, 0)
		net.QSets[nid(i)] = &q
	}
	return net
}
