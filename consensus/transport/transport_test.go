package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

var testNet = consensus.Hash{0xaa}

// seededRand is a deterministic source for keys, nonces and jitter.
func seededRand(seed int64) *rand.Rand { return rand.New(rand.NewSource(seed)) }

func key(t *testing.T, seed int64) ed25519.PrivateKey {
	t.Helper()
	k, err := GenerateKey(seededRand(seed))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

type node struct {
	key ed25519.PrivateKey
	ln  net.Listener
}

func (n node) id() quorum.NodeID { return NodeID(n.key) }

func newNodes(t *testing.T, k int) []node {
	var out []node
	for i := 0; i < k; i++ {
		out = append(out, node{key: key(t, int64(i+1)), ln: listen(t)})
	}
	return out
}

func peersOf(nodes []node, except int) []Peer {
	var ps []Peer
	for i, n := range nodes {
		if i != except {
			ps = append(ps, Peer{ID: n.id(), Addr: n.ln.Addr().String()})
		}
	}
	return ps
}

func start(t *testing.T, ctx context.Context, nodes []node, i int, mod func(*Config)) *Transport {
	t.Helper()
	cfg := Config{Key: nodes[i].key, Network: testNet, Listener: nodes[i].ln, Peers: peersOf(nodes, i),
		Hello: []byte{byte(i)}, Rand: seededRand(int64(100 + i)), MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		HandshakeTimeout: 2 * time.Second, Logger: hclog.NewNullLogger()}
	if mod != nil {
		mod(&cfg)
	}
	tr, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// next returns the next inbound message of kind k (skipping others).
func next(t *testing.T, tr *Transport, k Kind) Message {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-tr.Inbound():
			if m.Kind == k {
				return m
			}
		case <-timeout:
			t.Fatalf("no %s message", k)
		}
	}
}

