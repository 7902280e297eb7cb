// Command pq runs the compatibility scenario (see ../README.md) with lib/pq
// through database/sql against a pgfed coordinator and prints one line per
// step: STEP <name> PASS|FAIL|SKIP <detail>.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

const client = "pq"

var (
	dist = "compat_" + client + "_dist"
	ref  = "compat_" + client + "_ref"
	ch   = "compat_" + client
)

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func dsn(sslmode string) string {
	return fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=%s sslmode=%s connect_timeout=10",
		env("PGHOST", "127.0.0.1"), env("PGPORT", "6432"), env("PGUSER", "postgres"),
		os.Getenv("PGPASSWORD"), env("PGDATABASE", "postgres"), sslmode)
}

var failed bool

func step(name string, f func() error) {
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return f()
	}()
	var skip skipError
	switch {
	case errors.As(err, &skip):
		fmt.Printf("STEP %s SKIP %s\n", name, string(skip))
	case err != nil:
		failed = true
		fmt.Printf("STEP %s FAIL %s\n", name, strings.Join(strings.Fields(err.Error()), " "))
	default:
		fmt.Printf("STEP %s PASS\n", name)
	}
}

type skipError string

func (e skipError) Error() string { return string(e) }

func sqlstate(err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return string(pe.Code)
	}
	return ""
}

func expect[T comparable](what string, got, want T) error {
	if got != want {
		return fmt.Errorf("%s: got %v, want %v", what, got, want)
	}
	return nil
}

