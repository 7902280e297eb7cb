package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/wire"
)

// Config configures a Handler.
type Config struct {
	// Metadata is the connection string of the metadata database server
	// (keyword/value or URL, as libpq takes it): host, port, user,
	// password, sslmode... The client's user and database, and its other
	// startup parameters (application_name, options, DateStyle,
	// client_encoding, ...), override it for each session.
	Metadata string
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
	return nil
}

// Handler creates the coordinator's sessions; it implements wire.Handler.
// It is safe for concurrent use.
type Handler struct {
	log    hclog.Logger
	meta   *pgconn.Config // parsed Config.Metadata; copied for each session
	nextID atomic.Uint64
}

var _ wire.Handler = (*Handler)(nil)

// NewHandler checks cfg and parses its metadata connection string. It opens
// no connection: each session opens its own.
func NewHandler(cfg Config) (*Handler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	meta, err := pgconn.ParseConfig(cfg.Metadata)
	if err != nil {
		return nil, fmt.Errorf("executor: metadata connection string: %w", err)
	}
	return &Handler{log: cfg.Logger.Named("session"), meta: meta}, nil
}

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
	return &Session{log: log, meta: m}, nil
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
