package commit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"sort"
	"strconv"
	"testing"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// fixture is a federation of organizations bank1..bankN with deterministic
// keys, and a coordinator key.
type fixture struct {
	network consensus.Hash
	orgs    []string
	keys    map[string][]ed25519.PrivateKey
	m       *Membership
	coord   ed25519.PrivateKey
}

func testKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("commit-test/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func pub(k ed25519.PrivateKey) quorum.NodeID {
	var id quorum.NodeID
	copy(id[:], k.Public().(ed25519.PublicKey))
	return id
}

// newFixture makes len(sizes) organizations, organization i with sizes[i]
// validators and the default (majority) threshold.
func newFixture(t testing.TB, sizes ...int) *fixture {
	t.Helper()
	f := &fixture{network: sha256.Sum256([]byte("commit-test-net")), keys: map[string][]ed25519.PrivateKey{}, coord: testKey("coordinator")}
	var cfg Config
	cfg.Network = f.network
	for i, n := range sizes {
		name := "bank" + strconv.Itoa(i+1)
		f.orgs = append(f.orgs, name)
		o := Org{Name: name}
		for j := 0; j < n; j++ {
			k := testKey(fmt.Sprintf("%s/%d", name, j))
			f.keys[name] = append(f.keys[name], k)
			o.Validators = append(o.Validators, pub(k))
		}
		cfg.Orgs = append(cfg.Orgs, o)
	}
	m, err := NewMembership(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	return f
}

// tagGID returns key's gid named name: "pgfedx_<KeyTag>_<name>", the form
// Request.check requires of a request key signs.
func tagGID(key ed25519.PrivateKey, name string) string {
	return "pgfedx_" + KeyTag(pub(key)) + "_" + name
}

// gid returns the fixture coordinator's gid named name.
func (f *fixture) gid(name string) string { return tagGID(f.coord, name) }

// request signs, with the fixture's coordinator key, a request for its gid
// named name (f.gid) over orgs (sorted here), each with one part.
func (f *fixture) request(t testing.TB, name string, orgs ...string) Request {
	t.Helper()
	gid := f.gid(name)
	r := Request{GID: gid, Created: 1700000000000000000}
	sorted := append([]string(nil), orgs...)
	sort.Strings(sorted)
	for i, o := range sorted {
		r.Participants = append(r.Participants, OrgParts{Org: o, Parts: []Part{{Worker: "w-" + o, GID: gid + "_" + strconv.Itoa(i+1)}}})
	}
	sr, err := SignRequest(f.network, f.coord, r)
	if err != nil {
		t.Fatal(err)
	}
	return sr
}

func (f *fixture) vote(org string, i int, r *Request, kind VoteKind) Vote {
	return signVote(f.network, f.keys[org][i], r.GID, org, kind, r.Hash())
}

func sortVotes(vs []Vote) []Vote {
	vs = append([]Vote(nil), vs...)
	sort.Slice(vs, func(i, j int) bool { return bytes.Compare(vs[i].Signer[:], vs[j].Signer[:]) < 0 })
	return vs
}

func (f *fixture) decision(o Outcome, r Request, votes ...Vote) Decision {
	return Decision{Outcome: o, Request: r, Votes: sortVotes(votes)}
}

// commit is r's COMMIT with the threshold PREPARED votes of every
// participant.
func (f *fixture) commit(r Request) Decision {
	var vs []Vote
	for _, p := range r.Participants {
		for i := 0; i < f.m.Threshold(p.Org); i++ {
			vs = append(vs, f.vote(p.Org, i, &r, VotePrepared))
		}
	}
	return f.decision(Commit, r, vs...)
}

// abort is r's ABORT with the threshold ABORT votes of org.
func (f *fixture) abort(r Request, org string) Decision {
	var vs []Vote
	for i := 0; i < f.m.Threshold(org); i++ {
		vs = append(vs, f.vote(org, i, &r, VoteAbort))
	}
	return f.decision(Abort, r, vs...)
}

func value(ds ...Decision) consensus.Value {
	ds = append([]Decision(nil), ds...)
	sort.Slice(ds, func(i, j int) bool { return ds[i].GID() < ds[j].GID() })
	v := Value{Decisions: ds}
	return v.Encode()
}
