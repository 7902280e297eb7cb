package executor

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/catalog"
)

// BenchmarkMultiShardAggregate runs analytic queries over 400k rows
// distributed in 32 shards on two workers, through pgfed, and straight to
// one worker holding all the rows in a plain table.
func BenchmarkMultiShardAggregate(b *testing.B) {
	c := newCluster(b)
	c.distribute(b, "CREATE TABLE bench_moves (account bigint, kind int, amount numeric)", "bench_moves", "account", catalog.TypeInt8, 32, "")
	ctx := context.Background()
	var rows strings.Builder
	for i := 0; i < 400000; i++ {
		fmt.Fprintf(&rows, "%d\t%d\t%d.%02d\n", i%50000, i%4, i%1000, i%100)
	}
	conn := c.connect(b)
	if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(rows.String()), "COPY bench_moves FROM STDIN"); err != nil {
		b.Fatal(err)
	}
	runOn(b, c.workers[0], "CREATE TABLE bench_plain (account bigint, kind int, amount numeric)")
	w, err := c.workers[0].Connect(ctx, "postgres")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.PgConn().CopyFrom(ctx, strings.NewReader(rows.String()), "COPY bench_plain FROM STDIN"); err != nil {
		b.Fatal(err)
	}
	w.Exec(ctx, "ANALYZE bench_plain")
	conn.Exec(ctx, "SELECT 1")
	for _, q := range []struct{ name, sql string }{
		{"group-by-kind", "SELECT kind, count(*), sum(amount) FROM %s GROUP BY kind"},
		{"top-accounts", "SELECT account, sum(amount) FROM %s GROUP BY account ORDER BY 2 DESC LIMIT 10"},
		{"count-distinct", "SELECT count(DISTINCT account) FROM %s"},
	} {
		for _, target := range []struct {
			name  string
			conn  *pgx.Conn
			table string
		}{{"direct", w, "bench_plain"}, {"pgfed", conn, "bench_moves"}} {
			b.Run(q.name+"/"+target.name, func(b *testing.B) {
				sql := fmt.Sprintf(q.sql, target.table)
				for b.Loop() {
					if _, err := target.conn.Exec(ctx, sql); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
