package wire

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/lib/pq"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func pgxConnect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(testCtx(t), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestPgxExecModes(t *testing.T) {
	ts := startServer(t, Config{})
	for _, mode := range []pgx.QueryExecMode{
		pgx.QueryExecModeCacheStatement,
		pgx.QueryExecModeCacheDescribe,
		pgx.QueryExecModeDescribeExec,
		pgx.QueryExecModeExec,
		pgx.QueryExecModeSimpleProtocol,
	} {
		t.Run(mode.String(), func(t *testing.T) {
			ctx := testCtx(t)
			cfg, err := pgx.ParseConfig(ts.url("bob", ""))
			if err != nil {
				t.Fatal(err)
			}
			cfg.DefaultQueryExecMode = mode
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)

			for range 2 { // the second time uses the statement cache
				rows, err := conn.Query(ctx, "SELECT 3")
				if err != nil {
					t.Fatal(err)
				}
				got, err := pgx.CollectRows(rows, pgx.RowTo[int32])
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, []int32{1, 2, 3}) {
					t.Fatalf("SELECT 3 = %v", got)
				}
			}
			if mode != pgx.QueryExecModeSimpleProtocol {
				var a, b string
				if err := conn.QueryRow(ctx, "ECHO $1 $2", "hello", "wörld").Scan(&a, &b); err != nil {
					t.Fatal(err)
				}
				if a != "hello" || b != "wörld" {
					t.Fatalf("ECHO = %q %q", a, b)
				}
			}
			_, err = conn.Exec(ctx, "ERROR 42P01")
			if sqlState(err) != "42P01" {
				t.Fatalf("error = %v, want SQLSTATE 42P01", err)
			}
			if err := conn.Ping(ctx); err != nil {
				t.Fatalf("connection unusable after an error: %v", err)
			}
		})
	}
}

func TestPgxBatch(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := pgxConnect(t, ts.url("bob", ""))

	b := &pgx.Batch{}
	b.Queue("SELECT 2")
	b.Queue("ECHO $1", "x")
	b.Queue("SELECT 1")
	br := conn.SendBatch(ctx, b)
	rows, err := br.Query()
	if err != nil {
		t.Fatal(err)
	}
	n, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || !slices.Equal(n, []int32{1, 2}) {
		t.Fatalf("first = %v, %v", n, err)
	}
	var s string
	if err := br.QueryRow().Scan(&s); err != nil || s != "x" {
		t.Fatalf("second = %q, %v", s, err)
	}
	var one int32
	if err := br.QueryRow().Scan(&one); err != nil || one != 1 {
		t.Fatalf("third = %d, %v", one, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	calls := ts.handler.last(t).Calls()
	var execs []string
	for _, c := range calls {
		if strings.HasPrefix(c, "Execute") {
			execs = append(execs, c)
		}
	}
	if len(execs) != 3 || !strings.HasSuffix(execs[2], "sync=true") || strings.HasSuffix(execs[0], "sync=true") {
		t.Fatalf("executes %q: only the last one is followed by Sync", execs)
	}

	// An error in the middle of a pipeline fails the rest of it.
	b = &pgx.Batch{}
	b.Queue("SELECT 1")
	b.Queue("EXECERROR 23505")
	b.Queue("SELECT 2")
	br = conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		t.Fatalf("first: %v", err)
	}
	if _, err := br.Exec(); sqlState(err) != "23505" {
		t.Fatalf("second: %v, want 23505", err)
	}
	if _, err := br.Exec(); err == nil {
		t.Fatal("third ran after an error in the pipeline")
	}
	_ = br.Close()
	if err := conn.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPgxProtocol32Negotiation(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := pgxConnect(t, ts.url("bob", "max_protocol_version=latest"))
	var n int32
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("SELECT 1 = %d, %v", n, err)
	}
	if k := conn.PgConn().SecretKey(); len(k) != 4 {
		t.Fatalf("secret key of %d bytes, want 4 (protocol 3.0)", len(k))
	}

	// A client that insists on 3.2 gives up.
	_, err := pgx.Connect(ctx, ts.url("bob", "min_protocol_version=3.2"))
	if err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Fatalf("connect with min_protocol_version=3.2: %v", err)
	}
}

