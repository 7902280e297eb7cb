package executor

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
)

// testMultiShard checks multi-shard SELECTs against what the data must
// give, computed independently.
func testMultiShard(t *testing.T, c *cluster) {
	conn := c.connect(t)
	for _, tc := range []struct {
		q    string
		want string // rows joined by ";", columns by ","
	}{
		{"SELECT count(*) FROM orders", "40"},
		{"SELECT id FROM orders ORDER BY id LIMIT 3", "1;2;3"},
		{"SELECT id FROM orders ORDER BY id DESC LIMIT 2 OFFSET 1", "39;38"},
		{"SELECT id, amount FROM orders ORDER BY amount DESC, id LIMIT 2", "40,400.5;39,390.5"},
		{"SELECT sum(amount), min(id), max(id) FROM orders", "8220.0,1,40"},
		{"SELECT avg(id)::numeric(10,2) FROM orders", "20.50"},
		{"SELECT customer, count(*) FROM orders GROUP BY customer ORDER BY customer", "0,5;1,6;2,6;3,6;4,6;5,6;6,5"},
		{"SELECT order_id, count(*) FROM items GROUP BY order_id ORDER BY order_id LIMIT 0", ""},
		{"SELECT order_id, sum(price) FROM items GROUP BY order_id ORDER BY order_id LIMIT 2", "1,3;2,6"},
		{"SELECT count(DISTINCT customer) FROM orders", "7"},
		{"SELECT count(DISTINCT n) FROM items", "2"},
		{"SELECT o.id, sum(i.price) FROM orders o JOIN items i ON i.order_id = o.id WHERE o.id < 3 GROUP BY o.id ORDER BY o.id", "1,3;2,6"},
		{"SELECT count(*) FROM orders o JOIN items i ON i.order_id = o.id", "80"},
		// Not co-located: customers is distributed on another key.
		{"SELECT c.name, count(*) FROM orders o JOIN customers c ON c.cid = o.customer GROUP BY c.name ORDER BY c.name", "c0,5;c1,6;c2,6;c3,6;c4,6;c5,6;c6,5"},
		{"SELECT count(*) FROM orders WHERE customer IN (SELECT cid FROM customers WHERE name = 'c3')", "6"},
	} {
		got := joinRows(queryStrings(t, conn, tc.q))
		if got != tc.want {
			t.Errorf("%s\n got %q\nwant %q", tc.q, got, tc.want)
		}
	}
	// Unordered multi-shard rows come as a multiset.
	rows := queryStrings(t, conn, "SELECT id FROM orders WHERE id <= 10")
	var ids []string
	for _, r := range rows {
		ids = append(ids, r[0])
	}
	sort.Strings(ids)
	if want := strings.Fields("1 10 2 3 4 5 6 7 8 9"); !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v", ids)
	}
	// Prepared multi-shard statements with parameters (pgx's cache).
	ctx := testCtx(t)
	for lim := 1; lim <= 4; lim++ {
		r, err := conn.Query(ctx, "SELECT id FROM orders WHERE customer = $1 ORDER BY id LIMIT $2", 3, lim)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for r.Next() {
			var id int64
			r.Scan(&id)
			got = append(got, id)
		}
		if r.Err() != nil || len(got) != lim || got[0] != 3 {
			t.Errorf("limit %d: %v %v", lim, got, r.Err())
		}
	}
	// The intermediate result limit, named in the error.
	mustExec(t, conn, "SET pgfed.max_intermediate_rows = 3")
	_, err := conn.Exec(ctx, "SELECT c.name, count(*) FROM orders o JOIN customers c ON c.cid = o.customer GROUP BY c.name")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "54000" || !strings.Contains(pe.Message, "pgfed.max_intermediate_rows") {
		t.Errorf("over the limit: %v", err)
	}
	mustExec(t, conn, "RESET pgfed.max_intermediate_rows")
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders o JOIN customers c ON c.cid = o.customer")); got != "40" {
		t.Errorf("after reset: %s", got)
	}
	// The workers print values with the session's TimeZone and DateStyle.
	tz := c.connect(t)
	mustExec(t, tz, "SET TimeZone = 'America/New_York'")
	mustExec(t, tz, "SET DateStyle = 'SQL, DMY'")
	for _, q := range []string{
		"SELECT '2024-01-01 00:00:00+00'::timestamptz, '2024-02-03'::date FROM orders WHERE id = 1",
		"SELECT '2024-01-01 00:00:00+00'::timestamptz, '2024-02-03'::date FROM orders WHERE id < 3 LIMIT 1",
	} {
		if got := joinRows(queryStrings(t, tz, q)); got != "31/12/2023 19:00:00 EST,03/02/2024" {
			t.Errorf("%s: %q", q, got)
		}
	}
	// Sorted on a date key printed in that style: merged right.
	c.distribute(t, "CREATE TABLE dates (id int, d date)", "dates", "id", catalog.TypeInt4, 4, "")
	var vals []string
	for g := 1; g <= 40; g++ {
		vals = append(vals, fmt.Sprintf("(%d, '2024-01-01'::date + %d)", g, g))
	}
	mustExec(t, conn, "INSERT INTO dates VALUES "+strings.Join(vals, ", "))
	q := "SELECT id, d FROM dates ORDER BY d DESC LIMIT 3"
	if got := joinRows(queryStrings(t, tz, q)); got != "40,10/02/2024;39,09/02/2024;38,08/02/2024" {
		t.Errorf("%s: %q", q, got)
	}
	if p := joinRows(queryStrings(t, tz, "EXPLAIN "+q)); !strings.Contains(p, "Merge Sort (pgfed)") {
		t.Errorf("not a merge sort plan: %s", p)
	}
	brows, err := tz.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var bids []int64
	for brows.Next() {
		var id int64
		var d any
		if err := brows.Scan(&id, &d); err != nil {
			t.Fatal(err)
		}
		bids = append(bids, id)
	}
	if fmt.Sprint(bids) != "[40 39 38]" || brows.Err() != nil {
		t.Errorf("%s (binary): %v %v", q, bids, brows.Err())
	}
}

