package citus_test

import (
	"strconv"
	"testing"
)

// TestAddNodeReplicatesReferenceTables: citus_add_node gives the new
// node a copy of every reference table (rows, indexes, foreign keys
// between reference tables), as Citus does, and new distributed tables
// use it.
func TestAddNodeReplicatesReferenceTables(t *testing.T) {
	c := newClusterWith(t, 1)
	c.exec(servers[0], `CREATE TABLE region (code text PRIMARY KEY);
		CREATE TABLE country (code text PRIMARY KEY, region text REFERENCES region (code), name text);
		CREATE INDEX country_name_idx ON country (name);
		INSERT INTO region VALUES ('eu'), ('am');
		INSERT INTO country VALUES ('fr', 'eu', 'France'), ('us', 'am', 'United States')`)
	c.must("SELECT create_reference_table('region')")
	c.must("SELECT create_reference_table('country')")
	w := servers[2]
	id := c.must("SELECT citus_add_node('127.0.0.1', " + strconv.Itoa(w.Port) + ")").rows[0][0]
	if got := c.one(w, "SELECT string_agg(code || ':' || region, ',' ORDER BY code) FROM country_102009"); got != "fr:eu,us:am" {
		t.Errorf("country on the new node: %s", got)
	}
	if got := c.one(w, "SELECT count(*) FROM region_102008"); got != "2" {
		t.Errorf("region on the new node has %s rows", got)
	}
	if got := c.one(w, "SELECT string_agg(conname || '>' || coalesce(confrelid::regclass::text, '-'), ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'country_102009'::regclass"); got != "country_pkey_102009>-,country_region_fkey_102009>region_102008" {
		t.Errorf("constraints on the new node: %s", got)
	}
	if got := c.one(w, "SELECT count(*) FROM pg_indexes WHERE indexname = 'country_name_idx_102009'"); got != "1" {
		t.Error("index missing on the new node")
	}
	if got := c.must("SELECT count(*) FROM pg_dist_placement WHERE groupid = " + id).rows[0][0]; got != "2" {
		t.Errorf("%s placements on the new node, want 2", got)
	}
	// Idempotent: the same id, no change.
	before, _ := c.store.Version(c.ctx)
	if again := c.must("SELECT citus_add_node('127.0.0.1', " + strconv.Itoa(w.Port) + ")").rows[0][0]; again != id {
		t.Errorf("citus_add_node again returned %s, want %s", again, id)
	}
	if after, _ := c.store.Version(c.ctx); after != before {
		t.Errorf("adding the node again changed the catalog version %d -> %d", before, after)
	}
	// A new distributed table uses both nodes.
	c.exec(servers[0], "CREATE TABLE orders (id int, country text REFERENCES country (code))")
	c.must("SELECT create_distributed_table('orders', 'id', shard_count => 4)")
	if got := c.must("SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = 'orders'::regclass").rows[0][0]; got != "2" {
		t.Errorf("orders placed on %s nodes", got)
	}
	c.noPrepared()
}
