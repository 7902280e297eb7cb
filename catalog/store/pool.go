package store

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"
)

// pool is a small pool of connections to the metadata database.
//
// It stands in for pgxpool, which needs github.com/jackc/puddle/v2, a module
// this repository does not depend on. The store's needs are small — a
// version check per statement at most, a load after each catalog change,
// rare mutations — so a semaphore bounding open connections and a stack of
// idle ones is enough: no health checks, lifetimes or background
// goroutines.
type pool struct {
	cfg *pgx.ConnConfig
	sem chan struct{} // one token per open or opening connection

	mu     sync.Mutex
	idle   []*pgx.Conn
	closed bool
}

// newPool returns a pool of at most size connections made with cfg.
func newPool(cfg *pgx.ConnConfig, size int) *pool {
	return &pool{cfg: cfg, sem: make(chan struct{}, size)}
}

// acquire returns an idle connection (reused is true) or opens one,
// waiting while size connections are in use. The caller must release it.
func (p *pool) acquire(ctx context.Context) (c *pgx.Conn, reused bool, err error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.sem
		return nil, false, ErrClosed
	}
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, true, nil
	}
	p.mu.Unlock()
	c, err = pgx.ConnectConfig(ctx, p.cfg)
	if err != nil {
		<-p.sem
		return nil, false, err
	}
	return c, false, nil
}

// release returns c to the pool, or closes it unless it is open and idle
// (outside a transaction). pgx closes a connection itself when a failure
// leaves it in an unknown state (a network error, a cancelled context), so
// an open idle connection is a sound one.
func (p *pool) release(c *pgx.Conn) {
	defer func() { <-p.sem }()
	reusable := !c.IsClosed() && c.PgConn().TxStatus() == 'I'
	p.mu.Lock()
	if reusable && !p.closed {
		p.idle = append(p.idle, c)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	closeConn(c)
}

// dropIdle closes the idle connections, when one of them turned out dead:
// the others, opened to the same server, most likely are too.
func (p *pool) dropIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		closeConn(c)
	}
}

// close closes the idle connections and makes later acquires fail;
// connections in use are closed when released.
func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		closeConn(c)
	}
}

// closeConn closes c without waiting long for the server.
func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	c.Close(ctx)
}
