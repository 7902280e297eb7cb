package executor

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// processCPU returns the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPointSelect runs a prepared point SELECT (pgbench -S's
// statement) over one connection, straight to PostgreSQL and through
// pgfed, so that the difference is the coordinator's cost per statement.
// Besides ns/op it reports cpu-ns/op, the CPU time of the test process
// (pgx client plus, for pgfed, the coordinator) per statement; the
// difference between the two is the coordinator's CPU cost, which noise on
// a shared machine disturbs less than wall time.
func BenchmarkPointSelect(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	setup, err := e.pg.Connect(ctx, "postgres")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := setup.Exec(ctx, `CREATE TABLE bench_accounts (aid int PRIMARY KEY, abalance int, filler char(84));
		INSERT INTO bench_accounts SELECT g, 0, '' FROM generate_series(1, 10000) g;
		ANALYZE bench_accounts`); err != nil {
		b.Fatal(err)
	}
	setup.Close(ctx)

	run := func(b *testing.B, c *pgx.Conn) {
		defer c.Close(ctx)
		var bal int
		start := processCPU()
		n := 0
		for i := 0; b.Loop(); i++ {
			if err := c.QueryRow(ctx, "SELECT abalance FROM bench_accounts WHERE aid = $1", i%10000+1).Scan(&bal); err != nil {
				b.Fatal(err)
			}
			n++
		}
		// CPU time of this process (client, and coordinator when there is
		// one) per statement: steadier than ns/op on a shared machine.
		b.ReportMetric(float64(processCPU()-start)/float64(n), "cpu-ns/op")
	}
	b.Run("direct", func(b *testing.B) {
		c, err := e.pg.Connect(ctx, "postgres")
		if err != nil {
			b.Fatal(err)
		}
		run(b, c)
	})
	b.Run("pgfed", func(b *testing.B) {
		c, err := pgx.Connect(ctx, e.connString())
		if err != nil {
			b.Fatal(err)
		}
		run(b, c)
	})
}
