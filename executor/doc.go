// Package executor runs the statements of pgfed's clients.
//
// The wire server hands every authenticated connection to a Handler, which
// opens a Session: the coordinator-side half of one client connection. The
// Handler owns what sessions share: the catalog store (catalog/store, in the
// metadata database's pgfed schema), the planner of the current catalog
// (with its plan cache, rebuilt when the catalog's version changes or
// after DDL), the worker connection pools and the distributed transaction
// coordinator (executor/dtx). Handler.Run runs its loops: the catalog's
// invalidation listener, the recovery of prepared transactions and the
// distributed deadlock detector; Close releases everything.
//
// # A statement's path
//
// A Session owns one connection to the metadata database (a metadataConn),
// opened as the client's user on the client's database with the client's
// startup parameters, so the client sees that server's parameters,
// settings, temporary tables, prepared statements and transactions as its
// own. For each statement:
//
//  1. classify looks at the first words (no parse): transaction control
//     and SET run on the metadata database and are mirrored on the
//     distributed transaction (txn.go, settings.go).
//  2. A statement for the Citus API (function calls, catalog views, DDL on
//     distributed tables; found by a text scan, then citus.Match on the
//     parse tree) goes to executor/citus (citus.go).
//  3. COPY and EXPLAIN naming distributed tables are run by the session
//     (copyin.go, copyout.go, explain.go).
//  4. Everything else is planned: the planner's cached plan, whose cheap
//     first test (a lexer scan for the names of distributed tables) makes
//     statements that name none a local plan: they go to the metadata
//     connection unchanged and its answer is relayed message by message
//     (relay.go), as before there was a planner.
//  5. Router plans run their one task on the worker holding the shard
//     (router.go); multi-shard plans fan out and merge: streamed
//     concatenation (stopped at LIMIT), a streamed k-way merge in Go, or a
//     combine query on the metadata connection over intermediate results
//     (multishard.go, merge.go, intermediate.go). Subplans (recursive
//     planning) are loaded into intermediate results first, streamed
//     from the workers into COPY when they need no merge. Inside a
//     transaction the tasks of one worker run one after the other on the
//     transaction's connection to it; reads outside one run each task on
//     a pooled connection of its own, up to four per worker at once, and
//     reads of replicated shards fail over to another placement.
//  6. INSERT ... SELECT that the planner cannot run shard by shard is run
//     here: the SELECT's rows are routed to the shards like COPY's (an
//     organization table's by organization, then hash column: orgroute.go), or,
//     with ON CONFLICT or RETURNING, in batched INSERTs that carry those
//     clauses (insertselect.go, dmlinsert.go).
//  7. Before planning a write, the session computes what the shards
//     cannot (dmlvalues.go): nextval defaults (serial, identity) and
//     nextval calls, from the sequences that live with the shell tables
//     in the metadata database (sequence.go); now() and its kin, once,
//     for a write reaching several shards; and an UPDATE of the
//     distribution column runs as DELETE ... RETURNING plus INSERT into
//     the rows' new shards, in one distributed transaction (movedrow.go).
//
// Statements are planned with the session's search_path (SET, or the
// startup parameters), each distinct path with a planner of its own.
//
// Views over distributed tables are views of the metadata database; the
// catalog state reads their definitions (views.go) and the planner
// expands them, so they read the shards however and whenever they were
// created (CREATE, ALTER or DROP VIEW through pgfed reloads the state
// when its transaction ends). A statement calling a user-defined function
// whose body reads a distributed table is refused with 0A000, on the
// local and the distributed path alike (functionguard.go); a call to a
// function the catalog state does not know (one created directly on the
// metadata database) reloads the state first (routines.go). A subquery
// result the planner ships runs first and goes into the shards'
// statements as a constant array, within pgfed.max_shipped_rows (default
// 1000; past it the statement pulls, ship.go). SELECT ... FOR UPDATE
// across shards locks the rows on the workers, inside the session's
// distributed transaction.
//
// Prepared statements (Parse) are prepared on the metadata database under
// the client's name, which describes them (distributed tables have shell
// tables there) and keeps PostgreSQL's naming rules; those naming
// distributed tables are also planned once with $n symbolic. Execute binds
// the plan (pruning shards by the parameters) and runs the tasks as
// statements prepared once per worker connection. An Execute with a row
// limit of a read that runs on connections of its own (outside a
// transaction block) streams: the plan runs in a goroutine the portal
// owns and each Execute takes the next rows; any other request first
// settles the stream, reading the rest of its rows within the
// intermediate-result limits (portalstream.go). Other limited portals are
// computed in full at their first Execute. A Citus API query
// (function calls, views) is prepared on the metadata database in the
// form citus.Describe gives (calls replaced by typed NULLs over their
// arguments), which describes it; Execute binds the parameters as typed
// literals and runs it with citus.Run (citusextended.go).
//
// SQL PREPARE of a statement naming distributed tables also runs on the
// metadata database (naming rules, pg_prepared_statements, parameter
// types) and is planned like a Parse; EXECUTE evaluates its arguments
// there and runs the plan; DEALLOCATE and DISCARD ALL forget it
// (sqlprepare.go). SQL cursors live on the metadata database: DECLARE of
// a distributed query loads its rows (within the intermediate-result
// limits) into a temporary table there and declares the cursor over it,
// so FETCH, MOVE, CLOSE and WITH HOLD are PostgreSQL's; the session
// implements wire.Cursors, relaying Describe, Execute and Close of a
// cursor's portal to the metadata backend (cursor.go).
//
// # Transactions
//
// The metadata connection's transaction status is the session's: a
// distributed statement that fails in a transaction block aborts the
// metadata transaction too, so both sides report 25P02 until ROLLBACK. The
// workers' side is a dtx.Txn, begun at BEGIN (or by the first distributed
// statement), with the block's isolation level, savepoints replayed on
// every worker connection, and read-your-writes (one connection per worker
// for the whole transaction). COMMIT commits the workers first (1PC, or
// 2PC when more than one was written) and the metadata database only if
// they committed. Outside a block a distributed statement has an implicit
// transaction, committed when the statement ends (or at the batch's Sync
// under the extended protocol); an autocommit router statement skips dtx
// and runs as the worker's own statement on a pooled connection.
//
// # The metadata connection
//
// It runs the client's statements; the session's own work there
// (intermediate results, combine queries, the Citus API's queries) uses
// named internal statements and portals with Flush, never a Query, so the
// client's unnamed statement survives and the work joins the client's
// transaction (metainternal.go). While the client is idle, a goroutine
// owned by the session reads the backend and forwards asynchronous
// NotificationResponse, NoticeResponse and ParameterStatus messages with
// wire.Client.Notify, which is how LISTEN works through pgfed (listen.go).
//
// # Errors and cancellation
//
// Worker errors keep the worker's SQLSTATE, detail and hint, and name the
// worker and shards in the detail and the context (TaskError). Cancel (a
// client's CancelRequest) cancels the statement's context, which sends
// CancelRequests to the workers running its tasks, and sends one to the
// metadata database. The session's statement_timeout (SET, SET LOCAL, or
// a startup parameter) is a deadline on a distributed statement's
// context, ending it with PostgreSQL's 57014 "canceling statement due to
// statement timeout" (timeout.go); the metadata database enforces it on
// the statements it runs. If the metadata backend dies, the session answers
// with a FATAL error (08006, or the backend's own FATAL code such as
// 57P01) so that the wire server closes the client's connection.
package executor
