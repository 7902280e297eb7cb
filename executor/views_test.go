package executor

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
)

// TestViews: views over distributed tables read the shards, whether
// created before the table was distributed or after (through pgfed),
// nested, replaced and dropped; writing through one is refused.
func TestViews(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	conn := c.connect(t)

	// A view created while its table was still local.
	mustExec(t, conn, "CREATE TABLE orders (customer_id bigint, id bigint, amount int, PRIMARY KEY (customer_id, id))")
	mustExec(t, conn, "CREATE VIEW early AS SELECT id, amount FROM orders WHERE amount > 10")
	c.distribute(t, "CREATE TABLE IF NOT EXISTS orders (customer_id bigint, id bigint, amount int, PRIMARY KEY (customer_id, id))",
		"orders", "customer_id", catalog.TypeInt8, 4, "")
	c.distribute(t, "CREATE TABLE kinds (k int PRIMARY KEY, name text)", "kinds", "", 0, 0, "")
	mustExec(t, conn, "INSERT INTO orders SELECT g % 5, g, g FROM generate_series(1, 40) g")
	mustExec(t, conn, "INSERT INTO kinds VALUES (0, 'zero'), (1, 'one'), (2, 'two')")

	check := func(q, want string, args ...any) {
		t.Helper()
		rows := queryStrings(t, conn, q, args...)
		got := ""
		for _, r := range rows {
			for i, v := range r {
				if i > 0 {
					got += ","
				}
				got += v
			}
			got += ";"
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", q, got, want)
		}
	}
	check("SELECT count(*), sum(amount) FROM early", "30,765;")

	// Views created through pgfed, nested, with column aliases, over a
	// join with a reference table.
	mustExec(t, conn, "CREATE VIEW big (cust, oid, amt) AS SELECT customer_id, id, amount FROM orders WHERE amount > 30")
	mustExec(t, conn, "CREATE VIEW bigger AS SELECT cust, amt FROM big WHERE amt > 35")
	mustExec(t, conn, "CREATE VIEW named AS SELECT o.id, k.name FROM orders o JOIN kinds k ON k.k = o.customer_id")
	mustExec(t, conn, "CREATE VIEW per_customer AS SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id")
	check("SELECT oid FROM big WHERE cust = 1 ORDER BY oid", "31;36;")
	check("SELECT oid FROM big WHERE cust = $1 ORDER BY oid", "32;37;", 2)
	check("SELECT count(*) FROM bigger", "5;")
	check("SELECT * FROM bigger ORDER BY amt DESC LIMIT 2", "0,40;4,39;")
	check("SELECT name, count(*) FROM named GROUP BY name ORDER BY name", "one,8;two,8;zero,8;")
	check("SELECT n, count(*) FROM per_customer GROUP BY n", "8,5;")
	check("SELECT b.oid FROM big b JOIN orders o ON o.customer_id = b.cust AND o.id = b.oid WHERE b.amt = 33", "33;")
	check("SELECT count(*) FROM big WHERE oid IN (SELECT id FROM orders WHERE amount < 35)", "4;")

	var pe *pgconn.PgError
	// Replaced, in a transaction block: seen once it commits.
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "CREATE OR REPLACE VIEW big (cust, oid, amt) AS SELECT customer_id, id, amount FROM orders WHERE amount > 38")
	mustExec(t, conn, "COMMIT")
	check("SELECT count(*) FROM big", "2;")
	check("SELECT count(*) FROM bigger", "2;")

	// A view created in a transaction block cannot be read in it (the
	// catalog state sees it once the block commits): refused, not read
	// over the shells.
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "CREATE VIEW fresh AS SELECT id FROM orders WHERE amount > 38")
	if _, err := conn.Exec(ctx, "SELECT count(*) FROM fresh"); !errors.As(err, &pe) || pe.Code != "0A000" {
		t.Errorf("reading a view created in the same block: %v, want 0A000", err)
	}
	mustExec(t, conn, "ROLLBACK")
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "CREATE VIEW fresh AS SELECT id FROM orders WHERE amount > 38")
	mustExec(t, conn, "COMMIT")
	check("SELECT count(*) FROM fresh", "2;")

	// Writes through a view over distributed tables are refused.
	if _, err := conn.Exec(ctx, "DELETE FROM big WHERE oid = 40"); !errors.As(err, &pe) || pe.Code != "0A000" {
		t.Errorf("DELETE through a view: %v, want 0A000", err)
	}
	// security_barrier views are refused.
	if _, err := conn.Exec(ctx, "CREATE VIEW sb WITH (security_barrier) AS SELECT id FROM orders"); !errors.As(err, &pe) || pe.Code != "0A000" {
		t.Errorf("CREATE VIEW security_barrier: %v, want 0A000", err)
	}

	// Dropped: the name is gone, as in PostgreSQL.
	mustExec(t, conn, "DROP VIEW bigger")
	if _, err := conn.Exec(ctx, "SELECT * FROM bigger", pgx.QueryExecModeSimpleProtocol); !errors.As(err, &pe) || pe.Code != "42P01" {
		t.Errorf("SELECT from a dropped view: %v, want 42P01", err)
	}
	// A view created directly on the metadata database, bypassing
	// pgfed, is seen at its first read (its name is new).
	runOn(t, c.pg, "CREATE VIEW direct_v AS SELECT id FROM orders WHERE amount > 37")
	check("SELECT count(*) FROM direct_v", "3;")
	check("SELECT count(*) FROM public.direct_v d WHERE d.id > 38", "2;")

	// Another connection sees the views.
	other := c.connect(t)
	if got := queryStrings(t, other, "SELECT count(*) FROM early"); got[0][0] != "30" {
		t.Errorf("early on another connection: %v", got)
	}
}
