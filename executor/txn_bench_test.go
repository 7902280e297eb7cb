package executor

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/catalog"
)

// BenchmarkTransfer runs two-account transfers (two UPDATEs in a
// transaction block, about half of them on two workers, committed with
// 2PC) through pgfed, and on one worker holding all the accounts.
func BenchmarkTransfer(b *testing.B) {
	c := newCluster(b)
	c.distribute(b, "CREATE TABLE bench_bank (aid int PRIMARY KEY, balance bigint)", "bench_bank", "aid", catalog.TypeInt4, 8, "")
	runOn(b, c.workers[0], "CREATE TABLE bench_bank_plain (aid int PRIMARY KEY, balance bigint)",
		"INSERT INTO bench_bank_plain SELECT g, 1000 FROM generate_series(1, 1000) g")
	ctx := context.Background()
	var rows strings.Builder
	for i := 1; i <= 1000; i++ {
		fmt.Fprintf(&rows, "%d\t1000\n", i)
	}
	conn := c.connect(b)
	if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(rows.String()), "COPY bench_bank FROM STDIN"); err != nil {
		b.Fatal(err)
	}
	w, err := c.workers[0].Connect(ctx, "postgres")
	if err != nil {
		b.Fatal(err)
	}
	for _, target := range []struct {
		name  string
		conn  *pgx.Conn
		table string
	}{{"direct", w, "bench_bank_plain"}, {"pgfed", conn, "bench_bank"}} {
		b.Run(target.name, func(b *testing.B) {
			debit := "UPDATE " + target.table + " SET balance = balance - 1 WHERE aid = $1"
			credit := "UPDATE " + target.table + " SET balance = balance + 1 WHERE aid = $1"
			for i := 0; b.Loop(); i++ {
				tx, err := target.conn.Begin(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := tx.Exec(ctx, debit, i%1000+1); err != nil {
					b.Fatal(err)
				}
				if _, err := tx.Exec(ctx, credit, (i*7+3)%1000+1); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	var total int64
	if err := conn.QueryRow(ctx, "SELECT sum(balance) FROM bench_bank").Scan(&total); err != nil || total != 1000*1000 {
		b.Fatalf("total balance %d (%v), want %d", total, err, 1000*1000)
	}
}
