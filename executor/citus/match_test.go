package citus_test

import (
	"testing"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/executor/citus"
)

// TestMatch checks which statements are for the Citus API (pure: a
// snapshot built in memory).
func TestMatch(t *testing.T) {
	rel := catalog.RelationName{Schema: "public", Name: "orders"}
	b := catalog.NewBuilder(1).
		AddNode(catalog.Node{ID: 1, Host: "w1", Port: 5432, Active: true}).
		AddColocationGroup(catalog.ColocationGroup{ID: 1, Method: catalog.MethodHash, ShardCount: 1, ColumnType: catalog.TypeInt8}).
		AddTable(catalog.Table{Relation: rel, Method: catalog.MethodHash, Column: "id", ColumnType: catalog.TypeInt8, ColocationID: 1, ShardCount: 1}).
		AddShard(catalog.Shard{ID: catalog.FirstShardID, Table: rel, Range: catalog.FullRange}).
		AddPlacement(catalog.Placement{ShardID: catalog.FirstShardID, NodeID: 1})
	snap, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	empty, err := catalog.NewBuilder(1).Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sql  string
		want bool
	}{
		{"SELECT create_distributed_table('t', 'id')", true},
		{"SELECT pg_catalog.create_reference_table('t')", true},
		{"SELECT * FROM citus_get_active_worker_nodes()", true},
		{"SELECT x FROM (SELECT worker_hash(1) AS x) s", true},
		{"SELECT myschema.create_distributed_table('t', 'id')", false},
		{"SELECT * FROM citus_shards WHERE nodeport = 1", true},
		{"SELECT count(*) FROM pg_catalog.pg_dist_node", true},
		{"WITH s AS (SELECT * FROM pg_dist_shard) SELECT * FROM s", true},
		{"SELECT * FROM other.citus_shards", false},
		{"SELECT * FROM orders", false},
		{"INSERT INTO orders VALUES (1)", false},
		{"CREATE INDEX ON orders (id)", true},
		{"CREATE INDEX ON public.orders (id)", true},
		{"CREATE INDEX ON other.orders (id)", false},
		{"CREATE INDEX ON t (id)", false},
		{"ALTER TABLE orders ADD COLUMN x int", true},
		{"ALTER TABLE orders RENAME TO orders2", true},
		{"DROP TABLE t, orders", true},
		{"DROP TABLE t", false},
		{"TRUNCATE orders", true},
		{"DROP INDEX some_index", true},
		{"CREATE TABLE t (id bigint REFERENCES orders (id))", false},
		{"COPY orders FROM STDIN", false},
		{"SET citus.shard_count = 4", false},
		{"CREATE VIEW v AS SELECT * FROM orders", false},
	} {
		tree, err := pg.Parse(tc.sql)
		if err != nil {
			t.Fatal(err)
		}
		if got := citus.Match(snap, tree.Stmts[0]); got != tc.want {
			t.Errorf("Match(%s) = %v, want %v", tc.sql, got, tc.want)
		}
	}
	// Without distributed tables no DDL is ours.
	tree, _ := pg.Parse("DROP INDEX some_index")
	if citus.Match(empty, tree.Stmts[0]) {
		t.Error("DROP INDEX matched with no distributed table")
	}
}

// FuzzMatch: Match never panics on parseable SQL.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{
		"SELECT create_distributed_table('t', 'id')", "SELECT * FROM citus_shards", "DROP TABLE orders",
		"ALTER TABLE orders ADD COLUMN x int", "SELECT * FROM ROWS FROM (generate_series(1, 2))",
		"SELECT * FROM CURRENT_DATE", "DROP INDEX a.b.c", "TRUNCATE ONLY orders, t CASCADE",
		"GRANT SELECT ON orders TO public", "VACUUM (ANALYZE) orders (id)",
	} {
		f.Add(s)
	}
	rel := catalog.RelationName{Schema: "public", Name: "orders"}
	snap, err := catalog.NewBuilder(1).
		AddNode(catalog.Node{ID: 1, Host: "w1", Port: 5432, Active: true}).
		AddColocationGroup(catalog.ColocationGroup{ID: 1, Method: catalog.MethodReference, ShardCount: 1}).
		AddTable(catalog.Table{Relation: rel, Method: catalog.MethodReference, ColocationID: 1, ShardCount: 1}).
		AddShard(catalog.Shard{ID: catalog.FirstShardID, Table: rel, Range: catalog.FullRange}).
		AddPlacement(catalog.Placement{ShardID: catalog.FirstShardID, NodeID: 1}).Build()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		tree, err := pg.Parse(sql)
		if err != nil {
			return
		}
		for _, st := range tree.Stmts {
			citus.Match(snap, st)
		}
	})
}
