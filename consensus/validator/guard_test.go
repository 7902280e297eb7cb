package validator

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
)

func nominate(node quorum.NodeID, slot uint64, votes ...string) consensus.Envelope {
	var vs []consensus.Value
	for _, v := range votes {
		vs = append(vs, EncodeItems([][]byte{[]byte(v)}))
	}
	return consensus.Envelope{Statement: consensus.Statement{NodeID: node, Slot: slot, Pledge: consensus.Nominate{Votes: vs}}}
}

func externalize(node quorum.NodeID, slot uint64, v string) consensus.Envelope {
	return consensus.Envelope{Statement: consensus.Statement{NodeID: node, Slot: slot, Pledge: consensus.Externalize{
		Commit: consensus.Ballot{Counter: 1, Value: EncodeItems([][]byte{[]byte(v)})}, NH: 1}}}
}

func newGuard(known ...quorum.NodeID) *guard {
	return &guard{network: NetworkID(testNetwork), self: quorum.NodeID{0xff}, latest: map[guardKey]consensus.Envelope{},
		floor: 1, ahead: 100, known: func(id quorum.NodeID) bool {
			for _, k := range known {
				if k == id {
					return true
				}
			}
			return false
		}}
}

func TestGuardVerdicts(t *testing.T) {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	id1 := transport.NodeID(k1)
	net := NetworkID(testNetwork)
	g := newGuard(id1)
	admit := func(env consensus.Envelope) (verdict, error) {
		_, v, err := g.admit(env.Encode())
		return v, err
	}
	good := Sign(k1, net, nominate(id1, 5, "a"))
	if v, err := admit(good); v != admitted {
		t.Fatalf("good envelope: %v %v", v, err)
	}
	if v, _ := admit(good); v != dropped || g.c.duplicate != 1 {
		t.Fatalf("duplicate: %v", v)
	}
	// Forged: node 1's statement signed with key 2.
	forged := Sign(k2, net, nominate(id1, 5, "a", "b"))
	if _, err := admit(forged); !errors.Is(err, ErrBadSignature) || g.c.badSignature != 1 {
		t.Fatalf("forged: %v", err)
	}
	// Wrong network: a genuine signature for another network.
	other := Sign(k1, NetworkID("another network"), nominate(id1, 5, "a", "b"))
	if _, err := admit(other); !errors.Is(err, ErrBadSignature) || g.c.badSignature != 2 {
		t.Fatalf("wrong network: %v", err)
	}
	if _, err := admit(nominate(id1, 5, "a", "b")); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("unsigned: %v", err)
	}
	if _, v, _ := g.admit([]byte("garbage")); v != refused || g.c.malformed != 1 {
		t.Fatal("garbage admitted")
	}
	if v, _ := admit(Sign(k2, net, nominate(transport.NodeID(k2), 5, "a"))); v != refused || g.c.unknownSigner != 1 {
		t.Fatal("unknown signer admitted")
	}
	// Newer, then the older one again: a replay.
	newer := Sign(k1, net, nominate(id1, 5, "a", "b"))
	if v, err := admit(newer); v != admitted {
		t.Fatalf("newer: %v", err)
	}
	if v, _ := admit(good); v != refused || g.c.replayed != 1 {
		t.Fatal("replayed envelope admitted")
	}
	// Equivocation: a nomination that is neither older nor newer.
	if v, _ := admit(Sign(k1, net, nominate(id1, 5, "c"))); v != refused || g.c.equivocations != 1 || len(g.evidence) != 1 {
		t.Fatal("equivocation not recorded")
	}
	// Two EXTERNALIZEs of different values.
	admit(Sign(k1, net, externalize(id1, 6, "x")))
	if v, _ := admit(Sign(k1, net, externalize(id1, 6, "y"))); v != refused || g.c.equivocations != 2 {
		t.Fatal("double externalize not recorded")
	}
	// Out of the slot window.
	if v, _ := admit(Sign(k1, net, nominate(id1, 500, "a"))); v != dropped || g.c.outOfWindow != 1 {
		t.Fatal("far slot admitted")
	}
	g.forget(6)
	if v, _ := admit(Sign(k1, net, nominate(id1, 5, "z"))); v != dropped {
		t.Fatal("forgotten slot admitted")
	}
}

