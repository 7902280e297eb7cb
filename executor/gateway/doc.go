// Package gateway is the organization's gateway of the federated commit
// (DESIGN.md, "Federated commit"): a PostgreSQL-protocol relay, run by an
// organization (inside its validator's process), through which remote
// coordinators reach the organization's workers. It relays their
// statements and their PREPARE TRANSACTION, but never lets them finalize
// a prepared transaction: only the organization's validator does that,
// and only what the ledger decided.
//
// # Main loop
//
// One listener per fronted worker (Route). Per connection (conn.go):
//
//	startup: SSLRequest, GSSENCRequest -> 'N'; CancelRequest -> forwarded
//	         to the worker on a new connection; StartupMessage -> dial the
//	         worker, send it unchanged (replication connections refused)
//	relayBackend (worker -> client): every message relayed unchanged,
//	         authentication included, but for the error of an injected
//	         statement, replaced by the refusal
//	relayClient (client -> worker): headers read, bodies streamed (COPY
//	         data too); Query and Parse decoded and classified
//	         (Policy.Classify), each PREPARE TRANSACTION checked with the
//	         validator (Gatekeeper.CheckPrepare, which waits up to
//	         Config.PrepareWait for the request to arrive); FunctionCall
//	         refused
//
// A refused statement is never sent to the worker. In its place goes a
// statement that surely fails (a syntax error carrying a random token):
// the worker's own error handling then does what PostgreSQL would do
// after an error — a transaction block is aborted, an extended-protocol
// batch is skipped until Sync (the gateway drops the client's messages
// until Sync, too) — and the gateway swaps that error for its refusal
// (SQLSTATE 42501, naming the gateway, organization, worker and reason),
// in order with the answers still in flight. The ReadyForQuery the client
// gets is the worker's own, so the transaction status is always right.
//
// # What is guarded
//
//   - COMMIT PREPARED and ROLLBACK PREPARED, anywhere in a Query or Parse:
//     refused, but for the coordinator's own schema changes (below).
//     Neither can run inside a function or a transaction block, so these
//     two messages are the only way to send them; DO, CALL and CREATE
//     FUNCTION/PROCEDURE are refused anyway.
//   - PREPARE TRANSACTION: of a federated part gid (federation.GIDPrefix)
//     only when the organization's validator knows its request, which
//     names this worker and this part, and the gid is neither decided nor
//     voted ABORT; of a gid of the coordinator's own two-phase commit
//     (dtx.GIDPrefix, "pgfed_"), which carries catalog changes such as
//     create_distributed_table's shards, only when the connection's
//     transaction wrote no table data (catalog2pc.go): rows written on
//     several workers are committed by the validators alone. Any other
//     gid: refused.
//   - Ways around the gateway: extensions, foreign-data wrappers,
//     servers, user mappings and subscriptions (connections out of the
//     worker), dblink* calls, COPY to or from server files and programs,
//     LOAD, the fastpath FunctionCall message, replication connections;
//     CREATE OPERATOR, AGGREGATE, CAST and kin (calls the gateway cannot
//     see): refused.
//   - Other sessions, the validator's included: pg_terminate_backend,
//     pg_cancel_backend, ALTER SYSTEM, ALTER DATABASE/ROLE ... SET (the
//     validator's search_path decides what "pg_prepared_xacts" names):
//     refused.
//   - Functions that run SQL text (query_to_xml and kin, ts_stat,
//     ts_rewrite) or touch server files (pg_read_file, lo_import, ...):
//     refused.
//   - How statements are read: the gateway parses with pg_query, which
//     lexes as a session with standard_conforming_strings on and an
//     ASCII-safe client encoding; setting either otherwise (SET,
//     set_config, startup parameters) is refused, and a session whose
//     worker reports otherwise is closed (settings.go).
//   - With Config.AllowedTables, the tables a statement names (tables.go).
//
// # What is not
//
// The gateway guards only the connections that pass through it: the
// worker must accept coordinators' connections from the gateway alone
// (listen_addresses, pg_hba.conf), or they could simply go around it.
//
// The gateway is a statement filter, not a sandbox: the worker's roles
// and privileges remain the real boundary, and the role remote
// coordinators log in as must not be a superuser (a superuser can, for
// example, write a C function or an untrusted-language one run by an
// existing trigger). Not inspected: the bodies of existing functions,
// views, rules and triggers on the worker; SET ROLE and SET SESSION
// AUTHORIZATION (limited by the role's memberships); functions not in
// the deny list, including ones taking a regclass; the objects of COMMENT
// ON, SECURITY LABEL and DROP INDEX. A statement is checked when its text
// arrives (Query or Parse): a named prepared statement is not checked
// again at each Execute (PREPARE TRANSACTION through one could so come
// late; the validator's sweep rolls back a late part of an aborted gid).
// The links to the worker and to the
// client are not encrypted (TLS is declined); run the gateway next to its
// workers and behind the organization's own network controls.
package gateway
