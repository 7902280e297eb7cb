package executor

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgfed/pgfed/executor/pgcluster"
)

// orgCluster is a coordinator over three workers, each the only worker
// of its own organization (org1, org2, org3). No federation is
// configured: a transaction over several organizations commits with the
// coordinator's own two-phase commit.
type orgCluster struct {
	env
	workers []*pgcluster.Server // workers[i] is org<i+1>'s
}

// newOrgCluster starts the servers and the coordinator and registers the
// workers and their organizations through the coordinator's SQL API.
func newOrgCluster(t *testing.T) *orgCluster {
	t.Helper()
	servers := pgcluster.StartForTest(t,
		pgcluster.ServerSpec{Name: "metadata", Settings: pgcluster.WorkerSettings()},
		pgcluster.ServerSpec{Name: "org1", Settings: pgcluster.WorkerSettings()},
		pgcluster.ServerSpec{Name: "org2", Settings: pgcluster.WorkerSettings()},
		pgcluster.ServerSpec{Name: "org3", Settings: pgcluster.WorkerSettings()})
	log := testLogger(t)
	h := startHandler(t, Config{
		Metadata: fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", servers[0].Host, servers[0].Port),
		Logger:   log,
	})
	host, port := serve(t, h, log)
	c := &orgCluster{env: env{pg: servers[0], handler: h, host: host, port: port}, workers: servers[1:]}
	conn := c.connect(t)
	for i, w := range c.workers {
		org := fmt.Sprintf("org%d", i+1)
		mustExec(t, conn, fmt.Sprintf("SELECT citus_add_node('%s', %d)", w.Host, w.Port), pgx.QueryExecModeSimpleProtocol)
		mustExec(t, conn, "SELECT pgfed_add_organization('"+org+"')", pgx.QueryExecModeSimpleProtocol)
		mustExec(t, conn, fmt.Sprintf("SELECT pgfed_set_node_organization('%s', %d, '%s')", w.Host, w.Port, org), pgx.QueryExecModeSimpleProtocol)
	}
	return c
}

