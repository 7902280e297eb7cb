// Command pgx runs the compatibility scenario (see ../README.md) with
// jackc/pgx v5 against a pgfed coordinator and prints one line per step:
// STEP <name> PASS|FAIL <detail>.
//
// -mode default uses pgx's default query mode (statements prepared and
// cached by pgx); -mode batch sends the same work as pgx.Batch, which pgx
// pipelines (all Parse/Bind/Execute messages first, one Sync).
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
)

var (
	mode   = flag.String("mode", "default", "default or batch")
	client = flag.String("client", "", "name used in table and channel names (default pgx_<mode>)")
)

func main() {
	flag.Parse()
	if *client == "" {
		*client = "pgx_" + *mode
	}
	ctx := context.Background()
	s := &scenario{
		dist: "compat_" + *client + "_dist",
		ref:  "compat_" + *client + "_ref",
		ch:   "compat_" + *client,
	}
	if !s.run(ctx) {
		os.Exit(1)
	}
}

type scenario struct {
	dist, ref, ch string
	conn          *pgx.Conn
	failed        bool
}

// mainSSLMode is the sslmode of the main session and of the listener:
// COMPAT_SSLMODE, require by default (disable to run against a plain
// PostgreSQL without TLS, as a baseline).
var mainSSLMode = env("COMPAT_SSLMODE", "require")

