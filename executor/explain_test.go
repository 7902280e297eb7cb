package executor

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// testExplain checks EXPLAIN of distributed statements: the planner's
// layout filled with the workers' and the metadata database's plans.
func testExplain(t *testing.T, c *cluster) {
	conn := c.connect(t)
	plan := func(q string) string {
		t.Helper()
		var lines []string
		for _, r := range queryStrings(t, conn, q) {
			lines = append(lines, r[0])
		}
		return strings.Join(lines, "\n")
	}
	p := plan("EXPLAIN SELECT note FROM orders WHERE id = 7")
	for _, want := range []string{"Custom Scan (pgfed Router)", "Task Count: 1", "Node: host=", "orders_"} {
		if !strings.Contains(p, want) {
			t.Errorf("router explain lacks %q:\n%s", want, p)
		}
	}
	p = plan("EXPLAIN (VERBOSE) SELECT customer, count(*) FROM orders GROUP BY customer")
	for _, want := range []string{"Combine (pgfed)", "Tasks Shown: One of 8", "Query: ", "Aggregate", "Seq Scan on"} {
		if !strings.Contains(p, want) {
			t.Errorf("combine explain lacks %q:\n%s", want, p)
		}
	}
	t.Logf("combine explain:\n%s", p)
	mustExec(t, conn, "SET citus.explain_all_tasks = on")
	p = plan("EXPLAIN SELECT id FROM orders ORDER BY id LIMIT 2")
	if n := strings.Count(p, "->  Task"); n != 8 || !strings.Contains(p, "Tasks Shown: All") {
		t.Errorf("explain_all_tasks: %d tasks shown:\n%s", n, p)
	}
	mustExec(t, conn, "RESET citus.explain_all_tasks")
	p = plan("EXPLAIN ANALYZE SELECT count(*) FROM orders")
	if !strings.Contains(p, "actual time=") {
		t.Errorf("explain analyze lacks actual times:\n%s", p)
	}
	// A local statement's EXPLAIN is PostgreSQL's own.
	if p = plan("EXPLAIN SELECT 1"); !strings.HasPrefix(p, "Result") {
		t.Errorf("local explain: %s", p)
	}
}

// testRemoteCommands checks citus.log_remote_commands: a NOTICE for each
// command sent to a worker.
func testRemoteCommands(t *testing.T, c *cluster) {
	var notices []string
	cfg, err := pgx.ParseConfig(c.connString())
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n.Message) }
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	mustExec(t, conn, "SET citus.log_remote_commands TO on")
	queryStrings(t, conn, "SELECT note FROM orders WHERE id = 5")
	if len(notices) != 1 || !strings.HasPrefix(notices[0], "issuing SELECT note FROM") || !strings.Contains(notices[0], "orders_") {
		t.Errorf("router notices: %q", notices)
	}
	notices = nil
	queryStrings(t, conn, "SELECT count(*) FROM orders")
	if len(notices) != 8 {
		t.Errorf("multi-shard notices: %d, want 8: %q", len(notices), notices)
	}
	notices = nil
	mustExec(t, conn, "SET citus.log_remote_commands TO off")
	queryStrings(t, conn, "SELECT count(*) FROM orders")
	if len(notices) != 0 {
		t.Errorf("notices after the setting is off: %q", notices)
	}
}
