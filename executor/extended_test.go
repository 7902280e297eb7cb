package executor

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/wire"
)

// testExtendedSession drives a Session directly with the extended
// protocol: a distributed portal executed with a row limit is suspended
// and resumed, and the Executes of one batch form one implicit
// transaction that Sync commits, or rolls back after Abort.
func testExtendedSession(t *testing.T, c *cluster) {
	s := newSession(t, &c.env, nil)
	ctx := testCtx(t)
	h, desc, err := s.Prepare(ctx, "ids", "SELECT id FROM orders WHERE id <= $1 ORDER BY id", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.(*distStatement); !ok || len(desc.Fields) != 1 || len(desc.ParamOIDs) != 1 {
		t.Fatalf("handle %T, description %+v", h, desc)
	}
	st := &wire.Statement{Name: "ids", Handle: h, Desc: desc}
	p := &wire.Portal{Statement: st, Params: [][]byte{[]byte("5")}}
	var got []string
	for i := 0; ; i++ {
		r := &recorder{}
		more, err := s.Execute(ctx, p, wire.ExecuteOptions{MaxRows: 2}, r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.String())
		if !more {
			break
		}
		if i > 5 {
			t.Fatal("portal never ends")
		}
	}
	if strings.Join(got, " | ") != "row 1; row 2 | row 3; row 4 | row 5; complete SELECT 5" {
		t.Errorf("suspended portal: %q", got)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// Two inserts on different shards in one batch: committed at Sync.
	ins, idesc, err := s.Prepare(ctx, "", "INSERT INTO orders VALUES ($1, 0, 0, 'batch')", nil)
	if err != nil {
		t.Fatal(err)
	}
	ist := &wire.Statement{Handle: ins, Desc: idesc}
	run := func(id string) {
		t.Helper()
		r := &recorder{}
		if _, err := s.Execute(ctx, &wire.Portal{Statement: ist, Params: [][]byte{[]byte(id)}}, wire.ExecuteOptions{}, r); err != nil {
			t.Fatal(err)
		}
		if r.String() != "complete INSERT 0 1" {
			t.Fatalf("insert %s: %s", id, r)
		}
	}
	run("7001")
	run("7002")
	if s.txn == nil || len(s.txn.Nodes()) == 0 {
		t.Fatal("no implicit distributed transaction during the batch")
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	count := func() string {
		r := &recorder{}
		if err := s.SimpleQuery(ctx, "SELECT count(*) FROM orders WHERE note = 'batch'", r); err != nil {
			t.Fatal(err)
		}
		return r.String()
	}
	if got := count(); got != "describe 1; row 2; complete SELECT 1" {
		t.Errorf("after the batch: %s", got)
	}
	// The same, aborted by the server before Sync: nothing is left.
	run("7003")
	s.Abort(ctx, errors.New("unknown portal"))
	s.Sync(ctx)
	if got := count(); got != "describe 1; row 2; complete SELECT 1" {
		t.Errorf("after an aborted batch: %s", got)
	}
	if s.TxStatus() != 'I' || s.txn != nil {
		t.Errorf("status %c, txn %v after the batch", s.TxStatus(), s.txn)
	}
	r := &recorder{}
	if err := s.SimpleQuery(ctx, "DELETE FROM orders WHERE note = 'batch'", r); err != nil || r.String() != "complete DELETE 2" {
		t.Errorf("cleanup: %s %v", r, err)
	}
}

// testScript sends several statements in one Query: their results come in
// turn, and they form one implicit transaction across the workers and the
// metadata database.
func testScript(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	res, err := conn.PgConn().Exec(ctx, "INSERT INTO orders VALUES (8001, 0, 0, 'script'); INSERT INTO orders VALUES (8002, 0, 0, 'script'); SELECT count(*) FROM orders WHERE note = 'script'").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, r := range res {
		tags = append(tags, r.CommandTag.String())
	}
	if strings.Join(tags, ";") != "INSERT 0 1;INSERT 0 1;SELECT 1" || string(res[2].Rows[0][0]) != "2" {
		t.Fatalf("script results: %v %q", tags, res[2].Rows)
	}
	// A failure rolls back the whole string, the local statement too.
	_, err = conn.PgConn().Exec(ctx, "CREATE TABLE script_local (x int); INSERT INTO orders VALUES (8003, 0, 0, 'script'); INSERT INTO orders VALUES (8001, 0, 0, 'dup')").ReadAll()
	if err == nil || !strings.Contains(err.Error(), "23505") {
		t.Fatalf("failing script: %v", err)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders WHERE note = 'script'")); got != "2" {
		t.Errorf("rows after a failed script: %s", got)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM pg_class WHERE relname = 'script_local'")); got != "0" {
		t.Errorf("local table of a failed script: %s", got)
	}
	mustExec(t, conn, "DELETE FROM orders WHERE note = 'script'")
}

// testDeferredBegin checks the BEGIN the session answers itself: the
// block is reported at once, local statements in it still roll back, and
// a block of distributed statements only commits on the workers.
func testDeferredBegin(t *testing.T, c *cluster) {
	conn := c.connect(t)
	mustExec(t, conn, "CREATE TABLE IF NOT EXISTS local_notes (x int)")
	mustExec(t, conn, "BEGIN")
	if st := conn.PgConn().TxStatus(); st != 'T' {
		t.Fatalf("status after BEGIN: %c", st)
	}
	mustExec(t, conn, "INSERT INTO local_notes VALUES (1)")
	mustExec(t, conn, "UPDATE orders SET note = 'deferred' WHERE id = 9")
	mustExec(t, conn, "ROLLBACK")
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM local_notes")); got != "0" {
		t.Errorf("local insert of a rolled back block: %s", got)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders WHERE note = 'deferred'")); got != "0" {
		t.Errorf("distributed update of a rolled back block: %s", got)
	}
	// Only distributed statements: committed by the workers alone.
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "UPDATE orders SET note = 'deferred' WHERE id = 9")
	mustExec(t, conn, "UPDATE orders SET note = 'deferred' WHERE id = 10")
	mustExec(t, conn, "COMMIT")
	if st := conn.PgConn().TxStatus(); st != 'I' {
		t.Errorf("status after COMMIT: %c", st)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders WHERE note = 'deferred'")); got != "2" {
		t.Errorf("after the block: %s", got)
	}
	mustExec(t, conn, "UPDATE orders SET note = 'n' WHERE note = 'deferred'")
}

// testDistributedBatch sends distributed statements in one pgx batch (one Sync):
// they form one implicit transaction, committed at the Sync, or rolled
// back entirely when one fails.
func testDistributedBatch(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	b := &pgx.Batch{}
	for i := 8101; i <= 8104; i++ {
		b.Queue("INSERT INTO orders VALUES ($1, 0, 0, 'batch2')", int64(i))
	}
	b.Queue("SELECT count(*) FROM orders WHERE note = 'batch2'")
	br := conn.SendBatch(ctx, b)
	for i := 0; i < 4; i++ {
		if _, err := br.Exec(); err != nil {
			t.Fatalf("batch insert %d: %v", i, err)
		}
	}
	var n int
	if err := br.QueryRow().Scan(&n); err != nil || n != 4 {
		t.Errorf("count inside the batch: %d %v", n, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	// A failing statement rolls the whole batch back.
	b = &pgx.Batch{}
	b.Queue("INSERT INTO orders VALUES ($1, 0, 0, 'batch3')", int64(8105))
	b.Queue("INSERT INTO orders VALUES ($1, 0, 0, 'batch3')", int64(8101))
	if err := conn.SendBatch(ctx, b).Close(); err == nil {
		t.Fatal("a batch with a duplicate key succeeded")
	}
	if got := joinRows(queryStrings(t, conn, "SELECT count(*) FROM orders WHERE note IN ('batch2', 'batch3')")); got != "4" {
		t.Errorf("after the failed batch: %s", got)
	}
	mustExec(t, conn, "DELETE FROM orders WHERE note = 'batch2'")
}
