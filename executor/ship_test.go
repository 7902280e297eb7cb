package executor

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/wire"
)

// TestShippedSubquery: a non-co-located IN (SELECT ...) runs the
// subquery first and sends its result to the shards as a constant array
// (EXPLAIN shows it); past pgfed.max_shipped_rows the statement pulls
// instead, with the same answer.
func TestShippedSubquery(t *testing.T) {
	c := newCluster(t)
	conn := c.connect(t)
	c.distribute(t, "CREATE TABLE accounts (id bigint PRIMARY KEY, owner text, balance int)", "accounts", "id", catalog.TypeInt8, 4, "")
	c.distribute(t, "CREATE TABLE flags (code text PRIMARY KEY, account bigint)", "flags", "code", catalog.TypeText, 2, "")
	mustExec(t, conn, "INSERT INTO accounts SELECT g, 'o' || (g % 7), g * 10 FROM generate_series(1, 50) g")
	mustExec(t, conn, `INSERT INTO flags VALUES ('a', 3), ('b', 17), ('c"q', 42), ('d''x', NULL), ('e\z', 17)`)

	const q = "SELECT count(*), sum(balance) FROM accounts WHERE id IN (SELECT account FROM flags WHERE code <> 'zz')"
	const notIn = "SELECT count(*) FROM accounts WHERE id NOT IN (SELECT account FROM flags WHERE account IS NOT NULL)"
	const byText = "SELECT id FROM accounts WHERE owner IN (SELECT code FROM flags) OR owner = ANY (SELECT 'o' || account FROM flags) ORDER BY id"
	want := map[string]string{q: "3,620", notIn: "47", byText: "3,10,17,24,31,38,45"}
	check := func(label string) {
		t.Helper()
		for _, sql := range []string{q, notIn, byText} {
			var parts []string
			for _, r := range queryStrings(t, conn, sql) {
				parts = append(parts, strings.Join(r, ","))
			}
			if got := strings.Join(parts, ","); got != want[sql] {
				t.Errorf("%s: %s: got %s, want %s", label, sql, got, want[sql])
			}
		}
	}
	check("shipped")
	var plan []string
	for _, r := range queryStrings(t, conn, "EXPLAIN (VERBOSE) "+q) {
		plan = append(plan, r[0])
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "Shipped Subplan") || !strings.Contains(text, "= ANY ('{") {
		t.Errorf("EXPLAIN does not show the shipped subquery:\n%s", text)
	}
	// A scalar subquery is shipped as its value, and keeps its column
	// name.
	rows, err := conn.Query(testCtx(t), "SELECT id, (SELECT max(account) FROM flags) FROM accounts WHERE balance > (SELECT max(account) FROM flags) * 11 ORDER BY id LIMIT 2")
	if err != nil {
		t.Fatal(err)
	}
	if f := rows.FieldDescriptions(); len(f) != 2 || f[1].Name != "max" {
		t.Errorf("scalar subquery's column: %v", f)
	}
	var got []string
	for rows.Next() {
		var id, m int64
		if err := rows.Scan(&id, &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(id, ":", m))
	}
	if rows.Close(); strings.Join(got, ",") != "47:42,48:42" {
		t.Errorf("scalar shipped: %v", got)
	}

	// A subquery of arrays cannot be an array constant: pulled instead.
	if got := queryStrings(t, conn, "SELECT count(*) FROM accounts WHERE ARRAY[id] IN (SELECT ARRAY[account] FROM flags)"); got[0][0] != "3" {
		t.Errorf("IN over arrays: %v", got)
	}

	// Past the limit: pulled, same answers.
	mustExec(t, conn, "SET pgfed.max_shipped_rows = 2")
	check("past the limit")
	for _, r := range queryStrings(t, conn, "EXPLAIN "+q) {
		if strings.Contains(r[0], "Shipped") {
			t.Errorf("EXPLAIN past the limit still ships: %s", r[0])
		}
	}
	mustExec(t, conn, "RESET pgfed.max_shipped_rows")

	// UPDATE and DELETE reading another distributed table in IN.
	if tag := mustExec(t, conn, "DELETE FROM accounts WHERE id IN (SELECT account FROM flags WHERE code = 'a')"); tag != "DELETE 1" {
		t.Errorf("DELETE with a shipped IN: %s", tag)
	}
	if tag := mustExec(t, conn, "UPDATE accounts SET balance = 0 WHERE id = ANY (SELECT account FROM flags)"); tag != "UPDATE 2" {
		t.Errorf("UPDATE with a shipped ANY: %s", tag)
	}
	if got := queryStrings(t, conn, "SELECT count(*) FROM accounts WHERE balance = 0"); got[0][0] != "2" {
		t.Errorf("after the UPDATE: %v", got)
	}
	// A scalar subquery with several rows is PostgreSQL's error.
	var pe *pgconn.PgError
	if _, err := conn.Exec(testCtx(t), "UPDATE accounts SET balance = 1 WHERE id = (SELECT account FROM flags)"); !errors.As(err, &pe) || pe.Code != "21000" {
		t.Errorf("scalar subquery of several rows: %v, want 21000", err)
	}
	// Past the limit an UPDATE cannot pull: the limit's error.
	mustExec(t, conn, "SET pgfed.max_shipped_rows = 1")
	if _, err := conn.Exec(testCtx(t), "DELETE FROM accounts WHERE id IN (SELECT account FROM flags)"); !errors.As(err, &pe) || pe.Code != "54000" ||
		!strings.Contains(pe.Message, "pgfed.max_shipped_rows") {
		t.Errorf("DELETE past the limit: %v, want 54000 naming pgfed.max_shipped_rows", err)
	}
}

// TestShippedSubqueryPortal: a plan with a shipped subquery executed with
// a row limit (JDBC's fetch size) runs its subquery first, as any other
// execution does.
func TestShippedSubqueryPortal(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	conn := c.connect(t)
	c.distribute(t, "CREATE TABLE items (id bigint PRIMARY KEY)", "items", "id", catalog.TypeInt8, 4, "")
	c.distribute(t, "CREATE TABLE picks (code text PRIMARY KEY, item bigint)", "picks", "code", catalog.TypeText, 2, "")
	mustExec(t, conn, "INSERT INTO items SELECT generate_series(1, 30)")
	mustExec(t, conn, "INSERT INTO picks VALUES ('a', 4), ('b', 9), ('c', 25)")

	s := newSession(t, &c.env, nil)
	h, desc, err := s.Prepare(ctx, "", "SELECT id FROM items WHERE id IN (SELECT item FROM picks)", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &wire.Portal{Statement: &wire.Statement{Handle: h, Desc: desc}}
	var got []string
	for more := true; more; {
		r := &recorder{}
		if more, err = s.Execute(ctx, p, wire.ExecuteOptions{MaxRows: 1}, r); err != nil {
			t.Fatal(err)
		}
		for _, l := range r.lines {
			if strings.HasPrefix(l, "row ") {
				got = append(got, strings.TrimPrefix(l, "row "))
			}
		}
	}
	slices.Sort(got)
	if strings.Join(got, ";") != "25;4;9" {
		t.Errorf("rows: %v", got)
	}
}
