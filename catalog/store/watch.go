package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Backoff bounds between reconnections of Watch.
const (
	watchMinBackoff = 100 * time.Millisecond
	watchMaxBackoff = 5 * time.Second
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

// listen runs one LISTEN session until it fails or ctx is done.
func (s *Store) listen(ctx context.Context) error {
	c, err := pgx.ConnectConfig(ctx, s.connCfg)
	if err != nil {
		return fmt.Errorf("connect to the metadata database: %w", err)
	}
	defer closeConn(c)
	if _, err := c.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return fmt.Errorf("listen on %s: %w", NotifyChannel, err)
	}
	// Read the version only after LISTEN: a change committed from here on
	// is notified, one committed before is in the version read.
	var v int64
	if err := c.QueryRow(ctx, "SELECT version FROM pgfed.version").Scan(&v); err != nil {
		return fmt.Errorf("read the catalog version: %w", err)
	}
	s.announce(v)
	s.watching.Store(true)
	s.log.Debug("listening for catalog changes", "version", v)
	for {
		n, err := c.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for a notification: %w", err)
		}
		v, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil {
			// Not a version (someone else used the channel): ask.
			s.log.Warn("unexpected catalog notification payload", "payload", n.Payload, "pid", n.PID)
			if err := c.QueryRow(ctx, "SELECT version FROM pgfed.version").Scan(&v); err != nil {
				return fmt.Errorf("read the catalog version: %w", err)
			}
		}
		s.announce(v)
	}
}

// Watching reports whether Watch is listening and has caught up, so that
// Snapshot trusts notifications instead of asking for the version.
func (s *Store) Watching() bool { return s.watching.Load() }
