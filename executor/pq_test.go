package executor

import (
	"database/sql"
	"errors"
	"testing"

	"github.com/jackc/pgerrcode"
	"github.com/lib/pq"
)

func testPQ(t *testing.T, e *env) {
	ctx := testCtx(t)
	db, err := sql.Open("postgres", e.connString())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(2)
	if _, err := db.ExecContext(ctx, "CREATE TABLE pq_t (id serial PRIMARY KEY, name text NOT NULL, n numeric)"); err != nil {
		t.Fatal(err)
	}
	// lib/pq prepares every parameterized statement unnamed and syncs.
	for _, name := range []string{"ann", "bob", "cy"} {
		if _, err := db.ExecContext(ctx, "INSERT INTO pq_t (name, n) VALUES ($1, $2)", name, len(name)*10); err != nil {
			t.Fatal(err)
		}
	}
	var id int
	if err := db.QueryRowContext(ctx, "INSERT INTO pq_t (name) VALUES ($1) RETURNING id", "dee").Scan(&id); err != nil || id != 4 {
		t.Fatalf("returning id %d %v", id, err)
	}
	rows, err := db.QueryContext(ctx, "SELECT name, n FROM pq_t WHERE n IS NOT NULL ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var name, n string
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		got = append(got, name+"="+n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != "ann=30" || got[2] != "cy=20" {
		t.Fatalf("rows %q", got)
	}
	// A named prepared statement used many times.
	st, err := db.PrepareContext(ctx, "SELECT name FROM pq_t WHERE id = $1")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		var name string
		if err := st.QueryRowContext(ctx, i%4+1).Scan(&name); err != nil {
			t.Fatal(err)
		}
		if want := []string{"ann", "bob", "cy", "dee"}[i%4]; name != want {
			t.Fatalf("id %d: %q, want %q", i%4+1, name, want)
		}
	}
	st.Close()
	// A transaction rolled back, and the error's SQLSTATE.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM pq_t"); err != nil {
		t.Fatal(err)
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO pq_t (name) VALUES (NULL)")
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || string(pqErr.Code) != pgerrcode.NotNullViolation || pqErr.Column != "name" {
		t.Fatalf("got %v, want not_null_violation on name", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM pq_t").Scan(&n); err != nil || n != 4 {
		t.Fatalf("count after rollback %d %v", n, err)
	}
	// A query without parameters goes as a simple Query.
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'pq_t'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("pg_tables %d %v", n, err)
	}
}
