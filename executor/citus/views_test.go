package citus_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestViewsAndNodeFunctions reads the views as a Citus user does and
// runs the node functions.
func TestViewsAndNodeFunctions(t *testing.T) {
	c := newCluster(t)
	c.exec(servers[0], `CREATE TABLE events (tenant int, payload text);
		CREATE TABLE country (code text);
		INSERT INTO events SELECT i % 7, repeat('x', 500) FROM generate_series(1, 1000) i;
		INSERT INTO country VALUES ('fr')`)
	c.must("SELECT create_distributed_table('events', 'tenant', shard_count => 4)")
	c.must("SELECT create_reference_table('country')")

	tables := c.must("SELECT table_name, citus_table_type, distribution_column, colocation_id, shard_count, table_owner, access_method FROM citus_tables ORDER BY table_name::text")
	want := [][]string{{"country", "reference", "<none>", "2", "1", "postgres", "heap"}, {"events", "distributed", "tenant", "1", "4", "postgres", "heap"}}
	if fmt.Sprint(tables.rows) != fmt.Sprint(want) {
		t.Errorf("citus_tables:\n%v\nwant\n%v", tables.rows, want)
	}
	wantCols := "[table_name citus_table_type distribution_column colocation_id shard_count table_owner access_method]"
	if fmt.Sprint(tables.columns) != wantCols {
		t.Errorf("columns %v", tables.columns)
	}
	all := c.must("SELECT * FROM citus_tables WHERE table_name = 'events'::regclass")
	if fmt.Sprint(all.columns) != "[table_name citus_table_type distribution_column colocation_id table_size shard_count table_owner access_method]" {
		t.Errorf("citus_tables columns %v", all.columns)
	}
	if size := all.rows[0][4]; size == "0 bytes" || !strings.HasSuffix(size, "kB") {
		t.Errorf("events table_size %q, want kilobytes", size)
	}

	sizes := c.must("SELECT citus_table_size('events'), citus_total_relation_size('events') >= citus_table_size('events'), citus_relation_size('country') > 0, recover_prepared_transactions()")
	if n, _ := strconv.Atoi(sizes.rows[0][0]); n < 500*1000 || sizes.rows[0][1] != "t" || sizes.rows[0][2] != "t" || sizes.rows[0][3] != "0" {
		t.Errorf("sizes and recovery: %v", sizes.rows)
	}
	c.mustFail("SELECT citus_table_size('pg_class')", "22023")

	shards := c.must("SELECT table_name, shardid, shard_name, citus_table_type, colocation_id, nodename, nodeport, shard_size FROM citus_shards ORDER BY shardid, nodeport")
	if len(shards.rows) != 6 {
		t.Fatalf("citus_shards has %d rows, want 4 + 2: %v", len(shards.rows), shards.rows)
	}
	for _, r := range shards.rows[:4] {
		if r[0] != "events" || r[2] != "events_"+r[1] || r[3] != "distributed" || r[5] != "127.0.0.1" {
			t.Errorf("citus_shards row %v", r)
		}
		rows := c.one(c.serverAt(r[6]), "SELECT count(*) FROM events_"+r[1])
		size, _ := strconv.Atoi(r[7])
		if rows != "0" && size < 8192 {
			t.Errorf("shard %s holds %s rows but shard_size is %d", r[1], rows, size)
		}
	}
	for _, r := range shards.rows[4:] {
		if r[0] != "country" || r[3] != "reference" || r[2] != "country_"+r[1] {
			t.Errorf("citus_shards row %v", r)
		}
	}
	// Filters, aggregates and joins over the views work as over tables.
	per := c.must(`SELECT s.nodeport, count(*) FROM citus_shards s JOIN pg_dist_node n ON n.nodeport = s.nodeport
		WHERE s.citus_table_type = 'distributed' GROUP BY 1 ORDER BY 1`)
	if len(per.rows) != 2 || per.rows[0][1] != "2" || per.rows[1][1] != "2" {
		t.Errorf("shards per node: %v", per.rows)
	}
	if got := c.must("SELECT count(*) FROM pg_catalog.pg_dist_shard s, pg_dist_placement p WHERE p.shardid = s.shardid").rows[0][0]; got != "6" {
		t.Errorf("%s placements joined", got)
	}

	// Node functions.
	port := portOf(c, c.nodes[0])
	if id := c.must("SELECT citus_add_node('127.0.0.1', " + port + ")").rows[0][0]; id != strconv.Itoa(int(c.nodes[0])) {
		t.Errorf("citus_add_node of a known node returned %s, want %d", id, c.nodes[0])
	}
	active := c.must("SELECT * FROM citus_get_active_worker_nodes() ORDER BY node_port")
	if fmt.Sprint(active.columns) != "[node_name node_port]" || len(active.rows) != 2 {
		t.Errorf("citus_get_active_worker_nodes: %v %v", active.columns, active.rows)
	}
	if got := c.must("SELECT count(*) FROM citus_get_active_worker_nodes() w WHERE w.node_port = " + port).rows[0][0]; got != "1" {
		t.Errorf("filtering citus_get_active_worker_nodes(): %s", got)
	}
	results := c.must("SELECT nodeport, success, result FROM run_command_on_workers($$SELECT count(*) FROM pg_class WHERE relname LIKE 'events%'$$) ORDER BY nodeport")
	if len(results.rows) != 2 || results.rows[0][1] != "t" || results.rows[0][2] == "0" {
		t.Errorf("run_command_on_workers: %v", results.rows)
	}
	bad := c.must("SELECT success, result FROM run_command_on_workers('SELECT * FROM nope')")
	if len(bad.rows) != 2 || bad.rows[0][0] != "f" || !strings.Contains(bad.rows[0][1], `relation "nope" does not exist`) {
		t.Errorf("run_command_on_workers of a failing command: %v", bad.rows)
	}
	srf := c.must("SELECT run_command_on_workers('SELECT 1')")
	if len(srf.rows) != 2 || !strings.HasSuffix(srf.rows[0][0], ",t,1)") {
		t.Errorf("run_command_on_workers in the select list: %v", srf.rows)
	}

	// Organizations.
	c.must("SELECT pgfed_add_organization('bank-a')")
	c.must("SELECT pgfed_set_node_organization('127.0.0.1', " + port + ", 'bank-a')")
	orgs := c.must("SELECT name, node_count FROM pgfed_organizations")
	if fmt.Sprint(orgs.rows) != "[[bank-a 1]]" {
		t.Errorf("pgfed_organizations: %v", orgs.rows)
	}
	if got := c.must("SELECT organization FROM pg_dist_node WHERE nodeport = " + port).rows[0][0]; got != "bank-a" {
		t.Errorf("pg_dist_node organization %s", got)
	}

	// undistribute_table brings the rows back and drops the shards.
	c.must("SELECT undistribute_table('events')")
	if n := c.one(servers[0], "SELECT count(*) FROM events"); n != "1000" {
		t.Errorf("the shell has %s rows after undistribute_table, want 1000", n)
	}
	if got := c.workerTables("events"); len(got[0])+len(got[1]) != 0 {
		t.Errorf("shards left: %v", got)
	}
	if got := c.must("SELECT count(*) FROM citus_tables").rows[0][0]; got != "1" {
		t.Errorf("%s tables after undistribute", got)
	}
	// Removing a node: refused while it holds shards of a distributed
	// table; a node with only reference table placements loses them.
	c.exec(servers[0], "CREATE TABLE again (id int)")
	c.must("SELECT create_distributed_table('again', 'id', shard_count => 2)")
	c.mustFail("SELECT citus_remove_node('127.0.0.1', "+port+")", "2BP01")
	c.must("DROP TABLE again")
	c.must("SELECT citus_remove_node('127.0.0.1', " + port + ")")
	if got := c.must("SELECT count(*) FROM citus_shards WHERE table_name = 'country'::regclass").rows[0][0]; got != "1" {
		t.Errorf("country has %s placements after removing a node, want 1", got)
	}
	if got := c.one(c.serverAt(port), "SELECT count(*) FROM pg_class WHERE relname LIKE 'country_%'"); got != "0" {
		t.Errorf("the removed node keeps %s country shard tables", got)
	}
	if got := c.must("SELECT count(*) FROM pg_dist_node").rows[0][0]; got != "1" {
		t.Errorf("%s nodes after citus_remove_node", got)
	}
	c.noPrepared()
}
