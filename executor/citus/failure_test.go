package citus_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// TestFailuresLeaveNothingHalfDone makes a worker fail in the middle of
// create_distributed_table and of DDL (an object in the way on one
// worker, after the other did its part; then a worker stopped): each time
// the catalog is unchanged, no shard table or column is left behind, the
// shell is intact and no prepared transaction remains.
func TestFailuresLeaveNothingHalfDone(t *testing.T) {
	c := newCluster(t)
	c.exec(servers[0], `CREATE TABLE orders (id bigint PRIMARY KEY, note text);
		INSERT INTO orders SELECT i, 'n' || i FROM generate_series(1, 50) i`)
	// The second shard (102009) goes to the second worker in (host, port)
	// order; a table of that name is in its way there.
	second := c.worker(c.nodes[1])
	if servers[1].Port > servers[2].Port {
		second = c.worker(c.nodes[0])
	}
	c.exec(second, "CREATE TABLE orders_102009 (x int)")
	err := c.mustFail("SELECT create_distributed_table('orders', 'id', shard_count => 4)", "42P07")
	if !strings.Contains(err.Error(), "orders_102009") {
		t.Errorf("error does not name the shard: %v", err)
	}
	c.checkUntouched("orders", 50, "orders_102009")
	c.exec(second, "DROP TABLE orders_102009")

	// A worker that is down.
	if err := second.Stop(c.ctx); err != nil {
		t.Fatal(err)
	}
	_, err = c.run("SELECT create_distributed_table('orders', 'id', shard_count => 4)")
	if err == nil || !strings.HasPrefix(sqlStateOf(err), "08") {
		t.Errorf("create_distributed_table with a worker down: %v (SQLSTATE %s), want class 08", err, sqlStateOf(err))
	}
	if err := second.Start(c.ctx); err != nil {
		t.Fatal(err)
	}
	c.checkUntouched("orders", 50)

	// Now distribute, and break DDL in the middle.
	c.must("SELECT create_distributed_table('orders', 'id', shard_count => 4)")
	// Shard ids taken by the failed attempts are not reused: the second
	// shard is now the sixteenth id.
	sid := c.must("SELECT (min(shardid) + 1)::text FROM pg_dist_shard").rows[0][0]
	if sid != "102017" {
		t.Errorf("second shard %s, want 102017", sid)
	}
	c.exec(second, "ALTER TABLE orders_102017 ADD COLUMN extra int")
	c.mustFail("ALTER TABLE orders ADD COLUMN extra int", "42701")
	c.checkColumn("orders", "extra", "orders_102017")
	c.exec(second, "ALTER TABLE orders_102017 DROP COLUMN extra")

	c.exec(second, "CREATE INDEX orders_note_idx_102017 ON orders_102017 (note)")
	c.mustFail("CREATE INDEX orders_note_idx ON orders (note)", "42P07")
	if n := c.one(servers[0], "SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_note_idx'"); n != "0" {
		t.Error("the failed CREATE INDEX was applied to the shell")
	}
	for _, w := range servers[1:] {
		if n := c.one(w, "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'orders_note_idx_%' AND indexname <> 'orders_note_idx_102017'"); n != "0" {
			t.Errorf("the failed CREATE INDEX left %s shard indexes on %s", n, w.Name)
		}
	}
	c.exec(second, "DROP INDEX orders_note_idx_102017")

	if err := second.Stop(c.ctx); err != nil {
		t.Fatal(err)
	}
	_, err = c.run("ALTER TABLE orders ADD COLUMN extra int")
	if err == nil || !strings.HasPrefix(sqlStateOf(err), "08") {
		t.Errorf("ALTER TABLE with a worker down: %v, want class 08", err)
	}
	_, err = c.run("DROP TABLE orders")
	if err == nil {
		t.Error("DROP TABLE with a worker down succeeded")
	}
	if err := second.Start(c.ctx); err != nil {
		t.Fatal(err)
	}
	c.checkColumn("orders", "extra", "")
	if n := c.one(servers[0], "SELECT count(*) FROM pgfed.shard"); n != "4" {
		t.Errorf("%s shards in the catalog after a failed DROP, want 4", n)
	}
	// All still works once the worker is back.
	c.must("ALTER TABLE orders ADD COLUMN extra int")
	c.checkColumn("orders", "extra", "all")
	c.noPrepared()
}

// checkUntouched checks a table that failed to be distributed: not in the
// catalog, its rows in the shell, no shard table on any worker (except
// those listed, which were there before).
func (c *cluster) checkUntouched(table string, rows int, except ...string) {
	c.t.Helper()
	if n := c.one(servers[0], "SELECT count(*) FROM pgfed.partition"); n != "0" {
		c.t.Errorf("%s tables in the catalog", n)
	}
	if n := c.one(servers[0], "SELECT count(*) FROM pgfed.shard"); n != "0" {
		c.t.Errorf("%s shards in the catalog", n)
	}
	if n := c.one(servers[0], "SELECT count(*) FROM ONLY "+table); n != fmt.Sprint(rows) {
		c.t.Errorf("the shell has %s rows, want %d", n, rows)
	}
	for i, names := range c.workerTables(table + "_") {
		for _, n := range names {
			found := false
			for _, e := range except {
				found = found || e == n
			}
			if !found {
				c.t.Errorf("worker %d keeps shard table %s", i+1, n)
			}
		}
	}
	c.noPrepared()
}

