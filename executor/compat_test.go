package executor

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/catalog"
)

// TestCompat runs the cases the client compatibility suite (make compat)
// found, against one cluster: each names the client behaviour it stands
// for.
func TestCompat(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL servers")
	}
	c := newCluster(t)
	c.distribute(t, "CREATE TABLE dt (id int PRIMARY KEY, v text)", "dt", "id", catalog.TypeInt4, 4, "")
	c.distribute(t, "CREATE TABLE rt (id int PRIMARY KEY, v text)", "rt", "", 0, 0, "")
	conn := c.connect(t)
	for i := 1; i <= 20; i++ {
		mustExec(t, conn, fmt.Sprintf("INSERT INTO dt VALUES (%d, 'v%d')", i, i))
	}
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *cluster)
	}{
		{"write-no-row-description", testWriteNoRowDescription},
		{"copy-out-one-row-per-message", testCopyOutRowPerMessage},
		{"reference-write-tags", testReferenceWriteTags},
		{"param-declared-type", testParamDeclaredType},
		{"statement-timeout", testStatementTimeout},
		{"citus-extended", testCitusExtended},
		{"cursor-portal", testCursorPortal},
		{"sql-prepare", testSQLPrepare},
		{"sql-cursor", testSQLCursor},
		{"sql-execute-extended", testSQLExecuteExtended},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, c) })
	}
}

// rawConn is a protocol-level connection through the coordinator.
type rawConn struct {
	t  testing.TB
	fe *pgproto3.Frontend
}

// newRawConn connects through the coordinator and hijacks the connection.
func newRawConn(t testing.TB, c *cluster) *rawConn {
	t.Helper()
	ctx := testCtx(t)
	pc, err := pgconn.Connect(ctx, c.connString())
	if err != nil {
		t.Fatal(err)
	}
	hc, err := pc.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hc.Conn.Close() })
	hc.Conn.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, fe: hc.Frontend}
}

// send sends messages and flushes.
func (r *rawConn) send(msgs ...pgproto3.FrontendMessage) {
	r.t.Helper()
	for _, m := range msgs {
		r.fe.Send(m)
	}
	if err := r.fe.Flush(); err != nil {
		r.t.Fatal(err)
	}
}

// until reads messages up to ReadyForQuery and returns them, each
// summarized: its type letter, and for some the contents ("T2" for a
// RowDescription of two columns, "C:INSERT 0 1", "E:57014", "d:<data>").
func (r *rawConn) until() []string {
	r.t.Helper()
	var got []string
	for {
		msg, err := r.fe.Receive()
		if err != nil {
			r.t.Fatalf("after %q: %v", got, err)
		}
		switch m := msg.(type) {
		case *pgproto3.ReadyForQuery:
			return got
		case *pgproto3.RowDescription:
			got = append(got, fmt.Sprintf("T%d", len(m.Fields)))
		case *pgproto3.CommandComplete:
			got = append(got, "C:"+string(m.CommandTag))
		case *pgproto3.ErrorResponse:
			got = append(got, "E:"+m.Code+":"+m.Message)
		case *pgproto3.CopyData:
			got = append(got, "d:"+string(m.Data))
		case *pgproto3.DataRow:
			vals := make([]string, len(m.Values))
			for i, v := range m.Values {
				vals[i] = string(v)
			}
			got = append(got, "D:"+strings.Join(vals, ","))
		case *pgproto3.ParameterDescription:
			got = append(got, fmt.Sprintf("t%d", len(m.ParameterOIDs)))
		case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus:
		case *pgproto3.ParseComplete:
			got = append(got, "1")
		case *pgproto3.BindComplete:
			got = append(got, "2")
		case *pgproto3.CloseComplete:
			got = append(got, "3")
		case *pgproto3.NoData:
			got = append(got, "n")
		case *pgproto3.PortalSuspended:
			got = append(got, "s")
		case *pgproto3.CopyOutResponse:
			got = append(got, "H")
		case *pgproto3.CopyDone:
			got = append(got, "c")
		default:
			got = append(got, fmt.Sprintf("%T", msg))
		}
	}
}

