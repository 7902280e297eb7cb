package dtx

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/pgfed/pgfed/catalog"
)

// Pool defaults.
const (
	// DefaultMaxConns is the default cap on connections to one server.
	DefaultMaxConns = 64
	// DefaultMaxConnsPerSession is the default cap on one session's
	// connections to one worker, as citus.max_adaptive_executor_pool_size.
	DefaultMaxConnsPerSession = 16
	// DefaultPingIdle is how long a connection may sit idle before a
	// checkout pings it.
	DefaultPingIdle = time.Second
	// DefaultCancelDeadline is how long a connection whose context was
	// cancelled waits for the server to answer the CancelRequest before
	// the connection is given up.
	DefaultCancelDeadline = 5 * time.Second
)

// closeTimeout bounds the Terminate sent when a connection is closed.
const closeTimeout = time.Second

// PoolConfig configures the connections to the servers of one role
// (workers, or the metadata database).
type PoolConfig struct {
	// ConnConfig is the template of every connection: user, password,
	// database, TLS, runtime parameters. Host and port come from each
	// node (when the node has a host). Required. It is copied; the
	// caller may reuse it.
	ConnConfig *pgconn.Config
	// MaxConns caps the connections open (idle or in use) to one server:
	// a checkout that finds no idle connection and MaxConns in use waits
	// for one. (Only checkouts take slots; a connection is dialled only
	// when none is idle, so idle ones never push the total over the cap.)
	// Default DefaultMaxConns.
	MaxConns int
	// MaxConnsPerSession caps the connections one Session holds to one
	// server at a time; one more fails at once with ErrSessionLimit.
	// Default DefaultMaxConnsPerSession.
	MaxConnsPerSession int
	// PingIdle: a checkout pings a connection idle for longer than this;
	// one used more recently is only checked for being open and idle.
	// Default DefaultPingIdle.
	PingIdle time.Duration
	// CancelDeadline: when a statement's context is cancelled a
	// CancelRequest goes to the server, and if the server has not
	// answered after CancelDeadline the connection is given up. Default
	// DefaultCancelDeadline.
	CancelDeadline time.Duration
	// Logger receives the pools' log; nil means none.
	Logger hclog.Logger
}

// withDefaults returns cfg with zero fields set to their defaults.
func (cfg PoolConfig) withDefaults() (PoolConfig, error) {
	if cfg.ConnConfig == nil {
		return cfg, fmt.Errorf("dtx: PoolConfig.ConnConfig is required")
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxConnsPerSession <= 0 {
		cfg.MaxConnsPerSession = DefaultMaxConnsPerSession
	}
	if cfg.PingIdle <= 0 {
		cfg.PingIdle = DefaultPingIdle
	}
	if cfg.CancelDeadline <= 0 {
		cfg.CancelDeadline = DefaultCancelDeadline
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	return cfg, nil
}

// Pool holds the connections to one server. Connections are dialled on
// demand, reused while healthy, and closed when they break; a server that
// comes back is simply dialled again. It is safe for concurrent use.
type Pool struct {
	node     catalog.Node                 // its ID and address never change
	current  atomic.Pointer[catalog.Node] // node, as the catalog last described it (organization, role)
	connCfg  *pgconn.Config
	pingIdle time.Duration
	log      hclog.Logger
	sem      chan struct{} // one token per open or opening connection

	mu     sync.Mutex
	idle   []*Conn // most recently used last
	closed bool
}

// NewPool returns a pool of connections to node (its Host and Port replace
// those of cfg.ConnConfig when Host is set). No connection is opened yet.
func NewPool(cfg PoolConfig, node catalog.Node) (*Pool, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cc := cfg.ConnConfig.Copy()
	if node.Host != "" {
		cc.Host, cc.Port, cc.Fallbacks = node.Host, uint16(node.Port), nil
	} else {
		node.Host, node.Port = cc.Host, int(cc.Port)
	}
	deadline := cfg.CancelDeadline
	cc.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: deadline}
	}
	p := &Pool{
		node:     node,
		connCfg:  cc,
		pingIdle: cfg.PingIdle,
		log:      cfg.Logger.With("worker", node.ID),
		sem:      make(chan struct{}, cfg.MaxConns),
	}
	p.current.Store(&node)
	return p, nil
}

