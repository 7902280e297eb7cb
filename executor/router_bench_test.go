package executor

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/catalog"
)

// BenchmarkRouterPointSelect runs pgbench -S's statement, prepared (pgx's
// statement cache), against a table distributed over two workers: through
// pgfed (plan cached at Parse, pruned at Bind, executed as a prepared
// statement on the worker's connection) and straight to a worker holding
// the same rows in a plain table. The difference is the coordinator's
// cost per routed statement: one more network hop and its CPU.
func BenchmarkRouterPointSelect(b *testing.B) {
	c := newCluster(b)
	c.distribute(b, "CREATE TABLE bench_accounts (aid int PRIMARY KEY, abalance int, filler char(84))", "bench_accounts", "aid", catalog.TypeInt4, 8, "")
	ctx := context.Background()
	var rows strings.Builder
	for i := 1; i <= 10000; i++ {
		fmt.Fprintf(&rows, "%d\t0\t\n", i)
	}
	conn := c.connect(b)
	if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(rows.String()), "COPY bench_accounts FROM STDIN"); err != nil {
		b.Fatal(err)
	}
	runOn(b, c.workers[0], "CREATE TABLE bench_direct (aid int PRIMARY KEY, abalance int, filler char(84))",
		"INSERT INTO bench_direct SELECT g, 0, '' FROM generate_series(1, 10000) g", "ANALYZE bench_direct")
	run := func(b *testing.B, c *pgx.Conn, table string, mode ...any) {
		defer c.Close(ctx)
		q := "SELECT abalance FROM " + table + " WHERE aid = $1"
		var bal int
		start := processCPU()
		n := 0
		for i := 0; b.Loop(); i++ {
			if err := c.QueryRow(ctx, q, append(mode, i%10000+1)...).Scan(&bal); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(processCPU()-start)/float64(n), "cpu-ns/op")
	}
	b.Run("direct-worker", func(b *testing.B) {
		w, err := c.workers[0].Connect(ctx, "postgres")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		run(b, w, "bench_direct")
	})
	b.Run("pgfed", func(b *testing.B) {
		p, err := pgx.Connect(ctx, c.connString())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		run(b, p, "bench_accounts")
	})
	// pgbench -S -M simple: literals in the text, planned through the
	// planner's shape cache.
	b.Run("direct-worker-simple", func(b *testing.B) {
		w, err := c.workers[0].Connect(ctx, "postgres")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		run(b, w, "bench_direct", pgx.QueryExecModeSimpleProtocol)
	})
	b.Run("pgfed-simple", func(b *testing.B) {
		p, err := pgx.Connect(ctx, c.connString())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		run(b, p, "bench_accounts", pgx.QueryExecModeSimpleProtocol)
	})
}
