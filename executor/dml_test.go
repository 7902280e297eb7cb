package executor

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
)

// testDML checks the command tags of writes that span shards, RETURNING,
// and that an autocommit statement writing several workers is atomic.
func testDML(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	if tag := mustExec(t, conn, "INSERT INTO orders VALUES (3001, 1, 1, 'm'), (3002, 1, 1, 'm'), (3003, 2, 1, 'm'), (3004, 2, 1, 'm')"); tag != "INSERT 0 4" {
		t.Errorf("multi-row insert tag %q", tag)
	}
	// Writes send no row description (psql would print an empty result).
	mustExec(t, conn, "BEGIN")
	for _, q := range []string{"UPDATE orders SET note = 'm' WHERE id = 3001", "UPDATE orders SET note = note WHERE customer = 1"} {
		res, err := conn.PgConn().Exec(ctx, q).ReadAll()
		if err != nil || len(res) != 1 || res[0].FieldDescriptions != nil {
			t.Errorf("%s: %d results, fields %v, %v", q, len(res), res[0].FieldDescriptions, err)
		}
	}
	mustExec(t, conn, "COMMIT")
	if tag := mustExec(t, conn, "UPDATE orders SET amount = amount + 1 WHERE note = 'm'"); tag != "UPDATE 4" {
		t.Errorf("multi-shard update tag %q", tag)
	}
	rows := queryStrings(t, conn, "UPDATE orders SET note = 'r' WHERE note = 'm' RETURNING id, amount")
	if got := sortedJoin(rows); got != "3001,2;3002,2;3003,2;3004,2" {
		t.Errorf("update returning %q", got)
	}
	rows = queryStrings(t, conn, "INSERT INTO orders VALUES (3005, 1, 7, 'r') RETURNING id, note")
	if got := joinRows(rows); got != "3005,r" {
		t.Errorf("insert returning %q", got)
	}
	// A multi-row insert with a duplicate on one shard leaves nothing on
	// any shard.
	_, err := conn.Exec(ctx, "INSERT INTO orders VALUES (3006, 1, 1, 'r'), (3007, 1, 1, 'r'), (3001, 1, 1, 'r')")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" {
		t.Fatalf("duplicate in a multi-row insert: %v", err)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders WHERE id IN (3006, 3007)")); got != "0" {
		t.Errorf("rows left by a failed multi-row insert: %s", got)
	}
	if tag := mustExec(t, conn, "DELETE FROM orders WHERE note = 'r'"); tag != "DELETE 5" {
		t.Errorf("multi-shard delete tag %q", tag)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM orders WHERE note = 'r'").Scan(&n); err != nil || n != 0 {
		t.Errorf("after delete: %d %v", n, err)
	}
	// Prepared multi-shard writes.
	tag, err := conn.Exec(ctx, "UPDATE orders SET note = note WHERE customer = $1", 3)
	if err != nil || tag.String() != "UPDATE 6" {
		t.Errorf("prepared multi-shard update: %v %v", tag, err)
	}
}

// sortedJoin joins rows in sorted order.
func sortedJoin(rows [][]string) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = strings.Join(r, ",")
	}
	sortStrings(parts)
	return strings.Join(parts, ";")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// testCancel cancels a long statement running on the workers: the client
// gets 57014 quickly and the session goes on.
func testCancel(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	cancelSoon := func(conn *pgx.Conn) {
		go func() {
			time.Sleep(300 * time.Millisecond)
			conn.PgConn().CancelRequest(ctx)
		}()
	}
	cancelSoon(conn)
	start := time.Now()
	_, err := conn.Exec(ctx, "SELECT pg_sleep(20) FROM orders WHERE id = 1")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" {
		t.Fatalf("router cancel: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancel took %v", d)
	}
	// A multi-shard statement too.
	cancelSoon(conn)
	start = time.Now()
	_, err = conn.Exec(ctx, "SELECT count(pg_sleep(0.5)) FROM orders")
	if !errors.As(err, &pe) || pe.Code != "57014" {
		t.Fatalf("multi-shard cancel: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancel took %v", d)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders")); got != "40" {
		t.Errorf("after cancel: %s", got)
	}
}

// testWorkerDown stops a worker in the middle of a query: the client gets
// a clean error naming the worker, the session stays usable, and the
// worker is used again once it is back.
func testWorkerDown(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	w := c.workers[1]
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, "SELECT count(pg_sleep(0.2)) FROM orders")
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond)
	if err := w.StopImmediate(ctx); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || !strings.HasPrefix(pe.Code, "08") && !strings.HasPrefix(pe.Code, "57P") {
		t.Fatalf("query with a worker stopped: %v", err)
	}
	if !strings.Contains(pe.Message+pe.Detail, "worker") {
		t.Errorf("error does not name the worker: %v / %s", pe.Message, pe.Detail)
	}
	// Statements that do not need that worker still work; those that do
	// fail cleanly.
	if got := joinRows(queryStrings(t, conn, "SELECT 1")); got != "1" {
		t.Errorf("local statement after a worker failure: %s", got)
	}
	if _, err := conn.Exec(ctx, "SELECT count(*) FROM orders"); err == nil {
		t.Error("a multi-shard query succeeded with a worker down")
	}
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM orders", pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil || n != 40 {
		t.Fatalf("after the worker came back: %d %v", n, err)
	}
}