// simple runs a Query and returns the summarized answer.
func (r *rawConn) simple(q string) string {
	r.t.Helper()
	r.send(&pgproto3.Query{String: q})
	return strings.Join(r.until(), " ")
}

// testWriteNoRowDescription: a write without RETURNING has no result set,
// so PostgreSQL sends no RowDescription (psycopg2's description is None
// and its rowcount the tag's; JDBC in simple mode expects an update
// count; psql prints no table).
func testWriteNoRowDescription(t *testing.T, c *cluster) {
	r := newRawConn(t, c)
	for _, tc := range []struct{ q, want string }{
		{"INSERT INTO dt VALUES (101, 'a')", "C:INSERT 0 1"},
		{"UPDATE dt SET v = 'b' WHERE id = 101", "C:UPDATE 1"},
		{"UPDATE dt SET v = v WHERE id > 100", "C:UPDATE 1"},
		{"DELETE FROM dt WHERE id = 101", "C:DELETE 1"},
		{"INSERT INTO rt VALUES (101, 'a')", "C:INSERT 0 1"},
		{"DELETE FROM rt WHERE id = 101", "C:DELETE 1"},
		{"INSERT INTO dt VALUES (102, 'a'), (103, 'b')", "C:INSERT 0 2"},
		{"DELETE FROM dt WHERE id IN (102, 103) RETURNING id", "T1 D:102 D:103 C:DELETE 2"},
		{"BEGIN; INSERT INTO dt VALUES (104, 'a'); ROLLBACK", "C:BEGIN C:INSERT 0 1 C:ROLLBACK"},
		{"SELECT FROM dt WHERE id = 1", "T0 D: C:SELECT 1"},
	} {
		q, want := tc.q, tc.want
		got := r.simple(q)
		if strings.Contains(q, "RETURNING") {
			got = sortedRows(got)
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", q, got, want)
		}
	}
}

// sortedRows sorts the D: items of a summarized answer.
func sortedRows(s string) string {
	parts := strings.Fields(s)
	var rows []string
	for _, p := range parts {
		if strings.HasPrefix(p, "D:") {
			rows = append(rows, p)
		}
	}
	slices.Sort(rows)
	var out []string
	k := 0
	for _, p := range parts {
		if strings.HasPrefix(p, "D:") {
			p = rows[k]
			k++
		}
		out = append(out, p)
	}
	return strings.Join(out, " ")
}

// testCopyOutRowPerMessage: PostgreSQL sends one CopyData per row, and
// psycopg 3 loads each message as one row.
func testCopyOutRowPerMessage(t *testing.T, c *cluster) {
	r := newRawConn(t, c)
	got := r.simple("COPY (SELECT id, v FROM dt WHERE id <= 3 ORDER BY id) TO STDOUT")
	if want := "H d:1\tv1\n d:2\tv2\n d:3\tv3\n c C:COPY 3"; got != want {
		t.Errorf("copy query: got %q, want %q", got, want)
	}
	got = r.simple("COPY dt TO STDOUT")
	if n, rows := strings.Count(got, "d:"), strings.Count(got, "\n"); n != rows {
		t.Errorf("copy table: %d CopyData messages for %d rows: %q", n, rows, got)
	}
	got = r.simple("COPY (SELECT id FROM dt WHERE id <= 2 ORDER BY id) TO STDOUT (FORMAT csv, HEADER)")
	if want := "H d:id\n d:1\n d:2\n c C:COPY 2"; got != want {
		t.Errorf("copy csv with header: got %q, want %q", got, want)
	}
}

