package dtx

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
	"github.com/pgfed/pgfed/executor/federation"
)

// testFederation is a federation of org1..org3 with one validator each,
// and a coordinator key.
func testFederation(t *testing.T) *Federation {
	t.Helper()
	f := &Federation{}
	var orgs []commit.Org
	for i, name := range []string{"org1", "org2", "org3"} {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		id := transport.NodeID(k)
		orgs = append(orgs, commit.Org{Name: name, Validators: []quorum.NodeID{id}})
		f.Validators = append(f.Validators, FederationValidator{Org: name, Endpoint: federation.Endpoint{Addr: "127.0.0.1:" + string(rune('1'+i)), Key: id}})
	}
	m, err := commit.NewMembership(commit.Config{Orgs: orgs})
	if err != nil {
		t.Fatal(err)
	}
	f.Membership = m
	_, f.Key, _ = ed25519.GenerateKey(rand.Reader)
	return f
}

func TestFederationValidate(t *testing.T) {
	f := testFederation(t)
	ok := *f
	if err := ok.validate(); err != nil || ok.Wait != DefaultFederationWait {
		t.Fatalf("validate = %v, wait %s", err, ok.Wait)
	}
	wrongOrg := *f
	wrongOrg.Validators = append([]FederationValidator(nil), f.Validators...)
	wrongOrg.Validators[0].Org = "org2"
	noKey, noVals := *f, *f
	noKey.Key = nil
	noVals.Validators = nil
	for name, bad := range map[string]Federation{"validator of another org": wrongOrg, "no key": noKey, "no validators": noVals} {
		if err := bad.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The client tries the validators of the transaction's organizations
// first, in the order given, then the others.
func TestFederationClientOrder(t *testing.T) {
	f := testFederation(t)
	got := f.ordered([]string{"org3", "org1"})
	var orgs []string
	for _, v := range got {
		orgs = append(orgs, v.Org)
	}
	if strings.Join(orgs, ",") != "org3,org1,org2" {
		t.Fatalf("order %v", orgs)
	}
}

// A federated gid, and each part's gid, have the forms consensus/commit
// requires: the gid names the coordinator's key (so only that key can sign
// a request for it), a part belongs to exactly its transaction
// (PartOwner), and no federated gid can be taken for one of dtx's own
// two-phase commits.
func TestFederatedGID(t *testing.T) {
	ids, err := newTxIDSource()
	if err != nil {
		t.Fatal(err)
	}
	f := testFederation(t)
	gid := federatedGID(f.Key, ids.next())
	if tag, ok := commit.GIDKeyTag(gid); !ok || tag != commit.KeyTag(transport.NodeID(f.Key)) || !strings.HasPrefix(gid, federation.GIDPrefix) {
		t.Fatalf("gid %s does not name the coordinator's key", gid)
	}
	part := gid + "_2147483647" // the longest node id
	if len(part) > commit.MaxGIDLen {
		t.Fatalf("part gid %s is %d bytes", part, len(part))
	}
	if owner, ok := commit.PartOwner(part); !ok || owner != gid {
		t.Fatalf("PartOwner(%s) = %s, %v", part, owner, ok)
	}
	if _, ok := ParseGID(part); ok || strings.HasPrefix(part, GIDPrefix) {
		t.Fatalf("%s passes for a dtx gid", part)
	}
	r := commit.Request{GID: gid, Participants: []commit.OrgParts{{Org: "org1", Parts: []commit.Part{{Worker: "127.0.0.1:5432", GID: part}}}}}
	if _, err := commit.SignRequest(f.Membership.Network(), f.Key, r); err != nil {
		t.Fatal(err)
	}
	// another coordinator cannot sign a request for this gid
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := commit.SignRequest(f.Membership.Network(), other, r); !errors.Is(err, commit.ErrRequest) {
		t.Fatalf("another key signed a request for %s: %v", gid, err)
	}
}

func TestIsFederated(t *testing.T) {
	fed := testFederation(t)
	part := func(org string) *participant { return &participant{node: catalog.Node{ID: 1, Organization: org}} }
	with := &Txn{coord: &Coordinator{cfg: Config{Federation: fed}}}
	without := &Txn{coord: &Coordinator{}}
	for _, tc := range []struct {
		txn     *Txn
		written []*participant
		want    bool
	}{
		{with, []*participant{part("org1"), part("org2")}, true},
		{with, []*participant{part("org1"), part("org1")}, true},
		{with, []*participant{part("org1"), part("")}, true}, // refused later, 0A000
		{with, []*participant{part(""), part("")}, false},
		{with, []*participant{part("org1")}, false}, // 1PC
		{without, []*participant{part("org1"), part("org2")}, false},
	} {
		if got := tc.txn.isFederated(tc.written); got != tc.want {
			t.Errorf("isFederated(%v, federation %v) = %v", tc.written, tc.txn.coord.cfg.Federation != nil, got)
		}
	}
}