// TestBoundaryRejectsBadEnvelopes: a listed peer sends forged, wrong-network,
// unsigned, unknown-signer and malformed envelopes to running validators,
// which count and drop them and keep deciding.
func TestBoundaryRejectsBadEnvelopes(t *testing.T) {
	c := newCluster(t, 4, nil)
	c.waitSlots(1, all(4), all(4), 10*time.Second)
	c.stop(3)
	ln, err := net.Listen("tcp", c.addrs[3])
	if err != nil {
		t.Fatal(err)
	}
	var peers []transport.Peer
	for i := 0; i < 3; i++ {
		peers = append(peers, transport.Peer{ID: transport.NodeID(c.keys[i]), Addr: c.addrs[i]})
	}
	evil, err := transport.Start(context.Background(), transport.Config{Key: c.keys[3], Network: NetworkID(testNetwork), Listener: ln, Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	defer evil.Close()
	deadline := time.Now().Add(10 * time.Second)
	for len(evil.Connected()) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("evil peer not connected")
		}
		time.Sleep(10 * time.Millisecond)
	}
	id0, id3 := transport.NodeID(c.keys[0]), transport.NodeID(c.keys[3])
	net := NetworkID(testNetwork)
	slot := c.vals[0].Last() + 1
	send := func(env consensus.Envelope) { evil.Broadcast(transport.KindEnvelope, env.Encode()) }
	send(Sign(c.keys[3], net, nominate(id0, slot, "forged")))                           // node 0's name, key 3
	send(Sign(c.keys[3], NetworkID("elsewhere"), nominate(id3, slot, "other network"))) // wrong network
	send(nominate(id3, slot, "unsigned"))                                               // no signature
	stranger := testKey(t, 77)
	send(Sign(stranger, net, nominate(transport.NodeID(stranger), slot, "stranger"))) // not in any quorum set
	evil.Broadcast(transport.KindEnvelope, []byte{1, 2, 3})                           // malformed
	deadline = time.Now().Add(10 * time.Second)
	for {
		s := c.vals[1].Stats()
		if s.BadSignature >= 2 && s.Unsigned >= 1 && s.UnknownSigner >= 1 && s.Malformed >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bad envelopes not all counted: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.waitSlots(slot+1, []int{0, 1, 2}, []int{0, 1, 2}, 10*time.Second)
	c.checkLedgers([]int{0, 1, 2}, slot+1)
}

func TestForgedEnvelopeRejected(t *testing.T) {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	g := newGuard(transport.NodeID(k1), transport.NodeID(k2))
	// Node 1's statement, signed by node 2.
	forged := Sign(k2, NetworkID(testNetwork), nominate(transport.NodeID(k1), 3, "a"))
	if _, v, err := g.admit(forged.Encode()); v != refused || !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged envelope: %v %v", v, err)
	}
	// A valid signature over a different statement.
	env := Sign(k1, NetworkID(testNetwork), nominate(transport.NodeID(k1), 3, "a"))
	env.Statement.Slot = 4
	if _, v, err := g.admit(env.Encode()); v != refused || !errors.Is(err, ErrBadSignature) {
		t.Fatalf("altered envelope: %v %v", v, err)
	}
}

func TestWrongNetworkEnvelopeRejected(t *testing.T) {
	k1 := testKey(t, 1)
	g := newGuard(transport.NodeID(k1))
	env := Sign(k1, NetworkID("some other network"), nominate(transport.NodeID(k1), 3, "a"))
	if err := Verify(NetworkID("some other network"), env); err != nil {
		t.Fatalf("valid on its own network: %v", err)
	}
	if _, v, err := g.admit(env.Encode()); v != refused || !errors.Is(err, ErrBadSignature) {
		t.Fatalf("envelope of another network: %v %v", v, err)
	}
}
