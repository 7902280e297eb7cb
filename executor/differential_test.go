package executor

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/executor/difftest"
	"github.com/pgfed/pgfed/executor/pgcluster"
)

// diffSchema is the differential suite's schema, created alike on the
// oracle and (as shells plus shards) on the cluster.
var diffSchema = []struct {
	ddl, name, column string
	typ               catalog.Type
	shards            int
	colocate          string
}{
	{"CREATE TABLE d_accounts (aid bigint PRIMARY KEY, branch int, owner text, balance numeric, opened date)", "d_accounts", "aid", catalog.TypeInt8, 6, ""},
	{"CREATE TABLE d_moves (aid bigint, seq int, amount numeric, kind text, at timestamp)", "d_moves", "aid", catalog.TypeInt8, 6, "d_accounts"},
	{"CREATE TABLE d_owners (owner text PRIMARY KEY, country text, score float8)", "d_owners", "owner", catalog.TypeText, 4, ""},
	{"CREATE TABLE d_branches (branch int PRIMARY KEY, city text)", "d_branches", "", 0, 0, ""},
}

// diffData generates the suite's rows (COPY text format), seeded.
func diffData() map[string]string {
	r := rand.New(rand.NewPCG(7, 11))
	var acc, mov, own, br strings.Builder
	countries := []string{"fr", "de", "it", "\\N"}
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&own, "o%d\t%s\t%.2f\n", i, countries[i%4], r.Float64()*100)
	}
	for b := 1; b <= 5; b++ {
		fmt.Fprintf(&br, "%d\tcity%d\n", b, b)
	}
	seq := 0
	for a := 1; a <= 300; a++ {
		bal := "\\N"
		if a%13 != 0 {
			bal = fmt.Sprintf("%d.%02d", r.IntN(10000)-2000, r.IntN(100))
		}
		fmt.Fprintf(&acc, "%d\t%d\to%d\t%s\t2024-%02d-%02d\n", a, 1+r.IntN(6), r.IntN(30), bal, 1+r.IntN(12), 1+r.IntN(28))
		for m := 0; m < r.IntN(5); m++ {
			seq++
			kinds := []string{"in", "out", "fee"}
			fmt.Fprintf(&mov, "%d\t%d\t%d.%d\t%s\t2024-03-%02d %02d:%02d:00\n", a, seq, r.IntN(500), r.IntN(10), kinds[r.IntN(3)], 1+r.IntN(28), r.IntN(24), r.IntN(60))
		}
	}
	return map[string]string{"d_accounts": acc.String(), "d_moves": mov.String(), "d_owners": own.String(), "d_branches": br.String()}
}

// diffQueries are the suite's queries; ordered ones compare in order.
var diffQueries = []struct {
	sql     string
	ordered bool
}{
	{"SELECT count(*), sum(balance), min(balance), max(balance) FROM d_accounts", false},
	{"SELECT avg(balance) FROM d_accounts", false},
	{"SELECT branch, count(*), sum(balance) FROM d_accounts GROUP BY branch ORDER BY branch", true},
	{"SELECT aid, balance FROM d_accounts ORDER BY balance DESC NULLS LAST, aid LIMIT 7", true},
	{"SELECT aid, balance FROM d_accounts ORDER BY balance NULLS FIRST, aid LIMIT 5 OFFSET 3", true},
	{"SELECT aid, opened FROM d_accounts WHERE opened > '2024-06-01' ORDER BY opened, aid LIMIT 10", true},
	{"SELECT * FROM d_accounts WHERE aid = 42", false},
	{"SELECT * FROM d_accounts WHERE aid IN (1, 2, 3, 250)", false},
	{"SELECT owner, count(*) FROM d_accounts GROUP BY owner HAVING count(*) > 10", false},
	{"SELECT count(DISTINCT owner), count(DISTINCT branch) FROM d_accounts", false},
	{"SELECT aid, count(*), sum(amount) FROM d_moves GROUP BY aid ORDER BY sum(amount) DESC, aid LIMIT 5", true},
	{"SELECT a.aid, a.owner, m.seq, m.amount FROM d_accounts a JOIN d_moves m ON m.aid = a.aid WHERE a.aid < 20", false},
	{"SELECT a.branch, count(m.*) FROM d_accounts a LEFT JOIN d_moves m ON m.aid = a.aid GROUP BY a.branch", false},
	{"SELECT a.aid, b.city FROM d_accounts a JOIN d_branches b ON b.branch = a.branch WHERE a.aid % 50 = 0", false},
	{"SELECT b.city, sum(a.balance) FROM d_accounts a JOIN d_branches b USING (branch) GROUP BY b.city", false},
	{"SELECT o.country, count(*) FROM d_accounts a JOIN d_owners o ON o.owner = a.owner GROUP BY o.country", false},
	{"SELECT a.aid FROM d_accounts a WHERE a.owner IN (SELECT owner FROM d_owners WHERE score > 50) AND a.aid < 100", false},
	{"SELECT aid FROM d_accounts a WHERE EXISTS (SELECT 1 FROM d_moves m WHERE m.aid = a.aid AND m.kind = 'fee')", false},
	{"WITH big AS (SELECT aid, balance FROM d_accounts WHERE balance > 5000) SELECT count(*), max(balance) FROM big", false},
	{"SELECT kind, count(*), round(avg(amount), 3) FROM d_moves GROUP BY kind", false},
	{"SELECT DISTINCT branch FROM d_accounts", false},
	{"SELECT aid, seq, sum(amount) OVER (PARTITION BY aid ORDER BY seq) FROM d_moves WHERE aid < 30", false},
	{"SELECT owner, rank() OVER (ORDER BY score DESC) FROM d_owners", false},
	{"SELECT aid FROM d_accounts WHERE balance IS NULL", false},
	{"SELECT aid FROM d_accounts WHERE aid < 5 UNION SELECT aid FROM d_moves WHERE aid > 295", false},
	{"SELECT date_trunc('day', at) AS d, count(*) FROM d_moves GROUP BY d ORDER BY d LIMIT 5", true},
	{"SELECT string_agg(owner, ',' ORDER BY owner) FROM d_owners WHERE country = 'fr'", false},
	{"SELECT count(*) FROM d_accounts WHERE owner LIKE 'o1%'", false},
	{"SELECT branch, percentile_disc(0.5) WITHIN GROUP (ORDER BY balance) FROM d_accounts GROUP BY branch", false},
	{"SELECT a.owner, sum(m.amount) FROM d_accounts a JOIN d_moves m ON m.aid = a.aid GROUP BY a.owner ORDER BY 2 DESC, 1 LIMIT 3", true},
	{"SELECT count(*) FROM d_accounts WHERE aid = 1 AND aid = 2", false},
	{"SELECT max(score), min(score) FROM d_owners", false},
}

