package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgproto3"
)

// wantCode fails the test unless err is a *pgconn.PgError with code.
func wantCode(t *testing.T, err error, code string) *pgconn.PgError {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		t.Fatalf("got error %v (%T), want SQLSTATE %s", err, err, code)
	}
	if pgErr.Code != code {
		t.Fatalf("got SQLSTATE %s (%s), want %s", pgErr.Code, pgErr.Message, code)
	}
	return pgErr
}

func testPgxCacheStatement(t *testing.T, e *env) {
	ctx := testCtx(t)
	c := e.connect(t)
	if _, err := c.Exec(ctx, "CREATE TABLE pgx_cache (id int PRIMARY KEY, name text, score float8, born date)"); err != nil {
		t.Fatal(err)
	}
	born := time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC)
	for i := range 20 {
		tag, err := c.Exec(ctx, "INSERT INTO pgx_cache VALUES ($1, $2, $3, $4)", i, fmt.Sprintf("n%d", i), float64(i)/2, born.AddDate(0, 0, i))
		if err != nil {
			t.Fatal(err)
		}
		if tag.String() != "INSERT 0 1" {
			t.Fatalf("tag %q", tag)
		}
	}
	// Binary results (pgx asks for binary float8 and date).
	var (
		name  string
		score float64
		d     time.Time
	)
	if err := c.QueryRow(ctx, "SELECT name, score, born FROM pgx_cache WHERE id = $1", 7).Scan(&name, &score, &d); err != nil {
		t.Fatal(err)
	}
	if name != "n7" || score != 3.5 || !d.Equal(born.AddDate(0, 0, 7)) {
		t.Fatalf("got %q %v %v", name, score, d)
	}
	rows, _ := c.Query(ctx, "SELECT id FROM pgx_cache WHERE id >= $1 ORDER BY id", 15)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids) != "[15 16 17 18 19]" {
		t.Fatalf("ids %v", ids)
	}
	// No rows, and a statement with no result columns.
	if err := c.QueryRow(ctx, "SELECT name FROM pgx_cache WHERE id = $1", -1).Scan(&name); !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("got %v, want ErrNoRows", err)
	}
	tag, err := c.Exec(ctx, "UPDATE pgx_cache SET score = score + $1 WHERE id < $2", 1.0, 5)
	if err != nil || tag.String() != "UPDATE 5" {
		t.Fatalf("update: %v %v", tag, err)
	}
}

func testPgxSimpleProtocol(t *testing.T, e *env) {
	ctx := testCtx(t)
	c := e.connect(t, "default_query_exec_mode=simple_protocol")
	// Several statements in one Query: every result is relayed.
	res, err := c.PgConn().Exec(ctx, "CREATE TABLE pgx_simple (a int, b text); INSERT INTO pgx_simple VALUES (1, 'x'), (2, NULL); SELECT a, b FROM pgx_simple ORDER BY a").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("%d results, want 3", len(res))
	}
	if got := res[1].CommandTag.String(); got != "INSERT 0 2" {
		t.Fatalf("insert tag %q", got)
	}
	if len(res[2].Rows) != 2 || string(res[2].Rows[0][1]) != "x" || res[2].Rows[1][1] != nil {
		t.Fatalf("rows %q", res[2].Rows)
	}
	if len(res[2].FieldDescriptions) != 2 || res[2].FieldDescriptions[1].Name != "b" {
		t.Fatalf("fields %+v", res[2].FieldDescriptions)
	}
	// Parameters interpolated by pgx.
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pgx_simple WHERE b = $1", "x").Scan(&n); err != nil || n != 1 {
		t.Fatalf("count %d %v", n, err)
	}
	// An empty query and a comment-only one.
	res, err = c.PgConn().Exec(ctx, "-- nothing").ReadAll()
	if err != nil || len(res) != 1 || res[0].CommandTag.String() != "" {
		t.Fatalf("empty query: %+v %v", res, err)
	}
	// An error in the middle: the results before it are kept, the rest is
	// not run (implicit transaction rolled back).
	res, err = c.PgConn().Exec(ctx, "SELECT 1; INSERT INTO pgx_simple VALUES (3, 'y'); SELECT 1/0; SELECT 2").ReadAll()
	wantCode(t, err, pgerrcode.DivisionByZero)
	if len(res) < 2 || string(res[0].Rows[0][0]) != "1" {
		t.Fatalf("results before the error: %+v", res)
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pgx_simple").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count after failed multi-statement %d %v", n, err)
	}
}

