package gateway

import (
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgerrcode"
	pg "github.com/pganalyze/pg_query_go/v5"
)

func TestClassify(t *testing.T) {
	open := NewPolicy(nil)
	bank := NewPolicy([]string{"accounts", "Transfers"})
	gid := "pgfedx_c1_42_1"
	cases := []struct {
		name   string
		policy Policy
		sql    string
		refuse string // substring of the reason; "" = allowed
		code   string
		gids   []string
	}{
		{"select", open, "SELECT 1", "", "", nil},
		{"empty", open, "", "", "", nil},
		{"dml", open, "UPDATE accounts SET balance = balance + 1 WHERE id = 1", "", "", nil},
		{"begin commit", open, "BEGIN; SELECT 1; COMMIT", "", "", nil},
		{"prepare federated", open, "PREPARE TRANSACTION '" + gid + "'", "", "", []string{gid}},
		{"two prepares listed", open, "PREPARE TRANSACTION 'pgfedx_a_1_x'; PREPARE TRANSACTION 'pgfedx_a_1_y'", "", "", []string{"pgfedx_a_1_x", "pgfedx_a_1_y"}},
		{"prepare other gid", open, "PREPARE TRANSACTION 'mine'", "only federated transactions", pgerrcode.InsufficientPrivilege, nil},
		{"prepare dtx gid", open, "PREPARE TRANSACTION 'pgfed_c1_42_1'", "", "", nil},
		{"commit prepared dtx gid", open, "COMMIT PREPARED 'pgfed_c1_42_1'", "", "", nil},
		{"rollback prepared dtx gid", open, "ROLLBACK PREPARED 'pgfed_c1_42_1'", "", "", nil},
		{"commit prepared federated after dtx", open, "COMMIT PREPARED 'pgfed_c1_42_1'; COMMIT PREPARED 'pgfedx_c1_42_1'", "COMMIT PREPARED is refused", pgerrcode.InsufficientPrivilege, nil},
		{"prepare no suffix", open, "PREPARE TRANSACTION 'pgfedx_'", "not a part gid", pgerrcode.InsufficientPrivilege, nil},
		{"commit prepared", open, "COMMIT PREPARED '" + gid + "'", "COMMIT PREPARED is refused", pgerrcode.InsufficientPrivilege, nil},
		{"rollback prepared", open, "rollback prepared 'anything'", "ROLLBACK PREPARED is refused", pgerrcode.InsufficientPrivilege, nil},
		{"hidden in multi", open, "SELECT 1; COMMIT PREPARED 'x'; SELECT 2", "COMMIT PREPARED is refused", pgerrcode.InsufficientPrivilege, nil},
		{"do", open, "DO $$BEGIN PERFORM 1; END$$", "DO is refused", pgerrcode.InsufficientPrivilege, nil},
		{"call", open, "CALL p()", "CALL is refused", pgerrcode.InsufficientPrivilege, nil},
		{"create function", open, "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", "CREATE FUNCTION", pgerrcode.InsufficientPrivilege, nil},
		{"extension", open, "CREATE EXTENSION dblink", "EXTENSION", pgerrcode.InsufficientPrivilege, nil},
		{"server", open, "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw", "foreign-data", pgerrcode.InsufficientPrivilege, nil},
		{"alter system", open, "ALTER SYSTEM SET max_prepared_transactions = 0", "ALTER SYSTEM", pgerrcode.InsufficientPrivilege, nil},
		{"alter role set", open, "ALTER ROLE postgres SET search_path = evil, pg_catalog", "ALTER DATABASE/ROLE", pgerrcode.InsufficientPrivilege, nil},
		{"alter database set", open, "ALTER DATABASE postgres SET search_path = evil", "ALTER DATABASE/ROLE", pgerrcode.InsufficientPrivilege, nil},
		{"terminate", open, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity", "pg_terminate_backend", pgerrcode.InsufficientPrivilege, nil},
		{"qualified denied", open, "SELECT pg_catalog.pg_cancel_backend(1)", "pg_cancel_backend", pgerrcode.InsufficientPrivilege, nil},
		{"dblink nested", open, "SELECT * FROM t WHERE x IN (SELECT public.dblink_exec('x', 'COMMIT PREPARED ''g'''))", "dblink_exec", pgerrcode.InsufficientPrivilege, nil},
		{"query_to_xml", open, "SELECT query_to_xml('select 1', true, true, '')", "query_to_xml", pgerrcode.InsufficientPrivilege, nil},
		{"copy stdin", open, "COPY accounts FROM STDIN", "", "", nil},
		{"copy program", open, "COPY accounts TO PROGRAM 'cat'", "COPY to or from a server file", pgerrcode.InsufficientPrivilege, nil},
		{"copy file", open, "COPY accounts FROM '/etc/passwd'", "COPY to or from a server file", pgerrcode.InsufficientPrivilege, nil},
		{"load", open, "LOAD 'x'", "LOAD", pgerrcode.InsufficientPrivilege, nil},
		{"operator", open, "CREATE OPERATOR ### (LEFTARG = int, RIGHTARG = bigint, FUNCTION = pg_terminate_backend)", "CREATE OPERATOR", pgerrcode.InsufficientPrivilege, nil},
		{"aggregate", open, "CREATE AGGREGATE a(int) (SFUNC = f, STYPE = int)", "CREATE AGGREGATE", pgerrcode.InsufficientPrivilege, nil},
		{"cast", open, "CREATE CAST (int AS bigint) WITH FUNCTION f(int)", "would call functions", pgerrcode.InsufficientPrivilege, nil},
		{"subscription", open, "CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p", "subscriptions", pgerrcode.InsufficientPrivilege, nil},
		{"type is fine", open, "CREATE TYPE mood AS ENUM ('a', 'b')", "", "", nil},
		{"check constraint call", open, "CREATE TABLE t (x int CHECK (pg_cancel_backend(x)))", "pg_cancel_backend", pgerrcode.InsufficientPrivilege, nil},
		{"syntax", open, "SELEC 1", "cannot parse", pgerrcode.SyntaxError, nil},

		{"allowed table", bank, "SELECT * FROM accounts JOIN transfers USING (id)", "", "", nil},
		{"shard", bank, "UPDATE accounts_102008 SET balance = 0", "", "", nil},
		{"shard schema", bank, "INSERT INTO public.transfers_7 VALUES (1)", "", "", nil},
		{"not allowed", bank, "SELECT * FROM secrets", "table secrets is not among", pgerrcode.InsufficientPrivilege, nil},
		{"not allowed shard", bank, "SELECT * FROM secrets_102008", "secrets_102008", pgerrcode.InsufficientPrivilege, nil},
		{"suffix not digits", bank, "SELECT * FROM accounts_x", "accounts_x", pgerrcode.InsufficientPrivilege, nil},
		{"subquery", bank, "SELECT * FROM accounts WHERE id IN (SELECT id FROM secrets)", "secrets", pgerrcode.InsufficientPrivilege, nil},
		{"catalog read", bank, "SELECT relname FROM pg_catalog.pg_class JOIN pg_namespace n ON true", "", "", nil},
		{"information_schema", bank, "SELECT * FROM information_schema.tables", "", "", nil},
		{"catalog write", bank, "DELETE FROM pg_foo", "pg_foo", pgerrcode.InsufficientPrivilege, nil},
		{"catalog into", bank, "SELECT * INTO pg_copy FROM pg_class", "pg_copy", pgerrcode.InsufficientPrivilege, nil},
		{"cte", bank, "WITH x AS (SELECT * FROM accounts) SELECT * FROM x", "", "", nil},
		{"cte shadows nothing outside", bank, "SELECT * FROM (WITH secrets AS (SELECT 1) SELECT * FROM secrets) a, secrets", "secrets", pgerrcode.InsufficientPrivilege, nil},
		{"cte self reference", bank, "WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets", "secrets", pgerrcode.InsufficientPrivilege, nil},
		{"recursive cte", bank, "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 3) SELECT * FROM r", "", "", nil},
		{"cte is not a target", bank, "WITH secrets AS (SELECT 1) DELETE FROM secrets", "secrets", pgerrcode.InsufficientPrivilege, nil},
		{"data-modifying cte", bank, "WITH d AS (DELETE FROM secrets RETURNING *) SELECT * FROM d", "secrets", pgerrcode.InsufficientPrivilege, nil},
		{"drop", bank, "DROP TABLE accounts_5, secrets", "secrets", pgerrcode.InsufficientPrivilege, nil},
		{"drop allowed", bank, "DROP TABLE IF EXISTS accounts_5", "", "", nil},
		{"create shard", bank, "CREATE TABLE accounts_102009 (id int primary key, balance bigint)", "", "", nil},
		{"truncate", bank, "TRUNCATE secrets", "secrets", pgerrcode.InsufficientPrivilege, nil},
		{"lock", bank, "LOCK TABLE secrets", "secrets", pgerrcode.InsufficientPrivilege, nil},
		{"copy query", bank, "COPY (SELECT * FROM secrets) TO STDOUT", "secrets", pgerrcode.InsufficientPrivilege, nil},
		{"merge source", bank, "MERGE INTO accounts a USING secrets s ON a.id = s.id WHEN MATCHED THEN DELETE", "secrets", pgerrcode.InsufficientPrivilege, nil},
		{"set is fine", bank, "SET lock_timeout = '1s'", "", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, ref := tc.policy.Classify(tc.sql)
			if tc.refuse == "" {
				if ref != nil {
					t.Fatalf("%q refused: %s", tc.sql, ref.Reason)
				}
				if strings.Join(v.Prepares, ",") != strings.Join(tc.gids, ",") {
					t.Fatalf("%q: prepares %v, want %v", tc.sql, v.Prepares, tc.gids)
				}
				return
			}
			if ref == nil {
				t.Fatalf("%q allowed, want refused (%s)", tc.sql, tc.refuse)
			}
			if !strings.Contains(ref.Reason, tc.refuse) || ref.SQLState() != tc.code {
				t.Fatalf("%q: refused %s %q, want %s and %q", tc.sql, ref.SQLState(), ref.Reason, tc.code, tc.refuse)
			}
		})
	}
}

