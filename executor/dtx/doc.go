// Package dtx runs pgfed's distributed transactions: a client session's
// transaction spread over the PostgreSQL workers that hold the shards it
// touches.
//
// # Pieces
//
//   - Pools and Pool: connections to the workers (node id -> host:port),
//     shared by all sessions, with a cap per worker (checkouts wait) and a
//     Session view with a cap per session (one more fails with 53300).
//     Checkout is cheap: an idle connection is reused if it is open and
//     outside a transaction, and pinged only when it sat idle longer than
//     PingIdle; a broken one is dropped and a new one dialled, so a worker
//     that restarts is used again at once. Connections send a CancelRequest
//     when a statement's context is cancelled and stay usable.
//   - Coordinator and Txn: Begin gives a Txn; Txn.Conn(ctx, node) returns
//     the transaction's connection to a worker, opening it (BEGIN with the
//     session's isolation level and READ ONLY, plus the active savepoints)
//     on first use. The connection stays with the transaction until it
//     ends. The session marks writes with MarkWrite; savepoints are
//     replayed on every connection, including those joined later.
//   - Commit: no worker written or one: COMMIT on each (1PC, the written
//     worker's own commit decides). Several: two-phase commit, below, or
//     the federated commit when an organization's worker is among them
//     and a Federation is configured.
//   - Recover and RunRecovery: settle prepared transactions left in doubt.
//   - DeadlockDetector: finds wait-for cycles that span workers and cancels
//     the youngest transaction of each (40P01 for its client).
//   - Failpoints (package executor/failpoint) at each step of 2PC, for
//     crash tests.
//
// # Two-phase commit
//
// Each written worker gets its own gid, pgfed_<coordinator>_<txid>_<node>
// (see TxID for why the txid is a random per-process epoch and a counter).
// Commit then:
//
//  1. opens the decision transaction on a metadata connection and inserts
//     one row per gid into pgfed.transaction — uncommitted;
//  2. sends PREPARE TRANSACTION to the written workers and COMMIT to the
//     read-only ones, all at once;
//  3. commits the decision transaction: the commit point. Until it, any
//     failure rolls everything back;
//  4. sends COMMIT PREPARED to the written workers. Failures here are
//     logged, not returned: the decision is durable and recovery will
//     finish the commit.
//
// If the answer to 3 is lost (the connection broke), Commit asks the
// decision log itself (the probe below) and either goes on, rolls back, or
// fails with 08007 (transaction_resolution_unknown) when it cannot tell.
//
// # Federated commit
//
// With Config.Federation, a transaction that wrote on several workers, at
// least one of them an organization's (catalog.Node.Organization), is
// decided by the organizations' validators (consensus/commit,
// executor/federation), not by the metadata database: the workers may
// sit behind their organizations' gateways, which refuse COMMIT PREPARED
// from a coordinator. Its gid is federation.GIDPrefix
// + "<key tag>_<txid>" (pgfedx_..., which dtx recovery never touches),
// where the key tag is commit.KeyTag of Federation.Key's public key: the
// validators accept a request only for a gid that names the key signing
// it, so nobody but this coordinator can sign a request for its
// transaction (a rival request listing only some parts would split it).
// Each written worker's part is "<gid>_<node id>". Commit then
// (federated.go):
//
//  1. builds the request: the participant organizations, sorted, each with
//     its parts, sorted by gid, named by the worker's "host:port" as in the
//     catalog (the name its organization's validator knows it by); signs
//     it with Federation.Key; submits it to a validator, those of the
//     transaction's organizations first. Nothing is prepared yet: a
//     failure rolls the workers back;
//  2. PREPARE TRANSACTION on the written workers, COMMIT on the readers,
//     at once;
//  3. waits, at most Federation.Wait, for the decision to be final and
//     applied by every participant: COMMIT returns nil; ABORT 40001
//     naming the gid and why (the failed PREPAREs it saw); no decision in
//     time 40003 (the validators still decide, without the coordinator).
//
// The coordinator never sends COMMIT PREPARED or ROLLBACK PREPARED for a
// federated part, even after a failed PREPARE: the participant's validator
// votes ABORT when its commit timeout passes, and only the validators
// finalize. A write mixing an organization's worker with a worker of none
// is refused (0A000) and rolled back. Failpoints fed-before-submit,
// fed-after-submit, fed-after-prepare and fed-before-wait let crash tests
// stop the coordinator at each step.
//
// # Recovery, and transactions still in flight
//
// Recovery lists every worker's prepared transactions whose gid starts
// with pgfed_, commits those whose decision row is committed, and rolls
// back the others — presumed abort, as Citus — except the ones whose
// coordinator is still between PREPARE and its decision. Those are told
// apart without clocks, by the decision row itself: the coordinator inserts
// it (step 1) before it prepares anything (step 2), and keeps its
// transaction open until the commit point. For a prepared gid without a
// committed row, recovery tries to insert that same row, in a transaction
// it always rolls back (INSERT ... ON CONFLICT DO NOTHING RETURNING, under
// a short lock_timeout):
//
//   - the insert waits on the coordinator's uncommitted row and times out:
//     the decision is in flight; recovery leaves the gid for a later round;
//   - the insert does nothing: a committed row exists: commit;
//   - the insert succeeds: the coordinator's row does not exist. As it was
//     inserted before the PREPARE, its transaction ended without committing
//     (the coordinator failed, rolled back, crashed — PostgreSQL aborts the
//     transaction of a dead connection — or hung past DecisionTimeout, the
//     idle_in_transaction_session_timeout of the decision transaction), and
//     since a gid is never inserted twice by its coordinator, no commit
//     decision can appear any more: roll back.
//
// The primary key of pgfed.transaction is the only arbiter, so this holds
// with any number of coordinators and recovery loops on one metadata
// database, whatever their clocks or pauses: a coordinator and a recovery
// round cannot both win the same gid. That is why any coordinator may
// settle the prepared transactions of any other (a coordinator that never
// comes back does not leave its transactions in doubt). A grace period on
// pg_prepared_xacts.prepared, the other common design, would be wrong for
// a coordinator paused longer than the grace (a GC pause, a slow metadata
// database) that then commits its decision after recovery rolled back.
//
// Decision rows are deleted by recovery, not by Commit (one round trip
// less per commit, as in Citus): a row read before listing the workers,
// whose worker (named in its gid) was listed without that gid, will never
// be needed again, because the row was committed only after every PREPARE
// of its transaction had succeeded. Rows of workers that could not be
// listed are kept for a later round.
//
// The decision table, pgfed.transaction (gid text PRIMARY KEY, created
// timestamptz), belongs to the catalog schema (catalog/store); this
// package only reads and writes rows.
//
// # Main loops
//
// A coordinator process runs, each in a goroutine it owns and waits for:
//
//	go coord.RunRecovery(ctx, 10*time.Second)
//	go coord.DeadlockDetector(time.Second).Run(ctx)
//
// and each session:
//
//	tx := coord.Begin(session, dtx.TxnOptions{})
//	conn, err := tx.Conn(ctx, nodeID) // run statements, tx.MarkWrite(nodeID) after writes
//	err = tx.StatementError(ctx, nodeID, err) // on failure: 40P01 for a deadlock victim; rolls back the other workers
//	err = tx.Commit(ctx)              // or tx.Rollback(ctx)
package dtx