// testReferenceWriteTags: a write to a reference table runs on every
// placement, but its tag counts the rows once (JDBC's batch returns
// [1,1,1], not [2,2,2]).
func testReferenceWriteTags(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	if tag := mustExec(t, conn, "INSERT INTO rt VALUES (1, 'a'), (2, 'b'), (3, 'c')"); tag != "INSERT 0 3" {
		t.Errorf("insert of 3 rows: %q", tag)
	}
	if tag := mustExec(t, conn, "UPDATE rt SET v = 'x' WHERE id <= 3"); tag != "UPDATE 3" {
		t.Errorf("update of 3 rows: %q", tag)
	}
	// A batch of prepared inserts in one implicit transaction, as JDBC
	// sends executeBatch.
	var tags []string
	rr := conn.PgConn().ExecBatch(ctx, batchOf("INSERT INTO rt VALUES ($1, 'b')", "11", "12", "13"))
	res, err := rr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		tags = append(tags, r.CommandTag.String())
	}
	if got := strings.Join(tags, ","); got != "INSERT 0 1,INSERT 0 1,INSERT 0 1" {
		t.Errorf("batch tags %s", got)
	}
	mustExec(t, conn, "BEGIN")
	if tag := mustExec(t, conn, "DELETE FROM rt WHERE id > 10"); tag != "DELETE 3" {
		t.Errorf("delete in a block: %q", tag)
	}
	mustExec(t, conn, "COMMIT")
	if tag := mustExec(t, conn, "DELETE FROM rt"); tag != "DELETE 3" {
		t.Errorf("delete: %q", tag)
	}
}

// batchOf is a batch of one statement executed once per value.
func batchOf(sql string, vals ...string) *pgconn.Batch {
	b := &pgconn.Batch{}
	for _, v := range vals {
		b.ExecParams(sql, [][]byte{[]byte(v)}, nil, nil, nil)
	}
	return b
}

// testParamDeclaredType: psycopg 3 sends a small integer as a binary int2
// for an int4 column; the shard is the value's, read as its declared type.
func testParamDeclaredType(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	res := conn.PgConn().ExecParams(ctx, "SELECT v FROM dt WHERE id = $1", [][]byte{{0, 7}}, []uint32{21}, []int16{1}, nil).Read()
	if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != "v7" {
		t.Errorf("int2 parameter for an int4 column: %v %q", res.Err, res.Rows)
	}
	res = conn.PgConn().ExecParams(ctx, "UPDATE dt SET v = v WHERE id = $1", [][]byte{{0, 0, 0, 0, 0, 0, 0, 9}}, []uint32{20}, []int16{1}, nil).Read()
	if res.Err != nil || res.CommandTag.String() != "UPDATE 1" {
		t.Errorf("int8 parameter for an int4 column: %v %q", res.Err, res.CommandTag)
	}
}