// testReferenceWrites writes a reference table: every placement gets the
// write, the client sees one placement's tag and rows.
func testReferenceWrites(t *testing.T, c *cluster) {
	c.distribute(t, "CREATE TABLE regions (code text PRIMARY KEY, name text)", "regions", "", 0, 0, "")
	conn := c.connect(t)
	if tag := mustExec(t, conn, "INSERT INTO regions VALUES ('eu', 'Europe')"); tag != "INSERT 0 1" {
		t.Errorf("insert tag %q", tag)
	}
	rows := queryStrings(t, conn, "UPDATE regions SET name = 'EU' WHERE code = 'eu' RETURNING name")
	if joinRows(rows) != "EU" {
		t.Errorf("update returning %v", rows)
	}
	ctx := testCtx(t)
	snap, _ := c.handler.Store().Snapshot(ctx)
	sh := snap.ShardsOf(catalog.RelationName{Schema: "public", Name: "regions"})[0]
	for _, w := range c.workers {
		wc, err := w.Connect(ctx, "postgres")
		if err != nil {
			t.Fatal(err)
		}
		var name string
		err = wc.QueryRow(ctx, "SELECT name FROM "+sh.Name()+" WHERE code = 'eu'").Scan(&name)
		wc.Close(ctx)
		if err != nil || name != "EU" {
			t.Errorf("placement on %s: %q %v", w.Name, name, err)
		}
	}
	// Joined with a distributed table on any shard.
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders o JOIN regions r ON r.code = 'eu'")); got != "40" {
		t.Errorf("join with the reference table: %s", got)
	}
}

// testInsertSelect checks INSERT ... SELECT whose rows go through the
// coordinator: from a local query, from a distributed one into a table
// that is not co-located, and prepared with a parameter.
func testInsertSelect(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	if tag := mustExec(t, conn, "INSERT INTO orders (id, customer, amount, note) SELECT g, g % 7, g * 1.5, 'gen' FROM generate_series(6001, 6050) g"); tag != "INSERT 0 50" {
		t.Errorf("insert from a local query: %q", tag)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*), sum(amount) FROM orders WHERE note = 'gen'")); got != "50,451912.5" {
		t.Errorf("after insert: %s", got)
	}
	if tag := mustExec(t, conn, "INSERT INTO customers SELECT id::int - 5000, note FROM orders WHERE note = 'gen' AND id <= 6010"); tag != "INSERT 0 10" {
		t.Errorf("insert from a distributed query: %q", tag)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*), min(cid), max(cid) FROM customers WHERE name = 'gen'")); got != "10,1001,1010" {
		t.Errorf("after insert into customers: %s", got)
	}
	tag, err := conn.Exec(ctx, "INSERT INTO orders SELECT g, 0, 0, $1 FROM generate_series(6101, 6110) g", "genp")
	if err != nil || tag.String() != "INSERT 0 10" {
		t.Errorf("prepared insert ... select: %v %v", tag, err)
	}
	// Atomic: a duplicate key on one shard leaves nothing.
	_, err = conn.Exec(ctx, "INSERT INTO orders SELECT g, 0, 0, 'dup' FROM generate_series(6040, 6200) g")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" {
		t.Errorf("duplicate: %v", err)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders WHERE note = 'dup'")); got != "0" {
		t.Errorf("rows of a failed insert ... select: %s", got)
	}
	mustExec(t, conn, "DELETE FROM orders WHERE note IN ('gen', 'genp')")
	mustExec(t, conn, "DELETE FROM customers WHERE name = 'gen'")
}

// testReferenceFailover reads a reference table while the worker of its
// first placement is down: the read goes to another placement.
func testReferenceFailover(t *testing.T, c *cluster) {
	c.distribute(t, "CREATE TABLE countries (code text PRIMARY KEY, name text)", "countries", "", 0, 0, "")
	conn := c.connect(t)
	mustExec(t, conn, "INSERT INTO countries VALUES ('fr', 'France'), ('de', 'Germany')")
	ctx := testCtx(t)
	w := c.workers[0]
	if err := w.StopImmediate(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := w.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}()
	if got := joinRows(queryStrings(t, conn, "SELECT name FROM countries WHERE code = 'fr'")); got != "France" {
		t.Errorf("router read with the first placement down: %q", got)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM countries WHERE code = $1", "de").Scan(&n); err != nil || n != 1 {
		t.Errorf("prepared read with the first placement down: %d %v", n, err)
	}
	// A write needs every placement: it fails cleanly.
	if _, err := conn.Exec(ctx, "INSERT INTO countries VALUES ('it', 'Italy')"); err == nil {
		t.Error("a write to a reference table succeeded with a placement down")
	}
}
