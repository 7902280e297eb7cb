package federation

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/transport"
	"github.com/pgfed/pgfed/consensus/validator"
)

// TestOutcomeSignature: an outcome verifies only for the nonce and network
// it was signed for, and any changed byte breaks it.
func TestOutcomeSignature(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	net1, net2 := validator.NetworkID("a"), validator.NetworkID("b")
	nonce := make([]byte, 32)
	rand.Read(nonce)
	o := Outcome{GID: GIDPrefix + "c_1", Outcome: commit.Commit, Slot: 7, Request: [32]byte{1, 2, 3}, Validator: transport.NodeID(key)}
	b := encodeOutcome(net1, key, nonce, &o)
	got, err := decodeOutcome(net1, nonce, b)
	if err != nil || got != o {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if _, err := decodeOutcome(net2, nonce, b); !errors.Is(err, ErrBadOutcome) {
		t.Fatalf("other network: %v", err)
	}
	other := append([]byte(nil), nonce...)
	other[0] ^= 1
	if _, err := decodeOutcome(net1, other, b); !errors.Is(err, ErrBadOutcome) {
		t.Fatalf("replayed for another nonce: %v", err)
	}
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0x40
		if _, err := decodeOutcome(net1, nonce, c); err == nil {
			t.Fatalf("byte %d changed and the outcome still verifies", i)
		}
	}
	if _, err := decodeOutcome(net1, nonce, b[:len(b)-1]); err == nil {
		t.Fatal("truncated outcome accepted")
	}
}

// TestRejectsBadRequests: a request the membership refuses fails in the
// client before anything is sent, and a tampered one sent raw is answered
// with an error frame.
func TestRejectsBadRequests(t *testing.T) {
	f := newFed(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	gid := f.newGID()
	r := f.request(gid, leg{f.banks[0], 1, -1}, leg{f.banks[1], 1, 1})
	bad := r
	bad.Created++ // the signature no longer matches
	if _, err := f.client.Commit(ctx, bad); !errors.Is(err, commit.ErrRequest) {
		t.Fatalf("tampered request: %v, want ErrRequest", err)
	}
	conn, err := net.Dial("tcp", f.banks[0].cliAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := writeFrame(conn, frameSubmit, append(make([]byte, 32), bad.Encode()...)); err != nil {
		t.Fatal(err)
	}
	kind, body, err := readFrame(bufio.NewReader(conn))
	if err != nil || kind != frameError {
		t.Fatalf("answer to a tampered request: kind %d %q, %v; want an error frame", kind, body, err)
	}
	// Nothing was learned: the gid never becomes final.
	time.Sleep(2 * testTimeout * testTick)
	for _, b := range f.banks {
		b.app.mu.Lock()
		decided := b.app.ledger.Decided(gid)
		b.app.mu.Unlock()
		if decided {
			t.Fatalf("%s decided %s from a tampered request", b.org, gid)
		}
	}
}