func main() {
	ctx := context.Background()
	var db *sql.DB
	step("connect_tls_scram", func() error {
		d, err := sql.Open("postgres", dsn(env("COMPAT_SSLMODE", "require")))
		if err != nil {
			return err
		}
		d.SetMaxOpenConns(1) // one session: transactions, cursors and cancel act on it
		if err := d.PingContext(ctx); err != nil {
			return err
		}
		db = d
		return nil
	})
	step("connect_plain", func() error {
		d, err := sql.Open("postgres", dsn("disable"))
		if err != nil {
			return err
		}
		defer d.Close()
		var one int
		return d.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	})
	if db == nil {
		fmt.Println("STEP rest FAIL no TLS connection, remaining steps not run")
		os.Exit(1)
	}
	defer db.Close()

	step("create_tables", func() error {
		for _, q := range []string{
			"DROP TABLE IF EXISTS " + dist + ", " + ref,
			"CREATE TABLE " + dist + " (id int PRIMARY KEY, v text, n int DEFAULT 0, b bytea, num numeric, ts timestamptz, u uuid, j jsonb, ia int[], ta text[])",
			"CREATE TABLE " + ref + " (id int PRIMARY KEY, name text)",
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	step("create_distributed_table", func() error {
		// Without arguments lib/pq sends a simple Query.
		_, err := db.ExecContext(ctx, "SELECT create_distributed_table('"+dist+"', 'id')")
		return err
	})
	step("create_reference_table", func() error {
		_, err := db.ExecContext(ctx, "SELECT create_reference_table('"+ref+"')")
		return err
	})
	step("insert_select_single", func() error {
		if _, err := db.ExecContext(ctx, "INSERT INTO "+dist+" (id, v) VALUES ($1, $2)", 1, "one"); err != nil {
			return err
		}
		var v string
		if err := db.QueryRowContext(ctx, "SELECT v FROM "+dist+" WHERE id = $1", 1).Scan(&v); err != nil {
			return err
		}
		return expect("v", v, "one")
	})
	step("multirow_insert", func() error {
		var vals []string
		for i := 2; i <= 11; i++ {
			vals = append(vals, fmt.Sprintf("(%d, 'r%d')", i, i))
		}
		res, err := db.ExecContext(ctx, "INSERT INTO "+dist+" (id, v) VALUES "+strings.Join(vals, ", "))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 10 {
			return fmt.Errorf("dist rows: got %d, want 10", n)
		}
		res, err = db.ExecContext(ctx, "INSERT INTO "+ref+" VALUES ($1, $2), ($3, $4), ($5, $6)", 1, "a", 2, "b", 3, "c")
		if err != nil {
			return fmt.Errorf("reference table: %w", err)
		}
		n, _ := res.RowsAffected()
		return expect("ref rows", n, int64(3))
	})
	step("tx_cross_shard_update", func() error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		res, err := tx.ExecContext(ctx, "UPDATE "+dist+" SET n = n + 1 WHERE id BETWEEN 1 AND 11")
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 11 {
			return fmt.Errorf("updated %d rows, want 11", n)
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		var sum int64
		if err := db.QueryRowContext(ctx, "SELECT sum(n) FROM "+dist+" WHERE id BETWEEN 1 AND 11").Scan(&sum); err != nil {
			return err
		}
		return expect("sum(n)", sum, int64(11))
	})
	step("tx_error_rollback", func() error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+dist+" (id, v) VALUES ($1, 'tx')", 20); err != nil {
			return err
		}
		var x int
		if err := tx.QueryRowContext(ctx, "SELECT 1/0").Scan(&x); sqlstate(err) != "22012" {
			return fmt.Errorf("SELECT 1/0: want SQLSTATE 22012, got %v", err)
		}
		if err := tx.QueryRowContext(ctx, "SELECT 1").Scan(&x); sqlstate(err) != "25P02" {
			return fmt.Errorf("SELECT 1 in failed transaction: want SQLSTATE 25P02, got %v", err)
		}
		if err := tx.Rollback(); err != nil {
			return fmt.Errorf("ROLLBACK: %w", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+dist+" WHERE id = $1", 20).Scan(&n); err != nil {
			return fmt.Errorf("after ROLLBACK: %w", err)
		}
		return expect("rows with id 20 after ROLLBACK", n, 0)
	})
	step("prepared_reuse", func() error {
		st, err := db.PrepareContext(ctx, "SELECT v FROM "+dist+" WHERE id = $1")
		if err != nil {
			return err
		}
		defer st.Close()
		for i := 1; i <= 10; i++ {
			want := "r" + strconv.Itoa(i)
			if i == 1 {
				want = "one"
			}
			var v string
			if err := st.QueryRowContext(ctx, i).Scan(&v); err != nil {
				return fmt.Errorf("execution %d: %w", i, err)
			}
			if err := expect("v", v, want); err != nil {
				return err
			}
		}
		return nil
	})
	step("copy_in", func() error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		st, err := tx.PrepareContext(ctx, "COPY "+dist+" (id, v) FROM STDIN")
		if err != nil {
			return err
		}
		for i := 1001; i <= 3000; i++ {
			if _, err := st.ExecContext(ctx, i, "c"+strconv.Itoa(i)); err != nil {
				return err
			}
		}
		res, err := st.ExecContext(ctx)
		if err != nil {
			return err
		}
		if err := st.Close(); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		return expect("copied rows", n, int64(2000))
	})
	step("copy_out", func() error {
		return skipError("lib/pq does not implement COPY TO STDOUT")
	})
	step("fetch_cursor", func() error {
		var vals []string
		for i := 5001; i <= 7000; i++ {
			vals = append(vals, fmt.Sprintf("(%d, 'f%d')", i, i))
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO "+dist+" (id, v) VALUES "+strings.Join(vals, ", ")); err != nil {
			return fmt.Errorf("loading rows 5001..7000: %w", err)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "DECLARE compat_cur NO SCROLL CURSOR FOR SELECT id, v FROM "+dist+" WHERE id BETWEEN 5001 AND 7000"); err != nil {
			return err
		}
		total, sum := 0, 0
		for f := 0; f < 100; f++ {
			rows, err := tx.QueryContext(ctx, "FETCH 100 FROM compat_cur")
			if err != nil {
				return fmt.Errorf("FETCH after %d rows: %w", total, err)
			}
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
				return err
			}
			total += got
			if got == 0 {
				break
			}
		}
		if err := expect("rows", total, 2000); err != nil {
			return err
		}
		if err := expect("sum of ids", sum, (5001+7000)*2000/2); err != nil {
			return err
		}
		return tx.Commit()
	})
	step("types_roundtrip", func() error {
		b := []byte{0, 0xff, 0, 0xde, 0xad, 0xbe, 0xef, '\\'}
		num := "12345678901234567890.123456789"
		ts := time.Date(2024, 2, 29, 12, 34, 56, 789012000, time.UTC)
		u := "6f1e0d6c-1b3a-4e1a-9f0e-442b8cd17a90"
		j := `{"a": [1, 2, {"b": null}], "c": "ü"}`
		ia := []sql.NullInt64{{Int64: 1, Valid: true}, {}, {Int64: 3, Valid: true}}
		ta := []sql.NullString{{String: "a", Valid: true}, {String: "b c", Valid: true}, {}, {String: `ü"\`, Valid: true}}
		if _, err := db.ExecContext(ctx, "INSERT INTO "+dist+" (id, v, b, num, ts, u, j, ia, ta) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
			500, nil, b, num, ts, u, j, pq.Array(ia), pq.Array(ta)); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		var (
			gv           sql.NullString
			gb           []byte
			gnum, gu, gj string
			gts          time.Time
			gia          []sql.NullInt64
			gta          []sql.NullString
			wantJ, gotJ  any
		)
		if err := db.QueryRowContext(ctx, "SELECT v, b, num, ts, u, j, ia, ta FROM "+dist+" WHERE id = $1", 500).
			Scan(&gv, &gb, &gnum, &gts, &gu, &gj, pq.Array(&gia), pq.Array(&gta)); err != nil {
			return fmt.Errorf("select: %w", err)
		}
		if gv.Valid {
			return fmt.Errorf("NULL came back as %q", gv.String)
		}
		if !bytes.Equal(gb, b) {
			return fmt.Errorf("bytea: got %x want %x", gb, b)
		}
		if err := expect("numeric", gnum, num); err != nil {
			return err
		}
		if !gts.Equal(ts) {
			return fmt.Errorf("timestamptz: got %v want %v", gts, ts)
		}
		if err := expect("uuid", gu, u); err != nil {
			return err
		}
		json.Unmarshal([]byte(j), &wantJ)
		if err := json.Unmarshal([]byte(gj), &gotJ); err != nil || !reflect.DeepEqual(gotJ, wantJ) {
			return fmt.Errorf("jsonb: got %s", gj)
		}
		if !reflect.DeepEqual(gia, ia) {
			return fmt.Errorf("int[]: got %v", gia)
		}
		if !reflect.DeepEqual(gta, ta) {
			return fmt.Errorf("text[]: got %v", gta)
		}
		return nil
	})
	step("cancel", func() error {
		qctx, cancel := context.WithTimeout(ctx, time.Second) // lib/pq sends a CancelRequest when ctx ends
		defer cancel()
		start := time.Now()
		_, err := db.ExecContext(qctx, "SELECT pg_sleep(30) FROM "+dist+" WHERE id = 1")
		el := time.Since(start)
		if sqlstate(err) != "57014" {
			return fmt.Errorf("want SQLSTATE 57014, got %v after %v", err, el.Round(time.Millisecond))
		}
		if el > 6*time.Second {
			return fmt.Errorf("cancelled only after %v", el.Round(time.Millisecond))
		}
		var one int
		if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			return fmt.Errorf("session after cancel: %w", err)
		}
		return nil
	})
	step("listen_notify", func() error {
		l := pq.NewListener(dsn(env("COMPAT_SSLMODE", "require")), time.Second, time.Second, nil)
		defer l.Close()
		if err := l.Listen(ch); err != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond) // the listener sits idle
		if _, err := db.ExecContext(ctx, "SELECT pg_notify($1, 'hello')", ch); err != nil {
			return err
		}
		select {
		case n := <-l.Notify:
			if n == nil || n.Channel != ch || n.Extra != "hello" {
				return fmt.Errorf("got notification %+v", n)
			}
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("no notification within 5s")
		}
	})
	step("deallocate_discard", func() error {
		st, err := db.PrepareContext(ctx, "SELECT v FROM "+dist+" WHERE id = $1")
		if err != nil {
			return err
		}
		var v string
		if err := st.QueryRowContext(ctx, 1).Scan(&v); err != nil {
			return err
		}
		st.Close()
		if _, err := db.ExecContext(ctx, "DEALLOCATE ALL"); err != nil {
			return fmt.Errorf("DEALLOCATE ALL: %w", err)
		}
		if err := db.QueryRowContext(ctx, "SELECT v FROM "+dist+" WHERE id = $1", 2).Scan(&v); err != nil {
			return fmt.Errorf("after DEALLOCATE ALL: %w", err)
		}
		if _, err := db.ExecContext(ctx, "DISCARD ALL"); err != nil {
			return fmt.Errorf("DISCARD ALL: %w", err)
		}
		if err := db.QueryRowContext(ctx, "SELECT v FROM "+dist+" WHERE id = $1", 3).Scan(&v); err != nil {
			return fmt.Errorf("after DISCARD ALL: %w", err)
		}
		return expect("v", v, "r3")
	})
	if failed {
		os.Exit(1)
	}
}
