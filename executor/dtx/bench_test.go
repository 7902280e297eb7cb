package dtx

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkCommit measures a transaction writing one row per written
// worker, committed with 1PC (one worker) or 2PC (two).
func BenchmarkCommit(b *testing.B) {
	c := startCluster(b)
	c.onWorkers(b, "CREATE TABLE bench (id bigint PRIMARY KEY)")
	coord := c.newCoordinator(b, "bench", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, workers := range []int32{1, 2} {
		name := map[int32]string{1: "1PC", 2: "2PC"}[workers]
		b.Run(name, func(b *testing.B) {
			s := coord.cfg.Workers.NewSession()
			for i := 0; b.Loop(); i++ {
				tx := coord.Begin(s, TxnOptions{})
				for n := int32(1); n <= workers; n++ {
					if _, err := tx.Exec(ctx, n, fmt.Sprintf("INSERT INTO bench VALUES (%d)", int64(workers)<<40|int64(i))); err != nil {
						b.Fatal(err)
					}
					tx.MarkWrite(n)
				}
				if err := tx.Commit(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