func testPgxSessionState(t *testing.T, e *env) {
	ctx := testCtx(t)
	c := e.connect(t)
	// SET and SHOW, a temporary table, a session variable: all live on
	// the session's own backend, across statements.
	if _, err := c.Exec(ctx, "SET search_path TO pg_catalog, public"); err != nil {
		t.Fatal(err)
	}
	var sp string
	if err := c.QueryRow(ctx, "SHOW search_path").Scan(&sp); err != nil || sp != "pg_catalog, public" {
		t.Fatalf("search_path %q %v", sp, err)
	}
	if _, err := c.Exec(ctx, "CREATE TEMP TABLE tmp_state AS SELECT generate_series(1, 10) AS g"); err != nil {
		t.Fatal(err)
	}
	var sum int
	if err := c.QueryRow(ctx, "SELECT sum(g) FROM tmp_state").Scan(&sum); err != nil || sum != 55 {
		t.Fatalf("sum %d %v", sum, err)
	}
	// Another client does not see it.
	c2 := e.connect(t)
	err := c2.QueryRow(ctx, "SELECT count(*) FROM tmp_state").Scan(&sum)
	wantCode(t, err, pgerrcode.UndefinedTable)
	// SQL-level PREPARE/EXECUTE.
	if _, err := c.Exec(ctx, "PREPARE sqlprep(int) AS SELECT $1 * 2", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	var x int
	if err := c.QueryRow(ctx, "EXECUTE sqlprep(21)", pgx.QueryExecModeSimpleProtocol).Scan(&x); err != nil || x != 42 {
		t.Fatalf("execute %d %v", x, err)
	}
	// The client's startup parameters reached the backend.
	c3 := e.connect(t, "application_name=pgfed_test_app", "options='-c work_mem=12345kB'")
	var app, wm string
	if err := c3.QueryRow(ctx, "SELECT current_setting('application_name'), current_setting('work_mem')").Scan(&app, &wm); err != nil {
		t.Fatal(err)
	}
	if app != "pgfed_test_app" || wm != "12345kB" {
		t.Fatalf("application_name %q work_mem %q", app, wm)
	}
	var user, db string
	if err := c3.QueryRow(ctx, "SELECT current_user, current_database()").Scan(&user, &db); err != nil || user != "postgres" || db != "postgres" {
		t.Fatalf("user %q db %q %v", user, db, err)
	}
}

func testPgxParameterStatus(t *testing.T, e *env) {
	ctx := testCtx(t)
	c := e.connect(t)
	d := e.direct(t)
	for _, p := range []string{"server_version", "server_encoding", "integer_datetimes", "standard_conforming_strings"} {
		got, want := c.PgConn().ParameterStatus(p), d.PgConn().ParameterStatus(p)
		if got == "" || got != want {
			t.Errorf("ParameterStatus(%s) = %q through pgfed, %q direct", p, got, want)
		}
	}
	// A SET of a reported parameter reaches the client as ParameterStatus.
	if _, err := c.Exec(ctx, "SET TimeZone TO 'Asia/Tokyo'"); err != nil {
		t.Fatal(err)
	}
	if got := c.PgConn().ParameterStatus("TimeZone"); got != "Asia/Tokyo" {
		t.Fatalf("TimeZone after SET: %q", got)
	}
	if _, err := c.Exec(ctx, "SET application_name = 'changed'", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	if got := c.PgConn().ParameterStatus("application_name"); got != "changed" {
		t.Fatalf("application_name after SET: %q", got)
	}
}

func testPgxBatch(t *testing.T, e *env) {
	ctx := testCtx(t)
	c := e.connect(t)
	if _, err := c.Exec(ctx, "CREATE TABLE pgx_batch (id int PRIMARY KEY, v text)"); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	for i := range 10 {
		b.Queue("INSERT INTO pgx_batch VALUES ($1, $2)", i, fmt.Sprint("v", i))
	}
	b.Queue("SELECT count(*) FROM pgx_batch")
	b.Queue("SELECT v FROM pgx_batch WHERE id = $1", 3)
	br := c.SendBatch(ctx, b)
	for i := range 10 {
		if _, err := br.Exec(); err != nil {
			t.Fatalf("batch insert %d: %v", i, err)
		}
	}
	var n int
	if err := br.QueryRow().Scan(&n); err != nil || n != 10 {
		t.Fatalf("count %d %v", n, err)
	}
	var v string
	if err := br.QueryRow().Scan(&v); err != nil || v != "v3" {
		t.Fatalf("v %q %v", v, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	// A failing statement in a batch: the batch is one implicit
	// transaction, so nothing of it stays.
	b = &pgx.Batch{}
	b.Queue("INSERT INTO pgx_batch VALUES (100, 'a')")
	b.Queue("INSERT INTO pgx_batch VALUES (1, 'duplicate')")
	b.Queue("INSERT INTO pgx_batch VALUES (101, 'b')")
	err := c.SendBatch(ctx, b).Close()
	pgErr := wantCode(t, err, pgerrcode.UniqueViolation)
	if pgErr.ConstraintName != "pgx_batch_pkey" || pgErr.TableName != "pgx_batch" {
		t.Fatalf("error fields lost: %+v", pgErr)
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pgx_batch").Scan(&n); err != nil || n != 10 {
		t.Fatalf("count after failed batch %d %v", n, err)
	}
	// A pipeline through pgconn: two Parse/Bind/Execute then one Sync.
	p := c.PgConn().StartPipeline(ctx)
	p.SendQueryParams("SELECT $1::int + 1", [][]byte{[]byte("41")}, nil, nil, nil)
	p.SendQueryParams("SELECT upper($1::text)", [][]byte{[]byte("abc")}, nil, nil, nil)
	if err := p.Sync(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		r, err := p.GetResults()
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			break
		}
		if rr, ok := r.(*pgconn.ResultReader); ok {
			res := rr.Read()
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			got = append(got, string(res.Rows[0][0]))
		}
		if _, ok := r.(*pgconn.PipelineSync); ok {
			break
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "42,ABC" {
		t.Fatalf("pipeline results %q", got)
	}
}

func testPgxCopyFrom(t *testing.T, e *env) {
	ctx := testCtx(t)
	c := e.connect(t)
	if _, err := c.Exec(ctx, "CREATE TABLE pgx_copy (id int, name text, at timestamptz)"); err != nil {
		t.Fatal(err)
	}
	const n = 5000
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{i, strings.Repeat("x", i%50), at}
	}
	copied, err := c.CopyFrom(ctx, pgx.Identifier{"pgx_copy"}, []string{"id", "name", "at"}, pgx.CopyFromRows(rows))
	if err != nil || copied != n {
		t.Fatalf("copied %d %v", copied, err)
	}
	var count, sum int
	var maxAt time.Time
	if err := c.QueryRow(ctx, "SELECT count(*), sum(id), max(at) FROM pgx_copy").Scan(&count, &sum, &maxAt); err != nil {
		t.Fatal(err)
	}
	if count != n || sum != n*(n-1)/2 || !maxAt.Equal(at) {
		t.Fatalf("count %d sum %d max %v", count, sum, maxAt)
	}
	// A COPY the backend rejects: the error comes back and the
	// connection stays usable.
	_, err = c.CopyFrom(ctx, pgx.Identifier{"pgx_copy"}, []string{"id"}, pgx.CopyFromRows([][]any{{"not a number"}}))
	if err == nil {
		t.Fatal("bad COPY succeeded")
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pgx_copy").Scan(&count); err != nil || count != n {
		t.Fatalf("count after failed copy %d %v", count, err)
	}
	// COPY text format through pgconn, with an error in the data.
	_, err = c.PgConn().CopyFrom(ctx, strings.NewReader("1\tone\t2024-01-01\nbad\ttwo\t2024-01-01\n"), "COPY pgx_copy FROM STDIN")
	wantCode(t, err, pgerrcode.InvalidTextRepresentation)
	tag, err := c.PgConn().CopyFrom(ctx, strings.NewReader("1\tone\t2024-01-01\n2\ttwo\t\\N\n"), "COPY pgx_copy FROM STDIN")
	if err != nil || tag.RowsAffected() != 2 {
		t.Fatalf("copy text: %v %v", tag, err)
	}
}

func testPgxCopyTo(t *testing.T, e *env) {
	ctx := testCtx(t)
	c := e.connect(t)
	var buf strings.Builder
	tag, err := c.PgConn().CopyTo(ctx, &buf, "COPY (SELECT g, 'r' || g FROM generate_series(1, 3) g) TO STDOUT WITH (FORMAT csv)")
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != "1,r1\n2,r2\n3,r3\n" || tag.String() != "COPY 3" {
		t.Fatalf("copy to: %q %q", buf.String(), tag)
	}
}

func testPgxPreparedReuse(t *testing.T, e *env) {
	ctx := testCtx(t)
	c := e.connect(t)
	sd, err := c.Prepare(ctx, "square", "SELECT $1::int8 * $1::int8")
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.ParamOIDs) != 1 || len(sd.Fields) != 1 {
		t.Fatalf("description %+v", sd)
	}
	for i := range int64(300) {
		var sq int64
		if err := c.QueryRow(ctx, "square", i).Scan(&sq); err != nil {
			t.Fatalf("execution %d: %v", i, err)
		}
		if sq != i*i {
			t.Fatalf("square(%d) = %d", i, sq)
		}
	}
	// The statement lives on the backend under the client's name.
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_prepared_statements WHERE name = 'square'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("pg_prepared_statements: %d %v", n, err)
	}
	if err := c.Deallocate(ctx, "square"); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_prepared_statements WHERE name = 'square'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("after deallocate: %d %v", n, err)
	}
}

func testPgxRedeclarePrepared(t *testing.T, e *env) {
	ctx := testCtx(t)
	c := e.connect(t)
	// Closing (protocol Close) and preparing again under the same name
	// with another text: the deferred Close goes out before the Parse.
	for i := range 5 {
		sql := fmt.Sprintf("SELECT %d + $1::int", i*100)
		if _, err := c.Prepare(ctx, "again", sql); err != nil {
			t.Fatalf("prepare %d: %v", i, err)
		}
		var got int
		if err := c.QueryRow(ctx, "again", 1).Scan(&got); err != nil || got != i*100+1 {
			t.Fatalf("round %d: %d %v", i, got, err)
		}
		if err := c.PgConn().Deallocate(ctx, "again"); err != nil {
			t.Fatal(err)
		}
	}
}

func testPgxTxError(t *testing.T, e *env) {
	ctx := testCtx(t)
	c := e.connect(t)
	if _, err := c.Exec(ctx, "CREATE TABLE pgx_tx (v int)"); err != nil {
		t.Fatal(err)
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.PgConn().TxStatus() != 'T' {
		t.Fatalf("status %c in a transaction", c.PgConn().TxStatus())
	}
	if _, err := tx.Exec(ctx, "INSERT INTO pgx_tx VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, "SELECT 1/0")
	wantCode(t, err, pgerrcode.DivisionByZero)
	if c.PgConn().TxStatus() != 'E' {
		t.Fatalf("status %c after an error", c.PgConn().TxStatus())
	}
	for range 2 {
		_, err = tx.Exec(ctx, "SELECT 1")
		wantCode(t, err, pgerrcode.InFailedSQLTransaction)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if c.PgConn().TxStatus() != 'I' {
		t.Fatalf("status %c after rollback", c.PgConn().TxStatus())
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pgx_tx").Scan(&n); err != nil || n != 0 {
		t.Fatalf("count %d %v", n, err)
	}
	// A committed transaction stays.
	if err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO pgx_tx VALUES (2), (3)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pgx_tx").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count after commit %d %v", n, err)
	}
	// A deferred constraint fails at the implicit commit (at Sync).
	if _, err := c.Exec(ctx, `CREATE TABLE pgx_defer (id int PRIMARY KEY, parent int REFERENCES pgx_defer DEFERRABLE INITIALLY DEFERRED)`); err != nil {
		t.Fatal(err)
	}
	_, err = c.Exec(ctx, "INSERT INTO pgx_defer VALUES ($1, $2)", 1, 99)
	wantCode(t, err, pgerrcode.ForeignKeyViolation)
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pgx_defer").Scan(&n); err != nil || n != 0 {
		t.Fatalf("deferred count %d %v", n, err)
	}
}

func testPgxErrorFields(t *testing.T, e *env) {
	ctx := testCtx(t)
	c := e.connect(t)
	_, err := c.Exec(ctx, "SELECT nosuchcolumn FROM pg_class")
	pgErr := wantCode(t, err, pgerrcode.UndefinedColumn)
	if pgErr.Position != 8 || pgErr.Severity != "ERROR" || pgErr.File == "" || pgErr.Line == 0 || pgErr.Routine == "" {
		t.Fatalf("fields lost: %+v", pgErr)
	}
	_, err = c.Exec(ctx, "DO $$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = 'the detail', HINT = 'the hint', ERRCODE = 'P0001'; END $$")
	pgErr = wantCode(t, err, pgerrcode.RaiseException)
	if pgErr.Message != "boom" || pgErr.Detail != "the detail" || pgErr.Hint != "the hint" || pgErr.Where == "" {
		t.Fatalf("fields lost: %+v", pgErr)
	}
	// Notices are relayed inside the answer.
	var notices []string
	cfg, err := pgx.ParseConfig(e.connString())
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n.Severity+":"+n.Message) }
	nc, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close(ctx)
	if _, err := nc.Exec(ctx, "DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$"); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || notices[0] != "NOTICE:hello 42" {
		t.Fatalf("notices %q", notices)
	}
	// A parse error in the extended protocol, then the session is fine.
	_, err = c.Exec(ctx, "SELEC $1", 1)
	wantCode(t, err, pgerrcode.SyntaxError)
	var one int
	if err := c.QueryRow(ctx, "SELECT $1::int", 1).Scan(&one); err != nil || one != 1 {
		t.Fatalf("after a parse error: %d %v", one, err)
	}
}