func connString(sslmode string) string {
	return fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=%s sslmode=%s connect_timeout=10",
		env("PGHOST", "127.0.0.1"), env("PGPORT", "6432"), env("PGUSER", "postgres"),
		os.Getenv("PGPASSWORD"), env("PGDATABASE", "postgres"), sslmode)
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func (s *scenario) step(name string, f func() error) {
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return f()
	}()
	if err != nil {
		s.failed = true
		fmt.Printf("STEP %s FAIL %s\n", name, oneLine(err.Error()))
		return
	}
	fmt.Printf("STEP %s PASS\n", name)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func sqlstate(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func (s *scenario) run(ctx context.Context) bool {
	s.step("connect_tls_scram", func() error {
		c, err := pgx.Connect(ctx, connString(mainSSLMode))
		if err != nil {
			return err
		}
		if _, ok := c.PgConn().Conn().(*tls.Conn); !ok && mainSSLMode == "require" {
			c.Close(ctx)
			return errors.New("connected without TLS although sslmode=require")
		}
		s.conn = c
		var one int
		return c.QueryRow(ctx, "SELECT 1").Scan(&one)
	})
	s.step("connect_plain", func() error {
		c, err := pgx.Connect(ctx, connString("disable"))
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		var one int
		return c.QueryRow(ctx, "SELECT 1").Scan(&one)
	})
	if s.conn == nil {
		fmt.Println("STEP rest FAIL no TLS connection, remaining steps not run")
		return false
	}
	defer s.conn.Close(ctx)
	c := s.conn

	s.step("create_tables", func() error {
		for _, q := range []string{
			"DROP TABLE IF EXISTS " + s.dist + ", " + s.ref,
			"CREATE TABLE " + s.dist + " (id int PRIMARY KEY, v text, n int DEFAULT 0, b bytea, num numeric, ts timestamptz, u uuid, j jsonb, ia int[], ta text[])",
			"CREATE TABLE " + s.ref + " (id int PRIMARY KEY, name text)",
		} {
			if _, err := c.Exec(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	s.step("create_distributed_table", func() error {
		return s.citus(ctx, "SELECT create_distributed_table('"+s.dist+"', 'id')")
	})
	s.step("create_reference_table", func() error {
		return s.citus(ctx, "SELECT create_reference_table('"+s.ref+"')")
	})
	s.step("insert_select_single", func() error {
		if *mode == "batch" {
			b := &pgx.Batch{}
			b.Queue("INSERT INTO "+s.dist+" (id, v) VALUES ($1, $2)", 1, "one")
			var v string
			b.Queue("SELECT v FROM "+s.dist+" WHERE id = $1", 1).QueryRow(func(r pgx.Row) error { return r.Scan(&v) })
			if err := c.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			return expect("v", v, "one")
		}
		if _, err := c.Exec(ctx, "INSERT INTO "+s.dist+" (id, v) VALUES ($1, $2)", 1, "one"); err != nil {
			return err
		}
		var v string
		if err := c.QueryRow(ctx, "SELECT v FROM "+s.dist+" WHERE id = $1", 1).Scan(&v); err != nil {
			return err
		}
		return expect("v", v, "one")
	})
	s.step("multirow_insert", func() error {
		var vals []string
		for i := 2; i <= 11; i++ {
			vals = append(vals, fmt.Sprintf("(%d, 'r%d')", i, i))
		}
		ct, err := c.Exec(ctx, "INSERT INTO "+s.dist+" (id, v) VALUES "+strings.Join(vals, ", "))
		if err != nil {
			return err
		}
		if err := expect("dist rows", ct.RowsAffected(), int64(10)); err != nil {
			return err
		}
		ct, err = c.Exec(ctx, "INSERT INTO "+s.ref+" VALUES ($1, $2), ($3, $4), ($5, $6)", 1, "a", 2, "b", 3, "c")
		if err != nil {
			return fmt.Errorf("reference table: %w", err)
		}
		return expect("ref rows", ct.RowsAffected(), int64(3))
	})
	s.step("tx_cross_shard_update", func() error {
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		var n int64
		if *mode == "batch" {
			b := &pgx.Batch{}
			for i := 1; i <= 11; i++ {
				b.Queue("UPDATE "+s.dist+" SET n = n + 1 WHERE id = $1", i).Exec(func(ct pgconn.CommandTag) error { n += ct.RowsAffected(); return nil })
			}
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
		} else {
			ct, err := tx.Exec(ctx, "UPDATE "+s.dist+" SET n = n + 1 WHERE id BETWEEN 1 AND 11")
			if err != nil {
				return err
			}
			n = ct.RowsAffected()
		}
		if err := expect("updated", n, int64(11)); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		var sum int64
		if err := c.QueryRow(ctx, "SELECT sum(n)::int8 FROM "+s.dist+" WHERE id BETWEEN 1 AND 11").Scan(&sum); err != nil {
			return err
		}
		return expect("sum(n)", sum, int64(11))
	})
	s.step("tx_error_rollback", func() error {
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		var x int
		if *mode == "batch" {
			// One pipeline: the INSERT runs, 1/0 fails, the rest is skipped
			// up to the Sync.
			b := &pgx.Batch{}
			b.Queue("INSERT INTO "+s.dist+" (id, v) VALUES ($1, 'tx')", 20)
			b.Queue("SELECT 1/0")
			b.Queue("SELECT $1::int", 1)
			br := tx.SendBatch(ctx, b)
			if _, err := br.Exec(); err != nil {
				br.Close()
				return fmt.Errorf("INSERT in the batch: %w", err)
			}
			err := br.QueryRow().Scan(&x)
			br.Close()
			if code := sqlstate(err); code != "22012" {
				return fmt.Errorf("SELECT 1/0 in the batch: want SQLSTATE 22012, got %v", err)
			}
			if err := tx.Rollback(ctx); err != nil {
				return fmt.Errorf("ROLLBACK: %w", err)
			}
			var n int
			if err := c.QueryRow(ctx, "SELECT count(*) FROM "+s.dist+" WHERE id = $1", 20).Scan(&n); err != nil {
				return fmt.Errorf("after ROLLBACK: %w", err)
			}
			return expect("rows with id 20 after ROLLBACK", n, 0)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+s.dist+" (id, v) VALUES ($1, 'tx')", 20); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, "SELECT 1/0").Scan(&x)
		if code := sqlstate(err); code != "22012" {
			return fmt.Errorf("SELECT 1/0: want SQLSTATE 22012, got %v", err)
		}
		err = tx.QueryRow(ctx, "SELECT 1").Scan(&x)
		if code := sqlstate(err); code != "25P02" {
			return fmt.Errorf("SELECT 1 in failed transaction: want SQLSTATE 25P02, got %v", err)
		}
		if err := tx.Rollback(ctx); err != nil {
			return fmt.Errorf("ROLLBACK: %w", err)
		}
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM "+s.dist+" WHERE id = $1", 20).Scan(&n); err != nil {
			return fmt.Errorf("after ROLLBACK: %w", err)
		}
		return expect("rows with id 20 after ROLLBACK", n, 0)
	})
	s.step("prepared_reuse", func() error {
		want := func(i int) string {
			if i == 1 {
				return "one"
			}
			return "r" + strconv.Itoa(i)
		}
		if *mode == "batch" {
			b := &pgx.Batch{}
			got := make([]string, 11)
			for i := 1; i <= 10; i++ {
				i := i
				b.Queue("SELECT v FROM "+s.dist+" WHERE id = $1", i).QueryRow(func(r pgx.Row) error { return r.Scan(&got[i]) })
			}
			if err := c.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			for i := 1; i <= 10; i++ {
				if err := expect("v of id "+strconv.Itoa(i), got[i], want(i)); err != nil {
					return err
				}
			}
			return nil
		}
		if _, err := c.Prepare(ctx, "compat_sel", "SELECT v FROM "+s.dist+" WHERE id = $1"); err != nil {
			return err
		}
		for i := 1; i <= 10; i++ {
			var v string
			if err := c.QueryRow(ctx, "compat_sel", i).Scan(&v); err != nil {
				return fmt.Errorf("execution %d: %w", i, err)
			}
			if err := expect("v of id "+strconv.Itoa(i), v, want(i)); err != nil {
				return err
			}
		}
		return c.Deallocate(ctx, "compat_sel")
	})
	s.step("copy_in", func() error {
		rows := make([][]any, 0, 2000)
		for i := 1001; i <= 3000; i++ {
			rows = append(rows, []any{int32(i), "c" + strconv.Itoa(i)})
		}
		// CopyFrom sends binary COPY data; the text format goes through PgConn.
		n, err := c.CopyFrom(ctx, pgx.Identifier{s.dist}, []string{"id", "v"}, pgx.CopyFromRows(rows))
		if err != nil {
			return fmt.Errorf("binary COPY FROM STDIN: %w", err)
		}
		if err := expect("copied rows", n, int64(2000)); err != nil {
			return err
		}
		var buf bytes.Buffer
		for i := 3001; i <= 3010; i++ {
			fmt.Fprintf(&buf, "%d\tt%d\n", i, i)
		}
		ct, err := c.PgConn().CopyFrom(ctx, &buf, "COPY "+s.dist+" (id, v) FROM STDIN")
		if err != nil {
			return fmt.Errorf("text COPY FROM STDIN: %w", err)
		}
		return expect("text copied rows", ct.RowsAffected(), int64(10))
	})
	s.step("copy_out", func() error {
		var buf bytes.Buffer
		ct, err := c.PgConn().CopyTo(ctx, &buf, "COPY "+s.dist+" (id, v) TO STDOUT")
		if err != nil {
			return err
		}
		n := 0
		for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
			f := strings.SplitN(line, "\t", 2)
			if id, _ := strconv.Atoi(f[0]); id >= 1001 && id <= 3000 {
				n++
				if len(f) != 2 || f[1] != "c"+f[0] {
					return fmt.Errorf("bad line %q", line)
				}
			}
		}
		lines := int64(strings.Count(buf.String(), "\n"))
		var count int64
		if err := c.QueryRow(ctx, "SELECT count(*) FROM "+s.dist).Scan(&count); err != nil {
			return err
		}
		if err := expect("lines = count(*)", lines, count); err != nil {
			return err
		}
		if lines < 11 {
			return fmt.Errorf("only %d lines", lines)
		}
		return expect("COPY tag rows = lines", ct.RowsAffected(), lines)
	})
	s.step("fetch_cursor", func() error {
		if _, err := c.Exec(ctx, fetchRowsInsert(s.dist)); err != nil {
			return fmt.Errorf("loading rows 5001..7000: %w", err)
		}
		// Both ways of reading in pieces run; their errors are joined.
		var errs []error
		if err := s.portalSuspended(ctx); err != nil {
			errs = append(errs, fmt.Errorf("Execute with a row limit: %w;", err))
		}
		if err := s.declareFetch(ctx); err != nil {
			errs = append(errs, fmt.Errorf("DECLARE/FETCH: %w", err))
		}
		return errors.Join(errs...)
	})
	s.step("types_roundtrip", func() error {
		num := "12345678901234567890.123456789"
		var n pgtype.Numeric
		if err := n.Scan(num); err != nil {
			return err
		}
		ts := time.Date(2024, 2, 29, 12, 34, 56, 789012000, time.UTC)
		u := [16]byte{0x6f, 0x1e, 0x0d, 0x6c, 0x1b, 0x3a, 0x4e, 0x1a, 0x9f, 0x0e, 0x44, 0x2b, 0x8c, 0xd1, 0x7a, 0x90}
		j := map[string]any{"a": []any{float64(1), float64(2), map[string]any{"b": nil}}, "c": "ü"}
		ia := []*int32{ptr(int32(1)), nil, ptr(int32(3))}
		ta := []*string{ptr("a"), ptr("b c"), nil, ptr("ü\"\\")}
		b := []byte{0, 0xff, 0, 0xde, 0xad, 0xbe, 0xef, '\\'}
		if _, err := c.Exec(ctx, "INSERT INTO "+s.dist+" (id, v, b, num, ts, u, j, ia, ta) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
			500, nil, b, n, ts, u, j, ia, ta); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		var (
			gv  *string
			gb  []byte
			gn  pgtype.Numeric
			gts time.Time
			gu  [16]byte
			gj  map[string]any
			gia []*int32
			gta []*string
		)
		if err := c.QueryRow(ctx, "SELECT v, b, num, ts, u, j, ia, ta FROM "+s.dist+" WHERE id = $1", 500).Scan(&gv, &gb, &gn, &gts, &gu, &gj, &gia, &gta); err != nil {
			return fmt.Errorf("select: %w", err)
		}
		if gv != nil {
			return fmt.Errorf("NULL came back as %q", *gv)
		}
		if !bytes.Equal(gb, b) {
			return fmt.Errorf("bytea: got %x want %x", gb, b)
		}
		if gn.Int.Cmp(n.Int) != 0 || gn.Exp != n.Exp {
			return fmt.Errorf("numeric: got %v want %s", numString(gn), num)
		}
		if !gts.Equal(ts) {
			return fmt.Errorf("timestamptz: got %v want %v", gts, ts)
		}
		if gu != u {
			return fmt.Errorf("uuid: got %x want %x", gu, u)
		}
		if !reflect.DeepEqual(gj, j) {
			return fmt.Errorf("jsonb: got %v want %v", gj, j)
		}
		if !reflect.DeepEqual(gia, ia) {
			return fmt.Errorf("int[]: got %v", gia)
		}
		if !reflect.DeepEqual(gta, ta) {
			return fmt.Errorf("text[]: got %v", gta)
		}
		// The same values in the text format, as the simple protocol sends them.
		var text string
		if err := c.QueryRow(ctx, "SELECT concat_ws('|', coalesce(v, 'NULL'), b::text, num::text, ts AT TIME ZONE 'UTC', u::text, j::text, ia::text, ta::text) FROM "+s.dist+" WHERE id = 500",
			pgx.QueryExecModeSimpleProtocol).Scan(&text); err != nil {
			return fmt.Errorf("text select: %w", err)
		}
		want := `NULL|\x00ff00deadbeef5c|12345678901234567890.123456789|2024-02-29 12:34:56.789012|6f1e0d6c-1b3a-4e1a-9f0e-442b8cd17a90|{"a": [1, 2, {"b": null}], "c": "ü"}|{1,NULL,3}|{a,"b c",NULL,"ü\"\\"}`
		return expect("text form", text, want)
	})
	s.step("cancel", func() error {
		go func() {
			time.Sleep(time.Second)
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := c.PgConn().CancelRequest(cctx); err != nil {
				fmt.Fprintln(os.Stderr, "cancel request:", err)
			}
		}()
		qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.Exec(qctx, "SELECT pg_sleep(30) FROM "+s.dist+" WHERE id = 1")
		el := time.Since(start)
		if sqlstate(err) != "57014" {
			return fmt.Errorf("want SQLSTATE 57014, got %v after %v", err, el.Round(time.Millisecond))
		}
		if el > 6*time.Second {
			return fmt.Errorf("cancelled only after %v", el.Round(time.Millisecond))
		}
		var one int
		if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
			return fmt.Errorf("session after cancel: %w", err)
		}
		return nil
	})
	s.step("listen_notify", func() error {
		l, err := pgx.Connect(ctx, connString(mainSSLMode))
		if err != nil {
			return err
		}
		defer l.Close(ctx)
		if _, err := l.Exec(ctx, "LISTEN "+s.ch); err != nil {
			return err
		}
		got := make(chan error, 1)
		go func() {
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			n, err := l.WaitForNotification(wctx)
			if err == nil && (n.Channel != s.ch || n.Payload != "hello") {
				err = fmt.Errorf("got notification %q %q", n.Channel, n.Payload)
			}
			got <- err
		}()
		time.Sleep(200 * time.Millisecond) // the listener sits idle
		if _, err := c.Exec(ctx, "SELECT pg_notify($1, 'hello')", s.ch); err != nil {
			return err
		}
		if err := <-got; err != nil {
			return fmt.Errorf("waiting idle for the notification: %w", err)
		}
		return nil
	})
	s.step("deallocate_discard", func() error {
		q := "SELECT v FROM " + s.dist + " WHERE id = $1"
		var v string
		if err := c.QueryRow(ctx, q, 1).Scan(&v); err != nil {
			return err
		}
		// DeallocateAll sends DEALLOCATE ALL and forgets pgx's statement cache.
		if err := c.DeallocateAll(ctx); err != nil {
			return fmt.Errorf("DEALLOCATE ALL: %w", err)
		}
		if err := c.QueryRow(ctx, q, 2).Scan(&v); err != nil {
			return fmt.Errorf("after DEALLOCATE ALL: %w", err)
		}
		if _, err := c.Exec(ctx, "DISCARD ALL"); err != nil {
			return fmt.Errorf("DISCARD ALL: %w", err)
		}
		// DISCARD ALL dropped the server side of pgx's cached statements;
		// pgx does not notice, so the application resets the cache.
		if err := c.DeallocateAll(ctx); err != nil {
			return fmt.Errorf("DEALLOCATE ALL after DISCARD ALL: %w", err)
		}
		if err := c.QueryRow(ctx, q, 3).Scan(&v); err != nil {
			return fmt.Errorf("after DISCARD ALL: %w", err)
		}
		if err := expect("v", v, "r3"); err != nil {
			return err
		}
		var one int
		return c.QueryRow(ctx, "SELECT 1", pgx.QueryExecModeSimpleProtocol).Scan(&one)
	})
	return !s.failed
}

// citus runs a Citus API call as pgx does by default (extended protocol);
// when that fails it tries the simple protocol, so that the later steps
// still run against a distributed table, and reports both.
func (s *scenario) citus(ctx context.Context, q string) error {
	_, err := s.conn.Exec(ctx, q)
	if err == nil {
		return nil
	}
	if _, err2 := s.conn.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol); err2 != nil {
		return fmt.Errorf("%w; with QueryExecModeSimpleProtocol: %v", err, err2)
	}
	return fmt.Errorf("%w (with QueryExecModeSimpleProtocol it worked: later steps use the distributed table)", err)
}

