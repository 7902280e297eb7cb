package executor

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/executor/pgcluster"
)

// TestCoordinatorValues checks the writes whose values the coordinator
// computes or moves: sequence defaults, time functions evaluated once,
// UPDATE of the distribution column, and INSERT ... SELECT through the
// coordinator with ON CONFLICT and RETURNING; each with its exact
// command tag.
func TestCoordinatorValues(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL servers")
	}
	c := newCluster(t)
	conn := c.connect(t)
	mustExec(t, conn, "CREATE TABLE events (id bigserial PRIMARY KEY, kind text, seq int GENERATED ALWAYS AS IDENTITY, at timestamptz)")
	mustExec(t, conn, "SELECT create_distributed_table('events', 'id', shard_count => 4)")
	mustExec(t, conn, "CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance int, at timestamptz)")
	mustExec(t, conn, "SELECT create_distributed_table('accounts', 'id', shard_count => 4)")
	values := make([]string, 40)
	for i := range values {
		values[i] = fmt.Sprintf("(%d, 'o%d', %d)", i+1, i+1, 100)
	}
	if tag := mustExec(t, conn, "INSERT INTO accounts (id, owner, balance) VALUES "+strings.Join(values, ", ")); tag != "INSERT 0 40" {
		t.Fatalf("load accounts: %q", tag)
	}
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *cluster)
	}{
		{"sequence-defaults", testSequenceDefaults},
		{"sequence-insert-select", testSequenceInsertSelect},
		{"time-once", testTimeOnce},
		{"move-rows", testMoveRows},
		{"insert-select-clauses", testInsertSelectClauses},
		{"differential", testDMLDifferential},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, c) })
	}
}

// simpleTag runs a statement with the simple protocol and returns its
// tag.
func simpleTag(t *testing.T, conn *pgx.Conn, q string) string {
	t.Helper()
	tag, err := conn.Exec(testCtx(t), q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return tag.String()
}

// wantSQLState checks that err is a PostgreSQL error with SQLSTATE code.
func wantSQLState(t *testing.T, what string, err error, code string) *pgconn.PgError {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != code {
		t.Errorf("%s: want SQLSTATE %s, got %v", what, code, err)
		return nil
	}
	return pe
}

// routedCount counts the rows of table with id = each of ids through
// router plans (which read only the shard the id hashes to): a row in
// the wrong shard is not found.
func routedCount(t *testing.T, conn *pgx.Conn, table string, ids []string) int {
	t.Helper()
	n := 0
	for _, id := range ids {
		var k int
		if err := conn.QueryRow(testCtx(t), "SELECT count(*) FROM "+table+" WHERE id = "+id).Scan(&k); err != nil {
			t.Fatalf("count id %s: %v", id, err)
		}
		n += k
	}
	return n
}

// column returns the first column of rows.
func column(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[0]
	}
	return out
}

