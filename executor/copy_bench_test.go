package executor

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pgfed/pgfed/catalog"
)

// BenchmarkCopyIn loads 200k rows (text format) into a table distributed
// in 32 shards over two workers, through pgfed, and into a plain table on
// one worker; rows/s is reported.
func BenchmarkCopyIn(b *testing.B) {
	c := newCluster(b)
	c.distribute(b, "CREATE TABLE bench_copy (account bigint, kind int, amount numeric, note text)", "bench_copy", "account", catalog.TypeInt8, 32, "")
	runOn(b, c.workers[0], "CREATE TABLE bench_copy_plain (account bigint, kind int, amount numeric, note text)")
	ctx := context.Background()
	const n = 200000
	var rows strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&rows, "%d\t%d\t%d.%02d\tnote number %d\n", i, i%4, i%1000, i%100, i)
	}
	data := rows.String()
	conn := c.connect(b)
	w, err := c.workers[0].Connect(ctx, "postgres")
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close(ctx)
	for _, target := range []struct{ name, table string }{{"direct", "bench_copy_plain"}, {"pgfed", "bench_copy"}} {
		b.Run(target.name, func(b *testing.B) {
			pc := conn.PgConn()
			if target.name == "direct" {
				pc = w.PgConn()
			}
			for b.Loop() {
				if _, err := pc.CopyFrom(ctx, strings.NewReader(data), "COPY "+target.table+" FROM STDIN"); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if _, err := pc.Exec(ctx, "TRUNCATE "+target.table).ReadAll(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
