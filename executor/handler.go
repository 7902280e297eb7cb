package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/catalog/store"
	"github.com/pgfed/pgfed/executor/dtx"
	"github.com/pgfed/pgfed/wire"
)

// Defaults of Config.
const (
	// DefaultCoordinatorID names the coordinator in 2PC gids.
	DefaultCoordinatorID = "coordinator"
	// DefaultRecoveryInterval is how often prepared transactions left in
	// doubt are settled.
	DefaultRecoveryInterval = 5 * time.Second
	// DefaultPlanCacheSize bounds the plan cache.
	DefaultPlanCacheSize = 4096
	// DefaultMaxIntermediateRows bounds an intermediate result's rows (the
	// pgfed.max_intermediate_rows setting overrides it per session).
	DefaultMaxIntermediateRows = 10_000_000
	// DefaultMaxIntermediateBytes bounds an intermediate result's bytes
	// (citus.max_intermediate_result_size, in kB, overrides it per session).
	DefaultMaxIntermediateBytes = 1 << 30
)

// Config configures a Handler.
type Config struct {
	// Metadata is the connection string of the metadata database server
	// (keyword/value or URL, as libpq takes it): host, port, user,
	// password, sslmode... The client's user and database, and its other
	// startup parameters (application_name, options, DateStyle,
	// client_encoding, ...), override it for each session. The catalog
	// lives in the database it names.
	Metadata string
	// Workers is the template connection string of the worker
	// connections (user, password, database, sslmode); each worker's host
	// and port come from the catalog. "" means the Metadata settings.
	Workers string
	// CoordinatorID names this coordinator in 2PC gids (1 to 40 letters,
	// digits or hyphens). Default DefaultCoordinatorID.
	CoordinatorID string
	// RecoveryInterval: see DefaultRecoveryInterval.
	RecoveryInterval time.Duration
	// DeadlockInterval is how often distributed deadlocks are looked for.
	// Default dtx.DefaultDeadlockInterval.
	DeadlockInterval time.Duration
	// PlanCacheSize: see DefaultPlanCacheSize; negative disables it.
	PlanCacheSize int
	// MaxIntermediateRows: see DefaultMaxIntermediateRows.
	MaxIntermediateRows int64
	// MaxIntermediateBytes: see DefaultMaxIntermediateBytes.
	MaxIntermediateBytes int64
	// Federation, when set, has the organizations' validators decide the
	// transactions that write on several workers, one of them an
	// organization's (see dtx.Federation). nil: none.
	Federation *dtx.Federation
	// Logger receives the sessions' logs; nil means no logging.
	Logger hclog.Logger
}

// validate checks cfg and fills in defaults.
func (cfg *Config) validate() error {
	if cfg.Metadata == "" {
		return errors.New("executor: Config.Metadata is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.CoordinatorID == "" {
		cfg.CoordinatorID = DefaultCoordinatorID
	}
	if cfg.RecoveryInterval <= 0 {
		cfg.RecoveryInterval = DefaultRecoveryInterval
	}
	if cfg.DeadlockInterval <= 0 {
		cfg.DeadlockInterval = dtx.DefaultDeadlockInterval
	}
	if cfg.PlanCacheSize == 0 {
		cfg.PlanCacheSize = DefaultPlanCacheSize
	}
	if cfg.MaxIntermediateRows <= 0 {
		cfg.MaxIntermediateRows = DefaultMaxIntermediateRows
	}
	if cfg.MaxIntermediateBytes <= 0 {
		cfg.MaxIntermediateBytes = DefaultMaxIntermediateBytes
	}
	return nil
}

// Handler creates the coordinator's sessions; it implements wire.Handler.
// It owns what the sessions share: the catalog store, the worker
// connection pools, the distributed transaction coordinator, and the
// planner of the current catalog. Run runs its background loops (catalog
// invalidation, recovery of prepared transactions, deadlock detection);
// Close releases it. It is safe for concurrent use.
type Handler struct {
	cfg    Config
	log    hclog.Logger
	meta   *pgconn.Config // parsed Config.Metadata; copied for each session
	nextID atomic.Uint64

	store    *store.Store
	pools    *dtx.Pools
	metaPool *dtx.Pool
	coord    *dtx.Coordinator

	// cur is the planner of the newest catalog seen; reloads are
	// serialized by reloadMu.
	cur      atomic.Pointer[catalogState]
	gen      atomic.Uint64 // the generation of the newest catalogState
	reloadMu sync.Mutex
	types    typeNames

	closeOnce sync.Once
}

var _ wire.Handler = (*Handler)(nil)

// newHandler checks cfg and parses its connection strings, opening nothing.
func newHandler(cfg Config) (*Handler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	meta, err := pgconn.ParseConfig(cfg.Metadata)
	if err != nil {
		return nil, fmt.Errorf("executor: metadata connection string: %w", err)
	}
	return &Handler{cfg: cfg, log: cfg.Logger.Named("session"), meta: meta}, nil
}

// NewHandler checks cfg, opens the catalog store on the metadata database
// (creating or migrating the pgfed schema), and makes the worker pools of
// the catalog's active nodes and the transaction coordinator. Sessions open
// their own metadata connections. Call Run for the background loops and
// Close at the end.
func NewHandler(ctx context.Context, cfg Config) (*Handler, error) {
	h, err := newHandler(cfg)
	if err != nil {
		return nil, err
	}
	cfg = h.cfg
	workerCfg := h.meta
	if cfg.Workers != "" {
		if workerCfg, err = pgconn.ParseConfig(cfg.Workers); err != nil {
			return nil, fmt.Errorf("executor: worker connection string: %w", err)
		}
	}
	st, err := store.Open(ctx, cfg.Metadata, cfg.Logger.Named("catalog"))
	if err != nil {
		return nil, fmt.Errorf("executor: open the catalog: %w", err)
	}
	if err := st.Init(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("executor: initialize the catalog: %w", err)
	}
	snap, err := st.Snapshot(ctx)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("executor: load the catalog: %w", err)
	}
	h.store = st
	h.pools, err = dtx.NewPools(dtx.PoolConfig{ConnConfig: workerCfg, Logger: cfg.Logger.Named("workers")}, snap.NodesActive())
	if err == nil {
		h.metaPool, err = dtx.NewPool(dtx.PoolConfig{ConnConfig: h.meta, MaxConns: 8, Logger: cfg.Logger.Named("metadata")}, catalog.Node{})
	}
	if err == nil {
		h.coord, err = dtx.New(dtx.Config{ID: cfg.CoordinatorID, Workers: h.pools, Metadata: h.metaPool, Federation: cfg.Federation, Logger: cfg.Logger})
	}
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("executor: %w", err)
	}
	return h, nil
}