// declareFetch reads the rows through a SQL cursor, 100 rows per FETCH.
func (s *scenario) declareFetch(ctx context.Context) error {
	c := s.conn
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "DECLARE compat_cur NO SCROLL CURSOR FOR SELECT id, v FROM "+s.dist+" WHERE id BETWEEN 5001 AND 7000"); err != nil {
		return err
	}
	total, sum, fetches := 0, 0, 0
	for {
		rows, _ := tx.Query(ctx, "FETCH 100 FROM compat_cur")
		got := 0
		for rows.Next() {
			var id int
			var v string
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return err
			}
			got++
			sum += id
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("FETCH after %d rows: %w", total, err)
		}
		fetches++
		total += got
		if got == 0 || fetches > 100 {
			break
		}
	}
	if err := expect("rows", total, 2000); err != nil {
		return err
	}
	if err := expect("sum of ids", sum, (5001+7000)*2000/2); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "CLOSE compat_cur"); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// portalSuspended binds a portal and executes it 100 rows at a time
// (Execute with a row limit, answered by PortalSuspended), as JDBC does with
// setFetchSize inside a transaction, using pgconn's raw frontend.
func (s *scenario) portalSuspended(ctx context.Context) error {
	pc := s.conn.PgConn()
	rr := pc.ExecParams(ctx, "BEGIN", nil, nil, nil, nil)
	if _, err := rr.Close(); err != nil {
		return err
	}
	defer func() { pc.Exec(ctx, "ROLLBACK").Close() }()
	if _, err := pc.Prepare(ctx, "", "SELECT id FROM "+s.dist+" WHERE id BETWEEN 5001 AND 7000", nil); err != nil {
		return err
	}
	// Bind the unnamed statement to the unnamed portal, then Execute(100)
	// until CommandComplete; pgconn has no API for a row limit, so this
	// drives the protocol directly and reads every reply.
	fe := pc.Frontend()
	total, suspended := 0, 0
	fe.SendBind(&pgproto3.Bind{ResultFormatCodes: []int16{0}})
	fe.SendExecute(&pgproto3.Execute{MaxRows: 100})
	fe.SendSync(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		return err
	}
	for {
		msg, err := fe.Receive()
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.BindComplete, *pgproto3.NoticeResponse, *pgproto3.ParameterStatus:
		case *pgproto3.DataRow:
			total++
		case *pgproto3.PortalSuspended:
			suspended++
		case *pgproto3.CommandComplete:
			if suspended == 0 {
				return fmt.Errorf("Execute(max 100 rows) ended with CommandComplete %q after %d rows, no PortalSuspended", m.CommandTag, total)
			}
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("ErrorResponse %s: %s after %d rows", m.Code, m.Message, total)
		case *pgproto3.ReadyForQuery:
			if suspended > 0 && total < 2000 {
				// Continue the suspended portal.
				fe.SendExecute(&pgproto3.Execute{MaxRows: 100})
				fe.SendSync(&pgproto3.Sync{})
				if err := fe.Flush(); err != nil {
					return err
				}
				continue
			}
			if total != 2000 {
				return fmt.Errorf("portal with row limit 100: got %d rows, %d PortalSuspended", total, suspended)
			}
			return nil
		default:
			return fmt.Errorf("unexpected %T after %d rows", msg, total)
		}
	}
}

// fetchRowsInsert is one INSERT of the 2,000 rows (ids 5001..7000) that the
// fetch_cursor step reads back.
func fetchRowsInsert(table string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (id, v) VALUES ")
	for i := 5001; i <= 7000; i++ {
		if i > 5001 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, 'f%d')", i, i)
	}
	return b.String()
}

func numString(n pgtype.Numeric) string {
	v, err := n.Value()
	if err != nil {
		return err.Error()
	}
	return fmt.Sprint(v)
}

func ptr[T any](v T) *T { return &v }

func expect[T comparable](what string, got, want T) error {
	if got != want {
		return fmt.Errorf("%s: got %v, want %v", what, got, want)
	}
	return nil
}