// testDifferential loads the same rows into a plain PostgreSQL (the
// oracle) and into the cluster (through pgfed's COPY), then checks that
// every query of diffQueries returns the same rows on both.
func testDifferential(t *testing.T, c *cluster, oracle *pgcluster.Server) {
	ctx := testCtx(t)
	oc, err := oracle.Connect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close(ctx)
	conn := c.connect(t)
	data := diffData()
	for _, d := range diffSchema {
		c.distribute(t, d.ddl, d.name, d.column, d.typ, d.shards, d.colocate)
		if _, err := oc.Exec(ctx, d.ddl); err != nil {
			t.Fatal(err)
		}
		for _, target := range []*pgx.Conn{oc, conn} {
			if _, err := target.PgConn().CopyFrom(ctx, strings.NewReader(data[d.name]), "COPY "+d.name+" FROM STDIN"); err != nil {
				t.Fatalf("load %s: %v", d.name, err)
			}
		}
	}
	CompareWithOracle(t, oc, conn, func(yield func(string, bool) bool) {
		for _, q := range diffQueries {
			if !yield(q.sql, q.ordered) {
				return
			}
		}
	})
}

// CompareWithOracle runs each query on the oracle and through the
// cluster, with the simple protocol (text values) and then, on the
// cluster, as a prepared statement too, and reports every query whose
// results differ (column names and types, then rows: in order when
// ordered, else as multisets). It is the differential helper larger
// corpora build on (see executor/difftest for the corpus and its
// comparison).
func CompareWithOracle(t *testing.T, oracle, cluster *pgx.Conn, queries func(yield func(sql string, ordered bool) bool)) {
	t.Helper()
	ctx := testCtx(t)
	n, rows := 0, 0
	for q, ordered := range queries {
		n++
		want, err := difftest.Run(ctx, oracle, q)
		if err != nil {
			t.Errorf("oracle: %s: %v", q, err)
			continue
		}
		rows += len(want.Rows)
		got, err := difftest.Run(ctx, cluster, q)
		if err != nil {
			t.Errorf("cluster: %s: %v", q, err)
			continue
		}
		if d := difftest.Diff(want, got, ordered); d != "" {
			t.Errorf("%s\n%s", q, d)
		}
		// The extended protocol: Parse (planned once), Bind, Execute.
		res := cluster.PgConn().ExecParams(ctx, q, nil, nil, nil, nil).Read()
		if res.Err != nil {
			t.Errorf("cluster, extended protocol: %s: %v", q, res.Err)
			continue
		}
		ext := difftest.Result{Names: got.Names, OIDs: got.OIDs}
		for _, row := range res.Rows {
			r := make([]*string, len(row))
			for i, v := range row {
				if v != nil {
					s := string(v)
					r[i] = &s
				}
			}
			ext.Rows = append(ext.Rows, r)
		}
		if d := difftest.Diff(want, ext, ordered); d != "" {
			t.Errorf("extended protocol: %s\n%s", q, d)
		}
	}
	if n == 0 || rows < n {
		t.Errorf("%d queries returned only %d rows on the oracle: the comparison is too weak", n, rows)
	}
	t.Logf("%d queries, %d oracle rows, same results", n, rows)
}