func TestConnectAndExchange(t *testing.T) {
	ctx := context.Background()
	nodes := newNodes(t, 3)
	trs := []*Transport{start(t, ctx, nodes, 0, nil), start(t, ctx, nodes, 1, nil), start(t, ctx, nodes, 2, nil)}
	for i, tr := range trs {
		for j := 0; j < 2; j++ {
			m := next(t, tr, KindConnected)
			if len(m.Payload) != 1 || int(m.Payload[0]) == i {
				t.Fatalf("node %d: hello %v from %s", i, m.Payload, m.From)
			}
		}
	}
	if err := trs[0].Broadcast(KindEnvelope, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	for _, tr := range trs[1:] {
		m := next(t, tr, KindEnvelope)
		if m.From != nodes[0].id() || string(m.Payload) != "hi" {
			t.Fatalf("got %+v", m)
		}
	}
	if err := trs[2].Send(nodes[1].id(), KindGetState, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if m := next(t, trs[1], KindGetState); m.From != nodes[2].id() {
		t.Fatalf("from %s", m.From)
	}
	if err := trs[0].Send(quorum.NodeID{1}, KindEnvelope, nil); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("send to unknown: %v", err)
	}
}

func TestReconnectAfterDisconnect(t *testing.T) {
	ctx := context.Background()
	nodes := newNodes(t, 2)
	a, b := start(t, ctx, nodes, 0, nil), start(t, ctx, nodes, 1, nil)
	next(t, a, KindConnected)
	next(t, b, KindConnected)
	// Whoever dials, closing on either side must lead to a new connection.
	b.Disconnect(nodes[0].id())
	next(t, a, KindConnected)
	next(t, b, KindConnected)
	a.Disconnect(nodes[1].id())
	next(t, b, KindConnected)
	if err := a.Send(nodes[1].id(), KindRecord, []byte("after")); err != nil {
		t.Fatal(err)
	}
	if m := next(t, b, KindRecord); string(m.Payload) != "after" {
		t.Fatalf("got %q", m.Payload)
	}
	if s := b.Stats(); s.Connects < 3 {
		t.Fatalf("connects %d", s.Connects)
	}
}

// waitStat polls a counter until it is positive.
func waitStat(t *testing.T, what string, f func() uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s never counted", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestUnknownPeerRejected(t *testing.T) {
	ctx := context.Background()
	nodes := newNodes(t, 2)
	// The server (node 1) does not list the dialer (node 0).
	srv := start(t, ctx, nodes, 1, func(c *Config) { c.Peers = nil })
	cli := start(t, ctx, nodes, 0, nil)
	waitStat(t, "unknown peer", func() uint64 { return srv.Stats().UnknownPeer })
	if len(cli.Connected()) != 0 || len(srv.Connected()) != 0 {
		t.Fatal("connected to an unlisted peer")
	}
}

func TestWrongNetworkRejected(t *testing.T) {
	ctx := context.Background()
	nodes := newNodes(t, 2)
	srv := start(t, ctx, nodes, 1, nil)
	start(t, ctx, nodes, 0, func(c *Config) { c.Network = consensus.Hash{0xbb} })
	waitStat(t, "wrong network", func() uint64 { return srv.Stats().WrongNetwork })
	if len(srv.Connected()) != 0 {
		t.Fatal("connected across networks")
	}
}

// TestForgedHandshakeRejected: a client claims a listed peer's identity but
// signs with another key.
func TestForgedHandshakeRejected(t *testing.T) {
	ctx := context.Background()
	nodes := newNodes(t, 2)
	srv := start(t, ctx, nodes, 1, nil)
	impostor := &Transport{cfg: Config{Key: key(t, 99), Network: testNet, Listener: listen(t), Rand: seededRand(5)}}
	impostor.cfg.validate()
	impostor.id = nodes[0].id() // claims node 0, holds another key
	impostor.peers = map[quorum.NodeID]*peer{nodes[1].id(): {}}
	nc, err := net.Dial("tcp", nodes[1].ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	want := nodes[1].id()
	_, err = impostor.handshake(nc, &want)
	if err == nil {
		// Our side completed; the server must still refuse and hang up.
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, rerr := nc.Read(make([]byte, 1)); rerr == nil {
			t.Fatal("server kept a forged connection open")
		}
	}
	waitStat(t, "bad handshake", func() uint64 { return srv.Stats().BadHandshake })
	if len(srv.Connected()) != 0 {
		t.Fatal("forged identity accepted")
	}
}

// dialRaw completes a genuine handshake as nodes[i] with nodes[j] and
// returns the raw connection.
func dialRaw(t *testing.T, nodes []node, i, j int) net.Conn {
	t.Helper()
	c := &Transport{cfg: Config{Key: nodes[i].key, Network: testNet, Listener: nodes[i].ln, Rand: seededRand(7)}}
	c.cfg.validate()
	c.id = nodes[i].id()
	c.peers = map[quorum.NodeID]*peer{nodes[j].id(): {}}
	nc, err := net.Dial("tcp", nodes[j].ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	want := nodes[j].id()
	if _, err := c.handshake(nc, &want); err != nil {
		t.Fatal(err)
	}
	return nc
}

func TestOversizeFrameRejected(t *testing.T) {
	ctx := context.Background()
	nodes := newNodes(t, 2)
	srv := start(t, ctx, nodes, 1, func(c *Config) { c.MaxFrameSize = 1024 })
	nc := dialRaw(t, nodes, 0, 1)
	defer nc.Close()
	next(t, srv, KindConnected)
	// A frame within the limit is delivered...
	nc.Write(appendFrame(nil, KindEnvelope, bytes.Repeat([]byte{1}, 1000)))
	next(t, srv, KindEnvelope)
	// ...one announcing 1 GiB is refused before it is read.
	var hdr [5]byte
	binary.BigEndian.PutUint32(hdr[:], 1<<30)
	hdr[4] = byte(KindEnvelope)
	nc.Write(hdr[:])
	waitStat(t, "oversize", func() uint64 { return srv.Stats().Oversize })
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(nc)
	for {
		if _, err := r.ReadByte(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("server kept the connection after an oversize frame")
			}
			break
		}
	}
	// And the sender side refuses to queue one.
	if err := srv.Send(nodes[0].id(), KindEnvelope, make([]byte, 2000)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("send oversize: %v", err)
	}
}

func TestQueueDropsOldest(t *testing.T) {
	p := &peer{limit: 3, wake: make(chan struct{}, 1)}
	dropped := 0
	for i := 0; i < 5; i++ {
		if p.push([]byte{byte(i)}) {
			dropped++
		}
	}
	q := p.take()
	if dropped != 2 || len(q) != 3 || q[0][0] != 2 || q[2][0] != 4 {
		t.Fatalf("dropped %d queue %v", dropped, q)
	}
}

func TestBackoffBounds(t *testing.T) {
	tr := &Transport{cfg: Config{MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second, Rand: seededRand(1)}}
	for n := 0; n < 20; n++ {
		want := min(100*time.Millisecond<<min(n, 10), 2*time.Second)
		for i := 0; i < 20; i++ {
			d := tr.backoff(n)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: %v not in [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

func TestCloseIsClean(t *testing.T) {
	ctx := context.Background()
	nodes := newNodes(t, 3)
	trs := []*Transport{start(t, ctx, nodes, 0, nil), start(t, ctx, nodes, 1, nil)}
	// node 2 never starts: node 0 and 1 keep dialing it.
	next(t, trs[0], KindConnected)
	nodes[2].ln.Close()
	// A connection stuck in a handshake must not delay Close.
	nc, err := net.Dial("tcp", nodes[0].ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	begin := time.Now()
	for _, tr := range trs {
		tr.Close()
	}
	if d := time.Since(begin); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	if _, ok := <-trs[0].Inbound(); ok {
		// drain: buffered messages may remain, then the channel is closed
		for range trs[0].Inbound() {
		}
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	k := key(t, 3)
	path := filepath.Join(dir, "key.pem")
	if err := WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyFile(path, k); err == nil {
		t.Fatal("overwrote a key file")
	}
	got, err := ReadKeyFile(path)
	if err != nil || !got.Equal(k) {
		t.Fatalf("read back: %v", err)
	}
	hexPath := filepath.Join(dir, "key.hex")
	os.WriteFile(hexPath, []byte(hexString(k.Seed())+"\n"), 0o600)
	if got, err := ReadKeyFile(hexPath); err != nil || !got.Equal(k) {
		t.Fatalf("hex seed: %v", err)
	}
	os.Chmod(hexPath, 0o644)
	if _, err := ReadKeyFile(hexPath); !errors.Is(err, ErrBadKeyFile) {
		t.Fatalf("world-readable key: %v", err)
	}
	if _, err := ParseKey([]byte("zz")); !errors.Is(err, ErrBadKeyFile) {
		t.Fatalf("garbage: %v", err)
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
