package store

import (
	"context"

	"github.com/pgfed/pgfed/catalog"
)

// Snapshot returns the catalog, from the cache when it is known to be
// current, else freshly loaded (and cached).
//
// How "known to be current" is decided depends on Watch. While Watch is
// listening, the cache is current unless a notification announced a newer
// version, so Snapshot costs no round trip; a change committed by another
// coordinator is seen once its notification arrives, typically well under a
// millisecond after the commit on one machine. Otherwise Snapshot asks the
// database for the version (see Version) on every call, which sees every
// change committed before the call. Changes made through this Store are
// seen at once in both modes.
func (s *Store) Snapshot(ctx context.Context) (*catalog.Snapshot, error) {
	cur := s.cached.Load()
	if cur != nil && s.watching.Load() && cur.Version() >= s.announced.Load() {
		return cur, nil
	}
	if cur != nil && !s.watching.Load() {
		v, err := s.Version(ctx)
		if err != nil {
			return nil, err
		}
		if v == cur.Version() {
			return cur, nil
		}
		s.announce(v)
	}
	return s.reload(ctx)
}

// reload loads the catalog unless another caller did while this one
// waited, and caches it.
func (s *Store) reload(ctx context.Context) (*catalog.Snapshot, error) {
	select {
	case s.loadSem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.loadSem }()
	if cur := s.cached.Load(); cur != nil && cur.Version() >= s.announced.Load() {
		return cur, nil
	}
	snap, err := s.Load(ctx)
	if err != nil {
		return nil, err
	}
	return s.cache(snap), nil
}

// cache stores snap unless a newer snapshot is cached, and returns what is
// cached afterwards.
func (s *Store) cache(snap *catalog.Snapshot) *catalog.Snapshot {
	s.announce(snap.Version())
	for {
		cur := s.cached.Load()
		if cur != nil && cur.Version() >= snap.Version() {
			return cur
		}
		if s.cached.CompareAndSwap(cur, snap) {
			return snap
		}
	}
}

// announce records that catalog version v exists and wakes WaitVersion.
func (s *Store) announce(v int64) {
	s.announceMu.Lock()
	defer s.announceMu.Unlock()
	if v > s.announced.Load() {
		s.announced.Store(v)
		close(s.grown)
		s.grown = make(chan struct{})
	}
}

// WaitVersion blocks until this Store knows that catalog version v or a
// later one exists, or ctx is done; a Snapshot call then returns version v
// or later. While Watch runs, notifications advance what the Store knows;
// otherwise only its own reads and changes do.
func (s *Store) WaitVersion(ctx context.Context, v int64) error {
	for {
		s.announceMu.Lock()
		known, grown := s.announced.Load(), s.grown
		s.announceMu.Unlock()
		if known >= v {
			return nil
		}
		select {
		case <-grown:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