// Node returns the server the pool connects to, as the catalog last
// described it (Pools.SetNodes keeps a pool whose address did not change
// and updates the rest: its organization, say).
func (p *Pool) Node() catalog.Node { return *p.current.Load() }

// Acquire returns a healthy connection outside any transaction, idle or
// newly dialled, waiting while MaxConns are in use. The caller must Release
// (or Discard) it.
func (p *Pool) Acquire(ctx context.Context) (*Conn, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, p.errorf("connect", fmt.Errorf("waiting for a free connection slot: %w", ctx.Err()))
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			<-p.sem
			return nil, p.errorf("connect", ErrClosed)
		}
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if c.healthy(ctx, p.pingIdle) {
			c.fresh = false
			return c, nil
		}
		p.log.Debug("dropped a broken idle connection", "pid", c.pg.PID())
		c.close()
	}
	pg, err := pgconn.ConnectConfig(ctx, p.connCfg)
	if err != nil {
		<-p.sem
		return nil, p.errorf("connect", err)
	}
	return &Conn{pg: pg, pool: p, fresh: true}, nil
}

// errorf wraps err as the failure of op on this pool's server.
func (p *Pool) errorf(op string, err error) *Error {
	return &Error{Op: op, Node: p.node.ID, Addr: p.node.Addr(), Err: err}
}

// put takes back a connection: kept when open, idle (outside a
// transaction) and the pool is open, closed otherwise.
func (p *Pool) put(c *Conn) {
	reusable := !c.pg.IsClosed() && !c.pg.IsBusy() && c.pg.TxStatus() == 'I'
	p.mu.Lock()
	if reusable && !p.closed {
		c.idleSince = time.Now()
		p.idle = append(p.idle, c)
		p.mu.Unlock()
		<-p.sem
		return
	}
	p.mu.Unlock()
	c.close()
	<-p.sem
}

// Close closes the idle connections and makes later checkouts fail with
// ErrClosed; connections in use are closed when released.
func (p *Pool) Close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// Conn is a connection checked out of a Pool.
type Conn struct {
	pg        *pgconn.PgConn
	pool      *Pool
	session   *Session // nil when not checked out through a Session
	idleSince time.Time
	fresh     bool // dialled by this checkout, not reused
}

// PgConn returns the underlying connection. It stays valid until Release.
func (c *Conn) PgConn() *pgconn.PgConn { return c.pg }

// Node returns the server the connection is to.
func (c *Conn) Node() catalog.Node { return c.pool.Node() }

// Release gives the connection back: it is reused when it is healthy and
// outside a transaction, closed otherwise.
func (c *Conn) Release() {
	if c.session != nil {
		c.session.release(c.pool.node.ID)
		c.session = nil
	}
	c.pool.put(c)
}

// Discard closes the connection and frees its slot.
func (c *Conn) Discard() {
	c.close()
	c.Release()
}

