package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/catalog"
)

// PoolSize is the most connections a Store keeps open to the metadata
// database, besides the one Watch uses.
const PoolSize = 4

// closeTimeout bounds the goodbye sent when a connection is closed.
const closeTimeout = time.Second

// Store is the catalog persisted in the metadata database, with a cached
// Snapshot. It is safe for concurrent use.
type Store struct {
	log     hclog.Logger
	connCfg *pgx.ConnConfig
	pool    *pool

	// cached is the newest snapshot loaded or committed.
	cached atomic.Pointer[catalog.Snapshot]
	// announced is the highest catalog version known to exist: read,
	// notified, or committed by this Store.
	announced atomic.Int64
	// watching is set while Watch listens and has caught up, so
	// notifications alone tell when the cache is stale.
	watching atomic.Bool
	// watchRunning is set while a Watch call runs.
	watchRunning atomic.Bool
	// loadSem lets one reload run at a time.
	loadSem chan struct{}

	// announceMu guards announced's growth and the channel closed at each
	// growth, for WaitVersion.
	announceMu sync.Mutex
	grown      chan struct{}
}

// Open connects to the metadata database named by connString (a URL or
// key=value string, as pgx takes) and returns a Store. It checks that the
// database answers but does not touch the schema: call Init for that. A nil
// log means no logging.
func Open(ctx context.Context, connString string, log hclog.Logger) (*Store, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("catalog store: metadata database connection string: %w", err)
	}
	s := &Store{
		log:     log,
		connCfg: cfg,
		pool:    newPool(cfg, PoolSize),
		loadSem: make(chan struct{}, 1),
		grown:   make(chan struct{}),
	}
	if err := s.withConn(ctx, func(*pgx.Conn) error { return nil }); err != nil {
		s.pool.close()
		return nil, err
	}
	return s, nil
}

// Close closes the Store's connections; calls after Close fail with
// ErrClosed. Stop Watch (cancel its context) before closing.
func (s *Store) Close() { s.pool.close() }

// withConn runs fn on a pooled connection.
func (s *Store) withConn(ctx context.Context, fn func(c *pgx.Conn) error) error {
	_, err := s.run(ctx, fn)
	return err
}

// withRead runs fn, which only reads, on a pooled connection; when fn fails
// because an idle connection turned out dead (the metadata server
// restarted, say), it runs fn once more on a new connection.
func (s *Store) withRead(ctx context.Context, fn func(c *pgx.Conn) error) error {
	broken, err := s.run(ctx, fn)
	if err != nil && broken && ctx.Err() == nil {
		s.log.Debug("metadata connection lost, retrying a read", "error", err)
		s.pool.dropIdle()
		_, err = s.run(ctx, fn)
	}
	return err
}

// run runs fn on a pooled connection and reports whether fn failed on a
// reused connection that it left closed.
func (s *Store) run(ctx context.Context, fn func(c *pgx.Conn) error) (brokenReused bool, err error) {
	c, reused, err := s.pool.acquire(ctx)
	if err != nil {
		if err == ErrClosed {
			return false, err
		}
		return false, fmt.Errorf("catalog store: connect to the metadata database %s:%d: %w", s.connCfg.Host, s.connCfg.Port, err)
	}
	err = fn(c)
	brokenReused = err != nil && reused && c.IsClosed()
	s.pool.release(c)
	return brokenReused, err
}

// Version returns the catalog version in the metadata database: one short
// query on a pooled connection (a prepared statement after the first use),
// the cheap way to learn whether a cached Snapshot is stale.
func (s *Store) Version(ctx context.Context) (int64, error) {
	var v int64
	err := s.withRead(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT version FROM pgfed.version").Scan(&v)
	})
	if err != nil {
		return 0, fmt.Errorf("catalog store: read the catalog version: %w", err)
	}
	return v, nil
}
