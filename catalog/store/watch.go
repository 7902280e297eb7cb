package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Backoff bounds between reconnections of Watch.
const (
	watchMinBackoff = 100 * time.Millisecond
	watchMaxBackoff = 5 * time.Second
)

// watchCheckInterval is how long Watch waits without a notification before
// it reads the version on its connection, and watchCheckTimeout how long
// that read may take. Together they bound how long a connection that died
// silently (a network partition: no RST) or a lost notification can leave
// the cache stale. Variables so that tests can shorten them.
var (
	watchCheckInterval = 10 * time.Second
	watchCheckTimeout  = 5 * time.Second
)

// ErrWatching is returned by a second concurrent call of Watch.
var ErrWatching = errors.New("catalog store: Watch is already running")

// Watch listens on NotifyChannel on a connection of its own until ctx is
// done, so that Snapshot learns of catalog changes from notifications
// instead of asking for the version on every call. When the connection is
// lost, Snapshot falls back to asking, and Watch reconnects with a backoff
// (100 ms doubling to 5 s); once listening again it reads the version, so a
// change missed meanwhile is not missed by Snapshot.
//
// Watch blocks: run it in a goroutine the caller owns and waits for. It
// returns nil when ctx is done, ErrWatching if another Watch runs on this
// Store.
func (s *Store) Watch(ctx context.Context) error {
	if !s.watchRunning.CompareAndSwap(false, true) {
		return ErrWatching
	}
	defer s.watchRunning.Store(false)
	backoff := watchMinBackoff
	for {
		start := time.Now()
		err := s.listen(ctx)
		s.watching.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > watchMaxBackoff {
			backoff = watchMinBackoff // it worked for a while: retry soon
		}
		s.log.Warn("catalog notifications lost, checking the version on every snapshot until reconnected",
			"error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, watchMaxBackoff)
	}
}

// WatchApplicationName is the application_name of Watch's connection, to
// tell it apart in pg_stat_activity.
const WatchApplicationName = "pgfed catalog watch"

// listen runs one LISTEN session until it fails or ctx is done.
func (s *Store) listen(ctx context.Context) error {
	cfg := s.connCfg.Copy()
	cfg.RuntimeParams["application_name"] = WatchApplicationName
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to the metadata database: %w", err)
	}
	defer closeConn(c)
	if _, err := c.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return fmt.Errorf("listen on %s: %w", NotifyChannel, err)
	}
	// Read the version only after LISTEN: a change committed from here on
	// is notified, one committed before is in the version read.
	v, err := readVersion(ctx, c)
	if err != nil {
		return err
	}
	s.announce(v)
	s.watching.Store(true)
	s.log.Debug("listening for catalog changes", "version", v)
	for {
		wctx, cancel := context.WithTimeout(ctx, watchCheckInterval)
		n, err := c.WaitForNotification(wctx)
		cancel()
		switch {
		case err != nil && pgconn.Timeout(err) && ctx.Err() == nil && !c.IsClosed():
			// Quiet for a while: make sure the connection still works
			// and nothing was missed.
			if v, err = readVersion(ctx, c); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("wait for a notification: %w", err)
		default:
			v, err = strconv.ParseInt(n.Payload, 10, 64)
			if err != nil {
				// Not a version (someone else used the channel): ask.
				s.log.Warn("unexpected catalog notification payload", "payload", n.Payload, "pid", n.PID)
				if v, err = readVersion(ctx, c); err != nil {
					return err
				}
			}
		}
		s.announce(v)
	}
}

// readVersion reads the catalog version on the listening connection,
// within watchCheckTimeout.
func readVersion(ctx context.Context, c *pgx.Conn) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, watchCheckTimeout)
	defer cancel()
	var v int64
	if err := c.QueryRow(ctx, "SELECT version FROM pgfed.version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read the catalog version: %w", err)
	}
	return v, nil
}

// Watching reports whether Watch is listening and has caught up, so that
// Snapshot trusts notifications instead of asking for the version.
func (s *Store) Watching() bool { return s.watching.Load() }
