package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/executor/pgcluster"
)

// noPrepares is a Gatekeeper that lets no PREPARE TRANSACTION through (the
// benchmark prepares nothing).
type noPrepares struct{}

func (noPrepares) Org() string { return "bench" }
func (noPrepares) CheckPrepare(context.Context, string, string, time.Duration) error {
	return errors.New("no prepares in this benchmark")
}

// BenchmarkRelay compares a round trip to a worker directly and through
// the gateway: a simple Query and an extended-protocol query with a
// parameter (pgx's statement cache: Bind/Execute after the first Parse).
func BenchmarkRelay(b *testing.B) {
	srv := pgcluster.StartForTest(b, pgcluster.ServerSpec{Name: "gwbench", Settings: pgcluster.WorkerSettings()})[0]
	ctx := context.Background()
	worker := net.JoinHostPort(srv.Host, fmt.Sprint(srv.Port))
	g, err := Start(ctx, Config{Routes: []Route{{Listen: "127.0.0.1:0", Worker: "w", Addr: worker}}, Keeper: noPrepares{}})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	for _, target := range []struct{ name, addr string }{{"direct", worker}, {"gateway", g.Addrs()[0]}} {
		c, err := pgx.Connect(ctx, "postgres://postgres@"+target.addr+"/postgres?sslmode=disable")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(target.name+"/simple", func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Exec(ctx, "SELECT 1"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(target.name+"/extended", func(b *testing.B) {
			var n int
			for b.Loop() {
				if err := c.QueryRow(ctx, "SELECT $1::int", 1).Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
		})
		c.Close(ctx)
	}
}
