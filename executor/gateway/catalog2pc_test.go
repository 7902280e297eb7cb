package gateway

import (
	"context"
	"testing"
	"time"
)

// testCoordinatorSchema2PC: the coordinator's own two-phase commit passes
// the gateway for schema changes (create_distributed_table's shards) and
// is refused once the transaction wrote table data, however the write was
// sent (catalog2pc.go).
func testCoordinatorSchema2PC(t *testing.T, f *testFed) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := f.banks[0]
	c := f.through(ctx, b)
	defer c.Close(ctx)
	exec := func(sql string) error {
		_, err := c.PgConn().Exec(ctx, sql).ReadAll()
		return err
	}
	must := func(sql string) {
		t.Helper()
		if err := exec(sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	const refusal = "the transaction wrote table data"

	// Schema only: prepared, then committed by the coordinator.
	must("BEGIN; CREATE TABLE transfers_990001 (id int); PREPARE TRANSACTION 'pgfed_c1_7_1'")
	must("COMMIT PREPARED 'pgfed_c1_7_1'")
	must("SELECT * FROM transfers_990001")

	// A write in the transaction, in the same text or earlier: refused.
	refusedWith(t, exec("BEGIN; INSERT INTO transfers_990001 VALUES (1); PREPARE TRANSACTION 'pgfed_c1_7_2'"), b.org, refusal)
	must("ROLLBACK")
	must("BEGIN")
	must("INSERT INTO transfers_990001 VALUES (1)")
	refusedWith(t, exec("PREPARE TRANSACTION 'pgfed_c1_7_3'"), b.org, refusal)
	must("ROLLBACK")

	// An autocommit write ends with its transaction: a later schema
	// change prepares again.
	must("INSERT INTO transfers_990001 VALUES (2)")
	must("BEGIN; ALTER TABLE transfers_990001 ADD COLUMN x int; PREPARE TRANSACTION 'pgfed_c1_7_4'")
	must("ROLLBACK PREPARED 'pgfed_c1_7_4'")

	// A named statement parsed earlier and only bound now still writes.
	if _, err := c.Prepare(ctx, "ins", "INSERT INTO transfers_990001 (id) VALUES ($1)"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "ins", 3); err != nil {
		t.Fatal(err)
	}
	must("BEGIN")
	if _, err := c.Exec(ctx, "ins", 4); err != nil {
		t.Fatal(err)
	}
	refusedWith(t, exec("PREPARE TRANSACTION 'pgfed_c1_7_5'"), b.org, refusal)
	must("ROLLBACK")

	// Federated gids are still the validator's alone.
	refusedWith(t, exec("COMMIT PREPARED 'pgfedx_c1_7_1'"), b.org, "COMMIT PREPARED is refused")
	if got := f.prepared(ctx, b); len(got) != 0 {
		t.Fatalf("prepared transactions left: %v", got)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM transfers_990001").Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows = %d, %v; want 2 (the autocommit and the first prepared insert)", n, err)
	}
}