// testStatementTimeout: statement_timeout ends distributed statements as
// it ends local ones, with PostgreSQL's error, and cancels the workers'
// statements.
func testStatementTimeout(t *testing.T, c *cluster) {
	r := newRawConn(t, c)
	const timedOut = "E:57014:canceling statement due to statement timeout"
	if got := r.simple("SET statement_timeout = '300ms'"); got != "C:SET" {
		t.Fatalf("set: %q", got)
	}
	for _, q := range []string{
		"SELECT pg_sleep(3) FROM dt WHERE id = 1",
		"SELECT count(pg_sleep(3)) FROM dt",
		"UPDATE dt SET v = v || pg_sleep(3)::text WHERE id = 2",
		"COPY (SELECT pg_sleep(3) FROM dt WHERE id = 1) TO STDOUT",
	} {
		start := time.Now()
		got := r.simple(q)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %v", q, d)
		}
		if !strings.HasSuffix(got, timedOut) {
			t.Errorf("%s: got %q, want %q", q, got, timedOut)
		}
	}
	// Under the extended protocol too, and in a block, which fails.
	r.send(&pgproto3.Parse{Query: "SELECT pg_sleep(3) FROM dt WHERE id = $1"}, &pgproto3.Bind{Parameters: [][]byte{[]byte("3")}},
		&pgproto3.Execute{}, &pgproto3.Sync{})
	if got := strings.Join(r.until(), " "); got != "1 2 "+timedOut {
		t.Errorf("extended: %q", got)
	}
	if got := r.simple("BEGIN; SELECT pg_sleep(3) FROM dt WHERE id = 1"); got != "C:BEGIN T1 "+timedOut {
		t.Errorf("in a block: %q", got)
	}
	if got := r.simple("SELECT v FROM dt WHERE id = 1"); !strings.HasPrefix(got, "E:25P02") {
		t.Errorf("after the timeout in a block: %q", got)
	}
	if got := r.simple("ROLLBACK"); got != "C:ROLLBACK" {
		t.Errorf("rollback: %q", got)
	}
	// Fast statements still run; RESET lifts the timeout.
	if got := r.simple("SELECT v FROM dt WHERE id = 1"); got != "T1 D:v1 C:SELECT 1" {
		t.Errorf("after: %q", got)
	}
	r.simple("RESET statement_timeout")
	if got := r.simple("SELECT pg_sleep(0.5) FROM dt WHERE id = 1"); got != "T1 D: C:SELECT 1" {
		t.Errorf("after reset: %q", got)
	}
	// A timeout given at startup.
	conn := c.connect(t, "options='-c statement_timeout=300'")
	_, err := conn.Exec(testCtx(t), "SELECT pg_sleep(3) FROM dt WHERE id = 1")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" || pe.Message != "canceling statement due to statement timeout" {
		t.Errorf("startup option: %v", err)
	}
	// RESET returns to the startup value, SET LOCAL lasts for the block.
	mustExec(t, conn, "SET statement_timeout = 0")
	mustExec(t, conn, "RESET statement_timeout")
	if _, err := conn.Exec(testCtx(t), "SELECT pg_sleep(3) FROM dt WHERE id = 1"); !errors.As(err, &pe) || pe.Code != "57014" {
		t.Errorf("after RESET: %v", err)
	}
	mustExec(t, conn, "RESET ALL")
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "SET LOCAL statement_timeout = 0")
	mustExec(t, conn, "SELECT pg_sleep(0.5) FROM dt WHERE id = 1")
	mustExec(t, conn, "COMMIT")
	if _, err := conn.Exec(testCtx(t), "SELECT pg_sleep(3) FROM dt WHERE id = 1"); !errors.As(err, &pe) || pe.Code != "57014" {
		t.Errorf("after RESET ALL and SET LOCAL: %v", err)
	}
}

