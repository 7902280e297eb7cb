package citus_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/pgfed/pgfed/executor/dtx"
	"github.com/pgfed/pgfed/executor/pgcluster"
)

// TestDDLReachesEveryShard runs DDL on a distributed and a reference
// table and checks the shell and every shard placement.
func TestDDLReachesEveryShard(t *testing.T) {
	c := newCluster(t)
	c.exec(servers[0], `CREATE TABLE orders (id bigint PRIMARY KEY, note text);
		CREATE TABLE country (code text PRIMARY KEY);
		INSERT INTO orders SELECT i, 'n' FROM generate_series(1, 20) i;
		INSERT INTO country VALUES ('fr')`)
	c.must("SELECT create_distributed_table('orders', 'id', shard_count => 4)")
	c.must("SELECT create_reference_table('country')")

	for _, sql := range []string{
		"CREATE INDEX orders_note_idx ON orders (note)",
		"CREATE INDEX CONCURRENTLY ON orders (id, note)",
		"ALTER TABLE orders ADD COLUMN amount numeric DEFAULT 0 NOT NULL",
		"ALTER TABLE orders ADD COLUMN code text",
		"ALTER TABLE orders ADD CONSTRAINT orders_code_fkey FOREIGN KEY (code) REFERENCES country (code)",
		"ALTER TABLE orders ADD CONSTRAINT amount_positive CHECK (amount >= 0)",
		"ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'x'",
		"ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2)",
		"ALTER TABLE orders RENAME COLUMN note TO remark",
		"ALTER TABLE orders RENAME CONSTRAINT amount_positive TO amount_nonneg",
		"ALTER TABLE country ADD COLUMN name text",
		"CREATE UNIQUE INDEX orders_id_code ON orders (id, code)",
		"ALTER TABLE orders OWNER TO pg_database_owner",
		"ALTER TABLE orders OWNER TO postgres",
	} {
		c.must(sql)
	}
	// Every shard has what the shell has.
	placements := c.must("SELECT shardid, nodename, nodeport FROM citus_shards WHERE table_name = 'orders'::regclass ORDER BY shardid")
	if len(placements.rows) != 4 {
		t.Fatalf("citus_shards for orders: %v", placements.rows)
	}
	for _, p := range placements.rows {
		w := c.serverAt(p[2])
		shard := "orders_" + p[0]
		cols := c.one(w, "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '"+shard+"'::regclass AND attnum > 0 AND NOT attisdropped")
		if cols != "id:bigint,remark:text,amount:numeric(12,2),code:text" {
			t.Errorf("%s columns %s", shard, cols)
		}
		idx := c.one(w, "SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = '"+shard+"'::regclass")
		if want := "orders_id_code_" + p[0] + ",orders_id_note_idx_" + p[0] + ",orders_note_idx_" + p[0] + ",orders_pkey_" + p[0]; idx != want {
			t.Errorf("%s indexes %s, want %s", shard, idx, want)
		}
		cons := c.one(w, "SELECT string_agg(conname || '>' || coalesce(confrelid::regclass::text, '-'), ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = '"+shard+"'::regclass")
		if want := "amount_nonneg_" + p[0] + ">-,orders_code_fkey_" + p[0] + ">country_102012,orders_pkey_" + p[0] + ">-"; cons != want {
			t.Errorf("%s constraints %s, want %s", shard, cons, want)
		}
		if def := c.one(w, "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = '"+shard+"'::regclass AND adnum = 2"); def != "'x'::text" {
			t.Errorf("%s default of remark %s", shard, def)
		}
	}
	for _, w := range servers[1:] {
		if got := c.one(w, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'country_102012'::regclass AND attname = 'name'"); got != "1" {
			t.Errorf("reference shard on %s lacks the new column", w.Name)
		}
	}
	// The constraint holds on the shards: a bad row is refused there.
	if _, err := c.query(c.serverAt(placements.rows[0][2]), "INSERT INTO orders_"+placements.rows[0][0]+" (id, amount) VALUES (-5, -1)"); err == nil || !strings.Contains(err.Error(), "amount_nonneg") {
		t.Errorf("a row breaking the CHECK reached a shard: %v", err)
	}

	// DDL inside a transaction block goes through the session's
	// transaction: nothing until it commits, nothing after a rollback.
	c.must("BEGIN")
	c.env.Txn = c.env.Coord.Begin(c.env.Session, dtx.TxnOptions{})
	c.must("ALTER TABLE orders ADD COLUMN in_block int")
	if err := c.env.Txn.Rollback(c.ctx); err != nil {
		t.Fatal(err)
	}
	c.must("ROLLBACK")
	c.env.Txn = nil
	c.checkColumn("orders", "in_block", "")
	c.must("BEGIN")
	c.env.Txn = c.env.Coord.Begin(c.env.Session, dtx.TxnOptions{})
	c.must("ALTER TABLE orders ADD COLUMN in_block int")
	c.mustFail("DROP TABLE orders", "25001")
	c.must("ROLLBACK")
	c.env.Txn.Rollback(c.ctx)
	c.env.Txn = nil

	// ANALYZE reaches the shards (VACUUM too, outside a block).
	c.must("ANALYZE orders (id)")
	c.must("VACUUM (ANALYZE) orders")
	for _, p := range placements.rows {
		if n := c.one(c.serverAt(p[2]), "SELECT count(*) FROM pg_stats WHERE tablename = 'orders_"+p[0]+"' AND attname = 'id'"); n != "1" {
			t.Errorf("orders_%s has no statistics after ANALYZE", p[0])
		}
	}

	// TRUNCATE, DROP INDEX, RENAME, DROP TABLE.
	c.must("TRUNCATE orders")
	for _, p := range placements.rows {
		if n := c.one(c.serverAt(p[2]), "SELECT count(*) FROM orders_"+p[0]); n != "0" {
			t.Errorf("orders_%s has %s rows after TRUNCATE", p[0], n)
		}
	}
	c.must("DROP INDEX orders_note_idx")
	for _, w := range servers[1:] {
		if n := c.one(w, "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'orders_note_idx%'"); n != "0" {
			t.Errorf("%s shard indexes left after DROP INDEX on %s", n, w.Name)
		}
	}
	c.mustFail("DROP TABLE country", "2BP01") // orders' shards reference it
	c.must("ALTER TABLE orders RENAME TO purchases")
	if got := c.must("SELECT table_name FROM citus_tables ORDER BY table_name::text").rows; fmt.Sprint(got) != "[[country] [purchases]]" {
		t.Errorf("citus_tables after the rename: %v", got)
	}
	if got := c.workerTables("purchases_"); len(got[0])+len(got[1]) != 4 {
		t.Errorf("shards after the rename: %v", got)
	}
	res := c.must("DROP TABLE purchases, country")
	if res.tag != "DROP TABLE" {
		t.Errorf("tag %q", res.tag)
	}
	if got := c.workerTables(""); len(got[0])+len(got[1]) != 0 {
		t.Errorf("tables left on the workers: %v", got)
	}
	if n := c.one(servers[0], "SELECT count(*) FROM pgfed.partition"); n != "0" {
		t.Errorf("%s tables left in the catalog", n)
	}
	c.noPrepared()
}

// serverAt returns the server listening on a port (as text).
func (c *cluster) serverAt(port string) *pgcluster.Server {
	for _, s := range servers {
		if strconv.Itoa(s.Port) == port {
			return s
		}
	}
	c.t.Fatalf("no server on port %s", port)
	return nil
}
