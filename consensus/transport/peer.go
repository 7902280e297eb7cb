package transport

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/pgfed/pgfed/consensus/quorum"
)

// peer is one configured peer: its bounded send queue and its current
// connection (at most one; a new one replaces the old).
type peer struct {
	id    quorum.NodeID
	addr  string
	limit int
	wake  chan struct{} // capacity 1: the queue gained frames

	mu    sync.Mutex
	queue [][]byte // framed, oldest first
	cur   *conn
}

// push queues a frame and reports whether the oldest one was dropped.
func (p *peer) push(f []byte) (dropped bool) {
	p.mu.Lock()
	if len(p.queue) >= p.limit {
		p.queue[0] = nil
		p.queue = p.queue[1:]
		dropped = true
	}
	p.queue = append(p.queue, f)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return dropped
}

// take removes and returns every queued frame.
func (p *peer) take() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.queue
	p.queue = nil
	return q
}

func (p *peer) connected() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur != nil
}

func (p *peer) disconnect() {
	p.mu.Lock()
	c := p.cur
	p.mu.Unlock()
	if c != nil {
		c.close()
	}
}

// conn is one authenticated connection to a peer.
type conn struct {
	nc   net.Conn
	r    *bufio.Reader
	done chan struct{}
	once sync.Once
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		c.nc.Close()
	})
}

// attach makes nc the peer's connection, closing the previous one, starts
// its reader and writer, and announces it on Inbound.
func (t *Transport) attach(ctx context.Context, p *peer, nc net.Conn, res *handshakeResult) *conn {
	c := &conn{nc: nc, r: res.r, done: make(chan struct{})}
	p.mu.Lock()
	old := p.cur
	p.cur = c
	p.mu.Unlock()
	if old != nil {
		old.close()
	}
	if ctx.Err() != nil {
		c.close()
		return c
	}
	t.stats.connects.Add(1)
	t.log.Info("peer connected", "peer", p.id.String(), "remote", nc.RemoteAddr().String())
	t.wg.Add(2)
	go t.readLoop(ctx, p, c, res.hello)
	go t.writeLoop(ctx, p, c)
	return c
}

func (t *Transport) detach(p *peer, c *conn, err error) {
	c.close()
	p.mu.Lock()
	mine := p.cur == c
	if mine {
		p.cur = nil
	}
	p.mu.Unlock()
	if mine {
		t.stats.disconnects.Add(1)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
			t.log.Info("peer disconnected", "peer", p.id.String(), "err", err)
		} else {
			t.log.Debug("peer disconnected", "peer", p.id.String())
		}
	}
}

func (t *Transport) deliver(ctx context.Context, c *conn, m Message) bool {
	select {
	case t.in <- m:
		return true
	case <-c.done:
	case <-ctx.Done():
	}
	return false
}

func (t *Transport) readLoop(ctx context.Context, p *peer, c *conn, hello []byte) {
	defer t.wg.Done()
	if !t.deliver(ctx, c, Message{From: p.id, Kind: KindConnected, Payload: hello}) {
		t.detach(p, c, nil)
		return
	}
	for {
		if err := c.nc.SetReadDeadline(time.Now().Add(t.cfg.IdleTimeout)); err != nil {
			t.detach(p, c, err)
			return
		}
		k, payload, err := readFrame(c.r, t.cfg.MaxFrameSize)
		if err != nil {
			if errors.Is(err, ErrFrameTooLarge) {
				t.stats.oversize.Add(1)
				t.log.Warn("oversize frame, disconnecting", "peer", p.id.String(), "err", err)
			}
			t.detach(p, c, err)
			return
		}
		switch k {
		case kindPing:
			continue
		case KindConnected, kindHello, kindAuth:
			t.log.Warn("unexpected frame, disconnecting", "peer", p.id.String(), "kind", k.String())
			t.detach(p, c, nil)
			return
		}
		t.stats.framesReceived.Add(1)
		if !t.deliver(ctx, c, Message{From: p.id, Kind: k, Payload: payload}) {
			t.detach(p, c, nil)
			return
		}
	}
}

func (t *Transport) writeLoop(ctx context.Context, p *peer, c *conn) {
	defer t.wg.Done()
	w := bufio.NewWriterSize(c.nc, 64<<10)
	ping := time.NewTicker(t.cfg.IdleTimeout / 3)
	defer ping.Stop()
	pingFrame := appendFrame(nil, kindPing, nil)
	write := func(frames [][]byte, app bool) bool {
		if err := c.nc.SetWriteDeadline(time.Now().Add(t.cfg.WriteTimeout)); err != nil {
			t.detach(p, c, err)
			return false
		}
		for _, f := range frames {
			if _, err := w.Write(f); err != nil {
				t.detach(p, c, err)
				return false
			}
			t.stats.bytesSent.Add(uint64(len(f)))
			if app {
				t.stats.framesSent.Add(1)
			}
		}
		if err := w.Flush(); err != nil {
			t.detach(p, c, err)
			return false
		}
		return true
	}
	for {
		if frames := p.take(); len(frames) > 0 {
			if !write(frames, true) {
				return
			}
			ping.Reset(t.cfg.IdleTimeout / 3)
			continue
		}
		select {
		case <-ctx.Done():
			t.detach(p, c, nil)
			return
		case <-c.done:
			t.detach(p, c, nil)
			return
		case <-p.wake:
		case <-ping.C:
			if !write([][]byte{pingFrame}, false) {
				return
			}
		}
	}
}