func testPgxBindError(t *testing.T, e *env) {
	ctx := testCtx(t)
	c := e.connect(t)
	// A parameter the backend rejects at Bind: PostgreSQL's error, and the
	// connection goes on.
	res := c.PgConn().ExecParams(ctx, "SELECT $1::int4", [][]byte{[]byte("abc")}, []uint32{23}, nil, nil).Read()
	wantCode(t, res.Err, pgerrcode.InvalidTextRepresentation)
	res = c.PgConn().ExecParams(ctx, "SELECT $1::int4 + 1", [][]byte{[]byte("41")}, []uint32{23}, nil, nil).Read()
	if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != "42" {
		t.Fatalf("after a bind error: %+v", res)
	}
}

func testPgxListenNotify(t *testing.T, e *env) {
	ctx := testCtx(t)
	listener := e.connect(t)
	if _, err := listener.Exec(ctx, "LISTEN pgfed_chan"); err != nil {
		t.Fatal(err)
	}
	// A notification sent while the listener is idle in
	// WaitForNotification, by a client straight on PostgreSQL.
	direct := e.direct(t)
	got := make(chan *pgconn.Notification, 1)
	errc := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		n, err := listener.WaitForNotification(wctx)
		if err != nil {
			errc <- err
			return
		}
		got <- n
	}()
	time.Sleep(200 * time.Millisecond) // let the listener sit idle
	if _, err := direct.Exec(ctx, "SELECT pg_notify('pgfed_chan', 'from outside')"); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n.Channel != "pgfed_chan" || n.Payload != "from outside" {
			t.Fatalf("notification %+v", n)
		}
		if n.PID != direct.PgConn().PID() {
			t.Fatalf("notification from pid %d, want the notifier's %d", n.PID, direct.PgConn().PID())
		}
	case err := <-errc:
		t.Fatalf("WaitForNotification: %v", err)
	}
	// A notification sent through pgfed by another session, and one the
	// session sends itself (delivered with the answer, before
	// ReadyForQuery).
	other := e.connect(t)
	if _, err := other.Exec(ctx, "NOTIFY pgfed_chan, 'from pgfed'"); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := listener.WaitForNotification(wctx)
	if err != nil || n.Payload != "from pgfed" {
		t.Fatalf("second notification %+v %v", n, err)
	}
	if _, err := listener.Exec(ctx, "NOTIFY pgfed_chan, 'self'"); err != nil {
		t.Fatal(err)
	}
	n, err = listener.WaitForNotification(wctx)
	if err != nil || n.Payload != "self" {
		t.Fatalf("self notification %+v %v", n, err)
	}
	// Many notifications while idle, in order.
	if _, err := direct.Exec(ctx, "SELECT pg_notify('pgfed_chan', g::text) FROM generate_series(1, 50) g"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		n, err := listener.WaitForNotification(wctx)
		if err != nil || n.Payload != fmt.Sprint(i) {
			t.Fatalf("notification %d: %+v %v", i, n, err)
		}
	}
}