// testCitusExtended: Citus API calls through the extended protocol, with
// the table name as a parameter (pgJDBC always uses it; so do drivers
// that bind parameters).
func testCitusExtended(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	mustExec(t, conn, "CREATE TABLE cx (id int PRIMARY KEY, v text)")
	mustExec(t, conn, "CREATE TABLE cr (id int PRIMARY KEY)")
	if tag := mustExec(t, conn, "SELECT create_distributed_table($1, $2)", "cx", "id"); tag != "SELECT 1" {
		t.Errorf("create_distributed_table tag %q", tag)
	}
	mustExec(t, conn, "SELECT create_reference_table($1::regclass)", "cr")
	mustExec(t, conn, "INSERT INTO cx VALUES (1, 'a'), (2, 'b')")
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM citus_shards WHERE table_name = 'cx'::regclass")); got != "32" {
		t.Errorf("shards of cx: %s", got)
	}
	// A bigint result in binary (pgx asks for it), an int parameter.
	var shard int64
	if err := conn.QueryRow(ctx, "SELECT get_shard_id_for_distribution_column($1, $2::int)", "cx", 2).Scan(&shard); err != nil || shard == 0 {
		t.Errorf("get_shard_id_for_distribution_column: %d %v", shard, err)
	}
	var want int64
	if err := conn.QueryRow(ctx, "SELECT get_shard_id_for_distribution_column('cx', 2)", pgx.QueryExecModeSimpleProtocol).Scan(&want); err != nil || shard != want {
		t.Errorf("shard %d, simple protocol %d, %v", shard, want, err)
	}
	// A set-returning function, a prepared statement used twice.
	rows, err := conn.Query(ctx, "SELECT success, result FROM run_command_on_workers($1) ORDER BY nodeport", "SELECT 41 + 1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var ok bool
		var res string
		if err := rows.Scan(&ok, &res); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(ok, res))
	}
	if rows.Err() != nil || strings.Join(got, ",") != "true42,true42" {
		t.Errorf("run_command_on_workers: %v %v", got, rows.Err())
	}
	// Views and a NULL parameter; an error keeps its code.
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM citus_tables WHERE table_name = $1::regclass", "cr").Scan(&n); err != nil || n != 1 {
		t.Errorf("citus_tables: %d %v", n, err)
	}
	_, err = conn.Exec(ctx, "SELECT create_distributed_table($1, $2)", "no_such_table", "id")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42P01" {
		t.Errorf("unknown table: %v", err)
	}
	// A row limit (JDBC's fetch size) suspends the portal.
	r := newRawConn(t, c)
	r.send(&pgproto3.Parse{Query: "SELECT nodeport FROM run_command_on_workers($1)"}, &pgproto3.Bind{Parameters: [][]byte{[]byte("SELECT 1")}},
		&pgproto3.Execute{MaxRows: 1}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Sync{})
	if got := strings.Join(r.until(), " "); !regexp.MustCompile(`^1 2 D:\d+ s D:\d+ C:SELECT 2 C:SELECT 2$`).MatchString(got) {
		t.Errorf("row limit: %q", got)
	}
	if err := conn.QueryRow(ctx, "SELECT recover_prepared_transactions()").Scan(&n); err != nil {
		t.Errorf("recover_prepared_transactions: %v", err)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM cx")); got != "2" {
		t.Errorf("rows of cx: %s", got)
	}
}

// testCursorPortal: a cursor opened with SQL DECLARE is a portal, which a
// client may Describe and Execute (psycopg 3's server-side cursors:
// DECLARE, then Describe(P) + Sync).
func testCursorPortal(t *testing.T, c *cluster) {
	r := newRawConn(t, c)
	r.simple("CREATE TEMP TABLE lt AS SELECT g AS id FROM generate_series(1, 3) g")
	if got := r.simple(`BEGIN; DECLARE "cc" CURSOR FOR SELECT id FROM lt ORDER BY id`); got != "C:BEGIN C:DECLARE CURSOR" {
		t.Fatalf("declare: %q", got)
	}
	r.send(&pgproto3.Describe{ObjectType: 'P', Name: "cc"}, &pgproto3.Sync{})
	if got := strings.Join(r.until(), " "); got != "T1" {
		t.Errorf("describe: %q", got)
	}
	r.send(&pgproto3.Execute{Portal: "cc", MaxRows: 2}, &pgproto3.Sync{})
	if got := strings.Join(r.until(), " "); got != "D:1 D:2 s" {
		t.Errorf("execute: %q", got)
	}
	if got := r.simple(`FETCH ALL FROM "cc"`); got != "T1 D:3 C:FETCH 1" {
		t.Errorf("fetch: %q", got)
	}
	r.send(&pgproto3.Close{ObjectType: 'P', Name: "cc"}, &pgproto3.Sync{})
	if got := strings.Join(r.until(), " "); got != "3" {
		t.Errorf("close: %q", got)
	}
	if got := r.simple(`FETCH ALL FROM "cc"`); !strings.HasPrefix(got, "E:34000") {
		t.Errorf("fetch after close: %q", got)
	}
	r.simple("ROLLBACK")
	r.send(&pgproto3.Describe{ObjectType: 'P', Name: "nope"}, &pgproto3.Sync{})
	if got := strings.Join(r.until(), " "); !strings.HasPrefix(got, "E:34000") {
		t.Errorf("describe of no cursor: %q", got)
	}
	if got := r.simple("SELECT 1"); got != "T1 D:1 C:SELECT 1" {
		t.Errorf("after: %q", got)
	}
}

