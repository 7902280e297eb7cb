package citus_test

import (
	"strconv"
	"testing"
)

// TestRoutingOfOtherTypes distributes tables on text (with tabs,
// backslashes and newlines in the values), timestamptz and uuid columns,
// and checks with the workers' own hash functions that every row sits in
// its shard's range; then an organization table, whose rows sit on the
// workers of their organization.
func TestRoutingOfOtherTypes(t *testing.T) {
	c := newCluster(t)
	c.exec(servers[0], `CREATE TABLE tx (k text, n int);
		INSERT INTO tx SELECT 'key ' || i || E'\t\\x\n' || repeat('é', i % 3), i FROM generate_series(1, 100) i;
		INSERT INTO tx VALUES ('', 0), (E'\\N', -1);
		CREATE TABLE ts (k timestamptz, n int);
		SET TimeZone = 'America/New_York';
		INSERT INTO ts SELECT '2024-03-10 01:00:00'::timestamptz + i * interval '17 minutes', i FROM generate_series(1, 100) i;
		CREATE TABLE uu (k uuid, n int);
		INSERT INTO uu SELECT md5(i::text)::uuid, i FROM generate_series(1, 100) i`)
	c.must("SET TimeZone = 'Asia/Kolkata'") // the client's zone must not matter
	for table, hash := range map[string]string{"tx": "hashtext(k)", "ts": "timestamp_hash(k::timestamp)", "uu": "uuid_hash(k)"} {
		c.must("SELECT create_distributed_table('" + table + "', 'k', shard_count => 8)")
		shards := c.must("SELECT shardid, shardminvalue, shardmaxvalue, nodeport FROM citus_shards JOIN pg_dist_shard USING (shardid) WHERE table_name = '" + table + "'::regclass ORDER BY shardid")
		total, escaped := 0, 0
		for _, s := range shards.rows {
			w := c.serverAt(s[3])
			bad := c.one(w, "SET TimeZone = 'UTC'; SELECT count(*) FROM "+table+"_"+s[0]+" WHERE "+hash+" NOT BETWEEN "+s[1]+" AND "+s[2])
			if bad != "0" {
				t.Errorf("%s: %s rows of shard %s outside its range", table, bad, s[0])
			}
			n, _ := strconv.Atoi(c.one(w, "SELECT count(*) FROM "+table+"_"+s[0]))
			total += n
			if table == "tx" {
				e, _ := strconv.Atoi(c.one(w, "SELECT count(*) FROM tx_"+s[0]+" WHERE strpos(k, E'\\t\\\\x\\n') > 0"))
				escaped += e
			}
		}
		want := 100
		if table == "tx" {
			want = 102
			if escaped != 100 {
				t.Errorf("%d rows with escaped characters intact, want 100", escaped)
			}
		}
		if total != want {
			t.Errorf("%s: %d rows in the shards, want %d", table, total, want)
		}
	}
	// get_shard_id_for_distribution_column agrees with where rows went.
	s := c.must("SELECT get_shard_id_for_distribution_column('tx', E'\\\\N')").rows[0][0]
	port := c.must("SELECT nodeport FROM citus_shards WHERE shardid = " + s).rows[0][0]
	if got := c.one(c.serverAt(port), "SELECT count(*) FROM tx_"+s+" WHERE k = E'\\\\N'"); got != "1" {
		t.Errorf("the row with key \\N is not in shard %s", s)
	}

	// A zone-less timestamptz literal is read in the client's TimeZone,
	// as an INSERT would read it.
	c.must("SET TimeZone = 'America/New_York'")
	s = c.must("SELECT get_shard_id_for_distribution_column('ts', '2024-03-10 01:17:00')").rows[0][0]
	port = c.must("SELECT nodeport FROM citus_shards WHERE shardid = " + s).rows[0][0]
	if got := c.one(c.serverAt(port), "SELECT count(*) FROM ts_"+s+" WHERE k = '2024-03-10 06:17:00+00'"); got != "1" {
		t.Errorf("the row of 2024-03-10 01:17 New York time is not in shard %s", s)
	}

	// Organization tables: rows live on their organization's workers.
	c.must("SELECT pgfed_add_organization('bank-a')")
	c.must("SELECT pgfed_add_organization('bank-b')")
	c.must("SELECT pgfed_set_node_organization('127.0.0.1', " + portOf(c, c.nodes[0]) + ", 'bank-a')")
	c.must("SELECT pgfed_set_node_organization('127.0.0.1', " + portOf(c, c.nodes[1]) + ", 'bank-b')")
	c.exec(servers[0], `CREATE TABLE accounts (bank text NOT NULL, id bigint, balance numeric, PRIMARY KEY (bank, id));
		INSERT INTO accounts SELECT CASE WHEN i % 3 = 0 THEN 'bank-b' ELSE 'bank-a' END, i, 100 FROM generate_series(1, 60) i`)
	c.must("SELECT create_distributed_table('accounts', 'bank, id', 'org', shard_count => 2)")
	for i, org := range []string{"bank-a", "bank-b"} {
		w := c.worker(c.nodes[i])
		got := c.one(w, "SELECT string_agg(DISTINCT bank, ',') FROM (SELECT bank FROM accounts_"+
			c.must("SELECT min(shardid) FROM pg_dist_shard WHERE logicalrelid = 'accounts'::regclass AND organization = '" + org + "'").rows[0][0]+
			" UNION ALL SELECT bank FROM accounts_"+
			c.must("SELECT max(shardid) FROM pg_dist_shard WHERE logicalrelid = 'accounts'::regclass AND organization = '" + org + "'").rows[0][0]+") s")
		if got != org {
			t.Errorf("the %s worker holds rows of %s", org, got)
		}
	}
	if n := c.one(servers[0], "SELECT count(*) FROM ONLY accounts"); n != "0" {
		t.Errorf("accounts shell keeps %s rows", n)
	}
	c.exec(servers[0], `CREATE TABLE stray (bank text, id bigint); INSERT INTO stray VALUES ('bank-z', 1)`)
	c.mustFail("SELECT create_distributed_table('stray', 'bank, id', 'org', shard_count => 2)", "22023")
}