// rowsOn returns the rows of a table's shards on one worker, as
// "bank/id" sorted, read directly from the worker.
func rowsOn(t *testing.T, s *pgcluster.Server, table string) []string {
	t.Helper()
	ctx := testCtx(t)
	conn, err := s.Connect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var shards []string
	rows, err := conn.Query(ctx, `SELECT relname FROM pg_class WHERE relname LIKE $1 AND relkind = 'r' ORDER BY 1`, table+`\_%`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		shards = append(shards, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(shards) == 0 {
		return nil
	}
	parts := make([]string, len(shards))
	for i, n := range shards {
		parts[i] = "SELECT bank || '/' || id FROM " + n
	}
	var all string
	if err := conn.QueryRow(ctx, "SELECT coalesce(string_agg(x, ' ' ORDER BY x), '') FROM ("+strings.Join(parts, " UNION ALL ")+") s(x)").Scan(&all); err != nil {
		t.Fatal(err)
	}
	var out []string
	if all != "" {
		out = strings.Split(all, " ")
	}
	return out
}

// wantPlacement checks that every row of table is on its organization's
// worker: want[i] lists org<i+1>'s rows ("bank/id", sorted).
func (c *orgCluster) wantPlacement(t *testing.T, table string, want ...string) {
	t.Helper()
	for i, w := range c.workers {
		if got := strings.Join(rowsOn(t, w, table), " "); got != want[i] {
			t.Errorf("%s on org%d's worker: %q, want %q", table, i+1, got, want[i])
		}
	}
}

// TestOrganizationTables writes and reads organization tables through
// pgx's extended protocol (parameters in the organization and hash
// columns), COPY and INSERT ... SELECT, checking command tags, where each
// row lands, and the errors of a value that names no organization.
func TestOrganizationTables(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four PostgreSQL servers")
	}
	c := newOrgCluster(t)
	conn := c.connect(t) // pgx's default: the extended protocol, statements prepared
	simple := pgx.QueryExecModeSimpleProtocol
	mustExec(t, conn, `CREATE TABLE accounts (bank text NOT NULL, id int NOT NULL, balance bigint NOT NULL, PRIMARY KEY (bank, id))`, simple)
	mustExec(t, conn, `SELECT create_distributed_table('accounts', 'bank, id', 'org', shard_count => 2)`, simple)
	mustExec(t, conn, `CREATE TABLE transfers (bank text NOT NULL, id bigint NOT NULL, amount bigint NOT NULL)`, simple)
	mustExec(t, conn, `SELECT create_distributed_table('transfers', 'bank', 'org')`, simple)
	mustExec(t, conn, `CREATE TABLE ledger (id bigint NOT NULL, bank text, amount bigint)`, simple)
	mustExec(t, conn, `SELECT create_distributed_table('ledger', 'id')`, simple)
	ctx := testCtx(t)

	t.Run("extended protocol writes and reads", func(t *testing.T) {
		for i := 1; i <= 3; i++ {
			if tag := mustExec(t, conn, `INSERT INTO accounts VALUES ($1, $2, $3)`, fmt.Sprintf("org%d", i), 1, 100); tag != "INSERT 0 1" {
				t.Fatalf("tag %q", tag)
			}
		}
		// Several rows, several banks, in one prepared statement.
		if tag := mustExec(t, conn, `INSERT INTO accounts VALUES ($1, $2, $3), ($4, $5, $6), ($7, $8, $9)`,
			"org1", 2, 100, "org3", 2, 100, "org1", 3, 100); tag != "INSERT 0 3" {
			t.Fatalf("tag %q", tag)
		}
		c.wantPlacement(t, "accounts", "org1/1 org1/2 org1/3", "org2/1", "org3/1 org3/2")
		var bal int64
		if err := conn.QueryRow(ctx, `SELECT balance FROM accounts WHERE bank = $1 AND id = $2`, "org3", 2).Scan(&bal); err != nil || bal != 100 {
			t.Fatalf("balance %d, %v", bal, err)
		}
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE bank = $1`, "org1").Scan(&n); err != nil || n != 3 {
			t.Fatalf("count %d, %v", n, err)
		}
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE bank IN ($1, $2)`, "org2", "org3").Scan(&n); err != nil || n != 3 {
			t.Fatalf("count %d, %v", n, err)
		}
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE id = $1`, 1).Scan(&n); err != nil || n != 3 {
			t.Fatalf("count by hash column %d, %v", n, err)
		}
		// A transfer between two banks, prepared statements in a block:
		// the coordinator's own 2PC (no federation here).
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct {
			bank   string
			amount int
		}{{"org1", -30}, {"org2", 30}} {
			tag, err := tx.Exec(ctx, `UPDATE accounts SET balance = balance + $1 WHERE bank = $2 AND id = $3`, s.amount, s.bank, 1)
			if err != nil || tag.String() != "UPDATE 1" {
				t.Fatalf("update %s: %q, %v", s.bank, tag, err)
			}
			tag, err = tx.Exec(ctx, `INSERT INTO transfers VALUES ($1, $2, $3)`, s.bank, 1, s.amount)
			if err != nil || tag.String() != "INSERT 0 1" {
				t.Fatalf("insert %s: %q, %v", s.bank, tag, err)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		got := queryStrings(t, conn, `SELECT bank, balance FROM accounts WHERE id = 1 ORDER BY bank`)
		if fmt.Sprint(got) != "[[org1 70] [org2 130] [org3 100]]" {
			t.Fatalf("balances %v", got)
		}
		c.wantPlacement(t, "transfers", "org1/1", "org2/1", "")
		if tag := mustExec(t, conn, `DELETE FROM accounts WHERE bank = $1 AND id = $2`, "org1", 3); tag != "DELETE 1" {
			t.Fatalf("tag %q", tag)
		}
		if tag := mustExec(t, conn, `UPDATE accounts SET balance = balance + 1 WHERE bank = $1`, "org1"); tag != "UPDATE 2" {
			t.Fatalf("tag %q", tag)
		}
	})

	t.Run("a value naming no organization", func(t *testing.T) {
		_, err := conn.Exec(ctx, `INSERT INTO accounts VALUES ($1, $2, $3)`, "org9", 1, 1)
		if e := wantCode(t, err, "23514"); !strings.Contains(e.Message, "no organization 'org9' holds a shard of") {
			t.Fatalf("message %q", e.Message)
		}
		_, err = conn.Exec(ctx, `INSERT INTO accounts VALUES ($1, $2, $3), ($4, $5, $6)`, "org1", 9, 1, "org9", 9, 1)
		wantCode(t, err, "23514")
		_, err = conn.Exec(ctx, `INSERT INTO transfers VALUES ($1, $2, $3)`, nil, 1, 1)
		wantCode(t, err, "23502")
		_, err = conn.Exec(ctx, `INSERT INTO transfers VALUES ('org9', 1, 1)`, simple)
		wantCode(t, err, "23514")
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE bank = $1`, "org9").Scan(&n); err != nil || n != 0 {
			t.Fatalf("count %d, %v", n, err)
		}
		if got := queryStrings(t, conn, `SELECT count(*) FROM accounts WHERE id = 9`); fmt.Sprint(got) != "[[0]]" {
			t.Fatalf("a refused multi-row INSERT wrote rows: %v", got)
		}
		// Moving a row to another organization (or hash value) would
		// leave it on its old shard: refused.
		_, err = conn.Exec(ctx, `UPDATE accounts SET bank = $1 WHERE bank = $2 AND id = $3`, "org2", "org1", 1)
		wantCode(t, err, "0A000")
		_, err = conn.Exec(ctx, `UPDATE accounts SET id = id + 100 WHERE bank = 'org1'`, simple)
		wantCode(t, err, "0A000")
	})

	t.Run("COPY", func(t *testing.T) {
		// Binary (pgx's CopyFrom) into the table with a hash column.
		n, err := conn.CopyFrom(ctx, pgx.Identifier{"accounts"}, []string{"bank", "id", "balance"}, pgx.CopyFromRows([][]any{
			{"org2", 10, 5}, {"org3", 10, 5}, {"org2", 11, 5}, {"org1", 10, 5},
		}))
		if err != nil || n != 4 {
			t.Fatalf("copy %d, %v", n, err)
		}
		// Text and CSV into both tables.
		tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader("org3\t2\t7\norg1\t2\t7\n"), "COPY transfers FROM STDIN")
		if err != nil || tag.String() != "COPY 2" {
			t.Fatalf("copy text %q, %v", tag, err)
		}
		tag, err = conn.PgConn().CopyFrom(ctx, strings.NewReader("balance,id,bank\n5,12,org3\n"), "COPY accounts (balance, id, bank) FROM STDIN WITH (FORMAT csv, HEADER)")
		if err != nil || tag.String() != "COPY 1" {
			t.Fatalf("copy csv %q, %v", tag, err)
		}
		c.wantPlacement(t, "accounts", "org1/1 org1/10 org1/2", "org2/1 org2/10 org2/11", "org3/1 org3/10 org3/12 org3/2")
		c.wantPlacement(t, "transfers", "org1/1 org1/2", "org2/1", "org3/2")
		// A row naming no organization: the line, and nothing loaded.
		_, err = conn.PgConn().CopyFrom(ctx, strings.NewReader("org1\t3\t7\norg7\t3\t7\n"), "COPY transfers FROM STDIN")
		if e := wantCode(t, err, "23514"); !strings.Contains(e.Where, "line 2") {
			t.Fatalf("where %q", e.Where)
		}
		_, err = conn.PgConn().CopyFrom(ctx, strings.NewReader("org1\t7\n"), "COPY accounts (bank, balance) FROM STDIN")
		wantCode(t, err, "23502")
		c.wantPlacement(t, "transfers", "org1/1 org1/2", "org2/1", "org3/2")
	})

	t.Run("INSERT ... SELECT", func(t *testing.T) {
		// From an organization table into another: through the
		// coordinator, each row to its organization's shard.
		if tag := mustExec(t, conn, `INSERT INTO transfers (bank, id, amount) SELECT bank, id + 100, balance FROM accounts WHERE id = $1`, 10); tag != "INSERT 0 3" {
			t.Fatalf("tag %q", tag)
		}
		c.wantPlacement(t, "transfers", "org1/1 org1/110 org1/2", "org2/1 org2/110", "org3/110 org3/2")
		// From a hash table into the table with a hash column, with
		// RETURNING (batched INSERTs instead of COPY).
		// (A hash table's multi-row prepared INSERT is split per shard
		// at Bind too.)
		if tag := mustExec(t, conn, `INSERT INTO ledger VALUES ($1, $2, $3), ($4, $5, $6), ($7, $8, $9)`,
			20, "org1", 1, 21, "org2", 2, 22, "org2", 3); tag != "INSERT 0 3" {
			t.Fatalf("tag %q", tag)
		}
		if got := queryStrings(t, conn, `SELECT string_agg(id::text, ',' ORDER BY id) FROM ledger WHERE id IN (20, 21, 22)`); fmt.Sprint(got) != "[[20,21,22]]" {
			t.Fatalf("ledger %v", got)
		}
		rows := queryStrings(t, conn, `INSERT INTO accounts SELECT bank, id, amount FROM ledger RETURNING bank, id`)
		if len(rows) != 3 {
			t.Fatalf("returned %v", rows)
		}
		c.wantPlacement(t, "accounts", "org1/1 org1/10 org1/2 org1/20", "org2/1 org2/10 org2/11 org2/21 org2/22", "org3/1 org3/10 org3/12 org3/2")
		// Between co-located organization tables: shard by shard on the
		// workers (EXPLAIN shows the pushed-down INSERTs).
		mustExec(t, conn, `CREATE TABLE archive (bank text NOT NULL, id int NOT NULL, balance bigint NOT NULL)`, simple)
		mustExec(t, conn, `SELECT create_distributed_table('archive', 'bank, id', 'org', colocate_with => 'accounts')`, simple)
		if tag := mustExec(t, conn, `INSERT INTO archive SELECT * FROM accounts WHERE bank = $1`, "org2"); tag != "INSERT 0 5" {
			t.Fatalf("tag %q", tag)
		}
		if tag := mustExec(t, conn, `INSERT INTO archive SELECT * FROM accounts WHERE id = 2`); tag != "INSERT 0 2" {
			t.Fatalf("tag %q", tag)
		}
		c.wantPlacement(t, "archive", "org1/2", "org2/1 org2/10 org2/11 org2/21 org2/22", "org3/2")
		plan := queryStrings(t, conn, `EXPLAIN (COSTS OFF) INSERT INTO archive SELECT * FROM accounts`)
		if s := fmt.Sprint(plan); !strings.Contains(s, "Task Count: 6") || strings.Contains(s, "coordinator") {
			t.Fatalf("not pushed down: %v", plan)
		}
		// A row naming no organization fails the statement.
		mustExec(t, conn, `INSERT INTO ledger VALUES (23, 'org8', 1)`)
		_, err := conn.Exec(ctx, `INSERT INTO transfers SELECT bank, id, amount FROM ledger`)
		wantCode(t, err, "23514")
		c.wantPlacement(t, "transfers", "org1/1 org1/110 org1/2", "org2/1 org2/110", "org3/110 org3/2")
	})
}
