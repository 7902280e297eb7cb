package executor

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// BenchmarkPointSelect runs a prepared point SELECT (pgbench -S's
// statement) over one connection, straight to PostgreSQL and through
// pgfed, so that the difference is the coordinator's cost per statement.
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
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if err := c.QueryRow(ctx, "SELECT abalance FROM bench_accounts WHERE aid = $1", i%10000+1).Scan(&bal); err != nil {
				b.Fatal(err)
			}
		}
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