// joinRows joins rows for comparison.
func joinRows(rows [][]string) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = strings.Join(r, ",")
	}
	return strings.Join(parts, ";")
}

// testLimitStops checks that a parallel read stops its tasks once LIMIT
// rows are out: only row 8 matches, every other row costs its shard a
// second, so the shards without row 8 would take about 5 s.
func testLimitStops(t *testing.T, c *cluster) {
	conn := c.connect(t)
	// A table of its own: row 8 comes first in its shard.
	c.distribute(t, "CREATE TABLE slow (id int)", "slow", "id", catalog.TypeInt4, 8, "")
	var vals []string
	vals = append(vals, "(8)")
	for i := 1; i <= 40; i++ {
		if i != 8 {
			vals = append(vals, fmt.Sprintf("(%d)", i))
		}
	}
	mustExec(t, conn, "INSERT INTO slow VALUES "+strings.Join(vals, ", "))
	start := time.Now()
	rows := queryStrings(t, conn, "SELECT id FROM slow WHERE CASE WHEN id = 8 THEN true ELSE pg_sleep(1 + 0 * id)::text = 'x' END LIMIT 1")
	if len(rows) != 1 || rows[0][0] != "8" {
		t.Fatalf("rows: %v", rows)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("LIMIT 1 took %v: the tasks were not stopped", d)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM slow")); got != "40" {
		t.Errorf("after a stopped read: %s", got)
	}
}

// testSearchPath checks that unqualified names resolve through the
// session's search_path, set with SET or at startup.
func testSearchPath(t *testing.T, c *cluster) {
	runOn(t, c.pg, "CREATE SCHEMA app")
	c.distribute(t, "CREATE TABLE app.things (id int, v text)", "app.things", "id", catalog.TypeInt4, 4, "")
	conn := c.connect(t)
	mustExec(t, conn, "INSERT INTO app.things VALUES (1, 'a'), (2, 'b'), (3, 'c')")
	mustExec(t, conn, "SET search_path = app, public")
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM things")); got != "3" {
		t.Errorf("through SET search_path: %s", got)
	}
	if tag := mustExec(t, conn, "INSERT INTO things VALUES (4, 'd')"); tag != "INSERT 0 1" {
		t.Errorf("insert through the search path: %s", tag)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT v FROM things WHERE id = 4")); got != "d" {
		t.Errorf("router through the search path: %s", got)
	}
	startup := c.connect(t, "search_path=app")
	if got := joinRows(queryStrings(t, startup, "SELECT count(*) FROM things")); got != "4" {
		t.Errorf("through the startup search_path: %s", got)
	}
	if got := joinRows(queryStrings(t, c.connect(t), "SELECT count(*) FROM app.things")); got != "4" {
		t.Errorf("qualified: %s", got)
	}
}
