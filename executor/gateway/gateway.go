package gateway

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// Gateway relays coordinators' connections to the organization's workers,
// one listener per worker (see doc.go).
type Gateway struct {
	cfg    Config
	org    string
	policy Policy
	cache  verdictCache
	log    hclog.Logger
	lns    []net.Listener

	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed sync.Once

	mu    sync.Mutex
	conns map[*conn]struct{}
	next  uint64
}

// Start listens on every route and serves until Close or ctx ends.
func Start(ctx context.Context, cfg Config) (*Gateway, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	g := &Gateway{cfg: cfg, org: cfg.Keeper.Org(), policy: NewPolicy(cfg.AllowedTables), conns: map[*conn]struct{}{}}
	g.log = cfg.Logger.Named("gateway").With("org", g.org)
	for _, r := range cfg.Routes {
		ln := r.Listener
		if ln == nil {
			var err error
			if ln, err = net.Listen("tcp", r.Listen); err != nil {
				for _, l := range g.lns {
					l.Close()
				}
				return nil, fmt.Errorf("gateway: worker %s: %w", r.Worker, err)
			}
		}
		g.lns = append(g.lns, ln)
	}
	ctx, g.cancel = context.WithCancel(ctx)
	for i, ln := range g.lns {
		r := cfg.Routes[i]
		g.wg.Add(1)
		go func() { defer g.wg.Done(); g.serve(ctx, ln, r) }()
		g.log.Info("gateway listening", "worker", r.Worker, "listen", ln.Addr().String(), "addr", r.Addr)
	}
	g.wg.Add(1)
	go func() { defer g.wg.Done(); <-ctx.Done(); g.shutdown() }()
	return g, nil
}

// Addrs are the listeners' addresses, in the order of Config.Routes.
func (g *Gateway) Addrs() []string {
	out := make([]string, len(g.lns))
	for i, ln := range g.lns {
		out[i] = ln.Addr().String()
	}
	return out
}

// Close stops listening, closes every relayed connection and waits for
// their goroutines.
func (g *Gateway) Close() error {
	g.closed.Do(func() {
		g.cancel()
		g.wg.Wait()
	})
	return nil
}

// shutdown closes the listeners and the connections (ctx ended).
func (g *Gateway) shutdown() {
	for _, ln := range g.lns {
		ln.Close()
	}
	g.mu.Lock()
	for c := range g.conns {
		c.close()
	}
	g.mu.Unlock()
}

func (g *Gateway) serve(ctx context.Context, ln net.Listener, r Route) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				g.log.Error("accept failed; route stopped", "worker", r.Worker, "err", err)
			}
			return
		}
		g.mu.Lock()
		if ctx.Err() != nil {
			g.mu.Unlock()
			nc.Close()
			return
		}
		g.next++
		c := newConn(g, r, nc, g.next)
		g.conns[c] = struct{}{}
		g.wg.Add(1)
		g.mu.Unlock()
		go func() {
			defer g.wg.Done()
			c.run(ctx)
			g.mu.Lock()
			delete(g.conns, c)
			g.mu.Unlock()
		}()
	}
}