func testPgxCancel(t *testing.T, e *env) {
	ctx := testCtx(t)
	cfg, err := pgx.ParseConfig(e.connString())
	if err != nil {
		t.Fatal(err)
	}
	// Cancel through a CancelRequest to pgfed (not pgx's default of
	// breaking the connection).
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 20 * time.Second}
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		qctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		start := time.Now()
		_, err = c.Exec(qctx, "SELECT pg_sleep(30)", mode)
		cancel()
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Fatalf("%v: cancel took %v", mode, elapsed)
		}
		wantCode(t, err, pgerrcode.QueryCanceled)
		var one int
		if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("%v: after cancel: %v", mode, err)
		}
	}
}

// backendPID returns the pid of the metadata backend serving c.
func backendPID(t *testing.T, c *pgx.Conn) int {
	t.Helper()
	var pid int
	if err := c.QueryRow(testCtx(t), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

func testPgxBackendTerminated(t *testing.T, e *env) {
	ctx := testCtx(t)
	c := e.connect(t)
	pid := backendPID(t, c)
	direct := e.direct(t)
	// The backend dies in the middle of a statement.
	errc := make(chan error, 1)
	go func() {
		_, err := c.Exec(ctx, "SELECT pg_sleep(30)")
		errc <- err
	}()
	waitFor(t, func() bool {
		var n int
		direct.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%'", pid).Scan(&n)
		return n == 1
	})
	if _, err := direct.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		pgErr := wantCode(t, err, pgerrcode.AdminShutdown)
		if pgErr.Severity != "FATAL" {
			t.Fatalf("severity %q", pgErr.Severity)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer after the backend was terminated")
	}
	if !c.IsClosed() {
		// pgx closes on FATAL; the coordinator closed its side too.
		if err := c.Ping(ctx); err == nil {
			t.Fatal("connection still usable after its backend died")
		}
	}
}

func testPgxBackendTerminatedIdle(t *testing.T, e *env) {
	ctx := testCtx(t)
	c := e.connect(t)
	pid := backendPID(t, c)
	direct := e.direct(t)
	if _, err := direct.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	_, err := c.Exec(ctx, "SELECT 1")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Severity != "FATAL" {
		t.Fatalf("got %v, want a FATAL error", err)
	}
	if pgErr.Code != pgerrcode.AdminShutdown && pgErr.Code != pgerrcode.ConnectionFailure {
		t.Fatalf("code %s (%s)", pgErr.Code, pgErr.Message)
	}
}

func testPgxUnknownDatabase(t *testing.T, e *env) {
	ctx := testCtx(t)
	_, err := pgx.Connect(ctx, fmt.Sprintf("host=%s port=%d user=postgres dbname=nosuchdb sslmode=disable", e.host, e.port))
	wantCode(t, err, pgerrcode.InvalidCatalogName)
	_, err = pgx.Connect(ctx, fmt.Sprintf("host=%s port=%d user=nosuchuser dbname=postgres sslmode=disable", e.host, e.port))
	wantCode(t, err, pgerrcode.InvalidAuthorizationSpecification)
}

func testPgxServerRestart(t *testing.T, e *env) {
	ctx := testCtx(t)
	idle := e.connect(t)
	busy := e.connect(t)
	errc := make(chan error, 1)
	go func() {
		_, err := busy.Exec(ctx, "SELECT pg_sleep(30)")
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond)
	// A crash of the metadata server: both sessions end with FATAL, the
	// busy one at once, the idle one at its next statement.
	if err := e.pg.StopImmediate(ctx); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{"busy": <-errc, "idle": func() error { _, err := idle.Exec(ctx, "SELECT 1"); return err }()} {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Severity != "FATAL" || !strings.HasPrefix(pgErr.Code, "08") && !strings.HasPrefix(pgErr.Code, "57P") {
			t.Fatalf("%s session: got %v, want a FATAL connection error", name, err)
		}
		t.Logf("%s session: %v", name, err)
	}
	// No metadata server: connecting fails with 08001.
	_, err := pgx.Connect(ctx, e.connString())
	wantCode(t, err, pgerrcode.SQLClientUnableToEstablishSQLConnection)
	// Back up: new sessions work.
	if err := e.pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c := e.connect(t)
	var one int
	if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("after restart: %v", err)
	}
}

func testRawExtendedCopy(t *testing.T, e *env) {
	ctx := testCtx(t)
	if _, err := e.connect(t).Exec(ctx, "CREATE TABLE raw_copy (v text)"); err != nil {
		t.Fatal(err)
	}
	// COPY FROM STDIN through the extended protocol, as libpq sends it:
	// Parse/Bind/Execute/Sync, the data, CopyDone and another Sync (the
	// first is ignored in copy-in mode).
	pc, err := pgconn.Connect(ctx, e.connString())
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SyncConn(ctx); err != nil {
		t.Fatal(err)
	}
	hc, err := pc.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Conn.Close()
	hc.Conn.SetDeadline(time.Now().Add(10 * time.Second))
	fe := hc.Frontend
	fe.SendParse(&pgproto3.Parse{Query: "COPY raw_copy FROM STDIN"})
	fe.SendBind(&pgproto3.Bind{})
	fe.SendExecute(&pgproto3.Execute{})
	fe.SendSync(&pgproto3.Sync{})
	fe.Send(&pgproto3.CopyData{Data: []byte("x\ny\n")})
	fe.Send(&pgproto3.CopyDone{})
	fe.SendSync(&pgproto3.Sync{})
	fe.SendQuery(&pgproto3.Query{String: "SELECT string_agg(v, '' ORDER BY v) FROM raw_copy"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for rfq := 0; rfq < 2; {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		switch m := msg.(type) {
		case *pgproto3.ReadyForQuery:
			rfq++
			got = append(got, "Z"+string(m.TxStatus))
		case *pgproto3.CommandComplete:
			got = append(got, string(m.CommandTag))
		case *pgproto3.DataRow:
			got = append(got, "row "+string(m.Values[0]))
		case *pgproto3.ErrorResponse:
			got = append(got, "error "+m.Message)
		default:
			got = append(got, strings.TrimPrefix(fmt.Sprintf("%T", msg), "*pgproto3."))
		}
	}
	want := "ParseComplete BindComplete CopyInResponse COPY 2 ZI RowDescription row xy SELECT 1 ZI"
	if strings.Join(got, " ") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