// testSQLPrepare: SQL PREPARE, EXECUTE and DEALLOCATE of statements on
// distributed tables (psql, psycopg2).
func testSQLPrepare(t *testing.T, c *cluster) {
	r := newRawConn(t, c)
	for _, step := range []struct{ q, want string }{
		{"PREPARE p(int) AS SELECT v FROM dt WHERE id = $1", "C:PREPARE"},
		{"EXECUTE p(3)", "T1 D:v3 C:SELECT 1"},
		{"EXECUTE p(2 + 2)", "T1 D:v4 C:SELECT 1"},
		{"PREPARE q AS SELECT count(*) FROM dt WHERE v = $1 OR id > $2", "C:PREPARE"},
		{"EXECUTE q('v5', 18)", "T1 D:3 C:SELECT 1"},
		{"PREPARE u AS UPDATE dt SET v = v WHERE id > $1", "C:PREPARE"},
		{"EXECUTE u(15)", "C:UPDATE 5"},
		{"EXECUTE u(19)", "C:UPDATE 1"},
		{"BEGIN; UPDATE dt SET v = v WHERE id > 19; COMMIT", "C:BEGIN C:UPDATE 1 C:COMMIT"},
		{"BEGIN", "C:BEGIN"},
		{"EXECUTE u(19)", "C:UPDATE 1"},
		{"COMMIT", "C:COMMIT"},
		{"BEGIN; EXECUTE u(19); COMMIT", "C:BEGIN C:UPDATE 1 C:COMMIT"},
		{"SELECT count(*) FROM pg_prepared_statements", "T1 D:3 C:SELECT 1"},
		{"EXECUTE p(1, 2)", "E:42601:wrong number of parameters for prepared statement \"p\""},
		{"PREPARE p AS SELECT 1 FROM dt", "E:42P05:prepared statement \"p\" already exists"},
		{"DEALLOCATE p", "C:DEALLOCATE"},
		{"EXECUTE p(1)", "E:26000:prepared statement \"p\" does not exist"},
		{"PREPARE p AS SELECT v FROM dt WHERE id = $1::bigint", "C:PREPARE"},
		{"EXECUTE p(7)", "T1 D:v7 C:SELECT 1"},
		{"DISCARD ALL", "C:DISCARD ALL"},
		{"EXECUTE q('v5', 18)", "E:26000:prepared statement \"q\" does not exist"},
		{"PREPARE x(bigint) AS SELECT v FROM dt WHERE id = $1", "C:PREPARE"},
		// A local one is PostgreSQL's own.
		{"PREPARE l AS SELECT $1::int + 1", "C:PREPARE"},
		{"EXECUTE l(1)", "T1 D:2 C:SELECT 1"},
	} {
		if got := r.simple(step.q); got != step.want {
			t.Errorf("%s: got %q, want %q", step.q, got, step.want)
		}
	}
}

// testSQLExecuteExtended: EXECUTE through the extended protocol (pgx).
func testSQLExecuteExtended(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	mustExec(t, conn, "PREPARE x(bigint) AS SELECT v FROM dt WHERE id = $1")
	var v string
	if err := conn.QueryRow(ctx, "EXECUTE x(6)").Scan(&v); err != nil || v != "v6" {
		t.Errorf("EXECUTE x(6): %q %v", v, err)
	}
	if err := conn.QueryRow(ctx, "EXECUTE x(7 + 1)").Scan(&v); err != nil || v != "v8" {
		t.Errorf("EXECUTE x(7 + 1): %q %v", v, err)
	}
	mustExec(t, conn, "DEALLOCATE x")
	var pe *pgconn.PgError
	if _, err := conn.Exec(ctx, "EXECUTE x(6)"); !errors.As(err, &pe) || pe.Code != "26000" {
		t.Errorf("after DEALLOCATE: %v", err)
	}
}

