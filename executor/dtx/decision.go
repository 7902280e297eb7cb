package dtx

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
)

// DecisionTable is the 2PC decision log in the metadata database, created
// by the catalog store's schema (catalog/store, schema version 1):
//
//	CREATE TABLE pgfed.transaction (
//		gid text PRIMARY KEY,
//		created timestamptz NOT NULL DEFAULT now()
//	);
//
// A committed row for a gid means "commit the transaction prepared under
// that gid"; no row, once no coordinator can still insert it, means abort
// (presumed abort, as Citus's pg_dist_transaction). See doc.go for how rows
// are written and why recovery is safe with transactions in flight.
const DecisionTable = "pgfed.transaction"

// outcome is the fate of a prepared transaction as the decision log tells
// it.
type outcome uint8

const (
	// outcomeAbort: no decision row exists, and none can appear.
	outcomeAbort outcome = iota
	// outcomeCommit: a committed decision row exists.
	outcomeCommit
	// outcomeInFlight: a coordinator's decision transaction holding the
	// row is still open.
	outcomeInFlight
)

// String returns "abort", "commit" or "in flight".
func (o outcome) String() string {
	switch o {
	case outcomeAbort:
		return "abort"
	case outcomeCommit:
		return "commit"
	case outcomeInFlight:
		return "in flight"
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// beginDecision opens the decision transaction on meta and inserts the
// decision rows, uncommitted, in one round trip. It runs before any
// PREPARE TRANSACTION: from then until the transaction ends, anyone else
// inserting one of these gids waits on the rows (that is how recovery
// recognizes a transaction in flight). idle_in_transaction_session_timeout
// makes the metadata database abort the decision of a coordinator that
// hangs between PREPARE and commit.
func beginDecision(ctx context.Context, meta *pgconn.PgConn, gids []string, idleTimeout time.Duration) error {
	var b strings.Builder
	fmt.Fprintf(&b, "BEGIN; SET LOCAL idle_in_transaction_session_timeout = %d; INSERT INTO %s (gid) VALUES ",
		idleTimeout.Milliseconds(), DecisionTable)
	for i, g := range gids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + quoteLiteral(g) + ")")
	}
	_, err := meta.Exec(ctx, b.String()).ReadAll()
	return err
}

// commitDecision commits the decision transaction: the commit point. It
// returns nil only when the metadata database confirmed the commit.
func commitDecision(ctx context.Context, meta *pgconn.PgConn) error {
	res, err := meta.Exec(ctx, "COMMIT").ReadAll()
	if err != nil {
		return err
	}
	if len(res) != 1 || res[0].CommandTag.String() != "COMMIT" {
		return fmt.Errorf("the metadata database rolled the decision back")
	}
	return nil
}

// probe finds the fate of a gid that some worker holds prepared. It tries
// to insert the gid's decision row in a transaction it always rolls back:
//
//   - the insert succeeds: no decision row exists and no coordinator holds
//     one uncommitted. The coordinator inserted its row before preparing,
//     so its decision transaction ended without committing (or the row was
//     removed after every worker had committed — then no worker still holds
//     the gid and acting on it fails harmlessly): abort.
//   - the insert does nothing (ON CONFLICT): a committed row exists: commit.
//   - the insert waits longer than timeout (lock_timeout, 55P03): the
//     coordinator's decision transaction is still open: in flight.
//
// It runs in one round trip, two when the wait times out.
func probe(ctx context.Context, meta *pgconn.PgConn, gid string, timeout time.Duration) (outcome, error) {
	sql := fmt.Sprintf("BEGIN; SET LOCAL lock_timeout = %d; INSERT INTO %s (gid) VALUES (%s) ON CONFLICT DO NOTHING RETURNING gid; ROLLBACK",
		max(timeout.Milliseconds(), 1), DecisionTable, quoteLiteral(gid))
	res, err := meta.Exec(ctx, sql).ReadAll()
	if err != nil {
		if meta.TxStatus() != 'I' && !meta.IsClosed() {
			if _, rerr := meta.Exec(ctx, "ROLLBACK").ReadAll(); rerr != nil {
				return 0, fmt.Errorf("probe the decision of gid %s: %w (and roll back: %v)", gid, err, rerr)
			}
		}
		if hasCode(err, pgerrcode.LockNotAvailable) {
			return outcomeInFlight, nil
		}
		return 0, fmt.Errorf("probe the decision of gid %s: %w", gid, err)
	}
	if len(res) != 4 {
		return 0, fmt.Errorf("probe the decision of gid %s: %d results, want 4", gid, len(res))
	}
	if len(res[2].Rows) == 1 {
		return outcomeAbort, nil
	}
	return outcomeCommit, nil
}
