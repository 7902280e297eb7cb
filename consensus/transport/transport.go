package transport

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pgfed/pgfed/consensus"
	"github.com/pgfed/pgfed/consensus/quorum"
)

// Peer is a validator this node talks to.
type Peer struct {
	// ID is the peer's public key.
	ID quorum.NodeID
	// Addr is its host:port. Only the node with the lower id dials, so the
	// address of a peer with a lower id than ours may be empty.
	Addr string
}

// DialFunc opens a connection to a peer (tests inject failures with it).
type DialFunc func(ctx context.Context, peer quorum.NodeID, addr string) (net.Conn, error)

// Config configures a Transport.
type Config struct {
	// Key is the node's private key; its public key is the node id.
	Key ed25519.PrivateKey
	// Network is the network id (bound into the handshake).
	Network consensus.Hash
	// Listener accepts peers' connections; Start closes it on Close. If nil,
	// Start listens on ListenAddr.
	Listener   net.Listener
	ListenAddr string
	// Peers lists the only nodes accepted.
	Peers []Peer
	// Hello is announced to every peer at the handshake (at most MaxHello
	// bytes) and delivered with its KindConnected event.
	Hello []byte
	// MaxFrameSize bounds frames sent and received (default
	// DefaultMaxFrameSize). A peer sending a larger frame is disconnected.
	MaxFrameSize int
	// QueueSize bounds each peer's send queue in frames (default 1024);
	// when full the oldest frame is dropped (the validator rebroadcasts).
	QueueSize int
	// InboundSize is the capacity of the Inbound channel (default 1024).
	InboundSize int
	// HandshakeTimeout (default 5s), WriteTimeout (10s), IdleTimeout (30s:
	// a connection silent that long is closed; pings every third of it keep
	// healthy ones alive).
	HandshakeTimeout, WriteTimeout, IdleTimeout time.Duration
	// MinBackoff and MaxBackoff bound the delay between dial attempts
	// (default 100ms and 5s); the delay doubles per failure, with jitter.
	MinBackoff, MaxBackoff time.Duration
	// Rand is the source of handshake nonces and backoff jitter (default
	// crypto/rand.Reader).
	Rand io.Reader
	// Dial opens connections (default a net.Dialer).
	Dial DialFunc
	// Logger (nil: no logging).
	Logger hclog.Logger
}

