package citus_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/pgfed/pgfed/catalog"
)

// TestDistributeTableWithRows distributes a table that has rows: shards
// named and ranged as Citus's, placed round robin, each row in the shard
// that get_shard_id_for_distribution_column names and the worker's own
// hashint8 confirms, the shell left empty.
func TestDistributeTableWithRows(t *testing.T) {
	c := newCluster(t)
	c.exec(servers[0], `CREATE TABLE orders (id bigint PRIMARY KEY, note text DEFAULT 'none', CHECK (id > 0));
		CREATE INDEX orders_note_idx ON orders (note);
		INSERT INTO orders SELECT i, 'note ' || i || E'\ttab' FROM generate_series(1, 200) i`)
	c.must("SET citus.shard_count = 4")
	res := c.must("SELECT create_distributed_table('orders', 'id')")
	if len(res.columns) != 1 || res.columns[0] != "create_distributed_table" || len(res.rows) != 1 || res.rows[0][0] != "" {
		t.Errorf("result %+v, want one empty void value in column create_distributed_table", res)
	}
	if len(res.notices) == 0 {
		t.Error("no NOTICE about copying the local data")
	}

	shards := c.must("SELECT shardid, shardminvalue, shardmaxvalue FROM pg_dist_shard WHERE logicalrelid = 'orders'::regclass ORDER BY shardid")
	want := [][]string{
		{"102008", "-2147483648", "-1073741825"},
		{"102009", "-1073741824", "-1"},
		{"102010", "0", "1073741823"},
		{"102011", "1073741824", "2147483647"},
	}
	if fmt.Sprint(shards.rows) != fmt.Sprint(want) {
		t.Errorf("pg_dist_shard = %v, want %v", shards.rows, want)
	}
	// Round robin over the workers in (host, port) order.
	first, second := c.nodes[0], c.nodes[1]
	if servers[2].Port < servers[1].Port {
		first, second = second, first
	}
	placements := c.must("SELECT shardid, groupid FROM pg_dist_placement ORDER BY shardid")
	for i, row := range placements.rows {
		wantNode := first
		if i%2 == 1 {
			wantNode = second
		}
		if row[1] != strconv.Itoa(int(wantNode)) {
			t.Errorf("shard %s placed on node %s, want %d", row[0], row[1], wantNode)
		}
	}
	// Shard tables, their index and constraint names.
	for i, row := range placements.rows {
		id, _ := strconv.Atoi(row[1])
		w := c.worker(int32(id))
		name := "orders_" + row[0]
		got := c.one(w, "SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = '"+name+"'::regclass")
		if want := "orders_note_idx_" + row[0] + ",orders_pkey_" + row[0]; got != want {
			t.Errorf("shard %d: indexes %s, want %s", i, got, want)
		}
		if got := c.one(w, "SELECT count(*) FROM pg_constraint WHERE conrelid = '"+name+"'::regclass AND conname = 'orders_id_check_"+row[0]+"'"); got != "1" {
			t.Errorf("shard %s lacks its CHECK constraint", name)
		}
		if got := c.one(w, "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = '"+name+"'::regclass"); got != "'none'::text" {
			t.Errorf("shard %s default = %s", name, got)
		}
	}

	// Every row exactly once, in the right shard.
	total := 0
	for _, row := range placements.rows {
		id, _ := strconv.Atoi(row[1])
		w := c.worker(int32(id))
		min, max := shards.rows[0][1], shards.rows[0][2]
		for _, s := range shards.rows {
			if s[0] == row[0] {
				min, max = s[1], s[2]
			}
		}
		rows, err := c.query(w, "SELECT id, hashint8(id), note FROM orders_"+row[0]+" ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		total += len(rows)
		for _, r := range rows {
			h, _ := strconv.Atoi(r[1])
			lo, _ := strconv.Atoi(min)
			hi, _ := strconv.Atoi(max)
			if h < lo || h > hi {
				t.Errorf("row %s (hash %d) in shard %s [%s, %s]", r[0], h, row[0], min, max)
			}
			if want := "note " + r[0] + "\ttab"; r[2] != want {
				t.Errorf("row %s note %q, want %q", r[0], r[2], want)
			}
		}
		if len(rows) > 0 {
			got := c.must("SELECT get_shard_id_for_distribution_column('orders', " + rows[0][0] + ")")
			if got.rows[0][0] != row[0] {
				t.Errorf("get_shard_id_for_distribution_column(orders, %s) = %s, want %s", rows[0][0], got.rows[0][0], row[0])
			}
		}
	}
	if total != 200 {
		t.Errorf("%d rows in the shards, want 200", total)
	}
	if n := c.one(servers[0], "SELECT count(*) FROM ONLY orders"); n != "0" {
		t.Errorf("the shell keeps %s rows", n)
	}
	if n := c.one(servers[0], "SELECT count(DISTINCT id) FROM ONLY orders"); n != "0" {
		t.Errorf("shell rows: %s", n)
	}

	// Citus's own hash test vectors.
	for sql, want := range map[string]string{
		"SELECT worker_hash(123)":                "-205084363",
		"SELECT worker_hash(3)":                  "-28094569",
		"SELECT worker_hash('1997-08-08'::date)": "-499701663",
	} {
		if got := c.must(sql); got.rows[0][0] != want {
			t.Errorf("%s = %s, want %s", sql, got.rows[0][0], want)
		}
	}
	if h := catalog.HashInt8(123); c.must("SELECT worker_hash(123::bigint)").rows[0][0] != strconv.Itoa(int(h)) {
		t.Error("worker_hash(bigint) differs from catalog.HashInt8")
	}

	// Distributing twice.
	c.mustFail("SELECT create_distributed_table('orders', 'id')", "42710")
}
