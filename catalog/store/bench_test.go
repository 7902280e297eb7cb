package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/catalog/store"
	"github.com/pgfed/pgfed/executor/pgcluster"
)

// BenchmarkStore measures what the catalog costs a coordinator: the
// version check, a snapshot with and without Watch, a full load, and how
// long a change takes to reach another Store through NOTIFY.
func BenchmarkStore(b *testing.B) {
	srv := pgcluster.StartForTest(b, pgcluster.ServerSpec{Name: "metadata"})[0]
	ctx := context.Background()
	c, err := srv.Connect(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	for _, db := range []string{"small", "big"} {
		if _, err := c.Exec(ctx, "CREATE DATABASE "+db); err != nil {
			b.Fatal(err)
		}
	}
	c.Close(ctx)
	small, big := srv.ConnString("small"), srv.ConnString("big")
	s := openB(b, small)
	if _, err := s.AddNode(ctx, "w1", 5432, ""); err != nil {
		b.Fatal(err)
	}
	bigStore := openB(b, big)
	makeBigCatalog(b, bigStore, big)

	b.Run("Version", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Version(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SnapshotPolling", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Snapshot(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SnapshotPollingParallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Snapshot(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	w := openB(b, small)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Watch(wctx) }()
	defer func() { cancel(); <-done }()
	for !w.Watching() {
		time.Sleep(time.Millisecond)
	}
	b.Run("SnapshotWatching", func(b *testing.B) {
		for b.Loop() {
			if _, err := w.Snapshot(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SnapshotWatchingParallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := w.Snapshot(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("LoadSmall", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Load(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LoadBig", func(b *testing.B) {
		for b.Loop() {
			if _, err := bigStore.Load(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	// From the return of a change by s until w knows of it (us-to-notify)
	// and until w's Snapshot returns it (us-to-see, which adds a load).
	b.Run("NotifyLatency", func(b *testing.B) {
		var total, arrival time.Duration
		i := 0
		for b.Loop() {
			i++
			b.StopTimer()
			if err := s.SetNodeActive(ctx, "w1", 5432, i%2 == 0); err != nil {
				b.Fatal(err)
			}
			want, _ := s.Snapshot(ctx)
			start := time.Now()
			b.StartTimer()
			if err := w.WaitVersion(ctx, want.Version()); err != nil {
				b.Fatal(err)
			}
			arrived := time.Since(start)
			got, err := w.Snapshot(ctx)
			if err != nil || got.Version() < want.Version() {
				b.Fatalf("Snapshot after WaitVersion: %v, %v", got, err)
			}
			arrival += arrived
			total += time.Since(start)
		}
		b.ReportMetric(float64(arrival.Microseconds())/float64(i), "us-to-notify")
		b.ReportMetric(float64(total.Microseconds())/float64(i), "us-to-see")
	})
	// The floor: NOTIFY from one plain connection to another LISTENing.
	b.Run("RawNotify", func(b *testing.B) {
		lc, err := pgx.Connect(ctx, small)
		if err != nil {
			b.Fatal(err)
		}
		defer lc.Close(ctx)
		nc, err := pgx.Connect(ctx, small)
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close(ctx)
		if _, err := lc.Exec(ctx, "LISTEN bench"); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := nc.Exec(ctx, "NOTIFY bench"); err != nil {
				b.Fatal(err)
			}
			if _, err := lc.WaitForNotification(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A change: lock, update, bump, notify, load and check, commit.
	b.Run("SetNodeActive", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if err := s.SetNodeActive(ctx, "w1", 5432, i%2 == 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func openB(b *testing.B, cs string) *store.Store {
	ctx := context.Background()
	s, err := store.Open(ctx, cs, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	if err := s.Init(ctx); err != nil {
		b.Fatal(err)
	}
	return s
}

// makeBigCatalog distributes 100 tables of 32 shards over 4 nodes in 10
// co-location groups: 3,200 shards and placements.
func makeBigCatalog(b *testing.B, s *store.Store, cs string) {
	ctx := context.Background()
	for i := range 4 {
		if _, err := s.AddNode(ctx, fmt.Sprintf("w%d", i), 5432, ""); err != nil {
			b.Fatal(err)
		}
	}
	err := s.Update(ctx, func(tx *store.Tx) error {
		for i := range 100 {
			if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TABLE t%d (id bigint)", i)); err != nil {
				return err
			}
			tb := catalog.Table{Relation: catalog.RelationName{Schema: "public", Name: fmt.Sprintf("t%d", i)},
				Method: catalog.MethodHash, Column: "id", ColumnType: catalog.TypeInt8, ShardCount: 32}
			var with *catalog.RelationName
			if i >= 10 {
				with = &catalog.RelationName{Schema: "public", Name: fmt.Sprintf("t%d", i%10)}
			}
			if err := distribute(ctx, tx, tb, "", with); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