func (c *Config) validate() error {
	if len(c.Key) != ed25519.PrivateKeySize {
		return errors.New("transport: Config.Key is not an Ed25519 private key")
	}
	if c.Listener == nil && c.ListenAddr == "" {
		return errors.New("transport: Config.Listener or ListenAddr is required")
	}
	if len(c.Hello) > MaxHello {
		return fmt.Errorf("transport: hello of %d bytes exceeds %d", len(c.Hello), MaxHello)
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.HandshakeTimeout, 5*time.Second)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.IdleTimeout, 30*time.Second)
	def(&c.MinBackoff, 100*time.Millisecond)
	def(&c.MaxBackoff, 5*time.Second)
	if c.MaxFrameSize <= 0 {
		c.MaxFrameSize = DefaultMaxFrameSize
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 1024
	}
	if c.InboundSize <= 0 {
		c.InboundSize = 1024
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Dial == nil {
		c.Dial = func(ctx context.Context, _ quorum.NodeID, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	return nil
}

// Message is a frame received from an authenticated peer, or a local event
// (KindConnected).
type Message struct {
	From    quorum.NodeID
	Kind    Kind
	Payload []byte
}

// Stats counts what the transport did, since Start.
type Stats struct {
	// FramesSent and FramesReceived count application frames.
	FramesSent, FramesReceived uint64
	// BytesSent counts bytes written, frame headers and pings included.
	BytesSent uint64
	// Dropped counts frames dropped from full send queues.
	Dropped uint64
	// Connects counts completed handshakes; Disconnects closed connections.
	Connects, Disconnects uint64
	// Rejected handshakes by cause.
	UnknownPeer, WrongNetwork, BadHandshake uint64
	// Oversize counts peers disconnected for sending an oversize frame.
	Oversize uint64
}

type counters struct {
	framesSent, framesReceived, bytesSent, dropped, connects, disconnects atomic.Uint64
	unknownPeer, wrongNetwork, badHandshake, oversize                     atomic.Uint64
}

// Transport connects a validator to its peers. See the package
// documentation.
type Transport struct {
	cfg    Config
	id     quorum.NodeID
	log    hclog.Logger
	ln     net.Listener
	peers  map[quorum.NodeID]*peer
	in     chan Message
	cancel context.CancelFunc
	wg     sync.WaitGroup
	stats  counters

	randMu sync.Mutex

	closeOnce sync.Once
}

// Start listens, starts dialing the peers with a higher id than ours and
// accepting the others, and returns. Everything stops when ctx is done or
// Close is called; Close waits for it.
func Start(ctx context.Context, cfg Config) (*Transport, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	t := &Transport{cfg: cfg, id: NodeID(cfg.Key), peers: map[quorum.NodeID]*peer{}}
	t.log = cfg.Logger.Named("transport").With("node", t.id.String())
	for _, p := range cfg.Peers {
		if p.ID == t.id {
			continue
		}
		if _, dup := t.peers[p.ID]; dup {
			return nil, fmt.Errorf("transport: peer %s listed twice", p.ID.Strkey())
		}
		t.peers[p.ID] = &peer{id: p.ID, addr: p.Addr, wake: make(chan struct{}, 1), limit: cfg.QueueSize}
	}
	t.ln = cfg.Listener
	if t.ln == nil {
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", cfg.ListenAddr)
		if err != nil {
			return nil, fmt.Errorf("transport: listen: %w", err)
		}
		t.ln = ln
	}
	t.in = make(chan Message, cfg.InboundSize)
	ctx, t.cancel = context.WithCancel(ctx)
	t.wg.Add(1)
	go t.acceptLoop(ctx)
	for _, p := range t.peers {
		if t.id.Less(p.id) && p.addr != "" {
			t.wg.Add(1)
			go t.dialLoop(ctx, p)
		}
	}
	// Stop accepting when ctx ends even without Close.
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		<-ctx.Done()
		t.ln.Close()
		for _, p := range t.peers {
			p.disconnect()
		}
	}()
	return t, nil
}

// ID is the local node id.
func (t *Transport) ID() quorum.NodeID { return t.id }

// Addr is the address the transport listens on.
func (t *Transport) Addr() net.Addr { return t.ln.Addr() }

// Inbound delivers frames from peers and KindConnected events. It is closed
// once Close has stopped every goroutine.
func (t *Transport) Inbound() <-chan Message { return t.in }

// Close stops dialing and accepting, closes every connection, waits for
// every goroutine and closes Inbound.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		t.cancel()
		t.wg.Wait()
		close(t.in)
	})
	return nil
}

// Send queues a frame for peer. A full queue drops its oldest frame.
func (t *Transport) Send(to quorum.NodeID, k Kind, payload []byte) error {
	p := t.peers[to]
	if p == nil {
		return fmt.Errorf("%w: %s", ErrUnknownPeer, to.Strkey())
	}
	if 1+len(payload) > t.cfg.MaxFrameSize {
		return fmt.Errorf("%w: %s to %s: %d bytes exceed %d", ErrFrameTooLarge, k, to, 1+len(payload), t.cfg.MaxFrameSize)
	}
	if p.push(appendFrame(nil, k, payload)) {
		t.stats.dropped.Add(1)
	}
	return nil
}

// Broadcast queues a frame for every peer.
func (t *Transport) Broadcast(k Kind, payload []byte) error {
	if 1+len(payload) > t.cfg.MaxFrameSize {
		return fmt.Errorf("%w: %s: %d bytes exceed %d", ErrFrameTooLarge, k, 1+len(payload), t.cfg.MaxFrameSize)
	}
	f := appendFrame(nil, k, payload)
	for _, p := range t.peers {
		if p.push(f) {
			t.stats.dropped.Add(1)
		}
	}
	return nil
}

