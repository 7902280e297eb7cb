package executor

import (
	"strings"
	"testing"
)

// testCitusAPI distributes a table with Citus's function through pgfed and
// uses it: the session dispatches the call to executor/citus, then plans
// the table's statements with the new catalog.
func testCitusAPI(t *testing.T, c *cluster) {
	conn := c.connect(t)
	mustExec(t, conn, "CREATE TABLE pets (id bigint PRIMARY KEY, name text)")
	mustExec(t, conn, "INSERT INTO pets VALUES (1, 'rex'), (2, 'tom')")
	if got := joinRows(queryStrings(t, conn, "SELECT create_distributed_table('pets', 'id', shard_count => 4)")); got != "" {
		t.Errorf("create_distributed_table returned %q", got)
	}
	if tag := mustExec(t, conn, "INSERT INTO pets VALUES (3, 'ana'), (4, 'bo'), (5, 'cy')"); tag != "INSERT 0 3" {
		t.Errorf("insert tag %q", tag)
	}
	if got := joinRows(queryStrings(t, conn, "SELECT id, name FROM pets ORDER BY id")); got != "1,rex;2,tom;3,ana;4,bo;5,cy" {
		t.Errorf("pets: %q", got)
	}
	rows := queryStrings(t, conn, "SELECT count(*) FROM citus_shards WHERE table_name = 'pets'::regclass")
	if joinRows(rows) != "4" {
		t.Errorf("citus_shards: %v", rows)
	}
	// DDL on the distributed table reaches the shards, and the new column
	// is planned at once.
	mustExec(t, conn, "ALTER TABLE pets ADD COLUMN age int")
	mustExec(t, conn, "UPDATE pets SET age = id * 2")
	if got := joinRows(queryStrings(t, conn, "SELECT sum(age) FROM pets")); got != "30" {
		t.Errorf("sum(age) = %q", got)
	}
	mustExec(t, conn, "DROP TABLE pets")
	if _, err := conn.Exec(testCtx(t), "SELECT * FROM pets"); err == nil || !strings.Contains(err.Error(), "42P01") {
		t.Errorf("after DROP: %v", err)
	}
}

// testPreparedAfterDDL runs a prepared statement, changes the table's
// columns, and runs it again: the statements prepared on the workers are
// made again for the new shape.
func testPreparedAfterDDL(t *testing.T, c *cluster) {
	conn := c.connect(t)
	ctx := testCtx(t)
	mustExec(t, conn, "CREATE TABLE shapes (id bigint PRIMARY KEY, a int)")
	mustExec(t, conn, "SELECT create_distributed_table('shapes', 'id')")
	mustExec(t, conn, "INSERT INTO shapes VALUES (1, 10), (2, 20)")
	var a int
	if err := conn.QueryRow(ctx, "SELECT a FROM shapes WHERE id = $1", 1).Scan(&a); err != nil || a != 10 {
		t.Fatalf("before: %d %v", a, err)
	}
	mustExec(t, conn, "ALTER TABLE shapes ALTER COLUMN a TYPE bigint")
	other := c.connect(t)
	var b int64
	if err := other.QueryRow(ctx, "SELECT a FROM shapes WHERE id = $1", 2).Scan(&b); err != nil || b != 20 {
		t.Fatalf("after the type change: %d %v", b, err)
	}
	mustExec(t, conn, "DROP TABLE shapes")
}

// testWorkerStatementGeneration checks the cache of statements prepared
// on a worker connection: after a change of the table's column type, the
// old statement fails as PostgreSQL says, and a new catalog generation
// prepares it again.
func testWorkerStatementGeneration(t *testing.T, c *cluster) {
	ctx := testCtx(t)
	w, err := c.workers[0].Connect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(ctx)
	pc := w.PgConn()
	if _, err := pc.Exec(ctx, "CREATE TABLE gen_probe (id int, a int); INSERT INTO gen_probe VALUES (1, 10)").ReadAll(); err != nil {
		t.Fatal(err)
	}
	run := func(gen uint64) (string, error) {
		rr, err := execOn(ctx, pc, gen, "SELECT a FROM gen_probe WHERE id = $1", [][]byte{[]byte("1")}, nil, []uint32{23}, nil)
		if err != nil {
			return "", err
		}
		res := rr.Read()
		if res.Err != nil {
			return "", res.Err
		}
		return string(res.Rows[0][0]), nil
	}
	if v, err := run(1); err != nil || v != "10" {
		t.Fatalf("first run: %q %v", v, err)
	}
	if _, err := pc.Exec(ctx, "ALTER TABLE gen_probe ALTER COLUMN a TYPE bigint").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := run(1); err == nil || !strings.Contains(err.Error(), "0A000") {
		t.Errorf("same generation after the type change: %v, want PostgreSQL's 0A000", err)
	}
	if v, err := run(2); err != nil || v != "10" {
		t.Errorf("new generation: %q %v", v, err)
	}
	pc.Exec(ctx, "DROP TABLE gen_probe").ReadAll()
}