// testSQLCursor: DECLARE of a cursor over distributed tables, then FETCH,
// MOVE, CLOSE and WITH HOLD as in PostgreSQL (psql's FETCH_COUNT,
// psycopg2/3 named cursors, pgx and lib/pq).
func testSQLCursor(t *testing.T, c *cluster) {
	r := newRawConn(t, c)
	for _, step := range []struct{ q, want string }{
		{"DECLARE c CURSOR FOR SELECT id FROM dt", "E:25P01:DECLARE CURSOR can only be used in transaction blocks"},
		{"BEGIN", "C:BEGIN"},
		{"DECLARE c SCROLL CURSOR FOR SELECT id, v AS name FROM dt ORDER BY id", "C:DECLARE CURSOR"},
		{"FETCH 2 FROM c", "T2 D:1,v1 D:2,v2 C:FETCH 2"},
		{"MOVE 15 IN c", "C:MOVE 15"},
		{"FETCH ALL FROM c", "T2 D:18,v18 D:19,v19 D:20,v20 C:FETCH 3"},
		{"FETCH BACKWARD 1 FROM c", "T2 D:20,v20 C:FETCH 1"},
		{"CLOSE c", "C:CLOSE CURSOR"},
		{"DECLARE _psql_cursor NO SCROLL CURSOR FOR SELECT count(*) FROM dt", "C:DECLARE CURSOR"},
		{"FETCH FORWARD 100 FROM _psql_cursor", "T1 D:20 C:FETCH 1"},
		{"COMMIT", "C:COMMIT"},
		{"DECLARE h CURSOR WITH HOLD FOR SELECT id FROM dt WHERE id IN (4, 5) ORDER BY id", "C:DECLARE CURSOR"},
		{"FETCH ALL FROM h", "T1 D:4 D:5 C:FETCH 2"},
		{"CLOSE h", "C:CLOSE CURSOR"},
		{"SET citus.max_intermediate_result_size = 0", "C:SET"},
		{"BEGIN", "C:BEGIN"},
		{"SET LOCAL pgfed.max_intermediate_rows = 5", "C:SET"},
	} {
		if got := r.simple(step.q); got != step.want {
			t.Errorf("%s: got %q, want %q", step.q, got, step.want)
		}
	}
	if got := r.simple("DECLARE big CURSOR FOR SELECT id FROM dt"); !strings.HasPrefix(got, "E:54000") {
		t.Errorf("a cursor past the intermediate-result limit: %q", got)
	}
	r.simple("ROLLBACK")
	r.simple("RESET citus.max_intermediate_result_size")
	// psycopg 3: DECLARE, then Describe of the cursor's portal.
	r.simple("BEGIN")
	r.simple(`DECLARE "pc" CURSOR WITHOUT HOLD FOR SELECT id FROM dt WHERE id < 3 ORDER BY id`)
	r.send(&pgproto3.Describe{ObjectType: 'P', Name: "pc"}, &pgproto3.Sync{})
	if got := strings.Join(r.until(), " "); got != "T1" {
		t.Errorf("describe: %q", got)
	}
	r.simple("COMMIT")
	// pgx: DECLARE with a parameter through the extended protocol.
	conn := c.connect(t)
	ctx := testCtx(t)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "DECLARE xc CURSOR FOR SELECT id FROM dt WHERE id <= $1 ORDER BY id", 3); err != nil {
		t.Fatal(err)
	}
	var ids []string
	rows, err := tx.Query(ctx, "FETCH ALL FROM xc")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int32
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, fmt.Sprint(id))
	}
	if rows.Err() != nil || strings.Join(ids, ",") != "1,2,3" {
		t.Errorf("pgx cursor: %v %v", ids, rows.Err())
	}
}