// Run runs the handler's background loops until ctx ends: the catalog
// store's invalidation listener, the recovery of prepared transactions
// every RecoveryInterval and the distributed deadlock detector. It returns
// nil once they have all stopped after ctx ended.
func (h *Handler) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		// Watch returns when ctx ends, or on a failure it cannot recover
		// from; the store then polls, which is correct, only slower.
		if err := h.store.Watch(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("catalog watch stopped; polling the catalog version", "error", err)
		}
		return nil
	})
	g.Go(func() error { return h.coord.RunRecovery(ctx, h.cfg.RecoveryInterval) })
	g.Go(func() error {
		if err := h.coord.DeadlockDetector(h.cfg.DeadlockInterval).Run(ctx); err != nil && ctx.Err() == nil {
			return err
		}
		return nil
	})
	return g.Wait()
}

// Close releases the pools and the catalog store. Stop Run first (cancel
// its context and wait for it); sessions still open fail their next
// distributed statement.
func (h *Handler) Close() {
	h.closeOnce.Do(func() {
		if h.pools != nil {
			h.pools.Close()
		}
		if h.metaPool != nil {
			h.metaPool.Close()
		}
		if h.store != nil {
			h.store.Close()
		}
	})
}

// Store returns the catalog store.
func (h *Handler) Store() *store.Store { return h.store }

// Coordinator returns the distributed transaction coordinator.
func (h *Handler) Coordinator() *dtx.Coordinator { return h.coord }

// NewSession opens the session's connection to the metadata database as
// s.User on s.Database with the client's startup parameters, and returns the
// session. A refusal by the metadata database (no such database or role,
// too many connections, ...) is returned as a FATAL *wire.Error with the
// server's own SQLSTATE; an unreachable server as 08001.
func (h *Handler) NewSession(ctx context.Context, s wire.Startup, c wire.Client) (wire.Session, error) {
	id := h.nextID.Add(1)
	log := h.log.With("conn", id)
	m, err := dialMetadata(ctx, h.sessionConfig(s), c, log)
	if err != nil {
		log.Info("cannot open the metadata connection", "user", s.User, "error", err)
		return nil, err
	}
	log.Debug("session opened", "user", s.User, "database", s.Database, "backend_pid", m.pid)
	m.finish() // start listening while the client is idle
	sess := &Session{log: log, h: h, meta: m, user: s.User}
	if sp, ok := s.Params["search_path"]; ok {
		sess.setSearchPath(sp)
	} else if sp, ok := optionSetting(s.Params["options"], "search_path"); ok {
		sess.setSearchPath(sp)
	}
	if v, ok := s.Params[settingStatementTimeout]; ok {
		sess.startupTimeout = v
	} else if v, ok := optionSetting(s.Params["options"], settingStatementTimeout); ok {
		sess.startupTimeout = v
	}
	sess.set.set(settingStatementTimeout, sess.startupTimeout)
	if h.pools != nil {
		sess.workers = h.pools.NewSession()
	}
	return sess, nil
}

// sessionConfig is the metadata connection's configuration for one client:
// the handler's server settings with the client's user, database and
// startup parameters.
func (h *Handler) sessionConfig(s wire.Startup) *pgconn.Config {
	cfg := h.meta.Copy()
	if s.User != "" {
		cfg.User = s.User
	}
	cfg.Database = s.Database
	if cfg.Database == "" {
		cfg.Database = cfg.User // PostgreSQL's default
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = make(map[string]string, len(s.Params))
	}
	for k, v := range s.Params {
		switch {
		case k == "user", k == "database", k == "replication":
			// user and database are set above; replication connections
			// are not passed through.
		case strings.HasPrefix(k, "_pq_."):
			// protocol extensions are the wire server's business.
		default:
			cfg.RuntimeParams[k] = v
		}
	}
	return cfg
}