// checkColumn checks which tables have a column: the shell and every
// shard ("all"), or none of them but the one shard named in only.
func (c *cluster) checkColumn(table, column, only string) {
	c.t.Helper()
	q := "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid " +
		"WHERE a.attname = '" + column + "' AND NOT a.attisdropped AND c.relkind = 'r' AND c.relname LIKE '" + table + "%'"
	shell := c.one(servers[0], q)
	var shards []string
	for _, w := range servers[1:] {
		if s := c.one(w, q); s != "<null>" {
			shards = append(shards, strings.Split(s, ",")...)
		}
	}
	switch only {
	case "all":
		if shell != table || len(shards) != 4 {
			c.t.Errorf("column %s on shell %q and shards %v, want everywhere", column, shell, shards)
		}
	default:
		want := []string{}
		if only != "" {
			want = []string{only}
		}
		if shell != "<null>" || fmt.Sprint(shards) != fmt.Sprint(want) {
			c.t.Errorf("column %s on shell %q and shards %v, want only on %v", column, shell, shards, want)
		}
	}
}

// noPrepared checks no worker holds a prepared transaction.
func (c *cluster) noPrepared() {
	c.t.Helper()
	for _, w := range servers[1:] {
		if n := c.one(w, "SELECT count(*) FROM pg_prepared_xacts"); n != "0" {
			c.t.Errorf("%s prepared transactions left on %s", n, w.Name)
		}
	}
}

// sqlStateOf returns an error's SQLSTATE.
func sqlStateOf(err error) string {
	if s, ok := err.(interface{ SQLState() string }); ok {
		return s.SQLState()
	}
	type unwrapper interface{ Unwrap() error }
	for err != nil {
		if s, ok := err.(interface{ SQLState() string }); ok {
			return s.SQLState()
		}
		u, ok := err.(unwrapper)
		if !ok {
			return ""
		}
		err = u.Unwrap()
	}
	return ""
}

// TestFailureAtPrepare makes one worker fail at PREPARE TRANSACTION, after
// the other has prepared: a deferred trigger that an event trigger puts
// on every table created there fires at PREPARE and raises. Distributing
// a table with rows then fails as a whole.
func TestFailureAtPrepare(t *testing.T) {
	c := newCluster(t)
	c.exec(servers[0], `CREATE TABLE orders (id bigint, note text);
		INSERT INTO orders SELECT i, 'n' FROM generate_series(1, 100) i`)
	second := servers[2]
	c.exec(second, `CREATE FUNCTION fail_row() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'injected failure at prepare'; END $$;
		CREATE FUNCTION arm() RETURNS event_trigger LANGUAGE plpgsql AS $$
			DECLARE r record;
			BEGIN
				FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' LOOP
					EXECUTE format('CREATE CONSTRAINT TRIGGER fail_at_prepare AFTER INSERT ON %s
						DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_row()', r.object_identity);
				END LOOP;
			END $$;
		CREATE EVENT TRIGGER arm ON ddl_command_end EXECUTE FUNCTION arm()`)
	err := c.mustFail("SELECT create_distributed_table('orders', 'id', shard_count => 4)", "P0001")
	if !strings.Contains(err.Error(), "injected failure at prepare") {
		t.Errorf("error %v", err)
	}
	c.checkUntouched("orders", 100)
	if n := c.one(servers[0], "SELECT count(*) FROM pgfed.transaction"); n != "0" {
		t.Errorf("%s decision rows left", n)
	}
	c.exec(second, "DROP EVENT TRIGGER arm")
	c.must("SELECT create_distributed_table('orders', 'id', shard_count => 4)")
	if n := c.must("SELECT count(*) FROM citus_shards").rows[0][0]; n != "4" {
		t.Errorf("%s shards after the retry", n)
	}
}

// TestWorkerCrashMidDistribution stops a worker (immediate shutdown)
// while create_distributed_table runs: after the shards were created and
// the rows copied, before the workers prepare (the moment is caught from
// the API's own log line). Nothing stays: no catalog rows, no shard
// tables, no prepared transactions, the shell's rows.
func TestWorkerCrashMidDistribution(t *testing.T) {
	c := newCluster(t)
	c.exec(servers[0], `CREATE TABLE orders (id bigint PRIMARY KEY, note text);
		INSERT INTO orders SELECT i, 'n' FROM generate_series(1, 1000) i`)
	victim := servers[2]
	crashed := false
	c.env.Log = hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: hookWriter(func(line string) {
		if strings.Contains(line, "distributing table") && !crashed {
			crashed = true
			if err := victim.StopImmediate(context.Background()); err != nil {
				t.Errorf("stop %s: %v", victim.Name, err)
			}
		}
	})})
	_, err := c.run("SELECT create_distributed_table('orders', 'id', shard_count => 4)")
	if !crashed {
		t.Fatal("the worker was not stopped: the log line moved?")
	}
	if err == nil || !strings.HasPrefix(sqlStateOf(err), "08") && sqlStateOf(err) != "57P01" {
		t.Errorf("error %v (SQLSTATE %s), want a connection failure", err, sqlStateOf(err))
	}
	t.Logf("create_distributed_table with a worker crashing: %v", err)
	if err := victim.Start(c.ctx); err != nil {
		t.Fatal(err)
	}
	c.checkUntouched("orders", 1000)
	// Once the worker is back, it works.
	c.env.Log = nil
	c.must("SELECT create_distributed_table('orders', 'id', shard_count => 4)")
	if n := c.one(servers[0], "SELECT count(*) FROM ONLY orders"); n != "0" {
		t.Errorf("shell keeps %s rows", n)
	}
}

// hookWriter calls a function with each log line.
type hookWriter func(string)

func (h hookWriter) Write(p []byte) (int, error) {
	h(string(p))
	return len(p), nil
}
