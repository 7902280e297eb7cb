package executor

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
)

// wantGuarded checks that err is the guard's 0A000 naming the function
// and the table.
func wantGuarded(t *testing.T, q string, err error, fn, table string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Errorf("%s: got %v, want 0A000", q, err)
		return
	}
	if pe.Code != "0A000" || !strings.Contains(pe.Message, fn) || !strings.Contains(pe.Message, table) || pe.Hint == "" {
		t.Errorf("%s: got %s %q (hint %q), want 0A000 naming %s and %s with a hint", q, pe.Code, pe.Message, pe.Hint, fn, table)
	}
}

// TestFunctionGuard: a local statement calling a user-defined function
// whose body reads a distributed table fails with 0A000 instead of
// reading the empty shell; functions over local tables still run.
func TestFunctionGuard(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	conn := c.connect(t)

	// A local table and functions over it; a table distributed only after
	// a function reading it was created.
	mustExec(t, conn, "CREATE TABLE loc (x int)")
	mustExec(t, conn, "INSERT INTO loc VALUES (1)")
	mustExec(t, conn, "CREATE FUNCTION f_loc() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM loc'")
	mustExec(t, conn, "CREATE TABLE pre (id int, v int)")
	mustExec(t, conn, "CREATE FUNCTION f_pre() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM pre'")
	// A SQL-standard body (pgfed refuses it once pre is distributed: it
	// names the table outside a string).
	mustExec(t, conn, "CREATE FUNCTION f_pre_atomic() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM pre; END")
	if got := queryStrings(t, conn, "SELECT f_pre(), f_loc()"); got[0][0] != "0" || got[0][1] != "1" {
		t.Fatalf("before distributing: %v", got)
	}

	c.distribute(t, "CREATE TABLE dist (id bigint PRIMARY KEY, v int)", "dist", "id", catalog.TypeInt8, 4, "")
	c.distribute(t, "CREATE TABLE IF NOT EXISTS pre (id int, v int)", "pre", "id", catalog.TypeInt4, 4, "")
	mustExec(t, conn, "INSERT INTO dist VALUES (1, 10), (2, 20)")
	if got := queryStrings(t, conn, "SELECT count(*) FROM dist"); got[0][0] != "2" {
		t.Fatalf("count(*): %v", got)
	}

	// Functions created after the tables were distributed.
	mustExec(t, conn, "CREATE FUNCTION fdt_sql() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM dist'")
	mustExec(t, conn, `CREATE FUNCTION fdt_plpgsql() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
	SELECT count(*) INTO n FROM public.Dist;
	RETURN n;
END $$`)
	mustExec(t, conn, "CREATE FUNCTION fdt_nested() RETURNS bigint LANGUAGE sql AS 'SELECT fdt_sql() + 1'")
	mustExec(t, conn, "CREATE PROCEDURE pdt() LANGUAGE plpgsql AS $$ BEGIN PERFORM count(*) FROM dist; END $$")
	// In a transaction block: seen once it commits.
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "CREATE FUNCTION fdt_txn() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM dist'")
	mustExec(t, conn, "SELECT 1")
	mustExec(t, conn, "COMMIT")
	_, err := conn.Exec(ctx, "SELECT fdt_txn()")
	wantGuarded(t, "SELECT fdt_txn() after its block committed", err, "fdt_txn", "dist")
	// Through the extended protocol.
	if _, err := conn.PgConn().ExecParams(ctx,
		"CREATE FUNCTION fdt_ext() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM dist'", nil, nil, nil, nil).Close(); err != nil {
		t.Fatalf("CREATE FUNCTION under the extended protocol: %v", err)
	}

	for _, tc := range []struct{ q, fn, table string }{
		{"SELECT fdt_sql()", "fdt_sql", "dist"},
		{"select * from FDT_SQL ()", "FDT_SQL", "dist"},
		{"SELECT fdt_plpgsql()", "fdt_plpgsql", "Dist"},
		{"SELECT f_pre_atomic()", "f_pre_atomic", "pre"},
		{"SELECT fdt_nested()", "fdt_nested", "dist"},
		{"CALL pdt()", "pdt", "dist"},
		{"SELECT f_pre()", "f_pre", "pre"},
		{"SELECT fdt_txn()", "fdt_txn", "dist"},
		{"SELECT fdt_ext()", "fdt_ext", "dist"},
		{"SELECT x, fdt_sql() FROM loc", "fdt_sql", "dist"},
		{"SELECT 1; SELECT fdt_sql()", "fdt_sql", "dist"},
		{"DO $$ BEGIN PERFORM fdt_sql(); END $$", "fdt_sql", "dist"},
		{"CREATE TABLE copy_of AS SELECT fdt_sql()", "fdt_sql", "dist"},
	} {
		_, err := conn.Exec(ctx, tc.q, pgx.QueryExecModeSimpleProtocol)
		wantGuarded(t, tc.q, err, tc.fn, tc.table)
	}
	// Under the extended protocol, with a parameter.
	q := "SELECT fdt_sql() + $1"
	_, err = conn.Exec(ctx, q, 1)
	wantGuarded(t, q, err, "fdt_sql", "dist")
	// In a transaction block the refusal fails the block, as any error.
	mustExec(t, conn, "BEGIN")
	_, err = conn.Exec(ctx, "SELECT fdt_sql()")
	wantGuarded(t, "SELECT fdt_sql() in a block", err, "fdt_sql", "dist")
	mustExec(t, conn, "ROLLBACK")

	// Next to a distributed table (pushed to the workers, or run over
	// intermediate results on the coordinator) the call is refused too.
	for _, q := range []string{
		"SELECT id, fdt_plpgsql() FROM dist",
		"SELECT * FROM dist WHERE v = fdt_plpgsql()",
		"SELECT * FROM dist WHERE id = 1 AND v < fdt_plpgsql()",
		"EXPLAIN SELECT fdt_plpgsql() FROM dist",
	} {
		_, err := conn.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol)
		wantGuarded(t, q, err, "fdt_plpgsql", "Dist")
		_, err = conn.Exec(ctx, q)
		wantGuarded(t, q+" (extended)", err, "fdt_plpgsql", "Dist")
	}
	// A function created directly on the metadata database, bypassing
	// pgfed, is seen at its first call (its name is new).
	runOn(t, c.pg, "CREATE FUNCTION fdt_direct() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM dist'")
	_, err = conn.Exec(ctx, "SELECT fdt_direct()")
	wantGuarded(t, "SELECT fdt_direct() created on the metadata database", err, "fdt_direct", "dist")
	// Names followed by "(" that are no function (an INSERT's column
	// list) are looked up once and work.
	mustExec(t, conn, "INSERT INTO loc (x) VALUES (2)")
	mustExec(t, conn, "INSERT INTO loc (x) VALUES (3)")

	// Functions over local tables, and statements naming the functions
	// without calling them, run.
	if got := queryStrings(t, conn, "SELECT f_loc(), 'fdt_sql'"); got[0][0] != "3" {
		t.Errorf("f_loc(): %v", got)
	}
	if _, err := conn.Exec(ctx, "SELECT f_loc() + $1", 1); err != nil {
		t.Errorf("f_loc() under the extended protocol: %v", err)
	}

	mustExec(t, conn, "COMMENT ON FUNCTION fdt_sql() IS 'reads dist'")
	mustExec(t, conn, "CREATE OR REPLACE FUNCTION fdt_sql() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM loc'")
	if got := queryStrings(t, conn, "SELECT fdt_sql()"); got[0][0] != "3" {
		t.Errorf("fdt_sql() replaced to read loc: %v", got)
	}
	mustExec(t, conn, "DROP FUNCTION fdt_ext()")

	// A new connection sees the same.
	other := c.connect(t)
	_, err = other.Exec(ctx, "SELECT fdt_plpgsql()")
	wantGuarded(t, "SELECT fdt_plpgsql() on another connection", err, "fdt_plpgsql", "Dist")
}

