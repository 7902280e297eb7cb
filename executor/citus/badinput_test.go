package citus_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pgfed/pgfed/executor/dtx"
)

// TestBadInput: each mistake is a precise error with the right SQLSTATE,
// and nothing changes (mustFail checks the catalog version; the shell and
// the workers are checked at the end).
func TestBadInput(t *testing.T) {
	c := newCluster(t)
	c.exec(servers[0], `CREATE TABLE t (id int, doc jsonb, note text UNIQUE);
		CREATE TABLE u (id int PRIMARY KEY);
		CREATE TABLE v (id int, code text);
		INSERT INTO t VALUES (1, '{}', 'x')`)
	c.must("SELECT create_distributed_table('u', 'id', shard_count => 2)")
	for _, tc := range []struct{ sql, code, msg string }{
		{"SELECT create_distributed_table('nope', 'id')", "42P01", `relation "nope" does not exist`},
		{"SELECT create_distributed_table('v', 'nope')", "42703", `column "nope" of relation "v" does not exist`},
		{"SELECT create_distributed_table('t', 'doc')", "0A000", "could not identify a hash function for type jsonb"},
		{"SELECT create_distributed_table('t', 'id')", "0A000", `cannot create constraint on "t"`},
		{"SELECT create_distributed_table('u', 'id')", "42710", `table "u" is already distributed`},
		{"SELECT create_distributed_table('v', 'id', shard_count => 0)", "22023", `0 is outside the valid range for parameter "shard_count" (1 .. 64000)`},
		{"SELECT create_distributed_table('v', 'id', shard_count => 64001)", "22023", "outside the valid range"},
		{"SELECT create_distributed_table('v', 'id', colocate_with => 'u', shard_count => 4)", "22023", "Cannot use colocate_with with a table and shard_count at the same time"},
		{"SELECT create_distributed_table('v', 'code', colocate_with => 'u')", "22023", "cannot colocate tables u and v"},
		{"SELECT create_distributed_table('v', 'id', colocate_with => 't')", "22023", "cannot colocate tables"},
		{"SELECT create_distributed_table('v', 'id', 'range')", "0A000", `distribution type "range" is not supported`},
		{"SELECT create_distributed_table('v', 'id', 'zigzag')", "22023", `invalid distribution type "zigzag"`},
		{"SELECT create_distributed_table('v')", "42883", "function create_distributed_table with 1 arguments does not exist"},
		{"SELECT create_distributed_table('v', 'id', nonsense => 1)", "42883", "does not exist"},
		{"SELECT citus_remove_node('127.0.0.1', " + portOf(c, c.nodes[0]) + ")", "2BP01", "holds"},
		{"SELECT citus_remove_node('nowhere', 5432)", "42704", "does not exist"},
		{"SELECT get_shard_id_for_distribution_column('v', 1)", "22023", "relation is not distributed"},
		{"SELECT get_shard_id_for_distribution_column('u', 'abc')", "22P02", "invalid input syntax for type integer"},
		{"SELECT undistribute_table('v')", "22023", "not distributed"},
		{"ALTER TABLE u ALTER COLUMN id TYPE bigint", "0A000", "cannot execute ALTER TABLE command involving partition column"},
		{"ALTER TABLE u DROP COLUMN id", "0A000", "involving partition column"},
		{"ALTER TABLE u ADD COLUMN x int UNIQUE", "0A000", `cannot create constraint on "u"`},
		{"CREATE UNIQUE INDEX ON u ((id + 1))", "0A000", "unique indexes on non-partition columns"},
		{"ALTER TABLE u SET SCHEMA public", "0A000", "not supported"},
		{"ALTER TABLE u INHERIT v", "0A000", "alter table command is currently unsupported"},
		{"CLUSTER u", "0A000", "not supported"},
		{"ALTER TABLE u ADD COLUMN s bigserial", "0A000", "cannot add serial column"},
		{"ALTER TABLE u ADD COLUMN s int GENERATED ALWAYS AS IDENTITY", "0A000", "cannot add identity column"},
	} {
		err := c.mustFail(tc.sql, tc.code)
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want a message with %q", tc.sql, err, tc.msg)
		}
	}
	// The client's privileges hold: a role that does not own the tables
	// may neither distribute nor alter them.
	role := "alice_" + c.db
	c.exec(servers[0], "CREATE ROLE "+role+"; GRANT USAGE ON SCHEMA public TO "+role)
	c.must("SET ROLE " + role)
	c.mustFail("SELECT create_distributed_table('v', 'id')", "42501")
	c.mustFail("SELECT undistribute_table('u')", "42501")
	c.mustFail("ALTER TABLE u ADD COLUMN z int", "42501")
	c.mustFail("DROP TABLE u", "42501")
	c.mustFail("SELECT citus_add_node('localhost', 1)", "42501")
	c.mustFail("SELECT * FROM run_command_on_workers('SELECT 1')", "42501")
	c.must("RESET ROLE")

	// Catalog changes refuse to run inside a transaction block.
	c.must("BEGIN")
	c.env.Txn = c.env.Coord.Begin(c.env.Session, dtx.TxnOptions{})
	for _, sql := range []string{"SELECT create_distributed_table('v', 'id')", "SELECT create_reference_table('v')",
		"SELECT undistribute_table('u')", "DROP TABLE u", "ALTER TABLE u RENAME TO u2", "SELECT citus_add_node('localhost', 1)"} {
		err := c.mustFail(sql, "25001")
		if !strings.Contains(err.Error(), "cannot run inside a transaction block") {
			t.Errorf("%s: %v", sql, err)
		}
	}
	c.env.Txn.Rollback(c.ctx)
	c.env.Txn = nil
	c.must("ROLLBACK")

	// Nothing changed: t keeps its row, v and t have no shards anywhere.
	if n := c.one(servers[0], "SELECT count(*) FROM t"); n != "1" {
		t.Errorf("t has %s rows, want 1", n)
	}
	for _, w := range c.workerTables("") {
		for _, name := range w {
			if !strings.HasPrefix(name, "u_") {
				t.Errorf("a failed call left shard table %s", name)
			}
		}
	}
	if n := c.one(servers[0], "SELECT count(*) FROM pgfed.partition"); n != "1" {
		t.Errorf("%s distributed tables, want 1", n)
	}
}

// portOf returns a node's port as text.
func portOf(c *cluster, id int32) string { return strconv.Itoa(c.worker(id).Port) }
