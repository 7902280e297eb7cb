package citus_test

import (
	"fmt"
	"testing"
)

// TestColocationGroups forms groups as Citus does: 'default' joins the
// group with the same shard count and column type, 'none' makes a new
// one, a table name joins that table's; co-located tables share
// placements; reference tables share one group on every worker.
func TestColocationGroups(t *testing.T) {
	c := newCluster(t)
	c.exec(servers[0], `CREATE TABLE a (id bigint PRIMARY KEY);
		CREATE TABLE b (a_id bigint REFERENCES a (id), x int);
		CREATE TABLE c (id int);
		CREATE TABLE d (id bigint);
		CREATE TABLE e (id bigint);
		CREATE TABLE f (id bigint);
		CREATE TABLE g (id bigint);
		CREATE TABLE country (code text PRIMARY KEY, name text);
		CREATE TABLE region (code text PRIMARY KEY);
		INSERT INTO country VALUES ('fr', 'France'), ('de', 'Germany')`)
	c.must("SELECT create_distributed_table('a', 'id', shard_count => 4)")
	c.must("SELECT create_distributed_table('b', 'a_id', shard_count => 4)")                        // default: a's group
	c.must("SELECT create_distributed_table('c', 'id', shard_count := 4)")                          // int: new group
	c.must("SELECT create_distributed_table('d', 'id', colocate_with => 'none', shard_count => 4)") // new group
	c.must("SELECT create_distributed_table('e', 'id', colocate_with => 'd')")                      // d's group, 4 shards
	c.must("SELECT create_distributed_table('f', 'id', 'hash', 'default', 8)")                      // 8 shards: new group
	c.must("SET citus.shard_count TO 8")
	// SET and SHOW of citus.shard_count pass through to the metadata
	// database, where it is a custom (placeholder) setting.
	if rows, err := (pgxMeta{c.meta}).Query(c.ctx, "SHOW citus.shard_count"); err != nil || string(rows.Values[0][0]) != "8" {
		t.Errorf("SHOW citus.shard_count: %v %v", rows, err)
	}
	c.must("SELECT create_distributed_table('g', 'id')") // default, 8 from the setting: f's group
	c.must("SELECT create_reference_table('country')")
	c.must("SELECT create_reference_table('region')")

	got := c.must(`SELECT logicalrelid::text, colocationid, partmethod FROM pg_dist_partition ORDER BY logicalrelid::text`)
	want := [][]string{{"a", "1", "h"}, {"b", "1", "h"}, {"c", "2", "h"}, {"country", "5", "n"}, {"d", "3", "h"},
		{"e", "3", "h"}, {"f", "4", "h"}, {"g", "4", "h"}, {"region", "5", "n"}}
	if fmt.Sprint(got.rows) != fmt.Sprint(want) {
		t.Errorf("pg_dist_partition:\n%v\nwant\n%v", got.rows, want)
	}
	groups := c.must("SELECT colocationid, shardcount, distributioncolumntype::regtype::text FROM pg_dist_colocation ORDER BY 1")
	wantGroups := [][]string{{"1", "4", "bigint"}, {"2", "4", "integer"}, {"3", "4", "bigint"}, {"4", "8", "bigint"}, {"5", "1", "-"}}
	if fmt.Sprint(groups.rows) != fmt.Sprint(wantGroups) {
		t.Errorf("pg_dist_colocation:\n%v\nwant\n%v", groups.rows, wantGroups)
	}
	// Co-located shards of the same index sit on the same node.
	same := c.must(`SELECT count(*) FROM pg_dist_shard sa JOIN pg_dist_shard sb ON sb.logicalrelid = 'b'::regclass
		AND sb.shardminvalue = sa.shardminvalue JOIN pg_dist_placement pa ON pa.shardid = sa.shardid
		JOIN pg_dist_placement pb ON pb.shardid = sb.shardid WHERE sa.logicalrelid = 'a'::regclass AND pa.groupid = pb.groupid`)
	if same.rows[0][0] != "4" {
		t.Errorf("%s of 4 shards of b are placed with a's", same.rows[0][0])
	}
	// b's foreign key to a points at the co-located shard on each worker.
	fk := c.one(c.worker(c.nodes[0]), `SELECT string_agg(conrelid::regclass || '->' || confrelid::regclass, ',' ORDER BY conrelid::regclass::text)
		FROM pg_constraint WHERE contype = 'f'`)
	if fk != "b_102012->a_102008,b_102014->a_102010" && fk != "b_102013->a_102009,b_102015->a_102011" {
		t.Errorf("foreign keys on a worker: %s", fk)
	}
	// A reference table: one shard, a placement and the rows on every worker.
	for _, w := range servers[1:] {
		if got := c.one(w, "SELECT string_agg(code, ',' ORDER BY code) FROM country_102044"); got != "de,fr" {
			t.Errorf("country's shard on %s holds %s", w.Name, got)
		}
	}
	ref := c.must("SELECT shardminvalue IS NULL, count(*) FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) WHERE logicalrelid = 'country'::regclass GROUP BY 1")
	if fmt.Sprint(ref.rows) != "[[t 2]]" {
		t.Errorf("country's shard and placements: %v", ref.rows)
	}
	// Another schema: shards in the same schema on the workers.
	c.exec(servers[0], "CREATE SCHEMA sales; CREATE TABLE sales.\"Invoices\" (id bigint)")
	c.must(`SELECT create_distributed_table('sales."Invoices"', 'id', shard_count => 2)`)
	names := c.must(`SELECT shard_name FROM citus_shards WHERE table_name = 'sales."Invoices"'::regclass ORDER BY shardid`)
	if fmt.Sprint(names.rows) != "[[sales.Invoices_102046] [sales.Invoices_102047]]" {
		t.Errorf("shard names %v", names.rows)
	}
	for _, w := range servers[1:] {
		if got := c.one(w, `SELECT count(*) FROM pg_class WHERE relnamespace = 'sales'::regnamespace AND relname LIKE 'Invoices_%'`); got != "1" {
			t.Errorf("%s holds %s Invoices shards, want 1", w.Name, got)
		}
	}

	c.mustFail("DROP SCHEMA sales", "2BP01")
	c.must("DROP SCHEMA sales CASCADE")
	for _, w := range servers[1:] {
		if got := c.one(w, `SELECT count(*) FROM pg_class WHERE relname LIKE 'Invoices_%'`); got != "0" {
			t.Errorf("%s keeps %s Invoices shards after DROP SCHEMA", w.Name, got)
		}
	}
	if got := c.must("SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE '%Invoices%'").rows[0][0]; got != "0" {
		t.Errorf("DROP SCHEMA left %s catalog rows", got)
	}

	// Foreign keys: to a reference table, fine; to a table of another
	// group, or not on the distribution column, refused.
	c.must("ALTER TABLE d ADD PRIMARY KEY (id)")
	c.exec(servers[0], `CREATE TABLE h (id bigint, code text REFERENCES country (code));
		CREATE TABLE i (id bigint, d_id bigint REFERENCES d (id));
		CREATE TABLE j (id bigint, a_id bigint REFERENCES a (id));
		CREATE TABLE k (id bigint, code text REFERENCES region (code))`)
	c.must("SELECT create_distributed_table('h', 'id', shard_count => 4)")
	c.mustFail("SELECT create_distributed_table('i', 'id', colocate_with => 'a')", "0A000")
	c.mustFail("SELECT create_distributed_table('j', 'id', colocate_with => 'a')", "0A000")
	c.must("SELECT create_distributed_table('j', 'a_id', colocate_with => 'a')")
	c.mustFail("SELECT create_reference_table('i')", "0A000")
	c.must("SELECT create_reference_table('k')")
	if n := len(c.workerTables("i_")[0]) + len(c.workerTables("i_")[1]); n != 0 {
		t.Errorf("refused distribution of i left %d shard tables", n)
	}
}
