package federation

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/pgfed/pgfed/consensus/commit"
	"github.com/pgfed/pgfed/consensus/quorum"
	"github.com/pgfed/pgfed/consensus/transport"
	"github.com/pgfed/pgfed/consensus/validator"
)

func testPage(key ed25519.PrivateKey) LedgerPage {
	return LedgerPage{Org: "bank2", Slot: 9, Applied: 8, Digest: [32]byte{7, 7}, Next: 10, Validator: transport.NodeID(key),
		Decisions: []LedgerDecision{
			{Slot: 3, GID: GIDPrefix + "c_1", Outcome: commit.Commit, Orgs: []string{"bank1", "bank2"}},
			{Slot: 3, GID: GIDPrefix + "c_2", Outcome: commit.Abort, Orgs: []string{"bank2"}},
			{Slot: 9, GID: GIDPrefix + "c_0", Outcome: commit.Commit, Orgs: []string{"bank1", "bank2", "bank3"}},
		}}
}

// TestLedgerPageSignature: a page verifies only for the nonce and network
// it was signed for, any changed byte breaks it, and a truncated one is
// refused.
func TestLedgerPageSignature(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	net1, net2 := validator.NetworkID("a"), validator.NetworkID("b")
	nonce := make([]byte, 32)
	rand.Read(nonce)
	p := testPage(key)
	b := encodeLedgerPage(net1, key, nonce, &p)
	got, err := decodeLedgerPage(net1, nonce, b)
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if _, err := decodeLedgerPage(net2, nonce, b); !errors.Is(err, ErrBadLedgerPage) {
		t.Fatalf("other network: %v", err)
	}
	other := append([]byte(nil), nonce...)
	other[5] ^= 1
	if _, err := decodeLedgerPage(net1, other, b); !errors.Is(err, ErrBadLedgerPage) {
		t.Fatalf("replayed for another nonce: %v", err)
	}
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0x20
		if _, err := decodeLedgerPage(net1, nonce, c); err == nil {
			t.Fatalf("byte %d changed and the page still verifies", i)
		}
	}
	for _, n := range []int{0, 1, 95, len(b) - 1} {
		if _, err := decodeLedgerPage(net1, nonce, b[:n]); err == nil {
			t.Fatalf("page truncated to %d bytes accepted", n)
		}
	}
}

// TestLedgerPageRules: well-signed pages that break the page's own rules
// are refused.
func TestLedgerPageRules(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	network := validator.NetworkID("a")
	nonce := make([]byte, 32)
	cases := []struct {
		name string
		edit func(p *LedgerPage)
	}{
		{"applied beyond the ledger", func(p *LedgerPage) { p.Applied = p.Slot + 1 }},
		{"slot beyond the ledger", func(p *LedgerPage) { p.Slot = 8; p.Applied = 8 }},
		{"slot at next", func(p *LedgerPage) { p.Next = 9 }},
		{"slot zero", func(p *LedgerPage) { p.Decisions[0].Slot = 0 }},
		{"slots out of order", func(p *LedgerPage) { p.Decisions[2].Slot = 2 }},
		{"gids out of order", func(p *LedgerPage) { p.Decisions[1].GID = GIDPrefix + "c_0" }},
		{"gid twice", func(p *LedgerPage) { p.Decisions[1].GID = p.Decisions[0].GID }},
		{"bad outcome", func(p *LedgerPage) { p.Decisions[0].Outcome = 9 }},
		{"no organization", func(p *LedgerPage) { p.Decisions[0].Orgs = nil }},
		{"organizations unsorted", func(p *LedgerPage) { p.Decisions[0].Orgs = []string{"bank2", "bank1"} }},
		{"organization twice", func(p *LedgerPage) { p.Decisions[0].Orgs = []string{"bank1", "bank1"} }},
		{"empty gid", func(p *LedgerPage) { p.Decisions[0].GID = "" }},
		{"empty organization name", func(p *LedgerPage) { p.Org = "" }},
	}
	for _, c := range cases {
		p := testPage(key)
		c.edit(&p)
		if _, err := decodeLedgerPage(network, nonce, encodeLedgerPage(network, key, nonce, &p)); !errors.Is(err, ErrBadLedgerPage) {
			t.Errorf("%s: %v, want ErrBadLedgerPage", c.name, err)
		}
	}
	// A count larger than the bytes left is refused before any allocation.
	p := testPage(key)
	content := ledgerPageContent(&p)
	at := 8 + 8 + 32 + 8 + 2 + len(p.Org)
	content[at], content[at+1], content[at+2], content[at+3] = 0xff, 0xff, 0xff, 0xff
	sig := ed25519.Sign(key, ledgerSigning(network, nonce, content))
	b := append(append(content, key.Public().(ed25519.PublicKey)...), sig...)
	if _, err := decodeLedgerPage(network, nonce, b); !errors.Is(err, ErrBadLedgerPage) {
		t.Fatalf("huge count: %v", err)
	}
}

// FuzzLedgerPage signs arbitrary page contents: decoding never panics,
// and a content that decodes is canonical (re-encoding gives the same
// bytes).
func FuzzLedgerPage(f *testing.F) {
	_, key, _ := ed25519.GenerateKey(bytes.NewReader(make([]byte, 64)))
	network := validator.NetworkID("fuzz")
	nonce := make([]byte, 32)
	p := testPage(key)
	f.Add(ledgerPageContent(&p))
	p.Decisions = nil
	f.Add(ledgerPageContent(&p))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, content []byte) {
		if len(content) > maxClientFrame {
			return
		}
		sig := ed25519.Sign(key, ledgerSigning(network, nonce, content))
		b := append(append(append([]byte(nil), content...), key.Public().(ed25519.PublicKey)...), sig...)
		got, err := decodeLedgerPage(network, nonce, b)
		if err != nil {
			if !errors.Is(err, ErrBadLedgerPage) {
				t.Fatalf("error %v does not wrap ErrBadLedgerPage", err)
			}
			return
		}
		if again := ledgerPageContent(&got); !bytes.Equal(again, content) {
			t.Fatalf("decoded page re-encodes differently:\n%x\n%x", content, again)
		}
	})
}

// TestLedgerQueryOldValidator: a validator that predates the ledger query
// reads the frame, finds no submit, and closes the connection; the client
// says so (ErrNoLedgerQuery) rather than reporting a broken page.
func TestLedgerQueryOldValidator(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan byte, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- 0
			return
		}
		kind, _, _ := readFrame(bufio.NewReader(conn))
		conn.Close() // as server.serve does on any kind but frameSubmit
		done <- kind
	}()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	id := transport.NodeID(key)
	m, err := commit.NewMembership(commit.Config{Network: validator.NetworkID("old"), Orgs: []commit.Org{{Name: "bank1", Validators: []quorum.NodeID{id}}}})
	if err != nil {
		t.Fatal(err)
	}
	ep := Endpoint{Addr: ln.Addr().String(), Key: id}
	c, err := NewClient(ClientConfig{Membership: m, Validators: []Endpoint{ep}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Ledger(ctx, ep, 0, 10); !errors.Is(err, ErrNoLedgerQuery) {
		t.Fatalf("old validator: %v, want ErrNoLedgerQuery", err)
	}
	if kind := <-done; kind != frameLedger {
		t.Fatalf("the validator read frame kind %d", kind)
	}
}