// testSequenceDefaults inserts into a table whose distribution column is
// a bigserial and which has an identity column: the values come from the
// metadata database's sequences, in order, and the rows land in the
// shards their ids hash to.
func testSequenceDefaults(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	for _, tc := range []struct{ q, tag string }{
		{"INSERT INTO events (kind) VALUES ('a')", "INSERT 0 1"},                                   // id 1
		{"INSERT INTO events (kind) VALUES ('b'), ('c'), ('d')", "INSERT 0 3"},                     // 2, 3, 4
		{"INSERT INTO events (id, kind) VALUES (DEFAULT, 'e'), (1000, 'f')", "INSERT 0 2"},         // 5
		{"INSERT INTO events DEFAULT VALUES", "INSERT 0 1"},                                        // 6
		{"INSERT INTO events (id, kind) VALUES (nextval('events_id_seq'), 'g')", "INSERT 0 1"},     // 7
		{"INSERT INTO events VALUES (DEFAULT, 'h')", "INSERT 0 1"},                                 // 8
		{"INSERT INTO events (kind, seq) OVERRIDING SYSTEM VALUE VALUES ('i', 500)", "INSERT 0 1"}, // 9
	} {
		if tag := simpleTag(t, conn, tc.q); tag != tc.tag {
			t.Errorf("%s: tag %q, want %q", tc.q, tag, tc.tag)
		}
	}
	if got := joinRows(queryStrings(t, conn, "SELECT currval('events_id_seq')")); got != "9" {
		t.Errorf("currval in the session: %s", got)
	}
	ids := column(queryStrings(t, conn, "SELECT id FROM events ORDER BY id"))
	if got := strings.Join(ids, ","); got != "1,2,3,4,5,6,7,8,9,1000" {
		t.Errorf("ids: %s", got)
	}
	if n := routedCount(t, conn, "events", ids); n != len(ids) {
		t.Errorf("%d of %d rows found in the shard of their id", n, len(ids))
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(DISTINCT seq), max(seq) FROM events")); got != "10,500" {
		t.Errorf("identity values: %s", got)
	}
	// GENERATED ALWAYS refuses a value, as PostgreSQL does.
	_, err := conn.Exec(ctx, "INSERT INTO events (kind, seq) VALUES ('x', 5)", pgx.QueryExecModeSimpleProtocol)
	if pe := wantSQLState(t, "value for a GENERATED ALWAYS column", err, "428C9"); pe != nil && pe.Hint == "" {
		t.Errorf("no hint: %+v", pe)
	}
	// Prepared, executed twice: new values each time.
	var id1, id2 int64
	if err := conn.QueryRow(ctx, "INSERT INTO events (kind) VALUES ($1) RETURNING id", "p").Scan(&id1); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "INSERT INTO events (kind) VALUES ($1) RETURNING id", "p").Scan(&id2); err != nil {
		t.Fatal(err)
	}
	if id1 != 10 || id2 != 11 {
		t.Errorf("prepared inserts got ids %d, %d", id1, id2)
	}
	if tag, err := conn.Exec(ctx, "INSERT INTO events (kind) VALUES ($1), ($2)", "p", "p"); err != nil || tag.String() != "INSERT 0 2" {
		t.Errorf("prepared multi-row insert: %v %v", tag, err)
	}
	// Prepared without parameters.
	for range 2 {
		if tag, err := conn.Exec(ctx, "INSERT INTO events (kind) VALUES ('np')"); err != nil || tag.String() != "INSERT 0 1" {
			t.Errorf("prepared insert without parameters: %v %v", tag, err)
		}
	}
	// SQL PREPARE and EXECUTE.
	mustExec(t, conn, "PREPARE ins(text) AS INSERT INTO events (kind) VALUES ($1)")
	for range 2 {
		if tag := simpleTag(t, conn, "EXECUTE ins('sp')"); tag != "INSERT 0 1" {
			t.Errorf("EXECUTE tag %q", tag)
		}
	}
	mustExec(t, conn, "DEALLOCATE ins")
	if n := routedCount(t, conn, "events", []string{"10", "11", "12", "13", "14", "15", "16", "17"}); n != 8 {
		t.Errorf("prepared inserts: %d of 8 rows in their shards", n)
	}
	// OVERRIDING USER VALUE ignores the identity column's value.
	if tag := simpleTag(t, conn, "INSERT INTO events (kind, seq) OVERRIDING USER VALUE VALUES ('u', 77777)"); tag != "INSERT 0 1" {
		t.Errorf("OVERRIDING USER VALUE: %q", tag)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM events WHERE seq = 77777")); got != "0" {
		t.Errorf("OVERRIDING USER VALUE kept the value: %s", got)
	}
	// The shards have neither the sequence default nor the identity.
	for _, w := range c.workers {
		wc, err := w.Connect(ctx, "postgres")
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = wc.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns WHERE table_name LIKE 'events\_%'
			AND (column_default IS NOT NULL OR is_identity = 'YES')`).Scan(&n)
		wc.Close(ctx)
		if err != nil || n != 0 {
			t.Errorf("%s: %d shard columns with a default or identity (%v)", w.Name, n, err)
		}
	}
	// EXPLAIN shows the INSERT with its values; EXPLAIN of a moving
	// UPDATE is refused.
	if got := joinRows(queryStrings(t, conn, "EXPLAIN (COSTS OFF) INSERT INTO events (kind) VALUES ('e')")); !strings.Contains(got, "Task Count: 1") {
		t.Errorf("EXPLAIN of an INSERT with sequence values: %s", got)
	}
	_, err = conn.Exec(ctx, "EXPLAIN ANALYZE UPDATE events SET id = id + 1", pgx.QueryExecModeSimpleProtocol)
	wantSQLState(t, "EXPLAIN ANALYZE of a moving UPDATE", err, "0A000")
	// A reference table's serial column.
	mustExec(t, conn, "CREATE TABLE kinds (id serial PRIMARY KEY, name text)")
	mustExec(t, conn, "SELECT create_reference_table('kinds')")
	if tag := simpleTag(t, conn, "INSERT INTO kinds (name) VALUES ('x'), ('y')"); tag != "INSERT 0 2" {
		t.Errorf("insert into a reference table with a serial column: %q", tag)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT id, name FROM kinds ORDER BY id")); got != "1,x;2,y" {
		t.Errorf("reference table rows: %s", got)
	}
	// An UPDATE cannot give each row a value of the sequence.
	_, err = conn.Exec(ctx, "UPDATE events SET seq = DEFAULT WHERE id = 1", pgx.QueryExecModeSimpleProtocol)
	wantSQLState(t, "UPDATE ... SET serial column = DEFAULT", err, "0A000")
	_, err = conn.Exec(ctx, "UPDATE events SET kind = 'k', seq = DEFAULT WHERE id = $1", 1)
	wantSQLState(t, "prepared UPDATE ... SET serial column = DEFAULT", err, "0A000")
	if tag := simpleTag(t, conn, "UPDATE events SET kind = DEFAULT WHERE id = 1"); tag != "UPDATE 1" {
		t.Errorf("UPDATE ... SET plain column = DEFAULT: %q", tag)
	}
	_, err = conn.Exec(ctx, "UPDATE events SET seq = nextval('events_seq_seq') WHERE id = 1", pgx.QueryExecModeSimpleProtocol)
	wantSQLState(t, "UPDATE ... SET column = nextval(...)", err, "0A000")
	// SET DEFAULT nextval(...) stays on the shell; the coordinator
	// computes it. ADD COLUMN with such a default is refused.
	mustExec(t, conn, "CREATE SEQUENCE note_seq")
	mustExec(t, conn, "CREATE TABLE notes (id int PRIMARY KEY, n bigint)")
	mustExec(t, conn, "SELECT create_distributed_table('notes', 'id', shard_count => 4)")
	mustExec(t, conn, "ALTER TABLE notes ALTER COLUMN n SET DEFAULT nextval('note_seq')")
	if tag := simpleTag(t, conn, "INSERT INTO notes (id) VALUES (1), (2)"); tag != "INSERT 0 2" {
		t.Errorf("insert after SET DEFAULT nextval: %q", tag)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT id, n FROM notes ORDER BY id")); got != "1,1;2,2" {
		t.Errorf("values of a SET DEFAULT nextval column: %s", got)
	}
	_, err = conn.Exec(ctx, "ALTER TABLE notes ADD COLUMN m bigint DEFAULT nextval('note_seq')")
	wantSQLState(t, "ADD COLUMN with a nextval default", err, "0A000")
	// COPY cannot fill the column: a clear refusal; with the column, it
	// loads.
	_, err = conn.PgConn().CopyFrom(ctx, strings.NewReader("x\n"), "COPY events (kind) FROM STDIN")
	wantSQLState(t, "COPY without the serial column", err, "0A000")
	if tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader("2000\tcopied\t2000\n"), "COPY events (id, kind, seq) FROM STDIN"); err != nil || tag.String() != "COPY 1" {
		t.Errorf("COPY with the serial column: %v %v", tag, err)
	}
}

// testSequenceInsertSelect fills the sequence columns an INSERT ...
// SELECT leaves out, from a local query and from a distributed one.
func testSequenceInsertSelect(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	if tag := simpleTag(t, conn, "INSERT INTO events (kind) SELECT 'gen' || g FROM generate_series(1, 20) g"); tag != "INSERT 0 20" {
		t.Errorf("insert ... select from a local query: %q", tag)
	}
	if tag := simpleTag(t, conn, "INSERT INTO events (kind) SELECT owner FROM accounts WHERE id <= 5"); tag != "INSERT 0 5" {
		t.Errorf("insert ... select from a distributed query: %q", tag)
	}
	tag, err := conn.Exec(ctx, "INSERT INTO events (kind) SELECT $1 || g FROM generate_series(1, 3) g", "pgen")
	if err != nil || tag.String() != "INSERT 0 3" {
		t.Errorf("prepared insert ... select: %v %v", tag, err)
	}
	ids := column(queryStrings(t, conn, "SELECT id FROM events WHERE kind LIKE 'gen%' OR kind LIKE 'o_' OR kind LIKE 'pgen%'"))
	if len(ids) != 28 {
		t.Fatalf("%d rows inserted, want 28", len(ids))
	}
	if n := routedCount(t, conn, "events", ids); n != 28 {
		t.Errorf("%d of 28 rows in the shard of their id", n)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(DISTINCT id), count(DISTINCT seq), count(seq) FROM events WHERE kind LIKE 'gen%'")); got != "20,20,20" {
		t.Errorf("distinct generated values: %s", got)
	}
	_, err = conn.Exec(ctx, "INSERT INTO events (kind, seq) SELECT 'x', 1", pgx.QueryExecModeSimpleProtocol)
	wantSQLState(t, "INSERT ... SELECT into a GENERATED ALWAYS column", err, "428C9")
}

// testTimeOnce checks that now() and CURRENT_DATE in a write reaching
// several shards are evaluated once, on the coordinator, as the
// transaction's start time.
func testTimeOnce(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var start time.Time
	if err := tx.QueryRow(ctx, "SELECT now()").Scan(&start); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if tag, err := tx.Exec(ctx, "UPDATE accounts SET at = now()", pgx.QueryExecModeSimpleProtocol); err != nil || tag.String() != "UPDATE 40" {
		t.Fatalf("multi-shard update: %v %v", tag, err)
	}
	if tag, err := tx.Exec(ctx, "INSERT INTO events (kind, at) VALUES ('t1', now()), ('t2', CURRENT_TIMESTAMP), ('t3', transaction_timestamp()), ('t4', now())"); err != nil || tag.String() != "INSERT 0 4" {
		t.Fatalf("multi-row insert: %v %v", tag, err)
	}
	// INSERT ... SELECT through the coordinator, from a distributed query.
	if tag, err := tx.Exec(ctx, "INSERT INTO events (kind, at) SELECT 'ts', now() FROM accounts WHERE id <= 20"); err != nil || tag.String() != "INSERT 0 20" {
		t.Fatalf("insert ... select: %v %v", tag, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SELECT count(DISTINCT at), min(at) FROM accounts",
		"SELECT count(DISTINCT at), min(at) FROM events WHERE kind LIKE 't_' OR kind = 'ts'"} {
		var n int
		var at time.Time
		if err := conn.QueryRow(ctx, q).Scan(&n, &at); err != nil {
			t.Fatal(err)
		}
		if n != 1 || !at.Equal(start) {
			t.Errorf("%s: %d values, %v, want the transaction's start %v", q, n, at, start)
		}
	}
	// Clock defaults: the coordinator computes them once when a write
	// reaches several shards (multi-row VALUES, INSERT ... SELECT pushed
	// down or through the coordinator).
	for _, q := range []string{
		"CREATE TABLE stamps (id int PRIMARY KEY, k text, created timestamptz DEFAULT now(), day date DEFAULT CURRENT_DATE)",
		"SELECT create_distributed_table('stamps', 'id', shard_count => 4)",
		"CREATE TABLE stamps2 (id int PRIMARY KEY, k text, created timestamptz DEFAULT CURRENT_TIMESTAMP)",
		"SELECT create_distributed_table('stamps2', 'id', colocate_with => 'stamps')",
	} {
		mustExec(t, conn, q)
	}
	tx, err = conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, "SELECT now()").Scan(&start); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	for _, tc := range []struct {
		q    string
		args []any
		tag  string
	}{
		{"INSERT INTO stamps (id, k) VALUES (1, 'v'), (2, 'v'), (3, 'v'), (4, 'v'), (5, 'v'), (6, 'v')", nil, "INSERT 0 6"},
		{"INSERT INTO stamps (id, k, created) VALUES (7, $1, DEFAULT), (8, $1, DEFAULT), (9, $2, DEFAULT)", []any{"p", "q"}, "INSERT 0 3"},
		{"INSERT INTO stamps (id, k) SELECT g, 's' FROM generate_series(100, 120) g", nil, "INSERT 0 21"},
		{"INSERT INTO stamps2 (id, k) SELECT id, k FROM stamps", nil, "INSERT 0 30"},
	} {
		if tag, err := tx.Exec(ctx, tc.q, tc.args...); err != nil || tag.String() != tc.tag {
			t.Fatalf("%s: %v %v", tc.q, tag, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SELECT count(DISTINCT created), min(created) FROM stamps", "SELECT count(DISTINCT created), min(created) FROM stamps2"} {
		var n int
		var at time.Time
		if err := conn.QueryRow(ctx, q).Scan(&n, &at); err != nil {
			t.Fatal(err)
		}
		if n != 1 || !at.Equal(start) {
			t.Errorf("%s: %d values, %v, want the transaction's start %v", q, n, at, start)
		}
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM stamps WHERE day = CURRENT_DATE")); got != "30" {
		t.Errorf("CURRENT_DATE default: %s of 30 rows", got)
	}
	// CURRENT_DATE in a multi-shard DELETE (with a prepared statement).
	if tag, err := conn.Exec(ctx, "DELETE FROM events WHERE at > CURRENT_DATE + $1::int", 2); err != nil || tag.String() != "DELETE 0" {
		t.Errorf("delete with current_date: %v %v", tag, err)
	}
}

// testMoveRows updates the distribution column: rows move to the shards
// of their new values, atomically, with the UPDATE's tag and RETURNING.
func testMoveRows(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	if tag := simpleTag(t, conn, "UPDATE accounts SET id = id + 100 WHERE id <= 10"); tag != "UPDATE 10" {
		t.Errorf("moving update tag %q", tag)
	}
	moved := make([]string, 10)
	for i := range moved {
		moved[i] = fmt.Sprint(101 + i)
	}
	if n := routedCount(t, conn, "accounts", moved); n != 10 {
		t.Errorf("%d of 10 moved rows in the shard of their new id", n)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*), count(*) FILTER (WHERE id <= 10), sum(balance) FROM accounts")); got != "40,0,4000" {
		t.Errorf("after the move: %s", got)
	}
	rows, err := conn.Query(ctx, "UPDATE accounts SET id = 200, balance = balance + 1 WHERE id = 101 RETURNING id, balance, owner", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		got = append(got, fmt.Sprint(rows.RawValues()))
	}
	rows.Close()
	if rows.Err() != nil || rows.CommandTag().String() != "UPDATE 1" || len(got) != 1 || got[0] != "[[50 48 48] [49 48 49] [111 49]]" {
		t.Errorf("update returning: %v %v %v", got, rows.CommandTag(), rows.Err())
	}
	// A failure undoes the DELETE: id 11 exists.
	_, err = conn.Exec(ctx, "UPDATE accounts SET id = 11 WHERE id = 12", pgx.QueryExecModeSimpleProtocol)
	wantSQLState(t, "move onto an existing key", err, "23505")
	if n := routedCount(t, conn, "accounts", []string{"11", "12"}); n != 2 {
		t.Errorf("after a failed move: %d of 2 rows", n)
	}
	// Rolled back with its block.
	mustExec(t, conn, "BEGIN")
	if tag := simpleTag(t, conn, "UPDATE accounts SET id = 300 WHERE id = 200"); tag != "UPDATE 1" {
		t.Errorf("moving update in a block: %q", tag)
	}
	mustExec(t, conn, "ROLLBACK")
	if n := routedCount(t, conn, "accounts", []string{"200"}); n != 1 {
		t.Errorf("rolled back move: row 200 found %d times", n)
	}
	if n := routedCount(t, conn, "accounts", []string{"300"}); n != 0 {
		t.Errorf("rolled back move: row 300 found %d times", n)
	}
	// statement_timeout ends a move.
	mustExec(t, conn, "SET statement_timeout = '200ms'")
	_, err = conn.Exec(ctx, "UPDATE accounts SET id = id + 1000 + length(pg_sleep(0.6)::text) WHERE id = 15", pgx.QueryExecModeSimpleProtocol)
	wantSQLState(t, "statement_timeout in a move", err, "57014")
	mustExec(t, conn, "RESET statement_timeout")
	if n := routedCount(t, conn, "accounts", []string{"15"}); n != 1 {
		t.Errorf("after a timed out move: row 15 found %d times", n)
	}
	// A SET list with a subquery, and a WITH before the UPDATE.
	if tag := simpleTag(t, conn, "UPDATE accounts SET balance = (SELECT 100 WHERE true), id = 16000 WHERE id = 16"); tag != "UPDATE 1" {
		t.Errorf("moving update after a subquery: %q", tag)
	}
	if tag := simpleTag(t, conn, "WITH v AS (SELECT 17 AS old) UPDATE accounts SET id = 17000 WHERE id = (SELECT old FROM v)"); tag != "UPDATE 1" {
		t.Errorf("moving update with WITH: %q", tag)
	}
	if n := routedCount(t, conn, "accounts", []string{"16000", "17000", "16", "17"}); n != 2 {
		t.Errorf("moves after a subquery or WITH: %d rows at 16000, 17000, 16, 17", n)
	}
	// A data-modifying WITH cannot move rows.
	_, err = conn.Exec(ctx, "WITH x AS (UPDATE accounts SET id = 18000 WHERE id = 18 RETURNING *) SELECT * FROM x", pgx.QueryExecModeSimpleProtocol)
	wantSQLState(t, "moving UPDATE in a WITH clause", err, "0A000")
	// Prepared, and a no-op SET id = id.
	if tag, err := conn.Exec(ctx, "UPDATE accounts SET id = $1 WHERE id = $2", 400, 13); err != nil || tag.String() != "UPDATE 1" {
		t.Errorf("prepared moving update: %v %v", tag, err)
	}
	if n := routedCount(t, conn, "accounts", []string{"400", "13"}); n != 1 {
		t.Errorf("prepared move: %d rows at 400 and 13", n)
	}
	if tag := simpleTag(t, conn, "UPDATE accounts SET id = id, balance = balance WHERE id > 20"); tag != "UPDATE 33" {
		t.Errorf("update setting id = id: %q", tag)
	}
	// A table that foreign keys reference is refused.
	mustExec(t, conn, "CREATE TABLE parents (id int PRIMARY KEY)")
	mustExec(t, conn, "CREATE TABLE kids (pid int REFERENCES parents (id))")
	mustExec(t, conn, "SELECT create_distributed_table('parents', 'id', shard_count => 4)")
	mustExec(t, conn, "SELECT create_distributed_table('kids', 'pid', colocate_with => 'parents')")
	mustExec(t, conn, "INSERT INTO parents VALUES (1)")
	_, err = conn.Exec(ctx, "UPDATE parents SET id = 999 WHERE id = 1", pgx.QueryExecModeSimpleProtocol)
	wantSQLState(t, "move in a referenced table", err, "0A000")
	if n := routedCount(t, conn, "parents", []string{"1"}); n != 1 {
		t.Errorf("refused move: row 1 found %d times", n)
	}
}

// testInsertSelectClauses runs INSERT ... SELECT through the coordinator
// with ON CONFLICT and RETURNING.
func testInsertSelectClauses(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	for _, tc := range []struct{ q, tag string }{
		{"INSERT INTO accounts (id, owner, balance) SELECT g, 'is', 0 FROM generate_series(1000, 1009) g", "INSERT 0 10"},
		{"INSERT INTO accounts (id, owner, balance) SELECT g, 'is', 0 FROM generate_series(1005, 1014) g ON CONFLICT DO NOTHING", "INSERT 0 5"},
		{"INSERT INTO accounts (id, owner, balance) SELECT g, 'is', 5 FROM generate_series(1008, 1011) g ON CONFLICT (id) DO UPDATE SET balance = accounts.balance + excluded.balance", "INSERT 0 4"},
		{"INSERT INTO accounts AS a (id, owner, balance) SELECT g, 'is', 5 FROM generate_series(1010, 1011) g ON CONFLICT (id) DO UPDATE SET balance = a.balance + 1 WHERE a.balance < 0", "INSERT 0 0"},
	} {
		if tag := simpleTag(t, conn, tc.q); tag != tc.tag {
			t.Errorf("%s: tag %q, want %q", tc.q, tag, tc.tag)
		}
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*), sum(balance) FROM accounts WHERE owner = 'is'")); got != "15,20" {
		t.Errorf("after ON CONFLICT: %s", got)
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		base := 1020
		if mode == pgx.QueryExecModeCacheStatement {
			base = 1030
		}
		rows, err := conn.Query(ctx, "INSERT INTO accounts (id, owner, balance) SELECT g, 'r', g * 2 FROM generate_series($1::int, $1::int + 4) g RETURNING id, balance", mode, base)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var id, b int
			if err := rows.Scan(&id, &b); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d:%d", id, b))
		}
		rows.Close()
		sortStrings(got)
		want := []string{}
		for i := range 5 {
			want = append(want, fmt.Sprintf("%d:%d", base+i, 2*(base+i)))
		}
		if rows.Err() != nil || rows.CommandTag().String() != "INSERT 0 5" || strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%v: RETURNING %v, tag %v, %v", mode, got, rows.CommandTag(), rows.Err())
		}
	}
	// No row: the RETURNING list is still described (simple protocol).
	for _, tc := range []struct {
		q, tag string
		fields int
	}{
		{"INSERT INTO accounts (id, owner) SELECT g, 'none' FROM generate_series(1, 0) g RETURNING id, owner", "INSERT 0 0", 2},
		{"UPDATE accounts SET id = id + 1 WHERE id < 0 RETURNING id", "UPDATE 0", 1},
	} {
		rows, err := conn.Query(ctx, tc.q, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatal(err)
		}
		fields := len(rows.FieldDescriptions())
		for rows.Next() {
		}
		rows.Close()
		if rows.Err() != nil || fields != tc.fields || rows.CommandTag().String() != tc.tag {
			t.Errorf("%s: %d fields, tag %v, %v", tc.q, fields, rows.CommandTag(), rows.Err())
		}
	}
	// The distribution column cannot be changed by DO UPDATE.
	_, err := conn.Exec(ctx, "INSERT INTO accounts (id, owner) SELECT 1000, 'x' ON CONFLICT (id) DO UPDATE SET id = 5000", pgx.QueryExecModeSimpleProtocol)
	wantSQLState(t, "DO UPDATE of the distribution column", err, "0A000")
	_, err = conn.Exec(ctx, "INSERT INTO accounts (id, owner) VALUES (1000, 'x') ON CONFLICT (id) DO UPDATE SET owner = 'y', id = 5000", pgx.QueryExecModeSimpleProtocol)
	wantSQLState(t, "DO UPDATE of the distribution column (VALUES)", err, "0A000")
	_, err = conn.Exec(ctx, "INSERT INTO accounts (id, owner) VALUES ($1, 'x') ON CONFLICT (id) DO UPDATE SET id = 5000", 1000)
	wantSQLState(t, "DO UPDATE of the distribution column (prepared)", err, "0A000")
	// A failure on one shard leaves nothing anywhere.
	_, err = conn.Exec(ctx, "INSERT INTO accounts (id, owner, balance) SELECT g, 'bad', 1 FROM generate_series(1040, 1050) g UNION ALL SELECT 1045, 'bad', 1 RETURNING id", pgx.QueryExecModeSimpleProtocol)
	wantSQLState(t, "duplicate key", err, "23505")
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM accounts WHERE owner = 'bad'")); got != "0" {
		t.Errorf("rows left by a failed insert: %s", got)
	}
}

// dmlScript is run alike on a plain PostgreSQL and on the cluster (where
// its table is distributed by its bigserial): every statement must give
// the same tag and rows (as a multiset), and the table the same rows.
var dmlScript = []string{
	"INSERT INTO dd (k, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')",
	"INSERT INTO dd (k, v) SELECT g, 'g' || g FROM generate_series(4, 30) g",
	"INSERT INTO dd (id, k, v) VALUES (DEFAULT, 31, 'x'), (1000, 32, 'y')",
	"INSERT INTO dd DEFAULT VALUES",
	"INSERT INTO dd (k, v) VALUES (33, 'r') RETURNING id, n, k",
	"INSERT INTO dd (k, v) VALUES (34, 's') ON CONFLICT DO NOTHING RETURNING id",
	"UPDATE dd SET id = id + 500 WHERE k % 3 = 0 RETURNING id, k, n",
	"UPDATE dd SET id = id + 10000, v = v || '!' WHERE k < 5",
	"UPDATE dd SET id = id - 10000 WHERE k < 3",
	"UPDATE dd SET id = 10004 WHERE k = 2",
	"UPDATE dd SET v = 'z' WHERE id = 1000",
	"UPDATE dd SET id = 7000 WHERE id = 1000 RETURNING *",
	"DELETE FROM dd WHERE k > 25 RETURNING id",
	"INSERT INTO dd (id, k, v) SELECT id + 2000, k, v FROM dd WHERE k < 10 ORDER BY k ON CONFLICT DO NOTHING",
	"INSERT INTO dd (id, k, v) SELECT id, k, 'dup' FROM dd WHERE k < 3 ORDER BY k ON CONFLICT (id) DO UPDATE SET v = excluded.v || dd.v",
	"INSERT INTO dd (id, k, v) SELECT id + 3000, k, v FROM dd WHERE k BETWEEN 10 AND 12 ORDER BY k RETURNING id, k, v",
	"INSERT INTO dd (k, v) SELECT k + 100, v FROM dd WHERE k BETWEEN 13 AND 15 ORDER BY k RETURNING id, k",
	"INSERT INTO dd (id, k, v) SELECT nextval('dd_id_seq'), k + 200, v FROM dd WHERE k BETWEEN 16 AND 18 ORDER BY k",
	"INSERT INTO dd (k, v, id) SELECT k + 300, 'n' || nextval('dd_id_seq'), nextval('dd_id_seq') FROM dd WHERE k BETWEEN 19 AND 20 ORDER BY k RETURNING id, v",
	"SELECT currval('dd_id_seq'), currval('dd_n_seq')",
	"SELECT id, k, v, n FROM dd",
}

// testDMLDifferential runs dmlScript on an oracle and on the cluster.
func testDMLDifferential(t *testing.T, c *cluster) {
	ctx := testCtx(t)
	oracle := pgcluster.StartForTest(t, pgcluster.ServerSpec{Name: "oracle"})[0]
	oc, err := oracle.Connect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close(ctx)
	conn := c.connect(t)
	const ddl = "CREATE TABLE dd (id bigserial PRIMARY KEY, k int, v text, n int GENERATED BY DEFAULT AS IDENTITY)"
	mustExec(t, oc, ddl)
	mustExec(t, conn, ddl)
	mustExec(t, conn, "SELECT create_distributed_table('dd', 'id', shard_count => 4)")
	run := func(conn *pgx.Conn, q string) string {
		errText := func(err error) string {
			var pe *pgconn.PgError
			if errors.As(err, &pe) {
				return "error " + pe.Code // constraint names differ (shards)
			}
			return "error: " + err.Error()
		}
		rows, err := conn.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			return errText(err)
		}
		var out []string
		for rows.Next() {
			out = append(out, fmt.Sprint(rows.RawValues()))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return errText(err)
		}
		sortStrings(out)
		return rows.CommandTag().String() + " " + strings.Join(out, " ")
	}
	for _, q := range dmlScript {
		want, got := run(oc, q), run(conn, q)
		if want != got {
			t.Errorf("%s:\n oracle: %s\n pgfed:  %s", q, want, got)
		}
	}
}