func TestBaseTable(t *testing.T) {
	for in, want := range map[string]string{"accounts_102008": "accounts", "accounts": "accounts", "a_b_1": "a_b",
		"x_": "x_", "_1": "_1", "t_1a": "t_1a", "t__2": "t_"} {
		if got := baseTable(in); got != want {
			t.Errorf("baseTable(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzClassify: the classifier never panics, and refuses any text
// holding a COMMIT PREPARED or ROLLBACK PREPARED statement of any gid
// but the coordinator's own (catalog2pc.go).
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"SELECT 1", "COMMIT PREPARED 'x'", "WITH a AS (SELECT * FROM b) SELECT * FROM a",
		"PREPARE TRANSACTION 'pgfedx_a_1_b'", "DROP TABLE a.b.c", "SELECT dblink('')", "DO $$ $$", ";;", "COPY t FROM STDIN"} {
		f.Add(s)
	}
	p := NewPolicy([]string{"accounts"})
	f.Fuzz(func(t *testing.T, sql string) {
		v, ref := p.Classify(sql)
		_, _ = NewPolicy(nil).Classify(sql)
		if tree, err := pg.Parse(sql); err == nil && ref == nil {
			for _, st := range tree.Stmts {
				switch st.GetStmt().GetTransactionStmt().GetKind() {
				case pg.TransactionStmtKind_TRANS_STMT_COMMIT_PREPARED, pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_PREPARED:
					if gid := st.GetStmt().GetTransactionStmt().GetGid(); !coordinatorGID(gid) {
						t.Fatalf("%q: finalizing %q let through", sql, gid)
					}
				}
			}
		}
		if ref == nil {
			for _, gid := range v.Prepares {
				if !strings.HasPrefix(gid, "pgfedx_") {
					t.Fatalf("%q: prepare of %q let through", sql, gid)
				}
			}
			for _, gid := range v.CoordinatorPrepares {
				if !strings.HasPrefix(gid, "pgfed_") {
					t.Fatalf("%q: prepare of %q let through as the coordinator's", sql, gid)
				}
			}
		}
	})
}

func TestVerdictCache(t *testing.T) {
	c := verdictCache{max: 8}
	p := NewPolicy([]string{"accounts"})
	for range 2 {
		if _, ref := c.classify(p, "SELECT * FROM secrets"); ref == nil {
			t.Fatal("refusal not remembered")
		}
		if v, ref := c.classify(p, "PREPARE TRANSACTION 'pgfedx_a_1_b'"); ref != nil || len(v.Prepares) != 1 {
			t.Fatalf("prepare: %v, %v", v, ref)
		}
	}
	for i := range c.max + 10 {
		c.classify(p, "SELECT "+strconv.Itoa(i)+" FROM accounts")
	}
	if len(c.m) != c.max {
		t.Fatalf("cache holds %d entries, bound %d", len(c.m), c.max)
	}
	long := "SELECT 1 FROM secrets WHERE true" + strings.Repeat(" AND true", cacheMaxText)
	if _, ref := c.classify(p, long); ref == nil {
		t.Fatal("long text allowed")
	}
	if _, ok := c.m[long]; ok {
		t.Fatal("long text cached")
	}
}

func TestLexSettings(t *testing.T) {
	p := NewPolicy(nil)
	for sql, refuse := range map[string]bool{
		"SET standard_conforming_strings = off":                          true,
		"SET standard_conforming_strings TO false":                       true,
		"SET LOCAL standard_conforming_strings = 'off'":                  true,
		"SET standard_conforming_strings = on":                           false,
		"RESET standard_conforming_strings":                              false,
		"SET client_encoding = 'SJIS'":                                   true,
		"SET NAMES 'Shift_JIS'":                                          true,
		"SET client_encoding TO gb18030":                                 true,
		"SET NAMES 'UTF8'":                                               false,
		"SET client_encoding = 'LATIN1'":                                 false,
		"SELECT set_config('standard_conforming_strings', 'off', false)": true,
		"SELECT set_config('Client_Encoding', 'big5', false)":            true,
		"SELECT set_config(name, 'x', false) FROM t":                     true,
		"SELECT set_config('search_path', 'public', false)":              false,
		"SET search_path = public":                                       false,
	} {
		_, ref := p.Classify(sql)
		if (ref != nil) != refuse {
			t.Errorf("%q: refused %v, want %v", sql, ref, refuse)
		}
	}
	for _, c := range []struct {
		params map[string]string
		refuse bool
	}{
		{map[string]string{"user": "u", "client_encoding": "UTF8"}, false},
		{map[string]string{"user": "u", "client_encoding": "sjis"}, true},
		{map[string]string{"user": "u", "standard_conforming_strings": "off"}, true},
		{map[string]string{"user": "u", "options": "-c standard_conforming_strings=off"}, true},
		{map[string]string{"user": "u", "options": "--client-encoding=big5"}, true},
		{map[string]string{"user": "u", "options": "-c search_path=x"}, false},
	} {
		if got := startupSettings(c.params) != ""; got != c.refuse {
			t.Errorf("startup %v: refused %v, want %v", c.params, got, c.refuse)
		}
	}
}

// TestWrites: what counts as writing table data for the coordinator's own
// two-phase commit (catalog2pc.go).
func TestWrites(t *testing.T) {
	for sql, want := range map[string]bool{
		"CREATE TABLE accounts_102008 (id int)":                        false,
		"ALTER TABLE accounts_102008 ADD COLUMN x int":                 false,
		"DROP TABLE IF EXISTS accounts_102008":                         false,
		"CREATE INDEX ON accounts_102008 (id)":                         false,
		"TRUNCATE accounts_102008":                                     false,
		"SELECT * FROM accounts_102008":                                false,
		"BEGIN":                                                        false,
		"SET search_path = public":                                     false,
		"EXPLAIN SELECT 1":                                             false,
		"INSERT INTO accounts_102008 VALUES (1)":                       true,
		"UPDATE accounts_102008 SET id = 2":                            true,
		"DELETE FROM accounts_102008":                                  true,
		"COPY accounts_102008 FROM STDIN":                              true,
		"SELECT * INTO copy FROM accounts_102008":                      true,
		"CREATE TABLE c AS SELECT * FROM accounts_102008":              true,
		"WITH d AS (DELETE FROM a RETURNING *) SELECT * FROM d":        true,
		"EXPLAIN ANALYZE INSERT INTO a VALUES (1)":                     true,
		"EXECUTE ins(1)":                                               true,
		"MERGE INTO a USING b ON a.id = b.id WHEN MATCHED THEN DELETE": true,
	} {
		tree, err := pg.Parse(sql)
		if err != nil {
			t.Fatalf("%q: %v", sql, err)
		}
		if got := writes(tree.Stmts[0].Stmt); got != want {
			t.Errorf("writes(%q) = %v, want %v", sql, got, want)
		}
	}
}