// healthy is the checkout check: the connection is open, idle, outside a
// transaction, and, if it sat idle longer than pingIdle, answers a ping.
func (c *Conn) healthy(ctx context.Context, pingIdle time.Duration) bool {
	if c.pg.IsClosed() || c.pg.IsBusy() || c.pg.TxStatus() != 'I' {
		return false
	}
	if time.Since(c.idleSince) <= pingIdle {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return c.pg.Ping(ctx) == nil
}

// close closes the connection, sending Terminate if it can within
// closeTimeout.
func (c *Conn) close() {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	c.pg.Close(ctx)
}

// Pools are the connection pools to the workers, by node id, shared by all
// sessions of a coordinator. It is safe for concurrent use.
type Pools struct {
	cfg PoolConfig
	log hclog.Logger

	mu     sync.Mutex
	pools  map[int32]*Pool
	closed bool
}

// NewPools returns pools for nodes, built with cfg.
func NewPools(cfg PoolConfig, nodes []catalog.Node) (*Pools, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ps := &Pools{cfg: cfg, log: cfg.Logger.Named("pools"), pools: make(map[int32]*Pool)}
	if err := ps.SetNodes(nodes); err != nil {
		return nil, err
	}
	return ps, nil
}

// SetNodes makes nodes the set of workers: pools of new nodes are added,
// pools of nodes gone or moved to another address are closed (their
// connections in use close when released).
func (ps *Pools) SetNodes(nodes []catalog.Node) error {
	fresh := make(map[int32]*Pool, len(nodes))
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.closed {
		return ErrClosed
	}
	for _, n := range nodes {
		if old, ok := ps.pools[n.ID]; ok && old.node.Addr() == n.Addr() {
			fresh[n.ID] = old // same address: keep its connections
			if n.Host == "" {
				n.Host, n.Port = old.node.Host, old.node.Port
			}
			old.current.Store(&n)
			continue
		}
		p, err := NewPool(ps.cfg, n)
		if err != nil {
			return err
		}
		p.log = ps.log.With("worker", n.ID)
		fresh[n.ID] = p
	}
	for id, p := range ps.pools {
		if fresh[id] != p {
			p.Close()
		}
	}
	ps.pools = fresh
	return nil
}

// Nodes returns the workers, by node id.
func (ps *Pools) Nodes() []catalog.Node {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	nodes := make([]catalog.Node, 0, len(ps.pools))
	for _, p := range ps.pools {
		nodes = append(nodes, p.Node())
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID < nodes[j].ID })
	return nodes
}

// Pool returns the pool of a node.
func (ps *Pools) Pool(nodeID int32) (*Pool, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.closed {
		return nil, &Error{Op: "connect", Node: nodeID, Err: ErrClosed}
	}
	p, ok := ps.pools[nodeID]
	if !ok {
		return nil, &Error{Op: "connect", Node: nodeID, Addr: "?", Err: ErrUnknownNode}
	}
	return p, nil
}

// Acquire checks out a connection to a node, outside any session limit
// (for the coordinator's own work: recovery, deadlock detection).
func (ps *Pools) Acquire(ctx context.Context, nodeID int32) (*Conn, error) {
	p, err := ps.Pool(nodeID)
	if err != nil {
		return nil, err
	}
	return p.Acquire(ctx)
}

// NewSession returns a Session, the per-client view of the pools that
// enforces MaxConnsPerSession.
func (ps *Pools) NewSession() *Session {
	return &Session{pools: ps, held: make(map[int32]int)}
}

// Close closes every pool.
func (ps *Pools) Close() {
	ps.mu.Lock()
	pools := ps.pools
	ps.pools, ps.closed = nil, true
	ps.mu.Unlock()
	for _, p := range pools {
		p.Close()
	}
}

// Session counts the connections one client session holds, per worker. It
// is safe for concurrent use.
type Session struct {
	pools *Pools
	mu    sync.Mutex
	held  map[int32]int
}

// Acquire checks out a connection to a node for the session. It fails at
// once with ErrSessionLimit (53300) when the session already holds
// MaxConnsPerSession connections to that node.
func (s *Session) Acquire(ctx context.Context, nodeID int32) (*Conn, error) {
	p, err := s.pools.Pool(nodeID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.held[nodeID] >= s.pools.cfg.MaxConnsPerSession {
		s.mu.Unlock()
		return nil, p.errorf("connect", fmt.Errorf("%w (limit %d)", ErrSessionLimit, s.pools.cfg.MaxConnsPerSession))
	}
	s.held[nodeID]++
	s.mu.Unlock()
	c, err := p.Acquire(ctx)
	if err != nil {
		s.release(nodeID)
		return nil, err
	}
	c.session = s
	return c, nil
}

// release forgets one connection of the session to a node.
func (s *Session) release(nodeID int32) {
	s.mu.Lock()
	s.held[nodeID]--
	if s.held[nodeID] <= 0 {
		delete(s.held, nodeID)
	}
	s.mu.Unlock()
}
