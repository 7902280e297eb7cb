package citus_test

import (
	"fmt"
	"strings"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/executor/citus"
)

// TestDescribe prepares the text Describe gives on the metadata database:
// the parameters get their types from the calls and the columns are
// those Run sends.
func TestDescribe(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL servers")
	}
	c := newCluster(t)
	c.must("CREATE TABLE dd (id int PRIMARY KEY, v text)")
	for _, tc := range []struct{ sql, params, columns string }{
		{"SELECT create_distributed_table($1, $2)", "regclass,text", "create_distributed_table:void"},
		{"SELECT create_distributed_table($1, 'id', colocate_with => $2)", "regclass,text", "create_distributed_table:void"},
		{"SELECT create_reference_table($1::regclass) AS r", "regclass", "r:void"},
		{"SELECT get_shard_id_for_distribution_column('dd', $1::int)", "int4", "get_shard_id_for_distribution_column:int8"},
		{"SELECT citus_add_node($1, $2)", "text,int4", "citus_add_node:int4"},
		{"SELECT * FROM run_command_on_workers($1) ORDER BY nodeport", "text", "nodename:text,nodeport:int4,success:bool,result:text"},
		{"SELECT node_name FROM citus_get_active_worker_nodes() WHERE node_port > $1", "int8", "node_name:text"},
		{"SELECT table_name, shard_count FROM citus_tables WHERE table_name = $1::regclass", "regclass", "table_name:regclass,shard_count:int8"},
		{"SELECT recover_prepared_transactions()", "", "recover_prepared_transactions:int4"},
	} {
		tree, err := pg.Parse(tc.sql)
		if err != nil {
			t.Fatal(err)
		}
		text, err := citus.Describe(c.ctx, c.env, tree.Stmts[0])
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		sd, err := c.meta.PgConn().Prepare(c.ctx, "", text, nil)
		if err != nil {
			t.Errorf("%s: prepare %s: %v", tc.sql, text, err)
			continue
		}
		var params, cols []string
		for _, o := range sd.ParamOIDs {
			dt, _ := c.meta.TypeMap().TypeForOID(o)
			name := fmt.Sprint(o)
			if dt != nil {
				name = dt.Name
			}
			params = append(params, name)
		}
		for _, f := range sd.Fields {
			dt, _ := c.meta.TypeMap().TypeForOID(f.DataTypeOID)
			name := fmt.Sprint(f.DataTypeOID)
			if dt != nil {
				name = dt.Name
			}
			cols = append(cols, f.Name+":"+name)
		}
		got := strings.Join(params, ",") + " -> " + strings.Join(cols, ",")
		want := tc.params + " -> " + tc.columns
		// pgx's type map does not know regclass (2205) or void (2278).
		got = strings.NewReplacer("2205", "regclass", "2278", "void").Replace(got)
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s\n(%s)", tc.sql, got, want, text)
		}
	}
}

// TestBindParams checks that parameters become literals of their types.
func TestBindParams(t *testing.T) {
	tree, err := pg.Parse("SELECT create_distributed_table($1, $2, colocate_with => $3)")
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := "dd", "it's"
	out, err := citus.BindParams(tree.Stmts[0], []*string{&v1, &v2, nil}, []string{"regclass", "", "character varying"})
	if err != nil {
		t.Fatal(err)
	}
	sql, err := pg.Deparse(&pg.ParseResult{Stmts: []*pg.RawStmt{out}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "SELECT create_distributed_table('dd'::regclass, 'it''s', colocate_with := NULL::varchar)"; sql != want {
		t.Errorf("got  %s\nwant %s", sql, want)
	}
	if _, err := citus.BindParams(tree.Stmts[0], []*string{&v1}, nil); err == nil || !strings.Contains(err.Error(), "$2") {
		t.Errorf("missing parameter: %v", err)
	}
}