func TestPgxCancel(t *testing.T) {
	ts := startServer(t, Config{})
	conn := pgxConnect(t, ts.url("bob", ""))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := conn.Exec(ctx, "SLEEP")
	if err == nil {
		t.Fatal("SLEEP returned without error")
	}
	s := ts.handler.last(t)
	s.waitCall(t, "Cancel")
}

func TestPgxCopyFrom(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := pgxConnect(t, ts.url("bob", ""))
	tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(strings.Repeat("a\tb\n", 1000)), "COPY t FROM STDIN")
	if err != nil {
		t.Fatal(err)
	}
	if tag.String() != "COPY 1000" {
		t.Fatalf("tag %q", tag)
	}
	if err := conn.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPgxNotifyWhileIdle(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := pgxConnect(t, ts.url("bob", ""))
	s := ts.handler.last(t)
	if err := s.client.Notify(&pgproto3.NotificationResponse{PID: 42, Channel: "news", Payload: "hello"}); err != nil {
		t.Fatal(err)
	}
	n, err := conn.WaitForNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n.Channel != "news" || n.Payload != "hello" || n.PID != 42 {
		t.Fatalf("notification %+v", n)
	}
	if err := s.client.Notify(&pgproto3.DataRow{}); err == nil {
		t.Fatal("Notify accepted a DataRow")
	}
}

func TestPgxLargeResultStreams(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := pgxConnect(t, ts.url("bob", ""))
	rows, err := conn.Query(ctx, "SELECT 100000")
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for rows.Next() {
		var v int32
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		sum += int(v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if sum != 100000*100001/2 {
		t.Fatalf("sum %d", sum)
	}
}

func TestLibPQ(t *testing.T) {
	ts := startServer(t, Config{})
	db, err := sql.Open("postgres", ts.url("bob", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := testCtx(t)

	rows, err := db.QueryContext(ctx, "SELECT 4")
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if err := rows.Err(); err != nil || !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Fatalf("SELECT 4 = %v, %v", got, err)
	}

	var s string
	if err := db.QueryRowContext(ctx, "ECHO $1", "pq").Scan(&s); err != nil || s != "pq" {
		t.Fatalf("ECHO = %q, %v", s, err)
	}
	stmt, err := db.PrepareContext(ctx, "ECHO $1 $2")
	if err != nil {
		t.Fatal(err)
	}
	var a, b string
	if err := stmt.QueryRowContext(ctx, "1", "2").Scan(&a, &b); err != nil || a != "1" || b != "2" {
		t.Fatalf("prepared ECHO = %q %q, %v", a, b, err)
	}
	stmt.Close()

	_, err = db.ExecContext(ctx, "ERROR 40001")
	var pe *pq.Error
	if !errors.As(err, &pe) || pe.Code != "40001" || pe.Message != "requested error" || pe.Detail != "detail" || pe.Hint != "hint" {
		t.Fatalf("error = %#v", err)
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPgxNotifyConcurrentWithQueries(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := pgxConnect(t, ts.url("bob", ""))
	s := ts.handler.last(t)
	const senders, each = 4, 50
	errs := make(chan error, senders)
	for i := range senders {
		go func() {
			for j := range each {
				if err := s.client.Notify(&pgproto3.NotificationResponse{PID: uint32(i), Channel: "c", Payload: strconv.Itoa(j)}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 50 {
		if _, err := conn.Exec(ctx, "SELECT 10"); err != nil {
			t.Fatal(err)
		}
	}
	for range senders {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil { // delivers what is still queued
		t.Fatal(err)
	}
	got := make(map[string]int)
	for range senders * each {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			t.Fatalf("after %d notifications: %v", len(got), err)
		}
		got[fmt.Sprint(n.PID, "/", n.Payload)]++
	}
	if len(got) != senders*each {
		t.Fatalf("%d distinct notifications, want %d", len(got), senders*each)
	}
}