func TestCallsGuarded(t *testing.T) {
	guarded := map[string]string{"fdt": "dist", "tot$2": "orders"}
	for _, tc := range []struct {
		sql, fn string
	}{
		{"SELECT fdt()", "fdt"},
		{"SELECT public.FDT (1)", "FDT"},
		{`SELECT "fdt"()`, "fdt"},
		{"SELECT 1 FROM fdt", ""},
		{"SELECT my_fdt()", ""},
		{"SELECT fdt_x()", ""},
		{"SELECT tot$2(3)", "tot$2"},
		{"SELECT count(*) FROM t", ""},
	} {
		fn, _, ok := callsGuarded(tc.sql, guarded)
		if fn != tc.fn || ok != (tc.fn != "") {
			t.Errorf("%s: %q %v, want %q", tc.sql, fn, ok, tc.fn)
		}
	}
	for _, tc := range []struct {
		sql  string
		want bool
	}{
		{"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", true},
		{"drop procedure p()", true},
		{"ALTER ROUTINE r() OWNER TO x", true},
		{"CREATE TABLE my_function (x int)", false},
		{"create or replace view v as select 1", true},
		{"CREATE TABLE review (x int)", false},
	} {
		if got := mentionsRoutine(tc.sql); got != tc.want {
			t.Errorf("mentionsRoutine(%s) = %v", tc.sql, got)
		}
	}
}

// BenchmarkLocalGuard measures what the guard adds to a local
// statement's planning: nothing when no function reads a distributed
// table (one len check), a word scan otherwise.
func BenchmarkLocalGuard(b *testing.B) {
	const q = "SELECT id, name, created_at FROM accounts WHERE owner = 'someone' AND lower(name) LIKE 'a%' ORDER BY id LIMIT 10"
	b.Run("none", func(b *testing.B) {
		st := &catalogState{}
		for b.Loop() {
			if len(st.guarded) > 0 {
				st.guard(q, true)
			}
		}
	})
	b.Run("some", func(b *testing.B) {
		st := &catalogState{guarded: map[string]string{"fdt": "dist", "my_total": "orders"}}
		for b.Loop() {
			if len(st.guarded) > 0 {
				st.guard(q, true)
			}
		}
	})
}
