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