// Connected lists the peers with a live connection, in id order.
func (t *Transport) Connected() []quorum.NodeID {
	var out []quorum.NodeID
	for id, p := range t.peers {
		if p.connected() {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b quorum.NodeID) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// Disconnect closes the connection to peer, if any (the dialing side
// reconnects after its backoff).
func (t *Transport) Disconnect(id quorum.NodeID) {
	if p := t.peers[id]; p != nil {
		p.disconnect()
	}
}

// Stats returns the counters.
func (t *Transport) Stats() Stats {
	s := &t.stats
	return Stats{
		FramesSent: s.framesSent.Load(), FramesReceived: s.framesReceived.Load(), BytesSent: s.bytesSent.Load(),
		Dropped: s.dropped.Load(), Connects: s.connects.Load(), Disconnects: s.disconnects.Load(),
		UnknownPeer: s.unknownPeer.Load(), WrongNetwork: s.wrongNetwork.Load(), BadHandshake: s.badHandshake.Load(),
		Oversize: s.oversize.Load(),
	}
}

func (t *Transport) random(b []byte) error {
	t.randMu.Lock()
	defer t.randMu.Unlock()
	if _, err := io.ReadFull(t.cfg.Rand, b); err != nil {
		return fmt.Errorf("transport: random: %w", err)
	}
	return nil
}

// backoff is the delay before dial attempt n (0-based): d = min(max,
// min·2^n), then "equal jitter": d/2 plus a random part of d/2.
func (t *Transport) backoff(n int) time.Duration {
	d := t.cfg.MinBackoff
	for i := 0; i < n && d < t.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, t.cfg.MaxBackoff)
	var b [8]byte
	if t.random(b[:]) != nil {
		return d
	}
	half := d / 2
	return half + time.Duration(binary.BigEndian.Uint64(b[:])%uint64(half+1))
}

func sleep(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

func (t *Transport) acceptLoop(ctx context.Context) {
	defer t.wg.Done()
	for {
		nc, err := t.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			t.log.Warn("accept failed", "err", err)
			if !sleep(ctx, 50*time.Millisecond) {
				return
			}
			continue
		}
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			stop := context.AfterFunc(ctx, func() { nc.Close() })
			res, err := t.handshake(nc, nil)
			stop()
			if err != nil {
				t.rejected(nc.RemoteAddr().String(), err)
				nc.Close()
				return
			}
			t.attach(ctx, t.peers[res.peer], nc, res)
		}()
	}
}

// rejected counts and logs a failed handshake.
func (t *Transport) rejected(remote string, err error) {
	switch {
	case errors.Is(err, ErrUnknownPeer), errors.Is(err, ErrUnexpectedKey):
		t.stats.unknownPeer.Add(1)
	case errors.Is(err, ErrWrongNetwork):
		t.stats.wrongNetwork.Add(1)
	default:
		t.stats.badHandshake.Add(1)
	}
	t.log.Warn("handshake rejected", "remote", remote, "err", err)
}

// dialLoop keeps a connection to p open, redialing with backoff.
func (t *Transport) dialLoop(ctx context.Context, p *peer) {
	defer t.wg.Done()
	failures := 0
	for ctx.Err() == nil {
		c, err := t.connect(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			t.log.Debug("dial failed", "peer", p.id.String(), "addr", p.addr, "attempt", failures+1, "err", err)
			if !sleep(ctx, t.backoff(failures)) {
				return
			}
			failures++
			continue
		}
		failures = 0
		select {
		case <-ctx.Done():
			return
		case <-c.done:
		}
		if !sleep(ctx, t.backoff(0)) {
			return
		}
	}
}

func (t *Transport) connect(ctx context.Context, p *peer) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, t.cfg.HandshakeTimeout)
	nc, err := t.cfg.Dial(dctx, p.id, p.addr)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("transport: dial %s at %s: %w", p.id, p.addr, err)
	}
	want := p.id
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	res, err := t.handshake(nc, &want)
	stop()
	if err != nil {
		nc.Close()
		t.rejected(p.addr, err)
		return nil, fmt.Errorf("transport: handshake with %s at %s: %w", p.id, p.addr, err)
	}
	return t.attach(ctx, p, nc, res), nil
}
