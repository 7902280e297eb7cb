package planner

import (
	"strconv"
	"testing"
)

// benchCatalog has pgbench-like tables with 32 shards.
const benchCatalog = `
node 1 w1:5432
node 2 w2:5432
hash pgbench_accounts(aid int4, bid int4, abalance int4, filler text) by aid shards 32
hash pgbench_history(aid int4, tid int4, delta int4, mtime timestamp) by aid colocate pgbench_accounts
reference pgbench_branches(bid int4, bbalance int4, filler text)
local notes(id int4, body text)
view rich(aid, bid, abalance) as SELECT pgbench_accounts.aid, pgbench_accounts.bid, pgbench_accounts.abalance FROM public.pgbench_accounts WHERE pgbench_accounts.abalance > 1000;
`

// benchQueries are the statements measured.
var benchQueries = map[string]string{
	"router":    "SELECT abalance FROM pgbench_accounts WHERE aid = 12345",
	"aggregate": "SELECT bid, count(*), sum(abalance), avg(abalance) FROM pgbench_accounts GROUP BY bid ORDER BY 3 DESC LIMIT 10",
	"join":      "SELECT a.aid, b.bbalance, sum(h.delta) FROM pgbench_accounts a JOIN pgbench_history h ON h.aid = a.aid JOIN pgbench_branches b ON b.bid = a.bid WHERE a.abalance > 0 GROUP BY a.aid, b.bbalance",
	"local":     "SELECT body FROM notes WHERE id = 7",
	"view":      "SELECT abalance FROM rich WHERE aid = 12345",
}

// BenchmarkPlan measures planning per statement, with the plan cache
// (a map lookup) and without (lex, parse, resolve, prune, fragment).
func BenchmarkPlan(b *testing.B) {
	cached, err := testPlanner(benchCatalog)
	if err != nil {
		b.Fatal(err)
	}
	cached.cache = NewCache(1024)
	for _, name := range []string{"router", "aggregate", "join", "local", "view"} {
		sql := benchQueries[name]
		b.Run(name+"/uncached", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := cached.planText(sql); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/cached", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := cached.Plan(sql); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// Literal-carrying router statements miss the text cache every time.
	b.Run("router/distinct-literals", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := cached.Plan("SELECT abalance FROM pgbench_accounts WHERE aid = " + strconv.Itoa(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBind measures bind-time pruning of a prepared router plan.
func BenchmarkBind(b *testing.B) {
	p, err := testPlanner(benchCatalog)
	if err != nil {
		b.Fatal(err)
	}
	pl, err := p.Plan("SELECT abalance FROM pgbench_accounts WHERE aid = $1")
	if err != nil {
		b.Fatal(err)
	}
	vals := []Param{{Value: []byte("12345")}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := pl.Bind(vals); err != nil {
			b.Fatal(err)
		}
	}
}
