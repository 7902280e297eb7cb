package executor

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// testCopy checks COPY into and out of a distributed table.
func testCopy(t *testing.T, c *cluster) {
	conn := c.connect(t)
	pc := conn.PgConn()
	ctx := testCtx(t)
	data := "5001\t1\t1.5\tcopy\n5002\t2\t2.5\tcopy\n5003\t3\t\\N\tcopy\\ttab\n5004\t4\t4\tcopy\n"
	tag, err := pc.CopyFrom(ctx, strings.NewReader(data), "COPY orders (id, customer, amount, note) FROM STDIN")
	if err != nil || tag.String() != "COPY 4" {
		t.Fatalf("copy text: %v %v", tag, err)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT id, amount, note FROM orders WHERE id BETWEEN 5001 AND 5004 ORDER BY id")); got != "5001,1.5,copy;5002,2.5,copy;5003,NULL,copy\ttab;5004,4,copy" {
		t.Errorf("after copy: %q", got)
	}
	csv := "id,customer,amount,note\n5005,5,5,\"a,b\"\n5006,6,6,\"multi\nline\"\n"
	tag, err = pc.CopyFrom(ctx, strings.NewReader(csv), "COPY orders FROM STDIN WITH (FORMAT csv, HEADER)")
	if err != nil || tag.String() != "COPY 2" {
		t.Fatalf("copy csv: %v %v", tag, err)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT note FROM orders WHERE id IN (5005, 5006) ORDER BY id")); got != "a,b;multi\nline" {
		t.Errorf("after csv copy: %q", got)
	}
	// COPY ... WHERE: the workers filter, the tag counts what they loaded.
	tag, err = pc.CopyFrom(ctx, strings.NewReader("5401\t1\t1\tw\n5402\t1\t2\tw\n5403\t1\t3\tw\n"), "COPY orders FROM STDIN WHERE amount > 1")
	if err != nil || tag.String() != "COPY 2" {
		t.Errorf("copy where: %v %v", tag, err)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders WHERE note = 'w'")); got != "2" {
		t.Errorf("after copy where: %s", got)
	}
	mustExec(t, conn, "DELETE FROM orders WHERE note = 'w'")
	// A bad value on line 3 (checked by its worker): nothing is loaded,
	// and the error names the client's line.
	bad := "5101\t1\t1\tx\n5102\t1\t1\tx\n5103\t1\tnot-a-number\tx\n5104\t1\t1\tx\n"
	_, err = pc.CopyFrom(ctx, strings.NewReader(bad), "COPY orders FROM STDIN")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "22P02" || !strings.Contains(pe.Where, "line 3") {
		t.Fatalf("bad row: %v (where %q)", err, whereOf(err))
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders WHERE id BETWEEN 5101 AND 5104")); got != "0" {
		t.Errorf("rows loaded by a failed copy: %s", got)
	}
	// A bad distribution column value (checked on the coordinator).
	_, err = pc.CopyFrom(ctx, strings.NewReader("5201\t1\t1\tx\nabc\t1\t1\tx\n"), "COPY orders FROM STDIN")
	if !errors.As(err, &pe) || !strings.Contains(pe.Where, "line 2") {
		t.Fatalf("bad distribution value: %v (where %q)", err, whereOf(err))
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders WHERE id = 5201")); got != "0" {
		t.Errorf("rows loaded by a failed copy: %s", got)
	}
	// COPY out: every row of every shard, then a query.
	var buf bytes.Buffer
	tag, err = pc.CopyTo(ctx, &buf, "COPY orders (id, note) TO STDOUT")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	var n string
	conn.QueryRow(ctx, "SELECT count(*)::text FROM orders").Scan(&n)
	if tag.String() != "COPY "+n || itoa(len(lines)) != n {
		t.Errorf("copy out: tag %q, %d lines, want %s", tag, len(lines), n)
	}
	sort.Strings(lines)
	if !contains(strings.Join(lines, "\n"), "5003\tcopy\\ttab") {
		t.Errorf("copy out lacks the escaped row")
	}
	buf.Reset()
	if _, err := pc.CopyTo(ctx, &buf, "COPY (SELECT id, note FROM orders WHERE id BETWEEN 5005 AND 5006 ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)"); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "id,note\n5005,\"a,b\"\n5006,\"multi\nline\"\n" {
		t.Errorf("copy query out: %q", got)
	}
	mustExec(t, conn, "DELETE FROM orders WHERE id BETWEEN 5001 AND 5006")

	// pgx's CopyFrom speaks the binary format.
	var src [][]any
	for i := int64(5301); i <= 5320; i++ {
		src = append(src, []any{i, int32(i % 3), "2.5", fmt.Sprintf("bin%d", i)})
	}
	n64, err := conn.CopyFrom(ctx, pgx.Identifier{"orders"}, []string{"id", "customer", "amount", "note"}, pgx.CopyFromRows(src))
	if err != nil || n64 != 20 {
		t.Fatalf("binary copy: %d %v", n64, err)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*), sum(amount), min(note) FROM orders WHERE id BETWEEN 5301 AND 5320")); got != "20,50.0,bin5301" {
		t.Errorf("after binary copy: %q", got)
	}
	buf.Reset()
	if _, err := pc.CopyTo(ctx, &buf, "COPY (SELECT id FROM orders WHERE id = 5301) TO STDOUT WITH (FORMAT binary)"); err != nil {
		t.Fatal(err)
	}
	if b := buf.Bytes(); !bytes.HasPrefix(b, []byte("PGCOPY\n\xff\r\n\x00")) || !bytes.HasSuffix(b, []byte{0xff, 0xff}) || len(b) != 19+2+4+8+2 {
		t.Errorf("binary copy out: %q", b)
	}
	mustExec(t, conn, "DELETE FROM orders WHERE id BETWEEN 5301 AND 5320")
}

// whereOf returns the CONTEXT of a server error.
func whereOf(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Where
	}
	return ""
}
